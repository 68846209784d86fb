/* learner_state: bit-exact in-memory copies of the training state (for divergence recovery, the
 * LR finder and load-best) and the checkpoint map (model + optimiser + learner counters).
 * Doubles travel as int64 bit patterns so a restore is exact; so does the schedule, field by
 * field. Refuses maps whose learner section is missing or
 * has the wrong size, naming the key. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/learner_internal.h"

static void *dup_block(const void *src, size_t bytes)
{
    void *p = dl_alloc_aligned(bytes ? bytes : 64);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

void dl_state_copy_free(dl_train_state_copy *c)
{
    dl_free_aligned(c->data);
    dl_free_aligned(c->buf);
    dl_free_aligned(c->s0);
    dl_free_aligned(c->s1);
    dl_free_aligned(c->ibuf);
    free(c->steps);
    memset(c, 0, sizeof *c);
}

dl_status dl_state_copy_take(dl_train_state_copy *c, const dl_learner *l, bool with_opt)
{
    const dl_params *ps = l->ps;
    size_t fb = ps->total * sizeof(float);
    if (!c->data) { /* first take allocates; later takes reuse the blocks */
        c->data = dup_block(ps->data, fb);
        c->buf = dup_block(ps->buf, ps->buf_total * sizeof(float));
        c->ibuf = dup_block(ps->ibuf, ps->ibuf_total * sizeof(int64_t));
        if (!c->data || !c->buf || !c->ibuf)
            return DL_ENOMEM;
    } else {
        memcpy(c->data, ps->data, fb);
        memcpy(c->buf, ps->buf, ps->buf_total * sizeof(float));
        memcpy(c->ibuf, ps->ibuf, ps->ibuf_total * sizeof(int64_t));
    }
    if (with_opt) {
        if (!c->s0) {
            c->s0 = dl_alloc_aligned(fb ? fb : 64);
            c->s1 = dl_alloc_aligned(fb ? fb : 64);
            c->steps = malloc((ps->n ? ps->n : 1) * sizeof *c->steps);
            if (!c->s0 || !c->s1 || !c->steps)
                return DL_ENOMEM;
        }
        memcpy(c->s0, ps->state0, fb);
        memcpy(c->s1, ps->state1, fb);
        memcpy(c->steps, l->opt.step, ps->n * sizeof *c->steps);
        memcpy(c->h, l->opt.h, sizeof c->h);
    }
    c->weights_id = l->weights_id;
    c->valid = true;
    return DL_OK;
}

void dl_state_copy_restore(const dl_train_state_copy *c, dl_learner *l, bool with_opt)
{
    dl_params *ps = l->ps;
    if (!c->valid)
        return;
    memcpy(ps->data, c->data, ps->total * sizeof(float));
    memcpy(ps->buf, c->buf, ps->buf_total * sizeof(float));
    memcpy(ps->ibuf, c->ibuf, ps->ibuf_total * sizeof(int64_t));
    l->weights_id = c->weights_id;
    if (with_opt && c->s0) {
        memcpy(ps->state0, c->s0, ps->total * sizeof(float));
        memcpy(ps->state1, c->s1, ps->total * sizeof(float));
        memcpy(l->opt.step, c->steps, ps->n * sizeof *c->steps);
        memcpy(l->opt.h, c->h, sizeof c->h);
    }
}

/* ---- checkpoint map ---- */

enum {
    I_STEP,
    I_EPOCH /* next epoch to train */,
    I_NEPOCHS,
    I_FROZEN,
    I_SMOOTH_COUNT,
    I_BEST_EPOCH,
    I_WAIT,
    I_PLATEAU_WAIT,
    I_BATCH /* next batch in it */,
    I_EPOCHS_DONE,
    I_N
};
enum { F_SMOOTH_V, F_SMOOTH_BETA, F_SMOOTH_VALUE, F_BEST, F_N };

