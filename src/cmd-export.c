/* cmd-export: `dllab export RUN --csv DIR` writes one CSV per series of the run into DIR/<run>/
 * (batches, epochs, events, lrfind, lrfind_suggestions, checkpoints, skipped) plus run.json with
 * its configuration; `--json FILE` ('-' for stdout) writes everything as one JSON document;
 * `--all` exports every run. Missing values are empty CSV fields and JSON nulls. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "src/commands.h"
#include "src/export-plot.h"
#include "src/runs-util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dllab export [--runs DIR] (RUN | --all) (--csv FOLDER | --json FILE)\n"
            "\n"
            "  --csv FOLDER  "
            "FOLDER/<run>/{batches,epochs,events,lrfind,lrfind_suggestions,checkpoints,\n"
            "                skipped}.csv and run.json (configuration and summary)\n"
            "  --json FILE   one JSON document {\"runs\": [...]} with every series; '-' is stdout\n"
            "  --all         every run in the store\n"
            "\n"
            "       dllab export RUN... --plot loss|lr|lrfind|confusion|compare (--png FILE | "
            "--svg FILE |\n"
            "                    --csv DIR)... [--size WxH] [--x step|epoch|time] [--ylog]\n"
            "  --plot KIND   a figure of the runs (cairo); --csv DIR then writes its series as "
            "DIR/KIND.csv\n");
    fprintf(out,
            "                (lr: every group and the momentum; lrfind: without the last 5\n"
            "                points; confusion of a multi-label run: per-class P/R/F1 and the\n"
            "                threshold sweep, as DIR/per-class.csv and DIR/thresh-sweep.csv)\n");
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
}

/* A JSON document to path (core/file.h: never replaces a device or FIFO); 0 or -1 after a
 * message naming the path. */
static int write_json(const json_t *doc, const char *path, size_t flags)
{
    dl_err err = {0};
    FILE *f = dl_file_create(path, &err);
    if (f && json_dumpf(doc, f, flags) != 0) {
        dl_err_set(&err, DL_EIO, "%s: cannot write the JSON document", path);
        dl_file_discard(f, path);
        f = NULL;
    } else if (f && dl_file_commit(f, path, &err) == DL_OK)
        return 0;
    fprintf(stderr, "dllab export: %s\n", err.msg);
    return -1;
}

static int mkdirs(const char *dir)
{
    dl_err err = {0};
    if (dl_mkdir_p(dir, &err) == DL_OK)
        return 0;
    fprintf(stderr, "dllab export: %s\n", err.msg);
    return -1;
}

static int store_failed(const dl_err *err)
{
    fprintf(stderr, "dllab export: %s\n", err->msg);
    return -1;
}

/* batches.csv: one row per logged batch (every group's lr);
 * 0 when written, -1 when a file or the store failed (said), else nonzero. */
static int write_batches(dl_store *st, const dl_run *r, const char *folder)
{
    dl_err err = {0};
    char path[4400];
    FILE *f;
    dl_batch_row *b;
    size_t nb;
    if (dl_store_batches(st, r->id, -1, &b, &nb, &err) != DL_OK)
        return store_failed(&err);
    int groups = 1;
    for (size_t i = 0; i < nb; i++)
        groups = b[i].n_lr > groups ? b[i].n_lr : groups;
    if (!(f = dl_cli_create("export", folder, "batches.csv", path, sizeof path))) {
        free(b);
        return -1;
    }
    fprintf(f, "step,epoch");
    for (int g = 0; g < groups; g++)
        fprintf(f, ",lr_%d", g);
    fprintf(f, ",mom,loss,smooth_loss,time\n");
    for (size_t i = 0; i < nb; i++) {
        fprintf(f, "%lld,%d", (long long)b[i].step, b[i].epoch);
        for (int g = 0; g < groups; g++) {
            fputc(',', f);
            if (g < b[i].n_lr)
                csv_num(f, b[i].lr[g]);
        }
        fputc(',', f);
        csv_num(f, b[i].mom);
        fputc(',', f);
        csv_num(f, b[i].loss);
        fputc(',', f);
        csv_num(f, b[i].smooth_loss);
        fprintf(f, ",%.6f\n", b[i].t);
    }
    free(b);
    return dl_cli_close("export", f, path);
}

