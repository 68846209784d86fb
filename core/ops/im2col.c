/* im2col: column transforms for conv2d (see im2col.h). For each kernel tap (c, ki, kj) and
 * output row oh, the valid output columns form one contiguous range [lo, hi): the loops zero the
 * padding parts and copy (stride 1: memcpy) the middle, so there is no per-element bounds test.
 * Refuses nothing: geometry was validated by dl_conv2d_cfg_init. */
#include "core/ops/im2col.h"

#include <string.h>

/* Output columns ow whose input column ow*s - p + kj lies in [0, w). */
static void valid_cols(int kj, const dl_conv2d_cfg *c, int *lo, int *hi)
{
    int s = c->stride, off = c->pad - kj; /* iw = ow*s - off */
    int l = off > 0 ? (off + s - 1) / s : 0;
    int h = (c->in_w - 1 + off) >= 0 ? (c->in_w - 1 + off) / s + 1 : 0;
    if (h > c->out_w)
        h = c->out_w;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

void dl_im2col(float *col, size_t ld, const float *x, const dl_conv2d_cfg *c)
{
    const int oh_n = c->out_h, ow_n = c->out_w, s = c->stride;
    for (int ch = 0; ch < c->in_c; ch++) {
        const float *xc = x + (size_t)ch * c->in_h * c->in_w;
        for (int ki = 0; ki < c->kh; ki++) {
            for (int kj = 0; kj < c->kw; kj++) {
                int lo, hi;
                valid_cols(kj, c, &lo, &hi);
                for (int oh = 0; oh < oh_n; oh++) {
                    float *dst = col + (size_t)oh * ow_n;
                    int ih = oh * s - c->pad + ki;
                    if (ih < 0 || ih >= c->in_h) {
                        memset(dst, 0, sizeof(float) * (size_t)ow_n);
                        continue;
                    }
                    for (int ow = 0; ow < lo; ow++)
                        dst[ow] = 0.0f;
                    if (lo < hi) {
                        /* first valid input element; pointers never leave the image */
                        const float *src = xc + (size_t)ih * c->in_w + (lo * s - c->pad + kj);
                        if (s == 1)
                            memcpy(dst + lo, src, sizeof(float) * (size_t)(hi - lo));
                        else
                            for (int ow = lo; ow < hi; ow++)
                                dst[ow] = src[(size_t)(ow - lo) * s];
                    }
                    for (int ow = hi; ow < ow_n; ow++)
                        dst[ow] = 0.0f;
                }
                col += ld;
            }
        }
    }
}

void dl_col2im_add(float *dx, const float *col, size_t ld, const dl_conv2d_cfg *c)
{
    const int oh_n = c->out_h, ow_n = c->out_w, s = c->stride;
    for (int ch = 0; ch < c->in_c; ch++) {
        float *dxc = dx + (size_t)ch * c->in_h * c->in_w;
        for (int ki = 0; ki < c->kh; ki++) {
            for (int kj = 0; kj < c->kw; kj++) {
                int lo, hi;
                valid_cols(kj, c, &lo, &hi);
                for (int oh = 0; oh < oh_n; oh++) {
                    int ih = oh * s - c->pad + ki;
                    if (ih < 0 || ih >= c->in_h)
                        continue;
                    if (lo >= hi)
                        continue;
                    const float *src = col + (size_t)oh * ow_n + lo;
                    float *dst = dxc + (size_t)ih * c->in_w + (lo * s - c->pad + kj);
                    if (s == 1) {
                        for (int ow = 0; ow < hi - lo; ow++)
                            dst[ow] += src[ow];
                    } else {
                        for (int ow = 0; ow < hi - lo; ow++)
                            dst[(size_t)ow * s] += src[ow];
                    }
                }
                col += ld;
            }
        }
    }
}

void dl_strided_gather(float *col, size_t ld, const float *x, const dl_conv2d_cfg *c)
{
    const int s = c->stride;
    for (int ch = 0; ch < c->in_c; ch++) {
        const float *xc = x + (size_t)ch * c->in_h * c->in_w;
        float *dst = col + ch * ld;
        for (int oh = 0; oh < c->out_h; oh++) {
            const float *src = xc + (size_t)oh * s * c->in_w;
            for (int ow = 0; ow < c->out_w; ow++)
                dst[ow] = src[(size_t)ow * s];
            dst += c->out_w;
        }
    }
}

void dl_strided_scatter_add(float *dx, const float *col, size_t ld, const dl_conv2d_cfg *c)
{
    const int s = c->stride;
    for (int ch = 0; ch < c->in_c; ch++) {
        float *dxc = dx + (size_t)ch * c->in_h * c->in_w;
        const float *src = col + ch * ld;
        for (int oh = 0; oh < c->out_h; oh++) {
            float *dst = dxc + (size_t)oh * s * c->in_w;
            for (int ow = 0; ow < c->out_w; ow++)
                dst[(size_t)ow * s] += src[ow];
            src += c->out_w;
        }
    }
}
