/* run/session: a run's objects built from its dl_run_cfg; see session.h. The run's config_json
 * is the configuration's JSON (core/run/cfg_json.c) plus the image preparation ("prep", which
 * `dllab predict` reads to prepare images as the validation split was) and "multi_label". */
#include "core/run/session.h"
#include "core/run/stem.h"

#include <jansson.h>
#include <sched.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas_select.h"
#include "core/io/names.h"
#include "core/io/safetensors.h"
#include "core/io/weights.h"
#include "core/learn/dist.h"
#include "core/learn/replicas.h"

dl_status dl_run_checkpoint_read(dl_store *st, int64_t run, int epoch, bool want_best,
                                 dl_tensor_map *map, dl_err *err)
{
    dl_checkpoint_row row;
    memset(&row, 0, sizeof row);
    dl_status rc;
    if (epoch >= 0) {
        dl_checkpoint_row *rows;
        size_t n;
        if ((rc = dl_store_checkpoints(st, run, &rows, &n, err)) != DL_OK)
            return rc;
        rc = dl_err_set(err, DL_ENOTFOUND, "the run has no checkpoint of epoch %d", epoch);
        for (size_t i = 0; i < n; i++) {
            char want[64];
            snprintf(want, sizeof want, "epoch-%d.safetensors", epoch);
            const char *base = strrchr(rows[i].path, '/');
            if (strcmp(base ? base + 1 : rows[i].path, want) == 0) {
                row.path = strdup(rows[i].path);
                rc = DL_OK;
            }
        }
        dl_checkpoints_free(rows, n);
    } else {
        rc = want_best ? dl_store_checkpoint_best(st, run, &row, err) : DL_ENOTFOUND;
        if (rc == DL_ENOTFOUND)
            rc = dl_store_checkpoint_latest(st, run, &row, err);
    }
    if (rc != DL_OK)
        return rc;
    char path[4096];
    dl_store_checkpoint_abspath(st, row.path, path, sizeof path);
    dl_checkpoint_row_clear(&row);
    dl_tensor_map_init(map);
    return dl_safetensors_read(path, map, err);
}

dl_status dl_run_checkpoint_choose(dl_store *st, int64_t run, const char *which, dl_tensor_map *map,
                                   char *said, size_t cap, int *epoch, dl_err *err)
{
    dl_checkpoint_row row, last;
    memset(&row, 0, sizeof row);
    memset(&last, 0, sizeof last);
    dl_status rc;
    int k = -1;
    char tail;
    bool dflt = !which || !*which, best = dflt || strcmp(which, "best") == 0;
    if (!best && strcmp(which, "last") != 0 &&
        (sscanf(which, "epoch-%d%c", &k, &tail) != 1 || k < 0))
        return dl_err_set(err, DL_EINVAL,
                          "--checkpoint '%s': expected best, last or epoch-K (e.g. epoch-2)",
                          which);
    if (k >= 0) {
        rc = dl_run_checkpoint_read(st, run, k, false, map, err);
        if (rc == DL_OK) {
            snprintf(said, cap, "checkpoint epoch-%d", k);
            *epoch = k;
        }
        return rc;
    }
    rc = best ? dl_store_checkpoint_best(st, run, &row, err) : DL_ENOTFOUND;
    if (rc == DL_ENOTFOUND && !dflt && best)
        return dl_err_set(err, DL_ENOTFOUND,
                          "the run has no best checkpoint (no epoch was validated): use "
                          "--checkpoint last");
    if (rc == DL_ENOTFOUND) {
        best = false;
        rc = dl_store_checkpoint_latest(st, run, &row, err);
    }
    if (rc != DL_OK)
        return rc;
    /* the best checkpoint may also be the last one: say both */
    bool is_last = dl_store_checkpoint_latest(st, run, &last, NULL) == DL_OK && last.id == row.id;
    if (best)
        snprintf(said, cap, "best checkpoint%s (epoch %d)", is_last ? ", also the last" : "",
                 row.epoch);
    else
        snprintf(said, cap, "last checkpoint (epoch %d%s)", row.epoch,
                 dflt ? "; no best one was flagged" : "");
    *epoch = row.epoch;
    char path[4096];
    dl_store_checkpoint_abspath(st, row.path, path, sizeof path);
    dl_checkpoint_row_clear(&row);
    dl_checkpoint_row_clear(&last);
    dl_tensor_map_init(map);
    return dl_safetensors_read(path, map, err);
}

