/* ops: pure kernels, forward/backward pairs (llm.c's convention).
 * Argument order: outputs first, then inputs and weights, then dimensions. Kernels never allocate:
 * scratch comes from a caller-owned workspace sized by the *_workspace_floats twin. Every backward
 * ACCUMULATES (+=) into its d* outputs, so fan-out (residuals) needs no special case; a NULL d*
 * pointer means "not needed" (e.g. dw of a frozen conv, dx of the first layer) and is skipped.
 * Layouts are PyTorch's: activations NCHW, conv weights (OC, C, KH, KW), linear weights (OUT, IN).
 * Kernels call cblas_sgemm for the heavy lifting; they are single-threaded apart from BLAS. */
#ifndef DL_OPS_H
#define DL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/* ---- conv2d ------------------------------------------------------------------------------ */
typedef struct dl_conv2d_cfg {
    int in_c, in_h, in_w;
    int out_c, kh, kw;
    int stride, pad;
    int out_h, out_w; /* filled by dl_conv2d_cfg_init */
} dl_conv2d_cfg;

/* Fills out_h/out_w; returns 0, or -1 when the geometry is impossible (output < 1). */
int dl_conv2d_cfg_init(dl_conv2d_cfg *c, int in_c, int in_h, int in_w, int out_c, int kh, int kw,
                       int stride, int pad);
/* Floats of scratch the conv needs (im2col per image or tile, never a whole-batch buffer). */
size_t dl_conv2d_workspace_floats(const dl_conv2d_cfg *c);
/* Images per GEMM call: 1, or a small tile when one image's output is too narrow for an
 * efficient GEMM (about 256 columns per call; depends only on the geometry, never on the batch). */
int dl_conv2d_tile_images(const dl_conv2d_cfg *c);
/* y (N, OC, OH, OW) = conv(x (N, C, H, W), w (OC, C, KH, KW)) + b (OC) [b may be NULL]. */
void dl_conv2d_forward(float *y, const float *x, const float *w, const float *b,
                       const dl_conv2d_cfg *c, int n, float *ws);
/* Which GEMM a pass (0 forward, 1 backward data, 2 backward weights) of this conv runs on:
 * "dllab-avx512" (or -avx2, -portable when forced; core/ops/gemm) or "OpenBLAS". */
const char *dl_conv2d_gemm_name(const dl_conv2d_cfg *c, int pass);
/* Which algorithm a pass (0 forward, 1 backward data, 2 backward weights) of the conv runs:
 * "winograd" (F(2x2, 3x3), core/ops/winograd.c: 3x3 stride-1 pad-1 convs where the per-shape rule
 * picks it) or one of the im2col + GEMM flavours: "im2col", "shift" (per-tap GEMMs on a padded
 * plane), "1x1" (the input is the column matrix), "gather" (1x1 strided), and for the weights
 * "rows" (dW from padded planes read in place, dllab's gemm: conv2d.c's ROWS). */
const char *dl_conv2d_algo_name(const dl_conv2d_cfg *c, int pass);
/* Forces every 3x3 stride-1 pad-1 conv onto one algorithm (tests, benches), process-wide, like
 * the environment variable DLLAB_CONV_ALGO=gemm|winograd read at first use; AUTO goes back to
 * the default: the variable's choice when it is set, else the per-shape rule. Never changes the
 * workspace a conv needs. */
typedef enum dl_conv_algo {
    DL_CONV_ALGO_AUTO = 0,
    DL_CONV_ALGO_GEMM,
    DL_CONV_ALGO_WINOGRAD
} dl_conv_algo;
void dl_conv2d_force_algo(dl_conv_algo algo);
/* dx += dL/dx, dw += dL/dw, db += dL/db; any of them may be NULL. */
void dl_conv2d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, const dl_conv2d_cfg *c, int n, float *ws);

/* ---- batch norm (2d: hw = H*W; 1d: hw = 1) ---------------------------------------------- */
/* Train mode: normalises with the biased batch variance; updates running stats with momentum
 * (running = (1-m)*running + m*batch, using the UNBIASED variance for running_var); saves
 * mean (C) and rstd (C) = 1/sqrt(var+eps) for backward. running_* may be NULL. */
void dl_batchnorm_forward_train(float *y, float *save_mean, float *save_rstd, float *running_mean,
                                float *running_var, const float *x, const float *gamma,
                                const float *beta, int n, int c, int hw, float momentum, float eps);
void dl_batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                               const float *running_mean, const float *running_var, int n, int c,
                               int hw, float eps);
/* Backward of the train-mode forward. dx, dgamma, dbeta accumulate; any may be NULL. */
void dl_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                           const float *save_mean, const float *save_rstd, const float *gamma,
                           int n, int c, int hw);
/* Fused BN + ReLU (a ConvLayer's tail): the same results as the BN call followed by
 * dl_relu_forward (resp. dl_relu_mask(dy, y) before dl_batchnorm_backward), one pass fewer over
 * the activation. y in the backward is the fused output; dy is masked in place. */
void dl_batchnorm_relu_forward_train(float *y, float *save_mean, float *save_rstd,
                                     float *running_mean, float *running_var, const float *x,
                                     const float *gamma, const float *beta, int n, int c, int hw,
                                     float momentum, float eps);
