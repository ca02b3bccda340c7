# autofab-broker: discovery, presence, relay, last-value cache, service routing.
BROKER_SRCS := $(sort $(wildcard broker/*.c))
$(eval $(call af_program,autofab-broker,$(BROKER_SRCS),$(LIBAF_A)))
TEST_SRCS += $(sort $(wildcard tests/integration/test_broker*.c))

# A private test binary for working on the broker alone.
$(BUILD)/tests/test-broker: $(call objs,tests/integration/test_broker.c tests/unit/test_af_codec.c tests/support/af_test.c) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBAF_A) $(CRIT_LIBS) $(LDLIBS)