dl_status dl_run_cfg_from_run(dl_run_cfg *c, dl_store *st, int64_t run, dl_err *err)
{
    dl_run r;
    dl_status rc = dl_store_run_get(st, run, &r, err);
    if (rc != DL_OK)
        return rc;
    rc = dl_run_cfg_from_json(c, r.config_json, err);
    if (rc == DL_OK && !c->data[0])
        rc = dl_err_set(err, DL_ENOTFOUND,
                        "run '%s' records no data source (not started by dllab train)", r.name);
    else if (rc != DL_OK)
        dl_err_wrap(err, "run '%s'", r.name);
    dl_run_clear(&r);
    return rc;
}

/* The pretrained body (a weight FILE in any format core/io knows, or a saved RUN's best
 * checkpoint) into *body, the model's part only. */
static dl_status read_pretrained(dl_session *s, dl_tensor_map *body, bool *from_file, dl_err *err)
{
    const char *pre = s->cfg.pretrained;
    dl_tensor_map ck;
    dl_tensor_map_init(&ck);
    dl_status st;
    *from_file = access(pre, R_OK) == 0;
    if (*from_file) {
        st = dl_weights_read(pre, &ck, err);
        if (st == DL_OK)
            st = dl_weights_rename(&ck, NULL, err); /* DataParallel, timm, fastai exports */
    } else {
        int64_t run;
        st = dl_store_run_find(s->st, pre, &run, err);
        if (st == DL_OK)
            st = dl_run_checkpoint_read(s->st, run, -1, true, &ck, err);
    }
    if (st == DL_OK)
        st = dl_checkpoint_model_map(&ck, body, err);
    dl_tensor_map_free(&ck);
    return st != DL_OK ? dl_err_wrap(err, "--pretrained %s", pre) : DL_OK;
}

static dl_status open_data(dl_session *s, dl_err *err)
{
    dl_data_config dc;
    dl_run_cfg_data(&s->cfg, &dc);
    dl_status st = dl_data_open(&dc, &s->ds, err);
    if (st != DL_OK)
        return st;
    s->multi = dl_data_multi_label(s->ds);
    const dl_run_cfg *c = &s->cfg;
    if ((st = dl_loader_create(s->ds, DL_SPLIT_TRAIN, c->bs, true, true, (uint64_t)c->seed,
                               c->threads, &s->tr, err)) != DL_OK ||
        (st = dl_loader_create(s->ds, DL_SPLIT_VALID, c->bs, false, false, (uint64_t)c->seed,
                               c->threads, &s->va, err)) != DL_OK)
        return st; /* the loader's messages start with "loader:" */
    /* each rank decodes only its share of every training batch (replicas.c trains on it) */
    dl_loader_set_shard(s->tr, dl_dist_rank(), dl_dist_size());
    if (dl_loader_batches(s->tr) < 1)
        return dl_err_set(err, DL_EINVAL,
                          "%zu training items make no full batch of %d (lower --bs)",
                          dl_data_count(s->ds, DL_SPLIT_TRAIN), c->bs);
    dl_image_prep prep;
    dl_data_prep(s->ds, &prep);
    dl_run_cfg_resolve_data(&s->cfg, &prep, s->multi);
    return DL_OK;
}

/* A kernel the user pinned through OPENBLAS_CORETYPE is kept, but when it is weaker than the CPU
 * allows the dashboard's log says so once: it explains a slow run. Not stored as a run event. */
static void note_weak_user_blas_kernel(dl_control *ctl)
{
    const char *kernel = dl_blas_corename(), *best = dl_blas_cpu_best_core();
    if (dl_blas_kernel_origin() != DL_BLAS_BY_USER || !best ||
        dl_blas_core_rank(kernel) >= dl_blas_core_rank(best))
        return;
    dl_event e;
    memset(&e, 0, sizeof e);
    snprintf(e.text, sizeof e.text, "BLAS kernel %s set by OPENBLAS_CORETYPE; this CPU supports %s",
             kernel, best);
    dl_control_push_event(ctl, &e);
}

int dl_session_usable_cores(void)
{
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                         : sysconf(_SC_NPROCESSORS_ONLN);
    n /= dl_dist_local_size();
    return n < 1 ? 1 : (int)n;
}

/* --replicas (0: as many as the usable cores and the batch allow), split of the global --bs over
 * replicas x ranks, and the replicas themselves when there is more than one part. */
