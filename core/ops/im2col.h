/* im2col: the column transforms behind conv2d (internal to core/ops).
 * im2col lays one image's receptive fields out as a (C*KH*KW, OH*OW) row-major matrix, zero where
 * the window hangs over the padding; col2im is its adjoint and ACCUMULATES into the image, which is
 * what the conv backward's "+=" contract needs. The strided gather/scatter pair serves 1x1 convs
 * with stride > 1 (ResNet downsample), where a full im2col would only copy. Each call handles one
 * image; conv2d places a small tile of images side by side when one image's output is too narrow
 * for an efficient GEMM, never a whole-batch buffer. */
#ifndef DL_OPS_IM2COL_H
#define DL_OPS_IM2COL_H

#include "core/ops/ops.h"

/* ld is the row stride of the column matrix in floats (>= OH*OW): several images can share one
 * matrix side by side, image t in columns [t*OH*OW, (t+1)*OH*OW). */
/* col (C*KH*KW rows, OH*OW used columns) <- x (C, H, W) */
void dl_im2col(float *col, size_t ld, const float *x, const dl_conv2d_cfg *c);
/* dx (C, H, W) += adjoint of im2col applied to col (C*KH*KW, OH*OW). col is scratch and may be
 * clobbered (entries that fall on padding are zeroed on the way). */
void dl_col2im_add(float *dx, float *col, size_t ld, const dl_conv2d_cfg *c);
/* col (C, OH*OW) <- x (C, H, W) sampled at (oh*s, ow*s): a 1x1 kernel without padding */
void dl_strided_gather(float *col, size_t ld, const float *x, const dl_conv2d_cfg *c);
/* dx (C, H, W) += scatter of col (C, OH*OW) to (oh*s, ow*s) */
void dl_strided_scatter_add(float *dx, const float *col, size_t ld, const dl_conv2d_cfg *c);

/* Padded planes for conv2d's shifted-GEMM path (stride 1): plane i of dst starts at dst + i*ld and
 * has rows of width wp; dl_plane_rows_copy writes only the first w floats of each row, so padding
 * zeroed once stays zero; dl_plane_rows_add is its adjoint, reading from a row offset. */
/* dst[i*ld + (r + r0)*wp + c0 + j] = src[(i*h + r)*w + j] for i < planes, r < h, j < w */
void dl_plane_rows_copy(float *dst, size_t ld, int wp, int r0, int c0, const float *src, int planes,
                        int h, int w);
/* dst[(i*h + r)*w + j] = src[i*ld + (r + r0)*wp + c0 + j] */
void dl_plane_rows_crop(float *dst, const float *src, size_t ld, int wp, int r0, int c0, int planes,
                        int h, int w);
/* dst[(i*h + r)*w + j] += src[i*ld + (r + r0)*wp + c0 + j] */
void dl_plane_rows_add(float *dst, const float *src, size_t ld, int wp, int r0, int c0, int planes,
                       int h, int w);

/* Phase planes at stride s > 1 (conv2d's dW from rows): the zero-padded image (pad p) split by
 * row and column residue mod s into s*s sets of planes, so every tap of a strided kernel reads
 * one plane at a constant offset. Padded pixel (r, j) = (ih + p, iw + p) of plane i lands at
 * dst[((r % s) * s + j % s) * planes * ld + i * ld + (r / s) * wp + j / s]; like the row copies,
 * only the image's pixels are written, so padding zeroed once stays zero. */
void dl_phase_planes_copy(float *dst, size_t ld, int wp, int s, int p, const float *src, int planes,
                          int h, int w);

#endif
