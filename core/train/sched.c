/* sched: schedules, LR spreading and fine_tune's two phases; see sched.h. */
#include "core/train/sched.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double dl_sched_at(const dl_sched *s, double p)
{
    switch (s->kind) {
    case DL_SCHED_LIN:
        return s->start + p * (s->end - s->start);
    case DL_SCHED_COS:
        return s->start + (1.0 + cos(M_PI * (1.0 - p))) * (s->end - s->start) / 2.0;
    case DL_SCHED_EXP:
        return s->start * pow(s->end / s->start, p);
    case DL_SCHED_NO:
    default:
        return s->start;
    }
}

dl_status dl_sched_combine(dl_sched_combo *c, int n, const double *pcts, const dl_sched *phases,
                           dl_err *err)
{
    if (n < 1 || n > DL_SCHED_MAX_PHASES)
        return dl_err_set(err, DL_EINVAL, "schedule: %d phases (1 to %d allowed)", n,
                          DL_SCHED_MAX_PHASES);
    double sum = 0;
    for (int k = 0; k < n; k++) {
        if (!(pcts[k] >= 0 && pcts[k] <= 1))
            return dl_err_set(err, DL_EINVAL, "schedule: phase %d fraction %g is outside [0, 1]", k,
                              pcts[k]);
        sum += pcts[k];
    }
    if (fabs(sum - 1.0) > 1e-9)
        return dl_err_set(err, DL_EINVAL, "schedule: phase fractions sum to %.12g, not 1", sum);
    memset(c, 0, sizeof *c);
    c->n = n;
    c->edge[0] = 0;
    for (int k = 0; k < n; k++) {
        c->ph[k] = phases[k];
        c->edge[k + 1] = c->edge[k] + pcts[k];
    }
    c->edge[n] = 1.0;
    return DL_OK;
}

double dl_sched_combo_at(const dl_sched_combo *c, double pos)
{
    if (!(pos >= 0))
        pos = 0;
    if (pos > 1)
        pos = 1;
    int k = 0;
    for (int j = 0; j < c->n; j++) /* last phase whose start <= pos */
        if (pos >= c->edge[j])
            k = j;
    double len = c->edge[k + 1] - c->edge[k];
    double p = len > 0 ? (pos - c->edge[k]) / len : 0.0;
    return dl_sched_at(&c->ph[k], p);
}

double dl_sched_pos(long epoch, long iter, long n_epoch, long n_iter)
{
    if (n_epoch <= 0 || n_iter <= 0)
        return 0;
    return ((double)epoch * (double)n_iter + (double)iter) / ((double)n_epoch * (double)n_iter);
}

double dl_fit_sched_lr(const dl_fit_sched *s, int group, double pos)
{
    if (s->n_groups < 1)
        return 0.0; /* an empty (zeroed) schedule */
    if (group < 0 || group >= s->n_groups)
        group = s->n_groups - 1; /* fastai records and shows the last group's lr */
    return dl_sched_combo_at(&s->lr[group], pos);
}

bool dl_fit_sched_mom(const dl_fit_sched *s, double pos, double *mom)
{
    if (!s->has_mom)
        return false;
    *mom = dl_sched_combo_at(&s->mom, pos);
    return true;
}

static dl_status check_groups(int n_groups, const double *lr, const char *what, dl_err *err)
{
    if (n_groups < 1 || n_groups > DL_MAX_GROUPS)
        return dl_err_set(err, DL_EINVAL, "%s: %d parameter groups (1 to %d allowed)", what,
                          n_groups, DL_MAX_GROUPS);
    for (int g = 0; lr && g < n_groups; g++)
        if (!isfinite(lr[g]) || lr[g] <= 0)
            return dl_err_set(err, DL_EINVAL,
                              "%s: learning rate %g of group %d must be finite and > 0", what,
                              lr[g], g);
    return DL_OK;
}

static dl_status check_pct(double pct, const char *what, dl_err *err)
{
    if (!(pct >= 0 && pct <= 1))
        return dl_err_set(err, DL_EINVAL, "%s: pct_start %g is outside [0, 1]", what, pct);
    return DL_OK;
}

static dl_status check_div(double div, const char *name, const char *what, dl_err *err)
{
    if (!isfinite(div) || div <= 0)
        return dl_err_set(err, DL_EINVAL, "%s: %s %g must be finite and > 0", what, name, div);
    return DL_OK;
}

/* fastai's combined_cos(pct, start, middle, end). */
static dl_status combined_cos(dl_sched_combo *c, double pct, double a, double b, double e,
                              dl_err *err)
{
    const double pcts[2] = {pct, 1.0 - pct};
    const dl_sched ph[2] = {{DL_SCHED_COS, a, b}, {DL_SCHED_COS, b, e}};
    return dl_sched_combine(c, 2, pcts, ph, err);
}

