# libautofab: bus client, agent runtime, codec, clock, config, logging.
PROTO_SRCS += $(sort $(wildcard proto/*.proto))
LIBAF_SRCS := $(sort $(wildcard common/*.c)) \
              $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(sort $(wildcard proto/*.proto)))
LIBAF_A  := $(LIB)/libautofab.a
LIBAF_SO := $(LIB)/libautofab.so

$(eval $(call af_archive,$(LIBAF_A),$(LIBAF_SRCS)))

$(LIBAF_SO): $(call objs,$(LIBAF_SRCS))
	@mkdir -p $(@D)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,libautofab.so -o $@ $^ $(LDLIBS)

all: $(LIBAF_SO)
TEST_SRCS += $(sort $(wildcard tests/unit/test_af_*.c))
TEST_LIBS += $(LIBAF_A)
# Test support shared by every integration test.
TEST_SRCS += tests/support/af_test.c