/* epochs.csv: one row per epoch with its metrics;
 * 0 when written, -1 when a file or the store failed (said), else nonzero. */
static int write_epochs(dl_store *st, const dl_run *r, const char *folder)
{
    dl_err err = {0};
    char path[4400];
    FILE *f;
    dl_epoch_row *e;
    size_t ne;
    if (dl_store_epochs(st, r->id, &e, &ne, &err) != DL_OK)
        return store_failed(&err);
    if (!(f = dl_cli_create("export", folder, "epochs.csv", path, sizeof path))) {
        free(e);
        return -1;
    }
    fprintf(f, "epoch,train_loss,valid_loss");
    int nm = ne ? e[0].n_metrics : 0;
    for (int m = 0; m < nm; m++) {
        fputc(',', f);
        dl_cli_csv_str(f, e[0].metrics[m].name);
    }
    fprintf(f, ",duration,time\n");
    for (size_t i = 0; i < ne; i++) {
        fprintf(f, "%d,", e[i].epoch);
        csv_num(f, e[i].train_loss);
        fputc(',', f);
        csv_num(f, e[i].valid_loss);
        for (int m = 0; m < nm; m++) {
            fputc(',', f);
            if (m < e[i].n_metrics)
                csv_num(f, e[i].metrics[m].value);
        }
        fputc(',', f);
        csv_num(f, e[i].duration);
        fprintf(f, ",%.6f\n", e[i].t);
    }
    free(e);
    return dl_cli_close("export", f, path);
}

/* events.csv: what happened (steering, checkpoints, skips);
 * 0 when written, -1 when a file or the store failed (said), else nonzero. */
static int write_events(dl_store *st, const dl_run *r, const char *folder)
{
    dl_err err = {0};
    char path[4400];
    FILE *f;
    dl_event_row *ev;
    size_t nev;
    if (dl_store_events(st, r->id, -1, &ev, &nev, &err) != DL_OK)
        return store_failed(&err);
    if (!(f = dl_cli_create("export", folder, "events.csv", path, sizeof path))) {
        dl_events_free(ev, nev);
        return -1;
    }
    fprintf(f, "id,step,time,kind,payload\n");
    for (size_t i = 0; i < nev; i++) {
        fprintf(f, "%lld,%lld,%.6f,", (long long)ev[i].id, (long long)ev[i].step, ev[i].t);
        dl_cli_csv_str(f, ev[i].kind);
        fputc(',', f);
        dl_cli_csv_str(f, ev[i].payload);
        fputc('\n', f);
    }
    dl_events_free(ev, nev);
    return dl_cli_close("export", f, path);
}

/* lrfind.csv and lrfind_suggestions.csv: every LR-finder sweep of the run;
 * 0 when written, -1 when a file or the store failed (said), else nonzero. */
static int write_lrfinds(dl_store *st, const dl_run *r, const char *folder)
{
    dl_err err = {0};
    char path[4400];
    FILE *f;
    dl_lrfind *lf;
    size_t nlf;
    if (dl_store_lrfinds(st, r->id, &lf, &nlf, &err) != DL_OK)
        return store_failed(&err);
    FILE *g = NULL;
    char path2[4400];
    if (!(f = dl_cli_create("export", folder, "lrfind.csv", path, sizeof path)) ||
        !(g = dl_cli_create("export", folder, "lrfind_suggestions.csv", path2, sizeof path2))) {
        if (f)
            dl_file_discard(f, path);
        dl_lrfinds_free(lf, nlf);
        return -1;
    }
    fprintf(f, "sweep,step,i,lr,loss\n");
    fprintf(g, "sweep,method,lr,loss\n");
    for (size_t k = 0; k < nlf; k++) {
        for (size_t i = 0; i < lf[k].n; i++) {
            fprintf(f, "%zu,%lld,%zu,", k, (long long)lf[k].step, i);
            csv_num(f, lf[k].lr[i]);
            fputc(',', f);
            csv_num(f, lf[k].loss[i]);
            fputc('\n', f);
        }
        for (size_t i = 0; i < lf[k].n_sug; i++) {
            fprintf(g, "%zu,", k);
            dl_cli_csv_str(g, lf[k].sug[i].method);
            fputc(',', g);
            csv_num(g, lf[k].sug[i].lr);
            fputc(',', g);
            csv_num(g, lf[k].sug[i].loss);
            fputc('\n', g);
        }
    }
    dl_lrfinds_free(lf, nlf);
    int bad = dl_cli_close("export", f, path);
    return bad | dl_cli_close("export", g, path2);
}

