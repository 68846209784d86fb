/* run/options: THE option table of dllab's run configuration (see run_cfg.h) and the two
 * functions every other use goes through: setting a field from its text (with the one message
 * style) and writing it back as text. A new option is one row here plus the code that uses it. */
#include "core/run/run_cfg.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/learner.h"
#include "core/models/resnet.h"

/* Enum fields are read and written as int through the table. */
_Static_assert(sizeof(dl_resize_method) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(dl_head_kind) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(dl_optim_kind) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(dl_schedule) == sizeof(int), "enum fields are int-sized");

static const char *const resize_names[] = {"crop", "pad", "pad-zeros", "squish", NULL};
static const char *const head_names[] = {"torchvision", "fastai", NULL};
static const char *const opt_names[] = {"sgd", "adam", NULL};
static const char *const schedule_names[] = {"auto",      "fit",       "flat-cos",
                                             "one-cycle", "fine-tune", NULL};
/* tripwires: a new enum value without its name breaks the build, not the JSON */
_Static_assert(sizeof resize_names / sizeof *resize_names == DL_RESIZE_SQUISH + 2, "resize names");
_Static_assert(sizeof head_names / sizeof *head_names == DL_HEAD_FASTAI + 2, "head names");
_Static_assert(sizeof opt_names / sizeof *opt_names == DL_OPTIM_ADAM + 2, "optimiser names");
_Static_assert(sizeof schedule_names / sizeof *schedule_names == DL_SCHEDULE_COUNT + 1,
               "schedule names");

const char *dl_schedule_name(dl_schedule s)
{
    return s >= 0 && s < DL_SCHEDULE_COUNT ? schedule_names[s] : "?";
}

#define F(field) offsetof(dl_run_cfg, field)
/* who takes what */
#define DATA_CMDS (DL_USE_TRAIN | DL_USE_LRFIND | DL_USE_DATA | DL_USE_SHOW_BATCH | DL_USE_SWEEP)
#define FIT_CMDS (DL_USE_TRAIN | DL_USE_LRFIND | DL_USE_SWEEP)
#define RUN_CMDS (DL_USE_TRAIN | DL_USE_LRFIND | DL_USE_SWEEP) /* lrfind: for Enter's training */
#define HS (DL_OPT_HYPER | DL_OPT_STORED)
#define ST DL_OPT_STORED
#define BIG 1e15

