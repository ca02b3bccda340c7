# autofab run (cli/cmd_run.c, cli/run_report.c): its end-to-end tests.
RUN_TEST_SRCS := tests/integration/test_run.c
TEST_SRCS += $(RUN_TEST_SRCS)

$(BUILD)/tests/test-run: $(call objs,$(RUN_TEST_SRCS) tests/support/af_test.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)
