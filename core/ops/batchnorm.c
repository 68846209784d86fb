/* batchnorm: batch normalisation over (N, C, HW) laid out NCHW (BatchNorm2d: hw = H*W;
 * BatchNorm1d on (N, C): hw = 1). Train mode normalises with the biased batch variance and moves
 * the running stats by momentum using the unbiased one (PyTorch's rule); eval mode uses the
 * running stats. Per-channel statistics are taken in two passes (mean, then squared deviations)
 * with 16-lane float partial sums per contiguous row (core/ops/vec.h) folded into double, which
 * stays accurate at large N*H*W and keeps the inner loops vectorised. gamma == NULL means 1 and
 * beta == NULL means 0. Refuses nothing; with a single value per channel the running variance takes
 * the biased value. Reference: https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html
 */
#include <math.h>

#include "core/ops/ops.h"

#include "core/ops/vec.h"

/* dx += k1 * dy + k2 * (x - mean) + k3 */
DL_HOT static void row_dx(float *dx, const float *dy, const float *x, int hw, float mean, float k1,
                          float k2, float k3)
{
    for (int j = 0; j < hw; j++)
        dx[j] += k1 * dy[j] + k2 * (x[j] - mean) + k3;
}

/* dx = k1 * dy + k2 * (x - mean) + k3 (a dx buffer that holds nothing yet) */
DL_HOT static void row_dx_set(float *dx, const float *dy, const float *x, int hw, float mean,
                              float k1, float k2, float k3)
{
    for (int j = 0; j < hw; j++)
        dx[j] = k1 * dy[j] + k2 * (x[j] - mean) + k3;
}

/* The fused variants (BN + ReLU, a ConvLayer's tail) share these bodies: relu != 0 clamps in the
 * affine pass and masks dy in the gradient-sum pass, saving a full read+write of the activation
 * (or gradient) per layer; the arithmetic and its order are the unfused sequence's. */
static void forward_train(float *y, float *save_mean, float *save_rstd, float *running_mean,
                          float *running_var, const float *x, const float *gamma, const float *beta,
                          int n, int c, int hw, float momentum, float eps, int relu)
{
    const size_t cnt = (size_t)n * hw, plane = (size_t)c * hw;
    for (int ch = 0; ch < c; ch++) {
        const float *xc = x + (size_t)ch * hw;
        double s = 0.0;
        for (int i = 0; i < n; i++)
            s += dl_vec_sum(xc + i * plane, (size_t)hw);
        const float mean = (float)(s / (double)cnt);
        double q = 0.0;
        for (int i = 0; i < n; i++)
            q += dl_vec_sqdev(xc + i * plane, (size_t)hw, mean);
        const double var = q / (double)cnt;
        const float rstd = (float)(1.0 / sqrt(var + (double)eps));
        if (save_mean)
            save_mean[ch] = mean;
        if (save_rstd)
            save_rstd[ch] = rstd;
        if (running_mean)
            running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
        if (running_var) {
            double unbiased = cnt > 1 ? var * (double)cnt / (double)(cnt - 1) : var;
            running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)unbiased;
        }
        const float g = gamma ? gamma[ch] : 1.0f, bt = beta ? beta[ch] : 0.0f;
        const float scale = g * rstd, shift = bt - mean * scale;
        for (int i = 0; i < n; i++) {
            float *yr = y + (size_t)ch * hw + i * plane;
            if (relu)
                dl_vec_affine_relu(yr, xc + i * plane, (size_t)hw, scale, shift);
            else
                dl_vec_affine(yr, xc + i * plane, (size_t)hw, scale, shift);
        }
    }
}

void dl_batchnorm_forward_train(float *y, float *save_mean, float *save_rstd, float *running_mean,
                                float *running_var, const float *x, const float *gamma,
                                const float *beta, int n, int c, int hw, float momentum, float eps)
{
    forward_train(y, save_mean, save_rstd, running_mean, running_var, x, gamma, beta, n, c, hw,
                  momentum, eps, 0);
}

void dl_batchnorm_relu_forward_train(float *y, float *save_mean, float *save_rstd,
                                     float *running_mean, float *running_var, const float *x,
                                     const float *gamma, const float *beta, int n, int c, int hw,
                                     float momentum, float eps)
{
    forward_train(y, save_mean, save_rstd, running_mean, running_var, x, gamma, beta, n, c, hw,
                  momentum, eps, 1);
}

