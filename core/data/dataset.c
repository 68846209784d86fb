/* data/dataset: dl_data_open and the dataset accessors. Resolves the source (built-in, archive,
 * folder, CSV), splits (dllab's own random split: Fisher-Yates from dl_rng seeded with the seed,
 * valid = the first int(valid_pct*n) of the permutation, train = the rest in permutation order),
 * applies --limit, reads every image header and then decodes every image once into the uint8
 * cache (threaded), so unreadable or truncated files are found before training; builds the sorted
 * vocabulary from the train split and the normalisation statistics.
 * Refuses: > 5 % bad image files, a single class, an empty split, validation labels unknown to
 * the training vocabulary. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/internal.h"
#include "core/log.h"
#include "core/printable.h"
#include "core/rng.h"

#define FASHION_DIR_DEFAULT "/usr/share/datasets/fashion-mnist"

void dl_data_config_init(dl_data_config *c)
{
    memset(c, 0, sizeof *c);
    c->fname_col = "fname";
    c->label_col = "labels";
    c->label_delim = ' ';
    c->valid_pct = 0.2;
    c->seed = 42;
    c->resize = DL_RESIZE_CROP;
    c->aug = true;
    c->min_scale = 1.0f;
    c->cache_max_bytes = (size_t)2 << 30;
    c->mosaic_train = 2000;
    c->mosaic_valid = 500;
}

const char *dl_data_kind_name(dl_source_kind k)
{
    switch (k) {
    case DL_SOURCE_FOLDER:
        return "folder per class";
    case DL_SOURCE_GRANDPARENT:
        return "folder per class, train/valid folders";
    case DL_SOURCE_REGEX:
        return "labels from file names (regex)";
    case DL_SOURCE_CSV:
        return "CSV";
    case DL_SOURCE_FASHION_MNIST:
        return "built-in fashion-mnist";
    case DL_SOURCE_FASHION_MOSAIC:
        return "built-in fashion-mosaic (multi-label)";
    }
    return "?";
}

const char *dl_fashion_dir(void)
{
    const char *e = getenv("DLLAB_FASHION_MNIST");
    return e && *e ? e : FASHION_DIR_DEFAULT;
}

/* ---- a tiny parallel-for over item indices ---- */
typedef struct par {
    size_t n;
    _Atomic size_t next;
    void (*fn)(void *ctx, size_t i);
    void *ctx;
} par;

static void *par_worker(void *arg)
{
    par *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(p->ctx, i);
    }
    return NULL;
}

static void par_for(size_t n, void (*fn)(void *, size_t), void *ctx)
{
    par p = {.n = n, .fn = fn, .ctx = ctx};
    atomic_init(&p.next, 0);
    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = nc < 1 ? 1 : nc > 16 ? 16 : (int)nc;
    if ((size_t)nt > n)
        nt = n ? (int)n : 1;
    pthread_t th[16];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, par_worker, &p) == 0)
            started++;
    par_worker(&p);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
}

/* ---- the cache ---- */
/* src (an item of original size w x h, decoded at any DCT scale) into dst: the whole image, or
 * with crop_first fastai's centre crop box (scaled to src's pixels) then the resize. */
static void fit_into(const dl_img *src, int w, int h, bool crop_first, int size, dl_img *dst)
{
    if (!crop_first) {
        dl_img_resize(src, dst, false);
        return;
    }
    int x, y, cw, ch;
    dl_crop_box(w, h, size, 0.5, 0.5, &x, &y, &cw, &ch);
    double sx = (double)src->w / w, sy = (double)src->h / h;
    dl_img_resize_box(src, x * sx, y * sy, cw * sx, ch * sy, dst, false);
}

