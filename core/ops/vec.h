/* vec: small vector loops shared by the kernels (internal to core/ops).
 * GCC's -O2 only vectorises loops its "very cheap" cost model accepts (no epilogue, known trip
 * count) and never reorders a float sum, so these are written to vectorise anyway: DL_HOT picks
 * the dynamic cost model and builds AVX-512/AVX2/baseline clones chosen at load time (no
 * -march=native: users' CPUs differ), and sums keep 16 independent partial sums, which the
 * compiler maps onto one vector register. Partial sums also round better than one serial sum. */
#ifndef DL_OPS_VEC_H
#define DL_OPS_VEC_H

#include <stddef.h>

/* Not under TSan: the clones' ifunc resolvers are instrumented and run before its runtime
 * starts (the program crashes while loading). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define DL_HOT                                                                                     \
    __attribute__((target_clones("avx512f", "avx2", "default"),                                    \
                   optimize("vect-cost-model=dynamic")))
#else
#define DL_HOT
#endif

/* sum of x[0..n) */
float dl_vec_sum(const float *x, size_t n);
/* sum of (x[i] - m)^2 */
float dl_vec_sqdev(const float *x, size_t n, float m);
/* *sdy = sum dy[i], *sdyx = sum dy[i] * (x[i] - m) */
void dl_vec_grad_sums(const float *dy, const float *x, size_t n, float m, float *sdy, float *sdyx);
/* dst[i] += src[i] (no overlap) */
void dl_vec_add(float *restrict dst, const float *restrict src, size_t n);
/* dst[i] += b */
void dl_vec_add_scalar(float *dst, size_t n, float b);
/* dst[i] = src[i * stride] */
void dl_vec_gather(float *restrict dst, const float *restrict src, size_t n, int stride);
/* dst[i * stride] += src[i] */
void dl_vec_scatter_add(float *restrict dst, const float *restrict src, size_t n, int stride);
/* y[i] = x[i] * a + b (y may equal x) */
void dl_vec_affine(float *y, const float *x, size_t n, float a, float b);
/* y[i] = max(x[i] * a + b, 0) with relu's NaN rule (y may equal x) */
void dl_vec_affine_relu(float *y, const float *x, size_t n, float a, float b);
/* dl_vec_grad_sums after dy[i] = y[i] > 0 ? dy[i] : 0 in the same pass (same sums, same order) */
void dl_vec_grad_sums_masked(float *dy, const float *y, const float *x, size_t n, float m,
                             float *sdy, float *sdyx);

#endif
