# core/io: weight files (safetensors read/write; .pth import through a zip reader and a restricted
# unpickler; content-based dispatch) and their check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/io/read_file.c core/io/read_file.h \
	core/io/safetensors.c core/io/safetensors.h \
	core/io/zip.c core/io/zip.h \
	core/io/pickle.c core/io/pickle.h \
	core/io/pth.c core/io/pth.h \
	core/io/weights.c core/io/weights.h

check_PROGRAMS += tests/check_safetensors
tests_check_safetensors_SOURCES = tests/check_safetensors.c tests/testutil.c tests/testutil.h
tests_check_safetensors_CFLAGS = $(TEST_CFLAGS)
tests_check_safetensors_LDADD = $(TEST_LDADD)
TESTS += tests/check_safetensors

check_PROGRAMS += tests/check_pth
tests_check_pth_SOURCES = tests/check_pth.c tests/testutil.c tests/testutil.h
tests_check_pth_CFLAGS = $(TEST_CFLAGS)
tests_check_pth_LDADD = $(TEST_LDADD)
TESTS += tests/check_pth
