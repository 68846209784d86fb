/* screen-interp: interpretation results as screens. From plain arrays: the multi-label view, a
 * per-class precision/recall/F1 table at the slider's threshold, beside the threshold sweep
 * (micro-F1 and accuracy_multi against the threshold, the best micro-F1 marked *) with a slider
 * moved by Left/Right (b: to the best micro-F1) that reads out the sweep at each threshold. From
 * the store (what `dllab train` and `dllab interpret` save for a run): "confusion" ({"vocab":[..],
 * "matrix":[[..]]}), "per-class" and "thresh-sweep" (multi-label), and "top-losses" (images loaded
 * from their recorded paths; items without a path, e.g. Fashion-MNIST's IDX records, are listed as
 * text labels only). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/data.h"
#include "core/store/store.h"
#include "ui/image.h"
#include "ui/plot.h"
#include "ui/screens.h"

typedef struct ml_state {
    int k;
    char **names;
    double *p, *r, *f1; /* at thresh */
    double thresh, micro;
    float *st, *sf1, *sacc;
    double *sprf; /* NULL or ns x 3 x k */
    int ns, cursor, scroll, best;
} ml_state;

static void ml_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    ml_state *m = s->self;
    /* The table shows the slider's threshold when the per-class figures of the sweep exist. */
    int follow = m->sprf && m->ns > 0;
    const double *P = m->p, *R = m->r, *F = m->f1;
    double th = m->thresh, micro = m->micro;
    if (follow) {
        P = m->sprf + (size_t)m->cursor * 3 * m->k;
        R = P + m->k;
        F = R + m->k;
        th = m->st[m->cursor];
        micro = m->sf1[m->cursor];
    }
    dl_grid_textf(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD,
                  "multi-label: per class at threshold %.2f (micro-F1 %.4f)%s", th, micro,
                  follow && m->cursor == m->best ? "  * best micro-F1" : "");
    int tw = 46;
    if (!follow && m->ns > 0)
        dl_grid_textf(g, 0, 1, tw, DL_ROLE_DIM, 0, "stored at %.2f only: rerun dllab interpret",
                      m->thresh);
    dl_grid_textf(g, 0, 2, tw, DL_ROLE_AXIS, DL_ATTR_BOLD, "%-18s %9s %9s %6s", "class",
                  "precision", "recall", "f1");
    int rows = g->rows - 4;
    if (m->scroll > m->k - rows)
        m->scroll = m->k - rows > 0 ? m->k - rows : 0;
    for (int i = 0; i < rows && m->scroll + i < m->k; i++) {
        int c = m->scroll + i;
        dl_grid_textf(g, 0, 3 + i, tw, F[c] < 0.5 ? DL_ROLE_WARN : DL_ROLE_DEFAULT, 0,
                      "%-18.18s %9.4f %9.4f %6.3f", m->names[c], P[c], R[c], F[c]);
    }
    if (m->ns > 0) {
        dl_plot p;
        dl_plot_init(&p, "threshold sweep");
        p.ascii = env->ascii;
        p.xlabel = "threshold";
        dl_plot_add(&p, (dl_plot_series){"micro-F1", m->st, m->sf1, m->ns, DL_ROLE_TRAIN, 0,
                                         DL_PLOT_LINE, 0});
        dl_plot_add(&p, (dl_plot_series){"accuracy", m->st, m->sacc, m->ns, DL_ROLE_VALID, 0,
                                         DL_PLOT_LINE, 0});
        dl_plot_add_marker(&p, m->st[m->best], DL_ROLE_MARKER, '*');
        p.has_cursor = 1;
        p.cursor_x = m->st[m->cursor];
        dl_rect pr = {tw + 1, 1, g->cols - tw - 1, g->rows - 5};
        dl_plot_draw(&p, g, pr, NULL);
        dl_grid_textf(g, tw + 1, g->rows - 4, g->cols - tw - 1, DL_ROLE_MARKER, 0,
                      "* best micro-F1 %.4f at %.2f (b jumps there)", m->sf1[m->best],
                      m->st[m->best]);
        dl_grid_textf(g, tw + 1, g->rows - 3, g->cols - tw - 1, DL_ROLE_CURSOR, DL_ATTR_BOLD,
                      "threshold %.2f: micro-F1 %.4f, accuracy %.4f", m->st[m->cursor],
                      m->sf1[m->cursor], m->sacc[m->cursor]);
    }
    dl_draw_keybar(g, (dl_rect){0, g->rows - 1, g->cols, 1}, DL_SCR_MULTILABEL);
}

