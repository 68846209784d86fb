/* data/loader: worker threads fill a bounded ring of batch slots allocated once at creation (no
 * malloc in steady state: images come from the dataset's uint8 cache). Batch b of an epoch goes
 * to slot b % nslots; workers take batches in order, the consumer returns them in order, so the
 * result never depends on thread timing — and each item's randomness comes from
 * dl_rng_seed(seed, epoch, item). Train shuffles per epoch from (seed, epoch); drop_last drops the
 * last partial batch. Epoch 0 is prefetched at creation and epoch e+1 as soon as epoch e has been
 * handed out. Signals are blocked in the workers. Refuses: batch size < 1, an empty split. */
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/data/internal.h"
#include "core/rng.h"
#include "core/tensor.h"

enum { SLOT_EMPTY, SLOT_FILLING, SLOT_READY };

typedef struct slot {
    float *images;
    int32_t *targets;
    float *onehot;
    uint32_t *items;
    int n, state;
    int64_t batch;
    dl_status st;
    char msg[DL_ERR_MSG_MAX];
} slot;

struct dl_loader {
    dl_dataset *ds;
    dl_split split;
    int bs, size, c, nc;
    bool shuffle, drop_last, train, aug;
    uint64_t seed;
    size_t n;
    uint32_t *order;
    int64_t nbatches;
    int epoch;
    slot *slots;
    int nslots;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    int64_t next_fill, next_get;
    bool started, quit;
    int busy, held;
    uint64_t gen;
    pthread_t *th;
    int nth;
    double wait;
    /* this process's share of every batch (data parallelism across processes): only its images
     * are decoded; the others' positions keep stale pixels nobody reads. Atomic: set while the
     * workers prefetch, and a batch filled before it is merely decoded in full. */
    atomic_int shard, shards;
};

static double now(void) { return dl_clock_now(); }

static void fill(dl_loader *l, slot *s, int64_t b, int epoch)
{
    dl_dataset *ds = l->ds;
    size_t start = (size_t)b * l->bs;
    size_t end = start + l->bs < l->n ? start + l->bs : l->n;
    size_t chw = (size_t)l->c * l->size * l->size;
    s->n = (int)(end - start);
    s->st = DL_OK;
    const int shard = atomic_load(&l->shard), shards = atomic_load(&l->shards);
    const size_t lo = shards > 1 ? (size_t)s->n * (size_t)shard / (size_t)shards : 0;
    const size_t hi =
        shards > 1 ? (size_t)s->n * (size_t)(shard + 1) / (size_t)shards : (size_t)s->n;
    for (size_t j = 0; j < (size_t)s->n; j++) {
        uint32_t idx = l->order[start + j];
        dl_ditem *it = &ds->items[l->split][idx];
        s->items[j] = idx;
        const int *labs = ds->labels + it->label_off;
        if (j < lo || j >= hi) { /* another process's item: its labels only */
            if (ds->multi) {
                float *oh = s->onehot + j * l->nc;
                memset(oh, 0, sizeof(float) * l->nc);
                for (int k = 0; k < it->n_labels; k++)
                    oh[labs[k]] = 1.0f;
            } else
                s->targets[j] = labs[0];
            continue;
        }
        dl_aug_params p;
        dl_aug_draw(&p, l->seed, (uint64_t)epoch, idx, l->train, l->aug, ds->cfg.min_scale);
        dl_img img;
        bool owned;
        dl_err e = {0};
        dl_status st = dl_data_fitted(ds, it, &img, &owned, &e);
        if (st) {
            s->st = st;
            snprintf(s->msg, sizeof s->msg, "%s", e.msg);
            return;
        }
        dl_aug_render(&img, l->size, ds->prep.resize, &p, l->c, ds->prep.mean, ds->prep.std,
                      s->images + j * chw);
        if (owned)
            free(img.px);
        if (ds->multi) {
            float *oh = s->onehot + j * l->nc;
            memset(oh, 0, sizeof(float) * l->nc);
            for (int k = 0; k < it->n_labels; k++)
                oh[labs[k]] = 1.0f;
        } else
            s->targets[j] = labs[0];
    }
}

