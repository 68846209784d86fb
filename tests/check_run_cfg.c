/* check_run_cfg: the run configuration and its one option table (core/run/run_cfg.h).
 *   - every option of the table, given on a command line, round-trips CLI -> dl_run_cfg -> JSON ->
 *     dl_run_cfg identically (and all of them at once);
 *   - every bad value of every option is refused with "--NAME: 'VALUE' ..." by the parser, and by
 *     the dllab binary with exit 2; --epochs 0 says "is not a positive integer";
 *   - the learning-rate grammar: V, =V, ..HI, LO..HI and ':' for '..';
 *   - each command's usage lists exactly the options the table gives it;
 *   - compare: a default and the same explicit value are no difference; an lr-only difference is
 *     exactly one row, "lr"; a configuration of the previous schema (argv) compares with a new one;
 *   - end to end (Fashion-MNIST, skipped without it): `dllab compare --no-tui` of a default-lr and
 * an explicit-lr run, and a run whose stored configuration is rewritten to the previous schema
 *     resumes (--from-epoch) and compares equal to its rewind. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/compare/compare.h"
#include "core/run/run_cfg.h"
#include "tests/testutil.h"

/* The first command that takes o (for the parser). */
static const char *cmd_of(const dl_opt *o)
{
    static const char *const cmds[] = {"train",      "lrfind", "data",
                                       "show-batch", "sweep",  "interpret"};
    for (int i = 0; i < 6; i++)
        if (o->cmds & dl_cmd_bit(cmds[i]))
            return cmds[i];
    return NULL;
}

/* A valid value of o that is not its default. */
static void sample(const dl_opt *o, char *buf, size_t cap)
{
    switch (o->type) {
    case DL_OPT_INT:
    case DL_OPT_I64:
        if (o->allowed)
            snprintf(buf, cap, "3");
        else
            snprintf(buf, cap, "%.0f", o->lo + 1 <= o->hi ? o->lo + 1 : o->lo);
        break;
    case DL_OPT_REAL:
        snprintf(buf, cap, "%.17g", o->lo + (o->hi - o->lo) * 0.25 + (o->lo > 1 ? 1 : 0));
        break;
    case DL_OPT_STR:
        snprintf(buf, cap, strcmp(o->name, "arch") ? "x-%s" : "resnet18", o->name);
        break;
    case DL_OPT_CHAR:
        snprintf(buf, cap, ";");
        break;
    case DL_OPT_ENUM: {
        int last = 0;
        while (o->names[last + 1])
            last++;
        snprintf(buf, cap, "%s",
                 o->def && !strcmp(o->def, o->names[last]) ? o->names[0] : o->names[last]);
        break;
    }
    case DL_OPT_LR:
        snprintf(buf, cap, "1e-5..1e-3");
        break;
    case DL_OPT_METRICS:
        snprintf(buf, cap, "accuracy,error_rate");
        break;
    default:
        buf[0] = 0;
    }
}

static void cli_json_cli(const dl_run_cfg *parsed)
{
    dl_run_cfg a = *parsed, b;
    dl_run_cfg_resolve(&a);
    char *json = dl_run_cfg_to_json(&a);
    ck_assert_ptr_nonnull(json);
    dl_err err = {0};
    ck_assert_msg(dl_run_cfg_from_json(&b, json, &err) == DL_OK, "%s: %s", json, err.msg);
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        char x[DL_CFG_STR + 64], y[DL_CFG_STR + 64];
        if (!(o->flags & DL_OPT_STORED))
            continue;
        dl_run_cfg_get(&a, o, x, sizeof x);
        dl_run_cfg_get(&b, o, y, sizeof y);
        ck_assert_msg(!strcmp(x, y), "--%s: '%s' came back as '%s' from %s", o->name, x, y, json);
    }
    ck_assert(dl_run_cfg_same(&a, &b));
    free(json);
}

