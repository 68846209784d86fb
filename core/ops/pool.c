/* pool: max pooling (padding counts as -inf, argmax saved per output as the input's index within
 * its H*W plane) and adaptive average/max pooling with PyTorch's window rule
 * start = floor(i*H/OH), end = ceil((i+1)*H/OH), so windows may overlap or differ in size.
 * Ties go to the first maximum in scan order and a NaN wins, as in PyTorch's CPU kernels.
 * An output whose window lies entirely in the padding (impossible when pad <= k/2, which PyTorch
 * requires) gets -inf and argmax -1, and passes no gradient.
 * Reference: https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html */
#include <math.h>

#include "core/ops/ops.h"
#include "core/ops/vec.h"

void dl_maxpool2d_forward(float *y, int32_t *argmax, const float *x, int n, int c, int h, int w, int k,
                          int stride, int pad, int oh, int ow)
{
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
            for (int j = 0; j < ow; j++) {
                int w0 = j * stride - pad, w1 = w0 + k;
                if (w0 < 0)
                    w0 = 0;
                if (w1 > w)
                    w1 = w;
                float best = -INFINITY;
                int32_t bi = -1;
                for (int a = h0; a < h1; a++)
                    for (int b = w0; b < w1; b++) {
                        float v = xp[a * w + b];
                        if (v > best || (isnan(v) && !isnan(best))) {
                            best = v;
                            bi = a * w + b;
                        }
                    }
                yp[i * ow + j] = best;
                ap[i * ow + j] = bi;
            }
        }
    }
}

void dl_maxpool2d_backward(float *dx, const float *dy, const int32_t *argmax, int n, int c, int h, int w,
                           int oh, int ow)
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

void dl_adaptive_avgpool2d_forward(float *y, const float *x, int n, int c, int h, int w, int oh, int ow)
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

void dl_adaptive_avgpool2d_backward(float *dx, const float *dy, int n, int c, int h, int w, int oh, int ow)
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

void dl_adaptive_maxpool2d_forward(float *y, int32_t *argmax, const float *x, int n, int c, int h, int w,
                                   int oh, int ow)
{
    for (size_t p = 0; p < (size_t)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * oh * ow;
        int32_t *ap = argmax + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            int h0 = win_start(i, h, oh), h1 = win_end(i, h, oh);
            for (int j = 0; j < ow; j++) {
                int w0 = win_start(j, w, ow), w1 = win_end(j, w, ow);
                float best = -INFINITY;
                int32_t bi = -1;
                for (int a = h0; a < h1; a++)
                    for (int b = w0; b < w1; b++) {
                        float v = xp[a * w + b];
                        if (v > best || (isnan(v) && !isnan(best))) {
                            best = v;
                            bi = a * w + b;
                        }
                    }
                yp[i * ow + j] = best;
                ap[i * ow + j] = bi;
            }
        }
    }
}
