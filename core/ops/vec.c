/* vec: see vec.h. */
#include "core/ops/vec.h"

#define LANES 16

DL_HOT float dl_vec_sum(const float *x, size_t n)
{
    float acc[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += x[j + l];
    float s = 0.0f;
    for (; j < n; j++)
        s += x[j];
    for (int l = 0; l < LANES; l++)
        s += acc[l];
    return s;
}

DL_HOT float dl_vec_sqdev(const float *x, size_t n, float m)
{
    float acc[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float d = x[j + l] - m;
            acc[l] += d * d;
        }
    float s = 0.0f;
    for (; j < n; j++)
        s += (x[j] - m) * (x[j] - m);
    for (int l = 0; l < LANES; l++)
        s += acc[l];
    return s;
}

DL_HOT void dl_vec_grad_sums(const float *dy, const float *x, size_t n, float m, float *sdy,
                             float *sdyx)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            a[l] += dy[j + l];
            b[l] += dy[j + l] * (x[j + l] - m);
        }
    float sa = 0.0f, sb = 0.0f;
    for (; j < n; j++) {
        sa += dy[j];
        sb += dy[j] * (x[j] - m);
    }
    for (int l = 0; l < LANES; l++) {
        sa += a[l];
        sb += b[l];
    }
    *sdy = sa;
    *sdyx = sb;
}

DL_HOT void dl_vec_grad_sums_masked(float *dy, const float *y, const float *x, size_t n, float m,
                                    float *sdy, float *sdyx)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float g = y[j + l] > 0.0f ? dy[j + l] : 0.0f;
            dy[j + l] = g;
            a[l] += g;
            b[l] += g * (x[j + l] - m);
        }
    float sa = 0.0f, sb = 0.0f;
    for (; j < n; j++) {
        float g = y[j] > 0.0f ? dy[j] : 0.0f;
        dy[j] = g;
        sa += g;
        sb += g * (x[j] - m);
    }
    for (int l = 0; l < LANES; l++) {
        sa += a[l];
        sb += b[l];
    }
    *sdy = sa;
    *sdyx = sb;
}

DL_HOT void dl_vec_add(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
}

DL_HOT void dl_vec_add_scalar(float *dst, size_t n, float b)
{
    for (size_t i = 0; i < n; i++)
        dst[i] += b;
}

DL_HOT void dl_vec_affine(float *y, const float *x, size_t n, float a, float b)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * a + b;
}

DL_HOT void dl_vec_affine_relu(float *y, const float *x, size_t n, float a, float b)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * a + b;
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

DL_HOT void dl_vec_gather(float *restrict dst, const float *restrict src, size_t n, int stride)
{
    if (stride == 2) { /* the common case, spelled out so the vectoriser sees a constant stride */
        for (size_t i = 0; i < n; i++)
            dst[i] = src[2 * i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i * (size_t)stride];
}

DL_HOT void dl_vec_scatter_add(float *restrict dst, const float *restrict src, size_t n, int stride)
{
    if (stride == 2) {
        for (size_t i = 0; i < n; i++)
            dst[2 * i] += src[i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i * (size_t)stride] += src[i];
}
