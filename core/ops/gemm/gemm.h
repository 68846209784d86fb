/* gemm: dllab's own single-precision GEMM for the convolution shapes (small M = output channels,
 * long N = pixels), so their speed no longer depends on which OpenBLAS kernel the environment
 * picks (OPENBLAS_CORETYPE). BLIS's design: operands packed into micro-panels sized to the caches,
 * a register-blocked micro-kernel per instruction set, chosen at run time from what the CPU
 * supports (cpuid), never from OpenBLAS's settings. Row-major, cblas_sgemm's conventions. */
#ifndef DL_GEMM_H
#define DL_GEMM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum dl_gemm_isa {
    DL_GEMM_PORTABLE = 0,
    DL_GEMM_AVX2,
    DL_GEMM_AVX512,
    DL_GEMM_ISA_COUNT
} dl_gemm_isa;

/* C (M, N) = beta * C + op(A) (M, K) x op(B) (K, N); op transposes when trans_* is true (then A is
 * stored (K, M), B (N, K)). beta 0 never reads C (it may hold NaN); alpha is 1. */
void dl_sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/* C (M, N) = beta * C + A (M, K) x B, where row j of B^T (K floats) is at rows[j]: operands that
 * are rows of other arrays need no copy into one matrix first (conv2d's dW reads its input's
 * shifted rows in place). Same conventions as dl_sgemm with trans_a false, trans_b true. */
void dl_sgemm_bt_rows(int m, int n, int k, const float *a, int lda, const float *const *rows,
                      float beta, float *c, int ldc);

/* The instruction set in use: the best the CPU (and OS) supports, unless forced (below). */
dl_gemm_isa dl_gemm_isa_active(void);
bool dl_gemm_isa_supported(dl_gemm_isa isa);
const char *dl_gemm_isa_name(dl_gemm_isa isa); /* "portable", "avx2", "avx512" */
/* Test hook: runs every later dl_sgemm on isa. Returns false (nothing changed) when the CPU lacks
 * it. The environment variable DLLAB_GEMM_ISA (a name above) does the same at first use, so whole
 * test programs can run under each path. */
bool dl_gemm_force_isa(dl_gemm_isa isa);
/* True once an ISA was forced (hook or DLLAB_GEMM_ISA): callers that otherwise choose OpenBLAS for
 * some shapes then run dllab's gemm everywhere, so a test exercises the forced kernels. */
bool dl_gemm_forced(void);

#endif
