/* replicas: N model replicas over one parameter block, one thread each; see replicas.h.
 *
 * A step: the caller publishes the batch and bumps a generation counter; every replica prepares
 * its plan (the only part that can fail), meets the others at a barrier (so a failure stops all
 * of them before any synchronised BatchNorm could wait for a missing peer), runs forward, loss
 * and backward into its own gradient block, meets them again, then sums its chunk of every
 * replica's gradient into the master's block in replica order (so the result never depends on
 * timing). The caller then sums the master's block over the ranks. */
#include "core/learn/replicas.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/learn/dist.h"
#include "core/ops/ops.h"

typedef struct replica {
    struct dl_replicas *owner;
    int k;
    dl_model *m; /* k == 0: the master */
    dl_params *ps;
    float *dlogits;
    size_t dlogits_cap;
    dl_bn_sync sync;
    double loss; /* this part's loss times its share of the global batch */
    dl_status st;
    dl_err err;
    pthread_t th;
    bool started;
} replica;

struct dl_replicas {
    int n;
    replica *r;
    dl_model *master;
    bool sync_bn;
    /* the step being run */
    const dl_batch *b;
    int rank, ranks;
    atomic_bool failed;
    /* the hand-off between the caller and the replica threads */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;
    int n_done;
    bool quit;
    pthread_barrier_t bar;
    /* synchronised BatchNorm: each replica's partial sums, and their total */
    double *slots, *total;
    size_t slot_cap;
    dl_replicas_times times;
    /* overlap (one replica per rank): buckets of the gradient block summed over the ranks as soon
     * as backward has finished them. Parameters are stored in forward order and backward runs
     * backwards, so the finished part is a suffix [off(ready), total) that grows down. */
    bool overlap;
    bool *entry_done; /* per entry: its gradient is final (non-parameters and frozen: always) */
    size_t ready;     /* entries [ready, n) are all done */
    size_t sent_off;  /* floats [sent_off, total) are being summed already */
    size_t bucket;    /* floats per bucket */
};

/* DDP's idea with a smaller bucket: this project's models are small. */
#define BUCKET_FLOATS (256 * 1024)

static void bucket_reset(struct dl_replicas *o)
{
    const dl_params *ps = dl_model_params(o->master);
    for (size_t i = 0; i < ps->n; i++)
        o->entry_done[i] = !dl_params_trainable(ps, i);
    o->ready = ps->n;
    o->sent_off = ps->total;
}

/* offset where entry i's block begins, or the end of the block for i == n */
static size_t entry_off(const dl_params *ps, size_t i)
{
    while (i < ps->n && ps->e[i].kind != DL_ENTRY_PARAM)
        i++;
    return i < ps->n ? ps->e[i].offset : ps->total;
}

static void on_grad_ready(void *user, long entry)
{
    struct dl_replicas *o = user;
    const dl_params *ps = dl_model_params(o->master);
    o->entry_done[entry] = true;
    while (o->ready > 0 && o->entry_done[o->ready - 1])
        o->ready--;
    size_t off = entry_off(ps, o->ready);
    if (o->sent_off - off >= o->bucket) {
        dl_dist_isum_f32(ps->grad + off, o->sent_off - off);
        o->sent_off = off;
    }
}

int dl_replicas_auto(int bs, int ranks, int cores)
{
    if (ranks < 1)
        ranks = 1;
    for (int n = cores; n > 1; n--)
        if (bs % (n * ranks) == 0)
            return n;
    return 1;
}

/* v summed over the replicas of this process (in replica order), then over the ranks */
static void bn_sum(void *user, double *v, int n)
{
    replica *rp = user;
    struct dl_replicas *o = rp->owner;
    if (o->n == 1) {
        dl_dist_sum_f64(v, (size_t)n);
        return;
    }
    memcpy(o->slots + (size_t)rp->k * o->slot_cap, v, (size_t)n * sizeof *v);
    pthread_barrier_wait(&o->bar);
    if (rp->k == 0) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < o->n; k++)
                s += o->slots[(size_t)k * o->slot_cap + (size_t)j];
            o->total[j] = s;
        }
        dl_dist_sum_f64(o->total, (size_t)n);
    }
    pthread_barrier_wait(&o->bar);
    memcpy(v, o->total, (size_t)n * sizeof *v);
}

