/* compare: loading runs side by side, aligning their series, their figures and baseline deltas.
 * The hyper-parameter diff lives in params.c. Never prints. */
#include "core/compare/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *dl_cmp_xaxis_name(dl_cmp_xaxis x)
{
    return x == DL_CMP_X_EPOCH ? "epoch" : x == DL_CMP_X_TIME ? "time" : "step";
}

dl_status dl_cmp_xaxis_parse(const char *word, dl_cmp_xaxis *out, dl_err *err)
{
    for (int i = 0; i <= DL_CMP_X_TIME; i++)
        if (strcmp(word, dl_cmp_xaxis_name((dl_cmp_xaxis)i)) == 0) {
            *out = (dl_cmp_xaxis)i;
            return DL_OK;
        }
    return dl_err_set(err, DL_EINVAL, "unknown x axis '%s' (choose step, epoch or time)", word);
}

static void run_rows_free(dl_cmp_run *r)
{
    free(r->batches);
    free(r->epochs);
    r->batches = NULL;
    r->epochs = NULL;
    r->n_batches = r->n_epochs = 0;
}

static dl_status run_read(dl_store *st, dl_cmp_run *r, int64_t id, dl_err *err)
{
    dl_run fresh;
    dl_status s = dl_store_run_get(st, id, &fresh, err);
    if (s != DL_OK)
        return s;
    dl_batch_row *b = NULL;
    dl_epoch_row *e = NULL;
    size_t nb = 0, ne = 0;
    if ((s = dl_store_batches(st, id, -1, &b, &nb, err)) != DL_OK ||
        (s = dl_store_epochs(st, id, &e, &ne, err)) != DL_OK) {
        free(b);
        dl_run_clear(&fresh);
        return dl_err_wrap(err, "run %s", fresh.name ? fresh.name : "?");
    }
    dl_run_clear(&r->run);
    run_rows_free(r);
    r->run = fresh;
    r->batches = b;
    r->n_batches = nb;
    r->epochs = e;
    r->n_epochs = ne;
    return DL_OK;
}

void dl_compare_index_metrics(dl_compare *c)
{
    c->n_metrics = 0;
    int cap = (int)(sizeof c->metric_names / sizeof c->metric_names[0]);
    for (size_t i = 0; i < c->n; i++)
        for (size_t e = 0; e < c->runs[i].n_epochs; e++) {
            const dl_epoch_row *row = &c->runs[i].epochs[e];
            for (int m = 0; m < row->n_metrics && m < DL_STORE_MAX_METRICS; m++) {
                int k = 0;
                while (k < c->n_metrics && strcmp(c->metric_names[k], row->metrics[m].name) != 0)
                    k++;
                if (k == c->n_metrics && k < cap) {
                    snprintf(c->metric_names[k], DL_STORE_NAME_MAX, "%s", row->metrics[m].name);
                    c->n_metrics++;
                }
            }
        }
}

dl_status dl_compare_load(dl_store *st, const int64_t *ids, size_t n, dl_compare **out, dl_err *err)
{
    *out = NULL;
    if (n == 0 || n > DL_CMP_MAX_RUNS)
        return dl_err_set(err, DL_EINVAL, "compare takes 1 to %d runs, not %zu", DL_CMP_MAX_RUNS,
                          n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (ids[i] == ids[j])
                return dl_err_set(err, DL_EINVAL, "run id %lld is listed twice", (long long)ids[i]);
    dl_compare *c = calloc(1, sizeof *c);
    if (!c || !(c->runs = calloc(n, sizeof *c->runs))) {
        free(c);
        return dl_err_set(err, DL_ENOMEM, "out of memory loading %zu runs", n);
    }
    c->baseline = -1;
    for (size_t i = 0; i < n; i++) {
        dl_status s = run_read(st, &c->runs[i], ids[i], err);
        if (s != DL_OK) {
            dl_compare_free(c);
            return s;
        }
        c->n++;
        if (c->runs[i].run.baseline)
            c->baseline = (int)i;
    }
    dl_compare_index_metrics(c);
    *out = c;
    return DL_OK;
}

dl_status dl_compare_refresh(dl_compare *c, dl_store *st, int *changed, dl_err *err)
{
    *changed = 0;
    for (size_t i = 0; i < c->n; i++) {
        dl_cmp_run *r = &c->runs[i];
        if (r->run.status != DL_RUN_RUNNING)
            continue;
        size_t nb = r->n_batches, ne = r->n_epochs;
        dl_run_status was = r->run.status;
        dl_status s = run_read(st, r, r->run.id, err);
        if (s != DL_OK)
            return s;
        if (nb != r->n_batches || ne != r->n_epochs || was != r->run.status)
            *changed = 1;
    }
    if (*changed)
        dl_compare_index_metrics(c);
    return DL_OK;
}

void dl_compare_free(dl_compare *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        dl_run_clear(&c->runs[i].run);
        run_rows_free(&c->runs[i]);
    }
    free(c->runs);
    free(c);
}

