/* learner_preds: the predictions of one validation pass kept in memory, so the interpretation
 * after a fit (dl_learner_get_preds) reuses the pass the fit just made instead of predicting the
 * whole validation set a second time. */
#include <stdlib.h>
#include <string.h>

#include "core/learn/learner_internal.h"

void dl_preds_cache_reset(dl_preds_cache *c, int k)
{
    if (k != c->k) /* capacities count items of k floats */
        c->cap = c->cap_tf = 0;
    c->n = 0;
    c->k = k;
    c->valid = c->failed = false;
}

void dl_preds_cache_free(dl_preds_cache *c)
{
    free(c->logits);
    free(c->tf);
    free(c->ti);
    memset(c, 0, sizeof *c);
}

/* Room for `need` items of `item` bytes in *p (holding *cap); doubles, so a pass reallocates
 * O(log n) times. */
static void *grow(void *p, size_t *cap, size_t need, size_t item, bool *ok)
{
    if (!*ok || need <= *cap)
        return p;
    void *q = realloc(p, need * 2 * item);
    if (!q) {
        *ok = false;
        return p;
    }
    *cap = need * 2;
    return q;
}

void dl_preds_cache_add(dl_preds_cache *c, const dl_batch *b, const float *logits)
{
    const bool multi = b->onehot != NULL;
    const size_t k = (size_t)c->k, need = c->n + (size_t)b->n;
    if (c->n == 0)
        c->multi = multi;
    bool ok = !c->failed && multi == c->multi;
    c->logits = grow(c->logits, &c->cap, need, k * sizeof(float), &ok);
    if (multi)
        c->tf = grow(c->tf, &c->cap_tf, need, k * sizeof(float), &ok);
    else
        c->ti = grow(c->ti, &c->cap_ti, need, sizeof(int32_t), &ok);
    if (!ok) {
        c->failed = true;
        return;
    }
    memcpy(c->logits + c->n * k, logits, (size_t)b->n * k * sizeof *c->logits);
    if (multi)
        memcpy(c->tf + c->n * k, b->onehot, (size_t)b->n * k * sizeof *c->tf);
    else
        memcpy(c->ti + c->n, b->targets, (size_t)b->n * sizeof *c->ti);
    c->n = need;
}

static void *dup(const void *p, size_t bytes)
{
    void *q = malloc(bytes ? bytes : 1);
    if (q && bytes)
        memcpy(q, p, bytes);
    return q;
}

bool dl_preds_cache_copy(dl_preds_cache *dst, const dl_preds_cache *src)
{
    const size_t k = (size_t)src->k;
    dl_preds_cache_free(dst);
    if (!src->valid)
        return false;
    dst->logits = dup(src->logits, src->n * k * sizeof *src->logits);
    if (src->multi)
        dst->tf = dup(src->tf, src->n * k * sizeof *src->tf);
    else
        dst->ti = dup(src->ti, src->n * sizeof *src->ti);
    if (!dst->logits || (src->multi ? !dst->tf : !dst->ti)) {
        dl_preds_cache_free(dst);
        return false;
    }
    dst->n = dst->cap = src->n;
    dst->cap_tf = src->multi ? src->n : 0;
    dst->cap_ti = src->multi ? 0 : src->n;
    dst->k = src->k;
    dst->epoch = src->epoch;
    dst->multi = src->multi;
    dst->weights_id = src->weights_id;
    dst->valid = true;
    return true;
}

dl_status dl_preds_cache_export(const dl_preds_cache *c, float **logits, int32_t **ti, float **tf,
                                int *n, dl_err *err)
{
    const size_t k = (size_t)c->k;
    *logits = dup(c->logits, c->n * k * sizeof **logits);
    *tf = c->multi ? dup(c->tf, c->n * k * sizeof **tf) : NULL;
    *ti = c->multi ? NULL : dup(c->ti, c->n * sizeof **ti);
    if (!*logits || (c->multi ? !*tf : !*ti)) {
        free(*logits);
        free(*tf);
        free(*ti);
        *logits = *tf = NULL;
        *ti = NULL;
        return dl_err_set(err, DL_ENOMEM, "out of memory copying %zu predictions", c->n);
    }
    *n = (int)c->n;
    return DL_OK;
}
