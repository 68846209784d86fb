# core/io: weight files (safetensors read/write; .pth import through a zip reader and a restricted
# unpickler; content-based dispatch) and their check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/io/read_file.c core/io/read_file.h \
	core/io/safetensors.c core/io/safetensors.h \
	core/io/zip.c core/io/zip.h \
	core/io/pickle.c core/io/pickle.h \
	core/io/pth.c core/io/pth.h \
	core/io/weights.c core/io/weights.h \
	core/io/names.c core/io/names.h

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

# make fuzz: libFuzzer runs (clang -fsanitize=fuzzer,address,undefined) of the hand-written byte
# readers (weight files: safetensors, zip, pickle; images: JPEG EXIF/markers and PNG/JPEG decode),
# FUZZ_TIME seconds each (default 60), starting from the committed seeds in
# tests/fuzz/seeds/<target>; new corpus entries and any crash-* reproducer land in
# fuzz/<target>/ in the build folder. Reproduce a crash with
# `fuzz/fuzz_<target> fuzz/<target>/crash-...`. FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION shrinks
# image.c's memory limits (same checks, faster runs).
# `make fuzz FUZZ_RUNS=10000000` runs each target for that many executions instead of a time.
# make fuzz-build only builds them (make check does, through tests/fuzz-build.sh, so that a
# missing source cannot break `make fuzz` unnoticed).
FUZZ_TIME = 60
FUZZ_RUNS =
FUZZ_CC = clang
FUZZ_TARGETS = safetensors zip pickle image
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -g -O1 \
	-fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-I$(top_srcdir) -I$(top_builddir) $(JANSSON_CFLAGS) $(ZLIB_CFLAGS) $(TURBOJPEG_CFLAGS) \
	$(PNG_CFLAGS)
FUZZ_SRCS = core/io/safetensors.c core/io/read_file.c core/io/zip.c core/io/pickle.c core/io/pth.c \
	core/tensor_map.c core/tensor.c core/err.c core/file.c core/log.c \
	core/data/image.c core/data/jpeg_meta.c core/data/resize.c
FUZZ_LIBS = $(JANSSON_LIBS) $(ZLIB_LIBS) $(TURBOJPEG_LIBS) $(PNG_LIBS) -lm
FUZZ_OBJS = $(addprefix fuzz/obj/,$(FUZZ_SRCS:.c=.o))
EXTRA_DIST += tests/fuzz tests/fuzz-build.sh
TESTS += tests/fuzz-build.sh

# Every header counts: a changed struct must rebuild the fuzz objects too.
FUZZ_HDRS = $(wildcard $(top_srcdir)/core/*.h $(top_srcdir)/core/*/*.h)
$(FUZZ_OBJS): fuzz/obj/%.o: $(top_srcdir)/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
fuzz/fuzz_%: $(top_srcdir)/tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_OBJS) -o $@ $(FUZZ_LIBS)
fuzz-build: $(addprefix fuzz/fuzz_,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/$$t; \
	  if [ -n "$(FUZZ_RUNS)" ]; then limit="-runs=$(FUZZ_RUNS)"; what="$(FUZZ_RUNS) executions"; \
	  else limit="-max_total_time=$(FUZZ_TIME)"; what="$(FUZZ_TIME) s"; fi; \
	  echo "fuzz: running fuzz_$$t for $$what"; \
	  UBSAN_OPTIONS=halt_on_error=1 fuzz/fuzz_$$t $$limit -max_len=65536 -rss_limit_mb=2048 \
	    -artifact_prefix=fuzz/$$t/ fuzz/$$t $(top_srcdir)/tests/fuzz/seeds/$$t 2>fuzz/$$t.log \
	    || { tail -40 fuzz/$$t.log; exit 1; }; \
	  tail -1 fuzz/$$t.log; \
	done
clean-local: clean-fuzz
clean-fuzz:
	rm -rf fuzz/obj $(addprefix fuzz/fuzz_,$(FUZZ_TARGETS))
.PHONY: fuzz fuzz-build clean-fuzz

# `dllab weights` (src/cmd-weights.c): the architecture check it uses, and the command itself.
check_PROGRAMS += tests/check_weights_arch
tests_check_weights_arch_SOURCES = tests/check_weights_arch.c src/weights-arch.c src/weights-arch.h \
	tests/testutil.c tests/testutil.h
tests_check_weights_arch_CFLAGS = $(TEST_CFLAGS)
tests_check_weights_arch_LDADD = $(TEST_LDADD)
TESTS += tests/check_weights_arch tests/weights-cli.sh
EXTRA_DIST += tests/weights-cli.sh
