/* nn: layer nodes. A network is a tree of nodes, each with a vtable {plan (the out_shape step:
 * shape inference plus memory), forward, backward, destroy, child}; sequential and residual
 * nodes compose them. Nodes wrap the kernels of core/ops and keep
 * entry indices into the model's parameter store, never pointers, so one tree serves any store
 * layout. Refuses: lazy graphs, autograd, dynamic shapes between plans.
 *
 * Memory: dl_nn_plan walks the tree for one (max batch, C, H, W), hands every node its output
 * buffer y (N, out) and its saved state (BN mean/rstd, pool argmax, dropout mask) from ONE block,
 * and records the largest conv workspace. Composites alias y to their last child (a residual
 * sums into its branch's y when the branch never reads it back). Activation
 * GRADIENTS are not per node: they live only while the backward recursion passes, and at any
 * moment exactly one composite per tree depth is active, so each depth owns one pair of scratch
 * buffers (sized for the largest composite at that depth) that its sequentials ping-pong through.
 * For ResNets that is ~4 gradient buffers instead of one per layer. The walk runs twice (count,
 * then assign) so sizes and pointers agree.
 *
 * Backward convention: backward(nd, c, x, dx, dy): dy (N, out) holds the complete dL/dy and the
 * node MAY OVERWRITE it (fused ReLUs mask it in place); the node ACCUMULATES dL/dx into dx (NULL:
 * not needed). Sequential zeroes each intermediate gradient before the producer's consumer
 * accumulates into it, so fan-out (residuals) needs no special case. */
#ifndef DL_NN_H
#define DL_NN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/params.h"
#include "core/rng.h"

typedef struct dl_bn_sync dl_bn_sync; /* core/ops/ops.h */

/* What every forward/backward needs besides its own node. */
typedef struct dl_nn_ctx {
    dl_params *ps;
    int n;       /* batch size of this call (<= the planned batch) */
    bool train;  /* BN batch statistics + running-stat update, dropout active */
    float *ws;   /* shared conv workspace (dl_nn_planner.ws_floats) */
    dl_rng *rng; /* dropout stream */
    /* non-NULL: train-mode BatchNorm takes its statistics over every replica's slice */
    const dl_bn_sync *bn_sync;
    /* non-NULL: told, after a layer's backward, that its parameter entries' gradients are final
     * (data parallelism starts summing a bucket over the ranks while backward goes on) */
    void (*grad_ready)(void *user, long entry);
    void *grad_user;
} dl_nn_ctx;

#define DL_NN_MAX_DEPTH 16

/* Hands out slices of one activation block; base == NULL means "count only". */
typedef struct dl_nn_planner {
    float *base;
    size_t used;                            /* floats handed out so far (64-byte aligned slices) */
    size_t ws_floats;                       /* max conv workspace seen */
    int n;                                  /* planned (maximum) batch */
    int depth;                              /* depth of the node being planned (root 0) */
    size_t scratch_floats[DL_NN_MAX_DEPTH]; /* per buffer, per depth: max requested */
    float *scratch[DL_NN_MAX_DEPTH][2];     /* assigned in the second pass */
} dl_nn_planner;

float *dl_nn_take(dl_nn_planner *p, size_t floats);
/* A composite at the current depth asks for its gradient scratch pair of `floats` each; the
 * returned pair is valid (non-NULL) in the assigning pass. */
float *const *dl_nn_scratch(dl_nn_planner *p, size_t floats);

typedef struct dl_node dl_node;

typedef struct dl_node_vt {
    const char *kind;
    /* Shape inference + memory: in = per-sample (C, H, W); fills node->out and takes buffers. */
    dl_status (*plan)(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err);
    /* x: (n, in) -> node->y: (n, out) */
    void (*forward)(dl_node *nd, dl_nn_ctx *c, const float *x);
    /* dy (n, out) complete (and clobberable) -> dx += dL/dx (dx may be NULL); parameter grads
     * accumulate in the store */
    void (*backward)(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy);
    void (*destroy)(dl_node *nd); /* frees kind-specific members (not the node); may be NULL */
    dl_node *(*child)(const dl_node *nd,
                      size_t i); /* composites: i-th child or NULL; leaves: NULL */
    /* The layer's own answers, so no other code tests for kinds:
     * y_reusable: its backward never reads its y, so a consumer may overwrite y in place (a
     *   residual sums into it); NULL: no.
     * backward_set: like backward but WRITES dx instead of adding into it, so a sequential needs
     *   no zeroing pass before it; NULL: the sequential zeroes dx and calls backward. */
    bool (*y_reusable)(const dl_node *nd);
    void (*backward_set)(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy);
} dl_node_vt;

