# The digital twin: DES engine + plant model + the bus wrapper bus.c
# (libtwin.a, everything but main.c), the standalone CLI autofab-twin, its
# tests and `make bench-twin`.
TWIN_SRCS := $(filter-out agents/twin/main.c,\
               $(sort $(wildcard agents/twin/*.c)))
TWIN_A    := $(LIB)/libtwin.a

$(eval $(call af_archive,$(TWIN_A),$(TWIN_SRCS)))
$(eval $(call af_program,autofab-twin,agents/twin/main.c,$(TWIN_A) $(LIBAF_A)))

TWIN_TEST_SRCS := $(sort $(wildcard tests/unit/test_twin*.c))
TEST_SRCS += $(TWIN_TEST_SRCS)
# libtwin uses libautofab, so it must come first on the static link line.
TEST_LIBS := $(TWIN_A) $(TEST_LIBS)

# Private test binary, for working on the twin while others' tests are in flux:
#   make build/tests/test-twin && build/tests/test-twin --filter 'twin*/*'
$(BUILD)/tests/test-twin: $(call objs,$(TWIN_TEST_SRCS)) $(TWIN_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(TWIN_A) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)

# bench-twin: the twin's engine vs SimPy on the same open tandem line, and a
# simulated year of the default factory.  Writes $(BUILD)/bench/twin.json.
# The driver is built on demand (not part of `all`, never installed).
$(BIN)/twin-bench: $(call objs,bench/twin_bench.c) $(TWIN_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(TWIN_A) $(LIBAF_A) $(LDLIBS)
# twin-ctl: a minimal controller (acknowledges ticks, optionally sends a
# command), for the bus week of bench-twin and the twin's determinism tests.
$(BIN)/twin-ctl: $(call objs,bench/twin_ctl.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(LDLIBS)
all: $(BIN)/twin-ctl
# The twin's bus tests start it (tests/integration/test_twin_bus.c).
test: $(BIN)/twin-ctl
BENCHES += twin
.PHONY: bench-twin
bench-twin: deps-bench $(BIN)/twin-bench $(BIN)/twin-ctl $(BIN)/autofab-broker
	@mkdir -p $(BUILD)/bench
	$(BIN)/twin-bench --simpy bench/twin_simpy.py --factory deploy/factories/gigafactory.yaml \
	    --bin $(BIN) --json $(BUILD)/bench/twin.json
