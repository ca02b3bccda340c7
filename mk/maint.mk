# mk/maint.mk — the maintenance agent's algorithm modules (agents/maintenance/,
# ISO 13374 chain: vib, bearing, rul, degrade, health), the offline evaluator
# autofab-maint-eval (CWRU, C-MAPSS), their tests and `make bench-maint`.
#
# The modules need FFTW (spectra) and XGBoost (RUL); the evaluator also
# libmatio (CWRU .mat files).  Shared math (af_weibull) is in libautofab.

MAINT_SRCS := $(filter-out agents/maintenance/eval%.c agents/maintenance/main.c,$(sort $(wildcard agents/maintenance/*.c)))
MAINT_A    := $(LIB)/libmaint.a
MAINT_LIBS := -lfftw3 -lxgboost
MAINT_EVAL_SRCS := $(sort $(wildcard agents/maintenance/eval*.c))

$(eval $(call af_archive,$(MAINT_A),$(MAINT_SRCS)))
$(eval $(call af_program,autofab-maint-eval,$(MAINT_EVAL_SRCS),$(MAINT_A) $(LIB)/libautofab.a))
$(BIN)/autofab-maint-eval: LDLIBS += $(MAINT_LIBS) $(shell pkg-config --libs matio 2>/dev/null || echo -lmatio)

MAINT_TEST_SRCS := $(addprefix tests/unit/test_,vib.c bearing.c rul.c degrade.c health.c) \
                   tests/unit/test_af_weibull.c
TEST_SRCS += $(filter-out tests/unit/test_af_%,$(wildcard $(MAINT_TEST_SRCS)))
TEST_LIBS += $(MAINT_A)
# TEST_BIN is defined after the fragments are read: name the binary.
$(BUILD)/tests/autofab-tests: LDLIBS += $(MAINT_LIBS)

# A private test binary with only the maintenance tests:
#   make test-maint   or   make SAN=1 test-maint
$(BUILD)/tests/test-maint: $(call objs,$(wildcard $(MAINT_TEST_SRCS))) $(MAINT_A) $(LIB)/libautofab.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(MAINT_A) $(LIB)/libautofab.a $(CRIT_LIBS) $(MAINT_LIBS) $(LDLIBS)

.PHONY: test-maint bench-maint
test-maint: $(BUILD)/tests/test-maint
	$(BUILD)/tests/test-maint -j2

# make bench-maint [MAINT_DATA=../shared/data]
BENCHES += maint
MAINT_DATA ?= ../shared/data
bench-maint: $(BIN)/autofab-maint-eval
	bench/maint.sh "$(MAINT_DATA)" "$(BUILD)/bench" "$(BIN)"

# The evaluator's command-line behaviour (usage, missing data, any test file).
TEST_SRCS += tests/integration/test_maint_eval.c