static const dl_opt table[] = {
    /* data */
    {"label-re", 0, DL_OPT_STR, F(label_re), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data", "RE",
     "labels from file names: POSIX ERE, group 1 is the label"},
    {"csv", 0, DL_OPT_STR, F(csv), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data", "FILE",
     "labels from a CSV (relative to DATA)"},
    {"fname-col", 0, DL_OPT_STR, F(fname_col), "fname", 0, 0, NULL, NULL, DATA_CMDS, HS, "data",
     "NAME", "CSV column of file names"},
    {"label-col", 0, DL_OPT_STR, F(label_col), "labels", 0, 0, NULL, NULL, DATA_CMDS, HS, "data",
     "NAME", "CSV column of labels"},
    {"label-delim", 0, DL_OPT_CHAR, F(label_delim), " ", 0, 0, NULL, NULL, DATA_CMDS, HS, "data",
     "C", "separator of several labels in a cell (default space)"},
    {"valid-col", 0, DL_OPT_STR, F(valid_col), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data",
     "NAME", "CSV column true/false/1/0 marking validation rows"},
    {"folder", 0, DL_OPT_STR, F(folder), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data", "DIR",
     "CSV file names are relative to DATA/DIR"},
    {"multi-label", 0, DL_OPT_FLAG, F(multi_label), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data",
     NULL, "force multi-label targets"},
    {"valid-pct", 0, DL_OPT_REAL, F(valid_pct), "0.2", 0, 0.99, NULL, NULL, DATA_CMDS, HS, "data",
     "P", "random validation fraction (dllab's own split)"},
    {"seed", 0, DL_OPT_I64, F(seed), "42", 0, 4611686018427387904.0, NULL, NULL, DATA_CMDS, HS,
     "data", "S", "split, initialisation and augmentation seed"},
    {"limit", 0, DL_OPT_I64, F(limit), "0", 1, 1099511627776.0, NULL, NULL, DATA_CMDS, HS, "data",
     "N", "only the first N training items (0: all)"},
    {"valid-limit", 0, DL_OPT_I64, F(valid_limit), "0", 1, 1099511627776.0, NULL, NULL, DATA_CMDS,
     HS, "data", "N", "only the first N validation items (0: all)"},
    {"size", 0, DL_OPT_INT, F(size), "0", 8, 2048, NULL, NULL, DATA_CMDS, HS, "data", "PX",
     "image size (0: 128; 28 fashion-mnist, 64 fashion-mosaic)"},
    {"resize", 0, DL_OPT_ENUM, F(resize), "crop", 0, 0, resize_names, NULL, DATA_CMDS, HS, "data",
     "M", "crop | pad | pad-zeros | squish"},
    {"channels", 0, DL_OPT_INT, F(channels), "0", 1, 3, NULL, "1,3", DATA_CMDS, HS, "data", "N",
     "1 or 3 (0: as the data)"},
    {"imagenet-stats", 0, DL_OPT_FLAG, F(imagenet_stats), NULL, 0, 0, NULL, NULL, DL_USE_DATA, HS,
     "data", NULL, "normalise with ImageNet statistics (automatic with a pretrained file)"},
    {"no-aug", 0, DL_OPT_FLAG, F(no_aug), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data", NULL,
     "no augmentation"},
    {"fast-decode", 0, DL_OPT_FLAG, F(fast_decode), NULL, 0, 0, NULL, NULL, DATA_CMDS, HS, "data",
     NULL, "decode JPEGs with the fast DCT (not identical to Pillow)"},
    {"cache", 0, DL_OPT_STR, F(cache), NULL, 0, 0, NULL, NULL, DATA_CMDS, ST, "data", "DIR",
     "where archives and fashion-mosaic are unpacked"},
    {"mosaic-train", 0, DL_OPT_INT, F(mosaic_train), "2000", 1, 10000000, NULL, NULL, DATA_CMDS, HS,
     "data", "N", "fashion-mosaic training mosaics"},
    {"mosaic-valid", 0, DL_OPT_INT, F(mosaic_valid), "500", 1, 10000000, NULL, NULL, DATA_CMDS, HS,
     "data", "N", "fashion-mosaic validation mosaics"},
    /* model and training */
    {"arch", 0, DL_OPT_STR, F(arch), "resnet-xs", 0, 0, NULL, NULL, FIT_CMDS, HS,
     "model and training", "A", "resnet-xs, resnet-s, resnet18, resnet34, resnet50"},
    {"head", 0, DL_OPT_ENUM, F(head), "fastai", 0, 0, head_names, NULL, FIT_CMDS, HS,
     "model and training", "H", "fastai or torchvision"},
    {"pretrained", 0, DL_OPT_STR, F(pretrained), NULL, 0, 0, NULL, NULL, FIT_CMDS, HS,
     "model and training", "X",
     "body weights from a FILE (.safetensors, .pth) or a saved RUN (starts frozen)"},
    {"bs", 0, DL_OPT_INT, F(bs), "64", 1, 65536, NULL, NULL, FIT_CMDS, HS, "model and training",
     "N", "batch size"},
    {"epochs", 0, DL_OPT_INT, F(epochs), "1", 1, 100000, NULL, NULL, RUN_CMDS, HS,
     "model and training", "N", "epochs"},
    {"lr", 0, DL_OPT_LR, F(lr), NULL, 0, 0, NULL, NULL, RUN_CMDS, HS, "model and training", "LR",
     "V every group, ..HI slice(HI), LO..HI spread (default 1e-3; fine-tune ..2e-3)"},
    {"schedule", 0, DL_OPT_ENUM, F(schedule), "auto", 0, 0, schedule_names, NULL, RUN_CMDS, HS,
     "model and training", "S",
     "fit, flat-cos, one-cycle, fine-tune (auto: fine-tune if pretrained)"},
    {"fit", 0, DL_OPT_SET, F(schedule), NULL, DL_SCHEDULE_FIT, 0, NULL, NULL, RUN_CMDS, 0,
     "model and training", NULL, "--schedule fit (constant lr)"},
    {"flat-cos", 0, DL_OPT_SET, F(schedule), NULL, DL_SCHEDULE_FLAT_COS, 0, NULL, NULL, RUN_CMDS, 0,
     "model and training", NULL, "--schedule flat-cos"},
    {"one-cycle", 0, DL_OPT_SET, F(schedule), NULL, DL_SCHEDULE_ONE_CYCLE, 0, NULL, NULL, RUN_CMDS,
     0, "model and training", NULL, "--schedule one-cycle"},
    {"fine-tune", 0, DL_OPT_SET, F(schedule), NULL, DL_SCHEDULE_FINE_TUNE, 0, NULL, NULL, RUN_CMDS,
     0, "model and training", NULL, "--schedule fine-tune"},
    {"freeze-epochs", 0, DL_OPT_INT, F(freeze_epochs), "1", 0, 100000, NULL, NULL, RUN_CMDS, HS,
     "model and training", "N", "fine-tune's frozen epochs"},
    {"opt", 0, DL_OPT_ENUM, F(opt), "adam", 0, 0, opt_names, NULL, FIT_CMDS, HS,
     "model and training", "O", "adam or sgd"},
    {"wd", 0, DL_OPT_REAL, F(wd), NULL, 0, 10, NULL, NULL, FIT_CMDS, HS, "model and training", "W",
     "weight decay (default: the optimiser's, Adam 0.01)"},
    {"metric", 0, DL_OPT_METRICS, F(n_metrics), NULL, 0, 0, NULL, NULL, FIT_CMDS, HS,
     "model and training", "M[,M]", "error_rate, accuracy, accuracy_multi (default by the labels)"},
    {"thresh", 0, DL_OPT_REAL, F(thresh), "0.5", 0, 1, NULL, NULL, FIT_CMDS | DL_USE_INTERPRET, HS,
     "model and training", "T", "accuracy_multi threshold"},
    {"monitor", 0, DL_OPT_STR, F(monitor), "valid_loss", 0, 0, NULL, NULL, RUN_CMDS, HS,
     "model and training", "NAME", "tracked column; the best checkpoint is flagged"},
    {"patience", 0, DL_OPT_INT, F(patience), "0", 1, 100000, NULL, NULL, RUN_CMDS, HS,
     "model and training", "N", "early stopping after N epochs without improvement (0: off)"},
    {"min-delta", 0, DL_OPT_REAL, F(min_delta), "0", 0, 1e9, NULL, NULL, RUN_CMDS, HS,
     "model and training", "D", "improvement threshold of the tracker"},
    {"plateau", 0, DL_OPT_REAL, F(plateau), "0", 1.0000001, 1e9, NULL, NULL, RUN_CMDS, HS,
     "model and training", "F", "divide the lr by F after an epoch without improvement (0: off)"},
    {"load-best", 0, DL_OPT_FLAG, F(load_best), NULL, 0, 0, NULL, NULL, RUN_CMDS, HS,
     "model and training", NULL, "load the best weights at the end"},
    {"num-it", 0, DL_OPT_INT, F(num_it), "100", 6, DL_LRFIND_MAX, NULL, NULL, DL_USE_LRFIND, HS,
     "model and training", "N", "LR-finder batches"},
    {"threads", 0, DL_OPT_INT, F(threads), "0", 1, 1024, NULL, NULL, FIT_CMDS, ST,
     "model and training", "N", "loader threads (0: every core); BLAS is single-threaded"},
    {"replicas", 0, DL_OPT_INT, F(replicas), "0", 1, 1024, NULL, NULL, FIT_CMDS, ST,
     "model and training", "N",
     "data-parallel replicas, one thread each, splitting --bs (0: as many as cores)"},
    {"sync-bn", 0, DL_OPT_FLAG, F(sync_bn), NULL, 0, 0, NULL, NULL, FIT_CMDS, HS,
     "model and training", NULL, "BatchNorm statistics over the whole batch, not per replica"},
    {"name", 0, DL_OPT_STR, F(name), NULL, 0, 0, NULL, NULL, FIT_CMDS, ST, "model and training",
     "NAME", "run name prefix (default DATA-ARCH)"},
    /* this invocation */
    {"resume", 0, DL_OPT_STR, F(resume), NULL, 0, 0, NULL, NULL, DL_USE_TRAIN, 0, NULL, "RUN",
     "continue RUN from its last checkpoint (same options)"},
    {"from-epoch", 0, DL_OPT_INT, F(from_epoch), "-1", 0, 1000000, NULL, NULL, DL_USE_TRAIN, 0,
     NULL, "K", "with --resume: rewind to the checkpoint of epoch K (a new run)"},
    {"n", 'n', DL_OPT_INT, F(show_n), "12", 1, 256, NULL, NULL, DL_USE_SHOW_BATCH, 0, NULL, "N",
     "images in the batch"},
    {"valid", 0, DL_OPT_FLAG, F(show_valid), NULL, 0, 0, NULL, NULL, DL_USE_SHOW_BATCH, 0, NULL,
     NULL, "validation items (not augmented)"},
    {"jobs", 0, DL_OPT_INT, F(jobs), "1", 1, 64, NULL, NULL, DL_USE_SWEEP, 0, NULL, "N",
     "points trained at once (each in a child process)"},
    {"epoch", 0, DL_OPT_INT, F(ck_epoch), "-1", 0, INT_MAX, NULL, NULL, DL_USE_INTERPRET, 0, NULL,
     "K", "use the checkpoint of epoch K (default: the best, else the latest)"},
    {"checkpoint", 0, DL_OPT_STR, F(checkpoint), NULL, 0, 0, NULL, NULL, DL_USE_INTERPRET, 0, NULL,
     "WHICH", "best, last or epoch-K (default: the best, else the last)"},
    {"top", 0, DL_OPT_INT, F(top), "9", 1, 10000, NULL, NULL, DL_USE_INTERPRET, 0, NULL, "K",
     "top losses to list"},
    {"min-val", 0, DL_OPT_INT, F(min_val), "1", 1, INT_MAX, NULL, NULL, DL_USE_INTERPRET, 0, NULL,
     "N", "most_confused: pairs seen at least N times"},
    {"no-tui", 0, DL_OPT_FLAG, F(no_tui), NULL, 0, 0, NULL, NULL,
     FIT_CMDS | DL_USE_SHOW_BATCH | DL_USE_INTERPRET, 0, NULL, NULL,
     "plain text instead of the screen (implied when stdout is not a terminal)"},
    {"runs", 0, DL_OPT_STR, F(runs), NULL, 0, 0, NULL, NULL, FIT_CMDS | DL_USE_INTERPRET, 0, NULL,
     "DIR", "run store (default $DLLAB_RUNS or ./dllab-runs)"},
};
#define N_OPTS (sizeof table / sizeof *table)
_Static_assert(sizeof table / sizeof *table <= DL_CFG_MAX_OPTS, "raise DL_CFG_MAX_OPTS");

