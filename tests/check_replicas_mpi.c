/* check_replicas_mpi: `mpirun -np 2 dllab train` (Open MPI, ranks on this machine). Two ranks,
 * and two ranks of two replicas each, with --sync-bn reproduce one replica's per-batch losses
 * over 20 steps within 1e-5 relative and its weights within 1e-5, as ONE run recording its ranks;
 * SIGKILL on one rank mid-epoch ends the other within 10 s, the run is marked crashed with the
 * reason, and it resumes (here in one process: another rank count); a stop signal stops every
 * rank at the same batch boundary (rank 0's decision, broadcast). Skipped (77) when dllab was
 * built without MPI or mpirun is missing. */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/learn/dist.h"
#include "tests/replicas_testutil.h"

/* Open MPI refuses root unless told; set for mpirun's command only, never for the test run. */
#define MPIRUN                                                                                     \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 "    \
    "mpirun --oversubscribe -np 2"

static char *dir;

static void setup(void) { dir = tu_mkdtemp(); }
static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static int count_runs(void)
{
    dl_store *st = rt_open(dir);
    dl_run_filter f;
    memset(&f, 0, sizeof f);
    f.status = -1;
    dl_run *runs;
    size_t n;
    ck_assert(dl_store_runs_list(st, &f, &runs, &n, NULL) == DL_OK);
    dl_runs_free(runs, n);
    dl_store_close(st);
    return (int)n;
}

