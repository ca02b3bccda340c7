# Quality on the bus (issue 11, agents/twin/quality.c): its integration test.
# The physics' unit tests (tests/unit/test_twin_quality_physics.c) join
# twin.mk's test_twin* wildcard.
TWIN_QUALITY_TEST_SRCS := tests/integration/test_twin_quality_bus.c
TEST_SRCS += $(TWIN_QUALITY_TEST_SRCS)

# Private test binary:  make build/tests/test-twin-quality && build/tests/test-twin-quality
$(BUILD)/tests/test-twin-quality: $(call objs,$(TWIN_QUALITY_TEST_SRCS) tests/support/af_test.c) $(LIB)/libtwin.a $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB)/libtwin.a $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)
