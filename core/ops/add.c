/* add: the residual join y = a + b and its backward, which hands dy to both branches
 * (accumulating, so a branch that also feeds elsewhere keeps its other gradient). */
#include "core/ops/ops.h"

void dl_add_forward(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}

void dl_add_backward(float *da, float *db, const float *dy, size_t n)
{
    if (da)
        for (size_t i = 0; i < n; i++)
            da[i] += dy[i];
    if (db)
        for (size_t i = 0; i < n; i++)
            db[i] += dy[i];
}
