/* conv2d: 2-D convolution (no groups, no dilation) as im2col + cblas_sgemm, one image at a time.
 * Per image the forward is Y (OC, OH*OW) = W (OC, C*KH*KW) x col (C*KH*KW, OH*OW). Special cases
 * avoid copies: a 1x1 stride-1 unpadded conv multiplies the image directly, a 1x1 strided conv
 * (ResNet's downsample) gathers only the sampled pixels. Backward reuses the one workspace in turn:
 * dW += dY col^T (beta = 1, skipped when dw is NULL, e.g. a frozen conv), then col = W^T dY and
 * col2im adds it into dx. Refuses nothing at run time: dl_conv2d_cfg_init validates the geometry
 * and callers size ws with dl_conv2d_workspace_floats.
 * Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html */
#include <cblas.h>
#include <string.h>

#include "core/ops/im2col.h"
#include "core/ops/ops.h"

enum { PLAIN, DIRECT, GATHER }; /* im2col, 1x1 stride-1 (no copy), 1x1 strided (gather) */

static int conv_kind(const dl_conv2d_cfg *c)
{
    if (c->kh == 1 && c->kw == 1 && c->pad == 0)
        return c->stride == 1 ? DIRECT : GATHER;
    return PLAIN;
}

int dl_conv2d_cfg_init(dl_conv2d_cfg *c, int in_c, int in_h, int in_w, int out_c, int kh, int kw,
                       int stride, int pad)
{
    memset(c, 0, sizeof *c);
    if (in_c < 1 || in_h < 1 || in_w < 1 || out_c < 1 || kh < 1 || kw < 1 || stride < 1 || pad < 0)
        return -1;
    c->in_c = in_c;
    c->in_h = in_h;
    c->in_w = in_w;
    c->out_c = out_c;
    c->kh = kh;
    c->kw = kw;
    c->stride = stride;
    c->pad = pad;
    /* PyTorch: floor((H + 2p - (k-1) - 1) / s) + 1 */
    int nh = in_h + 2 * pad - kh, nw = in_w + 2 * pad - kw;
    if (nh < 0 || nw < 0)
        return -1;
    c->out_h = nh / stride + 1;
    c->out_w = nw / stride + 1;
    return 0;
}

size_t dl_conv2d_workspace_floats(const dl_conv2d_cfg *c)
{
    size_t ohw = (size_t)c->out_h * c->out_w;
    switch (conv_kind(c)) {
    case DIRECT:
        return 0;
    case GATHER:
        return (size_t)c->in_c * ohw;
    default:
        return (size_t)c->in_c * c->kh * c->kw * ohw;
    }
}

/* Columns of image x for this conv: ws filled, or x itself when no copy is needed. */
static const float *columns(const float *x, const dl_conv2d_cfg *c, int kind, float *ws)
{
    if (kind == DIRECT)
        return x;
    if (kind == GATHER)
        dl_strided_gather(ws, x, c);
    else
        dl_im2col(ws, x, c);
    return ws;
}

void dl_conv2d_forward(float *y, const float *x, const float *w, const float *b, const dl_conv2d_cfg *c,
                       int n, float *ws)
{
    const int kind = conv_kind(c);
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ys = (size_t)m * ohw;
    for (int i = 0; i < n; i++) {
        const float *col = columns(x + i * xs, c, kind, ws);
        float *yi = y + i * ys;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, ohw, k, 1.0f, w, k, col, ohw, 0.0f, yi,
                    ohw);
        if (b) {
            for (int o = 0; o < m; o++) {
                float bo = b[o], *row = yi + (size_t)o * ohw;
                for (int j = 0; j < ohw; j++)
                    row[j] += bo;
            }
        }
    }
}

void dl_conv2d_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                        const dl_conv2d_cfg *c, int n, float *ws)
{
    const int kind = conv_kind(c);
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ys = (size_t)m * ohw;
    for (int i = 0; i < n; i++) {
        const float *dyi = dy + i * ys;
        if (db) {
            for (int o = 0; o < m; o++) {
                const float *row = dyi + (size_t)o * ohw;
                float s = 0.0f;
                for (int j = 0; j < ohw; j++)
                    s += row[j];
                db[o] += s;
            }
        }
        if (dw) {
            /* dW (OC, K) += dY_i (OC, OHW) x col_i^T (OHW, K) */
            const float *col = columns(x + i * xs, c, kind, ws);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, ohw, 1.0f, dyi, ohw, col, ohw, 1.0f,
                        dw, k);
        }
        if (dx) {
            float *dxi = dx + i * xs;
            /* col (K, OHW) = W^T (K, OC) x dY_i (OC, OHW); 1x1 stride 1 lands straight in dx */
            float *dst = kind == DIRECT ? dxi : ws;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ohw, m, 1.0f, w, k, dyi, ohw,
                        kind == DIRECT ? 1.0f : 0.0f, dst, ohw);
            if (kind == GATHER)
                dl_strided_scatter_add(dxi, ws, c);
            else if (kind == PLAIN)
                dl_col2im_add(dxi, ws, c);
        }
    }
}
