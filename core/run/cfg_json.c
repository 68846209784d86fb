/* run/cfg_json: a dl_run_cfg as the run store keeps it: one JSON object with the effective value
 * of every stored option under its name (see run_cfg.h), and reading it back, including the
 * previous schema, where the configuration was the command line ("argv") plus "prep". */
#include "core/run/run_cfg.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 3: a bare lr "V" means every group (fastai's float). Schemas 1 (argv) and 2 were written when
 * it meant slice(V); dllab only ever stored explicit forms in 2, but a bare V read from either is
 * given its old meaning, so a stored run keeps its recorded per-group rates. */
#define DL_CFG_SCHEMA 3

/* A bare "V" of the grammar before schema 3 as the explicit "..V" it meant (else unchanged). */
static const char *legacy_lr(const char *text, char *buf, size_t cap)
{
    if (!text[0] || text[0] == '=' || strstr(text, "..") || strchr(text, ':'))
        return text;
    snprintf(buf, cap, "..%s", text);
    return buf;
}

static json_t *value_json(const dl_run_cfg *c, const dl_opt *o)
{
    const char *f = (const char *)c + o->off;
    char text[DL_CFG_STR + 64];
    dl_run_cfg_get(c, o, text, sizeof text);
    switch (o->type) {
    case DL_OPT_FLAG:
        return json_boolean(*(const bool *)f);
    case DL_OPT_INT:
        return json_integer(*(const int *)f);
    case DL_OPT_I64:
        return json_integer((json_int_t) * (const int64_t *)f);
    case DL_OPT_REAL:
        return isnan(*(const double *)f) ? json_null() : json_real(*(const double *)f);
    case DL_OPT_METRICS: {
        json_t *a = json_array();
        for (int i = 0; i < c->n_metrics; i++)
            json_array_append_new(a, json_string(dl_metric_name(c->metrics[i])));
        return a;
    }
    case DL_OPT_STR:
    case DL_OPT_LR:
        return text[0] ? json_string(text) : json_null();
    default:
        return json_string(text); /* char, enum by name */
    }
}

char *dl_run_cfg_to_json(const dl_run_cfg *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "schema", json_integer(DL_CFG_SCHEMA));
    json_object_set_new(o, "data", json_string(c->data));
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *opt = dl_opt_at(i);
        if ((opt->flags & DL_OPT_STORED) && opt->type != DL_OPT_SET)
            json_object_set_new(o, opt->name, value_json(c, opt));
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/* A JSON value as the CLI would write it (NULL: leave the default). */
static bool value_text(const dl_opt *o, json_t *v, char *buf, size_t cap)
{
    if (json_is_null(v))
        return false;
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.17g", json_real_value(v));
    else if (json_is_array(v) && o->type == DL_OPT_METRICS) {
        size_t i;
        json_t *x;
        buf[0] = 0;
        json_array_foreach(v, i, x)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", i ? "," : "",
                     json_is_string(x) ? json_string_value(x) : "?");
    } else
        snprintf(buf, cap, "?");
    return true;
}

static dl_status from_current(dl_run_cfg *c, json_t *root, dl_err *err)
{
    json_int_t schema = json_integer_value(json_object_get(root, "schema"));
    json_t *d = json_object_get(root, "data");
    if (json_is_string(d))
        snprintf(c->data, sizeof c->data, "%s", json_string_value(d));
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        json_t *v = json_object_get(root, o->name);
        char text[DL_CFG_STR + 64];
        if (!(o->flags & DL_OPT_STORED) || o->type == DL_OPT_SET || !v ||
            !value_text(o, v, text, sizeof text))
            continue;
        if (o->type == DL_OPT_REAL && !json_is_number(v))
            return dl_err_set(err, DL_EFORMAT, "configuration key '%s' is not a number", o->name);
        char old[DL_CFG_STR + 64];
        const char *t =
            o->type == DL_OPT_LR && schema < 3 ? legacy_lr(text, old, sizeof old) : text;
        if (dl_run_cfg_set(c, o, t, err) != DL_OK)
            return dl_err_wrap(err, "stored configuration");
    }
    return DL_OK;
}

/* The previous schema: {"argv": ["train", ..., DATA], "prep": {"size", "channels", ...}, ...}. */
static dl_status from_argv(dl_run_cfg *c, json_t *root, json_t *av, dl_err *err)
{
    size_t n = json_array_size(av);
    char **argv = calloc(n + 1, sizeof *argv);
    const char *pos[2];
    int n_pos = 0;
    bool help;
    if (!argv)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    char lr_old[4][128]; /* --lr values with their old meaning (the last --lr wins, as parsed) */
    int n_lr = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(av, i);
        const char *a = json_is_string(x) ? json_string_value(x) : "";
        argv[i] = (char *)a;
        bool value = i > 0 && !strcmp(argv[i - 1], "--lr"), inline_value = !strncmp(a, "--lr=", 5);
        if ((value || inline_value) && n_lr < 4) {
            char *b = lr_old[n_lr++], tmp[128];
            snprintf(b, sizeof lr_old[0], "%s%s", inline_value ? "--lr=" : "",
                     legacy_lr(inline_value ? a + 5 : a, tmp, sizeof tmp));
            argv[i] = b;
        }
    }
    const char *cmd = n && dl_cmd_bit(argv[0]) ? argv[0] : "train";
    dl_status st = dl_run_cfg_parse(c, cmd, (int)n, argv, pos, 2, &n_pos, &help, err);
    if (st == DL_OK && n_pos == 1)
        snprintf(c->data, sizeof c->data, "%s", pos[0]);
    free(argv);
    if (st != DL_OK)
        return dl_err_wrap(err, "stored command line");
    /* what the command line left automatic, as it came out */
    json_t *prep = json_object_get(root, "prep");
    if (json_is_object(prep)) {
        dl_image_prep p = {.size = (int)json_integer_value(json_object_get(prep, "size")),
                           .channels = (int)json_integer_value(json_object_get(prep, "channels"))};
        if (p.size > 0 && (p.channels == 1 || p.channels == 3))
            dl_run_cfg_resolve_data(c, &p, json_is_true(json_object_get(root, "multi_label")));
    }
    return DL_OK;
}

dl_status dl_run_cfg_from_json(dl_run_cfg *c, const char *text, dl_err *err)
{
    json_error_t je;
    json_t *root = json_loads(text ? text : "", 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return dl_err_set(err, DL_EFORMAT, "stored configuration: %s",
                          root ? "not a JSON object" : je.text);
    }
    dl_run_cfg_init(c);
    json_t *av = json_object_get(root, "argv");
    dl_status st = json_is_array(av) && !json_object_get(root, "schema")
                       ? from_argv(c, root, av, err)
                       : from_current(c, root, err);
    json_decref(root);
    if (st != DL_OK)
        return st;
    /* what was stored defines the run; none of it counts as given on this command line */
    c->runs[0] = c->resume[0] = 0;
    c->from_epoch = -1;
    c->no_tui = false;
    memset(c->given, 0, sizeof c->given);
    dl_run_cfg_resolve(c);
    return DL_OK;
}