START_TEST(every_option_round_trips)
{
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        char val[64], flag[80], got[DL_CFG_STR + 64];
        sample(o, val, sizeof val);
        snprintf(flag, sizeof flag, "--%s", o->name);
        char *argv[] = {(char *)cmd_of(o), flag, val[0] ? val : NULL, NULL};
        dl_run_cfg c;
        dl_run_cfg_init(&c);
        const char *pos[1];
        int n_pos;
        bool help;
        dl_err err = {0};
        ck_assert_msg(argv[0], "--%s: no command takes it", o->name);
        ck_assert_msg(dl_run_cfg_parse(&c, argv[0], val[0] ? 3 : 2, argv, pos, 1, &n_pos, &help,
                                       &err) == DL_OK,
                      "%s %s %s: %s", argv[0], flag, val, err.msg);
        ck_assert(dl_run_cfg_given(&c, o->name));
        dl_run_cfg_get(&c, o, got, sizeof got);
        if (o->type == DL_OPT_LR)
            ck_assert_str_eq(got, "1e-05..0.001");
        else if (o->type != DL_OPT_FLAG && o->type != DL_OPT_SET && o->type != DL_OPT_REAL)
            ck_assert_msg(!strcmp(got, val), "--%s %s reads back as '%s'", o->name, val, got);
        else if (o->type == DL_OPT_REAL)
            ck_assert_double_eq(atof(got), atof(val));
        else
            ck_assert_str_eq(got, "true");
        cli_json_cli(&c);
    }
}
END_TEST

START_TEST(all_options_at_once_round_trip)
{
    char *argv[2 * DL_CFG_MAX_OPTS + 2];
    char vals[DL_CFG_MAX_OPTS][64], flags[DL_CFG_MAX_OPTS][80];
    int n = 0;
    argv[n++] = "train";
    argv[n++] = "fashion-mnist";
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        if (!(o->cmds & dl_cmd_bit("train")) || o->type == DL_OPT_SET ||
            !(o->flags & DL_OPT_STORED))
            continue;
        sample(o, vals[i], sizeof vals[i]);
        snprintf(flags[i], sizeof flags[i], "--%s", o->name);
        argv[n++] = flags[i];
        if (vals[i][0])
            argv[n++] = vals[i];
    }
    argv[n] = NULL;
    dl_run_cfg c;
    dl_run_cfg_init(&c);
    const char *pos[1];
    int n_pos;
    bool help;
    dl_err err = {0};
    ck_assert_msg(dl_run_cfg_parse(&c, "train", n, argv, pos, 1, &n_pos, &help, &err) == DL_OK,
                  "%s", err.msg);
    ck_assert_int_eq(n_pos, 1);
    snprintf(c.data, sizeof c.data, "%s", pos[0]);
    cli_json_cli(&c);
}
END_TEST

/* A value o refuses. */
static const char *bad_value(const dl_opt *o)
{
    switch (o->type) {
    case DL_OPT_INT:
    case DL_OPT_I64:
        return o->allowed ? "2" : "12x";
    case DL_OPT_REAL:
        return "nan";
    case DL_OPT_CHAR:
        return "ab";
    case DL_OPT_ENUM:
        return "bogus";
    case DL_OPT_LR:
        return "1e-2..1e-4";
    case DL_OPT_METRICS:
        return "f1";
    case DL_OPT_STR:
        return strcmp(o->name, "arch") ? NULL : "resnet-99"; /* the table's own check */
    default:
        return NULL;
    }
}

