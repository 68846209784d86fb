/* node: the planner and the two composites (sequential, residual). Leaves live in layers*.c.
 * Sequential aliases its y/dy to its last child and zeroes each intermediate gradient right before
 * the consumer accumulates into it (cache-warm, and no whole-block memset per step), ping-ponging
 * through its depth's scratch pair. Residual is torchvision's block tail: relu(branch(x) +
 * shortcut(x)). Refuses empty sequentials and trees deeper than DL_NN_MAX_DEPTH at plan time. */
#include "core/nn/nn.h"
#include "core/nn/nn_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/ops.h"

float *dl_nn_take(dl_nn_planner *p, size_t floats)
{
    size_t off = p->used;
    p->used += (floats + 15) / 16 * 16; /* 64-byte aligned slices */
    return p->base ? p->base + off : NULL;
}

float *const *dl_nn_scratch(dl_nn_planner *p, size_t floats)
{
    if (floats > p->scratch_floats[p->depth])
        p->scratch_floats[p->depth] = floats;
    return p->scratch[p->depth];
}

/* plans a child one level deeper */
static dl_status plan_child(dl_node *k, dl_nn_planner *p, const int in[3], dl_err *err)
{
    if (p->depth + 1 >= DL_NN_MAX_DEPTH)
        return dl_err_set(err, DL_EINVAL, "layer '%s': the network is nested deeper than %d",
                          k->name, DL_NN_MAX_DEPTH);
    p->depth++;
    dl_status st = k->vt->plan(k, p, in, err);
    p->depth--;
    return st;
}

void dl_nn_free(dl_node *nd)
{
    if (!nd)
        return;
    if (nd->vt->destroy)
        nd->vt->destroy(nd);
    free(nd);
}

dl_status dl_nn_plan(dl_node *root, int n, const int in[3], float *base, size_t *act, size_t *ws,
                     dl_err *err)
{
    /* pass 1 (count) sizes the node buffers and the per-depth scratch; pass 2 assigns both, the
     * scratch pairs after the node buffers */
    dl_nn_planner p = {.base = NULL, .n = n};
    dl_status st = root->vt->plan(root, &p, in, err);
    if (st != DL_OK)
        return st;
    size_t nodes = p.used, total = nodes;
    for (int d = 0; d < DL_NN_MAX_DEPTH; d++)
        total += 2 * ((p.scratch_floats[d] + 15) / 16 * 16);
    if (act)
        *act = total;
    if (ws)
        *ws = p.ws_floats;
    if (!base)
        return DL_OK;
    dl_nn_planner q = {.base = base, .n = n};
    size_t off = nodes;
    for (int d = 0; d < DL_NN_MAX_DEPTH; d++) {
        size_t f = (p.scratch_floats[d] + 15) / 16 * 16;
        q.scratch[d][0] = base + off;
        q.scratch[d][1] = base + off + f;
        off += 2 * f;
    }
    return root->vt->plan(root, &q, in, err);
}

/* ---- sequential ------------------------------------------------------------------------- */
typedef struct seq_node {
    dl_node base;
    dl_node **kids;
    size_t n, cap;
    float *scratch[2]; /* this depth's gradient ping-pong pair */
} seq_node;

static dl_status seq_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    seq_node *s = (seq_node *)nd;
    if (s->n == 0)
        return dl_err_set(err, DL_EINVAL, "layer '%s': empty sequential", nd->name);
    memcpy(nd->in, in, sizeof nd->in);
    const int *cur = in;
    size_t inner = 0; /* largest intermediate gradient */
    for (size_t i = 0; i < s->n; i++) {
        dl_status st = plan_child(s->kids[i], p, cur, err);
        if (st != DL_OK)
            return st;
        cur = s->kids[i]->out;
        if (i + 1 < s->n && dl_nn_numel(cur) > inner)
            inner = dl_nn_numel(cur);
    }
    memcpy(nd->out, cur, sizeof nd->out);
    nd->y = s->kids[s->n - 1]->y;
    float *const *sc = dl_nn_scratch(p, (size_t)p->n * inner);
    s->scratch[0] = sc[0];
    s->scratch[1] = sc[1];
    return DL_OK;
}

static void seq_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    seq_node *s = (seq_node *)nd;
    const float *cur = x;
    for (size_t i = 0; i < s->n; i++) {
        if (i + 1 < s->n && dl_nn_conv_bn_eval_forward(s->kids[i], s->kids[i + 1], c, cur)) {
            cur = s->kids[++i]->y; /* evaluation: the BN is folded into the conv */
            continue;
        }
        s->kids[i]->vt->forward(s->kids[i], c, cur);
        cur = s->kids[i]->y;
    }
}

static void seq_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    seq_node *s = (seq_node *)nd;
    float *in = dy;
    for (size_t i = s->n; i-- > 0;) {
        dl_node *k = s->kids[i];
        const float *kx = i ? s->kids[i - 1]->y : x;
        float *out = dx;
        if (i) { /* parity alternates, so out is never the buffer `in` points to */
            out = s->scratch[i & 1];
            if (k->vt->backward_set) { /* the layer writes its dx outright: no zeroing pass */
                k->vt->backward_set(k, c, kx, out, in);
                in = out;
                continue;
            }
            memset(out, 0, sizeof(float) * (size_t)c->n * dl_nn_numel(s->kids[i - 1]->out));
        }
        k->vt->backward(k, c, kx, out, in);
        in = out;
    }
}

static void seq_destroy(dl_node *nd)
{
    seq_node *s = (seq_node *)nd;
    for (size_t i = 0; i < s->n; i++)
        dl_nn_free(s->kids[i]);
    free(s->kids);
}

