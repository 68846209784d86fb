/* conv2d: 2-D convolution (no groups, no dilation) as im2col + cblas_sgemm over small tiles of
 * images. Per tile, Y (OC, T*OH*OW) = W (OC, C*KH*KW) x col (C*KH*KW, T*OH*OW). T is 1 when one
 * image's output has >= DL_CONV_TILE_COLS pixels; deeper layers with tiny outputs (resnet18@64's
 * 2x2 layer4) put ceil(DL_CONV_TILE_COLS / (OH*OW)) images side by side, because a GEMM only 4
 * columns wide runs at a fifth of the speed (measured 34 vs 155 GFLOP/s). The tile depends only
 * on the geometry, so the workspace does too: it never grows with the batch.
 * Special cases avoid copies: a 1x1 stride-1 unpadded conv with T = 1 multiplies the image in
 * place, a 1x1 strided conv (ResNet's downsample) gathers only the sampled pixels.
 * Backward per tile: dW += dY col^T (beta = 1; with <= 64 output channels dW^T is gathered in the
 * workspace instead and added once per call; skipped when dw is NULL, e.g. a frozen conv), then
 * col = W^T dY and col2im adds it into dx (skipped when dx is NULL); db by summation.
 * Deterministic: no threads of its own, a fixed summation order for a given geometry and batch.
 * Refuses nothing at run time: dl_conv2d_cfg_init validates the geometry and callers size ws
 * with dl_conv2d_workspace_floats.
 * Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html */
#include <cblas.h>
#include <string.h>

#include "core/ops/im2col.h"
#include "core/ops/ops.h"
#include "core/ops/vec.h"

#define DL_CONV_TILE_COLS 256

enum { PLAIN, DIRECT, GATHER }; /* im2col, 1x1 stride-1 (no copy), 1x1 strided (gather) */

int dl_conv2d_tile_images(const dl_conv2d_cfg *c)
{
    int ohw = c->out_h * c->out_w;
    return ohw >= DL_CONV_TILE_COLS ? 1 : (DL_CONV_TILE_COLS + ohw - 1) / ohw;
}

static int conv_kind(const dl_conv2d_cfg *c)
{
    if (c->kh == 1 && c->kw == 1 && c->pad == 0)
        return c->stride == 1 && dl_conv2d_tile_images(c) == 1 ? DIRECT : GATHER;
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

/* Convs with few output channels accumulate dW transposed: OpenBLAS runs the (K, OC) product
 * 10-25 % faster than the (OC, K) one when OC <= 64 (measured: 110 vs 87 GFLOP/s for OC 32,
 * K 288), and one transpose-add per backward call is cheap. */
#define DL_CONV_DWT_MAX_OC 64

static int dw_transposed(const dl_conv2d_cfg *c) { return c->out_c <= DL_CONV_DWT_MAX_OC; }

/* Workspace layout: [columns: K x T*OHW][tile > 1: dY of the tile, OC x T*OHW][dW^T: K x OC]. */
static size_t ws_cols(const dl_conv2d_cfg *c)
{
    const size_t ohw = (size_t)c->out_h * c->out_w, t = (size_t)dl_conv2d_tile_images(c);
    const size_t k = (size_t)c->in_c * c->kh * c->kw;
    if (conv_kind(c) == DIRECT)
        return 0;
    return t == 1 ? k * ohw : (k + (size_t)c->out_c) * t * ohw;
}

size_t dl_conv2d_workspace_floats(const dl_conv2d_cfg *c)
{
    const size_t k = (size_t)c->in_c * c->kh * c->kw;
    return ws_cols(c) + (dw_transposed(c) ? k * (size_t)c->out_c : 0);
}

/* Columns of images x[0..tn) side by side (row stride ld) into ws, or x itself when no copy is
 * needed. */
static const float *columns(const float *x, int tn, size_t ld, const dl_conv2d_cfg *c, int kind, float *ws)
{
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ohw = (size_t)c->out_h * c->out_w;
    if (kind == DIRECT)
        return x;
    for (int t = 0; t < tn; t++) {
        if (kind == GATHER)
            dl_strided_gather(ws + t * ohw, ld, x + t * xs, c);
        else
            dl_im2col(ws + t * ohw, ld, x + t * xs, c);
    }
    return ws;
}

void dl_conv2d_forward(float *y, const float *x, const float *w, const float *b, const dl_conv2d_cfg *c,
                       int n, float *ws)
{
    const int kind = conv_kind(c), tile = dl_conv2d_tile_images(c);
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ys = (size_t)m * ohw;
    float *out = ws + (size_t)k * tile * ohw; /* tile > 1 only */
    for (int i0 = 0; i0 < n; i0 += tile) {
        const int tn = n - i0 < tile ? n - i0 : tile, ld = tn * ohw;
        const float *col = columns(x + i0 * xs, tn, (size_t)ld, c, kind, ws);
        if (tile == 1) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, ohw, k, 1.0f, w, k, col, ohw, 0.0f,
                        y + i0 * ys, ohw);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, ld, k, 1.0f, w, k, col, ld, 0.0f, out, ld);
            for (int t = 0; t < tn; t++)
                for (int o = 0; o < m; o++)
                    memcpy(y + (i0 + t) * ys + (size_t)o * ohw, out + (size_t)o * ld + (size_t)t * ohw,
                           sizeof(float) * (size_t)ohw);
        }
    }
    if (b) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < m; o++)
                dl_vec_add_scalar(y + i * ys + (size_t)o * ohw, (size_t)ohw, b[o]);
    }
}

