/* layers: the parameterised leaf nodes (conv2d, batchnorm, linear) over core/ops kernels.
 * Parameters are entry indices into the store passed in the context; a frozen conv/linear gets
 * dw = NULL so its weight-gradient GEMM is skipped (fastai's train_bn keeps BN trainable; the
 * store's dl_params_trainable decides). BN follows PyTorch: momentum 0.1, eps 1e-5, biased
 * variance to normalise, num_batches_tracked += 1 per train forward. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn/nn.h"
#include "core/nn/nn_internal.h"
#include "core/ops/ops.h"
#include "core/ops/vec.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

void *dl_nn_leaf_new(size_t size, const dl_node_vt *vt, const char *name, dl_err *err)
{
    dl_node *nd = calloc(1, size);
    if (!nd) {
        dl_err_set(err, DL_ENOMEM, "out of memory creating layer '%s'", name);
        return NULL;
    }
    nd->vt = vt;
    snprintf(nd->name, sizeof nd->name, "%s", name);
    return nd;
}

long dl_nn_add_param(dl_params *ps, const char *layer, const char *what, int ndim,
                     const int64_t *shape, int group, unsigned flags, dl_err *err)
{
    char full[DL_NAME_MAX + 32];
    snprintf(full, sizeof full, "%s%s%s", layer, *layer ? "." : "", what);
    return dl_params_add(ps, full, ndim, shape, group, flags, err);
}

static long add_buffer(dl_params *ps, const char *layer, const char *what, dl_entry_kind kind,
                       int ndim, const int64_t *shape, dl_err *err)
{
    char full[DL_NAME_MAX + 32];
    snprintf(full, sizeof full, "%s%s%s", layer, *layer ? "." : "", what);
    return dl_params_add_buffer(ps, full, kind, ndim, shape, err);
}

/* gradient pointer of entry i, or NULL when the entry is frozen */
static float *grad_or_null(const dl_params *ps, long i)
{
    return i >= 0 && dl_params_trainable(ps, (size_t)i) ? dl_params_grad(ps, (size_t)i) : NULL;
}

/* the entries' gradients are final: tell the context's hook */
static void grads_done(const dl_nn_ctx *c, long a, long b)
{
    if (!c->grad_ready)
        return;
    if (a >= 0)
        c->grad_ready(c->grad_user, a);
    if (b >= 0)
        c->grad_ready(c->grad_user, b);
}

/* ---- conv2d ------------------------------------------------------------------------------ */
static size_t conv_fold_floats(const dl_nn_conv *cv)
{
    return (size_t)cv->out_c * ((size_t)cv->in_c * cv->k * cv->k + 1);
}

static dl_status conv_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    dl_nn_conv *cv = (dl_nn_conv *)nd;
    if (in[0] != cv->in_c)
        return dl_err_set(err, DL_ESHAPE, "layer '%s': expects %d input channels, got %d", nd->name,
                          cv->in_c, in[0]);
    if (dl_conv2d_cfg_init(&cv->cfg, in[0], in[1], in[2], cv->out_c, cv->k, cv->k, cv->stride,
                           cv->pad) != 0)
        return dl_err_set(err, DL_ESHAPE,
                          "layer '%s': input %dx%d is too small for kernel %d stride %d pad %d",
                          nd->name, in[1], in[2], cv->k, cv->stride, cv->pad);
    memcpy(nd->in, in, sizeof nd->in);
    nd->out[0] = cv->out_c;
    nd->out[1] = cv->cfg.out_h;
    nd->out[2] = cv->cfg.out_w;
    size_t m = (size_t)p->n * dl_nn_numel(nd->out);
    nd->y = dl_nn_take(p, m);
    /* + room for BN-folded weights and bias (eval, dl_nn_conv_bn_eval_forward) after the conv's */
    size_t ws = dl_conv2d_workspace_floats(&cv->cfg) + conv_fold_floats(cv);
    if (ws > p->ws_floats)
        p->ws_floats = ws;
    return DL_OK;
}

static void conv_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    dl_nn_conv *cv = (dl_nn_conv *)nd;
    dl_conv2d_forward(nd->y, x, dl_params_data(c->ps, (size_t)cv->w), NULL, &cv->cfg, c->n, c->ws);
}

static void conv_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    dl_nn_conv *cv = (dl_nn_conv *)nd;
    float *dw = grad_or_null(c->ps, cv->w);
    if (!dx && !dw)
        return;
    dl_conv2d_backward(dx, dw, NULL, dy, x, dl_params_data(c->ps, (size_t)cv->w), &cv->cfg, c->n,
                       c->ws);
    grads_done(c, cv->w, -1);
}

