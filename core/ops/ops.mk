# core/ops: this room's sources and check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/ops/ops.h core/ops/vec.h core/ops/vec.c core/ops/im2col.h core/ops/im2col.c core/ops/conv2d.c \
	core/ops/winograd.h core/ops/winograd.c \
	core/ops/batchnorm.c core/ops/batchnorm_sync.c core/ops/relu.c core/ops/pool.c core/ops/linear.c \
	core/ops/dropout.c core/ops/add.c core/ops/loss.c \
	core/ops/gemm/gemm.h core/ops/gemm/gemm.c core/ops/gemm/gemm_kernels.h \
	core/ops/gemm/gemm_portable.c core/ops/gemm/gemm_avx2.c core/ops/gemm/gemm_avx512.c

check_PROGRAMS += tests/check_ops_grad
tests_check_ops_grad_SOURCES = tests/check_ops_grad.c tests/testutil.c tests/testutil.h
tests_check_ops_grad_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_grad_LDADD = $(TEST_LDADD)
TESTS += tests/check_ops_grad

check_PROGRAMS += tests/check_ops_parity
tests_check_ops_parity_SOURCES = tests/check_ops_parity.c tests/testutil.c tests/testutil.h
tests_check_ops_parity_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_parity_LDADD = $(TEST_LDADD)
TESTS += tests/check_ops_parity

check_PROGRAMS += tests/check_ops_fused
tests_check_ops_fused_SOURCES = tests/check_ops_fused.c tests/testutil.c tests/testutil.h
tests_check_ops_fused_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_fused_LDADD = $(TEST_LDADD)
TESTS += tests/check_ops_fused

check_PROGRAMS += tests/check_ops_winograd
tests_check_ops_winograd_SOURCES = tests/check_ops_winograd.c tests/testutil.c tests/testutil.h
tests_check_ops_winograd_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_winograd_LDADD = $(TEST_LDADD)
TESTS += tests/check_ops_winograd

check_PROGRAMS += tests/check_ops_gemm
tests_check_ops_gemm_SOURCES = tests/check_ops_gemm.c tests/testutil.c tests/testutil.h
tests_check_ops_gemm_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_gemm_LDADD = $(TEST_LDADD)
TESTS += tests/check_ops_gemm

# the conv suites above once per gemm instruction set the CPU supports
check_PROGRAMS += tests/gemm_isa_probe
tests_gemm_isa_probe_SOURCES = tests/gemm_isa_probe.c
tests_gemm_isa_probe_LDADD = core/libdlcore.a $(CORE_LIBS)
TESTS += tests/gemm-isa.sh
EXTRA_DIST += tests/gemm-isa.sh
CLEANFILES += tests/gemm-isa-*.out

# Maintainer target: regenerate the ops fixtures with Debian's python3-torch (never run by
# make check; the outputs are committed). Other rooms may add their own prerequisites to 'fixtures'.
.PHONY: fixtures fixtures-ops
fixtures: fixtures-ops
fixtures-ops:
	/usr/bin/python3 $(top_srcdir)/tests/gen/mkfix_ops.py
