/* run/run_cfg: the experiment as one typed object. A dl_run_cfg holds everything that defines a
 * run (data and its options, image preparation, architecture, head, pretrained source, schedule,
 * learning rates, optimiser, batch size, epochs, metrics, trackers, seed, threads, limits) plus
 * the few settings of one invocation (store folder, --no-tui, --resume, show-batch's -n...).
 *
 * Every field is described once, by a row of the option table (core/run/options.c): its name
 * (the --flag and the JSON key), type, default, range, help line, the commands that take it and
 * whether it is a hyper-parameter. Parsing, usage text, validation messages, JSON (de)serialisation
 * and compare's parameter diff all walk that table, so a new option is one row plus the code that
 * uses it.
 *
 * Learning rates are written in one grammar: "=V" one value for every group, "..HI" fastai's
 * slice(HI), "LO..HI" slice(LO, HI); ':' is accepted for '..'. A bare "V" is every group V, as
 * fastai's float (it meant slice(V) before schema 3: see cfg_json.c); the JSON stores explicit
 * forms, so a stored run keeps its meaning.
 *
 * Core never prints: every function reports through dl_err with messages in one style,
 * "--epochs: '0' is not a positive integer". */
#ifndef DL_RUN_CONFIG_H
#define DL_RUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/data/data.h"
#include "core/err.h"
#include "core/learn/control.h"
#include "core/learn/metrics.h"
#include "core/models/model.h"
#include "core/train/optim.h"
#include "core/train/sched.h"

#define DL_CFG_STR 1024 /* longest string value + 1 (paths, regexes, names) */

/* The schedule of a training (fastai's fit, fit_flat_cos, fit_one_cycle, fine_tune). */
typedef enum dl_schedule {
    DL_SCHEDULE_AUTO = 0, /* one-cycle, or fine-tune with --pretrained */
    DL_SCHEDULE_FIT,
    DL_SCHEDULE_FLAT_COS,
    DL_SCHEDULE_ONE_CYCLE,
    DL_SCHEDULE_FINE_TUNE,
    DL_SCHEDULE_COUNT
} dl_schedule;
const char *
dl_schedule_name(dl_schedule s); /* "auto", "fit", "flat-cos", "one-cycle", "fine-tune" */

/* The commands that take options from the table (a bit each). */
enum {
    DL_USE_TRAIN = 1 << 0,
    DL_USE_LRFIND = 1 << 1,
    DL_USE_DATA = 1 << 2,
    DL_USE_SHOW_BATCH = 1 << 3,
    DL_USE_SWEEP = 1 << 4,
    DL_USE_INTERPRET = 1 << 5,
};
/* "train" -> DL_USE_TRAIN ...; 0 for a command without table options. */
unsigned dl_cmd_bit(const char *cmd);

#define DL_CFG_MAX_OPTS 96

typedef struct dl_run_cfg {
    /* data */
    char data[DL_CFG_STR]; /* folder, archive, fashion-mnist or fashion-mosaic */
    char label_re[DL_CFG_STR], csv[DL_CFG_STR], fname_col[DL_CFG_STR], label_col[DL_CFG_STR];
    char valid_col[DL_CFG_STR], folder[DL_CFG_STR], cache[DL_CFG_STR];
    char label_delim;
    bool multi_label, no_aug, imagenet_stats, fast_decode;
    double valid_pct;
    int64_t seed, limit, valid_limit;
    int size, channels, mosaic_train, mosaic_valid;
    dl_resize_method resize;
    /* model */
    char arch[DL_CFG_STR], pretrained[DL_CFG_STR];
    dl_head_kind head;
    /* training */
    int bs, epochs, freeze_epochs;
    dl_lr_spec lr; /* lr.hi == 0: not given (the schedule's default) */
    dl_schedule schedule;
    dl_optim_kind opt;
    double wd;     /* NAN: the optimiser's default */
    int n_metrics; /* 0: error_rate, or accuracy_multi for multi-label data */
    dl_metric_kind metrics[DL_SNAP_METRICS];
    double thresh;
    char monitor[DL_CFG_STR];
    int patience;              /* 0: off */
    double min_delta, plateau; /* plateau 0: off */
    bool load_best;
    int num_it;            /* LR finder batches */
    int threads;           /* loader workers, 0: automatic */
    int replicas;          /* data-parallel replicas per process, 0: automatic */
    bool sync_bn;          /* BatchNorm over the global batch */
    char name[DL_CFG_STR]; /* run name prefix ("" = DATA-ARCH) */
    /* this invocation only (never stored) */
    char runs[DL_CFG_STR], resume[DL_CFG_STR];
    int from_epoch; /* -1: the latest checkpoint */
    bool no_tui;
    int show_n;                  /* show-batch -n */
    bool show_valid;             /* show-batch --valid */
    int jobs;                    /* sweep --jobs */
    int ck_epoch, top, min_val;  /* interpret --epoch, --top, --min-val */
    char checkpoint[DL_CFG_STR]; /* interpret --checkpoint: best, last or epoch-K ("": default) */
    /* which options were given (by row index), so a stored run's config can take overrides */
    bool given[DL_CFG_MAX_OPTS];
} dl_run_cfg;

