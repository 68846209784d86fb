/* add: the residual join y = a + b (optionally fused with torchvision's block-tail ReLU) and its
 * backward, which hands dy to both branches (accumulating, so a branch that also feeds elsewhere
 * keeps its other gradient). */
#include "core/ops/ops.h"
#include "core/ops/vec.h"

DL_HOT void dl_add_forward(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}

DL_HOT void dl_add_relu_forward(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = a[i] + b[i];
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

void dl_add_backward(float *da, float *db, const float *dy, size_t n)
{
    /* da and db never alias dy (a gradient buffer is never its own input) */
    if (da)
        dl_vec_add(da, dy, n);
    if (db)
        dl_vec_add(db, dy, n);
}
