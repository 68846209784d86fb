/* run/stem: adapting a pretrained stem to the data's channels (see stem.h). */
#include "core/run/stem.h"

#include <stdio.h>
#include <string.h>

#include "core/tensor.h"

dl_status dl_stem_adapt(dl_tensor_map *body, int in_channels, char *note, size_t cap, dl_err *err)
{
    note[0] = 0;
    dl_named_tensor *w = NULL;
    for (size_t i = 0; i < body->n; i++)
        if (!strcmp(body->items[i].name, "conv1.weight"))
            w = &body->items[i];
    if (!w || w->ndim != 4 || w->dtype != DL_DTYPE_F32 || w->shape[1] != 1 || in_channels != 3)
        return DL_OK;
    int64_t out = w->shape[0], k = w->shape[2] * w->shape[3];
    float *src = w->data, *dst = dl_alloc_aligned(sizeof(float) * (size_t)(out * 3 * k));
    if (!dst)
        return dl_err_set(err, DL_ENOMEM, "out of memory adapting the pretrained stem");
    /* timm: weight.repeat(1, 3, 1, 1) * (1 / 3) */
    for (int64_t o = 0; o < out; o++)
        for (int c = 0; c < 3; c++)
            for (int64_t j = 0; j < k; j++)
                dst[(o * 3 + c) * k + j] = src[o * k + j] / 3.0f;
    dl_free_aligned(w->data);
    w->data = dst;
    w->shape[1] = 3;
    snprintf(note, cap,
             "pretrained stem had 1 channel: repeated over R,G,B and divided by 3 "
             "(timm's rule), colour kept");
    return DL_OK;
}