dl_status dl_data_fitted(dl_dataset *ds, dl_ditem *it, dl_img *img, bool *owned, dl_err *err)
{
    uint8_t *c = atomic_load(&it->cache);
    img->w = it->fw;
    img->h = it->fh;
    img->c = ds->cache_c;
    if (c) {
        img->px = c;
        *owned = false;
        return DL_OK;
    }
    dl_img src;
    dl_status st;
    if (it->pixels) {
        src.px = (uint8_t *)it->pixels;
        src.w = it->w;
        src.h = it->h;
        src.c = 1;
    } else {
        /* DCT scaling keeps at least the crop-mode fitted size (short side >= size) */
        int mw = it->fw, mh = it->fh;
        if (it->crop_first)
            dl_fit_size(it->w, it->h, ds->prep.size, DL_RESIZE_CROP, &mw, &mh);
        st = dl_img_decode_file_mode(it->path, ds->cache_c, mw, mh, ds->cfg.fast_decode, &src, err);
        if (st)
            return st;
    }
    size_t bytes = (size_t)it->fw * it->fh * ds->cache_c;
    uint8_t *px = NULL;
    if (it->pixels && ds->cache_c == 1 && it->fw == it->w && it->fh == it->h) { /* crop box: all */
        px = (uint8_t *)it->pixels; /* already the right size: the cache points at the pixels */
        bytes = 0;
    } else {
        px = malloc(bytes);
        if (!px) {
            if (!it->pixels)
                free(src.px);
            return dl_err_set(err, DL_ENOMEM, "out of memory resizing %s",
                              it->path ? it->path : "an image");
        }
        dl_img dst = {px, it->fw, it->fh, ds->cache_c};
        if (src.c == ds->cache_c)
            fit_into(&src, it->w, it->h, it->crop_first, ds->prep.size, &dst);
        else { /* in-memory grey, 3-channel cache: resize grey then replicate */
            dl_img g = {malloc((size_t)it->fw * it->fh), it->fw, it->fh, 1};
            if (!g.px) { /* px was never written: it must not reach the cache */
                free(px);
                if (!it->pixels)
                    free(src.px);
                return dl_err_set(err, DL_ENOMEM, "out of memory resizing %s",
                                  it->path ? it->path : "an image");
            }
            fit_into(&src, it->w, it->h, it->crop_first, ds->prep.size, &g);
            for (size_t k = 0; k < (size_t)it->fw * it->fh; k++)
                px[3 * k] = px[3 * k + 1] = px[3 * k + 2] = g.px[k];
            free(g.px);
        }
        if (!it->pixels)
            free(src.px);
    }
    img->px = px;
    size_t used = atomic_fetch_add(&ds->cache_bytes, bytes) + bytes;
    if (used > ds->cache_cap) {
        atomic_fetch_sub(&ds->cache_bytes, bytes);
        if (!atomic_exchange(&ds->cache_full_warned, 1))
            dl_log(DL_LOG_WARN,
                   "image cache full (%zu MiB cap): further images are decoded every epoch (raise "
                   "the cap or "
                   "lower --size)",
                   ds->cache_cap >> 20);
        *owned = px != it->pixels;
        return DL_OK;
    }
    uint8_t *expect = NULL;
    if (!atomic_compare_exchange_strong(&it->cache, &expect, px)) { /* another thread won */
        atomic_fetch_sub(&ds->cache_bytes, bytes);
        *owned = px != it->pixels;
        return DL_OK;
    }
    *owned = false;
    return DL_OK;
}

/* ---- open ---- */
typedef struct probe_ctx {
    dl_dataset *ds;
    dl_ditem **list;
    char **why; /* per item: NULL or the reason it is bad */
    bool *grey;
} probe_ctx;

/* The reason alone: messages start with the path, which the skip list already shows. */
static char *reason_of(const char *msg, const char *path)
{
    size_t l = path ? strlen(path) : 0;
    if (l && strncmp(msg, path, l) == 0 && msg[l] == ':' && msg[l + 1] == ' ')
        msg += l + 2;
    return strdup(msg);
}

static void probe_one(void *vctx, size_t i)
{
    probe_ctx *c = vctx;
    dl_ditem *it = c->list[i];
    dl_err e = {0};
    uint8_t *buf;
    size_t n;
    dl_status st = dl_read_file(it->path, &buf, &n, &e);
    if (!st) {
        bool g = false; /* the probe sets it only on success */
        st = dl_img_probe_mem(buf, n, it->path, &it->w, &it->h, &g, &e);
        c->grey[i] = g;
        free(buf);
    }
    if (st)
        c->why[i] = reason_of(e.msg, it->path);
}