static double part_loss(const dl_batch *b, int lo, int m, const float *logits, float *dlogits)
{
    int k = b->n_classes;
    return b->onehot ? dl_bce_with_logits(dlogits, logits, b->onehot + (size_t)lo * k, m, k)
                     : dl_cross_entropy(dlogits, logits, b->targets + lo, m, k);
}

/* A different dropout stream for every part of the batch but the first (which keeps the
 * master's, so a checkpoint's saved stream goes on as before), derived from the master's state:
 * reproducible and the same after a resume. */
static void derive_dropout(replica *rp, int part)
{
    dl_rng *src = dl_model_dropout_rng(rp->owner->master), *dst = dl_model_dropout_rng(rp->m);
    if (part == 0)
        return;
    dl_rng_seed(dst, src->s[0] ^ (src->s[1] << 17) ^ src->s[2] ^ (src->s[3] >> 11),
                0x7265706c /* "repl" */, (uint64_t)part);
}

/* forward, loss and backward of this replica's part; then its chunk of the gradient sum */
static void run_part(replica *rp)
{
    struct dl_replicas *o = rp->owner;
    const dl_batch *b = o->b;
    const int parts = o->n * o->ranks, part = o->rank * o->n + rp->k;
    const int lo = (int)((long)b->n * part / parts), hi = (int)((long)b->n * (part + 1) / parts);
    const int m = hi - lo;
    rp->st = m < 1 ? dl_err_set(&rp->err, DL_EINVAL,
                                "replica %d of %d gets no item of a batch of %d", part, parts, b->n)
                   : dl_model_prepare(rp->m, m, b->h, b->w, true, &rp->err);
    size_t need = (size_t)(m > 0 ? m : 1) * (size_t)b->n_classes;
    if (rp->st == DL_OK && need > rp->dlogits_cap) {
        float *p = realloc(rp->dlogits, need * sizeof *p);
        if (!p)
            rp->st = dl_err_set(&rp->err, DL_ENOMEM, "out of memory for replica %d's loss gradient",
                                rp->k);
        else
            rp->dlogits = p, rp->dlogits_cap = need;
    }
    if (rp->st != DL_OK)
        atomic_store(&o->failed, true);
    /* The master's buffers and frozen groups, as DDP broadcasts buffers. Copied before the
     * barrier: past it the master's forward updates its BN running statistics (TSan saw a replica
     * read them half-written when this copy came after it). */
    if (rp->k > 0) {
        const dl_params *mp = dl_model_params(o->master);
        memcpy(rp->ps->buf, mp->buf, mp->buf_total * sizeof(float));
        memcpy(rp->ps->ibuf, mp->ibuf, mp->ibuf_total * sizeof(int64_t));
        memcpy(rp->ps->frozen, mp->frozen, sizeof mp->frozen);
    }
    derive_dropout(rp, part); /* also before: the master's forward draws from its stream */
    pthread_barrier_wait(&o->bar);
    if (atomic_load(&o->failed))
        return;
    const size_t chw = (size_t)b->c * b->h * b->w;
    const float *logits;
    dl_model_forward(rp->m, b->images + (size_t)lo * chw, m, b->h, b->w, true, &logits, NULL);
    double l = part_loss(b, lo, m, logits, rp->dlogits);
    /* the part's mean-loss gradient, weighted by its share: the parts' sum is the batch mean's */
    const float share = (float)m / (float)b->n;
    for (size_t i = 0; i < (size_t)m * b->n_classes; i++)
        rp->dlogits[i] *= share;
    rp->loss = l * (double)m / (double)b->n;
    dl_params_zero_grad(rp->ps);
    dl_model_backward(rp->m, rp->dlogits, NULL);
    pthread_barrier_wait(&o->bar);
}

/* master grad[chunk k] += every other replica's, in replica order */
static void reduce_chunk(replica *rp)
{
    struct dl_replicas *o = rp->owner;
    if (o->n == 1 || atomic_load(&o->failed))
        return;
    const size_t total = o->r[0].ps->total;
    size_t per = (total / (size_t)o->n + 15) / 16 * 16;
    size_t a = per * (size_t)rp->k, z = a + per < total ? a + per : total;
    if (a >= total)
        return;
    float *g = o->r[0].ps->grad;
    for (int k = 1; k < o->n; k++) {
        const float *h = o->r[k].ps->grad;
        for (size_t j = a; j < z; j++)
            g[j] += h[j];
    }
}

