/* layers_misc: the parameter-free leaves: relu, max pool, global average pool, fastai's concat
 * pool (max first, then average, as AdaptiveConcatPool2d), flatten and dropout. Pools refuse
 * geometries whose output would be empty. Dropout is inverted (scaled at train time) and draws
 * from the context's stream, so a seeded model gives the same masks every run. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/nn/nn.h"
#include "core/nn/nn_internal.h"
#include "core/ops/ops.h"

/* out-shape = in-shape, own y */
static dl_status same_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    memcpy(nd->in, in, sizeof nd->in);
    memcpy(nd->out, in, sizeof nd->out);
    size_t m = (size_t)p->n * dl_nn_numel(in);
    nd->y = dl_nn_take(p, m);
    return DL_OK;
}

/* ---- relu --------------------------------------------------------------------------------- */
static void relu_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    dl_relu_forward(nd->y, x, (size_t)c->n * dl_nn_numel(nd->out));
}

static void relu_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    if (dx)
        dl_relu_backward(dx, dy, nd->y, (size_t)c->n * dl_nn_numel(nd->out));
}

static const dl_node_vt relu_vt = {"relu", same_plan, relu_forward, relu_backward,
                                   NULL,   NULL,      NULL,         NULL};

dl_node *dl_nn_relu(const char *name, dl_err *err)
{
    return dl_nn_leaf_new(sizeof(dl_node), &relu_vt, name, err);
}

/* ---- max pool ----------------------------------------------------------------------------- */
typedef struct mp_node {
    dl_node base;
    int k, stride, pad;
    int32_t *argmax;
} mp_node;

static dl_status mp_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    mp_node *m = (mp_node *)nd;
    int oh = (in[1] + 2 * m->pad - m->k) / m->stride + 1,
        ow = (in[2] + 2 * m->pad - m->k) / m->stride + 1;
    if (in[1] + 2 * m->pad < m->k || in[2] + 2 * m->pad < m->k || oh < 1 || ow < 1)
        return dl_err_set(err, DL_ESHAPE,
                          "layer '%s': input %dx%d is too small for a %d-wide max pool", nd->name,
                          in[1], in[2], m->k);
    memcpy(nd->in, in, sizeof nd->in);
    nd->out[0] = in[0];
    nd->out[1] = oh;
    nd->out[2] = ow;
    size_t sz = (size_t)p->n * dl_nn_numel(nd->out);
    nd->y = dl_nn_take(p, sz);
    m->argmax = (int32_t *)dl_nn_take(p, sz); /* int32 and float have the same size */
    return DL_OK;
}

static void mp_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    mp_node *m = (mp_node *)nd;
    dl_maxpool2d_forward(nd->y, m->argmax, x, c->n, nd->in[0], nd->in[1], nd->in[2], m->k,
                         m->stride, m->pad, nd->out[1], nd->out[2]);
}

static void mp_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    mp_node *m = (mp_node *)nd;
    if (dx)
        dl_maxpool2d_backward(dx, dy, m->argmax, c->n, nd->in[0], nd->in[1], nd->in[2], nd->out[1],
                              nd->out[2]);
}

static const dl_node_vt mp_vt = {"maxpool2d", mp_plan, mp_forward, mp_backward,
                                 NULL,        NULL,    NULL,       NULL};

dl_node *dl_nn_maxpool2d(const char *name, int k, int stride, int pad, dl_err *err)
{
    if (k < 1 || stride < 1 || pad < 0 || 2 * pad > k) {
        dl_err_set(err, DL_EINVAL, "layer '%s': bad max pool (k %d, stride %d, pad %d)", name, k,
                   stride, pad);
        return NULL;
    }
    mp_node *m = dl_nn_leaf_new(sizeof *m, &mp_vt, name, err);
    if (m) {
        m->k = k;
        m->stride = stride;
        m->pad = pad;
    }
    return (dl_node *)m;
}

/* ---- global average pool ----------------------------------------------------------------- */
static dl_status vec_plan(dl_node *nd, dl_nn_planner *p, const int in[3], int features)
{
    memcpy(nd->in, in, sizeof nd->in);
    nd->out[0] = features;
    nd->out[1] = nd->out[2] = 1;
    size_t m = (size_t)p->n * (size_t)features;
    nd->y = dl_nn_take(p, m);
    return DL_OK;
}

static dl_status gap_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    return vec_plan(nd, p, in, in[0]);
}

static void gap_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    dl_adaptive_avgpool2d_forward(nd->y, x, c->n, nd->in[0], nd->in[1], nd->in[2], 1, 1);
}

static void gap_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    if (dx)
        dl_adaptive_avgpool2d_backward(dx, dy, c->n, nd->in[0], nd->in[1], nd->in[2], 1, 1);
}

static const dl_node_vt gap_vt = {"avgpool", gap_plan, gap_forward, gap_backward,
                                  NULL,      NULL,     NULL,        NULL};

dl_node *dl_nn_avgpool_global(const char *name, dl_err *err)
{
    return dl_nn_leaf_new(sizeof(dl_node), &gap_vt, name, err);
}

