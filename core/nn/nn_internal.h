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

/* A BN node's backward that WRITES dx (not NULL) instead of adding into it: a sequential calls it
 * for a child whose input gradient buffer holds nothing yet, instead of zeroing the buffer first. */
void dl_nn_bn_backward_set(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy);

/* True when nd's backward never reads nd->y, so a consumer may overwrite y in place (conv,
 * linear, BN without fused ReLU; a sequential when its last child is such a node). */
bool dl_nn_y_reusable(const dl_node *nd);

/* calloc's a node of `size` bytes with vt and name set; NULL with err on failure */
void *dl_nn_leaf_new(size_t size, const dl_node_vt *vt, const char *name, dl_err *err);
/* registers "<layer>.<what>" */
long dl_nn_add_param(dl_params *ps, const char *layer, const char *what, int ndim, const int64_t *shape,
                     int group, unsigned flags, dl_err *err);

#endif
