# core/data: this room's sources and check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/data/data.h core/data/internal.h \
	core/data/image.c core/data/resize.c core/data/augment.c core/data/csv.c \
	core/data/sources.c core/data/idx.c core/data/mosaic.c core/data/archive.c \
	core/data/dataset.c core/data/loader.c

DATA_TEST_UTIL = tests/check_data_util.c tests/data_testutil.h tests/testutil.c tests/testutil.h
check_PROGRAMS += tests/check_data_sources
tests_check_data_sources_SOURCES = tests/check_data_sources.c $(DATA_TEST_UTIL)
tests_check_data_sources_CFLAGS = $(TEST_CFLAGS)
tests_check_data_sources_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_sources
check_PROGRAMS += tests/check_data_images
tests_check_data_images_SOURCES = tests/check_data_images.c $(DATA_TEST_UTIL)
tests_check_data_images_CFLAGS = $(TEST_CFLAGS)
tests_check_data_images_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_images
check_PROGRAMS += tests/check_data_loader
tests_check_data_loader_SOURCES = tests/check_data_loader.c $(DATA_TEST_UTIL)
tests_check_data_loader_CFLAGS = $(TEST_CFLAGS)
tests_check_data_loader_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_loader
# dllab data end to end (runs $(top_builddir)/src/dllab, built by make check's all target)
check_PROGRAMS += tests/check_data_cli
tests_check_data_cli_SOURCES = tests/check_data_cli.c $(DATA_TEST_UTIL)
tests_check_data_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_data_cli_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_cli
# fast paths of the image pipeline (fixed-point resize, vector render) against slow references
check_PROGRAMS += tests/check_data_fast
tests_check_data_fast_SOURCES = tests/check_data_fast.c $(DATA_TEST_UTIL)
tests_check_data_fast_CFLAGS = $(TEST_CFLAGS)
tests_check_data_fast_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_fast
# hostile input: archives that try to write outside the cache, bombs, CSVs with NULs (issue 17/19)
check_PROGRAMS += tests/check_data_hostile
tests_check_data_hostile_SOURCES = tests/check_data_hostile.c $(DATA_TEST_UTIL)
tests_check_data_hostile_CFLAGS = $(TEST_CFLAGS)
tests_check_data_hostile_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_hostile
