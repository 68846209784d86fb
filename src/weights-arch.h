/* weights-arch: what ResNet a state dict is, for `dllab weights`. Infers the architecture from the
 * key set and shapes (stem kernel, blocks per stage, widths, block kind, head) and names it as the
 * zoo does ("resnet34", or "resnet-custom:basic:1,1,1,1:4,8,16,16:imagenet" when no zoo entry
 * fits), then checks a state dict against a model built with core/models/model.h: keys missing
 * (with num_batches_tracked optional and a missing head expected for transfer), keys unexpected,
 * shapes that differ. Names are expected after dl_weights_rename. */
#ifndef DL_SRC_WEIGHTS_ARCH_H
#define DL_SRC_WEIGHTS_ARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/models/model.h"
#include "core/tensor_map.h"

typedef struct wa_guess {
    char arch[200];
    int in_channels, n_out; /* n_out 1000 when the file has no head */
    dl_head_kind head;
    bool has_head;
} wa_guess;

/* Fills g from the keys of m; false (with the reason in why) when m is not a ResNet dllab knows. */
bool wa_infer(const dl_tensor_map *m, wa_guess *g, char *why, size_t cap);
/* In/out channels and head kind of m as far as they can be read, for building a model of a given
 * arch (defaults: 3 channels, 1000 outputs, torchvision head). */
void wa_io_shape(const dl_tensor_map *m, wa_guess *g);

#define WA_LIST 10
typedef struct wa_report {
    size_t n_expected, n_matched;
    size_t n_missing, n_unexpected, n_shape, n_nbt_missing;
    bool head_missing;
    char missing[WA_LIST][96], unexpected[WA_LIST][96], shape[WA_LIST][160];
} wa_report;

/* Builds arch with g's channels/outputs/head and compares m with its state dict. The built model is
 * returned in *model when model is non-NULL (free with dl_model_free). */
dl_status wa_compare(const dl_tensor_map *m, const char *arch, const wa_guess *g, wa_report *r,
                     dl_model **model, dl_err *err);
/* True when nothing but optional keys (num_batches_tracked, a missing head) differ. */
bool wa_report_ok(const wa_report *r);
bool wa_is_head_key(const char *name);

#endif