double dl_cmp_steps_per_epoch(const dl_cmp_run *r)
{
    if (r->n_batches == 0)
        return 0;
    /* the first epoch that finished (has an epoch row), else the first epoch seen */
    int ep = r->batches[0].epoch;
    for (size_t e = 0; e < r->n_epochs; e++) {
        int cand = r->epochs[e].epoch;
        size_t cnt = 0;
        for (size_t b = 0; b < r->n_batches; b++)
            cnt += r->batches[b].epoch == cand;
        if (cnt > 0) {
            ep = cand;
            break;
        }
    }
    size_t cnt = 0;
    for (size_t b = 0; b < r->n_batches; b++)
        cnt += r->batches[b].epoch == ep;
    return (double)cnt;
}

static double epoch_metric(const dl_epoch_row *e, const char *name)
{
    for (int m = 0; m < e->n_metrics && m < DL_STORE_MAX_METRICS; m++)
        if (strcmp(e->metrics[m].name, name) == 0)
            return e->metrics[m].value;
    return NAN;
}

/* Steps done by the end of epoch `epoch`: one past the last batch row of that epoch, or the
 * epoch count times steps per epoch when its batches are not recorded. */
static double steps_at_epoch_end(const dl_cmp_run *r, int epoch, double spe)
{
    int64_t last = -1;
    for (size_t b = 0; b < r->n_batches; b++)
        if (r->batches[b].epoch == epoch)
            last = r->batches[b].step;
    return last >= 0 ? (double)(last + 1) : (epoch + 1) * spe;
}

/* A batch row's value for kind; group selects the lr's parameter group (-1: the last, the head). */
static double batch_value(const dl_batch_row *row, dl_cmp_kind kind, int group)
{
    if (kind == DL_CMP_TRAIN_LOSS)
        return row->loss;
    if (kind == DL_CMP_TRAIN_SMOOTH)
        return row->smooth_loss;
    if (kind == DL_CMP_MOM)
        return row->mom;
    int g = group < 0 ? row->n_lr - 1 : group;
    return g >= 0 && g < row->n_lr ? row->lr[g] : NAN;
}

static dl_status series(const dl_cmp_run *r, dl_cmp_kind kind, const char *metric, int group,
                        dl_cmp_xaxis xa, double **x, double **y, size_t *n, dl_err *err)
{
    *x = *y = NULL;
    *n = 0;
    bool per_batch = kind == DL_CMP_TRAIN_LOSS || kind == DL_CMP_TRAIN_SMOOTH ||
                     kind == DL_CMP_LR || kind == DL_CMP_MOM;
    if (kind == DL_CMP_METRIC && !metric)
        return dl_err_set(err, DL_EINVAL, "a metric series needs a metric name");
    size_t cap = per_batch ? r->n_batches : r->n_epochs;
    if (cap == 0)
        return DL_OK;
    double *xs = malloc(cap * sizeof *xs), *ys = malloc(cap * sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return dl_err_set(err, DL_ENOMEM, "out of memory for a series of %zu points (run %s)", cap,
                          r->run.name);
    }
    double spe = dl_cmp_steps_per_epoch(r);
    size_t k = 0;
    if (per_batch) {
        /* first step of each epoch, for the fractional epoch position */
        int64_t first_step = 0;
        int cur_epoch = -1;
        for (size_t b = 0; b < r->n_batches; b++) {
            const dl_batch_row *row = &r->batches[b];
            if (row->epoch != cur_epoch) {
                cur_epoch = row->epoch;
                first_step = row->step;
            }
            double v = batch_value(row, kind, group);
            if (!isfinite(v))
                continue;
            double xv = xa == DL_CMP_X_STEP ? (double)row->step
                        : xa == DL_CMP_X_TIME
                            ? row->t - r->run.created
                            : row->epoch + (spe > 0 ? (row->step - first_step) / spe : 0);
            xs[k] = xv;
            ys[k++] = v;
        }
    } else {
        for (size_t e = 0; e < r->n_epochs; e++) {
            const dl_epoch_row *row = &r->epochs[e];
            double v = kind == DL_CMP_VALID_LOSS    ? row->valid_loss
                       : kind == DL_CMP_EPOCH_TRAIN ? row->train_loss
                                                    : epoch_metric(row, metric);
            if (!isfinite(v))
                continue;
            double xv = xa == DL_CMP_X_STEP   ? steps_at_epoch_end(r, row->epoch, spe)
                        : xa == DL_CMP_X_TIME ? row->t - r->run.created
                                              : row->epoch + 1.0;
            xs[k] = xv;
            ys[k++] = v;
        }
    }
    if (k == 0) {
        free(xs);
        free(ys);
        return DL_OK;
    }
    *x = xs;
    *y = ys;
    *n = k;
    return DL_OK;
}