static void start_locked(dl_loader *l, int epoch);

static void *worker(void *arg)
{
    dl_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->quit) {
        slot *s =
            l->started && l->next_fill < l->nbatches ? &l->slots[l->next_fill % l->nslots] : NULL;
        if (!s || s->state != SLOT_EMPTY) {
            pthread_cond_wait(&l->cv_work, &l->mu);
            continue;
        }
        int64_t b = l->next_fill++;
        uint64_t gen = l->gen;
        int epoch = l->epoch;
        s->state = SLOT_FILLING;
        s->batch = b;
        l->busy++;
        pthread_mutex_unlock(&l->mu);
        fill(l, s, b, epoch);
        pthread_mutex_lock(&l->mu);
        l->busy--;
        s->state = gen == l->gen ? SLOT_READY : SLOT_EMPTY;
        pthread_cond_broadcast(&l->cv_done);
        if (gen != l->gen)
            pthread_cond_broadcast(&l->cv_work);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

dl_status dl_loader_create(dl_dataset *ds, dl_split split, int batch_size, bool shuffle,
                           bool drop_last, uint64_t seed, int threads, dl_loader **out, dl_err *err)
{
    *out = NULL;
    if (batch_size < 1)
        return dl_err_set(err, DL_EINVAL, "loader: batch size %d < 1", batch_size);
    if (ds->count[split] == 0)
        return dl_err_set(err, DL_EINVAL, "loader: the %s split is empty",
                          split ? "validation" : "training");
    dl_loader *l = calloc(1, sizeof *l);
    if (!l)
        return dl_err_set(err, DL_ENOMEM, "loader: out of memory");
    l->ds = ds;
    l->split = split;
    l->bs = batch_size;
    l->size = ds->prep.size;
    l->c = ds->prep.channels;
    l->nc = ds->n_classes;
    l->shuffle = shuffle;
    l->drop_last = drop_last;
    l->train = split == DL_SPLIT_TRAIN;
    l->aug = l->train && ds->cfg.aug;
    l->seed = seed;
    l->n = ds->count[split];
    l->nbatches =
        drop_last ? (int64_t)(l->n / batch_size) : (int64_t)((l->n + batch_size - 1) / batch_size);
    l->held = -1;
    if (threads <= 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        threads = nc < 1 ? 1 : (int)nc;
    }
    if (threads > 64)
        threads = 64;
    l->nslots = threads + 1 < 2 ? 2 : threads + 1;
    l->order = malloc(l->n * sizeof *l->order);
    l->slots = calloc(l->nslots, sizeof *l->slots);
    l->th = calloc(threads, sizeof *l->th);
    bool ok = l->order && l->slots && l->th;
    size_t chw = (size_t)l->c * l->size * l->size;
    for (int i = 0; ok && i < l->nslots; i++) {
        slot *s = &l->slots[i];
        s->images = dl_alloc_aligned(sizeof(float) * chw * batch_size);
        s->targets = calloc(batch_size, sizeof(int32_t));
        s->onehot = calloc((size_t)batch_size * (l->nc ? l->nc : 1), sizeof(float));
        s->items = calloc(batch_size, sizeof(uint32_t));
        ok = s->images && s->targets && s->onehot && s->items;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv_work, NULL);
    pthread_cond_init(&l->cv_done, NULL);
    if (!ok) {
        dl_loader_destroy(l);
        return dl_err_set(err, DL_ENOMEM, "loader: out of memory for %d batch slots of %d images",
                          threads + 1, batch_size);
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&l->th[l->nth], NULL, worker, l) == 0)
            l->nth++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (l->nth == 0) {
        dl_loader_destroy(l);
        return dl_err_set(err, DL_EIO, "loader: cannot start worker threads");
    }
    pthread_mutex_lock(&l->mu);
    start_locked(l, 0); /* prefetch epoch 0 */
    pthread_mutex_unlock(&l->mu);
    *out = l;
    return DL_OK;
}

