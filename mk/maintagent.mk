# mk/maintagent.mk — autofab-maintenance, the maintenance agent on the bus
# (agents/maintenance/main.c; its decisions in plan.c, part of libmaint.a
# from maint.mk, which is read before this file), and its tests.

$(eval $(call af_program,autofab-maintenance,agents/maintenance/main.c,$(MAINT_A) $(LIB)/libctl.a $(LIBAF_A)))
$(BIN)/autofab-maintenance: LDLIBS += $(MAINT_LIBS)

TEST_SRCS += tests/unit/test_maint_plan.c tests/integration/test_maintenance_agent.c
