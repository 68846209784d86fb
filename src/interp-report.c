/* interp-report: validation predictions -> core/learn/interp figures -> text and store JSON. */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/interp.h"
#include "src/commands.h"
#include "src/interp-report.h"

static void save(dl_session *s, const dl_report_opts *o, const char *kind, json_t *j)
{
    if (o->save && s->st && s->run) {
        char *txt = json_dumps(j, JSON_COMPACT);
        dl_err err;
        if (txt && dl_store_interp_save(s->st, s->run, o->epoch, kind, txt, &err) != DL_OK)
            fprintf(stderr, "dllab: warning: saving %s: %s\n", kind, err.msg);
        free(txt);
    }
    json_decref(j);
}

static const char *item_name(const dl_session *s, int64_t i)
{
    const char *p = dl_data_item_path(s->ds, DL_SPLIT_VALID, (size_t)i);
    if (!p)
        return NULL;
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static void single(dl_session *s, const dl_interp *it, const dl_report_opts *o, FILE *out)
{
    int k = it->k;
    int64_t *cm = calloc((size_t)k * k, sizeof *cm);
    dl_interp_confusion(it, cm, NULL);
    json_t *j = json_object(), *rows = json_array(), *voc = json_array();
    for (int a = 0; a < k; a++) {
        json_t *r = json_array();
        for (int p = 0; p < k; p++)
            json_array_append_new(r, json_integer(cm[(size_t)a * k + p]));
        json_array_append_new(rows, r);
        json_array_append_new(voc, json_string(dl_data_class_name(s->ds, a)));
    }
    json_object_set_new(j, "vocab", voc);
    json_object_set_new(j, "matrix", rows);
    save(s, o, "confusion", j);
    if (out && k <= 20) {
        fprintf(out, "confusion matrix (rows actual, columns predicted):\n%14s", "");
        for (int p = 0; p < k; p++)
            fprintf(out, " %5d", p);
        fprintf(out, "\n");
        for (int a = 0; a < k; a++) {
            fprintf(out, "%2d %-11.11s", a, dl_data_class_name(s->ds, a));
            for (int p = 0; p < k; p++)
                fprintf(out, " %5lld", (long long)cm[(size_t)a * k + p]);
            fprintf(out, "\n");
        }
    } else if (out) {
        fprintf(out, "confusion matrix: %d classes (saved to the run; too wide to print)\n", k);
    }
    free(cm);

    size_t cap = (size_t)k * k;
    dl_confused *mc = malloc(cap * sizeof *mc);
    size_t n = dl_interp_most_confused(it, o->min_val, mc, cap);
    json_t *jm = json_array();
    if (out)
        fprintf(out, "most confused (actual -> predicted, count >= %d):\n", o->min_val);
    for (size_t i = 0; i < n && i < cap; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "actual", json_string(dl_data_class_name(s->ds, mc[i].actual)));
        json_object_set_new(e, "predicted",
                            json_string(dl_data_class_name(s->ds, mc[i].predicted)));
        json_object_set_new(e, "count", json_integer(mc[i].count));
        json_array_append_new(jm, e);
        if (out && i < 10)
            fprintf(out, "  %-14s -> %-14s %lld\n", dl_data_class_name(s->ds, mc[i].actual),
                    dl_data_class_name(s->ds, mc[i].predicted), (long long)mc[i].count);
    }
    save(s, o, "most-confused", jm);
    if (o->summary) {
        fprintf(o->summary, "interpretation (%s) saved; most confused:", o->weights);
        for (size_t i = 0; i < n && i < 3; i++)
            fprintf(o->summary, "%s %s -> %s %lld", i ? "," : "",
                    dl_data_class_name(s->ds, mc[i].actual),
                    dl_data_class_name(s->ds, mc[i].predicted), (long long)mc[i].count);
        fprintf(o->summary, "%s\n", n ? "" : " none");
    }
    free(mc);
}

