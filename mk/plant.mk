# mk/plant.mk — random plants (`autofab plant --random`: cli/cmd_plant.c,
# cli/plantgen.c), their tests and `make bench-plant` (docs/plant.md).
#
# cli/*.c are part of `autofab` already (mk/cli.mk); here only what the
# tests and the benchmark need.  The generator is pure (options in, YAML
# out) and its unit test loads every plant with the twin's own loader.
PLANT_TEST_SRCS := tests/unit/test_plantgen.c tests/integration/test_plant.c
TEST_SRCS += $(PLANT_TEST_SRCS) cli/plantgen.c

# A private test binary with only the plant tests:
#   make test-plant   or   make SAN=1 test-plant
$(BUILD)/tests/test-plant: $(call objs,$(PLANT_TEST_SRCS) cli/plantgen.c tests/support/af_test.c) $(LIB)/libtwin.a $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB)/libtwin.a $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-plant bench-plant
test-plant: $(BUILD)/tests/test-plant $(BIN)/autofab $(BIN)/autofab-twin
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-plant -j2

# bench-plant: the default plant under the baseline, 5 seeds x 4 weeks after
# an 8-week warm-up, and 5 random plants the same way, with 95 % intervals and
# the perfect-information bound where the twin has one.  The driver runs the
# real autofab-twin processes; it is built on demand (not part of `all`).
PLANT_BENCH_ARGS ?=
$(BIN)/plant-bench: $(call objs,bench/plant_bench.c cli/eval.c cli/plantgen.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(LDLIBS)
BENCHES += plant
bench-plant: $(BIN)/plant-bench $(BIN)/autofab $(BIN)/autofab-twin
	@mkdir -p $(BUILD)/bench
	$(BIN)/plant-bench --bin $(BIN) --factory deploy/factories/gigafactory.yaml \
	    --work $(BUILD)/bench/plant-runs --json $(BUILD)/bench/plant.json $(PLANT_BENCH_ARGS)
