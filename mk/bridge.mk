# autofab-bridge (issue 20): Modbus TCP and MQTT Sparkplug B equipment on the
# bus.  libbridge.a holds everything but main.c so tests link it; the
# Sparkplug B payload definition (bridge/sparkplug_b.proto, written from the
# specification) is compiled by protoc-c into $(GEN)/bridge/.
BRIDGE_SRCS := $(filter-out bridge/main.c,$(sort $(wildcard bridge/*.c))) \
               $(GEN)/bridge/sparkplug_b.pb-c.c
BRIDGE_A    := $(LIB)/libbridge.a
BRIDGE_LIBS  = $(shell pkg-config --libs libmodbus libmosquitto 2>/dev/null)
BRIDGE_CFLAGS = $(shell pkg-config --cflags libmodbus libmosquitto 2>/dev/null)

$(GEN)/bridge/sparkplug_b.pb-c.c $(GEN)/bridge/sparkplug_b.pb-c.h: bridge/sparkplug_b.proto | deps
	@mkdir -p $(GEN)/bridge
	protoc-c --c_out=$(GEN)/bridge -Ibridge $<

# The bridge's sources, and every test that includes its headers, need the
# generated header first and libmodbus's include folder.
BRIDGE_OBJS := $(call objs,$(filter bridge/%,$(BRIDGE_SRCS)) bridge/main.c)
$(BRIDGE_OBJS): | $(GEN)/bridge/sparkplug_b.pb-c.h
$(BRIDGE_OBJS): ALL_CFLAGS += $(BRIDGE_CFLAGS)

$(eval $(call af_archive,$(BRIDGE_A),$(BRIDGE_SRCS)))
$(eval $(call af_program,autofab-bridge,bridge/main.c,$(BRIDGE_A) $(LIBAF_A)))
$(BIN)/autofab-bridge: LDLIBS += $(BRIDGE_LIBS)

BRIDGE_TEST_SRCS := $(sort $(wildcard tests/unit/test_bridge*.c tests/integration/test_bridge*.c)) \
                    tests/support/bridge_modbus_sim.c tests/support/bridge_peers.c
BRIDGE_TEST_OBJS := $(call objs,$(BRIDGE_TEST_SRCS))
$(BRIDGE_TEST_OBJS): | $(GEN)/bridge/sparkplug_b.pb-c.h
$(BRIDGE_TEST_OBJS): ALL_CFLAGS += $(BRIDGE_CFLAGS)
TEST_SRCS += $(BRIDGE_TEST_SRCS)
TEST_LIBS := $(BRIDGE_A) $(TEST_LIBS)
$(BUILD)/tests/autofab-tests: LDLIBS += $(BRIDGE_LIBS)

# Private test binary:  make build/tests/test-bridge && build/tests/test-bridge
$(BUILD)/tests/test-bridge: $(BRIDGE_TEST_OBJS) $(call objs,tests/support/af_test.c) $(BRIDGE_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(BRIDGE_A) $(LIBAF_A) $(CRIT_LIBS) $(BRIDGE_LIBS) $(LDLIBS)

# bench-bridge: Modbus poll rate and change→bus latency, Sparkplug throughput
# against a plain libmosquitto publisher (bench/bridge_bench.c); writes
# $(BUILD)/bench/bridge.json.  Built on demand, never installed.
BRIDGE_BENCH_OBJS := $(call objs,bench/bridge_bench.c tests/support/bridge_modbus_sim.c)
$(BRIDGE_BENCH_OBJS): | $(GEN)/bridge/sparkplug_b.pb-c.h
$(BRIDGE_BENCH_OBJS): ALL_CFLAGS += $(BRIDGE_CFLAGS)
$(BIN)/bridge-bench: $(BRIDGE_BENCH_OBJS) $(BRIDGE_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(BRIDGE_A) $(LIBAF_A) $(BRIDGE_LIBS) $(LDLIBS)
BENCHES += bridge
.PHONY: bench-bridge
bench-bridge: $(BIN)/autofab-broker $(BIN)/autofab-bridge $(BIN)/bridge-bench
	@mkdir -p $(BUILD)/bench
	$(BIN)/bridge-bench --bin $(BIN) --json $(BUILD)/bench/bridge.json $(BRIDGE_BENCH_ARGS)
