/* linear: y (N, OUT) = x (N, IN) w^T + b with PyTorch's weight layout w (OUT, IN), all three
 * products through cblas_sgemm; backward accumulates (beta = 1) into dx, dw and db, each skipped
 * when NULL. Refuses nothing (shapes are the caller's plan).
 * Reference: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html */
#include <cblas.h>

#include "core/ops/ops.h"

void dl_linear_forward(float *y, const float *x, const float *w, const float *b, int n, int in,
                       int out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 0.0f, y,
                out);
    if (b)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++)
                y[(size_t)i * out + o] += b[o];
}

void dl_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int n, int in, int out)
{
    if (dx) /* dx (N, IN) += dy (N, OUT) w (OUT, IN) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in,
                    1.0f, dx, in);
    if (dw) /* dw (OUT, IN) += dy^T (OUT, N) x (N, IN) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 1.0f,
                    dw, in);
    if (db)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++)
                db[o] += dy[(size_t)i * out + o];
}
