# autofab — one non-recursive build.
#
# Every component adds itself through a fragment in mk/ (common.mk, broker.mk,
# twin.mk, …) so that the top level stays short and two people working on two
# components never edit the same file.  Objects, libraries, binaries and the
# generated protobuf-c code all live under $(BUILD); nothing generated is
# committed.
#
#   make            build everything (installs missing Debian packages first)
#   make test       build and run every test (Criterion, one binary)
#   make asan       the same suite under AddressSanitizer + UBSan
#   make run        the main job: a whole factory on this machine
#   make bench      every benchmark; make bench-NAME for one
#   make install    PREFIX=/usr/local by default

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:
# Generated headers are intermediate files to make; keep them.
.SECONDARY:

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
RUN_ARGS ?=
# V=1 shows full compiler command lines.
Q := $(if $(V),,@)

# Third-party libraries, found with pkg-config.  The flags are computed once,
# lazily, so that `make deps` can install pkg-config files before they are read.
PKGS := libzmq libczmq libprotobuf-c libsodium yaml-0.1 sqlite3 libmicrohttpd json-c
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
CRIT_LIBS  = $(eval CRIT_LIBS := $(shell pkg-config --libs criterion 2>/dev/null))$(CRIT_LIBS)

AF_VERSION := 0.1.0
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -fPIC -Itests/support -Iagents/twin -D_GNU_SOURCE -DAF_VERSION=\"$(AF_VERSION)\" -MMD -MP \
             -I. -Icommon -I$(BUILD)/gen $(PKG_CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)
LDLIBS   = $(PKG_LIBS) -lm -lpthread

# `make SAN=1` (what `make asan` does) builds into its own tree.
ifeq ($(SAN),1)
BUILD     := build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
endif

BIN := $(BUILD)/bin
LIB := $(BUILD)/lib
OBJ := $(BUILD)/obj
GEN := $(BUILD)/gen

# Filled in by the fragments.
PROGRAMS   :=
TEST_SRCS  :=
TEST_LIBS  :=
PROTO_SRCS :=
BENCHES    :=

# $(call objs,SRCS): object files for C sources.
objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

# $(call af_program,NAME,SRCS,ARCHIVES): a program in $(BIN) built from SRCS
# and linked against the given static archives (in link order).
define af_program
$(BIN)/$(1): $(call objs,$(2)) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(3) $$(LDLIBS)
PROGRAMS += $(BIN)/$(1)
endef

# $(call af_archive,PATH,SRCS): a static archive.
define af_archive
$(1): $(call objs,$(2))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef

# libautofab first: every other fragment links against $(LIBAF_A).
include mk/common.mk
include $(filter-out mk/common.mk,$(sort $(wildcard mk/*.mk)))

# ---------------------------------------------------------------- generic rules
PROTO_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTO_SRCS))
PROTO_H := $(PROTO_C:.c=.h)

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto | deps
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -Iproto $<

$(OBJ)/$(GEN)/%.o: $(GEN)/%.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(OBJ)/%.o: %.c | deps $(PROTO_H)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ---------------------------------------------------------------- top targets
.PHONY: all deps deps-bench test asan run demo bench install clean

all: $(PROGRAMS)

deps:
	@scripts/deps.sh

deps-bench:
	@scripts/deps.sh --bench

TEST_BIN := $(BUILD)/tests/autofab-tests
$(TEST_BIN): $(call objs,$(TEST_SRCS)) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(TEST_LIBS) $(CRIT_LIBS) $(LDLIBS)

# Integration tests start the real programs; they find them through AF_BIN.
# Criterion runs tests two at a time here (one per core); each test picks its
# own free loopback ports.
TEST_JOBS ?= 2
# The install check is about packaging, so it runs in the plain tree only (an
# external program cannot load the ASan-instrumented libautofab.so).
test: $(PROGRAMS) $(TEST_BIN)
	$(if $(SAN),,@MAKE="$(MAKE)" scripts/install-check.sh)
	AF_BIN=$(abspath $(BIN)) AF_SRC=$(CURDIR) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    $(TEST_BIN) -j$(TEST_JOBS) $(TEST_ARGS)

asan:
	$(MAKE) SAN=1 test

# The main job: a whole factory for one simulated week, baseline and
# autonomous side by side (make run RUN_ARGS='--hours 24 --realtime' …).
run: $(PROGRAMS)
	$(BIN)/autofab run $(RUN_ARGS)

# The bus foundation live: broker, an agent, ls, sub and call.
demo: $(PROGRAMS)
	BIN=$(BIN) scripts/run-demo.sh

bench: $(addprefix bench-,$(BENCHES))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/include/autofab $(DESTDIR)$(PREFIX)/share/autofab/proto
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(LIBAF_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIBAF_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 common/*.h $(PROTO_H) $(DESTDIR)$(PREFIX)/include/autofab/
	install -m 0644 proto/*.proto $(DESTDIR)$(PREFIX)/share/autofab/proto/
	install -d $(DESTDIR)$(PREFIX)/share/autofab/factories
	install -m 0644 deploy/factories/*.yaml deploy/broker.yaml $(DESTDIR)$(PREFIX)/share/autofab/factories/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@PKGS@|$(filter-out libmicrohttpd,$(PKGS))|g' \
	    -e 's|@VERSION@|$(AF_VERSION)|g' common/autofab.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/autofab.pc

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