dl_status dl_sched_fit(dl_fit_sched *s, int n_groups, const double *lr, dl_err *err)
{
    dl_status st = check_groups(n_groups, lr, "fit", err);
    if (st != DL_OK)
        return st;
    memset(s, 0, sizeof *s);
    s->n_groups = n_groups;
    const double one = 1.0;
    for (int g = 0; g < n_groups; g++) {
        const dl_sched ph = {DL_SCHED_NO, lr[g], lr[g]};
        if ((st = dl_sched_combine(&s->lr[g], 1, &one, &ph, err)) != DL_OK)
            return st;
    }
    return DL_OK;
}

dl_one_cycle_opts dl_one_cycle_defaults(void)
{
    return (dl_one_cycle_opts){
        .div = 25.0, .div_final = 1e5, .pct_start = 0.25, .moms = {0.95, 0.85, 0.95}};
}

dl_status dl_sched_one_cycle(dl_fit_sched *s, int n_groups, const double *lr_max,
                             const dl_one_cycle_opts *o, dl_err *err)
{
    dl_one_cycle_opts d = o ? *o : dl_one_cycle_defaults();
    dl_status st;
    if ((st = check_groups(n_groups, lr_max, "fit_one_cycle", err)) != DL_OK ||
        (st = check_pct(d.pct_start, "fit_one_cycle", err)) != DL_OK ||
        (st = check_div(d.div, "div", "fit_one_cycle", err)) != DL_OK ||
        (st = check_div(d.div_final, "div_final", "fit_one_cycle", err)) != DL_OK)
        return st;
    for (int k = 0; k < 3; k++)
        if (!(d.moms[k] >= 0 && d.moms[k] < 1))
            return dl_err_set(err, DL_EINVAL, "fit_one_cycle: momentum %g must be in [0, 1)",
                              d.moms[k]);
    memset(s, 0, sizeof *s);
    s->n_groups = n_groups;
    for (int g = 0; g < n_groups; g++)
        if ((st = combined_cos(&s->lr[g], d.pct_start, lr_max[g] / d.div, lr_max[g],
                               lr_max[g] / d.div_final, err)) != DL_OK)
            return st;
    s->has_mom = true;
    return combined_cos(&s->mom, d.pct_start, d.moms[0], d.moms[1], d.moms[2], err);
}

dl_status dl_sched_flat_cos(dl_fit_sched *s, int n_groups, const double *lr, double pct_start,
                            double div_final, dl_err *err)
{
    dl_status st;
    if ((st = check_groups(n_groups, lr, "fit_flat_cos", err)) != DL_OK ||
        (st = check_pct(pct_start, "fit_flat_cos", err)) != DL_OK ||
        (st = check_div(div_final, "div_final", "fit_flat_cos", err)) != DL_OK)
        return st;
    memset(s, 0, sizeof *s);
    s->n_groups = n_groups;
    for (int g = 0; g < n_groups; g++)
        if ((st = combined_cos(&s->lr[g], pct_start, lr[g], lr[g], lr[g] / div_final, err)) !=
            DL_OK)
            return st;
    return DL_OK;
}

/* ---- spreading ---- */

void dl_even_mults(double lo, double hi, int n, double *out)
{
    if (n <= 1) {
        if (n == 1)
            out[0] = hi;
        return;
    }
    double step = pow(hi / lo, 1.0 / (n - 1));
    for (int i = 0; i < n; i++)
        out[i] = lo * pow(step, i);
}

dl_status dl_lr_spread(const dl_lr_spec *spec, int n_groups, double *out, dl_err *err)
{
    dl_status st = check_groups(n_groups, NULL, "learning rate", err);
    if (st != DL_OK)
        return st;
    if (!isfinite(spec->hi) || spec->hi <= 0)
        return dl_err_set(err, DL_EINVAL, "learning rate %g must be finite and > 0", spec->hi);
    switch (spec->kind) {
    case DL_LR_CONST:
        for (int g = 0; g < n_groups; g++)
            out[g] = spec->hi;
        return DL_OK;
    case DL_LR_SLICE_HI:
        for (int g = 0; g < n_groups; g++)
            out[g] = g == n_groups - 1 ? spec->hi : spec->hi / 10.0;
        return DL_OK;
    case DL_LR_RANGE:
        if (!isfinite(spec->lo) || spec->lo <= 0 || spec->lo > spec->hi)
            return dl_err_set(err, DL_EINVAL, "learning-rate range %g..%g: need 0 < lo <= hi",
                              spec->lo, spec->hi);
        dl_even_mults(spec->lo, spec->hi, n_groups, out);
        return DL_OK;
    }
    return dl_err_set(err, DL_EINVAL, "unknown learning-rate kind %d", (int)spec->kind);
}

