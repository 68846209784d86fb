/* batchnorm_sync: BatchNorm over a batch split between data-parallel replicas (--sync-bn). The
 * arithmetic is batchnorm.c's, phase by phase, with each per-channel double sum completed over
 * all replicas through dl_bn_sync.sum between the phases: first the sums of x (and the item
 * count), then the squared deviations from the global mean; in backward the two gradient sums.
 * So a synchronised run computes the single-replica statistics up to summation order. */
#include <math.h>

#include "core/ops/ops.h"

#include "core/ops/vec.h"

void dl_batchnorm_forward_train_sync(float *y, float *save_mean, float *save_rstd,
                                     float *running_mean, float *running_var, const float *x,
                                     const float *gamma, const float *beta, int n, int c, int hw,
                                     float momentum, float eps, int relu, const dl_bn_sync *s)
{
    const size_t plane = (size_t)c * hw;
    double *v = s->scratch;
    for (int ch = 0; ch < c; ch++) {
        const float *xc = x + (size_t)ch * hw;
        double a = 0.0;
        for (int i = 0; i < n; i++)
            a += dl_vec_sum(xc + i * plane, (size_t)hw);
        v[ch] = a;
    }
    v[c] = (double)n * hw;
    s->sum(s->user, v, c + 1);
    const double cnt = v[c];
    for (int ch = 0; ch < c; ch++)
        save_mean[ch] = (float)(v[ch] / cnt);
    for (int ch = 0; ch < c; ch++) {
        const float *xc = x + (size_t)ch * hw;
        double q = 0.0;
        for (int i = 0; i < n; i++)
            q += dl_vec_sqdev(xc + i * plane, (size_t)hw, save_mean[ch]);
        v[ch] = q;
    }
    s->sum(s->user, v, c);
    for (int ch = 0; ch < c; ch++) {
        const float mean = save_mean[ch];
        const double var = v[ch] / cnt;
        const float rstd = (float)(1.0 / sqrt(var + (double)eps));
        save_rstd[ch] = rstd;
        if (running_mean)
            running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
        if (running_var) {
            double unbiased = cnt > 1 ? var * cnt / (cnt - 1) : var;
            running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)unbiased;
        }
        const float g = gamma ? gamma[ch] : 1.0f, bt = beta ? beta[ch] : 0.0f;
        const float scale = g * rstd, shift = bt - mean * scale;
        const float *xc = x + (size_t)ch * hw;
        for (int i = 0; i < n; i++) {
            float *yr = y + (size_t)ch * hw + i * plane;
            if (relu)
                dl_vec_affine_relu(yr, xc + i * plane, (size_t)hw, scale, shift);
            else
                dl_vec_affine(yr, xc + i * plane, (size_t)hw, scale, shift);
        }
    }
}

void dl_batchnorm_backward_sync(float *dx, float *dgamma, float *dbeta, float *dy, const float *y,
                                const float *x, const float *save_mean, const float *save_rstd,
                                const float *gamma, int n, int c, int hw, int set,
                                const dl_bn_sync *s)
{
    const size_t plane = (size_t)c * hw;
    double *v = s->scratch;
    for (int ch = 0; ch < c; ch++) {
        const float mean = save_mean[ch];
        double sdy = 0.0, sdyx = 0.0;
        for (int i = 0; i < n; i++) {
            size_t off = (size_t)ch * hw + i * plane;
            float a, b;
            if (y)
                dl_vec_grad_sums_masked(dy + off, y + off, x + off, (size_t)hw, mean, &a, &b);
            else
                dl_vec_grad_sums(dy + off, x + off, (size_t)hw, mean, &a, &b);
            sdy += a;
            sdyx += b;
        }
        v[2 * ch] = sdy;
        v[2 * ch + 1] = sdyx;
        /* this replica's share of the parameter gradients: the replicas' shares are summed later */
        if (dbeta)
            dbeta[ch] += (float)sdy;
        if (dgamma)
            dgamma[ch] += (float)(sdyx * save_rstd[ch]);
    }
    v[2 * c] = (double)n * hw;
    s->sum(s->user, v, 2 * c + 1);
    if (!dx)
        return;
    const double inv_m = 1.0 / v[2 * c];
    for (int ch = 0; ch < c; ch++) {
        const float mean = save_mean[ch], rstd = save_rstd[ch];
        const double sdy = v[2 * ch], sdyxhat = v[2 * ch + 1] * rstd;
        const double g = gamma ? gamma[ch] : 1.0;
        const float k1 = (float)(g * rstd);
        const float k3 = (float)(-g * rstd * inv_m * sdy);
        const float k2 = (float)(-g * rstd * rstd * inv_m * sdyxhat);
        for (int i = 0; i < n; i++) {
            size_t off = (size_t)ch * hw + i * plane;
            float *d = dx + off;
            const float *dyr = dy + off, *xr = x + off;
            if (set)
                for (int j = 0; j < hw; j++)
                    d[j] = k1 * dyr[j] + k2 * (xr[j] - mean) + k3;
            else
                for (int j = 0; j < hw; j++)
                    d[j] += k1 * dyr[j] + k2 * (xr[j] - mean) + k3;
        }
    }
}