static void warm_one(void *vctx, size_t i)
{
    probe_ctx *c = vctx;
    dl_ditem *it = c->list[i];
    if (c->why[i])
        return;
    dl_err e = {0};
    dl_img img;
    bool owned;
    if (dl_data_fitted(c->ds, it, &img, &owned, &e) != DL_OK)
        c->why[i] = reason_of(e.msg, it->path);
    else if (owned)
        free(img.px);
}

static dl_status add_skipped(dl_dataset *ds, const char *path, const char *why)
{
    char **a = realloc(ds->skipped, (ds->n_skipped + 1) * sizeof *a);
    if (a)
        ds->skipped = a;
    char **b = realloc(ds->skip_reason, (ds->n_skipped + 1) * sizeof *b);
    if (b)
        ds->skip_reason = b;
    if (!a || !b)
        return DL_ENOMEM;
    ds->skipped[ds->n_skipped] = strdup(path);
    ds->skip_reason[ds->n_skipped] = strdup(why);
    ds->n_skipped++;
    return DL_OK;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}
static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int vocab_find(char **v, int n, const char *s)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(v[mid], s);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static dl_status resolve_source(dl_dataset *ds, const dl_data_config *cfg, dl_data_config *eff,
                                dl_err *err)
{
    char cache[2048];
    const char *cdir = cfg->cache_dir ? cfg->cache_dir : dl_default_cache_dir(cache, sizeof cache);
    if (!cfg->source || !*cfg->source)
        return dl_err_set(
            err, DL_EINVAL,
            "no data source given (a folder, an archive, fashion-mnist or fashion-mosaic)");
    if (strcmp(cfg->source, "fashion-mnist") == 0) {
        snprintf(ds->root, sizeof ds->root, "%s", dl_fashion_dir());
        return dl_source_fashion_mnist(ds->root, &ds->raw, err);
    }
    if (strcmp(cfg->source, "fashion-mosaic") == 0) {
        dl_status st = dl_mosaic_prepare(dl_fashion_dir(), cdir, cfg->seed, cfg->mosaic_train,
                                         cfg->mosaic_valid, ds->root, sizeof ds->root, err);
        if (st)
            return st;
        eff->csv = "labels.csv";
        eff->fname_col = "fname";
        eff->label_col = "labels";
        eff->valid_col = "is_valid";
        eff->folder = NULL;
        eff->label_delim = ' ';
        eff->multi_label = true;
        st = dl_source_csv(eff, ds->root, &ds->raw, err);
        ds->raw.kind = DL_SOURCE_FASHION_MOSAIC;
        return st;
    }
    if (dl_is_archive_name(cfg->source)) {
        dl_status st = dl_archive_extract(cfg->source, cdir, ds->root, sizeof ds->root, err);
        if (st)
            return st;
    } else
        snprintf(ds->root, sizeof ds->root, "%s", cfg->source);
    size_t l = strlen(ds->root);
    while (l > 1 && ds->root[l - 1] == '/')
        ds->root[--l] = 0;
    if (cfg->csv)
        return dl_source_csv(cfg, ds->root, &ds->raw, err);
    return dl_source_folder(ds->root, cfg->label_re, &ds->raw, err);
}

