# mk/sched.mk — the batch scheduling engine (agents/line/sched_*), its CLI
# autofab-sched, its tests and `make bench-sched`.

SCHED_SRCS := $(filter-out agents/line/sched_main.c,$(wildcard agents/line/sched_*.c))
SCHED_LIB  := $(LIB)/libsched.a
SCHED_TEST_SRCS := $(wildcard tests/unit/test_sched*.c)

$(eval $(call af_archive,$(SCHED_LIB),$(SCHED_SRCS)))
$(eval $(call af_program,autofab-sched,agents/line/sched_main.c,$(SCHED_LIB)))

TEST_SRCS += $(SCHED_TEST_SRCS)
TEST_LIBS += $(SCHED_LIB)

# A private test binary with only the scheduler's tests (others' sources may
# be in flux):  make build/tests/test-sched && build/tests/test-sched
$(BUILD)/tests/test-sched: $(call objs,$(SCHED_TEST_SRCS)) $(SCHED_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(SCHED_LIB) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-sched bench-sched
test-sched: $(BUILD)/tests/test-sched $(BIN)/autofab-sched
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-sched --filter 'sched*/*' -j2

# make bench-sched [SCHED_DATA=dir] [SCHED_BUDGET_MS=10000] [SCHED_THREADS=1]
BENCHES += sched
SCHED_DATA      ?= ../shared/data/jobshop
SCHED_BUDGET_MS ?= 10000
SCHED_THREADS   ?= 1
bench-sched: $(BIN)/autofab-sched
	bench/sched.sh "$(SCHED_DATA)" "$(SCHED_BUDGET_MS)" "$(SCHED_THREADS)" "$(BUILD)/bench" "$(BIN)"
