/* gemm_kernels: the micro-kernel table entry each instruction set provides (gemm_*.c). */
#ifndef DL_GEMM_KERNELS_H
#define DL_GEMM_KERNELS_H

#include <stddef.h>

/* C (MR, NR) at c (row stride ldc) (=, or += when acc) sum over p < k of
 * a[p*MR + r] * b[p*ldb + j]: a is a packed micro-panel; b a packed one (ldb = NR) or, when
 * packing would cost more than it saves, NR columns of B read in place (ldb = B's row stride). */
typedef void (*dl_gemm_ukr)(int k, const float *a, const float *b, size_t ldb, float *c, size_t ldc,
                            int acc);

typedef struct dl_gemm_kernel {
    int mr, nr;
    dl_gemm_ukr run;
} dl_gemm_kernel;

/* dst[p*dld + j] = src[j*sld + p] for j < 8, p < 8*blocks (AVX2; gemm_avx2.c) */
void dl_gemm_transpose8(float *dst, size_t dld, const float *src, size_t sld, int blocks);

extern const dl_gemm_kernel dl_gemm_kernel_portable, dl_gemm_kernel_avx2, dl_gemm_kernel_avx512;

#endif
