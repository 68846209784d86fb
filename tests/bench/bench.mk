# benchmarks: built by 'make bench', never part of make check.

# bench_conv (ops): conv GFLOP/s per layer beside a bare sgemm of the same shape.
EXTRA_PROGRAMS += tests/bench/bench_conv
tests_bench_bench_conv_SOURCES = tests/bench/bench_conv.c tests/bench/fma_peak.h
tests_bench_bench_conv_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_conv
.PHONY: bench
bench: tests/bench/bench_conv

# bench_gemm (ops): dllab's own SGEMM vs cblas_sgemm on the conv shapes, beside a 1-core FMA peak.
EXTRA_PROGRAMS += tests/bench/bench_gemm
tests_bench_bench_gemm_SOURCES = tests/bench/bench_gemm.c tests/bench/fma_peak.h
tests_bench_bench_gemm_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_gemm
bench: tests/bench/bench_gemm

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

# Acceptance runs (accept): shell scripts over the dllab binary and their PyTorch twins,
# run by hand from the build folder (nothing to build beyond src/dllab; minutes each on one core):
#   sh tests/bench/accept_fmnist.sh     Fashion-MNIST resnet-xs one-cycle: accuracy + wall time vs PyTorch
#   sh tests/bench/accept_mosaic.sh     fashion-mosaic multi-label: accuracy_multi + micro-F1 vs PyTorch
#   sh tests/bench/accept_transfer.sh   fine_tune from the accept_fmnist body vs scratch, 3 seeds
#   sh tests/bench/suite_under_load.sh 5   the whole make check 5 times while two trainings load both cores

# bench_channel (steering): the store poller's CPU per resnet-xs step and its pickup latency.
EXTRA_PROGRAMS += tests/bench/bench_channel
tests_bench_bench_channel_SOURCES = tests/bench/bench_channel.c
tests_bench_bench_channel_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_channel
bench: tests/bench/bench_channel

# bench_replicas (replicas): data-parallel img/s with N replicas and under mpirun, the step split
# into compute / replica reduce / all-reduce, and a 1- vs 2-thread FMA probe (--fma).
# Run: make bench && sh tests/bench/bench_replicas.sh
EXTRA_PROGRAMS += tests/bench/bench_replicas
tests_bench_bench_replicas_SOURCES = tests/bench/bench_replicas.c tests/bench/fma_peak.h
tests_bench_bench_replicas_LDADD = core/libdlcore.a $(CORE_LIBS)
CLEANFILES += tests/bench/bench_replicas
bench: tests/bench/bench_replicas