static dl_node *seq_child(const dl_node *nd, size_t i)
{
    const seq_node *s = (const seq_node *)nd;
    return i < s->n ? s->kids[i] : NULL;
}

/* a sequential's y is its last child's */
static bool seq_y_reusable(const dl_node *nd)
{
    const seq_node *s = (const seq_node *)nd;
    return s->n && dl_nn_y_reusable(s->kids[s->n - 1]);
}

static const dl_node_vt seq_vt = {"sequential", seq_plan,  seq_forward,    seq_backward,
                                  seq_destroy,  seq_child, seq_y_reusable, NULL};

dl_node *dl_nn_sequential(const char *name, dl_err *err)
{
    seq_node *s = calloc(1, sizeof *s);
    if (!s) {
        dl_err_set(err, DL_ENOMEM, "out of memory creating '%s'", name);
        return NULL;
    }
    s->base.vt = &seq_vt;
    snprintf(s->base.name, sizeof s->base.name, "%s", name);
    return &s->base;
}

dl_status dl_nn_seq_append(dl_node *seq, dl_node *child, dl_err *err)
{
    seq_node *s = (seq_node *)seq;
    if (!child)
        return err ? err->code : DL_EINVAL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        dl_node **k = realloc(s->kids, cap * sizeof *k);
        if (!k) {
            dl_nn_free(child);
            return dl_err_set(err, DL_ENOMEM, "out of memory appending to '%s'", seq->name);
        }
        s->kids = k;
        s->cap = cap;
    }
    s->kids[s->n++] = child;
    return DL_OK;
}

size_t dl_nn_seq_len(const dl_node *seq) { return ((const seq_node *)seq)->n; }
dl_node *dl_nn_seq_child(const dl_node *seq, size_t i) { return seq_child(seq, i); }

/* ---- residual ---------------------------------------------------------------------------- */
typedef struct res_node {
    dl_node base;
    dl_node *branch, *shortcut; /* shortcut NULL: identity */
    float *dsc; /* (N, out) the shortcut's copy of d(sum): its backward may clobber it */
} res_node;

static dl_status res_plan(dl_node *nd, dl_nn_planner *p, const int in[3], dl_err *err)
{
    res_node *r = (res_node *)nd;
    memcpy(nd->in, in, sizeof nd->in);
    dl_status st = plan_child(r->branch, p, in, err);
    if (st != DL_OK)
        return st;
    const int *sc = in;
    if (r->shortcut) {
        if ((st = plan_child(r->shortcut, p, in, err)) != DL_OK)
            return st;
        sc = r->shortcut->out;
    }
    if (memcmp(r->branch->out, sc, sizeof nd->out) != 0)
        return dl_err_set(err, DL_ESHAPE,
                          "layer '%s': branch gives (%d, %d, %d) but the shortcut (%d, %d, %d); a "
                          "downsample is needed when channels or stride change",
                          nd->name, r->branch->out[0], r->branch->out[1], r->branch->out[2], sc[0],
                          sc[1], sc[2]);
    memcpy(nd->out, sc, sizeof nd->out);
    size_t m = (size_t)p->n * dl_nn_numel(nd->out);
    /* The sum may overwrite the branch's output when the branch's backward never reads it
     * (torchvision blocks end in a plain BN): one activation buffer less per block. */
    nd->y = dl_nn_y_reusable(r->branch) ? r->branch->y : dl_nn_take(p, m);
    r->dsc = dl_nn_scratch(p, r->shortcut ? m : 0)[0];
    return DL_OK;
}

static void res_forward(dl_node *nd, dl_nn_ctx *c, const float *x)
{
    res_node *r = (res_node *)nd;
    r->branch->vt->forward(r->branch, c, x);
    const float *sc = x;
    if (r->shortcut) {
        r->shortcut->vt->forward(r->shortcut, c, x);
        sc = r->shortcut->y;
    }
    size_t m = (size_t)c->n * dl_nn_numel(nd->out);
    dl_add_relu_forward(nd->y, r->branch->y, sc, m);
}

static void res_backward(dl_node *nd, dl_nn_ctx *c, const float *x, float *dx, float *dy)
{
    res_node *r = (res_node *)nd;
    size_t m = (size_t)c->n * dl_nn_numel(nd->out);
    /* d(sum) = dy * (y > 0), in place: it goes to both paths */
    dl_relu_mask(dy, nd->y, m);
    if (r->shortcut) {
        memcpy(r->dsc, dy, m * sizeof(float));
        r->shortcut->vt->backward(r->shortcut, c, x, dx, r->dsc);
    } else if (dx) {
        dl_add_backward(dx, NULL, dy, m);
    }
    r->branch->vt->backward(r->branch, c, x, dx, dy);
}

static void res_destroy(dl_node *nd)
{
    res_node *r = (res_node *)nd;
    dl_nn_free(r->branch);
    dl_nn_free(r->shortcut);
}

static dl_node *res_child(const dl_node *nd, size_t i)
{
    const res_node *r = (const res_node *)nd;
    return i == 0 ? r->branch : i == 1 ? r->shortcut : NULL;
}

static const dl_node_vt res_vt = {"residual",  res_plan,  res_forward, res_backward,
                                  res_destroy, res_child, NULL,        NULL};

dl_node *dl_nn_residual(const char *name, dl_node *branch, dl_node *shortcut, dl_err *err)
{
    res_node *r = branch ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        if (branch)
            dl_err_set(err, DL_ENOMEM, "out of memory creating '%s'", name);
        dl_nn_free(branch);
        dl_nn_free(shortcut);
        return NULL;
    }
    r->base.vt = &res_vt;
    snprintf(r->base.name, sizeof r->base.name, "%s", name);
    r->branch = branch;
    r->shortcut = shortcut;
    return &r->base;
}
