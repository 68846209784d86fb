/* cmd-interpret: `dllab interpret RUN [options]` reopens the data a run was trained on (its stored
 * command line), loads the run's best checkpoint (or --epoch K's), predicts the validation split
 * and prints fastai's interpretation: confusion matrix, most_confused(--min-val), top losses;
 * multi-label: per-class precision/recall/F1 at --thresh and the threshold sweep. The results are
 * saved to the run. Exit codes: 0 ok, 1 failure, 2 usage. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/commands.h"
#include "src/interp-report.h"
#include "src/runs-util.h"
#include "src/train-setup.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: dllab interpret RUN [--runs DIR] [--epoch K] [--thresh T] [--top K] [--min-val N]\n\n"
               "  --epoch K     use the checkpoint of epoch K (default: the best, else the latest)\n"
               "  --thresh T    multi-label threshold (default: the run's)\n"
               "  --top K       top losses to list (default 9)\n"
               "  --min-val N   most_confused: pairs seen at least N times (default 1)\n");
}

int cmd_interpret(int argc, char **argv)
{
    static const struct option opts[] = {{"runs", 1, 0, 'r'},   {"epoch", 1, 0, 'e'}, {"thresh", 1, 0, 't'},
                                         {"top", 1, 0, 'k'},    {"min-val", 1, 0, 'm'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *runs = NULL;
    int epoch = -1, top = 9, min_val = 1;
    double thresh = -1;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'r': runs = optarg; break;
        case 'e':
            if (dl_cli_int_arg("interpret", "--epoch", optarg, 0, INT_MAX, &epoch))
                return DL_EXIT_USAGE;
            break;
        case 't':
            if (dl_cli_prob_arg("interpret", "--thresh", optarg, &thresh))
                return DL_EXIT_USAGE;
            break;
        case 'k':
            if (dl_cli_int_arg("interpret", "--top", optarg, 1, 10000, &top))
                return DL_EXIT_USAGE;
            break;
        case 'm':
            if (dl_cli_int_arg("interpret", "--min-val", optarg, 1, INT_MAX, &min_val))
                return DL_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return DL_EXIT_OK;
        default:
            fprintf(stderr, "dllab interpret: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return DL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dllab interpret: %s\n", optind >= argc ? "missing RUN" : "more than one RUN given");
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    dl_store *st;
    if (dl_cli_open("interpret", runs, 0, &st) != 0)
        return DL_EXIT_FAIL;
    int64_t run;
    dl_train_args a __attribute__((cleanup(dl_train_args_release))) = {0}; /* from the run's record */
    const char *run_arg = argv[optind]; /* dl_train_args_from_run parses again and moves optind */
    int rc = dl_cli_find("interpret", st, run_arg, &run);
    if (rc == 0)
        rc = dl_train_args_from_run(&a, "interpret", st, run, usage);
    dl_store_close(st);
    if (rc >= 0)
        return rc;
    a.runs = runs;
    a.pretrained = NULL; /* the checkpoint replaces every weight */
    a.no_tui = true;
    if (thresh >= 0)
        a.thresh = (float)thresh;
    dl_session s;
    if ((rc = dl_session_open(&s, &a)) != DL_EXIT_OK)
        return rc;
    s.run = run;
    dl_tensor_map m, sd;
    dl_err err = {0};
    dl_status ds = dl_run_checkpoint_read(s.st, run, epoch, true, &m, &err);
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
        return DL_EXIT_FAIL;
    }
    dl_report_opts ro = {.epoch = epoch >= 0 ? epoch : 0, .thresh = a.thresh, .top_k = top, .min_val = min_val,
                         .save = true};
    rc = dl_interp_report(&s, "interpret", &ro, stdout);
    dl_session_close(&s);
    return rc;
}
