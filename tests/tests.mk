# tests: suites of the foundation and the whole-program checks. Module suites live in their
# room's fragment (core/*.mk).
check_PROGRAMS += tests/check_core
tests_check_core_SOURCES = tests/check_core.c tests/testutil.c tests/testutil.h
tests_check_core_CFLAGS = $(TEST_CFLAGS)
tests_check_core_LDADD = $(TEST_LDADD)
TESTS += tests/check_core tests/no-curses-in-core.sh tests/cli.sh tests/steer.sh
EXTRA_DIST += tests/no-curses-in-core.sh tests/cli.sh tests/cli-lib.sh tests/steer.sh
# outputs never replace a device, FIFO or folder (core/file.h's writer and the commands using it)
check_PROGRAMS += tests/check_outputs
tests_check_outputs_SOURCES = tests/check_outputs.c tests/check_compare_fixture.h \
	tests/testutil.c tests/testutil.h
tests_check_outputs_CFLAGS = $(TEST_CFLAGS)
tests_check_outputs_LDADD = $(TEST_LDADD)
EXTRA_tests_check_outputs_DEPENDENCIES = src/dllab
TESTS += tests/check_outputs

# Faults a hostile-input and crash probe found (diverged runs, live runs, full disks, hostile names), end to end through
# the built dllab; the full-disk cases mount a small tmpfs where the suite runs as root.
check_PROGRAMS += tests/check_faults
tests_check_faults_SOURCES = tests/check_faults.c tests/check_data_util.c tests/data_testutil.h \
	tests/testutil.c tests/testutil.h
tests_check_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_faults_LDADD = $(TEST_LDADD)
EXTRA_tests_check_faults_DEPENDENCIES = src/dllab
TESTS += tests/check_faults

# A UBSan finding in the data set's image probe, made deterministic under clang
# (skipped without clang).
TESTS += tests/ub-probe.sh
EXTRA_DIST += tests/ub-probe.sh tests/ub_probe_main.c

# Sanitizer trees, long and never part of make check: a second build with the
# sanitizers, from a copy of the sources in a subfolder (see tests/sanitize.sh for why a copy).
#   make check-sanitize   ASan+UBSan, the whole suite, in build-sanitize/
#   make check-tsan       TSan, the suites where trainer, loader and UI threads run, in build-tsan/
TSAN_TESTS = tests/check_data_loader tests/check_learn_control tests/check_learn tests/check_learn_e2e \
	tests/ui/tmux.sh
EXTRA_DIST += tests/sanitize.sh tests/tsan.supp tests/lsan.supp
check-sanitize:
	top_srcdir='$(abs_top_srcdir)' $(SHELL) $(abs_top_srcdir)/tests/sanitize.sh asan \
		'$(abs_top_builddir)/build-sanitize'
check-tsan:
	top_srcdir='$(abs_top_srcdir)' $(SHELL) $(abs_top_srcdir)/tests/sanitize.sh tsan \
		'$(abs_top_builddir)/build-tsan' '$(TSAN_TESTS)'
.PHONY: check-sanitize check-tsan
# the fastbook walk-through's command-line findings (typos, CSV rows, interpret/predict, runs kinds)
TESTS += tests/walk-cli.sh
EXTRA_DIST += tests/walk-cli.sh

# Learning rates and fine_tune's phases on the dashboard, and a divergence caught before NaN (tmux;
# skips like tests/ui/tmux.sh).
TESTS += tests/ui/phases.sh
EXTRA_DIST += tests/ui/phases.sh