dl_status dl_cmp_series(const dl_cmp_run *r, dl_cmp_kind kind, const char *metric, dl_cmp_xaxis xa,
                        double **x, double **y, size_t *n, dl_err *err)
{
    return series(r, kind, metric, -1, xa, x, y, n, err);
}

dl_status dl_cmp_lr_series(const dl_cmp_run *r, int group, dl_cmp_xaxis xa, double **x, double **y,
                           size_t *n, dl_err *err)
{
    return series(r, DL_CMP_LR, NULL, group, xa, x, y, n, err);
}

int dl_cmp_n_groups(const dl_cmp_run *r)
{
    int g = 0;
    for (size_t b = 0; b < r->n_batches; b++)
        g = r->batches[b].n_lr > g ? r->batches[b].n_lr : g;
    return g;
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

dl_status dl_cmp_align(const dl_compare *c, dl_cmp_kind kind, const char *metric, dl_cmp_xaxis xa,
                       double **x, double **y, size_t *n, dl_err *err)
{
    *x = *y = NULL;
    *n = 0;
    double **sx = calloc(c->n, sizeof *sx), **sy = calloc(c->n, sizeof *sy);
    size_t *sn = calloc(c->n, sizeof *sn);
    dl_status s = DL_OK;
    double *ux = NULL, *uy = NULL;
    size_t total = 0, nu = 0;
    if (!sx || !sy || !sn) {
        s = dl_err_set(err, DL_ENOMEM, "out of memory aligning %zu runs", c->n);
        goto done;
    }
    for (size_t i = 0; i < c->n; i++) {
        if ((s = dl_cmp_series(&c->runs[i], kind, metric, xa, &sx[i], &sy[i], &sn[i], err)) !=
            DL_OK)
            goto done;
        total += sn[i];
    }
    if (total == 0)
        goto done;
    ux = malloc(total * sizeof *ux);
    if (!ux) {
        s = dl_err_set(err, DL_ENOMEM, "out of memory aligning %zu points", total);
        goto done;
    }
    for (size_t i = 0, k = 0; i < c->n; i++)
        for (size_t j = 0; j < sn[i]; j++)
            ux[k++] = sx[i][j];
    qsort(ux, total, sizeof *ux, cmp_double);
    for (size_t j = 0; j < total; j++)
        if (nu == 0 || ux[j] != ux[nu - 1])
            ux[nu++] = ux[j];
    uy = malloc(c->n * nu * sizeof *uy);
    if (!uy) {
        s = dl_err_set(err, DL_ENOMEM, "out of memory aligning %zu x %zu points", c->n, nu);
        goto done;
    }
    for (size_t i = 0; i < c->n; i++) {
        /* both sorted: walk the run's points along the union (the last value at an x wins) */
        size_t j = 0;
        for (size_t u = 0; u < nu; u++) {
            double v = NAN;
            while (j < sn[i] && sx[i][j] <= ux[u]) {
                if (sx[i][j] == ux[u])
                    v = sy[i][j];
                j++;
            }
            uy[i * nu + u] = v;
        }
    }
    *x = ux;
    *y = uy;
    *n = nu;
    ux = uy = NULL;
done:
    for (size_t i = 0; sx && sy && i < c->n; i++) {
        free(sx[i]);
        free(sy[i]);
    }
    free(sx);
    free(sy);
    free(sn);
    free(ux);
    free(uy);
    return s;
}

/* ---- figures ---- */

bool dl_cmp_lower_is_better(const char *m)
{
    return strcasestr(m, "loss") || strcasestr(m, "error") || strcasestr(m, "perplexity") ||
           strcasestr(m, "mse") || strcasestr(m, "mae");
}

static dl_cmp_figure *fig_add(dl_cmp_figure *f, size_t *nf, size_t n_runs, const char *name,
                              bool lower, bool is_time)
{
    dl_cmp_figure *g = &f[*nf];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->value = malloc(n_runs * sizeof *g->value);
    g->epoch = malloc(n_runs * sizeof *g->epoch);
    if (!g->value || !g->epoch) {
        free(g->value);
        free(g->epoch);
        return NULL;
    }
    for (size_t i = 0; i < n_runs; i++) {
        g->value[i] = NAN;
        g->epoch[i] = -1;
    }
    g->lower_better = lower;
    g->is_time = is_time;
    (*nf)++;
    return g;
}

/* Best and final of a per-epoch value (metric NULL: valid loss) into two figures. */
static void best_final(const dl_cmp_run *r, const char *metric, bool lower, dl_cmp_figure *best,
                       dl_cmp_figure *fin, size_t i)
{
    for (size_t e = 0; e < r->n_epochs; e++) {
        const dl_epoch_row *row = &r->epochs[e];
        double v = metric ? epoch_metric(row, metric) : row->valid_loss;
        if (!isfinite(v))
            continue;
        if (isnan(best->value[i]) || (lower ? v < best->value[i] : v > best->value[i])) {
            best->value[i] = v;
            best->epoch[i] = row->epoch;
        }
        fin->value[i] = v;
        fin->epoch[i] = row->epoch;
    }
}

dl_status dl_cmp_figures(const dl_compare *c, dl_cmp_figure **out, size_t *n, dl_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 2 + 2 * (size_t)c->n_metrics + 3;
    dl_cmp_figure *f = calloc(cap, sizeof *f);
    if (!f)
        return dl_err_set(err, DL_ENOMEM, "out of memory for the comparison table");
    size_t nf = 0;
    char name[DL_STORE_NAME_MAX + 8];
    dl_cmp_figure *best = fig_add(f, &nf, c->n, "best valid_loss", true, false);
    dl_cmp_figure *fin = best ? fig_add(f, &nf, c->n, "final valid_loss", true, false) : NULL;
    if (!fin)
        goto oom;
    for (size_t i = 0; i < c->n; i++)
        best_final(&c->runs[i], NULL, true, best, fin, i);
    for (int m = 0; m < c->n_metrics; m++) {
        const char *mn = c->metric_names[m];
        bool lower = dl_cmp_lower_is_better(mn);
        snprintf(name, sizeof name, "best %s", mn);
        best = fig_add(f, &nf, c->n, name, lower, false);
        snprintf(name, sizeof name, "final %s", mn);
        fin = best ? fig_add(f, &nf, c->n, name, lower, false) : NULL;
        if (!fin)
            goto oom;
        for (size_t i = 0; i < c->n; i++)
            best_final(&c->runs[i], mn, lower, best, fin, i);
    }
    dl_cmp_figure *ep = fig_add(f, &nf, c->n, "epochs", false, false);
    dl_cmp_figure *tt = ep ? fig_add(f, &nf, c->n, "train time", true, true) : NULL;
    dl_cmp_figure *ips = tt ? fig_add(f, &nf, c->n, "images/s", false, false) : NULL;
    if (!ips)
        goto oom;
    for (size_t i = 0; i < c->n; i++) {
        const dl_cmp_run *r = &c->runs[i];
        double time = 0;
        for (size_t e = 0; e < r->n_epochs; e++)
            if (isfinite(r->epochs[e].duration))
                time += r->epochs[e].duration;
        ep->value[i] = (double)r->n_epochs;
        if (r->n_epochs > 0) {
            tt->value[i] = time;
            if (time > 0 && r->run.n_train > 0)
                ips->value[i] = (double)r->run.n_train * (double)r->n_epochs / time;
        }
    }
    *out = f;
    *n = nf;
    return DL_OK;
oom:
    dl_cmp_figures_free(f, nf);
    return dl_err_set(err, DL_ENOMEM, "out of memory for the comparison table");
}

void dl_cmp_figures_free(dl_cmp_figure *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].value);
        free(f[i].epoch);
    }
    free(f);
}

double dl_cmp_delta(const dl_compare *c, const dl_cmp_figure *f, size_t run)
{
    if (c->baseline < 0 || (size_t)c->baseline >= c->n || run >= c->n)
        return NAN;
    double a = f->value[run], b = f->value[c->baseline];
    return isfinite(a) && isfinite(b) ? a - b : NAN;
}