static void *worker(void *arg)
{
    replica *rp = arg;
    struct dl_replicas *o = rp->owner;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&o->mu);
        while (o->gen == seen && !o->quit)
            pthread_cond_wait(&o->go, &o->mu);
        if (o->quit) {
            pthread_mutex_unlock(&o->mu);
            return NULL;
        }
        seen = o->gen;
        pthread_mutex_unlock(&o->mu);
        run_part(rp);
        reduce_chunk(rp);
        pthread_mutex_lock(&o->mu);
        o->n_done++;
        pthread_cond_signal(&o->done);
        pthread_mutex_unlock(&o->mu);
    }
}

/* the largest BatchNorm's channel count (its running_mean's size) */
static size_t max_bn_channels(const dl_params *ps)
{
    size_t c = 1;
    for (size_t i = 0; i < ps->n; i++) {
        const char *nm = ps->e[i].name;
        size_t len = strlen(nm);
        if (ps->e[i].kind == DL_ENTRY_BUF_F32 && len >= 12 &&
            !strcmp(nm + len - 12, "running_mean") && ps->e[i].numel > c)
            c = ps->e[i].numel;
    }
    return c;
}

dl_status dl_replicas_create(dl_replicas **out, dl_model *master, int n, bool sync_bn, dl_err *err)
{
    *out = NULL;
    if (n < 1 || n > 1024)
        return dl_err_set(err, DL_EINVAL, "--replicas %d: give 1 to 1024", n);
    struct dl_replicas *o = calloc(1, sizeof *o);
    if (!o || !(o->r = calloc((size_t)n, sizeof *o->r))) {
        free(o);
        return dl_err_set(err, DL_ENOMEM, "out of memory creating %d replicas", n);
    }
    o->n = n;
    o->master = master;
    o->sync_bn = sync_bn;
    o->ranks = 1;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->go, NULL);
    pthread_cond_init(&o->done, NULL);
    pthread_barrier_init(&o->bar, NULL, (unsigned)n);
    dl_params *mp = dl_model_params(master);
    o->slot_cap = 2 * max_bn_channels(mp) + 1;
    o->slots = calloc((size_t)n * o->slot_cap, sizeof *o->slots);
    o->total = calloc(o->slot_cap, sizeof *o->total);
    dl_status st =
        o->slots && o->total ? DL_OK : dl_err_set(err, DL_ENOMEM, "out of memory for replicas");
    for (int k = 0; k < n && st == DL_OK; k++) {
        replica *rp = &o->r[k];
        rp->owner = o;
        rp->k = k;
        if (k == 0)
            rp->m = master;
        else if ((st = dl_model_create(&rp->m, dl_model_config(master), err)) == DL_OK &&
                 (st = dl_params_share_data(dl_model_params(rp->m), mp, err)) != DL_OK)
            break;
        if (st != DL_OK)
            break;
        rp->ps = dl_model_params(rp->m);
        rp->sync.sum = bn_sum;
        rp->sync.user = rp;
        rp->sync.scratch_cap = o->slot_cap;
        if (!(rp->sync.scratch = calloc(o->slot_cap, sizeof(double)))) {
            st = dl_err_set(err, DL_ENOMEM, "out of memory for replicas");
            break;
        }
        /* with ranks but one replica, sync-bn still sums over the ranks */
        if (sync_bn)
            dl_model_set_bn_sync(rp->m, &rp->sync);
        if (k > 0) {
            if (pthread_create(&rp->th, NULL, worker, rp) != 0) {
                st = dl_err_set(err, DL_ENOMEM, "cannot start replica thread %d", k);
                break;
            }
            rp->started = true;
        }
    }
    /* overlap needs one replica (several sum among themselves after backward) and ranks */
    o->overlap = n == 1 && dl_dist_size() > 1 && !getenv("DLLAB_NO_OVERLAP");
    o->bucket = BUCKET_FLOATS;
    const char *bmb = getenv("DLLAB_BUCKET_MB"); /* bigger buckets for many ranks (scaling.md) */
    if (bmb && atof(bmb) > 0)
        o->bucket = (size_t)(atof(bmb) * 1e6 / 4);
    if (st == DL_OK && o->overlap) {
        if (!(o->entry_done = calloc(mp->n ? mp->n : 1, sizeof *o->entry_done)))
            st = dl_err_set(err, DL_ENOMEM, "out of memory for replicas");
        else
            dl_model_set_grad_hook(master, on_grad_ready, o);
    }
    if (st != DL_OK) {
        dl_replicas_free(o);
        return st;
    }
    *out = o;
    return DL_OK;
}