START_TEST(every_bad_value_is_refused)
{
    char out[8192], cmd[4096];
    for (size_t i = 0; i < dl_opt_count(); i++) {
        const dl_opt *o = dl_opt_at(i);
        const char *bad = bad_value(o);
        char flag[96], want[128];
        if (!bad && o->type != DL_OPT_FLAG)
            continue;
        /* a flag refuses a value given with '=' */
        if (o->type == DL_OPT_FLAG)
            snprintf(flag, sizeof flag, "--%s=maybe", o->name), bad = NULL;
        else
            snprintf(flag, sizeof flag, "--%s", o->name);
        snprintf(want, sizeof want, bad ? "--%s: '%s' " : "--%s takes no value ('maybe')", o->name,
                 bad);
        char *argv[] = {(char *)cmd_of(o), flag, (char *)bad, NULL};
        dl_run_cfg c;
        dl_run_cfg_init(&c);
        const char *pos[1];
        int n_pos;
        bool help;
        dl_err err = {0};
        ck_assert_msg(dl_run_cfg_parse(&c, argv[0], bad ? 3 : 2, argv, pos, 1, &n_pos, &help,
                                       &err) == DL_EINVAL,
                      "--%s %s accepted", o->name, bad ? bad : "");
        ck_assert_msg(strstr(err.msg, want) == err.msg, "--%s: message '%s', wanted '%s...'",
                      o->name, err.msg, want);
        /* and the program says it with exit 2 */
        snprintf(cmd, sizeof cmd, "%s %s %s '%s' %s 2>&1", tu_dllab(), argv[0],
                 strcmp(argv[0], "interpret") ? "fashion-mnist" : "some-run", flag, bad ? bad : "");
        if (!bad) /* the flag's '=maybe' is in flag itself */
            snprintf(cmd, sizeof cmd, "%s %s fashion-mnist '%s' 2>&1", tu_dllab(), argv[0], flag);
        int rc = tu_sh(cmd, out, sizeof out);
        ck_assert_msg(rc == 2, "%s: exit %d: %s", cmd, rc, out);
        ck_assert_msg(strstr(out, want) != NULL, "%s: '%s' lacks '%s'", cmd, out, want);
    }
    snprintf(cmd, sizeof cmd, "%s train fashion-mnist --epochs 0 2>&1", tu_dllab());
    int rc = tu_sh(cmd, out, sizeof out);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_eq(out, "dllab train: --epochs: '0' is not a positive integer\n");
    snprintf(cmd, sizeof cmd, "%s train fashion-mnist --epochs 2>&1", tu_dllab());
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--epochs needs a value"));
    snprintf(cmd, sizeof cmd, "%s data fashion-mnist --epochs 3 2>&1", tu_dllab());
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown option '--epochs'"));
}
END_TEST

static void lr_is(const char *text, dl_lr_kind kind, double lo, double hi, const char *back)
{
    dl_run_cfg c;
    dl_run_cfg_init(&c);
    dl_err err = {0};
    ck_assert_msg(dl_run_cfg_set(&c, dl_opt_find("lr"), text, &err) == DL_OK, "%s: %s", text,
                  err.msg);
    ck_assert_int_eq(c.lr.kind, kind);
    ck_assert_double_eq_tol(c.lr.hi, hi, 1e-15);
    if (kind == DL_LR_RANGE)
        ck_assert_double_eq_tol(c.lr.lo, lo, 1e-15);
    char buf[64];
    dl_run_cfg_get(&c, dl_opt_find("lr"), buf, sizeof buf);
    ck_assert_str_eq(buf, back);
}

