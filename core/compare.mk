# core/compare: runs side by side (series alignment, figures, baseline deltas, hyper-parameter
# diff) and its check suite (included by Makefile.am).
core_libdlcore_a_SOURCES += core/compare.c core/compare_params.c core/compare.h

check_PROGRAMS += tests/check_compare
tests_check_compare_SOURCES = tests/check_compare.c tests/testutil.c tests/testutil.h
tests_check_compare_CFLAGS = $(TEST_CFLAGS)
tests_check_compare_LDADD = $(TEST_LDADD)
TESTS += tests/check_compare
