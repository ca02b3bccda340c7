# mk/maintagent.mk — autofab-maintenance, the maintenance agent on the bus
# (agents/maintenance/main.c; its decisions in plan.c, part of libmaint.a
# from maint.mk, which is read before this file), and its tests.

$(eval $(call af_program,autofab-maintenance,agents/maintenance/main.c,$(MAINT_A) $(LIB)/libctl.a $(LIBAF_A)))
$(BIN)/autofab-maintenance: LDLIBS += $(MAINT_LIBS)

TEST_SRCS += tests/unit/test_maint_plan.c tests/integration/test_maintenance_agent.c

# Private test binary (the agent's tests only; needs the programs built):
#   make build/tests/test-maintagent && AF_BIN=build/bin build/tests/test-maintagent
MAINTAGENT_TEST_OBJS := $(call objs,tests/unit/test_maint_plan.c tests/integration/test_maintenance_agent.c \
                                    tests/support/af_test.c cli/eval.c)
$(BUILD)/tests/test-maintagent: $(MAINTAGENT_TEST_OBJS) $(MAINT_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(MAINTAGENT_TEST_OBJS) $(MAINT_A) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS) $(MAINT_LIBS)