void dl_batchnorm_relu_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                                    const float *running_mean, const float *running_var, int n,
                                    int c, int hw, float eps);
void dl_batchnorm_relu_backward(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                                const float *x, const float *save_mean, const float *save_rstd,
                                const float *gamma, int n, int c, int hw);
/* As dl_batchnorm_relu_backward (y != NULL) or dl_batchnorm_backward (y == NULL: dy only read), but
 * dx (not NULL) is WRITTEN, not accumulated: for a caller whose dx buffer holds nothing yet, so it
 * need not zero it first. */
void dl_batchnorm_backward_set(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                               const float *x, const float *save_mean, const float *save_rstd,
                               const float *gamma, int n, int c, int hw);

/* Synchronised BatchNorm (data-parallel replicas normalising over the global batch): every
 * replica holding a slice of the batch calls the same kernels in the same order; `sum` replaces
 * v[0..n) by its total over all replicas (and ranks) before returning. scratch holds at least
 * 2*C+1 doubles of this replica's own. The statistics are the single-replica ones up to the order
 * of the double sums; dgamma/dbeta receive this replica's share only (the gradient reduction adds
 * the shares), while dx uses the global sums. */
typedef struct dl_bn_sync {
    void (*sum)(void *user, double *v, int n);
    void *user;
    double *scratch;
    size_t scratch_cap; /* doubles */
} dl_bn_sync;
void dl_batchnorm_forward_train_sync(float *y, float *save_mean, float *save_rstd,
                                     float *running_mean, float *running_var, const float *x,
                                     const float *gamma, const float *beta, int n, int c, int hw,
                                     float momentum, float eps, int relu, const dl_bn_sync *s);
/* y != NULL: fused ReLU (dy masked in place); set: dx written instead of accumulated. */
void dl_batchnorm_backward_sync(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                                const float *x, const float *save_mean, const float *save_rstd,
                                const float *gamma, int n, int c, int hw, int set,
                                const dl_bn_sync *s);

/* ---- relu ----------------------------------------------------------------------------- */
void dl_relu_forward(float *y, const float *x, size_t n); /* y may equal x */
void dl_relu_backward(float *dx, const float *dy, const float *y,
                      size_t n); /* dx += dy * (y > 0) */
/* dy[i] = y[i] > 0 ? dy[i] : 0, in place (a fused ReLU masking its own incoming gradient) */
void dl_relu_mask(float *dy, const float *y, size_t n);

/* ---- pooling ---------------------------------------------------------------------------- */
/* Max pool; padding counts as -inf. argmax (N*C*OH*OW) records the input index within each plane.
 */
void dl_maxpool2d_forward(float *y, int32_t *argmax, const float *x, int n, int c, int h, int w,
                          int k, int stride, int pad, int oh, int ow);
void dl_maxpool2d_backward(float *dx, const float *dy, const int32_t *argmax, int n, int c, int h,
                           int w, int oh, int ow);
/* Adaptive pools with PyTorch's window rule: start = floor(i*H/OH), end = ceil((i+1)*H/OH). */
void dl_adaptive_avgpool2d_forward(float *y, const float *x, int n, int c, int h, int w, int oh,
                                   int ow);
void dl_adaptive_avgpool2d_backward(float *dx, const float *dy, int n, int c, int h, int w, int oh,
                                    int ow);
void dl_adaptive_maxpool2d_forward(float *y, int32_t *argmax, const float *x, int n, int c, int h,
                                   int w, int oh, int ow);
/* (backward of the adaptive max pool is dl_maxpool2d_backward with the same argmax) */

/* ---- linear ---------------------------------------------------------------------------- */
/* y (N, OUT) = x (N, IN) w^T (OUT, IN) + b (OUT) [b may be NULL] */
void dl_linear_forward(float *y, const float *x, const float *w, const float *b, int n, int in,
                       int out);
void dl_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int n, int in, int out);

/* ---- dropout (inverted: kept values scaled by 1/(1-p)) ---------------------------------- */
/* mask (n floats) holds 0 or 1/(1-p); p == 0 copies x and fills mask with 1. */
void dl_dropout_forward(float *y, float *mask, const float *x, size_t n, float p, dl_rng *rng);
void dl_dropout_backward(float *dx, const float *dy, const float *mask, size_t n);

/* ---- residual add ------------------------------------------------------------------------ */
void dl_add_forward(float *y, const float *a, const float *b, size_t n);
/* y = max(a + b, 0): the torchvision block tail in one pass (same results as add then relu) */
void dl_add_relu_forward(float *y, const float *a, const float *b, size_t n);
/* da += dy, db += dy (either may be NULL) */
void dl_add_backward(float *da, float *db, const float *dy, size_t n);

/* ---- losses (mean reduction), each fused with its backward ------------------------------- */
/* Cross-entropy over logits (N, K) with class targets; writes (not accumulates) dlogits =
 * dL/dlogits when non-NULL; returns the mean loss in double. Stable for |logits| up to any finite
 * size. */
double dl_cross_entropy(float *dlogits, const float *logits, const int32_t *targets, int n, int k);
/* Binary cross-entropy with logits, mean over all N*K elements; targets in [0, 1]. */
double dl_bce_with_logits(float *dlogits, const float *logits, const float *targets, int n, int k);

#endif