START_TEST(lr_grammar)
{
    lr_is("3e-3", DL_LR_CONST, 0, 3e-3, "=0.003"); /* fastai's float, stored explicitly */
    lr_is("..3e-3", DL_LR_SLICE_HI, 0, 3e-3, "..0.003");
    lr_is("=2e-3", DL_LR_CONST, 0, 2e-3, "=0.002");
    lr_is("1e-5..1e-3", DL_LR_RANGE, 1e-5, 1e-3, "1e-05..0.001");
    lr_is("1e-5:1e-3", DL_LR_RANGE, 1e-5, 1e-3, "1e-05..0.001");
    lr_is(":1e-3", DL_LR_SLICE_HI, 0, 1e-3, "..0.001");
    const char *bad[] = {"",  "0",          "-1e-3", "abc",       "1e-3..", "..",
                         "=", "1e-2..1e-4", "..=1",  "..1e-3..1", NULL};
    for (int i = 0; bad[i]; i++) {
        dl_run_cfg c;
        dl_run_cfg_init(&c);
        dl_err err = {0};
        ck_assert_msg(dl_run_cfg_set(&c, dl_opt_find("lr"), bad[i], &err) == DL_EINVAL,
                      "'%s' accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "--lr: '"));
    }
}
END_TEST

START_TEST(usage_follows_the_table)
{
    static const char *const cmds[] = {"train",      "lrfind", "data",
                                       "show-batch", "sweep",  "interpret"};
    for (int k = 0; k < 6; k++) {
        char *text = dl_run_cfg_usage(cmds[k]);
        ck_assert_ptr_nonnull(text);
        for (size_t i = 0; i < dl_opt_count(); i++) {
            const dl_opt *o = dl_opt_at(i);
            char flag[80];
            if (o->short_name)
                snprintf(flag, sizeof flag, "  -%c ", o->short_name);
            else
                snprintf(flag, sizeof flag, "  --%s ", o->name);
            bool listed = strstr(text, flag) != NULL;
            ck_assert_msg(listed == ((o->cmds & dl_cmd_bit(cmds[k])) != 0), "%s --help %s %s",
                          cmds[k], listed ? "lists" : "misses", o->name);
        }
        for (char *l = text, *nl; *l; l = nl + 1) { /* lines fit 100 columns */
            nl = strchr(l, '\n');
            ck_assert_msg(nl - l <= 100, "%s --help: a line of %d columns", cmds[k], (int)(nl - l));
        }
        free(text);
    }
}
END_TEST

/* The configuration JSON of `train ARGS` with its defaults resolved, as a session stores it. */
static char *json_of(const char *args)
{
    char buf[1024], *argv[32];
    int n = 0;
    snprintf(buf, sizeof buf, "train %s", args);
    for (char *save, *t = strtok_r(buf, " ", &save); t && n < 31; t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    argv[n] = NULL;
    dl_run_cfg c;
    dl_run_cfg_init(&c);
    const char *pos[1];
    int n_pos;
    bool help;
    ck_assert(dl_run_cfg_parse(&c, "train", n, argv, pos, 1, &n_pos, &help, NULL) == DL_OK);
    snprintf(c.data, sizeof c.data, "%s", pos[0]);
    dl_run_cfg_resolve(&c);
    dl_image_prep p = {.size = 28, .channels = 1};
    dl_run_cfg_resolve_data(&c, &p, false);
    return dl_run_cfg_to_json(&c);
}

static size_t diff(const char *a, const char *b, dl_cmp_param **p)
{
    const char *cfg[2] = {a, b};
    size_t np;
    dl_err err = {0};
    ck_assert_msg(dl_cmp_params(cfg, NULL, 2, false, p, &np, &err) == DL_OK, "%s", err.msg);
    return np;
}

START_TEST(compare_defaults_and_one_lr)
{
    char *def = json_of("fashion-mnist"),
         *expl = json_of("fashion-mnist --lr =1e-3 --epochs 1 --bs 64 --wd 0.01 --one-cycle "
                         "--threads 2 --name x"),
         *lr = json_of("fashion-mnist --lr =1e-2");
    dl_cmp_param *p;
    ck_assert_uint_eq(diff(def, expl, &p), 0);
    ck_assert_uint_eq(diff(def, lr, &p), 1);
    ck_assert_str_eq(p[0].key, "lr");
    ck_assert_str_eq(p[0].value[0], "=0.001");
    ck_assert_str_eq(p[0].value[1], "=0.01");
    dl_cmp_params_free(p, 1, 2);
    /* the previous schema: the command line plus prep; a default run of it equals a new one */
    const char *old =
        "{\"argv\":[\"train\",\"fashion-mnist\",\"--no-tui\"],\"prep\":{\"size\":28,\"channels\":1,"
        "\"resize\":0},\"arch\":\"resnet-xs\",\"multi_label\":false}";
    char *old_with_prep = json_of("fashion-mnist");
    size_t np = diff(old, def, &p);
    for (size_t i = 0; i < np; i++)
        ck_assert_msg(!strcmp(p[i].key, "prep.mean") || !strcmp(p[i].key, "prep.std") ||
                          !strcmp(p[i].key, "multi_label"),
                      "old vs new differ in %s", p[i].key);
    dl_cmp_params_free(p, np, 2);
    /* and its slice(V) lr keeps that meaning, written explicitly */
    const char *old_lr = "{\"argv\":[\"train\",\"--lr\",\"1e-2\",\"fashion-mnist\"]}";
    dl_run_cfg c;
    ck_assert(dl_run_cfg_from_json(&c, old_lr, NULL) == DL_OK);
    ck_assert_int_eq(c.lr.kind, DL_LR_SLICE_HI);
    ck_assert_double_eq(c.lr.hi, 1e-2);
    ck_assert_str_eq(c.data, "fashion-mnist");
    const char *old_lr_eq = "{\"argv\":[\"train\",\"--lr=3e-3\",\"--fit\",\"fashion-mnist\"]}";
    ck_assert(dl_run_cfg_from_json(&c, old_lr_eq, NULL) == DL_OK);
    ck_assert_int_eq(c.lr.kind, DL_LR_SLICE_HI);
    ck_assert_double_eq(c.lr.hi, 3e-3);
    /* a schema-2 configuration was written when a bare V meant slice(V): it keeps that meaning;
     * what dllab writes now is marked schema 3, where a bare V is every group */
    ck_assert(dl_run_cfg_from_json(&c, "{\"schema\":2,\"data\":\"x\",\"lr\":\"2e-3\"}", NULL) ==
              DL_OK);
    ck_assert_int_eq(c.lr.kind, DL_LR_SLICE_HI);
    ck_assert(dl_run_cfg_from_json(&c, "{\"schema\":3,\"data\":\"x\",\"lr\":\"2e-3\"}", NULL) ==
              DL_OK);
    ck_assert_int_eq(c.lr.kind, DL_LR_CONST);
    char *now = dl_run_cfg_to_json(&c);
    ck_assert_ptr_nonnull(strstr(now, "\"schema\":3"));
    ck_assert_ptr_nonnull(strstr(now, "\"lr\":\"=0.002\""));
    free(now);
    /* a stored configuration that is not valid names its key */
    dl_err err = {0};
    ck_assert(dl_run_cfg_from_json(&c, "{\"schema\":2,\"epochs\":0}", &err) != DL_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "--epochs: '0'"));
    free(old_with_prep);
    free(def);
    free(expl);
    free(lr);
}
END_TEST

/* ---- end to end ---- */
static char runs[1024];
#define TINY                                                                                       \
    "--limit 256 --valid-limit 64 --bs 64 --no-aug --threads 1 --arch "                            \
    "resnet-custom:basic:1,1,1:8,16,32:small"

static int dllab(const char *args, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s --runs %s 2>&1", tu_dllab(), args, runs);
    return tu_sh(cmd, out, cap);
}

static bool have_fmnist(void)
{
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) == 0)
        return true;
    fprintf(stderr, "check_run_cfg: Fashion-MNIST not installed; end-to-end cases skipped\n");
    return false;
}

