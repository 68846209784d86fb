/* loss: cross-entropy over logits and binary cross-entropy with logits, both with mean reduction
 * and fused with their backward (dlogits is WRITTEN, not accumulated: a loss starts the chain).
 * Both are stable for any finite logits: cross-entropy subtracts the row max before exp
 * (log-sum-exp); BCE uses max(x,0) - x*t + log1p(exp(-|x|)) and a sigmoid that never
 * exponentiates a positive number. Sums are in double. A class target outside [0, K) makes the
 * loss NaN (so the learner reports divergence) and that row's gradient zero.
 * Reference: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html */
#include <math.h>

#include "core/ops/ops.h"

double dl_cross_entropy(float *dlogits, const float *logits, const int32_t *targets, int n, int k)
{
    double total = 0.0;
    const double inv_n = 1.0 / (double)n;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        float *dz = dlogits ? dlogits + (size_t)i * k : NULL;
        int t = targets[i];
        if (t < 0 || t >= k) {
            total = NAN;
            if (dz)
                for (int j = 0; j < k; j++)
                    dz[j] = 0.0f;
            continue;
        }
        float mx = z[0];
        for (int j = 1; j < k; j++)
            if (z[j] > mx)
                mx = z[j];
        double se = 0.0;
        for (int j = 0; j < k; j++)
            se += exp((double)z[j] - mx);
        double lse = mx + log(se);
        total += lse - z[t];
        if (dz) {
            for (int j = 0; j < k; j++)
                dz[j] = (float)(exp((double)z[j] - lse) * inv_n);
            dz[t] -= (float)inv_n;
        }
    }
    return total * inv_n;
}

double dl_bce_with_logits(float *dlogits, const float *logits, const float *targets, int n, int k)
{
    const size_t m = (size_t)n * k;
    const double inv_m = 1.0 / (double)m;
    double total = 0.0;
    for (size_t i = 0; i < m; i++) {
        double x = logits[i], t = targets[i];
        double e = exp(-fabs(x)); /* in (0, 1]: never overflows */
        total += (x > 0 ? x : 0.0) - x * t + log1p(e);
        if (dlogits) {
            double sig = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            dlogits[i] = (float)((sig - t) * inv_m);
        }
    }
    return total * inv_m;
}
