# mk/line.mk — the line agent's control modules (agents/line/: SPC charts,
# bottleneck detection, order release), beside the scheduler in sched.mk.
# No main.c yet: the bus side waits for the twin's control surface.

LINE_SRCS := agents/line/spc.c agents/line/bottleneck.c agents/line/release.c
LINE_A    := $(LIB)/libline.a
LINE_TEST_SRCS := tests/unit/test_spc.c tests/unit/test_bottleneck.c tests/unit/test_release.c

$(eval $(call af_archive,$(LINE_A),$(LINE_SRCS)))

TEST_SRCS += $(LINE_TEST_SRCS)
TEST_LIBS += $(LINE_A)

# Private test binary:  make build/tests/test-line && build/tests/test-line
$(BUILD)/tests/test-line: $(call objs,$(LINE_TEST_SRCS)) $(LINE_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LINE_A) $(CRIT_LIBS) -lm
