# mk/cli.mk — `autofab`, the operator tool (cli/), its tests and docs/cli.md.
#
# Every cli/*.c is part of the program: a new subcommand is a new
# cli/cmd_<name>.c plus one line in cli/main.c's table (see there).

CLI_SRCS := $(sort $(wildcard cli/*.c))
# The pure parts (argument parsing, printing) are unit-tested without main.
CLI_LIB_SRCS := cli/args.c cli/print.c
# mk/*.mk are read in sorted order, so LIBAF_A (common.mk) is not defined yet
# when this file is read; name the archive directly.
CLI_LIBAF := $(LIBAF_A)
# The printer decodes a `Typed` body of any type linked into the program: link
# every generated protobuf-c file (an archive would leave out the ones nothing
# references) and export their descriptors for dlsym().
CLI_PROTO_SRCS := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(sort $(wildcard proto/*.proto)))

# autofab run checks a factory config with the twin's own loader before it starts anything.
$(eval $(call af_program,autofab,$(CLI_SRCS) $(CLI_PROTO_SRCS),$(LIB)/libtwin.a $(CLI_LIBAF)))
$(BIN)/autofab: LDFLAGS += -rdynamic

CLI_TEST_SRCS := tests/unit/test_cli_print.c tests/integration/test_cli.c
TEST_SRCS += $(CLI_TEST_SRCS) $(CLI_LIB_SRCS)

# A private test binary with only the CLI's tests (others' sources may be in
# flux):  make test-cli   or   make SAN=1 test-cli
$(BUILD)/tests/test-cli: $(call objs,$(CLI_TEST_SRCS) $(CLI_LIB_SRCS)) $(CLI_LIBAF)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(CLI_LIBAF) $(CRIT_LIBS) $(LDLIBS)

.PHONY: test-cli
test-cli: $(BUILD)/tests/test-cli $(BIN)/autofab
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) $(BUILD)/tests/test-cli --filter 'cli*/*' -j2

# The README tour, run as typed (tests/integration/test_tour.c).
TEST_SRCS += tests/integration/test_tour.c

# The Python client (clients/python/): its protobuf modules are generated
# from proto/ into build/python/ (never committed), with Debian's protoc.
PY_GEN := $(BUILD)/python/envelope_pb2.py $(BUILD)/python/registry_pb2.py
$(BUILD)/python/%_pb2.py: proto/%.proto
	@mkdir -p $(@D)
	protoc --python_out=$(@D) -Iproto $<
all: $(PY_GEN)
test: $(PY_GEN)
TEST_SRCS += tests/integration/test_python_client.c
