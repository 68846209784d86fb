/* fma_peak: the 1-core FMA peak probe the benchmarks print beside their GFLOP/s (AVX-512 when the
 * CPU has it, else AVX2+FMA, else 0), in the calling thread's CPU time. Header-only: each
 * benchmark is one program. */
#ifndef DL_BENCH_FMA_PEAK_H
#define DL_BENCH_FMA_PEAK_H

#include <immintrin.h>
#include <time.h>

#include "core/ops/gemm/gemm.h"

static double fma_cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* 1-core FMA peak: 12 independent chains of FMAs in registers (enough to cover latency x ports
 * on any AVX-512/AVX2 core), spelled out so none of them lives in memory. */
#define CHAINS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)

__attribute__((target("avx512f,fma"))) static double peak_avx512(long iters)
{
    const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)i);
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, x, y);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS(DECL)
    double t0 = fma_cpu_now();
    for (long it = 0; it < iters; it++) {
        CHAINS(STEP)
        __asm__ volatile("" ::: "memory");
    }
    double t = fma_cpu_now() - t0;
    __m512 s = _mm512_setzero_ps();
    CHAINS(SUM)
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
#undef DECL
#undef STEP
#undef SUM
    return 2.0 * 16 * 12 * (double)iters / t * 1e-9;
}

__attribute__((target("avx2,fma"))) static double peak_avx2(long iters)
{
    const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)i);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, x, y);
#define SUM(i) s = _mm256_add_ps(s, a##i);
    CHAINS(DECL)
    double t0 = fma_cpu_now();
    for (long it = 0; it < iters; it++) {
        CHAINS(STEP)
        __asm__ volatile("" ::: "memory");
    }
    double t = fma_cpu_now() - t0;
    __m256 s = _mm256_setzero_ps();
    CHAINS(SUM)
    float out[8];
    _mm256_storeu_ps(out, s);
    volatile float sink = out[0];
    (void)sink;
#undef DECL
#undef STEP
#undef SUM
    return 2.0 * 8 * 12 * (double)iters / t * 1e-9;
}

static double fma_peak(void)
{
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double g = dl_gemm_isa_supported(DL_GEMM_AVX512) ? peak_avx512(20000000)
                   : dl_gemm_isa_supported(DL_GEMM_AVX2) ? peak_avx2(20000000)
                                                         : 0;
        best = g > best ? g : best;
    }
    return best;
}

#endif
