/* gemm_avx2: AVX2+FMA micro-kernel, 4 rows x 24 columns: 12 ymm accumulators, 3 loads of B and 4
 * broadcasts of A per k step (16 registers). MR = 4 divides every ResNet channel count. */
#include <immintrin.h>

#include "core/ops/gemm/gemm_kernels.h"

#define MR 4
#define NR 24

__attribute__((target("avx2,fma"))) static void ukr(int k, const float *a, const float *b,
                                                    size_t ldb, float *c, size_t ldc, int acc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    for (int p = 0; p < k; p++, a += MR, b += ldb) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), b2 = _mm256_loadu_ps(b + 16);
        __m256 x = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01),
        c02 = _mm256_fmadd_ps(x, b2, c02);
        x = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11),
        c12 = _mm256_fmadd_ps(x, b2, c12);
        x = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21),
        c22 = _mm256_fmadd_ps(x, b2, c22);
        x = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31),
        c32 = _mm256_fmadd_ps(x, b2, c32);
    }
    __m256 rows[MR][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < 3; j++) {
            float *p = c + r * ldc + 8 * j;
            _mm256_storeu_ps(p, acc ? _mm256_add_ps(_mm256_loadu_ps(p), rows[r][j]) : rows[r][j]);
        }
}

const dl_gemm_kernel dl_gemm_kernel_avx2 = {MR, NR, ukr};

/* dst[p*dld + j] = src[j*sld + p] for j < 8, p < 8*blocks: the transposing packs' inner step
 * (A stored by rows, B^T) as 8x8 register transposes instead of 64 scalar moves each. */
__attribute__((target("avx2"))) void dl_gemm_transpose8(float *dst, size_t dld, const float *src,
                                                        size_t sld, int blocks)
{
    for (int b = 0; b < blocks; b++, src += 8, dst += 8 * dld) {
        __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + sld),
               r2 = _mm256_loadu_ps(src + 2 * sld), r3 = _mm256_loadu_ps(src + 3 * sld),
               r4 = _mm256_loadu_ps(src + 4 * sld), r5 = _mm256_loadu_ps(src + 5 * sld),
               r6 = _mm256_loadu_ps(src + 6 * sld), r7 = _mm256_loadu_ps(src + 7 * sld);
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
               t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
               t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
        _mm256_storeu_ps(dst + dld, _mm256_permute2f128_ps(s1, s5, 0x20));
        _mm256_storeu_ps(dst + 2 * dld, _mm256_permute2f128_ps(s2, s6, 0x20));
        _mm256_storeu_ps(dst + 3 * dld, _mm256_permute2f128_ps(s3, s7, 0x20));
        _mm256_storeu_ps(dst + 4 * dld, _mm256_permute2f128_ps(s0, s4, 0x31));
        _mm256_storeu_ps(dst + 5 * dld, _mm256_permute2f128_ps(s1, s5, 0x31));
        _mm256_storeu_ps(dst + 6 * dld, _mm256_permute2f128_ps(s2, s6, 0x31));
        _mm256_storeu_ps(dst + 7 * dld, _mm256_permute2f128_ps(s3, s7, 0x31));
    }
}