/* Reads one positive finite number spanning [s, end). */
static bool read_num(const char *s, const char *end, double *out)
{
    char buf[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *stop;
    errno = 0;
    double v = strtod(buf, &stop);
    if (*stop || errno || !isfinite(v) || v <= 0)
        return false;
    *out = v;
    return true;
}

dl_status dl_lr_parse(const char *s, dl_lr_spec *out, dl_err *err)
{
    if (!s)
        return dl_err_set(err, DL_EINVAL, "learning rate missing");
    /* ':' is an alias of '..' (the dashboard's old form LO:HI) */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *colon = strchr(buf, ':');
    if (colon && !strstr(buf, "..") && !strchr(colon + 1, ':') && strlen(buf) + 1 < sizeof buf) {
        memmove(colon + 1, colon, strlen(colon) + 1);
        colon[0] = colon[1] = '.';
    }
    const char *t = buf, *end = t + strlen(t), *dots = strstr(t, "..");
    dl_lr_spec r = {0};
    bool ok = strlen(s) < sizeof buf - 1;
    if (t[0] == '=') {
        r.kind = DL_LR_CONST; /* the explicit form of a plain value */
        ok = ok && read_num(t + 1, end, &r.hi);
    } else if (dots == t) {
        r.kind = DL_LR_SLICE_HI;
        ok = ok && !strstr(t + 2, "..") && read_num(t + 2, end, &r.hi);
    } else if (dots) {
        r.kind = DL_LR_RANGE;
        ok = ok && !strstr(dots + 2, "..") && read_num(t, dots, &r.lo) &&
             read_num(dots + 2, end, &r.hi) && r.lo <= r.hi;
    } else {
        r.kind = DL_LR_CONST; /* fastai's float: every group */
        ok = ok && read_num(t, end, &r.hi);
    }
    if (!ok)
        return dl_err_set(err, DL_EINVAL,
                          "cannot read learning rate '%s' (expected V for every group such as "
                          "3e-3, ..HI for slice(HI), or LO..HI with LO <= HI such as 1e-6..1e-4)",
                          s);
    *out = r;
    return DL_OK;
}

int dl_lr_format(const dl_lr_spec *spec, char *buf, size_t cap)
{
    switch (spec->kind) {
    case DL_LR_RANGE:
        return snprintf(buf, cap, "%g..%g", spec->lo, spec->hi);
    case DL_LR_SLICE_HI:
        return snprintf(buf, cap, "..%g", spec->hi);
    case DL_LR_CONST:
    default:
        return snprintf(buf, cap, "%g", spec->hi);
    }
}

/* ---- fine_tune ---- */

dl_fine_tune_opts dl_fine_tune_defaults(void)
{
    return (dl_fine_tune_opts){.base_lr = 2e-3,
                               .freeze_epochs = 1,
                               .lr_mult = 100.0,
                               .pct_start = 0.3,
                               .div = 5.0,
                               .div_final = 1e5,
                               .moms = {0.95, 0.85, 0.95}};
}

dl_status dl_sched_fine_tune(dl_fine_tune_plan *p, int n_groups, int epochs,
                             const dl_fine_tune_opts *o, dl_err *err)
{
    dl_fine_tune_opts d = o ? *o : dl_fine_tune_defaults();
    if (epochs < 1)
        return dl_err_set(err, DL_EINVAL, "fine_tune: epochs %d must be >= 1", epochs);
    if (d.freeze_epochs < 0)
        return dl_err_set(err, DL_EINVAL, "fine_tune: freeze_epochs %d must be >= 0",
                          d.freeze_epochs);
    if (!isfinite(d.lr_mult) || d.lr_mult < 1)
        return dl_err_set(err, DL_EINVAL, "fine_tune: lr_mult %g must be finite and >= 1",
                          d.lr_mult);
    memset(p, 0, sizeof *p);
    dl_status st;
    dl_one_cycle_opts oc = {.div = 25.0,
                            .div_final = d.div_final,
                            .pct_start = 0.99,
                            .moms = {d.moms[0], d.moms[1], d.moms[2]}};
    double base_lr = d.base_lr;
    if (d.freeze_epochs > 0) {
        dl_fine_tune_phase *ph = &p->phase[p->n_phases++];
        ph->epochs = d.freeze_epochs;
        ph->freeze_to = -1;
        const dl_lr_spec spec = {DL_LR_SLICE_HI, 0, base_lr};
        if ((st = dl_lr_spread(&spec, n_groups, ph->lr_max, err)) != DL_OK ||
            (st = dl_sched_one_cycle(&ph->sched, n_groups, ph->lr_max, &oc, err)) != DL_OK)
            return dl_err_wrap(err, "fine_tune, frozen phase");
    }
    base_lr /= 2;
    dl_fine_tune_phase *ph = &p->phase[p->n_phases++];
    ph->epochs = epochs;
    ph->freeze_to = 0;
    oc.div = d.div;
    oc.pct_start = d.pct_start;
    const dl_lr_spec spec = {DL_LR_RANGE, base_lr / d.lr_mult, base_lr};
    if ((st = dl_lr_spread(&spec, n_groups, ph->lr_max, err)) != DL_OK ||
        (st = dl_sched_one_cycle(&ph->sched, n_groups, ph->lr_max, &oc, err)) != DL_OK)
        return dl_err_wrap(err, "fine_tune, unfrozen phase");
    return DL_OK;
}

static dl_status validate_combo(const dl_sched_combo *c, const char *what, int group, dl_err *err)
{
    if (c->n < 1 || c->n > DL_SCHED_MAX_PHASES)
        return dl_err_set(err, DL_EFORMAT, "schedule %s %d: %d phases (1 to %d allowed)", what,
                          group, c->n, DL_SCHED_MAX_PHASES);
    if (c->edge[0] != 0.0 || c->edge[c->n] != 1.0)
        return dl_err_set(err, DL_EFORMAT, "schedule %s %d: phase edges must run from 0 to 1", what,
                          group);
    for (int k = 0; k < c->n; k++) {
        const dl_sched *p = &c->ph[k];
        if (!(c->edge[k + 1] >= c->edge[k]))
            return dl_err_set(err, DL_EFORMAT, "schedule %s %d phase %d: edges %g..%g go backwards",
                              what, group, k, c->edge[k], c->edge[k + 1]);
        if (p->kind != DL_SCHED_NO && p->kind != DL_SCHED_LIN && p->kind != DL_SCHED_COS &&
            p->kind != DL_SCHED_EXP)
            return dl_err_set(err, DL_EFORMAT, "schedule %s %d phase %d: unknown kind %d", what,
                              group, k, (int)p->kind);
        if (!isfinite(p->start) || !isfinite(p->end))
            return dl_err_set(err, DL_EFORMAT,
                              "schedule %s %d phase %d: values %g..%g are not finite", what, group,
                              k, p->start, p->end);
    }
    return DL_OK;
}

dl_status dl_fit_sched_validate(const dl_fit_sched *s, dl_err *err)
{
    if (s->n_groups < 1 || s->n_groups > DL_MAX_GROUPS)
        return dl_err_set(err, DL_EFORMAT, "schedule: %d parameter groups (1 to %d allowed)",
                          s->n_groups, DL_MAX_GROUPS);
    dl_status st;
    for (int g = 0; g < s->n_groups; g++)
        if ((st = validate_combo(&s->lr[g], "lr of group", g, err)) != DL_OK)
            return st;
    if (s->has_mom && (st = validate_combo(&s->mom, "momentum", 0, err)) != DL_OK)
        return st;
    return DL_OK;
}

/* ---- mid-run changes ---- */

static void scale_combo(dl_sched_combo *c, double f)
{
    for (int k = 0; k < c->n; k++) {
        c->ph[k].start *= f;
        c->ph[k].end *= f;
    }
}

dl_status dl_fit_sched_set_lr(dl_fit_sched *s, double pos, const double *new_lr, dl_err *err)
{
    dl_status st = check_groups(s->n_groups, new_lr, "set lr", err);
    if (st != DL_OK)
        return st;
    for (int g = 0; g < s->n_groups; g++) {
        double cur = dl_sched_combo_at(&s->lr[g], pos);
        if (isfinite(cur) && cur > 0) {
            scale_combo(&s->lr[g], new_lr[g] / cur);
        } else {
            const double one = 1.0;
            const dl_sched ph = {DL_SCHED_NO, new_lr[g], new_lr[g]};
            if ((st = dl_sched_combine(&s->lr[g], 1, &one, &ph, err)) != DL_OK)
                return st;
        }
    }
    return DL_OK;
}

dl_status dl_fit_sched_scale_lr(dl_fit_sched *s, double factor, dl_err *err)
{
    if (!isfinite(factor) || factor <= 0)
        return dl_err_set(err, DL_EINVAL, "scale lr: factor %g must be finite and > 0", factor);
    for (int g = 0; g < s->n_groups; g++)
        scale_combo(&s->lr[g], factor);
    return DL_OK;
}