/* The rows of `dllab compare --no-tui A B` under its parameter heading, as text. */
static void compare_params_text(const char *a, const char *b, char *rows, size_t cap)
{
    static char out[65536];
    char args[512];
    snprintf(args, sizeof args, "compare %s %s --no-tui", a, b);
    ck_assert_msg(dllab(args, out, sizeof out) == 0, "%s", out);
    fprintf(stderr, "--- dllab compare --no-tui %s %s\n%s", a, b, out);
    const char *h = strstr(out, "hyper-parameters");
    snprintf(rows, cap, "%s", h ? h : "");
}

START_TEST(e2e_compare_default_and_explicit_lr)
{
    if (!have_fmnist())
        return;
    char *d = tu_mkdtemp();
    snprintf(runs, sizeof runs, "%s", d);
    char out[65536], rows[65536];
    ck_assert_msg(dllab("train fashion-mnist --no-tui --name dflt " TINY, out, sizeof out) == 0,
                  "%s", out);
    ck_assert_msg(
        dllab("train fashion-mnist --no-tui --name expl --lr =1e-3 " TINY, out, sizeof out) == 0,
        "%s", out);
    ck_assert_msg(
        dllab("train fashion-mnist --no-tui --name high --lr =1e-2 " TINY, out, sizeof out) == 0,
        "%s", out);
    compare_params_text("dflt-1", "expl-1", rows, sizeof rows);
    ck_assert_msg(strstr(rows, "hyper-parameters: none differ") != NULL, "%s", rows);
    compare_params_text("dflt-1", "high-1", rows, sizeof rows);
    const char *row = strchr(rows, '\n'); /* exactly one row under the heading: lr */
    ck_assert_msg(row && !strncmp(row, "\nlr ", 4) && !strchr(row + 1, '\n')[1], "%s", rows);
    tu_rmtree(d);
    free(d);
}
END_TEST

