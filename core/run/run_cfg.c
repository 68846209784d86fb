/* run/run_cfg: parsing a command line and writing the usage text from the option table, the
 * defaults that resolve to effective values, and the dataset description (see run_cfg.h). */
#include "core/run/run_cfg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dl_opt *find_for(const char *name, size_t len, char short_name, unsigned bit)
{
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        if (!(o->cmds & bit))
            continue;
        if (short_name ? o->short_name == short_name
                       : strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    }
    return NULL;
}

static bool takes_value(const dl_opt *o) { return o->type != DL_OPT_FLAG && o->type != DL_OPT_SET; }

dl_status dl_run_cfg_parse(dl_run_cfg *c, const char *cmd, int argc, char **argv, const char **pos,
                           int max_pos, int *n_pos, bool *help, dl_err *err)
{
    unsigned bit = dl_cmd_bit(cmd);
    *n_pos = 0;
    *help = false;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !a[1]) {
            if (*n_pos >= max_pos)
                return dl_err_set(err, DL_EINVAL, "unexpected argument '%s' (after '%s')", a,
                                  max_pos ? pos[max_pos - 1] : cmd);
            pos[(*n_pos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *help = true;
            return DL_OK;
        }
        const dl_opt *o;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            o = find_for(name, eq ? (size_t)(eq - name) : strlen(name), 0, bit);
            val = eq ? eq + 1 : NULL;
        } else {
            o = a[2] ? NULL : find_for(NULL, 0, a[1], bit);
        }
        if (!o)
            return dl_err_set(err, DL_EINVAL, "unknown option '%s'", a);
        if (takes_value(o) && !val) {
            if (i + 1 >= argc)
                return dl_err_set(err, DL_EINVAL, "--%s needs a value (%s)", o->name,
                                  o->meta ? o->meta : "");
            val = argv[++i];
        }
        dl_status st = dl_run_cfg_set(c, o, val ? val : "", err);
        if (st != DL_OK)
            return st;
    }
    return DL_OK;
}

static void append(char **text, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (!*text)
        return;
    if (*len + n + 1 > *cap) {
        size_t nc = (*len + n + 1) * 2;
        char *g = realloc(*text, nc);
        if (!g) {
            free(*text);
            *text = NULL;
            return;
        }
        *text = g, *cap = nc;
    }
    memcpy(*text + *len, s, n + 1);
    *len += n;
}

static void usage_line(const dl_opt *o, char **text, size_t *len, size_t *cap)
{
    char flag[64], line[512];
    if (o->short_name)
        snprintf(flag, sizeof flag, "-%c %s", o->short_name, o->meta ? o->meta : "");
    else
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->meta ? " " : "",
                 o->meta ? o->meta : "");
    bool say_default = o->def && o->def[0] && strcmp(o->def, "-1") != 0 &&
                       !strstr(o->help, "default") && !strstr(o->help, "0:") &&
                       !(o->type == DL_OPT_ENUM && !strcmp(o->def, "auto"));
    snprintf(line, sizeof line, "  %-19s %s%s%s%s\n", flag, o->help,
             say_default ? " (default " : "", say_default ? o->def : "", say_default ? ")" : "");
    if (strlen(flag) > 19) /* the help goes on its own line */
        snprintf(line, sizeof line, "  %s\n  %-19s %s%s%s%s\n", flag, "", o->help,
                 say_default ? " (default " : "", say_default ? o->def : "",
                 say_default ? ")" : "");
    append(text, len, cap, line);
}

char *dl_run_cfg_usage(const char *cmd)
{
    unsigned bit = dl_cmd_bit(cmd);
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    if (text)
        text[0] = 0;
    /* the command's own options, then each section in the table's order */
    const char *sections[8] = {NULL};
    int n_sections = 1;
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        bool seen = !o->section;
        for (int s = 1; s < n_sections && !seen; s++)
            seen = !strcmp(sections[s], o->section);
        if ((o->cmds & bit) && !seen && n_sections < 8)
            sections[n_sections++] = o->section;
    }
    for (int s = 0; s < n_sections; s++) {
        if (sections[s]) {
            append(&text, &len, &cap, sections[s]);
            append(&text, &len, &cap, ":\n");
        }
        for (size_t i = 0; i < dl_opt_count(); i++) {
            const dl_opt *o = dl_opt_at(i);
            bool here = sections[s] ? o->section && !strcmp(o->section, sections[s]) : !o->section;
            if ((o->cmds & bit) && here)
                usage_line(o, &text, &len, &cap);
        }
    }
    return text;
}

void dl_run_cfg_resolve(dl_run_cfg *c)
{
    if (c->schedule == DL_SCHEDULE_AUTO)
        c->schedule = c->pretrained[0] ? DL_SCHEDULE_FINE_TUNE : DL_SCHEDULE_ONE_CYCLE;
    if (isnan(c->wd))
        c->wd = dl_optim_defaults(c->opt).wd;
    if (!(c->lr.hi > 0)) {
        /* the learner's 1e-3 for every group; fine_tune's base_lr 2e-3 as slice(base_lr) */
        if (c->schedule == DL_SCHEDULE_FINE_TUNE)
            c->lr = (dl_lr_spec){.kind = DL_LR_SLICE_HI, .hi = 2e-3};
        else
            c->lr = (dl_lr_spec){.kind = DL_LR_CONST, .hi = 1e-3};
    }
    if (!c->monitor[0])
        snprintf(c->monitor, sizeof c->monitor, "valid_loss");
}

void dl_run_cfg_resolve_data(dl_run_cfg *c, const dl_image_prep *prep, bool multi_label)
{
    c->size = prep->size;
    c->channels = prep->channels;
    if (c->n_metrics == 0) {
        c->n_metrics = 1;
        c->metrics[0] = multi_label ? DL_METRIC_ACCURACY_MULTI : DL_METRIC_ERROR_RATE;
    }
}

static const char *or_null(const char *s) { return s[0] ? s : NULL; }

void dl_run_cfg_data(const dl_run_cfg *c, dl_data_config *d)
{
    dl_data_config_init(d);
    d->source = or_null(c->data);
    d->label_re = or_null(c->label_re);
    d->csv = or_null(c->csv);
    d->fname_col = c->fname_col;
    d->label_col = c->label_col;
    d->valid_col = or_null(c->valid_col);
    d->folder = or_null(c->folder);
    d->label_delim = c->label_delim;
    d->multi_label = c->multi_label;
    d->valid_pct = c->valid_pct;
    d->seed = (uint64_t)c->seed;
    d->limit = c->limit;
    d->valid_limit = c->valid_limit;
    d->size = c->size;
    d->resize = c->resize;
    d->aug = !c->no_aug;
    d->channels = c->channels;
    d->imagenet_stats = c->imagenet_stats;
    d->fast_decode = c->fast_decode;
    d->cache_dir = or_null(c->cache);
    d->mosaic_train = c->mosaic_train;
    d->mosaic_valid = c->mosaic_valid;
}

bool dl_run_cfg_same(const dl_run_cfg *a, const dl_run_cfg *b)
{
    char x[DL_CFG_STR + 64], y[DL_CFG_STR + 64];
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        if (!(o->flags & DL_OPT_STORED))
            continue;
        dl_run_cfg_get(a, o, x, sizeof x);
        dl_run_cfg_get(b, o, y, sizeof y);
        if (strcmp(x, y) != 0)
            return false;
    }
    return strcmp(a->data, b->data) == 0;
}
