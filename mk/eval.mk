# mk/eval.mk — `autofab eval` (cli/cmd_eval.c, cli/eval.c), its tests and
# `make bench-autonomy` (docs/eval.md).
#
# cli/*.c are part of `autofab` already (mk/cli.mk); here only what the
# tests need: eval.c is pure (numbers in, reports out), unit-tested alone.
EVAL_TEST_SRCS := tests/unit/test_eval.c tests/integration/test_eval.c
TEST_SRCS += $(EVAL_TEST_SRCS) cli/eval.c

# A private test binary with only eval's and af_stats' tests:
#   make test-eval   or   make SAN=1 test-eval
$(BUILD)/tests/test-eval: $(call objs,$(EVAL_TEST_SRCS) cli/eval.c tests/unit/test_af_stats.c tests/support/af_test.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)

# Named one by one: PROGRAMS is not complete yet when this file is read.
EVAL_PROGRAMS := $(BIN)/autofab $(BIN)/autofab-twin $(BIN)/autofab-broker

.PHONY: test-eval bench-autonomy
test-eval: $(BUILD)/tests/test-eval $(EVAL_PROGRAMS)
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-eval -j2

# The comparison on the default plant with the defaults (5 seeds x 4 weeks
# after an 8-week warm-up): the table, then build/bench/autonomy.json.
AUTONOMY_ARGS ?=
BENCHES += autonomy
bench-autonomy: $(EVAL_PROGRAMS)
	@mkdir -p $(BUILD)/bench
	rm -rf $(BUILD)/bench/autonomy-runs
	$(BIN)/autofab eval --configs deploy/factories/gigafactory.yaml --out $(BUILD)/bench/autonomy-runs $(AUTONOMY_ARGS)
	cp $(BUILD)/bench/autonomy-runs/eval.json $(BUILD)/bench/autonomy.json
	@echo "wrote $(BUILD)/bench/autonomy.json"
