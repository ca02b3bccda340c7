# Benchmarks (DESIGN §8).  bench-bus: autofab's broker against raw libzmq,
# mosquitto and nats-server on one pub/sub and request/reply workload.
#
# bus_bench links libnats and libmosquitto, which only `make deps-bench`
# installs, so it is not part of `all`: it is built on demand by bench-bus.
BUS_BENCH      := $(BIN)/bus_bench
BUS_BENCH_LIBS := -lnats -lmosquitto

# Its object needs the peers' headers before it compiles.
$(OBJ)/bench/bus_bench.o: | deps-bench

$(BUS_BENCH): $(call objs,bench/bus_bench.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(BUS_BENCH_LIBS) $(LDLIBS)

BENCHES += bus

.PHONY: bench-bus
bench-bus: deps-bench $(BIN)/autofab-broker $(BUS_BENCH)
	BIN=$(abspath $(BIN)) OUT=$(abspath $(BUILD)/bench) bench/bus.sh $(BUS_ARGS)
