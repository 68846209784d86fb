/* screens: constructors of dllab's screens. Each fills a dl_screen (see ui/app.h) whose state it
 * allocates; the app calls its close() when the screen goes away.
 *  - train: the live dashboard over a learner's dl_control (header, progress, loss plot, lr
 *    strip, epoch table, events; keys post commands to the trainer).
 *  - lrfind: the LR-finder curve on a log-x axis with fastai's four suggestions and a cursor.
 *  - confusion: a heat-map confusion matrix (counts or row-normalised) with the most-confused
 *    list, from plain arrays.
 * Screens read only the feed / arrays given to them: never a model, never a kernel. */
#ifndef DL_UI_SCREENS_H
#define DL_UI_SCREENS_H

#include <stdint.h>

#include "core/err.h"
#include "core/learn/control.h"
#include "ui/app.h"
#include "ui/feed.h"

/* What the header says about a run; strings are copied. */
typedef struct dl_run_info {
    const char *run_name; /* "fmnist-resnet-xs-3" */
    const char *data;     /* "fashion-mnist (idx), 60000/10000" */
    const char *arch;     /* "resnet-xs" */
} dl_run_info;

/* Optional hooks the command provides (all may be NULL). */
typedef struct dl_train_hooks {
    void *user;
    /* `c` / `t`: push a confusion or top-losses screen for the latest validation, or return
     * nonzero with a message in msg when not available. */
    int (*confusion)(void *user, dl_app *app, char *msg, int cap);
    int (*top_losses)(void *user, dl_app *app, char *msg, int cap);
    /* Replaces the feed pull on every loop turn (the run view polls the store); returns DL_R_*. */
    int (*tick)(void *user, dl_feed *feed, dl_app *app);
    /* Called when the screen closes (frees user). */
    void (*close)(void *user);
    /* Fills the feed with what came before (a resumed run's history), once, at creation. */
    void (*history)(void *user, dl_feed *feed);
    /* `d`: leave the training running without this screen; returns DL_R_* (NULL: not possible
     * here, the screen says so). */
    int (*detach)(void *user, dl_app *app);
    /* q's question (NULL: the app's own) and its answer (key; -1 for a signal); returns DL_R_*. */
    const char *quit_prompt;
    int (*quit)(void *user, int key, dl_app *app);
} dl_train_hooks;

/* The training dashboard. ctl is not owned; feed may be NULL (the screen makes its own over ctl)
 * or a feed the caller owns (then it must outlive the screen). With ctl NULL and a filled feed it
 * is the run view of a saved run: the same panels, and steering keys say there is nothing to
 * steer. */
dl_status dl_screen_train(dl_screen *out, dl_control *ctl, dl_feed *feed, const dl_run_info *info,
                          const dl_train_hooks *hooks, dl_err *err);

/* What Enter does on the LR-finder screen: use_lr gets the chosen lr (return DL_R_* flags);
 * NULL with a control: post set_lr (slice(lr)) and resume, then close the screen. */
typedef struct dl_lrfind_hooks {
    void *user;
    int (*use_lr)(void *user, double lr, dl_app *app);
} dl_lrfind_hooks;

/* The LR-finder view over feed->lrfind (not owned; ctl may be NULL for a finished curve).
 * num_it: the sweep's requested iterations (the suggesters' window depends on it; 0 = 100). */
dl_status dl_screen_lrfind(dl_screen *out, dl_control *ctl, dl_feed *feed, int num_it,
                           const dl_lrfind_hooks *hooks, dl_err *err);

/* A confusion matrix: cm is k x k counts (row = actual, column = predicted), names k class
 * names (copied). */
dl_status dl_screen_confusion(dl_screen *out, const int64_t *cm, int k, const char *const *names,
                              dl_err *err);

/* The run view (`dllab show RUN`, Enter on the home screen): the dashboard over a run read from
 * the store (batches, epochs, events, last LR-finder sweep), polled about once a second so a run
 * still training elsewhere keeps moving. st stays owned by the caller and must outlive the
 * screen. `c` shows the stored confusion matrix when the run has one. */
struct dl_store;
dl_status dl_screen_run(dl_screen *out, struct dl_store *st, int64_t run_id, dl_err *err);
/* Fills feed (initialised, ctl NULL) with what the store holds for the run beyond what the feed
 * already has; returns 1 when anything was added. Used by the run view and its tests. */
int dl_feed_from_store(dl_feed *feed, struct dl_store *st, int64_t run_id, dl_err *err);

/* The dashboard over a run another process trains (ui/screen-attach.c): the store feeds it, its
 * keys go into the store's steering channel. st (writable; owned by the caller) must outlive the
 * screen. Refused (DL_EINVAL, saying why) when the run is not training or its process is gone.
 * *outcome (may be NULL) tells how the screen was left. */
