/* nn_internal: what the leaf files of core/nn share (not for use outside core/nn). */
#ifndef DL_NN_INTERNAL_H
#define DL_NN_INTERNAL_H

#include "core/nn/nn.h"
#include "core/ops/ops.h"

typedef struct dl_nn_conv {
    dl_node base;
    int in_c, out_c, k, stride, pad;
    long w;              /* entry of "<name>.weight" */
    dl_conv2d_cfg cfg;   /* geometry of the current plan */
} dl_nn_conv;

extern const dl_node_vt dl_nn_conv_vt;
extern const dl_node_vt dl_nn_bn_vt;

/* nd's vt->y_reusable, false when it has none. */
bool dl_nn_y_reusable(const dl_node *nd);
/* A y_reusable for layers whose backward never reads y (conv, linear). */
bool dl_nn_y_always_reusable(const dl_node *nd);

/* calloc's a node of `size` bytes with vt and name set; NULL with err on failure */
void *dl_nn_leaf_new(size_t size, const dl_node_vt *vt, const char *name, dl_err *err);
/* registers "<layer>.<what>" */
long dl_nn_add_param(dl_params *ps, const char *layer, const char *what, int ndim, const int64_t *shape,
                     int group, unsigned flags, dl_err *err);

#endif