const dl_node_vt dl_nn_conv_vt = {
    "conv2d", conv_plan, conv_forward, conv_backward, NULL, NULL, dl_nn_y_always_reusable, NULL};

dl_node *dl_nn_conv2d(dl_params *ps, const char *name, int in_c, int out_c, int k, int stride,
                      int pad, int group, dl_err *err)
{
    if (in_c < 1 || out_c < 1 || k < 1 || stride < 1 || pad < 0) {
        dl_err_set(err, DL_EINVAL, "layer '%s': bad conv (%d -> %d, k %d, stride %d, pad %d)", name,
                   in_c, out_c, k, stride, pad);
        return NULL;
    }
    dl_nn_conv *cv = dl_nn_leaf_new(sizeof *cv, &dl_nn_conv_vt, name, err);
    if (!cv)
        return NULL;
    cv->in_c = in_c;
    cv->out_c = out_c;
    cv->k = k;
    cv->stride = stride;
    cv->pad = pad;
    int64_t shape[4] = {out_c, in_c, k, k};
    cv->w = dl_nn_add_param(ps, name, "weight", 4, shape, group, 0, err);
    dl_params_set_init(ps, cv->w, DL_INIT_KAIMING_FAN_OUT, 0);
    if (cv->w < 0) {
        free(cv);
        return NULL;
    }
    return &cv->base;
}

/* ---- batchnorm --------------------------------------------------------------------------- */
typedef struct bn_node {
    dl_node base;
    int c;
    bool relu;
    long w, b, rm, rv, nbt;
    float *mean, *rstd; /* (C) saved by the train forward */
    bool have_stats;    /* the last forward was a train forward */
} bn_node;

static dl_status bn_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    bn_node *b = (bn_node *)nd;
    if (in[0] != b->c)
        return dl_err_set(err, DL_ESHAPE, "layer '%s': expects %d channels, got %d", nd->name, b->c,
                          in[0]);
    memcpy(nd->in, in, sizeof nd->in);
    memcpy(nd->out, in, sizeof nd->out);
    size_t m = (size_t)p->n * dl_nn_numel(in);
    nd->y = dl_nn_take(p, m);
    b->mean = dl_nn_take(p, (size_t)b->c);
    b->rstd = dl_nn_take(p, (size_t)b->c);
    return DL_OK;
}

static void bn_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    bn_node *b = (bn_node *)nd;
    dl_params *ps = c->ps;
    int hw = nd->in[1] * nd->in[2];
    const float *g = dl_params_data(ps, (size_t)b->w), *be = dl_params_data(ps, (size_t)b->b);
    float *rm = dl_params_buf(ps, (size_t)b->rm), *rv = dl_params_buf(ps, (size_t)b->rv);
    if (c->train && c->bn_sync) {
        dl_batchnorm_forward_train_sync(nd->y, b->mean, b->rstd, rm, rv, x, g, be, c->n, b->c, hw,
                                        BN_MOMENTUM, BN_EPS, b->relu, c->bn_sync);
        dl_params_ibuf(ps, (size_t)b->nbt)[0] += 1;
    } else if (c->train) { /* a fused ReLU clamps in BN's own output pass */
        (b->relu ? dl_batchnorm_relu_forward_train : dl_batchnorm_forward_train)(
            nd->y, b->mean, b->rstd, rm, rv, x, g, be, c->n, b->c, hw, BN_MOMENTUM, BN_EPS);
        dl_params_ibuf(ps, (size_t)b->nbt)[0] += 1;
    } else {
        (b->relu ? dl_batchnorm_relu_forward_eval
                 : dl_batchnorm_forward_eval)(nd->y, x, g, be, rm, rv, c->n, b->c, hw, BN_EPS);
    }
}

static void bn_backward_mode(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy,
                             bool set)
{
    bn_node *b = (bn_node *)nd;
    float *dg = grad_or_null(c->ps, b->w), *db = grad_or_null(c->ps, b->b);
    const float *g = dl_params_data(c->ps, (size_t)b->w);
    const int hw = nd->in[1] * nd->in[2];
    /* fused ReLU: our own gradient is masked in place inside BN's gradient-sum pass */
    if (c->bn_sync)
        dl_batchnorm_backward_sync(dx, dg, db, dy, b->relu ? nd->y : NULL, x, b->mean, b->rstd, g,
                                   c->n, b->c, hw, set, c->bn_sync);
    else if (set)
        dl_batchnorm_backward_set(dx, dg, db, dy, b->relu ? nd->y : NULL, x, b->mean, b->rstd, g,
                                  c->n, b->c, hw);
    else if (b->relu)
        dl_batchnorm_relu_backward(dx, dg, db, dy, nd->y, x, b->mean, b->rstd, g, c->n, b->c, hw);
    else
        dl_batchnorm_backward(dx, dg, db, dy, x, b->mean, b->rstd, g, c->n, b->c, hw);
    grads_done(c, b->w, b->b);
}