static dl_status open_replicas(dl_session *s, dl_err *err)
{
    dl_run_cfg *c = &s->cfg;
    int ranks = dl_dist_size();
    if (c->replicas <= 0)
        c->replicas = dl_replicas_auto(c->bs, ranks, dl_session_usable_cores());
    int parts = c->replicas * ranks;
    if (c->bs % parts != 0)
        return dl_err_set(err, DL_EINVAL,
                          "--bs %d does not split evenly over %d replica%s x %d rank%s (%d parts): "
                          "give a batch size divisible by %d",
                          c->bs, c->replicas, c->replicas == 1 ? "" : "s", ranks,
                          ranks == 1 ? "" : "s", parts, parts);
    if (parts == 1)
        return DL_OK; /* one replica, one process: the learner's own path, bit for bit */
    dl_status st = dl_replicas_create(&s->rep, s->model, c->replicas, c->sync_bn, err);
    if (st == DL_OK)
        dl_learner_set_replicas(s->l, s->rep);
    return st;
}

static dl_status open_learner(dl_session *s, dl_err *err)
{
    const dl_run_cfg *c = &s->cfg;
    dl_status st = dl_control_create(&s->ctl, err);
    if (st != DL_OK)
        return st;
    note_weak_user_blas_kernel(s->ctl);
    dl_learner_cfg lc;
    dl_learner_cfg_init(&lc);
    lc.opt = c->opt;
    lc.wd = c->wd;
    lc.n_metrics = c->n_metrics;
    memcpy(lc.metrics, c->metrics, sizeof lc.metrics);
    lc.thresh = (float)c->thresh;
    lc.monitor = c->monitor;
    lc.min_delta = c->min_delta;
    lc.patience = c->patience;
    lc.plateau_factor = c->plateau;
    lc.load_best = c->load_best;
    lc.pause_on_diverge = !c->no_tui;
    st = dl_learner_create(&s->l, &lc, s->model, dl_batch_source_loader(s->tr),
                           dl_batch_source_loader(s->va), s->ctl, err);
    if (st == DL_OK && c->pretrained[0])
        dl_learner_freeze(s->l); /* fastai creates a pretrained learner frozen */
    return st == DL_OK ? open_replicas(s, err) : st;
}

static dl_status open_all(dl_session *s, dl_err *err)
{
    dl_run_cfg *c = &s->cfg;
    /* One BLAS thread: parallelism comes from the replicas (docs/performance.md), and OpenBLAS's
     * own threads only slow this project's small GEMMs down. --threads is the loader's. */
    dl_blas_set_threads(1);
    dl_status st = dl_store_open(dl_store_dir_default(c->runs[0] ? c->runs : NULL), 0, &s->st, err);
    if (st != DL_OK)
        return st;
    dl_tensor_map body;
    dl_tensor_map_init(&body);
    if (c->pretrained[0]) {
        bool from_file;
        if ((st = read_pretrained(s, &body, &from_file, err)) != DL_OK)
            return st;
        /* An RGB body makes grey images RGB (fastai's rule); a 1-channel body takes the data's
         * channels and its stem is adapted below (core/run/stem.h). A foreign (ImageNet) body also
         * wants ImageNet's normalisation, as fastai adds it for pretrained models. */
        const dl_named_tensor *c1 = dl_tensor_map_get(&body, "conv1.weight");
        if (c1 && c1->ndim == 4 && c->channels == 0 && c1->shape[1] == 3)
            c->channels = 3;
        if (from_file && c1 && c1->ndim == 4 && c1->shape[1] == 3)
            c->imagenet_stats = true;
    }
    if ((st = open_data(s, err)) == DL_OK) {
        dl_model_cfg mc = {.arch = c->arch,
                           .in_channels = c->channels,
                           .n_out = dl_data_n_classes(s->ds),
                           .head = c->head,
                           .seed = (uint64_t)c->seed};
        if (c->pretrained[0])
            st = dl_stem_adapt(&body, c->channels, s->stem_note, sizeof s->stem_note, err);
        if (st == DL_OK)
            st = dl_model_create(&s->model, &mc, err);
        if (st == DL_OK && c->pretrained[0] &&
            (st = dl_model_load_body(s->model, &body, err)) != DL_OK)
            dl_err_wrap(err, "--pretrained %s", c->pretrained);
    }
    dl_tensor_map_free(&body);
    return st == DL_OK ? open_learner(s, err) : st;
}

dl_status dl_session_open(dl_session *s, const dl_run_cfg *cfg, dl_err *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    dl_run_cfg_resolve(&s->cfg);
    dl_status st = open_all(s, err);
    if (st != DL_OK)
        dl_session_close(s);
    return st;
}