static dl_status build(dl_dataset *ds, const dl_data_config *cfg, dl_err *err)
{
    dl_rawset *rs = &ds->raw;
    ds->kind = rs->kind;
    /* Random split over the items that have none. */
    size_t nr = 0;
    for (size_t i = 0; i < rs->n; i++)
        nr += rs->items[i].split == DL_RAW_RANDOM;
    uint32_t *perm = malloc((nr ? nr : 1) * sizeof *perm);
    if (!perm)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->items[i].split == DL_RAW_RANDOM)
            perm[k++] = (uint32_t)i;
    if (cfg->valid_pct < 0 || cfg->valid_pct >= 1) {
        free(perm);
        return dl_err_set(err, DL_EINVAL, "--valid-pct %g: must be in [0, 1)", cfg->valid_pct);
    }
    dl_rng r;
    dl_rng_seed(&r, cfg->seed, 0x5917, 0);
    dl_rng_shuffle_u32(&r, perm, (uint32_t)nr);
    size_t nvalid = (size_t)(cfg->valid_pct * (double)nr);
    /* Ordered lists per split: fixed splits in source order, then the random ones in permutation
     * order (valid = first nvalid). */
    size_t cnt[2] = {0, 0};
    for (size_t i = 0; i < rs->n; i++)
        if (rs->items[i].split == DL_RAW_TRAIN || rs->items[i].split == DL_RAW_VALID)
            cnt[rs->items[i].split]++;
    cnt[1] += nvalid;
    cnt[0] += nr - nvalid;
    uint32_t *order[2];
    order[0] = malloc((cnt[0] + 1) * sizeof(uint32_t));
    order[1] = malloc((cnt[1] + 1) * sizeof(uint32_t));
    if (!order[0] || !order[1]) {
        free(perm);
        free(order[0]);
        free(order[1]);
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    }
    size_t fill[2] = {0, 0};
    for (size_t i = 0; i < rs->n; i++) {
        int s = rs->items[i].split;
        if (s == DL_RAW_TRAIN || s == DL_RAW_VALID)
            order[s][fill[s]++] = (uint32_t)i;
    }
    for (size_t j = 0; j < nr; j++) {
        int s = j < nvalid ? 1 : 0;
        order[s][fill[s]++] = perm[j];
    }
    free(perm);
    if (cfg->limit > 0 && (size_t)cfg->limit < cnt[0])
        cnt[0] = (size_t)cfg->limit;
    if (cfg->valid_limit > 0 && (size_t)cfg->valid_limit < cnt[1])
        cnt[1] = (size_t)cfg->valid_limit;

    for (int s = 0; s < 2; s++) {
        ds->items[s] = calloc(cnt[s] + 1, sizeof(dl_ditem));
        if (!ds->items[s]) {
            free(order[0]);
            free(order[1]);
            return dl_err_set(err, DL_ENOMEM, "out of memory");
        }
        for (size_t j = 0; j < cnt[s]; j++) {
            dl_raw_item *ri = &rs->items[order[s][j]];
            dl_ditem *it = &ds->items[s][j];
            it->path = ri->path;
            it->pixels = ri->pixels;
            it->w = ri->w;
            it->h = ri->h;
            it->label_off = (int)order[s][j]; /* raw index until labels are encoded */
            atomic_init(&it->cache, NULL);
        }
        ds->count[s] = cnt[s];
    }
    free(order[0]);
    free(order[1]);
    return DL_OK;
}

