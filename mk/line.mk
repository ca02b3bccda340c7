# mk/line.mk — the line agent (agents/line/): its control modules (SPC
# charts, bottleneck detection, order release, CSP-1 inspection, the epoch's
# decisions) in libline.a beside the scheduler in sched.mk, and
# autofab-line (main.c: the agent on the bus).

LINE_SRCS := agents/line/spc.c agents/line/bottleneck.c agents/line/release.c agents/line/inspect.c \
             agents/line/linectl.c
LINE_A    := $(LIB)/libline.a
LINE_TEST_SRCS := tests/unit/test_spc.c tests/unit/test_bottleneck.c tests/unit/test_release.c \
                  tests/unit/test_inspect.c tests/unit/test_linectl.c

$(eval $(call af_archive,$(LINE_A),$(LINE_SRCS)))

# The agent on the bus (libctl.a by name, as mk/energy.mk does).
$(eval $(call af_program,autofab-line,agents/line/main.c,$(LINE_A) $(LIB)/libctl.a $(LIBAF_A)))

TEST_SRCS += $(LINE_TEST_SRCS) tests/integration/test_line_agent.c
TEST_LIBS += $(LINE_A)

# Private test binary:  make build/tests/test-line && build/tests/test-line
$(BUILD)/tests/test-line: $(call objs,$(LINE_TEST_SRCS)) $(LINE_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LINE_A) $(CRIT_LIBS) -lm
