# core/data: this room's sources and check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/data/data.h core/data/internal.h \
	core/data/image.c core/data/jpeg_meta.c core/data/resize.c core/data/augment.c core/data/csv.c \
	core/data/sources.c core/data/idx.c core/data/mosaic.c core/data/archive.c \
	core/data/dataset.c core/data/loader.c core/data/suggest.c

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
# the image readers against hostile files (tests/gen/hostile_images.c); mkimages writes those
# files to a folder (the fuzz seeds of tests/fuzz/seeds/image)
HOSTILE_IMAGES = tests/gen/hostile_images.c tests/gen/hostile_images.h
check_PROGRAMS += tests/check_data_exif tests/gen/mkimages
tests_check_data_exif_SOURCES = tests/check_data_exif.c $(HOSTILE_IMAGES) $(DATA_TEST_UTIL)
tests_check_data_exif_CFLAGS = $(TEST_CFLAGS)
tests_check_data_exif_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_exif
tests_gen_mkimages_SOURCES = tests/gen/mkimages.c $(HOSTILE_IMAGES)
tests_gen_mkimages_CFLAGS = $(TEST_CFLAGS)
tests_gen_mkimages_LDADD = $(TEST_LDADD)
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
# pixels against Pillow's (fastai's) on committed JPEGs + references (tests/gen/mkfix_pixels.py)
check_PROGRAMS += tests/check_pixels
tests_check_pixels_SOURCES = tests/check_pixels.c tests/testutil.c tests/testutil.h
tests_check_pixels_CFLAGS = $(TEST_CFLAGS)
tests_check_pixels_LDADD = $(TEST_LDADD)
TESTS += tests/check_pixels

# hostile input: archives that try to write outside the cache, bombs, CSVs with NULs
check_PROGRAMS += tests/check_data_hostile
tests_check_data_hostile_SOURCES = tests/check_data_hostile.c $(DATA_TEST_UTIL)
tests_check_data_hostile_CFLAGS = $(TEST_CFLAGS)
tests_check_data_hostile_LDADD = $(TEST_LDADD)
TESTS += tests/check_data_hostile