static int ml_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    ml_state *m = s->self;
    (void)key;
    (void)app;
    switch (a) {
    case DL_ACT_THRESH_DOWN:
        if (m->cursor > 0)
            m->cursor--;
        return DL_R_REDRAW;
    case DL_ACT_THRESH_UP:
        if (m->cursor < m->ns - 1)
            m->cursor++;
        return DL_R_REDRAW;
    case DL_ACT_THRESH_BEST:
        m->cursor = m->best;
        return DL_R_REDRAW;
    case DL_ACT_UP:
        if (m->scroll > 0)
            m->scroll--;
        return DL_R_REDRAW;
    case DL_ACT_DOWN:
        m->scroll++;
        return DL_R_REDRAW;
    default:
        return DL_R_UNHANDLED;
    }
}

static void ml_close(dl_screen *s)
{
    ml_state *m = s->self;
    for (int i = 0; m->names && i < m->k; i++)
        free(m->names[i]);
    free(m->names);
    free(m->p);
    free(m->r);
    free(m->f1);
    free(m->st);
    free(m->sf1);
    free(m->sacc);
    free(m->sprf);
    free(m);
}

dl_status dl_screen_multilabel(dl_screen *out, const char *const *names, const double *prec,
                               const double *rec, const double *f1, int k, double thresh,
                               double micro, const float *sweep_thresh, const float *sweep_f1,
                               const float *sweep_acc, int n_sweep, const double *sweep_prf,
                               dl_err *err)
{
    if (k < 1 || !prec || !rec || !f1 || n_sweep < 0 ||
        (n_sweep > 0 && (!sweep_thresh || !sweep_f1 || !sweep_acc)))
        return dl_err_set(err, DL_EINVAL,
                          "multi-label view: need k >= 1 classes with P/R/F1 (k=%d, sweep %d)", k,
                          n_sweep);
    ml_state *m = calloc(1, sizeof *m);
    if (!m)
        return dl_err_set(err, DL_ENOMEM, "no memory for the multi-label view");
    m->k = k;
    m->ns = n_sweep;
    m->thresh = thresh;
    m->micro = micro;
    m->names = calloc((size_t)k, sizeof *m->names);
    m->p = malloc(sizeof(double) * k);
    m->r = malloc(sizeof(double) * k);
    m->f1 = malloc(sizeof(double) * k);
    m->st = malloc(sizeof(float) * (n_sweep + 1));
    m->sf1 = malloc(sizeof(float) * (n_sweep + 1));
    m->sacc = malloc(sizeof(float) * (n_sweep + 1));
    size_t nprf = (size_t)n_sweep * 3 * k;
    if (sweep_prf && n_sweep > 0)
        m->sprf = malloc(sizeof(double) * nprf);
    dl_screen tmp = {.self = m};
    if (!m->names || !m->p || !m->r || !m->f1 || !m->st || !m->sf1 || !m->sacc ||
        (sweep_prf && n_sweep > 0 && !m->sprf)) {
        ml_close(&tmp);
        return dl_err_set(err, DL_ENOMEM, "no memory for the multi-label view");
    }
    if (m->sprf)
        memcpy(m->sprf, sweep_prf, sizeof(double) * nprf);
    for (int i = 0; i < k; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", i);
        m->names[i] = strdup(names && names[i] ? names[i] : buf);
        m->p[i] = prec[i];
        m->r[i] = rec[i];
        m->f1[i] = f1[i];
    }
    for (int i = 0; i < n_sweep; i++) {
        m->st[i] = sweep_thresh[i];
        m->sf1[i] = sweep_f1[i];
        m->sacc[i] = sweep_acc[i];
        /* The slider starts at the threshold the table was computed with. */
        if (fabs(sweep_thresh[i] - thresh) < fabs(m->st[m->cursor] - thresh))
            m->cursor = i;
        /* the first maximum, as the CLI's "best micro-F1 ... at ..." */
        if (sweep_f1[i] > m->sf1[m->best])
            m->best = i;
    }
    *out = (dl_screen){.name = "multilabel",
                       .id = DL_SCR_MULTILABEL,
                       .self = m,
                       .draw = ml_draw,
                       .key = ml_key,
                       .close = ml_close};
    return DL_OK;
}

