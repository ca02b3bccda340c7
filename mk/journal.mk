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
# It runs against a private `autofab` whose command table has record and
# replay even while cli/main.c does not list them yet: a copy of main.c with
# the two entries added, built under $(BUILD)/journal (never committed).
JOURNAL_DIR := $(BUILD)/journal
JOURNAL_LIBAF := $(LIB)/libautofab.a
JOURNAL_PROTO_SRCS := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(sort $(wildcard proto/*.proto)))

$(JOURNAL_DIR)/cli_main.c: cli/main.c
	@mkdir -p $(@D)
	if grep -q cli_cmd_record cli/main.c; then \
	    sed 's|#include "cli.h"|#include "cli/cli.h"|' cli/main.c > $@; \
	else \
	    sed -e 's|#include "cli.h"|#include "cli/cli.h"\nextern const cli_command_t cli_cmd_record, cli_cmd_replay;|' \
	        -e 's|^\(\s*\)&cli_cmd_top,|\1\&cli_cmd_top,\n\1\&cli_cmd_record,\n\1\&cli_cmd_replay,|' \
	        cli/main.c > $@; \
	fi

# Linked as mk/cli.mk links $(BIN)/autofab (keep the archives in step).
JOURNAL_CLI_ARCHIVES := $(LIB)/libtwin.a $(JOURNAL_LIBAF)
$(JOURNAL_DIR)/bin/autofab: $(call objs,$(filter-out cli/main.c,$(sort $(wildcard cli/*.c))) $(JOURNAL_DIR)/cli_main.c $(JOURNAL_PROTO_SRCS)) $(JOURNAL_CLI_ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(JOURNAL_CLI_ARCHIVES) $(LDLIBS)

$(JOURNAL_DIR)/bin/autofab-%: $(BIN)/autofab-%
	@mkdir -p $(@D)
	ln -sf $(abspath $<) $@

$(BUILD)/tests/test-journal: $(call objs,tests/unit/test_af_journal.c $(JOURNAL_TEST_SRCS) broker/journal.c tests/support/af_test.c) $(JOURNAL_LIBAF)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(JOURNAL_LIBAF) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-journal
test-journal: $(BUILD)/tests/test-journal $(JOURNAL_DIR)/bin/autofab \
              $(JOURNAL_DIR)/bin/autofab-broker $(JOURNAL_DIR)/bin/autofab-demo-agent
	AF_BIN=$(abspath $(JOURNAL_DIR)/bin) AF_SRC=$(CURDIR) $(BUILD)/tests/test-journal -j2
