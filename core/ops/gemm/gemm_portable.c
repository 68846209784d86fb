/* gemm_portable: the micro-kernel for CPUs without AVX2+FMA; plain C the compiler vectorises
 * for the baseline ISA (SSE2 on x86-64). */
#include "core/ops/gemm/gemm_kernels.h"

#define MR 4
#define NR 8

static void ukr(int k, const float *a, const float *b, size_t ldb, float *c, size_t ldc, int acc)
{
    float t[MR][NR] = {{0}};
    for (int p = 0; p < k; p++)
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                t[r][j] += a[p * MR + r] * b[p * ldb + j];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++)
            c[r * ldc + j] = acc ? c[r * ldc + j] + t[r][j] : t[r][j];
}

const dl_gemm_kernel dl_gemm_kernel_portable = {MR, NR, ukr};