/* ---- from the store ---- */

static json_t *stored(dl_store *st, int64_t run, const char *kind)
{
    char *js = NULL;
    if (dl_store_interp_get(st, run, kind, &js, NULL, NULL) != DL_OK)
        return NULL;
    json_t *j = json_loads(js, 0, NULL);
    free(js);
    return j;
}

static int push(dl_app *app, dl_screen *s, dl_status status, const dl_err *err, char *msg, int cap)
{
    if (status != DL_OK) {
        snprintf(msg, (size_t)cap, "%s", err->msg);
        return -1;
    }
    if (dl_app_push(app, s) != 0) {
        s->close(s);
        snprintf(msg, (size_t)cap, "too many screens open");
        return -1;
    }
    return 0;
}

static int open_multilabel(dl_app *app, json_t *pc, json_t *sweep, char *msg, int cap)
{
    json_t *classes = json_object_get(pc, "classes");
    int k = json_is_array(classes) ? (int)json_array_size(classes) : 0;
    if (k == 0) {
        snprintf(msg, (size_t)cap, "the stored per-class result has no classes");
        return -1;
    }
    const char **names = calloc((size_t)k, sizeof *names);
    double *v = calloc((size_t)k * 3, sizeof *v);
    json_t *pts = sweep ? json_object_get(sweep, "points") : NULL;
    int ns = json_is_array(pts) ? (int)json_array_size(pts) : 0;
    float *sw = calloc((size_t)ns * 3 + 1, sizeof *sw);
    /* Per-class precision, recall, F1 at each sweep threshold ("prf": [[p, r, f1], ...] per point)
     * when the run was interpreted by a dllab that stores them: every point must have all k. */
    double *prf = ns > 0 ? calloc((size_t)ns * 3 * k, sizeof *prf) : NULL;
    for (int i = 0; prf && i < ns; i++) {
        json_t *cl = json_object_get(json_array_get(pts, (size_t)i), "prf");
        if (!json_is_array(cl) || (int)json_array_size(cl) != k) {
            free(prf);
            prf = NULL;
            break;
        }
        double *P = prf + (size_t)i * 3 * k;
        for (int j = 0; j < k; j++)
            for (int q = 0; q < 3; q++)
                P[q * k + j] = json_number_value(json_array_get(json_array_get(cl, (size_t)j), q));
    }
    int rc = -1;
    if (names && v && sw) {
        for (int i = 0; i < k; i++) {
            json_t *c = json_array_get(classes, (size_t)i);
            names[i] = json_string_value(json_object_get(c, "class"));
            v[i] = json_number_value(json_object_get(c, "precision"));
            v[k + i] = json_number_value(json_object_get(c, "recall"));
            v[2 * k + i] = json_number_value(json_object_get(c, "f1"));
        }
        for (int i = 0; i < ns; i++) {
            json_t *p = json_array_get(pts, (size_t)i);
            sw[i] = (float)json_number_value(json_object_get(p, "thresh"));
            sw[ns + i] = (float)json_number_value(json_object_get(p, "micro_f1"));
            sw[2 * ns + i] = (float)json_number_value(json_object_get(p, "accuracy_multi"));
        }
        dl_screen s;
        dl_err err;
        dl_status st = dl_screen_multilabel(&s, names, v, v + k, v + 2 * k, k,
                                            json_number_value(json_object_get(pc, "thresh")),
                                            json_number_value(json_object_get(pc, "micro_f1")), sw,
                                            sw + ns, sw + 2 * ns, ns, prf, &err);
        rc = push(app, &s, st, &err, msg, cap);
    } else {
        snprintf(msg, (size_t)cap, "out of memory");
    }
    free(names);
    free(v);
    free(sw);
    free(prf);
    return rc;
}

