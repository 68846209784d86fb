/* compare/params: the hyper-parameter diff of several runs' config JSON (jansson). Objects are
 * flattened into dotted keys ("prep.size"); arrays stay whole, as compact JSON, since an argv or
 * a mean vector is one setting. A key absent from a run has a NULL value (shown as
 * DL_CMP_MISSING), which differs from any present value. Which keys are hyper-parameters is the
 * option table's word (core/run/run_cfg.h): its other settings (name, threads, cache) are left out,
 * and so is a nested copy of a row (prep.size beside size). A configuration of the previous schema
 * (the command line as "argv") is read with the same table first, so an old run and a new one
 * compare key by key. Refuses config text that does not parse or is not an object, naming the
 * run. */
#include "core/compare/compare.h"
#include "core/run/run_cfg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pset {
    dl_cmp_param *p;
    size_t n, cap, n_runs;
} pset;

static char *value_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_real(v)) {
        /* %.6g keeps 1e-3 as 0.001 and 0.1 + 0.2 noise out of the table */
        char buf[64];
        snprintf(buf, sizeof buf, "%.6g", json_real_value(v));
        return strdup(buf);
    }
    if (json_is_array(v)) {
        /* element by element, so a mean vector reads [0.399768,0.378637] and fits its column */
        size_t len = 3, i;
        char *text = malloc(len), *e;
        json_t *x;
        if (!text)
            return NULL;
        strcpy(text, "[");
        json_array_foreach(v, i, x)
        {
            e = json_is_string(x) ? json_dumps(x, JSON_ENCODE_ANY)
                                  : value_text(x); /* strings quoted */
            if (!e) {
                free(text);
                return NULL;
            }
            char *grown = realloc(text, len += strlen(e) + 1);
            if (!grown) {
                free(e);
                free(text);
                return NULL;
            }
            text = grown;
            if (i)
                strcat(text, ",");
            strcat(text, e);
            free(e);
        }
        strcat(text, "]");
        return text;
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static int put(pset *s, const char *key, size_t run, const json_t *v)
{
    size_t k = 0;
    while (k < s->n && strcmp(s->p[k].key, key) != 0)
        k++;
    if (k == s->n) {
        if (s->n == s->cap) {
            size_t nc = s->cap ? 2 * s->cap : 32;
            dl_cmp_param *np = realloc(s->p, nc * sizeof *np);
            if (!np)
                return -1;
            s->p = np;
            s->cap = nc;
        }
        dl_cmp_param *p = &s->p[s->n];
        p->key = strdup(key);
        p->value = calloc(s->n_runs, sizeof *p->value);
        p->differs = false;
        if (!p->key || !p->value) {
            free(p->key);
            free(p->value);
            return -1;
        }
        s->n++;
    }
    free(s->p[k].value[run]);
    s->p[k].value[run] = value_text(v);
    return s->p[k].value[run] ? 0 : -1;
}

/* A configuration of the previous schema (the command line as "argv") read once with the option
 * table into the current one; other members (prep, multi_label) are kept. NULL when it is not
 * one (then it is compared as it is). */
static json_t *migrated(json_t *root)
{
    json_t *av = json_object_get(root, "argv");
    size_t i;
    json_t *x;
    if (!json_is_array(av) || json_object_get(root, "schema"))
        return NULL;
    json_array_foreach(av, i, x) if (!json_is_string(x)) return NULL;
    char *old = json_dumps(root, JSON_COMPACT), *now = NULL;
    dl_run_cfg c;
    if (old && dl_run_cfg_from_json(&c, old, NULL) == DL_OK)
        now = dl_run_cfg_to_json(&c);
    free(old);
    json_t *out = now ? json_loads(now, 0, NULL) : NULL;
    free(now);
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) if (out && strcmp(k, "argv") != 0 && !json_object_get(out, k))
        json_object_set(out, k, v);
    return out;
}

/* Which members are settings of the option table and not hyper-parameters (the store folder,
 * threads, the name), or repeat a table row inside another object (prep.size is "size"). */
static bool left_out(const json_t *root, const char *prefix, const char *key)
{
    if (!*prefix && !strcmp(key, "schema")) /* how the JSON is written, not what the run learns */
        return true;
    if (!*prefix && !strcmp(key, "parallel"))
        return true; /* how many replicas and ranks computed it: a resume may use others */
    const dl_opt *o = dl_opt_find(key);
    if (!o)
        return false;
    return *prefix ? json_object_get(root, key) != NULL : !(o->flags & DL_OPT_HYPER);
}

static int flatten(pset *s, const json_t *root, const char *prefix, size_t run, const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        size_t len = strlen(prefix) + strlen(k) + 2;
        char *key = malloc(len);
        if (!key)
            return -1;
        snprintf(key, len, "%s%s%s", prefix, *prefix ? "." : "", k);
        int rc = 0;
        if (!left_out(root, prefix, k))
            rc = json_is_object(v) && json_object_size(v) > 0 ? flatten(s, root, key, run, v)
                                                              : put(s, key, run, v);
        free(key);
        if (rc)
            return rc;
    }
    return 0;
}

dl_status dl_cmp_params(const char *const *configs, const char *const *names, size_t n, bool all,
                        dl_cmp_param **out, size_t *np, dl_err *err)
{
    *out = NULL;
    *np = 0;
    pset s = {.n_runs = n};
    for (size_t i = 0; i < n; i++) {
        if (!configs[i] || !*configs[i])
            continue;
        json_error_t je;
        json_t *root = json_loads(configs[i], JSON_DECODE_ANY, &je);
        const char *who = names && names[i] ? names[i] : "?";
        if (!root || !json_is_object(root)) {
            dl_status st = root ? dl_err_set(err, DL_EFORMAT,
                                             "run %s: its configuration is not a JSON object", who)
                                : dl_err_set(err, DL_EFORMAT,
                                             "run %s: configuration JSON, line %d column %d: %s",
                                             who, je.line, je.column, je.text);
            json_decref(root);
            dl_cmp_params_free(s.p, s.n, n);
            return st;
        }
        json_t *now = migrated(root);
        int rc = flatten(&s, now ? now : root, "", i, now ? now : root);
        json_decref(now);
        json_decref(root);
        if (rc) {
            dl_cmp_params_free(s.p, s.n, n);
            return dl_err_set(err, DL_ENOMEM,
                              "out of memory flattening the configuration of run %s", who);
        }
    }
    size_t kept = 0;
    for (size_t k = 0; k < s.n; k++) {
        dl_cmp_param *p = &s.p[k];
        for (size_t i = 1; i < n && !p->differs; i++) {
            const char *a = p->value[0], *b = p->value[i];
            p->differs = (!a) != (!b) || (a && b && strcmp(a, b) != 0);
        }
        if (all || p->differs)
            s.p[kept++] = *p;
        else {
            for (size_t i = 0; i < n; i++)
                free(p->value[i]);
            free(p->value);
            free(p->key);
        }
    }
    if (kept == 0) {
        free(s.p);
        s.p = NULL;
    }
    *out = s.p;
    *np = kept;
    return DL_OK;
}

void dl_cmp_params_free(dl_cmp_param *p, size_t np, size_t n_runs)
{
    for (size_t k = 0; p && k < np; k++) {
        for (size_t i = 0; i < n_runs; i++)
            free(p[k].value[i]);
        free(p[k].value);
        free(p[k].key);
    }
    free(p);
}