/* Every default, from the table's rows. */
void dl_run_cfg_init(dl_run_cfg *c);

/* Fills in what "automatic" resolves to without the data: the schedule (fine-tune with a
 * pretrained body, else one-cycle), the optimiser's weight decay, the schedule's learning rate,
 * the monitor. Idempotent. The data-dependent ones (size, channels, metrics) are set by the
 * session once the data is open (dl_run_cfg_resolve_data). */
void dl_run_cfg_resolve(dl_run_cfg *c);
/* size, channels and metrics as the opened data made them. */
void dl_run_cfg_resolve_data(dl_run_cfg *c, const dl_image_prep *prep, bool multi_label);

/* The dataset description (strings point into c, which must outlive it). */
void dl_run_cfg_data(const dl_run_cfg *c, dl_data_config *d);

/* ---- the option table ---- */
typedef enum dl_opt_type {
    DL_OPT_FLAG = 0, /* no value: sets a bool */
    DL_OPT_SET,      /* no value: sets an enum field to `lo` (--fit, --one-cycle, ...) */
    DL_OPT_INT,      /* int field */
    DL_OPT_I64,      /* int64_t field */
    DL_OPT_REAL,     /* double field */
    DL_OPT_STR,      /* char[DL_CFG_STR] field */
    DL_OPT_CHAR,     /* one character */
    DL_OPT_ENUM,     /* int-sized enum field, by name */
    DL_OPT_LR,       /* dl_lr_spec */
    DL_OPT_METRICS   /* n_metrics + metrics[] */
} dl_opt_type;

enum {
    DL_OPT_HYPER = 1 << 0,  /* defines what the run learns: compare shows a difference */
    DL_OPT_STORED = 1 << 1, /* kept in the run's configuration JSON */
};

typedef struct dl_opt {
    const char *name; /* "epochs": --epochs, and the JSON key */
    char short_name;  /* 'n' for -n, else 0 */
    dl_opt_type type;
    size_t off;               /* offsetof(dl_run_cfg, field) */
    const char *def;          /* the default as the CLI would write it; NULL: empty / unset */
    double lo, hi;            /* numbers: the range; DL_OPT_SET: the value it sets */
    const char *const *names; /* DL_OPT_ENUM: value -> name, NULL-terminated */
    const char *allowed;      /* DL_OPT_INT: only these values, e.g. "1,3" (else the range) */
    unsigned cmds;            /* DL_CMD_* bits */
    unsigned flags;           /* DL_OPT_HYPER | DL_OPT_STORED */
    const char *section; /* usage heading: "data", "model and training", NULL: the command's own */
    const char *meta;    /* the value's placeholder in the usage text ("N", "DIR") */
    const char *help;    /* one line */
} dl_opt;

size_t dl_opt_count(void);
const dl_opt *dl_opt_at(size_t i);
const dl_opt *dl_opt_find(const char *name); /* by name; NULL when unknown */

/* Sets option o of c from its text (the CLI form); DL_EINVAL "--epochs: '0' is not a positive
 * integer" when the value is not valid. Marks the option given. */
dl_status dl_run_cfg_set(dl_run_cfg *c, const dl_opt *o, const char *text, dl_err *err);
/* Whether option `name` was given (on the command line, or set with dl_run_cfg_set). */
bool dl_run_cfg_given(const dl_run_cfg *c, const char *name);
/* The option's value as the CLI writes it ("" for an unset string). */
void dl_run_cfg_get(const dl_run_cfg *c, const dl_opt *o, char *buf, size_t cap);

/* Parses argv[1..argc) for command cmd ("train", "data", ...): options of the table that cmd
 * takes, and positionals into pos[] (at most max_pos; *n_pos says how many). Returns DL_OK
 * (with *help set after -h / --help: the caller prints the usage) or DL_EINVAL (message as
 * above, "unknown option '--x'" or "--epochs needs a value"). A later option wins. */
dl_status dl_run_cfg_parse(dl_run_cfg *c, const char *cmd, int argc, char **argv, const char **pos,
                           int max_pos, int *n_pos, bool *help, dl_err *err);

/* The usage lines of cmd's options, grouped by section, the command's own options first
 * (malloc'd text; NULL on OOM). */
char *dl_run_cfg_usage(const char *cmd);

/* ---- JSON (jansson-free interface: text in, text out) ---- */
/* The effective value of every stored option, by name (enums by name, lr in its explicit form),
 * as one JSON object text (malloc'd; NULL on OOM). Extra members (prep, vocab...) may be merged
 * by the caller. */
char *dl_run_cfg_to_json(const dl_run_cfg *c);
/* Reads a stored configuration back. Accepts the current form and the previous schema (the
 * command line kept as "argv", read with the table once, effective size and channels from its
 * "prep"); fields it does not name keep their defaults. DL_EFORMAT naming the key otherwise. */
dl_status dl_run_cfg_from_json(dl_run_cfg *c, const char *json, dl_err *err);

/* Two configurations hold the same value for every stored option. */
bool dl_run_cfg_same(const dl_run_cfg *a, const dl_run_cfg *b);

#endif
