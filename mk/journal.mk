# mk/journal.mk — the journal: common/af_journal.c (in libautofab through
# common.mk's wildcard), broker/journal.c (in autofab-broker through
# broker.mk's wildcard), cli/cmd_record.c and cli/cmd_replay.c (in autofab
# through cli.mk's wildcard), their tests and docs/journal.md.
#
# tests/unit/test_af_journal.c joins the suite through common.mk's wildcard;
# the other two test files are added here.

JOURNAL_TEST_SRCS := tests/unit/test_broker_journal.c tests/integration/test_record_replay.c
TEST_SRCS += $(JOURNAL_TEST_SRCS) broker/journal.c

# A private test binary with only the journal's tests:
#   make test-journal   or   make SAN=1 test-journal
$(BUILD)/tests/test-journal: $(call objs,tests/unit/test_af_journal.c $(JOURNAL_TEST_SRCS) broker/journal.c tests/support/af_test.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-journal
test-journal: $(BUILD)/tests/test-journal $(BIN)/autofab $(BIN)/autofab-broker $(BIN)/autofab-demo-agent
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-journal -j2