/* Reads headers and decodes every file item; drops and records the bad ones. */
static dl_status check_images(dl_dataset *ds, dl_err *err)
{
    size_t n = ds->count[0] + ds->count[1];
    probe_ctx c = {.ds = ds};
    c.list = malloc((n + 1) * sizeof *c.list);
    c.why = calloc(n + 1, sizeof *c.why);
    c.grey = calloc(n + 1, sizeof *c.grey);
    if (!c.list || !c.why || !c.grey) {
        free(c.list);
        free(c.why);
        free(c.grey);
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (int s = 0; s < 2; s++)
        for (size_t j = 0; j < ds->count[s]; j++)
            c.list[k++] = &ds->items[s][j];
    bool files = n && c.list[0]->path && !c.list[0]->pixels;
    if (files)
        par_for(n, probe_one, &c);
    bool all_grey = true;
    for (size_t i = 0; i < n; i++)
        if (!c.why[i] && files && !c.grey[i])
            all_grey = false;
    int want = ds->cfg.channels;
    ds->cache_c = want == 1 ? 1 : all_grey ? 1 : 3;
    ds->prep.channels = want ? want : ds->cache_c;
    for (size_t i = 0; i < n; i++) {
        if (c.why[i])
            continue;
        dl_ditem *it = c.list[i];
        dl_err e = {0};
        if (dl_fit_check(it->path, it->w, it->h, ds->prep.size, ds->prep.resize, &e)) {
            c.why[i] = reason_of(e.msg, it->path);
            continue;
        }
        dl_fit_size(it->w, it->h, ds->prep.size, ds->prep.resize, &it->fw, &it->fh);
        /* validation crops come first, as fastai's Resize; train windows move every epoch, so
         * train keeps the fitted image and takes its window at render time (docs/pixels.md) */
        it->crop_first = i >= ds->count[DL_SPLIT_TRAIN] && ds->prep.resize == DL_RESIZE_CROP;
        if (it->crop_first)
            it->fw = it->fh = ds->prep.size;
    }
    par_for(n, warm_one, &c);
    size_t bad = 0;
    dl_status st = DL_OK;
    for (size_t i = 0; i < n; i++)
        if (c.why[i]) {
            bad++;
            dl_log(DL_LOG_WARN, "skipping %s: %s", c.list[i]->path ? c.list[i]->path : "an image",
                   c.why[i]);
            if (add_skipped(ds, c.list[i]->path ? c.list[i]->path : "(in-memory image)", c.why[i]))
                st = dl_err_set(err, DL_ENOMEM, "out of memory");
        }
    if (!st && bad * 20 > n)
        st = dl_err_set(
            err, DL_EFORMAT,
            "%zu of %zu image files (%.1f %%) are unreadable (more than 5 %%); first: %s: %s", bad,
            n, 100.0 * bad / n, ds->skipped[ds->n_skipped - bad],
            ds->skip_reason[ds->n_skipped - bad]);
    if (!st && bad) { /* compact the splits */
        size_t i = 0;
        for (int s = 0; s < 2; s++) {
            size_t w = 0;
            for (size_t j = 0; j < ds->count[s]; j++, i++)
                if (!c.why[i])
                    ds->items[s][w++] = ds->items[s][j];
            ds->count[s] = w;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(c.why[i]);
    free(c.list);
    free(c.why);
    free(c.grey);
    return st;
}

static dl_status encode_labels(dl_dataset *ds, dl_err *err)
{
    dl_rawset *rs = &ds->raw;
    bool multi = ds->cfg.multi_label;
    size_t total = 0;
    for (int s = 0; s < 2; s++)
        for (size_t j = 0; j < ds->count[s]; j++) {
            dl_raw_item *ri = &rs->items[ds->items[s][j].label_off];
            total += ri->n_labels;
            if (ri->n_labels != 1)
                multi = true;
        }
    ds->multi = multi;
    /* The store, JSON and every screen hold class names as UTF-8: a name in another encoding
     * would be dropped or garbled later, so it is refused here, where its source is known. */
    for (size_t i = 0; i < rs->n; i++)
        for (int l = 0; l < rs->items[i].n_labels; l++)
            if (!dl_utf8_valid(rs->items[i].labels[l])) {
                char name[256], path[1024];
                return dl_err_set(
                    err, DL_EFORMAT,
                    "label '%s' of %s is not valid UTF-8 (a folder or CSV label in another "
                    "encoding?): rename it in UTF-8",
                    dl_printable(rs->items[i].labels[l], name, sizeof name),
                    dl_printable(rs->items[i].path ? rs->items[i].path : "?", path, sizeof path));
            }
    if (rs->class_names) {
        ds->n_classes = rs->n_class_names;
        ds->vocab = malloc(ds->n_classes * sizeof(char *));
        if (!ds->vocab)
            return dl_err_set(err, DL_ENOMEM, "out of memory");
        for (int i = 0; i < ds->n_classes; i++)
            ds->vocab[i] = strdup(rs->class_names[i]);
    } else {
        size_t nt = 0;
        for (size_t j = 0; j < ds->count[0]; j++)
            nt += rs->items[ds->items[0][j].label_off].n_labels;
        char **all = malloc((nt + 1) * sizeof *all);
        if (!all)
            return dl_err_set(err, DL_ENOMEM, "out of memory");
        size_t k = 0;
        for (size_t j = 0; j < ds->count[0]; j++) {
            dl_raw_item *ri = &rs->items[ds->items[0][j].label_off];
            for (int l = 0; l < ri->n_labels; l++)
                all[k++] = ri->labels[l];
        }
        qsort(all, k, sizeof *all, cmp_cstr); /* code-point order, as Python's sorted() */
        int nu = 0;
        for (size_t i = 0; i < k; i++)
            if (i == 0 || strcmp(all[i], all[i - 1]))
                all[nu++] = all[i];
        ds->vocab = malloc((nu + 1) * sizeof(char *));
        if (!ds->vocab) {
            free(all);
            return dl_err_set(err, DL_ENOMEM, "out of memory");
        }
        for (int i = 0; i < nu; i++)
            ds->vocab[i] = strdup(all[i]);
        ds->n_classes = nu;
        free(all);
    }
    ds->labels = malloc((total + 1) * sizeof(int));
    if (!ds->labels)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    size_t off = 0;
    for (int s = 0; s < 2; s++)
        for (size_t j = 0; j < ds->count[s]; j++) {
            dl_ditem *it = &ds->items[s][j];
            dl_raw_item *ri = &rs->items[it->label_off];
            it->label_off = (int)off;
            it->n_labels = ri->n_labels;
            for (int l = 0; l < ri->n_labels; l++) {
                int v = vocab_find(ds->vocab, ds->n_classes, ri->labels[l]);
                if (rs->class_names) { /* fixed vocab is not sorted: linear search */
                    v = -1;
                    for (int q = 0; q < ds->n_classes; q++)
                        if (!strcmp(ds->vocab[q], ri->labels[l]))
                            v = q;
                }
                if (v < 0 && ri->line > 0 && rs->csv_path)
                    return dl_err_set(err, DL_EINVAL,
                                      "%s:%d: label '%s' was not included in the training dataset "
                                      "(validation item %s)",
                                      rs->csv_path, ri->line, ri->labels[l],
                                      ri->path ? ri->path : "?");
                if (v < 0)
                    return dl_err_set(
                        err, DL_EINVAL,
                        "Label '%s' was not included in the training dataset (validation item %s)",
                        ri->labels[l], ri->path ? ri->path : "?");
                ds->labels[off + l] = v;
            }
            qsort(ds->labels + off, ri->n_labels, sizeof(int), cmp_int);
            off += ri->n_labels;
        }
    return DL_OK;
}

typedef struct stat_ctx {
    dl_dataset *ds;
    size_t step;
    double (*sum)[6]; /* per sampled item: sum and sum of squares per channel */
} stat_ctx;

static void stat_one(void *vctx, size_t i)
{
    stat_ctx *c = vctx;
    dl_ditem *it = &c->ds->items[0][i * c->step];
    dl_img img;
    bool owned;
    dl_err e;
    double *acc = c->sum[i];
    memset(acc, 0, 6 * sizeof(double));
    if (dl_data_fitted(c->ds, it, &img, &owned, &e) != DL_OK)
        return;
    size_t np = (size_t)img.w * img.h;
    for (size_t p = 0; p < np; p++)
        for (int ch = 0; ch < img.c; ch++) {
            double v = img.px[p * img.c + ch] / 255.0;
            acc[ch] += v;
            acc[3 + ch] += v * v;
        }
    if (owned)
        free(img.px);
}

static void norm_stats(dl_dataset *ds)
{
    dl_image_prep *p = &ds->prep;
    if (ds->cfg.imagenet_stats) {
        const float m[3] = {0.485f, 0.456f, 0.406f}, s[3] = {0.229f, 0.224f, 0.225f};
        if (p->channels == 1) { /* luma-weighted ImageNet statistics for grey models */
            p->mean[0] = 0.299f * m[0] + 0.587f * m[1] + 0.114f * m[2];
            p->std[0] = 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2];
        } else
            for (int ch = 0; ch < 3; ch++) {
                p->mean[ch] = m[ch];
                p->std[ch] = s[ch];
            }
        return;
    }
    /* Computed from up to 1000 evenly spaced training items. */
    size_t n = ds->count[0], want = n < 1000 ? n : 1000;
    stat_ctx c = {.ds = ds, .step = want ? n / want : 1};
    c.sum = calloc(want + 1, sizeof *c.sum);
    double tot[6] = {0}, npx = 0;
    if (c.sum && want) {
        par_for(want, stat_one, &c);
        for (size_t i = 0; i < want; i++) {
            dl_ditem *it = &ds->items[0][i * c.step];
            npx += (double)it->fw * it->fh;
            for (int k = 0; k < 6; k++)
                tot[k] += c.sum[i][k];
        }
    }
    free(c.sum);
    for (int ch = 0; ch < 3; ch++) {
        int sc = ds->cache_c == 1 ? 0 : ch;
        double mean = npx > 0 ? tot[sc] / npx : 0.5;
        double var = npx > 0 ? tot[3 + sc] / npx - mean * mean : 0.0625;
        p->mean[ch] = (float)mean;
        p->std[ch] = (float)(var > 1e-8 ? sqrt(var) : 1.0);
    }
}

dl_status dl_data_open(const dl_data_config *cfg, dl_dataset **out, dl_err *err)
{
    *out = NULL;
    dl_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    atomic_init(&ds->cache_bytes, 0);
    atomic_init(&ds->cache_full_warned, 0);
    dl_data_config eff = *cfg;
    dl_status st = resolve_source(ds, cfg, &eff, err);
    /* Keep the settings, not the borrowed strings. */
    ds->cfg = eff;
    ds->cfg.source = ds->cfg.label_re = ds->cfg.csv = ds->cfg.fname_col = ds->cfg.label_col = NULL;
    ds->cfg.valid_col = ds->cfg.folder = ds->cfg.cache_dir = NULL;
    ds->cache_cap = cfg->cache_max_bytes ? cfg->cache_max_bytes : ((size_t)2 << 30);
    int size = cfg->size;
    if (size <= 0)
        size = ds->raw.kind == DL_SOURCE_FASHION_MNIST    ? 28
               : ds->raw.kind == DL_SOURCE_FASHION_MOSAIC ? 64
                                                          : 128;
    ds->prep.size = size;
    ds->prep.resize = cfg->resize;
    if (!st)
        st = build(ds, &eff, err);
    if (!st)
        st = check_images(ds, err);
    if (!st)
        st = encode_labels(ds, err);
    if (!st && ds->count[0] == 0)
        st = dl_err_set(err, DL_EINVAL, "%s: no training items", ds->root);
    if (!st && ds->count[1] == 0)
        st = dl_err_set(
            err, DL_EINVAL,
            "%s: no validation items (add a valid/ folder, a validity column or --valid-pct > 0)",
            ds->root);
    if (!st && ds->n_classes < 2)
        st =
            dl_err_set(err, DL_EINVAL, "%s: only one class ('%s'): a classifier needs at least two",
                       ds->root, ds->n_classes ? ds->vocab[0] : "");
    if (!st) {
        if (ds->n_skipped)
            dl_log(DL_LOG_WARN, "%zu image file(s) skipped (see dllab data)", ds->n_skipped);
        norm_stats(ds);
    }
    if (st) {
        if (err && cfg->source && !strstr(err->msg, cfg->source))
            dl_err_wrap(err, "opening %s", cfg->source);
        dl_data_close(ds);
        return st;
    }
    *out = ds;
    return DL_OK;
}

void dl_data_close(dl_dataset *ds)
{
    if (!ds)
        return;
    for (int s = 0; s < 2; s++) {
        for (size_t j = 0; ds->items[s] && j < ds->count[s]; j++) {
            uint8_t *c = atomic_load(&ds->items[s][j].cache);
            if (c != ds->items[s][j].pixels)
                free(c);
        }
        free(ds->items[s]);
    }
    for (int i = 0; ds->vocab && i < ds->n_classes; i++)
        free(ds->vocab[i]);
    free(ds->vocab);
    free(ds->labels);
    for (size_t i = 0; i < ds->n_skipped; i++) {
        free(ds->skipped[i]);
        free(ds->skip_reason[i]);
    }
    free(ds->skipped);
    free(ds->skip_reason);
    dl_rawset_free(&ds->raw);
    free(ds);
}

/* ---- accessors ---- */
dl_source_kind dl_data_kind(const dl_dataset *ds) { return ds->kind; }
const char *dl_data_root(const dl_dataset *ds) { return ds->root; }
size_t dl_data_count(const dl_dataset *ds, dl_split s) { return ds->count[s]; }
size_t dl_data_left_out(const dl_dataset *ds) { return ds->raw.left_out; }
int dl_data_n_classes(const dl_dataset *ds) { return ds->n_classes; }
const char *dl_data_class_name(const dl_dataset *ds, int k)
{
    return k >= 0 && k < ds->n_classes ? ds->vocab[k] : NULL;
}
bool dl_data_multi_label(const dl_dataset *ds) { return ds->multi; }

void dl_data_class_counts(const dl_dataset *ds, dl_split s, int64_t *counts)
{
    memset(counts, 0, sizeof(int64_t) * ds->n_classes);
    for (size_t j = 0; j < ds->count[s]; j++) {
        const dl_ditem *it = &ds->items[s][j];
        for (int l = 0; l < it->n_labels; l++)
            counts[ds->labels[it->label_off + l]]++;
    }
}

const char *dl_data_item_path(const dl_dataset *ds, dl_split s, size_t i)
{
    return i < ds->count[s] ? ds->items[s][i].path : NULL;
}

int dl_data_item_labels(const dl_dataset *ds, dl_split s, size_t i, int *labels, int cap)
{
    if (i >= ds->count[s])
        return 0;
    const dl_ditem *it = &ds->items[s][i];
    for (int l = 0; l < it->n_labels && l < cap; l++)
        labels[l] = ds->labels[it->label_off + l];
    return it->n_labels;
}

void dl_data_item_size(const dl_dataset *ds, dl_split s, size_t i, int *w, int *h)
{
    *w = i < ds->count[s] ? ds->items[s][i].w : 0;
    *h = i < ds->count[s] ? ds->items[s][i].h : 0;
}

size_t dl_data_n_skipped(const dl_dataset *ds) { return ds->raw.n_skipped + ds->n_skipped; }

const char *dl_data_skipped(const dl_dataset *ds, size_t i, const char **reason)
{
    if (i < ds->raw.n_skipped) {
        *reason = ds->raw.skip_reason[i];
        return ds->raw.skipped[i];
    }
    i -= ds->raw.n_skipped;
    if (i >= ds->n_skipped)
        return NULL;
    *reason = ds->skip_reason[i];
    return ds->skipped[i];
}

void dl_data_prep(const dl_dataset *ds, dl_image_prep *prep) { *prep = ds->prep; }

dl_status dl_image_load_prepped(const char *path, const dl_image_prep *prep, float *out,
                                dl_err *err)
{
    if (prep->size <= 0 || (prep->channels != 1 && prep->channels != 3))
        return dl_err_set(err, DL_EINVAL, "image preparation: size %d, channels %d", prep->size,
                          prep->channels);
    uint8_t *buf;
    size_t n;
    dl_status st = dl_read_file(path, &buf, &n, err);
    if (st)
        return st;
    int w, h;
    bool grey;
    st = dl_img_probe_mem(buf, n, path, &w, &h, &grey, err);
    int fw = 0, fh = 0;
    if (!st)
        st = dl_fit_check(path, w, h, prep->size, prep->resize, err);
    if (!st)
        dl_fit_size(w, h, prep->size, prep->resize, &fw, &fh);
    dl_img src = {0};
    if (!st)
        st = dl_img_decode_mem(buf, n, path, prep->channels, fw, fh, &src, err);
    free(buf);
    if (st)
        return st;
    bool crop_first = prep->resize == DL_RESIZE_CROP; /* as the validation split */
    if (crop_first)
        fw = fh = prep->size;
    dl_img fit = {malloc((size_t)fw * fh * prep->channels), fw, fh, prep->channels};
    if (!fit.px) {
        free(src.px);
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory", path);
    }
    fit_into(&src, w, h, crop_first, prep->size, &fit);
    free(src.px);
    dl_aug_params p;
    dl_aug_draw(&p, 0, 0, 0, false, false, 1.0f);
    dl_aug_render(&fit, prep->size, prep->resize, &p, prep->channels, prep->mean, prep->std, out);
    free(fit.px);
    return DL_OK;
}
