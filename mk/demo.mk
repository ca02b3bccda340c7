# autofab-demo-agent: a small telemetry agent (make run's stand-in, test workhorse).
$(eval $(call af_program,autofab-demo-agent,agents/demo/main.c,$(LIBAF_A)))
