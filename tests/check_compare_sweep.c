/* check_compare_sweep: `dllab sweep`. The grid (order, keys naming only the axes given, tags,
 * refusals) directly; then end to end on Fashion-MNIST (64 training / 64 validation images,
 * resnet-xs, 1 epoch; skipped when the dataset is not installed): two points run two at a time,
 * each run tagged with the sweep and its point, the comparison printed; run again, both points
 * are skipped; with one run removed, only that point trains again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store/store.h"
#include "src/sweep-grid.h"
#include "tests/testutil.h"

START_TEST(grid_expansion)
{
    dl_sweep_point *p;
    char msg[256];
    int n = dl_sweep_expand("1e-4,1e-3,1e-2", "1,3", "resnet-xs,resnet18", &p, msg, sizeof msg);
    ck_assert_int_eq(n, 12);
    /* lr innermost, arch outermost */
    ck_assert_str_eq(p[0].key, "lr=1e-4/epochs=1/arch=resnet-xs");
    ck_assert_str_eq(p[1].key, "lr=1e-3/epochs=1/arch=resnet-xs");
    ck_assert_str_eq(p[3].key, "lr=1e-4/epochs=3/arch=resnet-xs");
    ck_assert_str_eq(p[11].key, "lr=1e-2/epochs=3/arch=resnet18");
    ck_assert_str_eq(p[11].arch, "resnet18");
    ck_assert_str_eq(p[11].epochs, "3");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(p[i].key, p[j].key);
    free(p);
    /* only the axes given appear in the key; train's lr forms are accepted */
    n = dl_sweep_expand("=1e-3,1e-5..1e-3", NULL, NULL, &p, msg, sizeof msg);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(p[0].key, "lr==1e-3");
    ck_assert_str_eq(p[1].key, "lr=1e-5..1e-3");
    ck_assert_str_eq(p[1].epochs, "");
    free(p);
    n = dl_sweep_expand(NULL, "2", NULL, &p, msg, sizeof msg);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(p[0].key, "epochs=2");
    char a[256], b[256];
    ck_assert_int_eq(dl_sweep_tags("mine", &p[0], a, b, sizeof a), 0);
    ck_assert_str_eq(a, "sweep:mine");
    ck_assert_str_eq(b, "mine/epochs=2");
    ck_assert_int_eq(dl_sweep_tags("a,b", &p[0], a, b, sizeof a), -1);
    ck_assert_int_eq(dl_sweep_tags("a/b", &p[0], a, b, sizeof a), -1);
    free(p);
}
END_TEST

START_TEST(grid_refusals)
{
    dl_sweep_point *p;
    char msg[256];
    ck_assert_int_eq(dl_sweep_expand("1e-3,,1e-2", NULL, NULL, &p, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "empty"));
    ck_assert_int_eq(dl_sweep_expand("1e-3,fast", NULL, NULL, &p, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "'fast'"));
    ck_assert_int_eq(dl_sweep_expand("-1e-3", NULL, NULL, &p, msg, sizeof msg), -1);
    ck_assert_int_eq(dl_sweep_expand(NULL, "1,0", NULL, &p, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "--epochs"));
    ck_assert_int_eq(dl_sweep_expand(NULL, "1.5", NULL, &p, msg, sizeof msg), -1);
    ck_assert_int_eq(dl_sweep_expand("1e-3,1e-3", NULL, NULL, &p, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "twice"));
    ck_assert_int_eq(
        dl_sweep_expand("1,2,3,4,5,6,7", "1,2,3,4,5,6,7", "a,b,c,d,e,f", &p, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "294 points"));
    ck_assert_ptr_null(p);
}
END_TEST

/* ---- end to end ---- */

static char out[1 << 16];

static int dllab(const char *dir, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s --runs '%s' </dev/null 2>&1", tu_dllab(), args, dir);
    return tu_sh(cmd, out, sizeof out);
}