static int64_t dbits(double d)
{
    int64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double bitsd(int64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* The schedule as int64 words, field by field (a raw struct copy would carry padding and unused
 * phases, making checkpoint bytes depend on stack garbage). */
#define COMBO_WORDS (2 + DL_SCHED_MAX_PHASES + 3 * DL_SCHED_MAX_PHASES)
#define SCHED_WORDS (2 + (DL_MAX_GROUPS + 1) * COMBO_WORDS)

static void put_combo(int64_t *w, const dl_sched_combo *c)
{
    int n = c->n < 0 ? 0 : c->n > DL_SCHED_MAX_PHASES ? DL_SCHED_MAX_PHASES : c->n;
    w[0] = n;
    for (int i = 0; i <= n; i++)
        w[1 + i] = dbits(c->edge[i]);
    for (int i = 0; i < n; i++) {
        w[2 + DL_SCHED_MAX_PHASES + 3 * i] = c->ph[i].kind;
        w[3 + DL_SCHED_MAX_PHASES + 3 * i] = dbits(c->ph[i].start);
        w[4 + DL_SCHED_MAX_PHASES + 3 * i] = dbits(c->ph[i].end);
    }
}

static bool get_combo(const int64_t *w, dl_sched_combo *c)
{
    memset(c, 0, sizeof *c);
    if (w[0] < 0 || w[0] > DL_SCHED_MAX_PHASES)
        return false;
    c->n = (int)w[0];
    for (int i = 0; i <= c->n; i++)
        c->edge[i] = bitsd(w[1 + i]);
    for (int i = 0; i < c->n; i++) {
        c->ph[i].kind = (dl_sched_kind)w[2 + DL_SCHED_MAX_PHASES + 3 * i];
        c->ph[i].start = bitsd(w[3 + DL_SCHED_MAX_PHASES + 3 * i]);
        c->ph[i].end = bitsd(w[4 + DL_SCHED_MAX_PHASES + 3 * i]);
    }
    return true;
}

static void sched_encode(const dl_fit_sched *s, int64_t *w)
{
    memset(w, 0, sizeof(int64_t) * SCHED_WORDS);
    w[0] = s->n_groups;
    w[1] = s->has_mom;
    for (int g = 0; g < s->n_groups && g < DL_MAX_GROUPS; g++)
        put_combo(w + 2 + g * COMBO_WORDS, &s->lr[g]);
    if (s->has_mom)
        put_combo(w + 2 + DL_MAX_GROUPS * COMBO_WORDS, &s->mom);
}

static bool sched_decode(const int64_t *w, dl_fit_sched *s)
{
    memset(s, 0, sizeof *s);
    if (w[0] < 1 || w[0] > DL_MAX_GROUPS)
        return false;
    s->n_groups = (int)w[0];
    s->has_mom = w[1] != 0;
    for (int g = 0; g < s->n_groups; g++)
        if (!get_combo(w + 2 + g * COMBO_WORDS, &s->lr[g]))
            return false;
    return !s->has_mom || get_combo(w + 2 + DL_MAX_GROUPS * COMBO_WORDS, &s->mom);
}

dl_status dl_learner_state_to_map(const dl_learner *l, dl_tensor_map *out, dl_err *err)
{
    dl_status st = dl_model_state_dict(l->model, out, err);
    if (st == DL_OK)
        st = dl_optim_state_to_map(&l->opt, out, err);
    if (st != DL_OK)
        return st;
    int64_t iv[I_N] = {0};
    iv[I_STEP] = (int64_t)l->step;
    iv[I_EPOCH] = l->ckpt_epoch;
    iv[I_NEPOCHS] = l->n_epochs;
    iv[I_FROZEN] = l->frozen_to;
    iv[I_SMOOTH_COUNT] = l->smooth.count;
    iv[I_BEST_EPOCH] = l->best_epoch;
    iv[I_WAIT] = l->wait;
    iv[I_PLATEAU_WAIT] = l->plateau_wait;
    iv[I_BATCH] = l->ckpt_batch;
    iv[I_EPOCHS_DONE] = l->epochs_done;
    int64_t fv[F_N];
    fv[F_SMOOTH_V] = dbits(l->smooth.v);
    fv[F_SMOOTH_BETA] = dbits(l->smooth.beta);
    fv[F_SMOOTH_VALUE] = dbits(l->smooth_value);
    fv[F_BEST] = dbits(l->best);
    int64_t n_i = I_N, n_f = F_N, n_s = SCHED_WORDS;
    int64_t sb[SCHED_WORDS];
    sched_encode(&l->sched, sb);
    st = dl_tensor_map_add(out, "learner.counters", DL_DTYPE_I64, 1, &n_i, iv, err);
    if (st == DL_OK)
        st = dl_tensor_map_add(out, "learner.doubles", DL_DTYPE_I64, 1, &n_f, fv, err);
    if (st == DL_OK)
        st = dl_tensor_map_add(out, "learner.sched", DL_DTYPE_I64, 1, &n_s, sb, err);
    if (st ==
        DL_OK) { /* the dropout stream, so a resumed run draws the masks it would have drawn */
        const dl_rng *r = dl_model_dropout_rng(l->model);
        int64_t n4 = 4, words[4];
        memcpy(words, r->s, sizeof words);
        st = dl_tensor_map_add(out, "learner.rng", DL_DTYPE_I64, 1, &n4, words, err);
    }
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(out, "learner.monitor", l->monitor, err);
    return st;
}

dl_status dl_checkpoint_model_map(const dl_tensor_map *m, dl_tensor_map *out, dl_err *err)
{
    dl_tensor_map_init(out);
    dl_status st = DL_OK;
    for (size_t i = 0; i < m->n && st == DL_OK; i++) {
        const dl_named_tensor *t = &m->items[i];
        if (strncmp(t->name, "opt.", 4) == 0 || strncmp(t->name, "learner.", 8) == 0)
            continue;
        st = dl_tensor_map_add(out, t->name, t->dtype, t->ndim, t->shape, t->data, err);
    }
    for (size_t i = 0; i < m->n_meta && st == DL_OK; i++)
        if (strncmp(m->meta[i].key, "opt.", 4) != 0 && strncmp(m->meta[i].key, "learner.", 8) != 0)
            st = dl_tensor_map_set_meta(out, m->meta[i].key, m->meta[i].value, err);
    if (st != DL_OK)
        dl_tensor_map_free(out);
    return st;
}

static const int64_t *get_i64(const dl_tensor_map *m, const char *name, int64_t n, dl_err *err)
{
    const dl_named_tensor *t = dl_tensor_map_get(m, name);
    if (!t) {
        dl_err_set(err, DL_ENOTFOUND, "checkpoint has no '%s': not a dllab training checkpoint",
                   name);
        return NULL;
    }
    if (t->dtype != DL_DTYPE_I64 || t->ndim != 1 || t->shape[0] != n) {
        dl_err_set(err, DL_EFORMAT, "checkpoint key '%s': expected I64 [%lld]", name, (long long)n);
        return NULL;
    }
    return t->data;
}

dl_status dl_learner_state_from_map(dl_learner *l, const dl_tensor_map *m, dl_err *err)
{
    int64_t n_s = SCHED_WORDS;
    const int64_t *iv = get_i64(m, "learner.counters", I_N, err);
    const int64_t *fv = iv ? get_i64(m, "learner.doubles", F_N, err) : NULL;
    const int64_t *sb = fv ? get_i64(m, "learner.sched", n_s, err) : NULL;
    if (!sb)
        return err ? err->code : DL_EFORMAT;
    dl_fit_sched sched;
    if (!sched_decode(sb, &sched))
        return dl_err_set(err, DL_EFORMAT, "checkpoint key 'learner.sched': not a valid schedule");

    /* The model takes only its own names; the optimiser and learner sections are separate. */
    dl_tensor_map model_sd;
    l->weights_id = ++l->next_weights_id; /* even a failed load may have written some weights */
    dl_status st = dl_checkpoint_model_map(m, &model_sd, err);
    if (st == DL_OK) {
        st = dl_model_load_state_dict(l->model, &model_sd, err);
        dl_tensor_map_free(&model_sd);
    }
    if (st == DL_OK)
        st = dl_optim_state_from_map(&l->opt, m, err);
    if (st != DL_OK)
        return st;
    l->step = (uint64_t)iv[I_STEP];
    l->n_epochs = (int)iv[I_NEPOCHS];
    l->frozen_to = (int)iv[I_FROZEN];
    dl_params_freeze_to(l->ps, l->frozen_to); /* no optimiser clear: the state was just restored */
    l->smooth.count = (long)iv[I_SMOOTH_COUNT];
    l->best_epoch = (int)iv[I_BEST_EPOCH];
    l->wait = (int)iv[I_WAIT];
    l->plateau_wait = (int)iv[I_PLATEAU_WAIT];
    l->smooth.v = bitsd(fv[F_SMOOTH_V]);
    l->smooth.beta = bitsd(fv[F_SMOOTH_BETA]);
    l->smooth_value = bitsd(fv[F_SMOOTH_VALUE]);
    l->best = bitsd(fv[F_BEST]);
    l->sched = sched;
    const int64_t *rw = get_i64(m, "learner.rng", 4, err);
    if (!rw)
        return err ? err->code : DL_EFORMAT;
    memcpy(dl_model_dropout_rng(l->model)->s, rw, sizeof(uint64_t) * 4);
    /* The checkpoint names the next batch to train: (e+1, 0) at the end of epoch e; (e, i+1)
     * when written mid-epoch (stop, save command) after batch i. */
    l->resume_epoch = (int)iv[I_EPOCH];
    l->resume_batch = (int)iv[I_BATCH];
    l->epochs_done = (int)iv[I_EPOCHS_DONE];
    l->sched_loaded = true;
    return DL_OK;
}

int dl_learner_resume_epoch(const dl_learner *l) { return l->resume_epoch; }
int dl_learner_epochs_done(const dl_learner *l) { return l->epochs_done; }

static dl_status save_checkpoint(dl_learner *l, const char *file, bool best, dl_err *err);

dl_status dl_learner_save_checkpoint(dl_learner *l, const char *file, bool best, dl_err *err)
{
    if (!l->store)
        return dl_err_set(err, DL_EINVAL, "no run store attached: cannot save a checkpoint");
    dl_err e = {0};
    dl_status st = save_checkpoint(l, file, best, &e);
    if (st != DL_OK) {
        l->unsaved = true;
        snprintf(l->unsaved_why, sizeof l->unsaved_why, "%s", e.msg);
    } else if (!l->rows_lost) {
        l->unsaved = false; /* this checkpoint holds everything trained so far */
    }
    if (err)
        *err = e;
    return st;
}

static dl_status save_checkpoint(dl_learner *l, const char *file, bool best, dl_err *err)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_status st = dl_learner_state_to_map(l, &m, err);
    char name[64];
    if (!file) {
        snprintf(name, sizeof name, "epoch-%d", l->epochs_done - 1);
        file = name;
    }
    double mon = l->best_epoch == l->row.epoch ? l->best : NAN;
    if (st == DL_OK)
        st = dl_store_checkpoint_save(l->store, l->run_id, file, &m, l->epochs_done - 1,
                                      (int64_t)l->step, mon, best, NULL, 0, err);
    dl_tensor_map_free(&m);
    char text[400];
    if (st == DL_OK)
        snprintf(text, sizeof text, "%.200s%s", file, best ? " (best)" : "");
    else { /* a long message (the store's names the file's path) shortened to its cause:
            * "epoch-3: No space left on device" */
        const char *why = err->msg, *colon = strrchr(why, ':');
        if (strlen(why) > 80 && colon && colon[1] == ' ')
            why = colon + 2;
        snprintf(text, sizeof text, "%.200s: %.150s", file, why);
    }
    dl_learner_emit_event(l, true, false, st == DL_OK ? DL_EV_CHECKPOINT : DL_EV_CHECKPOINT_FAILED,
                          text);
    return st;
}
