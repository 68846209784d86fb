/* im2col: column transforms for conv2d (see im2col.h). For each kernel tap (c, ki, kj) and
 * output row oh, the valid output columns form one contiguous range [lo, hi): the loops zero the
 * padding parts and copy (stride 1: memcpy) the middle, so there is no per-element bounds test.
 * Refuses nothing: geometry was validated by dl_conv2d_cfg_init. */
#include "core/ops/im2col.h"

#include <string.h>

#include "core/ops/vec.h"

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

/* The fast path for stride 1 with out_w == in_w ("same" convs: 3x3 pad 1, 7x7 pad 3): then
 * column j = oh*W + ow of a tap reads input element j + d with one constant d, so all rows of
 * the tap form one contiguous range [j0, j1) and the tap is a single long copy (or add) instead
 * of one short call per row. Columns inside the range whose window hangs over the left or right
 * padding wrap onto a neighbouring row; they are zeroed. Returns 0 when the tap touches nothing. */
typedef struct tap_range {
    long j0, j1, d;
    int oh_lo, oh_hi;
} tap_range;

static int same_tap(int ki, int kj, int lo, int hi, const dl_conv2d_cfg *c, tap_range *t)
{
    const int w = c->in_w, p = c->pad;
    t->oh_lo = p - ki > 0 ? p - ki : 0;
    t->oh_hi = c->in_h + p - ki < c->out_h ? c->in_h + p - ki : c->out_h;
    if (t->oh_lo >= t->oh_hi || lo >= hi)
        return 0;
    t->d = (long)(ki - p) * w + (kj - p);
    t->j0 = (long)t->oh_lo * w + lo;
    t->j1 = (long)(t->oh_hi - 1) * w + hi;
    return 1;
}

/* GCC turns a short zeroing loop into a memset call; here the runs are pad (1-3) floats long
 * and there are C*KH*KW*OH of them per image, so the calls cost more than the stores (perf: ~1 %
 * of a resnet-xs step in memset from these rows). Keep them as plain stores. */
#if defined(__GNUC__) && !defined(__clang__)
#define DL_PLAIN_STORES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define DL_PLAIN_STORES
#endif

/* zero the wrapped columns [0, lo) and [hi, W) of rows oh_lo..oh_hi-1 */
DL_PLAIN_STORES static void zero_wrapped(float *row, const tap_range *t, int lo, int hi, int w)
{
    if (lo == 0 && hi == w)
        return;
    for (int oh = t->oh_lo; oh < t->oh_hi; oh++) {
        float *r = row + (size_t)oh * w;
        for (int ow = 0; ow < lo; ow++)
            r[ow] = 0.0f;
        for (int ow = hi; ow < w; ow++)
            r[ow] = 0.0f;
    }
}

static int is_same_stride1(const dl_conv2d_cfg *c) { return c->stride == 1 && c->out_w == c->in_w; }

static void im2col_same(float *col, size_t ld, const float *x, const dl_conv2d_cfg *c)
{
    const size_t ohw = (size_t)c->out_h * c->out_w;
    for (int ch = 0; ch < c->in_c; ch++) {
        const float *xc = x + (size_t)ch * c->in_h * c->in_w;
        for (int ki = 0; ki < c->kh; ki++)
            for (int kj = 0; kj < c->kw; kj++, col += ld) {
                int lo, hi;
                tap_range t;
                valid_cols(kj, c, &lo, &hi);
                if (!same_tap(ki, kj, lo, hi, c, &t)) {
                    memset(col, 0, sizeof(float) * ohw);
                    continue;
                }
                memset(col, 0, sizeof(float) * (size_t)t.j0);
                memcpy(col + t.j0, xc + t.j0 + t.d, sizeof(float) * (size_t)(t.j1 - t.j0));
                memset(col + t.j1, 0, sizeof(float) * (ohw - (size_t)t.j1));
                zero_wrapped(col, &t, lo, hi, c->out_w);
            }
    }
}