static void forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                         const float *running_mean, const float *running_var, int n, int c, int hw,
                         float eps, int relu)
{
    const size_t plane = (size_t)c * hw;
    for (int ch = 0; ch < c; ch++) {
        const float rstd = (float)(1.0 / sqrt((double)running_var[ch] + (double)eps));
        const float g = gamma ? gamma[ch] : 1.0f, bt = beta ? beta[ch] : 0.0f;
        const float scale = g * rstd, shift = bt - running_mean[ch] * scale;
        for (int i = 0; i < n; i++) {
            size_t off = (size_t)ch * hw + i * plane;
            if (relu)
                dl_vec_affine_relu(y + off, x + off, (size_t)hw, scale, shift);
            else
                dl_vec_affine(y + off, x + off, (size_t)hw, scale, shift);
        }
    }
}

void dl_batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                               const float *running_mean, const float *running_var, int n, int c,
                               int hw, float eps)
{
    forward_eval(y, x, gamma, beta, running_mean, running_var, n, c, hw, eps, 0);
}

void dl_batchnorm_relu_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                                    const float *running_mean, const float *running_var, int n,
                                    int c, int hw, float eps)
{
    forward_eval(y, x, gamma, beta, running_mean, running_var, n, c, hw, eps, 1);
}

/* With xhat = (x - mean) * rstd and M = N*HW:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * rstd / M * (M * dy - dbeta - xhat * dgamma). */
static void backward(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                     const float *x, const float *save_mean, const float *save_rstd,
                     const float *gamma, int n, int c, int hw, int set)
{
    const size_t cnt = (size_t)n * hw, plane = (size_t)c * hw;
    for (int ch = 0; ch < c; ch++) {
        const float mean = save_mean[ch], rstd = save_rstd[ch];
        double sdy = 0.0, sdyx = 0.0;
        for (int i = 0; i < n; i++) {
            size_t off = (size_t)ch * hw + i * plane;
            float a, b;
            if (y) /* fused ReLU: dy is masked in place by the saved output */
                dl_vec_grad_sums_masked(dy + off, y + off, x + off, (size_t)hw, mean, &a, &b);
            else
                dl_vec_grad_sums(dy + off, x + off, (size_t)hw, mean, &a, &b);
            sdy += a;
            sdyx += b;
        }
        const double sdyxhat = sdyx * rstd;
        if (dbeta)
            dbeta[ch] += (float)sdy;
        if (dgamma)
            dgamma[ch] += (float)sdyxhat;
        if (!dx)
            continue;
        const double g = gamma ? gamma[ch] : 1.0;
        const double inv_m = 1.0 / (double)cnt;
        /* dx = g*rstd*dy - g*rstd/M*sdy - g*rstd^2/M*sdyxhat*(x-mean) */
        const float k1 = (float)(g * rstd);
        const float k3 = (float)(-g * rstd * inv_m * sdy);
        const float k2 = (float)(-g * rstd * rstd * inv_m * sdyxhat);
        for (int i = 0; i < n; i++) {
            size_t off = (size_t)ch * hw + i * plane;
            (set ? row_dx_set : row_dx)(dx + off, dy + off, x + off, hw, mean, k1, k2, k3);
        }
    }
}

void dl_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                           const float *save_mean, const float *save_rstd, const float *gamma,
                           int n, int c, int hw)
{
    /* y == NULL: dy is only read */
    backward(dx, dgamma, dbeta, (float *)dy, NULL, x, save_mean, save_rstd, gamma, n, c, hw, 0);
}

void dl_batchnorm_relu_backward(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                                const float *x, const float *save_mean, const float *save_rstd,
                                const float *gamma, int n, int c, int hw)
{
    backward(dx, dgamma, dbeta, dy, y, x, save_mean, save_rstd, gamma, n, c, hw, 0);
}

void dl_batchnorm_backward_set(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                               const float *x, const float *save_mean, const float *save_rstd,
                               const float *gamma, int n, int c, int hw)
{
    backward(dx, dgamma, dbeta, dy, y, x, save_mean, save_rstd, gamma, n, c, hw, 1);
}
