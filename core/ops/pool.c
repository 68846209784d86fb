/* pool: max pooling (padding counts as -inf, argmax saved per output as the input's index within
 * its H*W plane) and adaptive average/max pooling with PyTorch's window rule
 * start = floor(i*H/OH), end = ceil((i+1)*H/OH), so windows may overlap or differ in size.
 * Ties go to the first maximum in row-major scan order and a NaN always wins (so the last NaN
 * of a window is the one reported), exactly as PyTorch's CPU kernels scan.
 * An output whose window lies entirely in the padding (impossible when pad <= k/2, which PyTorch
 * requires) gets -inf and argmax -1, and passes no gradient.
 * Reference: https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html */
#include <math.h>

#include "core/ops/ops.h"
#include "core/ops/vec.h"

/* One window tap for a run of n outputs: best/arg take src[i*s] where it is larger (or NaN, as
 * PyTorch does). Looping over outputs rather than over the window lets the compiler vectorise
 * the compare-and-select; taps arrive in row-major window order, so ties keep the first max. */
DL_HOT static void max_tap(float *restrict best, int32_t *restrict arg, const float *restrict src,
                           size_t n, int s, int32_t idx0)
{
    for (size_t i = 0; i < n; i++) {
        float v = src[i * (size_t)s];
        int take = v > best[i] || v != v;
        best[i] = take ? v : best[i];
        arg[i] = take ? idx0 + (int32_t)i * s : arg[i];
    }
}

/* The window of output (i, j), clipped to the image, scanned one output at a time. */
static void max_window(float *y, int32_t *arg, const float *xp, int w, int h0, int h1, int w0,
                       int w1)
{
    float best = -INFINITY;
    int32_t bi = -1;
    for (int a = h0; a < h1; a++)
        for (int b = w0; b < w1; b++) {
            float v = xp[a * w + b];
            if (v > best || isnan(v)) {
                best = v;
                bi = a * w + b;
            }
        }
    *y = best;
    *arg = bi;
}

void dl_maxpool2d_forward(float *y, int32_t *argmax, const float *x, int n, int c, int h, int w,
                          int k, int stride, int pad, int oh, int ow)
{
    /* outputs [jl, jh) have windows fully inside the image horizontally */
    int jl = (pad + stride - 1) / stride, jh = w + pad - k >= 0 ? (w + pad - k) / stride + 1 : 0;
    if (jh > ow)
        jh = ow;
    if (jl > jh)
        jl = jh;
    for (size_t p = 0; p < (size_t)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * oh * ow;
        int32_t *ap = argmax + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            int h0 = i * stride - pad, h1 = h0 + k;
            if (h0 < 0)
                h0 = 0;
            if (h1 > h)
                h1 = h;
            float *yr = yp + (size_t)i * ow;
            int32_t *ar = ap + (size_t)i * ow;
            for (int j = 0; j < ow; j++) {
                if (j == jl && jl < jh) {
                    j = jh - 1;
                    continue;
                }
                int w0 = j * stride - pad, w1 = w0 + k;
                max_window(yr + j, ar + j, xp, w, h0, h1, w0 < 0 ? 0 : w0, w1 > w ? w : w1);
            }
            if (jl >= jh)
                continue;
            for (int j = jl; j < jh; j++) {
                yr[j] = -INFINITY;
                ar[j] = -1;
            }
            for (int a = h0; a < h1; a++)
                for (int b = 0; b < k; b++) {
                    int32_t idx0 = a * w + jl * stride - pad + b;
                    max_tap(yr + jl, ar + jl, xp + idx0, (size_t)(jh - jl), stride, idx0);
                }
        }
    }
}

void dl_maxpool2d_backward(float *dx, const float *dy, const int32_t *argmax, int n, int c, int h,
                           int w, int oh, int ow)
{
    const size_t out_plane = (size_t)oh * ow, in_plane = (size_t)h * w;
    for (size_t p = 0; p < (size_t)n * c; p++) {
        float *dxp = dx + p * in_plane;
        const float *dyp = dy + p * out_plane;
        const int32_t *ap = argmax + p * out_plane;
        for (size_t o = 0; o < out_plane; o++)
            if (ap[o] >= 0)
                dxp[ap[o]] += dyp[o];
    }
}

static int win_start(int i, int in, int out) { return (int)(((long)i * in) / out); }
static int win_end(int i, int in, int out) { return (int)(((long)(i + 1) * in + out - 1) / out); }

void dl_adaptive_avgpool2d_forward(float *y, const float *x, int n, int c, int h, int w, int oh,
                                   int ow)
{
    if (oh == 1 && ow == 1) { /* global pooling (every ResNet head): one vectorised sum per plane */
        const size_t hw = (size_t)h * w;
        for (size_t p = 0; p < (size_t)n * c; p++)
            y[p] = dl_vec_sum(x + p * hw, hw) / (float)hw;
        return;
    }
    for (size_t p = 0; p < (size_t)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            int h0 = win_start(i, h, oh), h1 = win_end(i, h, oh);
            for (int j = 0; j < ow; j++) {
                int w0 = win_start(j, w, ow), w1 = win_end(j, w, ow);
                float s = 0.0f;
                for (int a = h0; a < h1; a++)
                    for (int b = w0; b < w1; b++)
                        s += xp[a * w + b];
                yp[i * ow + j] = s / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

void dl_adaptive_avgpool2d_backward(float *dx, const float *dy, int n, int c, int h, int w, int oh,
                                    int ow)
{
    if (oh == 1 && ow == 1) {
        const size_t hw = (size_t)h * w;
        for (size_t p = 0; p < (size_t)n * c; p++)
            dl_vec_add_scalar(dx + p * hw, hw, dy[p] / (float)hw);
        return;
    }
    for (size_t p = 0; p < (size_t)n * c; p++) {
        float *dxp = dx + p * h * w;
        const float *dyp = dy + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            int h0 = win_start(i, h, oh), h1 = win_end(i, h, oh);
            for (int j = 0; j < ow; j++) {
                int w0 = win_start(j, w, ow), w1 = win_end(j, w, ow);
                float g = dyp[i * ow + j] / (float)((h1 - h0) * (w1 - w0));
                for (int a = h0; a < h1; a++)
                    for (int b = w0; b < w1; b++)
                        dxp[a * w + b] += g;
            }
        }
    }
}

void dl_adaptive_maxpool2d_forward(float *y, int32_t *argmax, const float *x, int n, int c, int h,
                                   int w, int oh, int ow)
{
    for (size_t p = 0; p < (size_t)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * oh * ow;
        int32_t *ap = argmax + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            int h0 = win_start(i, h, oh), h1 = win_end(i, h, oh);
            for (int j = 0; j < ow; j++) {
                int w0 = win_start(j, w, ow), w1 = win_end(j, w, ow);
                max_window(yp + i * ow + j, ap + i * ow + j, xp, w, h0, h1, w0, w1);
            }
        }
    }
}
