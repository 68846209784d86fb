/* ui: the entry points commands call. Each opens the terminal, runs the loop over one screen
 * (and whatever it opens) and restores the terminal before returning; stderr goes to stderr_log
 * (NULL: a temporary file replayed after the screen closes). They return DL_OK when the user
 * quit, or the error that kept the UI from starting (no terminal, unknown TERM): callers then
 * fall back to plain text. */
#ifndef DL_UI_H
#define DL_UI_H

#include <stdint.h>

#include "core/err.h"
#include "core/learn/control.h"
#include "core/store/store.h"
#include "ui/colors.h"
#include "ui/image.h"
#include "ui/screens.h"

/* Takes the UI's own options out of argv (in place, updating *argc): --ascii and --no-color, so
 * a command can parse the rest with its own parser. */
void dl_ui_opts_take(dl_ui_opts *o, int *argc, char **argv);

/* The dashboard while a learner trains on its own thread (started before, joined after by the
 * caller). q (confirmed) and Ctrl-C post stop_now, and Ctrl-C also raises the control's signal
 * flag; the UI returns at once, the trainer stops at the next batch boundary and saves. When the
 * training ends the dashboard stays up, showing the final state, until q. hooks may be NULL. */
dl_status dl_ui_train(dl_control *ctl, const dl_run_info *info, const dl_train_hooks *hooks,
                      const dl_ui_opts *opts, const char *stderr_log, dl_err *err);
/* The LR-finder screen while a learner sweeps on its own thread (`dllab lrfind DATA` on a
 * terminal): the curve grows live, the suggestions appear, the cursor picks an lr. Enter calls
 * hooks->use_lr (e.g. to start training at it) or, without a hook, posts set_lr + resume. */
dl_status dl_ui_lrfind(dl_control *ctl, int num_it, const dl_lrfind_hooks *hooks,
                       const dl_ui_opts *opts, const char *stderr_log, dl_err *err);
/* The run view of one stored run. */
dl_status dl_ui_show_run(dl_store *st, int64_t run_id, const dl_ui_opts *opts, dl_err *err);
/* The dashboard attached to a run trained by another process (see dl_screen_attach). */
dl_status dl_ui_attach(dl_store *st, int64_t run_id, const dl_ui_opts *opts,
                       dl_attach_outcome *outcome, dl_err *err);
/* The home screen, the run named select selected (NULL: the newest) and message on its bottom
 * line (NULL: none). When the user asked for a new run, *request gets its configuration and
 * *asked is set. */
struct dl_run_cfg;
dl_status dl_ui_home(dl_store *st, const dl_home_hooks *hooks, const dl_ui_opts *opts,
                     const char *select, const char *message, struct dl_run_cfg *request,
                     int *asked, dl_err *err);
/* A page of images (show-batch). */
dl_status dl_ui_images(const char *title, const dl_ui_image *img, const char *const *labels, int n,
                       const dl_ui_opts *opts, dl_err *err);

#endif
