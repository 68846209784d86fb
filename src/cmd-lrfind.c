/* cmd-lrfind: `dllab lrfind DATA [options]` runs fastai's learning-rate finder (exponential sweep
 * 1e-7 .. 10 over --num-it training batches, stopping when the smoothed loss passes 4x its best)
 * on a fresh or --pretrained model, records the curve and the suggestions in a new run, and prints
 * a summary of the curve and the four suggestions (valley, steep, minimum, slide), each with the
 * reason when there is none. Enter on the finder's screen then trains, in this process, with the
 * same configuration and --lr at the cursor. Exit codes: 0 ok, 1 failure, 2 usage. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/train-run.h"
#include "src/train-setup.h"
#include "ui/app.h"
#include "ui/screens.h"
#include "ui/ui.h"

#define SYNOPSIS                                                                                   \
    "usage: dllab lrfind DATA [options] [--no-tui]\n\n"                                            \
    "Runs the learning-rate finder and prints fastai's suggestions.\n\n"

/* Enter on the finder: remember the cursor's lr and close the screen. */
static int use_lr(void *user, double lr, dl_app *app)
{
    (void)app;
    *(double *)user = lr;
    return DL_R_POP;
}

/* Trains in this process as `dllab train` would with the finder's configuration and --lr at the
 * cursor (the same data, model and options). */
static int train_at(const dl_run_cfg *found, const dl_ui_opts *uo, double lr)
{
    dl_run_cfg c = *found;
    char lr_text[32];
    snprintf(lr_text, sizeof lr_text, "%.3g", lr);
    dl_run_cfg_set(&c, dl_opt_find("lr"), lr_text, NULL);
    printf("training at the cursor's lr: dllab train %s --lr %s\n", c.data, lr_text);
    fflush(stdout);
    return dl_train_cfg(&c, uo, NULL, 0);
}

int cmd_lrfind(int argc, char **argv)
{
    dl_ui_opts uo;
    dl_ui_opts_take(&uo, &argc, argv);
    dl_run_cfg a;
    const char *data;
    int n_pos;
    int rc = dl_cli_cfg_parse(&a, "lrfind", SYNOPSIS, argc, argv, &data, 1, &n_pos);
    if (rc >= 0)
        return rc;
    if (n_pos != 1) {
        fprintf(stderr, "dllab lrfind: missing DATA (dllab lrfind --help)\n");
        return DL_EXIT_USAGE;
    }
    if ((rc = dl_cli_set_data(&a, "lrfind", data)) >= 0)
        return rc;
    dl_session s;
    if ((rc = dl_cli_session_open(&s, &a, "lrfind")) != DL_EXIT_OK)
        return rc;
    if ((rc = dl_cli_new_run(&s, "lrfind", NULL)) != DL_EXIT_OK) {
        dl_session_close(&s);
        return rc;
    }
    static dl_lrfind_curve curve;
    dl_job job = {.kind = DL_JOB_LRFIND, .curve = &curve};
    job.lrfind = dl_lrfind_defaults();
    job.lrfind.num_it = a.num_it;
    dl_err err = {0};
    double chosen_lr = NAN; /* Enter on the finder's screen */
    dl_control_install_signals(s.ctl, &err);
    dl_status st = dl_learner_start(s.l, &job, &err);
    if (st == DL_OK && !a.no_tui) {
        dl_err uerr = {0};
        dl_lrfind_hooks hooks = {.user = &chosen_lr, .use_lr = use_lr};
        if (dl_ui_lrfind(s.ctl, a.num_it, &hooks, &uo, NULL, &uerr) != DL_OK)
            fprintf(stderr, "dllab lrfind: %s; printing the summary\n", uerr.msg);
    }
    if (st == DL_OK)
        st = dl_learner_join(s.l, &err);
    if (st != DL_OK) {
        fprintf(stderr, "dllab lrfind: %s\n", err.msg);
        dl_store_run_finish(s.st, s.run, DL_RUN_CRASHED, NULL);
        dl_session_close(&s);
        return DL_EXIT_FAIL;
    }
    int best = -1;
    for (int i = 0; i < curve.n; i++)
        if (isfinite(curve.loss[i]) && (best < 0 || curve.loss[i] < curve.loss[best]))
            best = i;
    printf("lr finder on %s (%s): %d points, lr %.3g .. %.3g; stopped: %s\n", a.data, a.arch,
           curve.n, curve.n ? curve.lr[0] : NAN, curve.n ? curve.lr[curve.n - 1] : NAN,
           curve.stop_reason);
    if (best >= 0)
        printf("lowest smoothed loss %.4f at lr %.3g\n", curve.loss[best], curve.lr[best]);
    printf("%-8s %12s %10s\n", "method", "lr", "loss");
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        const dl_suggestion *g = &curve.sug[k];
        if (g->ok)
            printf("%-8s %12.3e %10.4f\n", dl_suggest_name((dl_suggest_kind)k), g->lr, g->y);
        else
            printf("%-8s %12s %10s  (%s)\n", dl_suggest_name((dl_suggest_kind)k), "-", "-",
                   g->reason);
    }
    dl_store_run_finish(s.st, s.run, dl_control_signal_pending() ? DL_RUN_STOPPED : DL_RUN_FINISHED,
                        NULL);
    printf("run %s: curve and suggestions saved in %s\n", s.run_name, dl_store_dir(s.st));
    dl_run_cfg found = s.cfg;
    dl_session_close(&s);
    if (chosen_lr > 0 && !dl_control_signal_pending())
        return train_at(&found, &uo, chosen_lr);
    return DL_EXIT_OK;
}
