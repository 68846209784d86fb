/* check_replicas_cli: `dllab train --replicas N` as a user runs it. With --sync-bn, 2 replicas
 * reproduce one replica's per-batch losses over 20 steps within 1e-5 relative and its weights
 * within 1e-5; without it, the accuracy after a short epoch is the one replica's within noise; a
 * batch that does not split names the sizes; a run resumes with another replica count; the
 * stored configuration records replicas and ranks. */
#include "tests/replicas_testutil.h"

static char *dir;

static void setup(void) { dir = tu_mkdtemp(); }
static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

START_TEST(sync_bn_two_replicas_reproduce_one)
{
    ck_assert_int_eq(rt_train(NULL, dir, "one", RT_REPRO " --replicas 1"), 0);
    ck_assert_int_eq(rt_train(NULL, dir, "two", RT_REPRO " --replicas 2 --sync-bn"), 0);
    rt_same_losses(dir, "one-1", "two-1", 20, 1e-5);
    rt_same_weights(dir, "one-1", "two-1", 1e-5);
    /* the run records how it was trained */
    dl_store *st = rt_open(dir);
    dl_run r;
    ck_assert(dl_store_run_get(st, rt_run(st, "two-1"), &r, NULL) == DL_OK);
    ck_assert_msg(strstr(r.config_json, "\"replicas\":2") &&
                      strstr(r.config_json, "\"parallel\":{\"replicas\":2,\"ranks\":1"),
                  "%s", r.config_json);
    dl_run_clear(&r);
    dl_store_close(st);
}
END_TEST

/* Per-replica BatchNorm trains another model, as well: the error rates after one short epoch
 * (30 steps of Adam one-cycle) differ by less than 4 standard errors of their difference. */
START_TEST(per_replica_bn_accuracy_within_noise)
{
    const char *args = "fashion-mnist --limit 1920 --valid-limit 1000 --arch resnet-xs --head "
                       "torchvision --bs 64 --epochs 1 --lr ..0.003 --no-tui --metric error_rate";
    char a[512];
    snprintf(a, sizeof a, "%s --replicas 1", args);
    ck_assert_int_eq(rt_train(NULL, dir, "one", a), 0);
    snprintf(a, sizeof a, "%s --replicas 2", args);
    ck_assert_int_eq(rt_train(NULL, dir, "two", a), 0);
    dl_store *st = rt_open(dir);
    double err[2];
    const char *names[2] = {"one-1", "two-1"};
    for (int k = 0; k < 2; k++) {
        dl_epoch_row *rows;
        size_t n;
        ck_assert(dl_store_epochs(st, rt_run(st, names[k]), &rows, &n, NULL) == DL_OK);
        ck_assert_int_eq((int)n, 1);
        err[k] = rows[0].metrics[0].value;
        free(rows);
    }
    dl_store_close(st);
    double p = (err[0] + err[1]) / 2, se = sqrt(2 * p * (1 - p) / 1000);
    ck_assert_msg(err[0] < 0.8 && err[1] < 0.8,
                  "error rates %g and %g: not both learned (chance 0.9)", err[0], err[1]);
    ck_assert_msg(fabs(err[0] - err[1]) < 4 * se, "error rate %g (1 replica) vs %g (2): > 4 se %g",
                  err[0], err[1], se);
}
END_TEST

START_TEST(batch_that_does_not_split_names_the_sizes)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd,
             "%s train fashion-mnist --limit 200 --bs 30 --replicas 4 --epochs 1 --no-tui --runs "
             "'%s' 2>&1",
             tu_dllab(), dir);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "--bs 30 does not split evenly over 4 replicas x 1 rank (4 parts)"),
                  "%s", out);
}
END_TEST

/* A run trained by 2 replicas, rewound to the end of its first epoch and continued by 1 replica:
 * the same second epoch */
START_TEST(resume_with_another_replica_count)
{
    const char *args =
        "fashion-mnist --limit 640 --valid-limit 64 --arch resnet-xs --head "
        "torchvision --bs 64 --epochs 2 --opt sgd --lr ..0.001 --fit --no-tui --sync-bn";
    char a[512];
    snprintf(a, sizeof a, "%s --replicas 2", args);
    ck_assert_int_eq(rt_train(NULL, dir, "two", a), 0);
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd,
             "%s train --resume two-1 --from-epoch 0 --replicas 1 --no-tui --runs '%s' 2>&1",
             tu_dllab(), dir);
    ck_assert_msg(tu_sh(cmd, out, sizeof out) == 0, "%s", out);
    int n_epochs;
    ck_assert_int_eq(rt_status(dir, "two-1-rewind-1", &n_epochs), DL_RUN_FINISHED);
    ck_assert_int_eq(n_epochs, 1);
    size_t na, nb;
    double *la = rt_losses(dir, "two-1", &na), *lb = rt_losses(dir, "two-1-rewind-1", &nb);
    ck_assert_msg(na == 20 && nb == 10, "%zu and %zu batches", na, nb);
    for (size_t i = 0; i < 10; i++) { /* the second epoch of each: the rewound run's last 10 */
        double x = la[10 + i], y = lb[nb - 10 + i];
        ck_assert_msg(fabs(x - y) <= 1e-5 * fabs(x), "epoch 2 batch %zu: %.9g vs %.9g", i, x, y);
    }
    free(la);
    free(lb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replicas_cli");
    TCase *tc = tcase_create("replicas_cli");
    tcase_set_timeout(tc, 900);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, batch_that_does_not_split_names_the_sizes);
    tcase_add_test(tc, sync_bn_two_replicas_reproduce_one);
    tcase_add_test(tc, resume_with_another_replica_count);
    tcase_add_test(tc, per_replica_bn_accuracy_within_noise);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
