# mk/gateway.mk — federation (issue 16): autofab-linkemu, the link emulator,
# and autofab-gateway, the CURVE gateway between factories; their tests and
# `make bench-gateway`.  common/af_keys.c joins libautofab through
# common.mk's wildcard, cli/cmd_keygen.c the CLI through cli.mk's.

LINKEMU_SRCS := gateway/linkemu.c
$(eval $(call af_program,autofab-linkemu,gateway/linkemu_main.c $(LINKEMU_SRCS),$(LIBAF_A)))

# The engine (everything but main.c) is an archive so tests can link it.
GATEWAY_SRCS := $(filter-out gateway/main.c gateway/linkemu_main.c gateway/linkemu.c,\
                  $(sort $(wildcard gateway/*.c)))
GATEWAY_A := $(LIB)/libgateway.a
$(eval $(call af_archive,$(GATEWAY_A),$(GATEWAY_SRCS) $(LINKEMU_SRCS)))
$(eval $(call af_program,autofab-gateway,gateway/main.c,$(GATEWAY_A) $(LIBAF_A)))

GATEWAY_TEST_SRCS := $(sort $(wildcard tests/unit/test_linkemu*.c tests/unit/test_gateway*.c \
                       tests/integration/test_linkemu*.c tests/integration/test_gateway*.c))
TEST_SRCS += $(GATEWAY_TEST_SRCS)
TEST_LIBS := $(GATEWAY_A) $(TEST_LIBS)

# A private test binary with only this fragment's tests (and af_keys'):
#   make test-gateway   or   make SAN=1 test-gateway
$(BUILD)/tests/test-gateway: $(call objs,$(GATEWAY_TEST_SRCS) tests/unit/test_af_keys.c tests/support/af_test.c) $(GATEWAY_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(GATEWAY_A) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-gateway
test-gateway: $(BUILD)/tests/test-gateway $(BIN)/autofab-linkemu $(BIN)/autofab-gateway $(BIN)/autofab-broker $(BIN)/autofab
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-gateway -j2

# bench-gateway: goodput, alarm latency, loss and duplicates through the
# link emulator for fibre, leo and mars, and loopback throughput against the
# broker's own relay.  Writes $(BUILD)/bench/gateway.json.
GATEWAY_BENCH := $(BIN)/gateway-bench
$(GATEWAY_BENCH): $(call objs,bench/gateway_bench.c) $(GATEWAY_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(GATEWAY_A) $(LIBAF_A) $(LDLIBS)
BENCHES += gateway
GATEWAY_BENCH_ARGS ?=
.PHONY: bench-gateway
bench-gateway: $(GATEWAY_BENCH) $(BIN)/autofab-gateway $(BIN)/autofab-linkemu $(BIN)/autofab-broker
	@mkdir -p $(BUILD)/bench
	$(GATEWAY_BENCH) --bin $(abspath $(BIN)) --json $(BUILD)/bench/gateway.json $(GATEWAY_BENCH_ARGS)
