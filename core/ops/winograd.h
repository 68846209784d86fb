/* winograd: 3x3 stride-1 pad-1 convolutions as Winograd F(2x2, 3x3) (internal to core/ops).
 * Each 2x2 block of output pixels is computed from a 4x4 input tile with 16 products per
 * (output, input) channel pair instead of 36: 2.25x fewer multiplications. The products are 16
 * GEMMs, one per position of the 4x4 transformed tile: M (OC, tiles) = U (OC, C) x V (C, tiles)
 * (the design of NNPACK and oneDNN). conv2d.c decides per layer whether a conv runs here. */
#ifndef DL_OPS_WINOGRAD_H
#define DL_OPS_WINOGRAD_H

#include <stddef.h>

#include "core/ops/ops.h"

/* The GEMM the 16 products run on (conv2d.c's dispatcher: dllab's or OpenBLAS's), row-major,
 * alpha 1, cblas_sgemm's conventions. */
typedef void (*dl_wino_gemm_fn)(int ta, int tb, int m, int n, int k, const float *a, int lda,
                                const float *b, int ldb, float beta, float *c, int ldc);

/* True for the geometries this file computes: 3x3, stride 1, pad 1 (output size = input size). */
int dl_wino_applies(const dl_conv2d_cfg *c);
/* Images transformed and multiplied together (about DL_WINO_TILES tiles per GEMM; depends only
 * on the geometry, never on the batch) and the workspace floats that takes. */
int dl_wino_group_images(const dl_conv2d_cfg *c);
size_t dl_wino_workspace_floats(const dl_conv2d_cfg *c);
/* y (N, OC, H, W) = conv(x, w); no bias (conv2d.c adds it). */
void dl_wino_forward(float *y, const float *x, const float *w, const dl_conv2d_cfg *c, int n,
                     float *ws, dl_wino_gemm_fn gemm);
/* dx += dL/dx, dw += dL/dw (either may be NULL): the exact adjoints of the forward's transforms,
 * so the gradients are those of the computation the forward ran. */
void dl_wino_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                      const dl_conv2d_cfg *c, int n, float *ws, dl_wino_gemm_fn gemm);

#endif
