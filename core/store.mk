# core/store: the run store (SQLite) and its check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/store/store.h core/store/internal.h \
	core/store/schema.c core/store/db.c core/store/write.c core/store/read.c \
	core/store/checkpoint.c core/store/manage.c

check_PROGRAMS += tests/check_store
tests_check_store_SOURCES = tests/check_store.c tests/testutil.c tests/testutil.h
tests_check_store_CFLAGS = $(TEST_CFLAGS)
tests_check_store_LDADD = $(TEST_LDADD)
TESTS += tests/check_store
