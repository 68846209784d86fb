# benchmarks: built by 'make bench', never part of make check.

# bench_conv (ops): conv GFLOP/s per layer beside a bare sgemm of the same shape.
EXTRA_PROGRAMS += tests/bench/bench_conv
tests_bench_bench_conv_SOURCES = tests/bench/bench_conv.c
tests_bench_bench_conv_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_conv
.PHONY: bench
bench: tests/bench/bench_conv
