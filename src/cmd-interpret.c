/* cmd-interpret: `dllab interpret RUN [options]` reopens the data a run was trained on (its stored
 * command line), loads the run's best checkpoint (--checkpoint best|last|epoch-K chooses) and says
 * which, predicts the validation split and prints fastai's interpretation: confusion matrix,
 * most_confused(--min-val), top losses; multi-label: per-class precision/recall/F1 at --thresh and
 * the threshold sweep. The results are saved to the run. Exit codes: 0 ok, 1 failure, 2 usage. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/commands.h"
#include "src/interp-report.h"
#include "src/runs-util.h"
#include "src/train-setup.h"

#define SYNOPSIS                                                                                   \
    "usage: dllab interpret RUN [--runs DIR] [--checkpoint best|last|epoch-K] [--thresh T]\n"      \
    "                           [--top K] [--min-val N] [--no-tui]\n\n"

/* The run's stored configuration with this command line's --runs and --thresh. */
static int run_cfg(dl_run_cfg *c, const dl_run_cfg *cli, const char *run_arg, int64_t *run)
{
    dl_store *st;
    if (dl_cli_open("interpret", cli->runs[0] ? cli->runs : NULL, 0, &st) != 0)
        return DL_EXIT_FAIL;
    dl_err err = {0};
    int rc = dl_cli_find("interpret", st, run_arg, run);
    if (rc == 0 && dl_run_cfg_from_run(c, st, *run, &err) != DL_OK) {
        fprintf(stderr, "dllab interpret: %s\n", err.msg);
        rc = DL_EXIT_FAIL;
    }
    dl_store_close(st);
    if (rc != 0)
        return rc;
    snprintf(c->runs, sizeof c->runs, "%s", cli->runs);
    if (dl_run_cfg_given(cli, "thresh"))
        c->thresh = cli->thresh;
    c->pretrained[0] = 0; /* the checkpoint replaces every weight */
    c->no_tui = true;
    return -1;
}

int cmd_interpret(int argc, char **argv)
{
    dl_run_cfg cli, a;
    const char *run_arg;
    int n_pos;
    int rc = dl_cli_cfg_parse(&cli, "interpret", SYNOPSIS, argc, argv, &run_arg, 1, &n_pos);
    if (rc >= 0)
        return rc;
    if (n_pos != 1) {
        fprintf(stderr, "dllab interpret: missing RUN\n");
        dl_cli_usage(stderr, "interpret", SYNOPSIS);
        return DL_EXIT_USAGE;
    }
    int64_t run;
    if ((rc = run_cfg(&a, &cli, run_arg, &run)) >= 0)
        return rc;
    dl_session s;
    if ((rc = dl_cli_session_open(&s, &a, "interpret")) != DL_EXIT_OK)
        return rc;
    s.run = run;
    dl_tensor_map m, sd;
    dl_err err = {0};
    char which[32] = "", said[128] = "";
    if (cli.ck_epoch >= 0) /* --epoch K, the older spelling of --checkpoint epoch-K */
        snprintf(which, sizeof which, "epoch-%d", cli.ck_epoch);
    int epoch = 0;
    dl_status ds = dl_run_checkpoint_choose(s.st, run, which[0] ? which : cli.checkpoint, &m, said,
                                            sizeof said, &epoch, &err);
    if (ds == DL_OK) {
        ds = dl_checkpoint_model_map(&m, &sd, &err);
        dl_tensor_map_free(&m);
        if (ds == DL_OK) {
            ds = dl_model_load_state_dict(s.model, &sd, &err);
            dl_tensor_map_free(&sd);
        }
    }
    if (ds != DL_OK) {
        fprintf(stderr, "dllab interpret: %s: %s\n", run_arg, err.msg);
        dl_session_close(&s);
        return ds == DL_EINVAL ? DL_EXIT_USAGE : DL_EXIT_FAIL;
    }
    dl_report_opts ro = {.epoch = epoch,
                         .thresh = (float)s.cfg.thresh,
                         .top_k = cli.top,
                         .min_val = cli.min_val,
                         .save = true,
                         .weights = said};
    rc = dl_interp_report(&s, "interpret", &ro, stdout);
    dl_session_close(&s);
    return rc;
}