struct dl_node {
    const dl_node_vt *vt;
    char name[DL_NAME_MAX]; /* torchvision module path, e.g. "layer2.0.downsample" ("" for the root)
                             */
    int in[3], out[3];      /* per-sample (C, H, W), set by plan; vectors are (F, 1, 1) */
    float *y;               /* (N, out) output, set by plan */
};

static inline size_t dl_nn_numel(const int s[3])
{
    return (size_t)s[0] * (size_t)s[1] * (size_t)s[2];
}

/* ---- leaf nodes; each registers its parameters (in torchvision state_dict order) on creation ---
 */
/* Conv2d without bias (ResNets); name "conv1" registers "conv1.weight". */
dl_node *dl_nn_conv2d(dl_params *ps, const char *name, int in_c, int out_c, int k, int stride,
                      int pad, int group, dl_err *err);
/* BatchNorm (2d or, on (F,1,1), 1d): weight, bias, running_mean, running_var, num_batches_tracked.
 * fuse_relu applies ReLU to the output (torchvision's bn -> relu pairs) at no extra memory. */
dl_node *dl_nn_batchnorm(dl_params *ps, const char *name, int c, bool fuse_relu, int group,
                         dl_err *err);
dl_node *dl_nn_relu(const char *name, dl_err *err);
dl_node *dl_nn_maxpool2d(const char *name, int k, int stride, int pad, dl_err *err);
dl_node *dl_nn_avgpool_global(const char *name, dl_err *err); /* AdaptiveAvgPool2d(1) */
dl_node *dl_nn_concat_pool(const char *name, dl_err *err);    /* [max, avg] -> (2C,1,1) */
dl_node *dl_nn_flatten(const char *name, dl_err *err);        /* (C,H,W) -> (C*H*W,1,1) */
/* Linear on the flattened input; bias optional. */
dl_node *dl_nn_linear(dl_params *ps, const char *name, int in_f, int out_f, bool bias, int group,
                      dl_err *err);
dl_node *dl_nn_dropout(const char *name, float p, dl_err *err);

/* ---- composites -------------------------------------------------------------------------- */
/* An ordered chain; owns its children. */
dl_node *dl_nn_sequential(const char *name, dl_err *err);
dl_status dl_nn_seq_append(dl_node *seq, dl_node *child,
                           dl_err *err); /* takes child (frees it on error) */
size_t dl_nn_seq_len(const dl_node *seq);
dl_node *dl_nn_seq_child(const dl_node *seq, size_t i);
/* relu(branch(x) + shortcut(x)); shortcut NULL = identity. Takes both. */
dl_node *dl_nn_residual(const char *name, dl_node *branch, dl_node *shortcut, dl_err *err);

/* Recursively frees a node and its children. */
void dl_nn_free(dl_node *nd);

/* Plans the whole tree for batch n and input (C,H,W): returns the floats needed (*act) and the
 * workspace (*ws) when base is NULL, assigns pointers when base is the block of that size. */
dl_status dl_nn_plan(dl_node *root, int n, const int in[3], float *base, size_t *act, size_t *ws,
                     dl_err *err);
/* After a plan: the smallest H*W any BatchNorm normalises over (0: none) and that layer's name
 * (train mode needs batch * H*W > 1, as PyTorch insists). */
int dl_nn_plan_bn_min_hw(const dl_node *root, char *name, size_t cap);
/* Calls visit on every leaf conv node's geometry: used by benchmarks to list conv shapes. */
typedef void (*dl_nn_conv_visit)(void *user, const char *name, int in_c, int in_h, int in_w,
                                 int out_c, int k, int stride, int pad);
void dl_nn_walk_convs(const dl_node *root, dl_nn_conv_visit visit, void *user);

#endif
