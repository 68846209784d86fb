/* cmd-show: `dllab show RUN` opens the run view (plots, epoch table, confusion, events) on a
 * terminal, and otherwise (or with --no-tui) prints a text summary of a run: what it trained on
 * and how (configuration), the epoch table, its best and latest checkpoints, LR-finder
 * suggestions, skipped files and events. RUN is a name, an id or a unique prefix. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/data.h"
#include "src/commands.h"
#include "ui/ui.h"
#include "src/runs-util.h"
#include "src/show-text.h"

static void print_header(FILE *out, const dl_run *r)
{
    char created[32], finished[32], dur[32];
    dl_cli_fmt_time(r->created, created, sizeof created);
    dl_cli_fmt_time(r->finished, finished, sizeof finished);
    dl_cli_fmt_duration((r->finished > 0 ? r->finished : r->last_t) - r->created, dur, sizeof dur);
    fprintf(out, "run       %s (id %lld)%s\n", r->name, (long long)r->id,
            r->baseline ? "  [baseline]" : "");
    fprintf(out, "status    %s\n", dl_run_status_name(r->status));
    fprintf(out, "started   %s   finished %s   took %s\n", created, finished, dur);
    fprintf(out, "data      %s: %lld train, %lld valid items\n", *r->dataset ? r->dataset : "-",
            (long long)r->n_train, (long long)r->n_valid);
    json_t *vocab = json_loads(r->vocab_json, 0, NULL);
    if (json_is_array(vocab) && json_array_size(vocab) > 0) {
        fprintf(out, "classes   %zu:", json_array_size(vocab));
        for (size_t i = 0; i < json_array_size(vocab) && i < 12; i++) {
            const char *c = json_string_value(json_array_get(vocab, i));
            fprintf(out, " %s", c ? c : "?");
        }
        fprintf(out, "%s\n", json_array_size(vocab) > 12 ? " ..." : "");
    }
    json_decref(vocab);
    fprintf(out, "arch      %s\n", *r->arch ? r->arch : "-");
    fprintf(out, "dllab     %s, BLAS kernel %s, host %s, pid %lld\n", r->version,
            *r->blas_kernel ? r->blas_kernel : "-", r->host, (long long)r->pid);
    if (*r->tags)
        fprintf(out, "tags      %s\n", r->tags);
    if (*r->note)
        fprintf(out, "note      %s\n", r->note);
}

static void print_config(FILE *out, const dl_run *r)
{
    json_t *cfg = json_loads(r->config_json, JSON_DECODE_ANY, NULL);
    if (!cfg || (json_is_object(cfg) && json_object_size(cfg) == 0)) {
        json_decref(cfg);
        return;
    }
    /* the image preparation stores the resize method as its enum value (predict reads it):
     * a reader gets its name */
    json_t *prep = json_object_get(cfg, "prep"), *rz = json_object_get(prep, "resize");
    if (json_is_integer(rz))
        json_object_set_new(prep, "resize",
                            json_string(dl_resize_name((dl_resize_method)json_integer_value(rz))));
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(8));
    fprintf(out, "\nconfiguration\n");
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        fprintf(out, "  %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
    }
    free(text);
    json_decref(cfg);
}

static void print_epochs(FILE *out, const dl_epoch_row *ep, size_t n, int best)
{
    if (!n) {
        fprintf(out, "\nno epochs completed\n");
        return;
    }
    fprintf(out, "\n%5s  %10s  %10s", "epoch", "train_loss", "valid_loss");
    for (int m = 0; m < ep[0].n_metrics; m++)
        fprintf(out, "  %12s", ep[0].metrics[m].name);
    fprintf(out, "  %8s\n", "time");
    for (size_t i = 0; i < n; i++) {
        char tl[32], vl[32], dur[32];
        dl_cli_fmt_fit(ep[i].train_loss, 6, 10, tl, sizeof tl);
        dl_cli_fmt_fit(ep[i].valid_loss, 6, 10, vl, sizeof vl);
        dl_cli_fmt_duration(ep[i].duration, dur, sizeof dur);
        fprintf(out, "%5d  %10s  %10s", ep[i].epoch, tl, vl);
        for (int m = 0; m < ep[i].n_metrics; m++) {
            char v[32];
            dl_cli_fmt_fit(ep[i].metrics[m].value, 6, 12, v, sizeof v);
            fprintf(out, "  %12s", v);
        }
        fprintf(out, "  %8s%s\n", dur, ep[i].epoch == best ? "  <- best valid loss" : "");
    }
}