int64_t dl_loader_batches(const dl_loader *l) { return l->nbatches; }

void dl_loader_set_shard(dl_loader *l, int shard, int shards)
{
    if (shards < 1 || shard < 0 || shard >= shards)
        shard = 0, shards = 1;
    atomic_store(&l->shard, shard);
    atomic_store(&l->shards, shards);
}

static void start_locked(dl_loader *l, int epoch)
{
    l->gen++;
    l->started = false;
    while (l->busy > 0)
        pthread_cond_wait(&l->cv_done, &l->mu);
    for (int i = 0; i < l->nslots; i++)
        l->slots[i].state = SLOT_EMPTY;
    l->held = -1;
    l->epoch = epoch;
    for (size_t i = 0; i < l->n; i++)
        l->order[i] = (uint32_t)i;
    if (l->shuffle) {
        dl_rng r;
        dl_rng_seed(&r, l->seed, (uint64_t)epoch, 0x5FF1E);
        dl_rng_shuffle_u32(&r, l->order, (uint32_t)l->n);
    }
    l->next_fill = l->next_get = 0;
    l->started = true;
    pthread_cond_broadcast(&l->cv_work);
}

dl_status dl_loader_start_epoch(dl_loader *l, int epoch, dl_err *err)
{
    if (epoch < 0)
        return dl_err_set(err, DL_EINVAL, "loader: epoch %d < 0", epoch);
    pthread_mutex_lock(&l->mu);
    /* Already prefetching this epoch and nothing consumed yet: keep the work done so far. */
    if (!(l->started && l->epoch == epoch && l->next_get == 0))
        start_locked(l, epoch);
    pthread_mutex_unlock(&l->mu);
    return DL_OK;
}

dl_status dl_loader_next(dl_loader *l, dl_batch *b, dl_err *err)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_lock(&l->mu);
    if (l->held >= 0) {
        l->slots[l->held].state = SLOT_EMPTY;
        l->held = -1;
        pthread_cond_broadcast(&l->cv_work);
    }
    if (l->next_get >= l->nbatches) {
        /* Epoch over: workers start on the next epoch right away (into the bounded ring), so the
         * first batch of epoch e+1 does not wait; dl_loader_start_epoch(e+1) keeps that work. */
        if (l->nbatches > 0)
            start_locked(l, l->epoch + 1);
        pthread_mutex_unlock(&l->mu);
        return DL_OK;
    }
    int si = (int)(l->next_get % l->nslots);
    slot *s = &l->slots[si];
    if (!(s->state == SLOT_READY && s->batch == l->next_get)) {
        double t0 = now();
        while (!(s->state == SLOT_READY && s->batch == l->next_get))
            pthread_cond_wait(&l->cv_done, &l->mu);
        l->wait += now() - t0;
    }
    l->next_get++;
    l->held = si;
    pthread_mutex_unlock(&l->mu);
    if (s->st)
        return dl_err_set(err, s->st, "loader: %s", s->msg);
    b->n = s->n;
    b->c = l->c;
    b->h = b->w = l->size;
    b->images = s->images;
    b->n_classes = l->nc;
    b->targets = l->ds->multi ? NULL : s->targets;
    b->onehot = l->ds->multi ? s->onehot : NULL;
    b->items = s->items;
    return DL_OK;
}

double dl_loader_wait_seconds(const dl_loader *l) { return l->wait; }

void dl_loader_destroy(dl_loader *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->quit = true;
    l->gen++;
    pthread_cond_broadcast(&l->cv_work);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->nth; i++)
        pthread_join(l->th[i], NULL);
    for (int i = 0; l->slots && i < l->nslots; i++) {
        dl_free_aligned(l->slots[i].images);
        free(l->slots[i].targets);
        free(l->slots[i].onehot);
        free(l->slots[i].items);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv_work);
    pthread_cond_destroy(&l->cv_done);
    free(l->slots);
    free(l->order);
    free(l->th);
    free(l);
}
