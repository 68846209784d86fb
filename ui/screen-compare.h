/* screen-compare: the compare screen (dllab compare on a terminal, `c` on the home screen).
 * Top: two plots, the train loss (raw, EMA-smoothed with an adjustable factor) and the valid loss
 * or a metric (`m` cycles), one colour per shown run; x by step, epoch or wall time (`x`), log-y
 * (`y`). Bottom: the run list (legend and picker: up to DL_CMP_SHOWN runs drawn, Space toggles;
 * `b` makes the run under the cursor the baseline, in the store too when it is writable) beside the
 * table, one column per shown run: figures (deltas against the baseline) and the hyper-parameters
 * that differ (`d`: all). Runs still training are re-read about once a second. */
#ifndef DL_UI_SCREEN_COMPARE_H
#define DL_UI_SCREEN_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compare/compare.h"
#include "ui/app.h"

#define DL_CMP_SHOWN 6

/* The screen over c (owned by the screen from now on, even on failure) and st (not owned; must
 * outlive the screen). */
dl_status dl_screen_compare(dl_screen *out, dl_store *st, dl_compare *c, bool all_params,
                            dl_err *err);

/* dl_home_hooks.compare for the home screen: user is the dl_store *. Loads the marked runs and
 * pushes the screen; on failure shows the error on the message line. */
int dl_compare_home_hook(void *user, dl_app *app, const int64_t *ids, int n);

/* `dllab compare` on a terminal: a fresh app with only this screen, run until quit. Takes c. */
dl_status dl_compare_tui(dl_store *st, dl_compare *c, const dl_ui_opts *opts, bool all_params,
                         dl_err *err);

#endif