void dl_replicas_free(dl_replicas *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->quit = true;
    pthread_cond_broadcast(&o->go);
    pthread_mutex_unlock(&o->mu);
    for (int k = 0; k < o->n; k++) {
        replica *rp = &o->r[k];
        if (rp->started)
            pthread_join(rp->th, NULL);
        if (k > 0)
            dl_model_free(rp->m);
        else if (rp->m) {
            dl_model_set_bn_sync(rp->m, NULL);
            dl_model_set_grad_hook(rp->m, NULL, NULL);
        }
        free(rp->dlogits);
        free(rp->sync.scratch);
    }
    pthread_barrier_destroy(&o->bar);
    pthread_cond_destroy(&o->go);
    pthread_cond_destroy(&o->done);
    pthread_mutex_destroy(&o->mu);
    free(o->slots);
    free(o->total);
    free(o->entry_done);
    free(o->r);
    free(o);
}

int dl_replicas_count(const dl_replicas *r) { return r->n; }
bool dl_replicas_sync_bn(const dl_replicas *r) { return r->sync_bn; }
void dl_replicas_get_times(const dl_replicas *r, dl_replicas_times *t) { *t = r->times; }

dl_status dl_replicas_step(dl_replicas *o, const dl_batch *b, double *loss, dl_err *err)
{
    double t0 = dl_clock_now();
    o->b = b;
    o->rank = dl_dist_rank();
    o->ranks = dl_dist_size();
    atomic_store(&o->failed, false);
    if (o->overlap)
        bucket_reset(o);
    if (o->ranks > 1) { /* rank 0's running statistics everywhere (DDP's broadcast_buffers) */
        dl_params *mp = dl_model_params(o->master);
        dl_dist_bcast(mp->buf, mp->buf_total * sizeof(float));
        dl_dist_bcast(mp->ibuf, mp->ibuf_total * sizeof(int64_t));
    }
    pthread_mutex_lock(&o->mu);
    o->n_done = 0;
    o->gen++;
    pthread_cond_broadcast(&o->go);
    pthread_mutex_unlock(&o->mu);
    run_part(&o->r[0]);
    double t1 = dl_clock_now();
    reduce_chunk(&o->r[0]);
    pthread_mutex_lock(&o->mu);
    while (o->n_done < o->n - 1)
        pthread_cond_wait(&o->done, &o->mu);
    pthread_mutex_unlock(&o->mu);
    double t2 = dl_clock_now();
    for (int k = 0; k < o->n; k++)
        if (o->r[k].st != DL_OK) {
            if (err)
                *err = o->r[k].err;
            if (o->ranks > 1) /* the other ranks are in the step's collectives already */
                dl_dist_abort(o->r[k].err.msg);
            return o->r[k].st;
        }
    double l = 0;
    for (int k = 0; k < o->n; k++)
        l += o->r[k].loss;
    if (o->ranks > 1) {
        dl_params *mp = dl_model_params(o->master);
        if (o->overlap) { /* the rest of the block, then wait for every bucket */
            if (o->sent_off > 0)
                dl_dist_isum_f32(mp->grad, o->sent_off);
            dl_dist_wait_all();
        } else {
            dl_dist_sum_f32(mp->grad, mp->total);
        }
        dl_dist_sum_f64(&l, 1);
    }
    *loss = l;
    o->times.steps++;
    o->times.compute += t1 - t0;
    o->times.reduce += t2 - t1;
    o->times.comm += dl_clock_now() - t2;
    return DL_OK;
}
