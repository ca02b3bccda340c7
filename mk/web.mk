# mk/web.mk — autofab-web, the live dashboard and Prometheus metrics (web/),
# its tests and docs/dashboard.md.
#
# The page's files (web/static/) are embedded into the binary: gen_assets.py
# writes them as C arrays into $(GEN)/web_assets.c (generated, never committed).

WEB_SRCS   := web/main.c web/web_http.c web/web_state.c web/web_json.c web/web_metrics.c web/web_buf.c
WEB_STATIC := $(sort $(wildcard web/static/*))
WEB_ASSETS := $(GEN)/web_assets.c
# mk/*.mk are read in sorted order after common.mk, so LIBAF_A is defined.
$(eval $(call af_program,autofab-web,$(WEB_SRCS) $(WEB_ASSETS),$(LIBAF_A)))

$(WEB_ASSETS): web/gen_assets.py $(WEB_STATIC)
	@mkdir -p $(@D)
	python3 web/gen_assets.py $@ $(WEB_STATIC)

# The pure parts (state model, JSON and Prometheus rendering) are unit-tested
# without the server; the integration test runs the real program.
WEB_LIB_SRCS  := web/web_state.c web/web_json.c web/web_metrics.c web/web_buf.c
WEB_TEST_SRCS := $(sort $(wildcard tests/unit/test_web_*.c)) tests/integration/test_web.c
TEST_SRCS += $(WEB_TEST_SRCS) $(WEB_LIB_SRCS)

# A private test binary with only the dashboard's tests:
#   make test-web   or   make SAN=1 test-web
$(BUILD)/tests/test-web: $(call objs,$(WEB_TEST_SRCS) $(WEB_LIB_SRCS) tests/support/af_test.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-web
test-web: $(BUILD)/tests/test-web $(BIN)/autofab-web $(BIN)/autofab-broker $(BIN)/autofab-demo-agent
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-web --filter 'web*/*' -j2
