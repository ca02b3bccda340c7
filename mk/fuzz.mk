# mk/fuzz.mk — libFuzzer targets for every decoder and parser that reads
# hostile input (issue 17): envelopes and batches, control messages, YAML
# configs, job-shop files, the CLI's value parsers.
#
#   make fuzz                      each target FUZZ_SECONDS (60) on its corpus
#   make fuzz FUZZ_SECONDS=10 FUZZ_TARGETS=control
#   build/fuzz/fuzz_control CRASH  replays one input
#
# Built with clang into build/fuzz, apart from the ordinary and asan trees.
# The seed corpus is committed in fuzz/corpus/<target>/; what a run finds
# goes to build/fuzz/corpus/<target>/ and crashes to build/fuzz/artifacts/
# (each crash becomes a regression test in tests/, DESIGN: never a stub).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_ALL     := envelope control config jobshop cli_args
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=gnu11 -O1 -g -D_GNU_SOURCE -DAF_VERSION=\"$(AF_VERSION)\" -I. -Icommon \
                -Icli -I$(GEN) $(PKG_CFLAGS) $(FUZZ_SAN)

# Everything a target may call, instrumented: libautofab with its generated
# protobuf code, the scheduler's instance reader, the CLI's value parsers.
# (The scheduler's list is spelled here: sched.mk is read after this file.)
FUZZ_LIB_SRCS := $(LIBAF_SRCS) cli/args.c \
                 $(filter-out agents/line/sched_main.c,$(wildcard agents/line/sched_*.c))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS))

$(FUZZ_DIR)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) -lm -lpthread

.PHONY: fuzz fuzz-build
fuzz-build: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

# -max_len covers a whole batch frame (64 KiB); new inputs go to the build
# tree, the committed seeds are only read.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=70000 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t \
	        2>&1 | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY|.*runtime error)' || true; \
	    if ls $(FUZZ_DIR)/artifacts/$$t-* >/dev/null 2>&1; then \
	        echo "fuzz: $$t found crashes: $$(ls $(FUZZ_DIR)/artifacts/$$t-*)"; exit 1; fi; \
	done