size_t dl_opt_count(void) { return N_OPTS; }
const dl_opt *dl_opt_at(size_t i) { return i < N_OPTS ? &table[i] : NULL; }

const dl_opt *dl_opt_find(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static const char *const cmd_names[] = {"train", "lrfind",    "data", "show-batch",
                                        "sweep", "interpret", NULL};

unsigned dl_cmd_bit(const char *cmd)
{
    for (int i = 0; cmd && cmd_names[i]; i++)
        if (strcmp(cmd, cmd_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* ---- values ---- */

static void *field(dl_run_cfg *c, const dl_opt *o) { return (char *)c + o->off; }
static const void *cfield(const dl_run_cfg *c, const dl_opt *o) { return (const char *)c + o->off; }

static bool read_ll(const char *s, long long *v)
{
    char *end;
    if (!*s)
        return false;
    *v = strtoll(s, &end, 10);
    return !*end;
}

static bool read_d(const char *s, double *v)
{
    char *end;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    return !*end && isfinite(*v);
}

static dl_status bad_int(const dl_opt *o, const char *s, dl_err *err)
{
    if (o->allowed)
        return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not one of %s", o->name, s, o->allowed);
    if (o->lo == 1 && o->hi >= 100000)
        return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not a positive integer%s", o->name, s,
                          o->def && !strcmp(o->def, "0") ? " (0: off)" : "");
    if (o->lo == 0 && o->hi >= 100000)
        return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not a non-negative integer", o->name, s);
    return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not an integer from %.0f to %.0f", o->name, s,
                      o->lo, o->hi);
}

/* A number the row accepts: in range, or the row's default (the "off" / "automatic" value). */
static bool int_ok(const dl_opt *o, long long v)
{
    if (o->def && v == atoll(o->def))
        return true;
    if (o->allowed) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", v);
        for (const char *p = o->allowed; (p = strstr(p, buf)) != NULL; p++)
            if ((p == o->allowed || p[-1] == ',') && (p[strlen(buf)] == ',' || !p[strlen(buf)]))
                return true;
        return false;
    }
    return (double)v >= o->lo && (double)v <= o->hi;
}

static dl_status set_int(dl_run_cfg *c, const dl_opt *o, const char *s, dl_err *err)
{
    long long v;
    if (!read_ll(s, &v) || !int_ok(o, v))
        return bad_int(o, s, err);
    if (o->type == DL_OPT_I64)
        *(int64_t *)field(c, o) = v;
    else
        *(int *)field(c, o) = (int)v;
    return DL_OK;
}

static dl_status set_real(dl_run_cfg *c, const dl_opt *o, const char *s, dl_err *err)
{
    double v;
    bool ok = read_d(s, &v) && ((v >= o->lo && v <= o->hi) || (o->def && v == atof(o->def)));
    if (!ok) {
        if (o->lo > 1)
            return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not a number above 1", o->name, s);
        return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not a number from %g to %g", o->name, s,
                          o->lo, o->hi);
    }
    *(double *)field(c, o) = v;
    return DL_OK;
}