static void bn_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    bn_backward_mode(nd, c, x, dx, dy, false);
}

static void bn_backward_set(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    bn_backward_mode(nd, c, x, dx, dy, true);
}

/* a fused ReLU reads y back in backward */
static bool bn_y_reusable(const dl_node *nd) { return !((const bn_node *)nd)->relu; }

const dl_node_vt dl_nn_bn_vt = {"batchnorm", bn_plan, bn_forward,    bn_backward,
                                NULL,        NULL,    bn_y_reusable, bn_backward_set};

bool dl_nn_conv_bn_eval_forward(dl_node *conv, dl_node *bn, dl_nn_ctx *c, const float *x)
{
    if (c->train || conv->vt != &dl_nn_conv_vt || bn->vt != &dl_nn_bn_vt)
        return false;
    dl_nn_conv *cv = (dl_nn_conv *)conv;
    bn_node *b = (bn_node *)bn;
    if (b->c != cv->out_c)
        return false;
    const dl_params *ps = c->ps;
    const size_t k = (size_t)cv->in_c * cv->k * cv->k, hw = (size_t)cv->cfg.out_h * cv->cfg.out_w;
    const float *w = dl_params_data(ps, (size_t)cv->w), *g = dl_params_data(ps, (size_t)b->w);
    const float *be = dl_params_data(ps, (size_t)b->b);
    const float *rm = dl_params_buf(ps, (size_t)b->rm), *rv = dl_params_buf(ps, (size_t)b->rv);
    float *wf = c->ws + dl_conv2d_workspace_floats(&cv->cfg), *bf = wf + (size_t)cv->out_c * k;
    for (int o = 0; o < cv->out_c; o++) { /* BN eval's own scale and shift (batchnorm.c) */
        const float rstd = (float)(1.0 / sqrt((double)rv[o] + (double)BN_EPS)), scale = g[o] * rstd;
        bf[o] = be[o] - rm[o] * scale;
        for (size_t j = 0; j < k; j++)
            wf[(size_t)o * k + j] = w[(size_t)o * k + j] * scale;
    }
    dl_conv2d_forward(bn->y, x, wf, NULL, &cv->cfg, c->n, c->ws);
    for (int i = 0; i < c->n; i++)
        for (int o = 0; o < cv->out_c; o++) {
            float *p = bn->y + ((size_t)i * cv->out_c + o) * hw;
            if (b->relu)
                dl_vec_affine_relu(p, p, hw, 1.0f, bf[o]);
            else
                dl_vec_add_scalar(p, hw, bf[o]);
        }
    return true;
}

dl_node *dl_nn_batchnorm(dl_params *ps, const char *name, int c, bool fuse_relu, int group,
                         dl_err *err)
{
    bn_node *b = dl_nn_leaf_new(sizeof *b, &dl_nn_bn_vt, name, err);
    if (!b)
        return NULL;
    b->c = c;
    b->relu = fuse_relu;
    int64_t shape[1] = {c};
    b->w = dl_nn_add_param(ps, name, "weight", 1, shape, group, DL_PARAM_NORM, err);
    b->b = b->w < 0 ? -1
                    : dl_nn_add_param(ps, name, "bias", 1, shape, group,
                                      DL_PARAM_NORM | DL_PARAM_BIAS, err);
    b->rm = b->b < 0 ? -1 : add_buffer(ps, name, "running_mean", DL_ENTRY_BUF_F32, 1, shape, err);
    b->rv = b->rm < 0 ? -1 : add_buffer(ps, name, "running_var", DL_ENTRY_BUF_F32, 1, shape, err);
    b->nbt = b->rv < 0
                 ? -1
                 : add_buffer(ps, name, "num_batches_tracked", DL_ENTRY_BUF_I64, 0, shape, err);
    if (b->nbt < 0) {
        free(b);
        return NULL;
    }
    dl_params_set_init(ps, b->w, DL_INIT_ONE, 0); /* bias and running_mean start at 0 */
    dl_params_set_init(ps, b->rv, DL_INIT_ONE, 0);
    return &b->base;
}

/* ---- linear ------------------------------------------------------------------------------ */
typedef struct lin_node {
    dl_node base;
    int in_f, out_f;
    long w, b; /* b = -1: no bias */
} lin_node;