static void col2im_same(float *dx, float *col, size_t ld, const dl_conv2d_cfg *c)
{
    for (int ch = 0; ch < c->in_c; ch++) {
        float *dxc = dx + (size_t)ch * c->in_h * c->in_w;
        for (int ki = 0; ki < c->kh; ki++)
            for (int kj = 0; kj < c->kw; kj++, col += ld) {
                int lo, hi;
                tap_range t;
                valid_cols(kj, c, &lo, &hi);
                if (!same_tap(ki, kj, lo, hi, c, &t))
                    continue;
                zero_wrapped(col, &t, lo, hi, c->out_w); /* padding gets no gradient */
                dl_vec_add(dxc + t.j0 + t.d, col + t.j0, (size_t)(t.j1 - t.j0));
            }
    }
}

DL_PLAIN_STORES void dl_im2col(float *col, size_t ld, const float *x, const dl_conv2d_cfg *c)
{
    if (is_same_stride1(c)) {
        im2col_same(col, ld, x, c);
        return;
    }
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
                            dl_vec_gather(dst + lo, src, (size_t)(hi - lo), s);
                    }
                    for (int ow = hi; ow < ow_n; ow++)
                        dst[ow] = 0.0f;
                }
                col += ld;
            }
        }
    }
}

void dl_col2im_add(float *dx, float *col, size_t ld, const dl_conv2d_cfg *c)
{
    if (is_same_stride1(c)) {
        col2im_same(dx, col, ld, c);
        return;
    }
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
                        dl_vec_add(dst, src, (size_t)(hi - lo));
                    } else {
                        dl_vec_scatter_add(dst, src, (size_t)(hi - lo), s);
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
            dl_vec_gather(dst, src, (size_t)c->out_w, s);
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
            dl_vec_scatter_add(dst, src, (size_t)c->out_w, s);
            src += c->out_w;
        }
    }
}

void dl_plane_rows_copy(float *dst, size_t ld, int wp, int r0, int c0, const float *src, int planes,
                        int h, int w)
{
    for (int i = 0; i < planes; i++)
        for (int r = 0; r < h; r++)
            memcpy(dst + i * ld + (size_t)(r + r0) * wp + c0, src + ((size_t)i * h + r) * w,
                   sizeof(float) * (size_t)w);
}

void dl_plane_rows_crop(float *dst, const float *src, size_t ld, int wp, int r0, int c0, int planes,
                        int h, int w)
{
    for (int i = 0; i < planes; i++)
        for (int r = 0; r < h; r++)
            memcpy(dst + ((size_t)i * h + r) * w, src + i * ld + (size_t)(r + r0) * wp + c0,
                   sizeof(float) * (size_t)w);
}

void dl_plane_rows_add(float *dst, const float *src, size_t ld, int wp, int r0, int c0, int planes,
                       int h, int w)
{
    for (int i = 0; i < planes; i++)
        for (int r = 0; r < h; r++)
            dl_vec_add(dst + ((size_t)i * h + r) * w, src + i * ld + (size_t)(r + r0) * wp + c0,
                       (size_t)w);
}

/* The residue of (ih + p) selects a row of s plane sets; within it the columns of residue b are
 * every s-th pixel from the first iw with (iw + p) % s == b, and land side by side. */
void dl_phase_planes_copy(float *dst, size_t ld, int wp, int s, int p, const float *src, int planes,
                          int h, int w)
{
    const size_t phase = (size_t)planes * ld;
    for (int i = 0; i < planes; i++)
        for (int ih = 0; ih < h; ih++) {
            const int r = ih + p;
            float *row = dst + (size_t)(r % s) * s * phase + i * ld + (size_t)(r / s) * wp;
            const float *in = src + ((size_t)i * h + ih) * w;
            for (int b = 0; b < s; b++) {
                const int iw0 = ((b - p) % s + s) % s;
                float *out = row + (size_t)b * phase + (iw0 + p) / s;
                for (int iw = iw0, x = 0; iw < w; iw += s, x++)
                    out[x] = in[iw];
            }
        }
}