int dl_ui_push_stored_confusion(dl_app *app, dl_store *st, int64_t run, char *msg, int cap)
{
    json_t *root = stored(st, run, "confusion");
    if (!root) {
        json_t *pc = stored(st, run, "per-class");
        if (!pc) {
            snprintf(msg, (size_t)cap,
                     "no interpretation stored for this run yet (it is saved when training ends)");
            return -1;
        }
        json_t *sweep = stored(st, run, "thresh-sweep");
        int rc = open_multilabel(app, pc, sweep, msg, cap);
        json_decref(pc);
        json_decref(sweep);
        return rc;
    }
    json_t *m = json_is_object(root) ? json_object_get(root, "matrix") : root;
    json_t *vocab = json_is_object(root) ? json_object_get(root, "vocab") : NULL;
    size_t k = json_is_array(m) ? json_array_size(m) : 0;
    int64_t *cm = k ? calloc(k * k, sizeof *cm) : NULL;
    int ok = cm != NULL;
    for (size_t i = 0; ok && i < k; i++) {
        json_t *row = json_array_get(m, i);
        ok = json_is_array(row) && json_array_size(row) == k;
        for (size_t j = 0; ok && j < k; j++) {
            json_t *v = json_array_get(row, j);
            ok = json_is_integer(v);
            if (ok)
                cm[i * k + j] = json_integer_value(v);
        }
    }
    const char **names = NULL;
    if (ok && json_is_array(vocab) && json_array_size(vocab) == k) {
        names = calloc(k, sizeof *names);
        for (size_t i = 0; names && i < k; i++)
            names[i] = json_string_value(json_array_get(vocab, i));
    }
    int rc = -1;
    if (!ok) {
        snprintf(msg, (size_t)cap, "the stored confusion result is not a square matrix of counts");
    } else {
        dl_screen cs;
        dl_err err;
        rc = push(app, &cs, dl_screen_confusion(&cs, cm, (int)k, names, &err), &err, msg, cap);
    }
    free(names);
    free(cm);
    json_decref(root);
    return rc;
}

int dl_ui_push_stored_top_losses(dl_app *app, dl_store *st, int64_t run, char *msg, int cap)
{
    json_t *arr = stored(st, run, "top-losses");
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    if (n == 0) {
        json_decref(arr);
        snprintf(msg, (size_t)cap,
                 "no top losses stored for this run yet (they are saved when training ends)");
        return -1;
    }
    enum { SIDE = 64 };
    dl_image_prep prep = {
        .size = SIDE, .channels = 3, .resize = DL_RESIZE_CROP, .mean = {0, 0, 0}, .std = {1, 1, 1}};
    dl_ui_image *img = calloc(n, sizeof *img);
    char **labels = calloc(n, sizeof *labels);
    uint8_t *pix = calloc(n, (size_t)SIDE * SIDE * 3);
    float *buf = malloc(sizeof(float) * 3 * SIDE * SIDE);
    int rc = -1;
    if (!img || !labels || !pix || !buf) {
        snprintf(msg, (size_t)cap, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        const char *path = json_string_value(json_object_get(e, "path"));
        const char *act = json_string_value(json_object_get(e, "actual"));
        const char *pred = json_string_value(json_object_get(e, "predicted"));
        labels[i] = malloc(128);
        if (labels[i])
            /* fastai's plot_top_losses caption: prediction/actual, loss / probability (of
             * the prediction), on two lines so neither is cut off */
            snprintf(labels[i], 128, "%.50s\x1f%.50s\n%.2f / %.2f", pred ? pred : "?",
                     act ? act : "?", json_number_value(json_object_get(e, "loss")),
                     json_number_value(json_object_get(e, "prob")));
        uint8_t *p = pix + i * SIDE * SIDE * 3;
        /* Unreadable or missing files stay black: the label still says what it was. */
        if (path && dl_image_load_prepped(path, &prep, buf, NULL) == DL_OK)
            for (int y = 0; y < SIDE; y++)
                for (int x = 0; x < SIDE; x++)
                    for (int c = 0; c < 3; c++) {
                        float v = buf[((size_t)c * SIDE + y) * SIDE + x];
                        p[((size_t)y * SIDE + x) * 3 + c] = (uint8_t)lrintf((v < 0   ? 0
                                                                             : v > 1 ? 1
                                                                                     : v) *
                                                                            255);
                    }
        img[i] = (dl_ui_image){p, SIDE, SIDE, 3};
    }
    dl_screen s;
    dl_err err;
    rc = push(app, &s,
              dl_screen_images(&s, "top losses: prediction/actual, loss / probability", img,
                               (const char *const *)labels, (int)n, &err),
              &err, msg, cap);
out:
    for (size_t i = 0; labels && i < n; i++)
        free(labels[i]);
    free(labels);
    free(img);
    free(pix);
    free(buf);
    json_decref(arr);
    return rc;
}
