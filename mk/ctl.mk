# mk/ctl.mk — the controller session every autonomous agent uses to control
# the plant over the bus (agents/ctl/: register with owns:<concern>, the
# plant description, telemetry, commands, tick acknowledgements).
CTL_SRCS := $(sort $(wildcard agents/ctl/*.c))
CTL_A    := $(LIB)/libctl.a
$(eval $(call af_archive,$(CTL_A),$(CTL_SRCS)))
