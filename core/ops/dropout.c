/* dropout: inverted dropout. Each element is kept with probability 1-p and scaled by 1/(1-p),
 * so eval mode needs no rescaling. The mask stores the factor itself (0 or 1/(1-p)), which makes
 * the backward one multiply. Randomness comes only from the caller's dl_rng stream, so a run is
 * reproducible from its seed. p >= 1 drops everything; p <= 0 is the identity. */
#include "core/ops/ops.h"
#include "core/ops/vec.h"

void dl_dropout_forward(float *y, float *mask, const float *x, size_t n, float p, dl_rng *rng)
{
    if (p <= 0.0f) {
        for (size_t i = 0; i < n; i++) {
            y[i] = x[i];
            mask[i] = 1.0f;
        }
        return;
    }
    const float keep = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = dl_rng_uniform(rng) >= p ? keep : 0.0f;
        y[i] = x[i] * mask[i];
    }
}

DL_HOT void dl_dropout_backward(float *dx, const float *dy, const float *mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] += dy[i] * mask[i];
}
