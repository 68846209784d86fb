/* cmd-lrfind: `dllab lrfind DATA [options]` runs fastai's learning-rate finder (exponential sweep
 * 1e-7 .. 10 over --num-it training batches, stopping when the smoothed loss passes 4x its best)
 * on a fresh or --pretrained model, records the curve and the suggestions in a new run, and prints
 * a summary of the curve and the four suggestions (valley, steep, minimum, slide), each with the
 * reason when there is none. Enter on the finder's screen then becomes `dllab train` with the same
 * options and --lr at the cursor. Exit codes: 0 ok, 1 failure, 2 usage. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/train-setup.h"
#include "ui/app.h"
#include "ui/screens.h"
#include "ui/ui.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: dllab lrfind DATA [options] [--no-tui]\n\n"
               "Runs the learning-rate finder and prints fastai's suggestions.\n\n");
    dl_train_args_usage(o);
}

/* Enter on the finder: remember the cursor's lr and close the screen. */
static int use_lr(void *user, double lr, dl_app *app)
{
    (void)app;
    *(double *)user = lr;
    return DL_R_POP;
}

/* Becomes `dllab train ARGS... --lr LR` (the same data, model and options); returns only on failure. */
static int train_at(int argc, char **argv, const dl_ui_opts *uo, double lr)
{
    char lr_text[32];
    snprintf(lr_text, sizeof lr_text, "%.3g", lr);
    char **args = calloc((size_t)argc + 6, sizeof *args);
    if (!args)
        return DL_EXIT_FAIL;
    int n = 0;
    args[n++] = "dllab";
    args[n++] = "train";
    for (int i = 1; i < argc; i++)
        args[n++] = argv[i];
    args[n++] = "--lr";
    args[n++] = lr_text;
    if (uo->ascii)
        args[n++] = "--ascii";
    if (uo->no_color)
        args[n++] = "--no-color";
    printf("training at the cursor's lr: dllab train");
    for (int i = 2; i < n; i++)
        printf(" %s", args[i]);
    printf("\n");
    fflush(stdout);
    execv("/proc/self/exe", args);
    perror("dllab lrfind: starting dllab train");
    free(args);
    return DL_EXIT_FAIL;
}

int cmd_lrfind(int argc, char **argv)
{
    dl_ui_opts uo;
    dl_ui_opts_take(&uo, &argc, argv);
    dl_train_args a;
    int rc = dl_train_args_parse(&a, "lrfind", argc, argv, usage);
    if (rc >= 0)
        return rc;
    if (a.resume) {
        fprintf(stderr, "dllab lrfind: --resume is for dllab train (use --pretrained RUN to start from a run)\n");
        return DL_EXIT_USAGE;
    }
    dl_session s;
    if ((rc = dl_session_open(&s, &a)) != DL_EXIT_OK)
        return rc;
    if ((rc = dl_session_new_run(&s, &a, argc, argv, NULL)) != DL_EXIT_OK) {
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
    printf("lr finder on %s (%s): %d points, lr %.3g .. %.3g; stopped: %s\n", a.data.source, a.arch, curve.n,
           curve.n ? curve.lr[0] : NAN, curve.n ? curve.lr[curve.n - 1] : NAN, curve.stop_reason);
    if (best >= 0)
        printf("lowest smoothed loss %.4f at lr %.3g\n", curve.loss[best], curve.lr[best]);
    printf("%-8s %12s %10s\n", "method", "lr", "loss");
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        const dl_suggestion *g = &curve.sug[k];
        if (g->ok)
            printf("%-8s %12.3e %10.4f\n", dl_suggest_name((dl_suggest_kind)k), g->lr, g->y);
        else
            printf("%-8s %12s %10s  (%s)\n", dl_suggest_name((dl_suggest_kind)k), "-", "-", g->reason);
    }
    dl_store_run_finish(s.st, s.run, dl_control_signal_pending() ? DL_RUN_STOPPED : DL_RUN_FINISHED, NULL);
    printf("run %s: curve and suggestions saved in %s\n", s.run_name, dl_store_dir(s.st));
    dl_session_close(&s);
    if (chosen_lr > 0 && !dl_control_signal_pending())
        return train_at(argc, argv, &uo, chosen_lr);
    return DL_EXIT_OK;
}