START_TEST(two_ranks_reproduce_one_replica)
{
    ck_assert_int_eq(rt_train(NULL, dir, "one", RT_REPRO " --replicas 1"), 0);
    ck_assert_int_eq(rt_train(MPIRUN, dir, "mpi", RT_REPRO " --replicas 1 --sync-bn"), 0);
    ck_assert_int_eq(count_runs(), 2); /* rank 1 wrote no run of its own */
    rt_same_losses(dir, "one-1", "mpi-1", 20, 1e-5);
    rt_same_weights(dir, "one-1", "mpi-1", 1e-5);
    dl_store *st = rt_open(dir);
    dl_run r;
    ck_assert(dl_store_run_get(st, rt_run(st, "mpi-1"), &r, NULL) == DL_OK);
    ck_assert_msg(strstr(r.config_json, "\"ranks\":2,\"transport\":\"mpi\""), "%s", r.config_json);
    dl_run_clear(&r);
    dl_store_close(st);
    /* replicas and ranks combine: 2 ranks x 2 replicas, 16 items each */
    ck_assert_int_eq(rt_train(MPIRUN, dir, "mix", RT_REPRO " --replicas 2 --sync-bn"), 0);
    rt_same_losses(dir, "one-1", "mix-1", 20, 1e-5);
    rt_same_weights(dir, "one-1", "mix-1", 1e-5);
}
END_TEST

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* a /proc file (its size is not known in advance), NUL-separated fields */
static char *read_proc(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    size_t cap = 1 << 16;
    char *buf = malloc(cap + 1);
    *n = fread(buf, 1, cap, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

/* the pid of this job's rank `rank` (its environment says so; its command line names dir) */
static pid_t find_rank(int rank)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    pid_t found = 0;
    while (!found && d && (e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0)
            continue;
        char path[64];
        size_t n;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        char *cmd = read_proc(path, &n);
        bool ours = false;
        for (size_t i = 0; cmd && i < n; i += strlen(cmd + i) + 1)
            if (!strcmp(cmd + i, dir))
                ours = true;
        free(cmd);
        if (!ours)
            continue;
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        char *env = read_proc(path, &n);
        for (size_t i = 0; env && i < n; i += strlen(env + i) + 1)
            if (!strcmp(env + i, want))
                found = pid;
        free(env);
    }
    if (d)
        closedir(d);
    return found;
}

START_TEST(killed_rank_ends_the_job_and_the_run_resumes)
{
    char cmd[8192], rcfile[1200];
    snprintf(rcfile, sizeof rcfile, "%s/mpirun.rc", dir);
    snprintf(cmd, sizeof cmd,
             "(%s %s train fashion-mnist --limit 1280 --valid-limit 64 --arch resnet-xs --bs 64 "
             "--epochs 3 --no-tui --runs %s --name job >%s/out.txt 2>&1; echo $? >%s.tmp; "
             "mv %s.tmp %s) &",
             MPIRUN, tu_dllab(), dir, dir, rcfile, rcfile, rcfile);
    ck_assert_int_eq(system(cmd), 0);
    /* wait for the first epoch's checkpoint and a few batches of the second */
    double t0 = now();
    bool ready = false;
    while (!ready && now() - t0 < 600) {
        usleep(300 * 1000);
        struct stat sb;
        ck_assert_msg(stat(rcfile, &sb) != 0, "the job ended before it could be killed");
        char db[4200];
        snprintf(db, sizeof db, "%s/runs.db", dir);
        if (stat(db, &sb) != 0)
            continue;
        dl_store *st;
        if (dl_store_open(dir, DL_STORE_READONLY, &st, NULL) != DL_OK)
            continue;
        int64_t id;
        dl_batch_row *rows;
        size_t n = 0;
        if (dl_store_run_find(st, "job-1", &id, NULL) == DL_OK &&
            dl_store_batches(st, id, -1, &rows, &n, NULL) == DL_OK) {
            ready = n >= 24;
            free(rows);
        }
        dl_store_close(st);
    }
    ck_assert_msg(ready, "the job made no progress in 600 s");
    pid_t victim = find_rank(1);
    ck_assert_msg(victim > 0, "rank 1 not found");
    ck_assert_int_eq(kill(victim, SIGKILL), 0);
    double t_kill = now();
    struct stat sb;
    while (stat(rcfile, &sb) != 0 && now() - t_kill < 120)
        usleep(100 * 1000);
    double took = now() - t_kill;
    ck_assert_msg(took <= 10, "the other rank ended %.1f s after the kill (limit 10 s)", took);
    char *rc = tu_slurp(rcfile, NULL);
    ck_assert_msg(rc && atoi(rc) != 0, "mpirun exit code %s after a rank was killed", rc);
    free(rc);
    ck_assert_int_eq(rt_status(dir, "job-1", NULL), DL_RUN_CRASHED);
    /* the reason, from rank 0, when it could write it before mpirun killed it */
    dl_store *st = rt_open(dir);
    dl_event_row *ev;
    size_t n_ev;
    ck_assert(dl_store_events(st, rt_run(st, "job-1"), 0, &ev, &n_ev, NULL) == DL_OK);
    bool crashed_event = false;
    for (size_t i = 0; i < n_ev; i++)
        crashed_event |= !strcmp(ev[i].kind, "crashed");
    dl_events_free(ev, n_ev);
    dl_store_close(st);
    ck_assert_msg(crashed_event, "no crashed event");
    /* resumed in one process with 2 replicas: another rank count */
    char out[8192];
    snprintf(cmd, sizeof cmd, "%s train --resume job-1 --replicas 2 --no-tui --runs '%s' 2>&1",
             tu_dllab(), dir);
    ck_assert_msg(tu_sh(cmd, out, sizeof out) == 0, "%s", out);
    int n_epochs;
    ck_assert_int_eq(rt_status(dir, "job-1", &n_epochs), DL_RUN_FINISHED);
    ck_assert_int_eq(n_epochs, 3);
}
END_TEST

/* Steering reaches every rank through rank 0: mpirun passes SIGTERM on to the ranks, rank 0 stops
 * at the next batch boundary and broadcasts it, and the run is stopped with its checkpoint. */
START_TEST(stop_signal_stops_every_rank_at_a_boundary)
{
    char cmd[8192], out[8192];
    snprintf(cmd, sizeof cmd,
             "%s %s train fashion-mnist --limit 6400 --valid-limit 64 --arch resnet-xs --bs 64 "
             "--epochs 2 --no-tui --runs '%s' --name stop >'%s/out.txt' 2>&1 & p=$!; "
             "until [ -f '%s/runs.db' ] && %s runs --runs '%s' 2>/dev/null | grep -q stop-1; do "
             "sleep 1; done; sleep 8; kill -TERM $p; wait $p; echo rc=$?",
             MPIRUN, tu_dllab(), dir, dir, dir, tu_dllab(), dir);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 0);
    ck_assert_int_eq(rt_status(dir, "stop-1", NULL), DL_RUN_STOPPED);
    dl_store *st = rt_open(dir);
    dl_checkpoint_row ck;
    ck_assert_msg(dl_store_checkpoint_latest(st, rt_run(st, "stop-1"), &ck, NULL) == DL_OK,
                  "no checkpoint at the stop");
    ck_assert_msg(strstr(ck.path, "stopped"), "%s", ck.path);
    dl_checkpoint_row_clear(&ck);
    dl_store_close(st);
}
END_TEST