/* Rewrites run NAME's configuration in the store's database. */
static void set_config(const char *name, const char *json)
{
    char db[1200];
    snprintf(db, sizeof db, "%s/runs.db", runs);
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *q;
    ck_assert_int_eq(
        sqlite3_prepare_v2(h, "UPDATE runs SET config = ?1 WHERE name = ?2", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
    ck_assert_int_eq(sqlite3_changes(h), 1);
    sqlite3_finalize(q);
    sqlite3_close(h);
}

START_TEST(e2e_old_store_resumes_and_compares)
{
    if (!have_fmnist())
        return;
    char *d = tu_mkdtemp();
    snprintf(runs, sizeof runs, "%s", d);
    static char out[65536], rows[65536];
    ck_assert_msg(dllab("train fashion-mnist --no-tui --name old --epochs 2 --lr 1e-2 " TINY, out,
                        sizeof out) == 0,
                  "%s", out);
    /* what the previous release stored: the command line and the preparation */
    set_config(
        "old-1",
        "{\"argv\":[\"train\",\"fashion-mnist\",\"--no-tui\",\"--name\",\"old\",\"--epochs\",\"2\","
        "\"--lr\",\"1e-2\",\"--limit\",\"256\",\"--valid-limit\",\"64\",\"--bs\",\"64\",\"--no-"
        "aug\","
        "\"--threads\",\"1\",\"--arch\",\"resnet-custom:basic:1,1,1:8,16,32:small\"],"
        "\"prep\":{\"size\":28,\"channels\":1,\"resize\":0,\"mean\":[0.2878],\"std\":[0.3548]},"
        "\"arch\":\"resnet-custom:basic:1,1,1:8,16,32:small\",\"head\":\"fastai\","
        "\"multi_label\":false,\"thresh\":0.5,\"bs\":64,\"seed\":42}");
    ck_assert_msg(dllab("train --resume old-1 --from-epoch 0 --no-tui", out, sizeof out) == 0, "%s",
                  out);
    ck_assert_msg(strstr(out, "run old-1-rewind-1 finished (") != NULL, "%s", out);
    compare_params_text("old-1", "old-1-rewind-1", rows, sizeof rows);
    /* the same hyper-parameters: only the statistics the old store rounded may differ */
    for (const char *l = strchr(rows, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        char key[64] = "";
        sscanf(l + 1, "%63s", key);
        ck_assert_msg(!key[0] || !strncmp(key, "prep.", 5) || !strcmp(key, "schema") ||
                          !strcmp(key, "hyper-parameters"),
                      "old vs rewind differ in '%s':\n%s", key, rows);
    }
    ck_assert_msg(dllab("show old-1-rewind-1 --no-tui", out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\"lr\": \"..0.01\""));
    tu_rmtree(d);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run_cfg");
    TCase *t = tcase_create("table");
    tcase_set_timeout(t, 600); /* every bad value also runs the program once */
    tcase_add_test(t, every_option_round_trips);
    tcase_add_test(t, all_options_at_once_round_trip);
    tcase_add_test(t, every_bad_value_is_refused);
    tcase_add_test(t, lr_grammar);
    tcase_add_test(t, usage_follows_the_table);
    tcase_add_test(t, compare_defaults_and_one_lr);
    suite_add_tcase(s, t);
    TCase *e = tcase_create("e2e");
    tcase_set_timeout(e, 600);
    tcase_add_test(e, e2e_compare_default_and_explicit_lr);
    tcase_add_test(e, e2e_old_store_resumes_and_compares);
    suite_add_tcase(s, e);
    return tu_run(s);
}