static dl_status set_enum(dl_run_cfg *c, const dl_opt *o, const char *s, dl_err *err)
{
    for (int i = 0; o->names[i]; i++)
        if (strcmp(s, o->names[i]) == 0) {
            *(int *)field(c, o) = i;
            return DL_OK;
        }
    char list[256] = "";
    for (int i = 0; o->names[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 o->names[i]);
    return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not one of %s", o->name, s, list);
}

static dl_status set_metrics(dl_run_cfg *c, const char *s, dl_err *err)
{
    char buf[256];
    int n = 0;
    dl_metric_kind m[DL_SNAP_METRICS];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == DL_SNAP_METRICS)
            return dl_err_set(err, DL_EINVAL, "--metric: '%s' names more than %d metrics", s,
                              DL_SNAP_METRICS);
        if (dl_metric_parse(t, &m[n], NULL) != DL_OK)
            return dl_err_set(err, DL_EINVAL,
                              "--metric: '%s' is not one of error_rate, accuracy, accuracy_multi",
                              t);
        n++;
    }
    if (n == 0 && *s)
        return dl_err_set(err, DL_EINVAL, "--metric: '%s' names no metric", s);
    c->n_metrics = n;
    memcpy(c->metrics, m, sizeof m);
    return DL_OK;
}