/* checkpoints.csv: the checkpoint files (absolute paths);
 * 0 when written, -1 when a file or the store failed (said), else nonzero. */
static int write_checkpoints(dl_store *st, const dl_run *r, const char *folder)
{
    dl_err err = {0};
    char path[4400];
    FILE *f;
    dl_checkpoint_row *ck;
    size_t nck;
    if (dl_store_checkpoints(st, r->id, &ck, &nck, &err) != DL_OK)
        return store_failed(&err);
    if (!(f = dl_cli_create("export", folder, "checkpoints.csv", path, sizeof path))) {
        dl_checkpoints_free(ck, nck);
        return -1;
    }
    fprintf(f, "path,epoch,step,monitor,best,time\n");
    for (size_t i = 0; i < nck; i++) {
        char abs[4096];
        dl_store_checkpoint_abspath(st, ck[i].path, abs, sizeof abs);
        dl_cli_csv_str(f, abs);
        fprintf(f, ",%d,%lld,", ck[i].epoch, (long long)ck[i].step);
        csv_num(f, ck[i].monitor);
        fprintf(f, ",%d,%.6f\n", ck[i].best ? 1 : 0, ck[i].t);
    }
    dl_checkpoints_free(ck, nck);
    return dl_cli_close("export", f, path);
}

/* skipped.csv: the files the data pipeline skipped;
 * 0 when written, -1 when a file or the store failed (said), else nonzero. */
static int write_skipped(dl_store *st, const dl_run *r, const char *folder)
{
    dl_err err = {0};
    char path[4400];
    FILE *f;
    dl_skipped_row *sk;
    size_t nsk;
    if (dl_store_skipped(st, r->id, &sk, &nsk, &err) != DL_OK)
        return store_failed(&err);
    if (!(f = dl_cli_create("export", folder, "skipped.csv", path, sizeof path))) {
        dl_skipped_free(sk, nsk);
        return -1;
    }
    fprintf(f, "path,reason\n");
    for (size_t i = 0; i < nsk; i++) {
        dl_cli_csv_str(f, sk[i].path);
        fputc(',', f);
        dl_cli_csv_str(f, sk[i].reason);
        fputc('\n', f);
    }
    dl_skipped_free(sk, nsk);
    return dl_cli_close("export", f, path);
}

