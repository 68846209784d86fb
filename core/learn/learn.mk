# core/learner: this room's sources and check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/learn/control.c core/learn/control.h \
	core/learn/metrics.c core/learn/metrics.h \
	core/learn/interp.c core/learn/interp.h \
	core/learn/learner.c core/learn/learner.h core/learn/learner_internal.h \
	core/learn/learner_fit.c core/learn/learner_state.c \
	core/learn/learner_thread.c core/learn/learner_preds.c \
	core/learn/diverge.c core/learn/diverge.h \
	core/learn/remote.c core/learn/remote.h \
	core/learn/dist.c core/learn/dist.h core/learn/dist_mpi.c \
	core/learn/replicas.c core/learn/replicas.h core/learn/learner_dist.c
EXTRA_DIST += core/learn/README.md

check_PROGRAMS += tests/check_learn_diverge tests/check_learn_control tests/check_learn_metrics tests/check_learn tests/check_learn_e2e tests/check_learn_cli
tests_check_learn_diverge_SOURCES = tests/check_learn_diverge.c tests/testutil.c tests/testutil.h
tests_check_learn_diverge_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_diverge_LDADD = $(TEST_LDADD)
tests_check_learn_control_SOURCES = tests/check_learn_control.c tests/testutil.c tests/testutil.h
tests_check_learn_control_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_control_LDADD = $(TEST_LDADD)
tests_check_learn_metrics_SOURCES = tests/check_learn_metrics.c tests/testutil.c tests/testutil.h
tests_check_learn_metrics_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_metrics_LDADD = $(TEST_LDADD)
tests_check_learn_SOURCES = tests/check_learn.c tests/testutil.c tests/testutil.h
tests_check_learn_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_LDADD = $(TEST_LDADD)
tests_check_learn_e2e_SOURCES = tests/check_learn_e2e.c tests/testutil.c tests/testutil.h
tests_check_learn_e2e_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_e2e_LDADD = $(TEST_LDADD)
tests_check_learn_cli_SOURCES = tests/check_learn_cli.c tests/testutil.c tests/testutil.h
tests_check_learn_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_learn_cli_LDADD = $(TEST_LDADD)
TESTS += tests/check_learn_diverge tests/check_learn_control tests/check_learn_metrics tests/check_learn tests/check_learn_e2e tests/check_learn_cli

# The steering channel through the run store (commands, acknowledgements, live snapshot).
check_PROGRAMS += tests/check_steer
tests_check_steer_SOURCES = tests/check_steer.c tests/testutil.c tests/testutil.h
tests_check_steer_CFLAGS = $(TEST_CFLAGS)
tests_check_steer_LDADD = $(TEST_LDADD)
TESTS += tests/check_steer

check_PROGRAMS += tests/check_replicas
tests_check_replicas_SOURCES = tests/check_replicas.c tests/testutil.c tests/testutil.h
tests_check_replicas_CFLAGS = $(TEST_CFLAGS)
tests_check_replicas_LDADD = $(TEST_LDADD)
TESTS += tests/check_replicas

check_PROGRAMS += tests/check_replicas_cli tests/check_replicas_mpi
tests_check_replicas_cli_SOURCES = tests/check_replicas_cli.c tests/replicas_testutil.h tests/testutil.c tests/testutil.h
tests_check_replicas_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_replicas_cli_LDADD = $(TEST_LDADD)
tests_check_replicas_mpi_SOURCES = tests/check_replicas_mpi.c tests/replicas_testutil.h tests/testutil.c tests/testutil.h
tests_check_replicas_mpi_CFLAGS = $(TEST_CFLAGS)
tests_check_replicas_mpi_LDADD = $(TEST_LDADD)
TESTS += tests/check_replicas_cli tests/check_replicas_mpi
