# core/store: the run store (SQLite) and its check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/store/store.h core/store/internal.h \
	core/store/schema.c core/store/db.c core/store/write.c core/store/read.c \
	core/store/checkpoint.c core/store/manage.c core/store/owner.c \
	core/store/steer.c

check_PROGRAMS += tests/check_store
tests_check_store_SOURCES = tests/check_store.c tests/testutil.c tests/testutil.h
tests_check_store_CFLAGS = $(TEST_CFLAGS)
tests_check_store_LDADD = $(TEST_LDADD)
TESTS += tests/check_store

# Crash consistency (fork + SIGKILL, 120 kills) and two writers with a reader.
check_PROGRAMS += tests/check_store_proc
tests_check_store_proc_SOURCES = tests/check_store_proc.c tests/testutil.c tests/testutil.h
tests_check_store_proc_CFLAGS = $(TEST_CFLAGS)
tests_check_store_proc_LDADD = $(TEST_LDADD)
TESTS += tests/check_store_proc

# The heavier crash runs: `make stress-store`: STORE_KILLS kills of the synthetic writer (3000 by
# default), then TRAIN_KILLS SIGKILLs of real dllab trainings, LR finders and resumes
# (tests/bench/stress_train.py: store state, checkpoints and resumed losses after each; at most
# TRAIN_MINUTES minutes). Both print their counts.
STORE_KILLS = 3000
TRAIN_KILLS = 200
TRAIN_MINUTES = 240
stress-store: tests/check_store_proc src/dllab
	DLLAB_STORE_KILLS=$(STORE_KILLS) CK_DEFAULT_TIMEOUT=36000 ./tests/check_store_proc
	python3 $(srcdir)/tests/bench/stress_train.py src/dllab --kills $(TRAIN_KILLS) \
		--minutes $(TRAIN_MINUTES)
.PHONY: stress-store

# The run-store commands, end to end through the built dllab.
check_PROGRAMS += tests/check_store_cli
tests_check_store_cli_SOURCES = tests/check_store_cli.c tests/testutil.c tests/testutil.h
tests_check_store_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_store_cli_LDADD = $(TEST_LDADD)
EXTRA_tests_check_store_cli_DEPENDENCIES = src/dllab
TESTS += tests/check_store_cli
