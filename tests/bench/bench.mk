# benchmarks: built by 'make bench', never part of make check.

# bench_conv (ops): conv GFLOP/s per layer beside a bare sgemm of the same shape.
EXTRA_PROGRAMS += tests/bench/bench_conv
tests_bench_bench_conv_SOURCES = tests/bench/bench_conv.c
tests_bench_bench_conv_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_conv
.PHONY: bench
bench: tests/bench/bench_conv

# bench_decode (data): decode + resize + augment img/s vs Pillow (bench_decode_pil.py), loader wait.
EXTRA_PROGRAMS += tests/bench/bench_decode
tests_bench_bench_decode_SOURCES = tests/bench/bench_decode.c
tests_bench_bench_decode_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_DIR='"$(abs_top_srcdir)/tests/bench"'
tests_bench_bench_decode_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_decode
bench: tests/bench/bench_decode

# bench_train (lead): training step img/s for resnet18@64 b64 and resnet-xs@28 b128, beside
# PyTorch through bench_train.sh (alternating). Run: make bench && sh tests/bench/bench_train.sh
EXTRA_PROGRAMS += tests/bench/bench_train
tests_bench_bench_train_SOURCES = tests/bench/bench_train.c
tests_bench_bench_train_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_train
bench: tests/bench/bench_train