static void multi(dl_session *s, const dl_interp *it, const dl_report_opts *o, FILE *out)
{
    int k = it->k;
    dl_class_prf *c = calloc((size_t)k, sizeof *c);
    double micro;
    dl_interp_per_class(it, o->thresh, c, &micro, NULL);
    json_t *j = json_object(), *arr = json_array();
    if (out)
        fprintf(out, "per class at threshold %.2f:\n  %-16s %9s %9s %9s %6s %6s %6s\n", o->thresh,
                "class", "precision", "recall", "f1", "tp", "fp", "fn");
    for (int i = 0; i < k; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "class", json_string(dl_data_class_name(s->ds, i)));
        json_object_set_new(e, "precision", json_real(c[i].precision));
        json_object_set_new(e, "recall", json_real(c[i].recall));
        json_object_set_new(e, "f1", json_real(c[i].f1));
        json_object_set_new(e, "tp", json_integer(c[i].tp));
        json_object_set_new(e, "fp", json_integer(c[i].fp));
        json_object_set_new(e, "fn", json_integer(c[i].fn));
        json_object_set_new(e, "tn", json_integer(c[i].tn));
        json_array_append_new(arr, e);
        if (out)
            fprintf(out, "  %-16.16s %9.4f %9.4f %9.4f %6lld %6lld %6lld\n",
                    dl_data_class_name(s->ds, i), c[i].precision, c[i].recall, c[i].f1,
                    (long long)c[i].tp, (long long)c[i].fp, (long long)c[i].fn);
    }
    json_object_set_new(j, "thresh", json_real(o->thresh));
    json_object_set_new(j, "micro_f1", json_real(micro));
    json_object_set_new(j, "classes", arr);
    save(s, o, "per-class", j);
    free(c);

    dl_sweep_point sw[29];
    int ba, bf;
    dl_interp_sweep(it, 0.05f, 0.95f, 29, sw, &ba, &bf, NULL);
    json_t *js = json_object(), *pts = json_array();
    dl_class_prf *cs = calloc((size_t)k, sizeof *cs);
    for (int i = 0; i < 29; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "thresh", json_real(sw[i].thresh));
        json_object_set_new(e, "accuracy_multi", json_real(sw[i].acc_multi));
        json_object_set_new(e, "micro_f1", json_real(sw[i].micro_f1));
        /* each class's [precision, recall, f1] here, so a view can follow its threshold slider */
        if (cs && dl_interp_per_class(it, sw[i].thresh, cs, NULL, NULL) == DL_OK) {
            json_t *prf = json_array();
            for (int j = 0; j < k; j++)
                json_array_append_new(prf,
                                      json_pack("[fff]", cs[j].precision, cs[j].recall, cs[j].f1));
            json_object_set_new(e, "prf", prf);
        }
        json_array_append_new(pts, e);
    }
    free(cs);
    json_object_set_new(js, "points", pts);
    json_object_set_new(js, "best_accuracy_thresh", json_real(sw[ba].thresh));
    json_object_set_new(js, "best_f1_thresh", json_real(sw[bf].thresh));
    save(s, o, "thresh-sweep", js);
    if (o->summary)
        fprintf(o->summary,
                "interpretation (%s) saved; micro-F1 %.4f at threshold %.2f, best %.4f at %.2f\n",
                o->weights, micro, o->thresh, sw[bf].micro_f1, sw[bf].thresh);
    if (out)
        fprintf(
            out,
            "micro-F1 %.4f at %.2f; threshold sweep 0.05..0.95: best accuracy_multi %.4f at %.2f, "
            "best micro-F1 %.4f at %.2f\n",
            micro, o->thresh, sw[ba].acc_multi, sw[ba].thresh, sw[bf].micro_f1, sw[bf].thresh);
}

