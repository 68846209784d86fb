/* train-setup: what `dllab train` and `dllab lrfind` share: their options (parsed with
 * getopt_long into dl_train_args), and the session they build from them: dataset, loaders, model
 * (fresh, or with a pretrained body from a file or a run), run store + run, control channel and
 * learner. Errors are printed here with the command's name; functions return exit codes. */
#ifndef DL_TRAIN_SETUP_H
#define DL_TRAIN_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/data/data.h"
#include "core/learn/learner.h"
#include "core/store/store.h"

typedef enum dl_fit_choice { DL_CHOOSE_DEFAULT = 0, DL_CHOOSE_FIT, DL_CHOOSE_FLAT_COS, DL_CHOOSE_ONE_CYCLE,
                             DL_CHOOSE_FINE_TUNE } dl_fit_choice;

typedef struct dl_train_args {
    const char *cmd;           /* "train" or "lrfind", for messages */
    dl_data_config data;
    const char *arch;          /* default resnet-xs */
    dl_head_kind head;         /* default fastai */
    const char *pretrained;    /* FILE or RUN */
    int bs, epochs, freeze_epochs;
    bool lr_set;
    dl_lr_spec lr;
    dl_fit_choice fit;
    dl_optim_kind opt;
    double wd;                 /* NAN: optimiser default */
    int n_metrics;
    dl_metric_kind metrics[DL_SNAP_METRICS];
    float thresh;
    const char *monitor;
    int patience;
    double min_delta, plateau;
    bool load_best;
    const char *name, *runs;
    int threads;
    bool no_tui;
    const char *resume;        /* RUN to continue */
    int from_epoch;            /* -1: the latest checkpoint */
    int num_it;                /* lrfind iterations (default 100) */
    int argc;                  /* the command line these came from (recorded with a new run) */
    char **argv;
    char **owned_argv;         /* a run's recorded command line the options point into (NULL-ended;
                                  dl_train_args_from_run), freed by dl_train_args_release */
} dl_train_args;

/* Frees what dl_train_args_from_run allocated (a no-op otherwise); usable as a cleanup attribute. */
void dl_train_args_release(dl_train_args *a);

/* Parses argv (argv[0] is the command name). Returns -1 to go on, or an exit code (0 after --help,
 * 2 on a usage error, already reported). */
int dl_train_args_parse(dl_train_args *a, const char *cmd, int argc, char **argv, void (*usage)(FILE *));
/* The options block of the usage text (shared by both commands). */
void dl_train_args_usage(FILE *o);

typedef struct dl_session {
    dl_dataset *ds;
    dl_loader *tr, *va;
    dl_model *model;
    dl_control *ctl;
    dl_learner *l;
    dl_store *st;
    int64_t run;
    char run_name[DL_STORE_NAME_MAX];
    bool multi;
} dl_session;

/* Opens everything; on failure prints "dllab CMD: message" and returns 1 (session closed). */
int dl_session_open(dl_session *s, dl_train_args *a);
void dl_session_close(dl_session *s);
/* Creates the session's run in the store (prefix: --name or DATA-ARCH unless prefix_override),
 * recording argv, the image preparation and the vocab, and attaches it to the learner. */
int dl_session_new_run(dl_session *s, const dl_train_args *a, int argc, char **argv, const char *prefix_override);
/* Rebuilds the options a run was started with (its stored argv); returns -1 or an exit code. */
int dl_train_args_from_run(dl_train_args *a, const char *cmd, dl_store *st, int64_t run, void (*usage)(FILE *));

/* Loads a run's checkpoint (best if want_best, else latest, or epoch >= 0) into *map. */
dl_status dl_run_checkpoint_read(dl_store *st, int64_t run, int epoch, bool want_best, dl_tensor_map *map,
                                 dl_err *err);

#endif