void dl_run_cfg_prefix(const dl_run_cfg *c, char *out, size_t cap)
{
    if (c->name[0]) {
        snprintf(out, cap, "%s", c->name);
        return;
    }
    const char *src = c->data;
    const char *b = strrchr(src, '/');
    b = b && b[1] ? b + 1 : src;
    if (!strcmp(b, "fashion-mnist"))
        b = "fmnist";
    else if (!strcmp(b, "fashion-mosaic"))
        b = "fmosaic";
    snprintf(out, cap, "%.40s-%.40s", b, c->arch);
    for (char *p = out; *p; p++)
        if (*p == ':' || *p == ',' || *p == ' ' || *p == '.')
            *p = '-';
}

/* The configuration's JSON with the image preparation and the label kind beside it. */
static char *config_json(const dl_session *s)
{
    char *cfg = dl_run_cfg_to_json(&s->cfg);
    json_t *o = json_loads(cfg ? cfg : "", 0, NULL);
    free(cfg);
    if (!o)
        return NULL;
    dl_image_prep p;
    dl_data_prep(s->ds, &p);
    json_t *prep = json_object(), *mean = json_array(), *std = json_array();
    json_object_set_new(prep, "size", json_integer(p.size));
    json_object_set_new(prep, "channels", json_integer(p.channels));
    json_object_set_new(prep, "resize", json_integer(p.resize));
    for (int c = 0; c < p.channels; c++) {
        json_array_append_new(mean, json_real(p.mean[c]));
        json_array_append_new(std, json_real(p.std[c]));
    }
    json_object_set_new(prep, "mean", mean);
    json_object_set_new(prep, "std", std);
    json_object_set_new(o, "prep", prep);
    json_object_set_new(o, "multi_label", json_boolean(s->multi));
    /* how it was trained (not options: a resume may use other counts) */
    json_t *par = json_object();
    json_object_set_new(par, "replicas", json_integer(s->cfg.replicas));
    json_object_set_new(par, "ranks", json_integer(dl_dist_size()));
    json_object_set_new(par, "transport", json_string(dl_dist_transport()));
    json_object_set_new(par, "sync_bn", json_boolean(s->cfg.sync_bn));
    json_object_set_new(o, "parallel", par);
    char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return txt;
}

static char *vocab_json(const dl_dataset *ds)
{
    json_t *v = json_array();
    for (int k = 0; k < dl_data_n_classes(ds); k++)
        json_array_append_new(v, json_string(dl_data_class_name(ds, k)));
    char *txt = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return txt;
}

dl_status dl_session_new_run(dl_session *s, const char *prefix_override, dl_err *err)
{
    char prefix[DL_STORE_NAME_MAX], dsdesc[256];
    if (prefix_override)
        snprintf(prefix, sizeof prefix, "%s", prefix_override);
    else
        dl_run_cfg_prefix(&s->cfg, prefix, sizeof prefix);
    snprintf(dsdesc, sizeof dsdesc, "%s (%s)", s->cfg.data, dl_data_kind_name(dl_data_kind(s->ds)));
    char *cfg = config_json(s), *voc = vocab_json(s->ds);
    if (!cfg || !voc) {
        free(cfg);
        free(voc);
        return dl_err_set(err, DL_ENOMEM, "out of memory writing the run's configuration");
    }
    dl_run_spec spec = {.name_prefix = prefix,
                        .dataset = dsdesc,
                        .arch = s->cfg.arch,
                        .n_train = (int64_t)dl_data_count(s->ds, DL_SPLIT_TRAIN),
                        .n_valid = (int64_t)dl_data_count(s->ds, DL_SPLIT_VALID),
                        .vocab_json = voc,
                        .config_json = cfg,
                        .blas_kernel = dl_blas_corename()};
    dl_status st = dl_store_run_create(s->st, &spec, &s->run, s->run_name, sizeof s->run_name, err);
    free(cfg);
    free(voc);
    if (st != DL_OK)
        return st;
    for (size_t i = 0; i < dl_data_n_skipped(s->ds); i++) {
        const char *reason, *path = dl_data_skipped(s->ds, i, &reason);
        dl_store_skipped_add(s->st, s->run, path, reason, NULL);
    }
    dl_learner_attach_store(s->l, s->st, s->run);
    if (s->stem_note[0]) /* in the dashboard's log, the headless output and the run's events */
        dl_learner_warn(s->l, s->stem_note);
    return DL_OK;
}

void dl_session_close(dl_session *s)
{
    dl_learner_free(s->l);
    dl_replicas_free(s->rep);
    dl_control_free(s->ctl);
    dl_model_free(s->model);
    dl_loader_destroy(s->tr);
    dl_loader_destroy(s->va);
    dl_data_close(s->ds);
    dl_store_close(s->st);
    s->l = NULL, s->rep = NULL, s->ctl = NULL, s->model = NULL, s->tr = s->va = NULL, s->ds = NULL,
    s->st = NULL;
}
