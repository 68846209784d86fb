/* relu: y = max(x, 0); y may equal x (in place). The backward masks with the saved OUTPUT
 * (y > 0), so it still works after an in-place forward has overwritten x. NaN stays NaN, as in
 * torch.relu. Refuses nothing. */
#include "core/ops/ops.h"
#include "core/ops/vec.h"

DL_HOT void dl_relu_forward(float *y, const float *x, size_t n)
{
    /* x < 0 ? 0 : x keeps NaN (the comparison is false), as torch.relu does */
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

DL_HOT void dl_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

DL_HOT void dl_relu_mask(float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dy[i] = y[i] > 0.0f ? dy[i] : 0.0f; /* a select, not a branch: it vectorises */
}
