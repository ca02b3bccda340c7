# The twin on the bus (agents/twin/bus.c, part of libtwin): its integration tests.
TWIN_BUS_TEST_SRCS := tests/integration/test_twin_bus.c
TEST_SRCS += $(TWIN_BUS_TEST_SRCS)

$(BUILD)/tests/test-twin-bus: $(call objs,$(TWIN_BUS_TEST_SRCS) tests/support/af_test.c) $(LIB)/libtwin.a $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB)/libtwin.a $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)
