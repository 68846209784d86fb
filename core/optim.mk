# core/optim: optimisers (SGD, Adam), schedules (one-cycle, flat-cos, fine_tune, LR spreading)
# and the LR finder's sweep and suggestion maths, with their check suites.
core_libdlcore_a_SOURCES += \
	core/optim.c core/optim.h
core_libdlcore_a_SOURCES += \
	core/sched.c core/sched.h \
	core/lrfind.c core/lrfind.h