typedef enum dl_attach_outcome {
    DL_ATTACH_DETACHED = 0, /* d, or q then d: the training goes on */
    DL_ATTACH_STOPPED,      /* q then s: asked the training to stop now */
    DL_ATTACH_ENDED         /* the training ended while attached */
} dl_attach_outcome;
dl_status dl_screen_attach(dl_screen *out, struct dl_store *st, int64_t run_id,
                           dl_attach_outcome *outcome, dl_err *err);

/* The home screen: the store's runs (name, date, data, arch, best metric, status). Enter opens
 * the run view, Space marks runs, c compares the marked ones (hook), d deletes (asks), b makes
 * the selected run the baseline, n opens the new-run form, whose Enter leaves the UI with the
 * run configuration to train (dl_home_request). */
typedef struct dl_home_hooks {
    void *user;
    int (*compare)(void *user, dl_app *app, const int64_t *ids, int n);
} dl_home_hooks;
dl_status dl_screen_home(dl_screen *out, struct dl_store *st, const dl_home_hooks *hooks,
                         dl_err *err);
/* After the app returns: the configuration the user asked to train, or NULL. Valid until the
 * screen closes; copy it. */
struct dl_run_cfg;
const struct dl_run_cfg *dl_home_request(const dl_screen *home);
/* Selects the run named name when it is listed (the run a training from home just made; NULL:
 * the newest) and shows message (NULL: none) on the bottom line. */
void dl_home_select(dl_screen *home, const char *name, const char *message);

/* The new-run form (n on the home screen; see screen-newrun.c). Enter with every field valid
 * writes the configuration to *result, sets *done and ends the UI; Esc closes the form. */
dl_status dl_screen_new_run(dl_screen *out, struct dl_run_cfg *result, int *done, dl_err *err);

/* The multi-label view: per-class precision/recall/F1 beside the threshold sweep (n_sweep points
 * of threshold, micro-F1, accuracy_multi) with a slider (Left/Right, b: best micro-F1). With
 * sweep_prf (n_sweep x 3 x k: precision, recall and F1 of each class at each sweep threshold) the
 * table follows the slider; without it (runs interpreted before it was stored) the table stays
 * at `thresh` and says so. */
dl_status dl_screen_multilabel(dl_screen *out, const char *const *names, const double *prec,
                               const double *rec, const double *f1, int k, double thresh,
                               double micro, const float *sweep_thresh, const float *sweep_f1,
                               const float *sweep_acc, int n_sweep, const double *sweep_prf,
                               dl_err *err);
/* Push the stored interpretation of a run: the confusion matrix (or the multi-label view), or the
 * top-losses images. Return 0, or -1 with a message in msg when the store has none. Usable as
 * the training screen's hooks with a reader connection to the run's store. */
int dl_ui_push_stored_confusion(dl_app *app, struct dl_store *st, int64_t run, char *msg, int cap);
int dl_ui_push_stored_top_losses(dl_app *app, struct dl_store *st, int64_t run, char *msg, int cap);

/* A page of images (half blocks) with a label under each: show-batch and top losses. Images
 * (dl_ui_image from ui/image.h) and labels are copied. A label may have a second line after
 * '\n'; a line "a\x1fb" shows as "a/b" with both names cut evenly to the tile's width. */
struct dl_ui_image;
void dl_images_fit_caption(const char *line, size_t len, int w, char *out, size_t cap);
dl_status dl_screen_images(dl_screen *out, const char *title, const struct dl_ui_image *img,
                           const char *const *labels, int n, dl_err *err);

/* Shared drawing pieces (also used by the run view). */
void dl_draw_epoch_table(dl_grid *g, dl_rect r, const dl_feed_epoch *rows, int n,
                         const char (*metric_names)[DL_SNAP_NAME], int n_metrics, int ascii);
void dl_fmt_lr(double lr, char *buf, int cap);
void dl_fmt_duration(double s, char *buf, int cap);
/* The progress bar's right-hand text (batch or validation pass, ETA, img/s) in buf; returns how
 * full the bar is, 0..1 (progress-text.c). */
double dl_progress_right(const dl_snapshot *sn, char *buf, int cap);
/* The key bar: the screen's keys, most useful first, as many as fit, then "? more" (keybar.c). */
void dl_draw_keybar(dl_grid *g, dl_rect r, int screen);
/* The status line after a steering command, in words ("will stop at the end of this epoch"),
 * for the trainer's phase: once a fit has ended it applies only if another fit follows
 * (cmd-text.c). */
void dl_cmd_describe(const dl_cmd *c, dl_phase phase, char *buf, int cap);
/* Monotonic seconds, for the screens that reload from the store every so often. */
double dl_ui_now(void);
/* name cut to w cells keeping its end ("fmnist-~et-xs-3"), in buf (or name itself when it fits). */
const char *dl_ui_fit_name(const char *name, int w, char *buf, size_t cap);
/* The LR-finder curve of f with its suggestions marked, the cursor (index, -1 for none) and,
 * with_list, the suggestion list and cursor read-out on the right. */
void dl_draw_lrfind(const dl_feed *f, dl_grid *g, dl_rect r, int ascii, int ylog, int num_it,
                    int cursor, int with_list);

#endif
