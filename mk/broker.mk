# autofab-broker: discovery, presence, relay, last-value cache, service routing.
BROKER_SRCS := $(sort $(wildcard broker/*.c))
$(eval $(call af_program,autofab-broker,$(BROKER_SRCS),$(LIBAF_A)))
TEST_SRCS += $(sort $(wildcard tests/integration/test_broker*.c))
