# core/io: weight files (safetensors read/write; .pth zip + restricted unpickler import) and
# their check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/io/read_file.c core/io/read_file.h \
	core/io/safetensors.c core/io/safetensors.h

check_PROGRAMS += tests/check_safetensors
tests_check_safetensors_SOURCES = tests/check_safetensors.c tests/testutil.c tests/testutil.h
tests_check_safetensors_CFLAGS = $(TEST_CFLAGS)
tests_check_safetensors_LDADD = $(TEST_LDADD)
TESTS += tests/check_safetensors
