# core/learner: this room's sources and check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/learn/control.c core/learn/control.h

check_PROGRAMS += tests/check_learn_control
tests_check_learn_control_SOURCES = tests/check_learn_control.c tests/testutil.c tests/testutil.h
tests_check_learn_control_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_control_LDADD = $(TEST_LDADD)
TESTS += tests/check_learn_control
