# core/compare: runs side by side (series alignment, figures, baseline deltas, hyper-parameter
# diff) and its check suite (included by Makefile.am).
core_libdlcore_a_SOURCES += core/compare/compare.c core/compare/params.c core/compare/compare.h

check_PROGRAMS += tests/check_compare
tests_check_compare_SOURCES = tests/check_compare.c tests/testutil.c tests/testutil.h
tests_check_compare_CFLAGS = $(TEST_CFLAGS)
tests_check_compare_LDADD = $(TEST_LDADD)
TESTS += tests/check_compare

# dllab compare (and later export --plot, sweep) end to end through the built binary.
check_PROGRAMS += tests/check_compare_cli
tests_check_compare_cli_SOURCES = tests/check_compare_cli.c tests/check_compare_fixture.h tests/testutil.c tests/testutil.h
tests_check_compare_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_compare_cli_LDADD = $(TEST_LDADD)
EXTRA_tests_check_compare_cli_DEPENDENCIES = src/dllab
TESTS += tests/check_compare_cli

# The compare screen drawn into in-memory grids.
check_PROGRAMS += tests/check_compare_screen
tests_check_compare_screen_SOURCES = tests/check_compare_screen.c tests/check_compare_fixture.h tests/testutil.c tests/testutil.h
tests_check_compare_screen_CFLAGS = $(TEST_CFLAGS)
tests_check_compare_screen_LDADD = ui/libdlui.a $(TEST_LDADD) $(NCURSES_LIBS)
TESTS += tests/check_compare_screen

# dllab sweep: the grid directly, then end to end on a tiny Fashion-MNIST (skipped without it).
check_PROGRAMS += tests/check_compare_sweep
tests_check_compare_sweep_SOURCES = tests/check_compare_sweep.c src/sweep-grid.c src/sweep-grid.h tests/testutil.c tests/testutil.h
tests_check_compare_sweep_CFLAGS = $(TEST_CFLAGS)
tests_check_compare_sweep_LDADD = $(TEST_LDADD)
EXTRA_tests_check_compare_sweep_DEPENDENCIES = src/dllab
TESTS += tests/check_compare_sweep

# The compare screen in a real terminal (tmux; skipped without tmux or Fashion-MNIST).
TESTS += tests/ui/compare.sh
EXTRA_DIST += tests/ui/compare.sh