dl_status dl_show_text(FILE *out, dl_store *st, int64_t run_id, dl_err *err)
{
    dl_run r;
    dl_status s = dl_store_run_get(st, run_id, &r, err);
    if (s)
        return s;
    print_header(out, &r);
    print_config(out, &r);
    dl_epoch_row *ep = NULL;
    size_t n_ep = 0;
    if ((s = dl_store_epochs(st, run_id, &ep, &n_ep, err)))
        goto done;
    print_epochs(out, ep, n_ep, r.best_epoch);
    free(ep);
    if (r.n_batches)
        fprintf(out, "%lld batches logged\n", (long long)r.n_batches);

    dl_checkpoint_row ck;
    char path[4096];
    if (dl_store_checkpoint_best(st, run_id, &ck, NULL) == DL_OK) {
        dl_store_checkpoint_abspath(st, ck.path, path, sizeof path);
        fprintf(out, "\nbest checkpoint    %s (epoch %d, monitored %.6g)\n", path, ck.epoch,
                ck.monitor);
        dl_checkpoint_row_clear(&ck);
    }
    if (dl_store_checkpoint_latest(st, run_id, &ck, NULL) == DL_OK) {
        dl_store_checkpoint_abspath(st, ck.path, path, sizeof path);
        fprintf(out, "%slatest checkpoint  %s (epoch %d)\n", r.n_epochs ? "" : "\n", path,
                ck.epoch);
        dl_checkpoint_row_clear(&ck);
    }

    dl_lrfind *lf = NULL;
    size_t n_lf = 0;
    if ((s = dl_store_lrfinds(st, run_id, &lf, &n_lf, err)))
        goto done;
    for (size_t i = 0; i < n_lf; i++) {
        fprintf(out, "\nLR finder at step %lld (%zu points):", (long long)lf[i].step, lf[i].n);
        for (size_t k = 0; k < lf[i].n_sug; k++)
            fprintf(out, " %s %.3g", lf[i].sug[k].method, lf[i].sug[k].lr);
        fprintf(out, "\n");
    }
    dl_lrfinds_free(lf, n_lf);

    dl_skipped_row *sk = NULL;
    size_t n_sk = 0;
    if ((s = dl_store_skipped(st, run_id, &sk, &n_sk, err)))
        goto done;
    if (n_sk) {
        fprintf(out, "\n%zu skipped input file%s\n", n_sk, n_sk == 1 ? "" : "s");
        for (size_t i = 0; i < n_sk && i < 10; i++)
            fprintf(out, "  %s: %s\n", sk[i].path, sk[i].reason);
        if (n_sk > 10)
            fprintf(out, "  ... (dllab export shows all)\n");
    }
    dl_skipped_free(sk, n_sk);

    dl_event_row *ev = NULL;
    size_t n_ev = 0;
    if ((s = dl_store_events(st, run_id, -1, &ev, &n_ev, err)))
        goto done;
    if (n_ev) {
        fprintf(out, "\nevents\n");
        for (size_t i = 0; i < n_ev; i++) {
            char when[32];
            dl_cli_fmt_time(ev[i].t, when, sizeof when);
            fprintf(out, "  %s  step %-7lld %-18s %s\n", when, (long long)ev[i].step, ev[i].kind,
                    ev[i].payload);
        }
    }
    dl_events_free(ev, n_ev);
done:
    dl_run_clear(&r);
    return s;
}

int cmd_show(int argc, char **argv)
{
    const char *dir = NULL, *query = NULL;
    bool text = !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO);
    dl_ui_opts opts;
    dl_ui_opts_take(&opts, &argc, argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-tui") == 0) {
            text = true;
            continue;
        }
        int r = dl_cli_runs_opt("show", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: dllab show [--runs DIR] [--no-tui] [--ascii] [--no-color] RUN\n\n"
                   "Opens the run view (plots, epoch table, confusion, events) on a terminal; with "
                   "--no-tui\n"
                   "or without a terminal, prints the run's configuration, epochs, checkpoints and "
                   "events.\n"
                   "RUN is a run name, an id, or a unique prefix of a name.\n");
            return DL_EXIT_OK;
        }
        if (argv[i][0] == '-' || query) {
            fprintf(stderr,
                    "dllab show: unexpected argument '%s'\nusage: dllab show [--runs DIR] RUN\n",
                    argv[i]);
            return DL_EXIT_USAGE;
        }
        query = argv[i];
    }
    if (!query) {
        fprintf(stderr, "dllab show: which run? usage: dllab show [--runs DIR] RUN\n");
        return DL_EXIT_USAGE;
    }
    dl_store *st;
    int64_t id;
    int rc = dl_cli_open("show", dir, DL_STORE_READONLY, &st);
    if (rc)
        return rc;
    if ((rc = dl_cli_find("show", st, query, &id)) == 0) {
        dl_err err = {0};
        /* The run view falls back to text when the terminal cannot be set up. */
        if (!text && dl_ui_show_run(st, id, &opts, &err) == DL_OK)
            ;
        else if (dl_show_text(stdout, st, id, &err) != DL_OK) {
            fprintf(stderr, "dllab show: %s\n", err.msg);
            rc = DL_EXIT_FAIL;
        }
    }
    dl_store_close(st);
    return rc;
}
