/* run/stem: a pretrained body's first convolution made to take the images' channel count, as
 * timm's adapt_input_conv does: fine-tuning RGB data from a 1-channel (greyscale) run repeats the
 * single input channel's kernels over R, G and B and divides them by 3, so a grey image still gives
 * the body the activations it was trained on, and colour is kept instead of being dropped
 * (docs/fastai.md §9). */
#ifndef DL_RUN_STEM_H
#define DL_RUN_STEM_H

#include <stddef.h>

#include "core/err.h"
#include "core/tensor_map.h"

/* When body's "conv1.weight" has 1 input channel and in_channels is 3, rewrites it as above and
 * says so in note ("" when nothing changed). Other combinations are left alone. */
dl_status dl_stem_adapt(dl_tensor_map *body, int in_channels, char *note, size_t cap, dl_err *err);

#endif