/* Every CSV of a run, then run.json, into ROOT/NAME/. */
static int export_csv(dl_store *st, const dl_run *r, const char *root)
{
    static int (*const writers[])(dl_store *, const dl_run *, const char *) = {
        write_batches, write_epochs, write_events, write_lrfinds, write_checkpoints, write_skipped};
    char folder[4096], path[4400];
    snprintf(folder, sizeof folder, "%s/%s", root, r->name);
    if (mkdirs(folder))
        return -1;
    int bad = 0;
    for (size_t i = 0; i < sizeof writers / sizeof *writers; i++) {
        int rc = writers[i](st, r, folder);
        if (rc < 0)
            return -1;
        bad |= rc;
    }
    snprintf(path, sizeof path, "%s/run.json", folder);
    json_t *meta = dl_cli_run_json(r);
    if (write_json(meta, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0)
        bad = -1;
    json_decref(meta);
    return bad;
}

/* The whole run as one JSON object; NULL (message printed) on a store error. */
static json_t *run_document(dl_store *st, const dl_run *r)
{
    dl_err err = {0};
    json_t *o = dl_cli_run_json(r);
    dl_batch_row *b = NULL;
    dl_epoch_row *e = NULL;
    dl_event_row *ev = NULL;
    dl_lrfind *lf = NULL;
    dl_checkpoint_row *ck = NULL;
    dl_skipped_row *sk = NULL;
    size_t nb = 0, ne = 0, nev = 0, nlf = 0, nck = 0, nsk = 0;
    if (dl_store_batches(st, r->id, -1, &b, &nb, &err) ||
        dl_store_epochs(st, r->id, &e, &ne, &err) ||
        dl_store_events(st, r->id, -1, &ev, &nev, &err) ||
        dl_store_lrfinds(st, r->id, &lf, &nlf, &err) ||
        dl_store_checkpoints(st, r->id, &ck, &nck, &err) ||
        dl_store_skipped(st, r->id, &sk, &nsk, &err)) {
        fprintf(stderr, "dllab export: %s\n", err.msg);
        json_decref(o);
        o = NULL;
        goto done;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < nb; i++) {
        json_t *lrs = json_array();
        for (int g = 0; g < b[i].n_lr; g++)
            json_array_append_new(lrs, dl_cli_json_num(b[i].lr[g]));
        json_array_append_new(a, json_pack("{sI si so so so so sf}", "step", (json_int_t)b[i].step,
                                           "epoch", b[i].epoch, "lr", lrs, "mom",
                                           dl_cli_json_num(b[i].mom), "loss",
                                           dl_cli_json_num(b[i].loss), "smooth_loss",
                                           dl_cli_json_num(b[i].smooth_loss), "time", b[i].t));
    }
    json_object_set_new(o, "batches", a);
    a = json_array();
    for (size_t i = 0; i < ne; i++) {
        json_t *m = json_object();
        for (int k = 0; k < e[i].n_metrics; k++)
            json_object_set_new(m, e[i].metrics[k].name, dl_cli_json_num(e[i].metrics[k].value));
        json_array_append_new(a,
                              json_pack("{si so so so so sf}", "epoch", e[i].epoch, "train_loss",
                                        dl_cli_json_num(e[i].train_loss), "valid_loss",
                                        dl_cli_json_num(e[i].valid_loss), "metrics", m, "duration",
                                        dl_cli_json_num(e[i].duration), "time", e[i].t));
    }
    json_object_set_new(o, "epoch_rows", a);
    a = json_array();
    for (size_t i = 0; i < nev; i++) {
        json_t *payload =
            *ev[i].payload ? json_loads(ev[i].payload, JSON_DECODE_ANY, NULL) : json_null();
        if (!payload)
            payload = json_string(ev[i].payload);
        json_array_append_new(a, json_pack("{sI ss sI sf so}", "id", (json_int_t)ev[i].id, "kind",
                                           ev[i].kind, "step", (json_int_t)ev[i].step, "time",
                                           ev[i].t, "payload", payload));
    }
    json_object_set_new(o, "events", a);
    a = json_array();
    for (size_t k = 0; k < nlf; k++) {
        json_t *lr = json_array(), *loss = json_array(), *sug = json_array();
        for (size_t i = 0; i < lf[k].n; i++) {
            json_array_append_new(lr, dl_cli_json_num(lf[k].lr[i]));
            json_array_append_new(loss, dl_cli_json_num(lf[k].loss[i]));
        }
        for (size_t i = 0; i < lf[k].n_sug; i++)
            json_array_append_new(sug, json_pack("{ss so so}", "method", lf[k].sug[i].method, "lr",
                                                 dl_cli_json_num(lf[k].sug[i].lr), "loss",
                                                 dl_cli_json_num(lf[k].sug[i].loss)));
        json_array_append_new(a,
                              json_pack("{sI sf so so so}", "step", (json_int_t)lf[k].step, "time",
                                        lf[k].t, "lr", lr, "loss", loss, "suggestions", sug));
    }
    json_object_set_new(o, "lr_finds", a);
    a = json_array();
    for (size_t i = 0; i < nck; i++) {
        char abs[4096];
        dl_store_checkpoint_abspath(st, ck[i].path, abs, sizeof abs);
        json_array_append_new(a, json_pack("{ss si sI so sb sf}", "path", abs, "epoch", ck[i].epoch,
                                           "step", (json_int_t)ck[i].step, "monitor",
                                           dl_cli_json_num(ck[i].monitor), "best", ck[i].best,
                                           "time", ck[i].t));
    }
    json_object_set_new(o, "checkpoints", a);
    a = json_array();
    for (size_t i = 0; i < nsk; i++)
        json_array_append_new(a, json_pack("{ss ss}", "path", sk[i].path, "reason", sk[i].reason));
    json_object_set_new(o, "skipped", a);
    /* The latest result of each kind (rows come oldest first, so later ones overwrite). */
    json_t *interp = json_object();
    dl_interp_row *ir;
    size_t nir;
    if (dl_store_interp_list(st, r->id, &ir, &nir, &err) != DL_OK) {
        fprintf(stderr, "dllab export: %s\n", err.msg);
        json_decref(interp);
        json_decref(o);
        o = NULL;
        goto done;
    }
    for (size_t k = 0; k < nir; k++) {
        json_t *v = json_loads(ir[k].json, JSON_DECODE_ANY, NULL);
        json_object_set_new(interp, ir[k].kind, v ? v : json_string(ir[k].json));
    }
    dl_interp_free(ir, nir);
    json_object_set_new(o, "interpretation", interp);
done:
    free(b);
    free(e);
    dl_events_free(ev, nev);
    dl_lrfinds_free(lf, nlf);
    dl_checkpoints_free(ck, nck);
    dl_skipped_free(sk, nsk);
    return o;
}

int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *query = NULL, *csv = NULL, *jsonf = NULL;
    bool all = false;
    /* --plot: figures of one or more runs (src/export-plot.c, which links cairo) */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--plot") == 0)
            return dl_export_plot_cmd(argc, argv);
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("export", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            jsonf = argv[++i];
        } else if (argv[i][0] != '-' && !query) {
            query = argv[i];
        } else {
            fprintf(stderr, "dllab export: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return DL_EXIT_USAGE;
        }
    }
    if (!!csv == !!jsonf || !!query == all) {
        fprintf(stderr,
                "dllab export: give one RUN or --all, and one of --csv FOLDER or --json FILE\n");
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    dl_store *st;
    int rc = dl_cli_open("export", dir, DL_STORE_READONLY, &st);
    if (rc)
        return rc;
    dl_run *runs = NULL;
    size_t n = 0;
    dl_err err = {0};
    if (all) {
        if (dl_store_runs_list(st, NULL, &runs, &n, &err) != DL_OK) {
            fprintf(stderr, "dllab export: %s\n", err.msg);
            rc = DL_EXIT_FAIL;
        }
    } else {
        int64_t id;
        if ((rc = dl_cli_find("export", st, query, &id)) == 0) {
            runs = calloc(1, sizeof *runs);
            if (dl_store_run_get(st, id, runs, &err) != DL_OK) {
                fprintf(stderr, "dllab export: %s\n", err.msg);
                rc = DL_EXIT_FAIL;
            } else {
                n = 1;
            }
        }
    }
    if (!rc && csv) {
        for (size_t i = 0; i < n && !rc; i++)
            if (export_csv(st, &runs[i], csv))
                rc = DL_EXIT_FAIL;
        if (!rc)
            fprintf(stderr, "dllab export: %zu run%s written to %s/\n", n, n == 1 ? "" : "s", csv);
    } else if (!rc) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *doc = run_document(st, &runs[i]);
            if (!doc)
                rc = DL_EXIT_FAIL;
            else
                json_array_append_new(arr, doc);
        }
        json_t *top = json_pack("{si so}", "dllab_export", 1, "runs", arr);
        int flags = JSON_INDENT(1) | JSON_REAL_PRECISION(10);
        if (!rc && strcmp(jsonf, "-") == 0) {
            json_dumpf(top, stdout, flags);
            printf("\n");
        } else if (!rc && write_json(top, jsonf, flags) != 0) {
            rc = DL_EXIT_FAIL;
        }
        json_decref(top);
    }
    dl_runs_free(runs, n ? n : (runs ? 1 : 0));
    dl_store_close(st);
    return rc;
}