static dl_status lin_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    lin_node *l = (lin_node *)nd;
    if (dl_nn_numel(in) != (size_t)l->in_f)
        return dl_err_set(err, DL_ESHAPE, "layer '%s': expects %d input features, got (%d, %d, %d)",
                          nd->name, l->in_f, in[0], in[1], in[2]);
    memcpy(nd->in, in, sizeof nd->in);
    nd->out[0] = l->out_f;
    nd->out[1] = nd->out[2] = 1;
    size_t m = (size_t)p->n * (size_t)l->out_f;
    nd->y = dl_nn_take(p, m);
    return DL_OK;
}

static void lin_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    lin_node *l = (lin_node *)nd;
    dl_linear_forward(nd->y, x, dl_params_data(c->ps, (size_t)l->w),
                      l->b >= 0 ? dl_params_data(c->ps, (size_t)l->b) : NULL, c->n, l->in_f,
                      l->out_f);
}

static void lin_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    lin_node *l = (lin_node *)nd;
    float *dw = grad_or_null(c->ps, l->w), *db = grad_or_null(c->ps, l->b);
    if (!dx && !dw && !db)
        return;
    dl_linear_backward(dx, dw, db, dy, x, dl_params_data(c->ps, (size_t)l->w), c->n, l->in_f,
                       l->out_f);
    grads_done(c, l->w, l->b);
}

const dl_node_vt dl_nn_linear_vt = {
    "linear", lin_plan, lin_forward, lin_backward, NULL, NULL, dl_nn_y_always_reusable, NULL};

dl_node *dl_nn_linear(dl_params *ps, const char *name, int in_f, int out_f, bool bias, int group,
                      dl_err *err)
{
    if (in_f < 1 || out_f < 1) {
        dl_err_set(err, DL_EINVAL, "layer '%s': bad linear %d -> %d", name, in_f, out_f);
        return NULL;
    }
    lin_node *l = dl_nn_leaf_new(sizeof *l, &dl_nn_linear_vt, name, err);
    if (!l)
        return NULL;
    l->in_f = in_f;
    l->out_f = out_f;
    int64_t shape[2] = {out_f, in_f};
    l->w = dl_nn_add_param(ps, name, "weight", 2, shape, group, 0, err);
    l->b = -1;
    if (l->w >= 0 && bias) {
        int64_t bshape[1] = {out_f};
        l->b = dl_nn_add_param(ps, name, "bias", 1, bshape, group, DL_PARAM_BIAS, err);
        if (l->b < 0)
            l->w = -1;
    }
    if (l->w < 0) {
        free(l);
        return NULL;
    }
    dl_params_set_init(ps, l->w, DL_INIT_TORCH_LINEAR,
                       in_f); /* torch's nn.Linear; a head may change it */
    dl_params_set_init(ps, l->b, DL_INIT_TORCH_LINEAR, in_f);
    return &l->base;
}

/* ---- walking ----------------------------------------------------------------------------- */
bool dl_nn_y_reusable(const dl_node *nd) { return nd->vt->y_reusable && nd->vt->y_reusable(nd); }

bool dl_nn_y_always_reusable(const dl_node *nd)
{
    (void)nd;
    return true;
}

int dl_nn_plan_bn_min_hw(const dl_node *root, char *name, size_t cap)
{
    if (root->vt == &dl_nn_bn_vt) {
        snprintf(name, cap, "%s", root->name);
        return root->in[1] * root->in[2];
    }
    int best = 0;
    char tmp[DL_NAME_MAX];
    for (size_t i = 0; root->vt->child; i++) {
        const dl_node *k = root->vt->child(root, i);
        if (!k) {
            if (!root->vt->child(root, i + 1))
                break;
            continue;
        }
        int v = dl_nn_plan_bn_min_hw(k, tmp, sizeof tmp);
        if (v > 0 && (best == 0 || v < best)) {
            best = v;
            snprintf(name, cap, "%s", tmp);
        }
    }
    return best;
}

void dl_nn_walk_convs(const dl_node *root, dl_nn_conv_visit visit, void *user)
{
    if (root->vt == &dl_nn_conv_vt) {
        const dl_nn_conv *cv = (const dl_nn_conv *)root;
        visit(user, root->name, root->in[0], root->in[1], root->in[2], cv->out_c, cv->k, cv->stride,
              cv->pad);
        return;
    }
    if (!root->vt->child)
        return;
    for (size_t i = 0;; i++) { /* a residual's shortcut may be NULL (identity): stop at two NULLs */
        const dl_node *k = root->vt->child(root, i);
        if (!k) {
            if (!root->vt->child(root, i + 1))
                break;
            continue;
        }
        dl_nn_walk_convs(k, visit, user);
    }
}
