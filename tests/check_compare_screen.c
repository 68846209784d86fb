/* check_compare_screen: the compare screen drawn into in-memory grids over a fixture store: run
 * list and table at 80x24 and 120x40 (ASCII too), keys (Space hides a run from the plots and the
 * table, d shows all hyper-parameters, b sets the baseline in the store and deltas appear, m
 * cycles the right plot, x and y cycle the axes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check_compare_fixture.h"
#include "tests/testutil.h"
#include "ui/screen-compare.h"

static char *dir;
static int64_t ids[3];
static dl_store *st;
static dl_app *app;

static void setup(void)
{
    dir = tu_mkdtemp();
    cf_build(dir, ids);
    dl_err err = {0};
    ck_assert(dl_store_open(dir, 0, &st, &err) == DL_OK);
    dl_compare *c;
    ck_assert(dl_compare_load(st, ids, 3, &c, &err) == DL_OK);
    dl_screen s;
    ck_assert(dl_screen_compare(&s, st, c, false, &err) == DL_OK);
    app = dl_app_new(NULL);
    dl_ui_env env = {.ascii = 0, .depth = DL_COLOR_256};
    dl_app_set_env(app, &env);
    ck_assert_int_eq(dl_app_push(app, &s), 0);
}

static void teardown(void)
{
    dl_app_free(app);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}

static char *render(int cols, int rows)
{
    dl_grid *g = dl_grid_new(cols, rows);
    dl_app_draw(app, g);
    char *s = dl_grid_dump(g);
    dl_grid_free(g);
    return s;
}

/* Number of times needle occurs in s. */
static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(draws_runs_table_and_diff)
{
    char *s = render(120, 40);
    ck_assert_msg(strstr(s, "compare 3 runs (3 shown)"), "%s", s);
    ck_assert(strstr(s, "train loss (EMA 0.98)"));
    ck_assert(strstr(s, "valid loss"));
    ck_assert_int_ge(count(s, "lr-b-1"), 2); /* the list and the table header */
    ck_assert(strstr(s, "best valid_loss"));
    ck_assert(strstr(s, "hyper-parameters that differ"));
    ck_assert(strstr(s, "prep.size"));
    ck_assert(strstr(s, "pretrained"));
    ck_assert(strstr(s, "\xe2\x80\x94")); /* run c has no "pretrained" */
    ck_assert(!strstr(s, "\narch"));      /* shared by all runs */
    ck_assert(strstr(s, "d diff-all"));   /* the key bar, from the action table */
    free(s);
    s = render(80, 24);
    ck_assert_msg(strstr(s, "lr-c-1"), "%s", s);
    ck_assert(strstr(s, "best valid_loss"));
    free(s);
    dl_ui_env env = {.ascii = 1, .depth = DL_COLOR_MONO};
    dl_app_set_env(app, &env);
    s = render(80, 24);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        ck_assert_msg(*p < 0x80, "non-ASCII at %ld", (long)(p - (const unsigned char *)s));
    ck_assert(strstr(s, "lr-c-1"));
    ck_assert(strstr(s, "#1")); /* the run list's colour swatch in ASCII */
    free(s);
}
END_TEST

/* Long names of one data and arch, cut at 80 columns, keep their distinct ends in the run list
 * and the table header. */
START_TEST(long_names_keep_their_ends)
{
    dl_err err = {0};
    int64_t more[2];
    more[0] = cf_run(st, "fashion-mnist-resnet-xs-long", "{\"lr\":0.001}", 2, 1);
    more[1] = cf_run(st, "fashion-mnist-resnet-xs-long", "{\"lr\":0.01}", 2, 2);
    dl_compare *c;
    ck_assert(dl_compare_load(st, more, 2, &c, &err) == DL_OK);
    dl_screen s;
    ck_assert(dl_screen_compare(&s, st, c, false, &err) == DL_OK);
    dl_app_free(app);
    app = dl_app_new(NULL);
    dl_ui_env env = {.ascii = 1, .depth = DL_COLOR_MONO};
    dl_app_set_env(app, &env);
    ck_assert_int_eq(dl_app_push(app, &s), 0);
    char *t = render(80, 24);
    ck_assert_msg(count(t, "-1 ") >= 1 && count(t, "-2 ") >= 1, "%s", t);
    ck_assert_msg(strstr(t, "~"), "%s", t);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        ck_assert_msg(*p < 0x80, "non-ASCII at %ld", (long)(p - (const unsigned char *)t));
    free(t);
}
END_TEST

START_TEST(keys)
{
    dl_app_key(app, 'd');
    char *s = render(120, 40);
    ck_assert(strstr(s, "hyper-parameters (all"));
    ck_assert(strstr(s, "arch"));
    free(s);
    /* hide run a (cursor starts on it) */
    dl_app_key(app, ' ');
    s = render(120, 40);
    ck_assert(strstr(s, "(2 shown)"));
    ck_assert_int_eq(count(s, "lr-a-1"), 1); /* still listed, not in the table header */
    free(s);
    dl_app_key(app, ' ');
    /* b on run b: the store's baseline and deltas in the table */
    dl_app_key(app, DL_KEY_DOWN);
    dl_app_key(app, 'b');
    dl_run r;
    dl_err err = {0};
    ck_assert(dl_store_run_get(st, ids[1], &r, &err) == DL_OK);
    ck_assert(r.baseline);
    dl_run_clear(&r);
    s = render(120, 40);
    ck_assert(strstr(s, "* = baseline"));
    ck_assert(strstr(s, "+0.")); /* run a's loss is higher than the baseline's */
    free(s);
    dl_app_key(app, 'm');
    s = render(120, 40);
    ck_assert(strstr(s, "right: accuracy"));
    free(s);
    dl_app_key(app, 'x');
    dl_app_key(app, 'y');
    dl_app_key(app, '[');
    s = render(120, 40);
    ck_assert(strstr(s, "x: epoch"));
    ck_assert(strstr(s, "y: log"));
    ck_assert(strstr(s, "smoothing: 0.95"));
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare_screen");
    TCase *tc = tcase_create("screen");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, draws_runs_table_and_diff);
    tcase_add_test(tc, keys);
    tcase_add_test(tc, long_names_keep_their_ends);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