static int count(const char *needle)
{
    int n = 0;
    for (const char *p = strstr(out, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Runs of the store with a tag (NULL: all). */
static size_t runs_tagged(const char *dir, const char *tag, dl_run **runs)
{
    dl_store *st;
    dl_err err = {0};
    ck_assert(dl_store_open(dir, DL_STORE_READONLY, &st, &err) == DL_OK);
    dl_run_filter f = {.tag = tag, .status = -1};
    size_t n;
    ck_assert(dl_store_runs_list(st, &f, runs, &n, &err) == DL_OK);
    dl_store_close(st);
    return n;
}

#define SWEEP                                                                                      \
    "sweep fashion-mnist --lr 1e-3,1e-2 --arch resnet-xs --limit 64 --valid-limit 64 --bs 32 "     \
    "--name t --no-tui"

START_TEST(sweep_tags_and_restart)
{
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "check_compare_sweep: Fashion-MNIST not installed (apt-get install "
                        "dataset-fashion-mnist); "
                        "end-to-end sweep skipped\n");
        return;
    }
    char *dir = tu_mkdtemp();
    ck_assert_msg(dllab(dir, SWEEP " --jobs 2") == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "sweep t: 2 points (0 finished before"));
    ck_assert_ptr_nonnull(strstr(out, "[1/2] lr=1e-3/arch=resnet-xs"));
    ck_assert_int_eq(count(" finished  best valid_loss"), 2);
    ck_assert_ptr_nonnull(strstr(out, "sweep t: 2 of 2 points finished"));
    /* the comparison: one column per run, the lr as the differing setting */
    ck_assert_ptr_nonnull(strstr(out, "best valid_loss "));
    ck_assert_msg(strstr(out, "\nlr ") || strstr(out, " lr "), "%s", out);
    dl_run *runs;
    size_t n = runs_tagged(dir, "sweep:t", &runs);
    ck_assert_uint_eq(n, 2);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(runs[i].status, DL_RUN_FINISHED);
    dl_runs_free(runs, n);
    n = runs_tagged(dir, "t/lr=1e-2/arch=resnet-xs", &runs);
    /* a bare 1e-2 in the sweep list is fastai's float: every group */
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_nonnull(strstr(runs[0].config_json, "\"lr\":\"=0.01\""));
    char keep[DL_STORE_NAME_MAX];
    snprintf(keep, sizeof keep, "%s", runs[0].name);
    dl_runs_free(runs, n);

    /* again: nothing to train */
    ck_assert_msg(dllab(dir, SWEEP) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "(2 finished before, skipped)"));
    ck_assert_int_eq(count("skipped: finished as"), 2);
    ck_assert_int_eq(count(" started "), 0);
    n = runs_tagged(dir, NULL, &runs);
    ck_assert_uint_eq(n, 2);
    dl_runs_free(runs, n);

    /* one point lost (its run removed): only that one trains */
    n = runs_tagged(dir, "t/lr=1e-3/arch=resnet-xs", &runs);
    ck_assert_uint_eq(n, 1);
    char rm[256];
    snprintf(rm, sizeof rm, "rm --yes %s", runs[0].name);
    dl_runs_free(runs, n);
    ck_assert_msg(dllab(dir, rm) == 0, "%s", out);
    ck_assert_msg(dllab(dir, SWEEP) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "(1 finished before, skipped)"));
    ck_assert_int_eq(count(" started "), 1);
    ck_assert_ptr_nonnull(strstr(out, keep));
    n = runs_tagged(dir, "sweep:t", &runs);
    ck_assert_uint_eq(n, 2);
    dl_runs_free(runs, n);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(sweep_usage)
{
    char *dir = tu_mkdtemp();
    ck_assert_int_eq(dllab(dir, "sweep fashion-mnist"), 2);
    ck_assert_int_eq(dllab(dir, "sweep fashion-mnist --lr 1e-3,abc"), 2);
    ck_assert_ptr_nonnull(strstr(out, "'abc'"));
    ck_assert_int_eq(dllab(dir, "sweep fashion-mnist --lr 1e-3 --jobs 0"), 2);
    ck_assert_int_eq(dllab(dir, "sweep fashion-mnist --lr 1e-3 --name a,b"), 2);
    ck_assert_int_eq(dllab(dir, "sweep fashion-mnist --lr 1e-3 --resume x"), 2);
    /* a point whose training fails is reported with its log, and the sweep fails */
    ck_assert_int_eq(dllab(dir, "sweep /nonexistent/data --lr 1e-3,1e-2 --name bad --no-tui"), 1);
    ck_assert_ptr_nonnull(strstr(out, "failed before creating a run"));
    ck_assert_ptr_nonnull(strstr(out, "sweeps/bad/1.log"));
    ck_assert_ptr_nonnull(strstr(out, "0 of 2 points finished"));
    tu_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare_sweep");
    TCase *tg = tcase_create("grid");
    tcase_add_test(tg, grid_expansion);
    tcase_add_test(tg, grid_refusals);
    suite_add_tcase(s, tg);
    TCase *te = tcase_create("e2e");
    tcase_set_timeout(te, 600);
    tcase_add_test(te, sweep_tags_and_restart);
    tcase_add_test(te, sweep_usage);
    suite_add_tcase(s, te);
    return tu_run(s);
}