/* The one lr grammar (dl_lr_parse): "V" and "=V" every group, "..HI" slice(HI), "LO..HI"
 * slice(LO, HI); ':' works as '..'. */
static dl_status set_lr(dl_run_cfg *c, const char *s, dl_err *err)
{
    dl_lr_spec lr;
    dl_err e2 = {0};
    if (dl_lr_parse(s, &lr, &e2) != DL_OK || !(lr.hi > 0) ||
        (lr.kind == DL_LR_RANGE && !(lr.lo > 0)))
        return dl_err_set(
            err, DL_EINVAL,
            "--lr: '%s' is not a learning rate (V or =V for every group, ..HI for slice(HI), "
            "LO..HI with LO <= HI)",
            s);
    c->lr = lr;
    return DL_OK;
}

/* Options whose strings mean something the table's types cannot say: checked when set, so a bad
 * value is a usage error before any data is read. */
static dl_status check_arch(const dl_opt *o, const char *s, dl_err *err)
{
    dl_resnet_spec spec;
    dl_err e2 = {0};
    if (dl_resnet_spec_parse(s, &spec, &e2) == DL_OK)
        return DL_OK;
    return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not an architecture dllab knows (%s)", o->name,
                      s, e2.msg);
}

static const struct {
    const char *name;
    dl_status (*check)(const dl_opt *o, const char *value, dl_err *err);
} checks[] = {{"arch", check_arch}};

static dl_status checked(const dl_opt *o, const char *s, dl_err *err)
{
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++)
        if (!strcmp(checks[i].name, o->name))
            return checks[i].check(o, s, err);
    return DL_OK;
}

