# mk/energy.mk — the energy agent (agents/energy/): its algorithms (MPC with
# GLPK, the controller loop, forecasts, rule policy, bill) in libenergy.a,
# autofab-energy (main.c: the agent on the bus), their tests and
# `make bench-energy-offline`.

ENERGY_SRCS := $(sort $(filter-out agents/energy/main.c,$(wildcard agents/energy/*.c)))
ENERGY_A    := $(LIB)/libenergy.a
ENERGY_TEST_SRCS := $(sort $(wildcard tests/unit/test_energy*.c))
# GLPK has no pkg-config file on Debian.
GLPK_LIBS   := -lglpk

$(eval $(call af_archive,$(ENERGY_A),$(ENERGY_SRCS)))

# The agent on the bus (libctl.a by name: ctl.mk is read before this file,
# but keep the order out of it).
$(eval $(call af_program,autofab-energy,agents/energy/main.c,$(ENERGY_A) $(LIB)/libctl.a $(LIBAF_A)))
$(BIN)/autofab-energy: LDLIBS += $(GLPK_LIBS)

TEST_SRCS += $(ENERGY_TEST_SRCS) tests/integration/test_energy_agent.c
TEST_LIBS += $(ENERGY_A)
# By path: TEST_BIN is defined after the fragments are read.
$(BUILD)/tests/autofab-tests: LDLIBS += $(GLPK_LIBS)

# Private test binary:  make build/tests/test-energy && build/tests/test-energy
$(BUILD)/tests/test-energy: $(call objs,$(ENERGY_TEST_SRCS)) $(ENERGY_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(ENERGY_A) $(CRIT_LIBS) $(GLPK_LIBS) -lm

# bench-energy-offline: baseline, rule, MPC (forecasts) and the
# perfect-foresight LP on load / solar / price traces recorded from the
# current twin.  Writes $(BUILD)/bench/energy_offline.json.
ENERGY_BENCH_ARGS ?=
# libtwin.a by name: twin.mk is read after this fragment.
$(BIN)/energy-bench: $(call objs,bench/energy_bench.c) $(ENERGY_A) $(LIB)/libtwin.a $(LIBAF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(ENERGY_A) $(LIB)/libtwin.a $(LIBAF_A) $(LDLIBS) $(GLPK_LIBS)
BENCHES += energy-offline
.PHONY: bench-energy-offline
bench-energy-offline: $(BIN)/energy-bench
	@mkdir -p $(BUILD)/bench
	$(BIN)/energy-bench --factory deploy/factories/gigafactory.yaml \
	    --json $(BUILD)/bench/energy_offline.json $(ENERGY_BENCH_ARGS)
