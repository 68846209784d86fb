/* gemm_avx512: AVX-512F micro-kernel, 8 rows x 48 columns: 24 zmm accumulators, 3 loads of B and
 * 8 broadcasts of A (folded into the FMAs) per k step. MR = 8 divides every ResNet channel
 * count; NR = 48 keeps a KC x NR panel of B within L1 for the KC the driver picks. */
#include <immintrin.h>

#include "core/ops/gemm/gemm_kernels.h"

#define MR 8
#define NR 48

#define ROW(r)                                                                                     \
    do {                                                                                           \
        __m512 x = _mm512_set1_ps(a[r]);                                                           \
        acc##r##0 = _mm512_fmadd_ps(x, b0, acc##r##0);                                             \
        acc##r##1 = _mm512_fmadd_ps(x, b1, acc##r##1);                                             \
        acc##r##2 = _mm512_fmadd_ps(x, b2, acc##r##2);                                             \
    } while (0)

#define DECL(r) __m512 acc##r##0 = _mm512_setzero_ps(), acc##r##1 = acc##r##0, acc##r##2 = acc##r##0

#define STORE(r)                                                                                   \
    do {                                                                                           \
        float *p = c + (r)*ldc;                                                                    \
        if (accum) {                                                                               \
            acc##r##0 = _mm512_add_ps(_mm512_loadu_ps(p), acc##r##0);                              \
            acc##r##1 = _mm512_add_ps(_mm512_loadu_ps(p + 16), acc##r##1);                         \
            acc##r##2 = _mm512_add_ps(_mm512_loadu_ps(p + 32), acc##r##2);                         \
        }                                                                                          \
        _mm512_storeu_ps(p, acc##r##0);                                                            \
        _mm512_storeu_ps(p + 16, acc##r##1);                                                       \
        _mm512_storeu_ps(p + 32, acc##r##2);                                                       \
    } while (0)

__attribute__((target("avx512f,fma"))) static void ukr(int k, const float *a, const float *b,
                                                       size_t ldb, float *c, size_t ldc, int accum)
{
    DECL(0);
    DECL(1);
    DECL(2);
    DECL(3);
    DECL(4);
    DECL(5);
    DECL(6);
    DECL(7);
    for (int p = 0; p < k; p++, a += MR, b += ldb) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32);
        ROW(0);
        ROW(1);
        ROW(2);
        ROW(3);
        ROW(4);
        ROW(5);
        ROW(6);
        ROW(7);
    }
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
    STORE(4);
    STORE(5);
    STORE(6);
    STORE(7);
}

const dl_gemm_kernel dl_gemm_kernel_avx512 = {MR, NR, ukr};