/* The steering channel reaches every rank: `dllab steer` writes to the store, rank 0's poller
 * posts the command, rank 0 applies it at a batch boundary and broadcasts the result. The lr set
 * from the command line is in the batch rows after it, the event names its origin, and at the end
 * the ranks check together that they hold the same weights (they would not if rank 1 had kept the
 * old lr). */
START_TEST(steering_from_the_store_reaches_every_rank)
{
    char cmd[8192], out[8192];
    snprintf(cmd, sizeof cmd,
             "%s %s train fashion-mnist --limit 1920 --valid-limit 64 --arch resnet-xs --bs 64 "
             "--epochs 2 --replicas 1 --no-tui --runs '%s' --name steer >'%s/out.txt' 2>&1 & p=$!; "
             "until [ -f '%s/runs.db' ] && %s runs --runs '%s' 2>/dev/null | grep -q steer-1; do "
             "sleep 0.5; done; "
             "%s steer steer-1 lr 1e-5..1e-3 --runs '%s' --timeout 300 || echo steer-failed; "
             "%s steer steer-1 freeze --runs '%s' --timeout 300 || echo steer-failed; "
             "wait $p; echo rc=$?",
             MPIRUN, tu_dllab(), dir, dir, dir, tu_dllab(), dir, tu_dllab(), dir, tu_dllab(), dir);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "rc=0") && !strstr(out, "steer-failed"), "%s", out);
    int n_epochs;
    ck_assert_int_eq(rt_status(dir, "steer-1", &n_epochs), DL_RUN_FINISHED);
    dl_store *st = rt_open(dir);
    int64_t run = rt_run(st, "steer-1");
    dl_event_row *ev;
    size_t n_ev;
    ck_assert(dl_store_events(st, run, -1, &ev, &n_ev, NULL) == DL_OK);
    int64_t lr_step = -1;
    bool froze = false, agree = false;
    for (size_t i = 0; i < n_ev; i++) {
        if (!strcmp(ev[i].kind, "lr-change") && strstr(ev[i].payload, "cli"))
            lr_step = ev[i].step;
        froze |= !strcmp(ev[i].kind, "freeze") && strstr(ev[i].payload, "cli") != NULL;
        agree |= !strcmp(ev[i].kind, DL_EV_RANKS_AGREE);
    }
    dl_events_free(ev, n_ev);
    ck_assert_msg(lr_step >= 0, "no lr-change event from the command line");
    ck_assert_msg(froze, "no freeze event from the command line");
    ck_assert_msg(agree, "the ranks did not report the same weights at the end");
    dl_store_close(st);
}
END_TEST

int main(void)
{
    if (!dl_dist_built()) {
        printf("SKIP: dllab was built without MPI (configure found no Open MPI)\n");
        return 77;
    }
    if (system("command -v mpirun >/dev/null 2>&1") != 0) {
        printf("SKIP: mpirun is not installed (Debian package openmpi-bin)\n");
        return 77;
    }
    Suite *s = suite_create("replicas_mpi");
    TCase *tc = tcase_create("replicas_mpi");
    tcase_set_timeout(tc, 1200);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, two_ranks_reproduce_one_replica);
    tcase_add_test(tc, killed_rank_ends_the_job_and_the_run_resumes);
    tcase_add_test(tc, stop_signal_stops_every_rank_at_a_boundary);
    tcase_add_test(tc, steering_from_the_store_reaches_every_rank);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
