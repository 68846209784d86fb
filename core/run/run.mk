# core/run: the run configuration (one option table) and its check suite (included by Makefile.am).
core_libdlcore_a_SOURCES += core/run/run_cfg.h core/run/run_cfg.c core/run/options.c core/run/cfg_json.c \
	core/run/session.h core/run/session.c core/run/stem.h core/run/stem.c

check_PROGRAMS += tests/check_run_cfg
tests_check_run_cfg_SOURCES = tests/check_run_cfg.c tests/testutil.c tests/testutil.h
tests_check_run_cfg_CFLAGS = $(TEST_CFLAGS)
tests_check_run_cfg_LDADD = $(TEST_LDADD)
EXTRA_tests_check_run_cfg_DEPENDENCIES = src/dllab
TESTS += tests/check_run_cfg