/* ---- concat pool: per sample [max over HxW (C) | mean over HxW (C)] ----------------------- */
typedef struct cp_node {
    dl_node base;
    float *mx, *av, *dmx,
        *dav; /* (N, C) each: the kernels write planes, we interleave per sample */
    int32_t *argmax;
} cp_node;

static dl_status cp_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    cp_node *cp = (cp_node *)nd;
    size_t m = (size_t)p->n * (size_t)in[0];
    cp->mx = dl_nn_take(p, m);
    cp->av = dl_nn_take(p, m);
    cp->dmx = dl_nn_take(p, m);
    cp->dav = dl_nn_take(p, m);
    cp->argmax = (int32_t *)dl_nn_take(p, m);
    return vec_plan(nd, p, in, 2 * in[0]);
}

static void cp_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    cp_node *cp = (cp_node *)nd;
    int C = nd->in[0];
    dl_adaptive_maxpool2d_forward(cp->mx, cp->argmax, x, c->n, C, nd->in[1], nd->in[2], 1, 1);
    dl_adaptive_avgpool2d_forward(cp->av, x, c->n, C, nd->in[1], nd->in[2], 1, 1);
    for (int i = 0; i < c->n; i++) {
        memcpy(nd->y + (size_t)i * 2 * C, cp->mx + (size_t)i * C, sizeof(float) * (size_t)C);
        memcpy(nd->y + (size_t)i * 2 * C + C, cp->av + (size_t)i * C, sizeof(float) * (size_t)C);
    }
}

static void cp_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    cp_node *cp = (cp_node *)nd;
    if (!dx)
        return;
    int C = nd->in[0];
    for (int i = 0; i < c->n; i++) {
        memcpy(cp->dmx + (size_t)i * C, dy + (size_t)i * 2 * C, sizeof(float) * (size_t)C);
        memcpy(cp->dav + (size_t)i * C, dy + (size_t)i * 2 * C + C, sizeof(float) * (size_t)C);
    }
    dl_maxpool2d_backward(dx, cp->dmx, cp->argmax, c->n, C, nd->in[1], nd->in[2], 1, 1);
    dl_adaptive_avgpool2d_backward(dx, cp->dav, c->n, C, nd->in[1], nd->in[2], 1, 1);
}

static const dl_node_vt cp_vt = {"concat_pool", cp_plan, cp_forward, cp_backward,
                                 NULL,          NULL,    NULL,       NULL};

dl_node *dl_nn_concat_pool(const char *name, dl_err *err)
{
    return dl_nn_leaf_new(sizeof(cp_node), &cp_vt, name, err);
}

/* ---- flatten (a copy: tiny where it is used, and it keeps every node owning its y) -------- */
static dl_status flat_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    return vec_plan(nd, p, in, (int)dl_nn_numel(in));
}

static void flat_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    memcpy(nd->y, x, sizeof(float) * (size_t)c->n * dl_nn_numel(nd->out));
}

static void flat_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    if (dx)
        dl_add_backward(dx, NULL, dy, (size_t)c->n * dl_nn_numel(nd->out));
}

static const dl_node_vt flat_vt = {"flatten", flat_plan, flat_forward, flat_backward,
                                   NULL,      NULL,      NULL,         NULL};

dl_node *dl_nn_flatten(const char *name, dl_err *err)
{
    return dl_nn_leaf_new(sizeof(dl_node), &flat_vt, name, err);
}

/* ---- dropout ------------------------------------------------------------------------------ */
typedef struct drop_node {
    dl_node base;
    float p;
    float *mask;
    bool masked; /* the last forward drew a mask (train mode) */
} drop_node;

static dl_status drop_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    drop_node *d = (drop_node *)nd;
    dl_status st = same_plan(nd, p, in, err);
    d->mask = dl_nn_take(p, (size_t)p->n * dl_nn_numel(in));
    return st;
}

static void drop_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    drop_node *d = (drop_node *)nd;
    size_t m = (size_t)c->n * dl_nn_numel(nd->out);
    d->masked = c->train && d->p > 0.0f;
    if (d->masked)
        dl_dropout_forward(nd->y, d->mask, x, m, d->p, c->rng);
    else
        memcpy(nd->y, x, m * sizeof(float));
}

static void drop_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    drop_node *d = (drop_node *)nd;
    size_t m = (size_t)c->n * dl_nn_numel(nd->out);
    if (!dx)
        return;
    if (d->masked)
        dl_dropout_backward(dx, dy, d->mask, m);
    else
        dl_add_backward(dx, NULL, dy, m);
}

static const dl_node_vt drop_vt = {"dropout", drop_plan, drop_forward, drop_backward,
                                   NULL,      NULL,      NULL,         NULL};

dl_node *dl_nn_dropout(const char *name, float p, dl_err *err)
{
    if (!(p >= 0.0f && p < 1.0f)) {
        dl_err_set(err, DL_EINVAL, "layer '%s': dropout probability %g is not in [0, 1)", name,
                   (double)p);
        return NULL;
    }
    drop_node *d = dl_nn_leaf_new(sizeof *d, &drop_vt, name, err);
    if (d)
        d->p = p;
    return (dl_node *)d;
}
