# mk/robot.mk — the robot agent's algorithm modules (agents/robot/*.c, plain
# C, no bus code): assignment, shared floor map, multi-robot path planning,
# jerk-limited motion with feed-forward, force-guided insertion.  Their unit
# tests join the suite; `make bench-robot` compares each with its baseline.

ROBOT_SRCS := $(filter-out agents/robot/main.c,$(sort $(wildcard agents/robot/*.c)))
ROBOT_A    := $(LIB)/librobot.a
ROBOT_TEST_SRCS := $(sort $(wildcard tests/unit/test_robot_*.c))

$(eval $(call af_archive,$(ROBOT_A),$(ROBOT_SRCS)))

TEST_SRCS += $(ROBOT_TEST_SRCS)
TEST_LIBS += $(ROBOT_A)

# A private test binary with only the robot modules' tests:
#   make build/tests/test-robot && build/tests/test-robot --filter 'robot_*/*'
$(BUILD)/tests/test-robot: $(call objs,$(ROBOT_TEST_SRCS)) $(ROBOT_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(ROBOT_A) $(CRIT_LIBS) $(LDLIBS)

# bench-robot: assignment vs FCFS-nearest, CBS vs prioritised planning, S-curve
# + feed-forward vs a tuned PID, insertion success over 1,000 seeded trials.
# Writes $(BUILD)/bench/robot.json.  Built on demand, never installed.
$(BIN)/robot-bench: $(call objs,bench/robot_bench.c) $(ROBOT_A) $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(ROBOT_A) $(LIBAF_A) $(LDLIBS)
BENCHES += robot
.PHONY: bench-robot
bench-robot: $(BIN)/robot-bench
	@mkdir -p $(BUILD)/bench
	$(BIN)/robot-bench --json $(BUILD)/bench/robot.json $(ROBOT_BENCH_ARGS)