/* Multi-label: the labels of item i whose value (target, or probability) is above th, joined. */
static void labels_of(const dl_session *s, const float *row, int k, float th, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int j = 0; j < k && n + 1 < cap; j++)
        if (row[j] > th)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "",
                                  dl_data_class_name(s->ds, j));
    if (!n)
        snprintf(buf, cap, "(none)");
}

static void top_losses(dl_session *s, const dl_interp *it, const dl_report_opts *o, FILE *out)
{
    size_t k = o->top_k > 0 ? (size_t)o->top_k : 9;
    dl_top_loss *tl = calloc(k, sizeof *tl);
    size_t n = dl_interp_top_losses(it, k, true, tl);
    json_t *arr = json_array();
    if (out)
        fprintf(out, "top losses (item, actual, predicted, probability, loss):\n");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_object();
        const char *nm = item_name(s, tl[i].item);
        json_object_set_new(e, "item", json_integer(tl[i].item));
        if (nm)
            json_object_set_new(
                e, "path",
                json_string(dl_data_item_path(s->ds, DL_SPLIT_VALID, (size_t)tl[i].item)));
        char act[256], pred[256];
        if (tl[i].actual >= 0) {
            snprintf(act, sizeof act, "%s", dl_data_class_name(s->ds, tl[i].actual));
            snprintf(pred, sizeof pred, "%s", dl_data_class_name(s->ds, tl[i].predicted));
        } else {
            labels_of(s, it->targets + (size_t)tl[i].item * it->k, it->k, 0.5f, act, sizeof act);
            labels_of(s, it->probs + (size_t)tl[i].item * it->k, it->k, o->thresh, pred,
                      sizeof pred);
        }
        json_object_set_new(e, "actual", json_string(act));
        json_object_set_new(e, "predicted", json_string(pred));
        json_object_set_new(e, "prob", json_real(tl[i].prob));
        json_object_set_new(e, "loss", json_real(tl[i].loss));
        json_array_append_new(arr, e);
        if (out) {
            char id[64];
            snprintf(id, sizeof id, "#%lld", (long long)tl[i].item);
            fprintf(out, "  %-24.24s %-20.20s %-20.20s %6.2f %7.2f\n", nm ? nm : id, act, pred,
                    tl[i].prob, tl[i].loss);
        }
    }
    save(s, o, "top-losses", arr);
    free(tl);
}

int dl_interp_report(dl_session *s, const char *cmd, const dl_report_opts *opts, FILE *out)
{
    float *logits, *tf;
    int32_t *ti;
    int n, k;
    dl_err err = {0};
    dl_report_opts own = *opts;
    const dl_report_opts *o = &own;
    char weights[96];
    dl_status ps;
    if (opts->fit_pass) {
        bool best;
        ps = dl_learner_fit_preds(s->l, &logits, &ti, &tf, &n, &k, &own.epoch, &best, &err);
        snprintf(weights, sizeof weights, "%s epoch %d", best ? "best" : "last validated",
                 own.epoch);
        own.weights = weights;
    } else {
        ps = dl_learner_get_preds(s->l, &logits, &ti, &tf, &n, &k, &err);
    }
    if (ps != DL_OK) {
        fprintf(stderr, "dllab %s: predictions: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    dl_interp it;
    dl_status st = dl_interp_init(&it, logits, ti, tf, n, k, &err);
    free(logits);
    free(ti);
    free(tf);
    if (st != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    if (out)
        fprintf(out, "interpretation of %d validation items%s%s:\n", n, o->weights ? ", " : "",
                o->weights ? o->weights : "");
    if (o->weights) {
        json_t *w = json_object();
        json_object_set_new(w, "weights", json_string(o->weights));
        json_object_set_new(w, "epoch", json_integer(o->epoch));
        save(s, o, "weights", w);
    }
    if (it.multi)
        multi(s, &it, o, out);
    else
        single(s, &it, o, out);
    top_losses(s, &it, o, out);
    dl_interp_clear(&it);
    return DL_EXIT_OK;
}