dl_status dl_run_cfg_set(dl_run_cfg *c, const dl_opt *o, const char *s, dl_err *err)
{
    dl_status st = DL_OK;
    if (!s)
        s = "";
    switch (o->type) {
    case DL_OPT_FLAG:
        if (*s && strcmp(s, "true") && strcmp(s, "false"))
            return dl_err_set(err, DL_EINVAL, "--%s takes no value ('%s')", o->name, s);
        *(bool *)field(c, o) = strcmp(s, "false") != 0;
        break;
    case DL_OPT_SET:
        *(int *)field(c, o) = (int)o->lo;
        break;
    case DL_OPT_INT:
    case DL_OPT_I64:
        st = set_int(c, o, s, err);
        break;
    case DL_OPT_REAL:
        st = set_real(c, o, s, err);
        break;
    case DL_OPT_STR:
        if (strlen(s) >= DL_CFG_STR)
            return dl_err_set(err, DL_EINVAL, "--%s: '%.40s...' is longer than %d characters",
                              o->name, s, DL_CFG_STR - 1);
        if (*s && checked(o, s, err) != DL_OK)
            return DL_EINVAL;
        snprintf(field(c, o), DL_CFG_STR, "%s", s);
        break;
    case DL_OPT_CHAR:
        if (strlen(s) != 1)
            return dl_err_set(err, DL_EINVAL, "--%s: '%s' is not a single character", o->name, s);
        *(char *)field(c, o) = s[0];
        break;
    case DL_OPT_ENUM:
        st = set_enum(c, o, s, err);
        break;
    case DL_OPT_LR:
        st = set_lr(c, s, err);
        break;
    case DL_OPT_METRICS:
        st = set_metrics(c, s, err);
        break;
    }
    if (st == DL_OK)
        c->given[o - table] = true;
    return st;
}

static void fmt_real(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.17g", v);
    if (strtod(buf, NULL) == v) /* the shortest text that reads back the same */
        for (int p = 1; p <= 17; p++) {
            char t[64];
            snprintf(t, sizeof t, "%.*g", p, v);
            if (strtod(t, NULL) == v) {
                snprintf(buf, cap, "%s", t);
                break;
            }
        }
}

static void fmt_lr(const dl_lr_spec *lr, char *buf, size_t cap)
{
    char a[40], b[40];
    fmt_real(lr->lo, a, sizeof a);
    fmt_real(lr->hi, b, sizeof b);
    if (!(lr->hi > 0))
        snprintf(buf, cap, "%s", "");
    else if (lr->kind == DL_LR_CONST)
        snprintf(buf, cap, "=%s", b);
    else if (lr->kind == DL_LR_RANGE)
        snprintf(buf, cap, "%s..%s", a, b);
    else
        snprintf(buf, cap, "..%s", b);
}

bool dl_run_cfg_given(const dl_run_cfg *c, const char *name)
{
    const dl_opt *o = dl_opt_find(name);
    return o && c->given[o - table];
}

void dl_run_cfg_get(const dl_run_cfg *c, const dl_opt *o, char *buf, size_t cap)
{
    const void *f = cfield(c, o);
    switch (o->type) {
    case DL_OPT_FLAG:
        snprintf(buf, cap, "%s", *(const bool *)f ? "true" : "false");
        break;
    case DL_OPT_SET:
        snprintf(buf, cap, "%s", *(const int *)f == (int)o->lo ? "true" : "false");
        break;
    case DL_OPT_INT:
        snprintf(buf, cap, "%d", *(const int *)f);
        break;
    case DL_OPT_I64:
        snprintf(buf, cap, "%lld", (long long)*(const int64_t *)f);
        break;
    case DL_OPT_REAL:
        if (isnan(*(const double *)f))
            snprintf(buf, cap, "%s", "");
        else
            fmt_real(*(const double *)f, buf, cap);
        break;
    case DL_OPT_STR:
        snprintf(buf, cap, "%s", (const char *)f);
        break;
    case DL_OPT_CHAR:
        snprintf(buf, cap, "%c", *(const char *)f);
        break;
    case DL_OPT_ENUM:
        snprintf(buf, cap, "%s", o->names[*(const int *)f]);
        break;
    case DL_OPT_LR:
        fmt_lr(f, buf, cap);
        break;
    case DL_OPT_METRICS:
        buf[0] = 0;
        for (int i = 0; i < c->n_metrics; i++)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", i ? "," : "",
                     dl_metric_name(c->metrics[i]));
        break;
    }
}

void dl_run_cfg_init(dl_run_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->wd = NAN;
    for (size_t i = 0; i < N_OPTS; i++)
        if (table[i].def)
            dl_run_cfg_set(c, &table[i], table[i].def, NULL);
    memset(c->given, 0, sizeof c->given);
}
