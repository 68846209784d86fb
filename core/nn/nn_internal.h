/* nn_internal: what the leaf files of core/nn share (not for use outside core/nn). */
#ifndef DL_NN_INTERNAL_H
#define DL_NN_INTERNAL_H

#include "core/nn/nn.h"
#include "core/ops/ops.h"

typedef struct dl_nn_conv {
    dl_node base;
    int in_c, out_c, k, stride, pad;
    long w;            /* entry of "<name>.weight" */
    dl_conv2d_cfg cfg; /* geometry of the current plan */
} dl_nn_conv;

extern const dl_node_vt dl_nn_conv_vt;
extern const dl_node_vt dl_nn_bn_vt;

/* Eval mode, a conv followed by a BN (a sequential's pair): writes the BN's y (ReLU included when
 * the BN fuses it) as ONE conv with the BN folded into its weights and bias, skipping the BN pass;
 * the conv's own y is not written. False (nothing done) when the pair does not qualify. The
 * folded weights live in the shared workspace after the conv's own (conv_plan sizes it). */
bool dl_nn_conv_bn_eval_forward(dl_node *conv, dl_node *bn, dl_nn_ctx *c, const float *x);

/* nd's vt->y_reusable, false when it has none. */
bool dl_nn_y_reusable(const dl_node *nd);
/* A y_reusable for layers whose backward never reads y (conv, linear). */
bool dl_nn_y_always_reusable(const dl_node *nd);

/* calloc's a node of `size` bytes with vt and name set; NULL with err on failure */
void *dl_nn_leaf_new(size_t size, const dl_node_vt *vt, const char *name, dl_err *err);
/* registers "<layer>.<what>" */
long dl_nn_add_param(dl_params *ps, const char *layer, const char *what, int ndim,
                     const int64_t *shape, int group, unsigned flags, dl_err *err);

#endif