void dl_conv2d_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                        const dl_conv2d_cfg *c, int n, float *ws)
{
    const int kind = conv_kind(c), tile = dl_conv2d_tile_images(c);
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ys = (size_t)m * ohw;
    float *dyt = ws + (size_t)k * tile * ohw; /* tile > 1 only: dY of the tile as (OC, T*OHW) */
    float *dwt = dw && dw_transposed(c) ? ws + ws_cols(c) : NULL; /* dW^T (K, OC) of this call */
    if (db) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < m; o++)
                db[o] += dl_vec_sum(dy + i * ys + (size_t)o * ohw, (size_t)ohw);
    }
    if (!dx && !dw)
        return;
    for (int i0 = 0; i0 < n; i0 += tile) {
        const int tn = n - i0 < tile ? n - i0 : tile, ld = tn * ohw;
        const float *g = dy + i0 * ys;
        if (tile > 1) {
            for (int t = 0; t < tn; t++)
                for (int o = 0; o < m; o++)
                    memcpy(dyt + (size_t)o * ld + (size_t)t * ohw, dy + (i0 + t) * ys + (size_t)o * ohw,
                           sizeof(float) * (size_t)ohw);
            g = dyt;
        }
        if (dw) {
            const float *col = columns(x + i0 * xs, tn, (size_t)ld, c, kind, ws);
            if (dwt) /* dW^T (K, OC) (=/+=) col (K, T*OHW) x dY^T (T*OHW, OC) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, m, ld, 1.0f, col, ld, g, ld,
                            i0 == 0 ? 0.0f : 1.0f, dwt, m);
            else /* dW (OC, K) += dY (OC, T*OHW) x col^T (T*OHW, K) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, ld, 1.0f, g, ld, col, ld, 1.0f, dw, k);
        }
        if (dx) {
            float *dxi = dx + i0 * xs;
            /* col (K, T*OHW) = W^T (K, OC) x dY (OC, T*OHW); 1x1 stride 1 lands straight in dx */
            if (kind == DIRECT) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ohw, m, 1.0f, w, k, g, ohw, 1.0f, dxi,
                            ohw);
                continue;
            }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ld, m, 1.0f, w, k, g, ld, 0.0f, ws, ld);
            for (int t = 0; t < tn; t++) {
                if (kind == GATHER)
                    dl_strided_scatter_add(dxi + t * xs, ws + (size_t)t * ohw, (size_t)ld, c);
                else
                    dl_col2im_add(dxi + t * xs, ws + (size_t)t * ohw, (size_t)ld, c);
            }
        }
    }
    if (dwt && n > 0)
        for (int o = 0; o < m; o++)
            for (int j = 0; j < k; j++)
                dw[(size_t)o * k + j] += dwt[(size_t)j * m + o];
}
