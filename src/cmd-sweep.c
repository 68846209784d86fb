/* cmd-sweep: `dllab sweep DATA --lr 1e-4,1e-3,1e-2 [--epochs 1,3] [--arch a,b] [--jobs N]
 * [--name NAME] [train options]` runs the grid (src/sweep-grid.c), each point a normal
 * `dllab train` run (dl_train_cfg) in a forked child given the point's configuration as JSON (no
 * re-execution, no command line rebuilt), named NAME-K-N and
 * tagged "sweep:NAME" and "NAME/<point>" as soon as it appears in the store; one child at a time or
 * N at once. It prints the grid's progress, then the comparison of the finished runs (the compare
 * screen on a terminal, the table otherwise). A sweep started again with the same NAME (default:
 * DATA's base name + "-sweep") skips points whose tagged run finished. Children's output goes to
 * STORE/sweeps/NAME/K.log. With --jobs N and no --threads, each child gets cores/N threads. Ctrl-C
 * stops launching, lets running children stop at their next batch (they get the same signal from
 * the terminal, or SIGTERM here), and waits for them. Exit codes: 0 every point finished, 1 some
 * did not, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "src/commands.h"
#include "src/runs-util.h"
#include "src/sweep-grid.h"
#include "src/train-run.h"
#include "src/train-setup.h"

#define SYNOPSIS                                                                                   \
    "usage: dllab sweep DATA [--lr V,V...] [--epochs N,N...] [--arch A,A...] [--jobs N] [--name "  \
    "NAME]\n"                                                                                      \
    "                   [--runs DIR] [--no-tui] [other dllab train options]\n\n"                   \
    "Runs `dllab train DATA` once per point of the grid (the product of the lists), each\n"        \
    "a normal run tagged sweep:NAME and NAME/<point>, sequentially or --jobs N at a time,\n"       \
    "then compares them. Started again with the same NAME, it skips finished points.\n\n"

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

typedef struct job {
    pid_t pid;
    int64_t run; /* -1 until it shows up in the store */
    char run_name[DL_STORE_NAME_MAX];
    int status; /* 0 pending, 1 running, 2 finished, 3 failed, 4 skipped */
    int exit_code;
} job;

/* A child that trains one point: its output to the log, its configuration through JSON (what a
 * run stores, so the child trains exactly what the store will say). */
static pid_t spawn(const char *cfg_json, const char *runs, const char *log)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int null = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    dl_run_cfg c;
    dl_err err = {0};
    if (dl_run_cfg_from_json(&c, cfg_json, &err) != DL_OK) {
        fprintf(stderr, "dllab sweep: %s\n", err.msg);
        _exit(DL_EXIT_FAIL);
    }
    snprintf(c.runs, sizeof c.runs, "%s", runs);
    c.no_tui = true;
    dl_ui_opts uo = {0};
    int rc = dl_train_cfg(&c, &uo, NULL, 0);
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}

/* The run a child created: the newest run named PREFIX-* whose creator is pid. */
static int64_t find_child_run(dl_store *st, const char *prefix, pid_t pid, char *name, size_t cap)
{
    char like[DL_STORE_NAME_MAX + 2];
    snprintf(like, sizeof like, "%s-", prefix);
    dl_run_filter f = {.tag = NULL, .status = -1, .name_like = like};
    dl_run *runs = NULL;
    size_t n = 0;
    int64_t id = -1;
    if (dl_store_runs_list(st, &f, &runs, &n, NULL) == DL_OK)
        for (size_t i = 0; i < n; i++)
            if (runs[i].pid == pid) {
                id = runs[i].id;
                snprintf(name, cap, "%s", runs[i].name);
            }
    dl_runs_free(runs, n);
    return id;
}

static void tag_run(dl_store *st, int64_t run, const char *name, const dl_sweep_point *p)
{
    char a[DL_STORE_NAME_MAX * 2], b[DL_STORE_NAME_MAX * 2];
    dl_err err = {0};
    if (dl_sweep_tags(name, p, a, b, sizeof a) != 0 ||
        dl_store_tag_add(st, run, a, &err) != DL_OK || dl_store_tag_add(st, run, b, &err) != DL_OK)
        fprintf(stderr, "dllab sweep: warning: cannot tag run %lld: %s\n", (long long)run, err.msg);
}

/* A finished run tagged with this point, from an earlier sweep of the same name. */
static int64_t finished_run(dl_store *st, const char *name, const dl_sweep_point *p, char *run_name,
                            size_t cap)
{
    char a[DL_STORE_NAME_MAX * 2], b[DL_STORE_NAME_MAX * 2];
    if (dl_sweep_tags(name, p, a, b, sizeof a) != 0)
        return -1;
    dl_run_filter f = {.tag = b, .status = DL_RUN_FINISHED, .name_like = NULL};
    dl_run *runs = NULL;
    size_t n = 0;
    int64_t id = -1;
    if (dl_store_runs_list(st, &f, &runs, &n, NULL) == DL_OK && n > 0) {
        id = runs[n - 1].id;
        snprintf(run_name, cap, "%s", runs[n - 1].name);
    }
    dl_runs_free(runs, n);
    return id;
}

static void print_result(dl_store *st, const job *j, int k, int n, const dl_sweep_point *p,
                         const char *log)
{
    dl_run r;
    if (j->run >= 0 && dl_store_run_get(st, j->run, &r, NULL) == DL_OK) {
        char v[32];
        dl_cli_fmt_num(r.best_valid_loss, "%.4f", v, sizeof v);
        printf("[%d/%d] %-36s %-9s best valid_loss %s @%d  (%s)\n", k + 1, n, p->key,
               dl_run_status_name(r.status), v, r.best_epoch, r.name);
        dl_run_clear(&r);
    } else {
        printf("[%d/%d] %-36s failed before creating a run (exit %d); see %s\n", k + 1, n, p->key,
               j->exit_code, log);
    }
    fflush(stdout);
}

typedef struct sweep {
    dl_run_cfg base; /* the train options every point shares */
    const char *lrs, *eps, *archs;
    char name[DL_STORE_NAME_MAX];
    dl_sweep_point *pts;
    int n;
    job *js;
    dl_store *st;
    char logdir[PATH_MAX];
} sweep;

/* The grid's lists (--lr, --epochs, --arch, which take commas here) out of argv; the rest stays
 * for the option table. */
static int take_lists(sweep *w, int argc, char **argv, char **rest)
{
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--lr")       ? &w->lrs
                            : !strcmp(argv[i], "--epochs") ? &w->eps
                            : !strcmp(argv[i], "--arch")   ? &w->archs
                                                           : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else
            rest[n++] = argv[i];
    }
    rest[n] = NULL;
    return n;
}

static int parse_args(sweep *w, int argc, char **argv)
{
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return DL_EXIT_FAIL;
    const char *data;
    int n_pos, rc = dl_cli_cfg_parse(&w->base, "sweep", SYNOPSIS, take_lists(w, argc, argv, rest),
                                     rest, &data, 1, &n_pos);
    free(rest);
    if (rc >= 0)
        return rc;
    if (n_pos != 1 || (!w->lrs && !w->eps && !w->archs)) {
        fprintf(
            stderr,
            "dllab sweep: give DATA and at least one of --lr, --epochs, --arch lists\n" SYNOPSIS);
        return DL_EXIT_USAGE;
    }
    if ((rc = dl_cli_set_data(&w->base, "sweep", data)) >= 0)
        return rc;
    char msg[512];
    if ((w->n = dl_sweep_expand(w->lrs, w->eps, w->archs, &w->pts, msg, sizeof msg)) < 0) {
        fprintf(stderr, "dllab sweep: %s\n", msg);
        return DL_EXIT_USAGE;
    }
    if (w->base.name[0]) {
        snprintf(w->name, sizeof w->name, "%.*s", (int)sizeof w->name - 1, w->base.name);
    } else {
        const char *base = strrchr(data, '/');
        base = base && base[1] ? base + 1 : data;
        snprintf(w->name, sizeof w->name, "%.40s-sweep", base);
        for (char *c = w->name; *c; c++)
            if (*c == ',' || *c == '/' || *c == ' ')
                *c = '_';
    }
    /* Every point's values through the option table before anything trains, so
     * `--arch resnet-xs,bogus` fails at once instead of after training resnet-xs. */
    static dl_run_cfg probe; /* large: off the stack */
    for (int k = 0; k < w->n; k++) {
        const char *axes[3][2] = {
            {"lr", w->pts[k].lr}, {"epochs", w->pts[k].epochs}, {"arch", w->pts[k].arch}};
        probe = w->base;
        for (int i = 0; i < 3; i++) {
            dl_err err = {0};
            if (axes[i][1][0] &&
                dl_run_cfg_set(&probe, dl_opt_find(axes[i][0]), axes[i][1], &err) != DL_OK) {
                fprintf(stderr, "dllab sweep: point %s: %s: nothing was trained\n", w->pts[k].key,
                        err.msg);
                return DL_EXIT_USAGE;
            }
        }
    }
    char t1[DL_STORE_NAME_MAX * 2], t2[DL_STORE_NAME_MAX * 2];
    for (int k = 0; k < w->n; k++)
        if (dl_sweep_tags(w->name, &w->pts[k], t1, t2, sizeof t1) != 0) {
            fprintf(
                stderr,
                "dllab sweep: the sweep name '%s' with point %s does not make a tag (no commas or "
                "slashes, under %d characters)\n",
                w->name, w->pts[k].key, DL_STORE_NAME_MAX);
            return DL_EXIT_USAGE;
        }
    return -1;
}

/* Point k's configuration as JSON (malloc'd): the shared options, the point's values, its name
 * NAME-K; with --jobs N and no --threads, each point gets cores/N BLAS and loader threads. */
static char *point_json(const sweep *w, int k)
{
    static dl_run_cfg c; /* 20 KB: off the stack; the sweep is single-threaded */
    c = w->base;
    const dl_sweep_point *p = &w->pts[k];
    if (p->lr[0])
        dl_run_cfg_set(&c, dl_opt_find("lr"), p->lr, NULL);
    if (p->epochs[0])
        dl_run_cfg_set(&c, dl_opt_find("epochs"), p->epochs, NULL);
    if (p->arch[0])
        dl_run_cfg_set(&c, dl_opt_find("arch"), p->arch, NULL);
    snprintf(c.name, sizeof c.name, "%.100s-%d", w->name, k + 1);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (w->base.jobs > 1 && !dl_run_cfg_given(&w->base, "threads"))
        c.threads = ncpu > w->base.jobs ? (int)(ncpu / w->base.jobs) : 1;
    if (w->base.jobs > 1 && !dl_run_cfg_given(&w->base, "replicas")) /* the cores are shared */
        c.replicas = ncpu > w->base.jobs ? (int)(ncpu / w->base.jobs) : 1;
    return dl_run_cfg_to_json(&c);
}

static void start_point(sweep *w, int k, int *running, int *done, int *failed)
{
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/%d.log", w->logdir, k + 1);
    char *json = point_json(w, k);
    w->js[k].pid = json ? spawn(json, dl_store_dir(w->st), log) : -1;
    free(json);
    if (w->js[k].pid < 0) {
        fprintf(stderr, "dllab sweep: cannot start point %d: %s\n", k + 1,
                json ? strerror(errno) : "out of memory");
        w->js[k].status = 3;
        (*failed)++;
        (*done)++;
        return;
    }
    w->js[k].status = 1;
    w->js[k].run = -1;
    (*running)++;
    printf("[%d/%d] %-36s started (%d running, %d done)\n", k + 1, w->n, w->pts[k].key, *running,
           *done);
    fflush(stdout);
}

/* Tags runs that appeared and collects children that ended; returns how many ended. */
static int reap(sweep *w, int *failed)
{
    int ended = 0;
    for (int k = 0; k < w->n; k++) {
        job *j = &w->js[k];
        if (j->status != 1)
            continue;
        char prefix[DL_STORE_NAME_MAX];
        snprintf(prefix, sizeof prefix, "%.100s-%d", w->name, k + 1);
        if (j->run < 0 &&
            (j->run = find_child_run(w->st, prefix, j->pid, j->run_name, sizeof j->run_name)) >= 0)
            tag_run(w->st, j->run, w->name,
                    &w->pts[k]); /* tagged while it trains: comparable live */
        int ws;
        if (waitpid(j->pid, &ws, WNOHANG) != j->pid)
            continue;
        j->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        if (j->run < 0 &&
            (j->run = find_child_run(w->st, prefix, j->pid, j->run_name, sizeof j->run_name)) >= 0)
            tag_run(w->st, j->run, w->name, &w->pts[k]);
        j->status = j->exit_code == 0 ? 2 : 3;
        *failed += j->status == 3;
        ended++;
        char log[PATH_MAX + 16];
        snprintf(log, sizeof log, "%s/%d.log", w->logdir, k + 1);
        print_result(w->st, j, k, w->n, &w->pts[k], log);
    }
    return ended;
}

/* Runs every pending point, --jobs at a time; returns how many failed. */
static int run_points(sweep *w, int skipped)
{
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int running = 0, next = 0, done = skipped, failed = 0;
    bool forwarded = false;
    for (;;) {
        for (; !interrupted && running < w->base.jobs && next < w->n; next++)
            if (w->js[next].status != 4)
                start_point(w, next, &running, &done, &failed);
        if (interrupted && !forwarded) {
            /* children stop at their next batch boundary and mark their runs stopped */
            for (int k = 0; k < w->n; k++)
                if (w->js[k].status == 1)
                    kill(w->js[k].pid, SIGTERM);
            forwarded = true;
        }
        if (running == 0)
            break;
        int ended = reap(w, &failed);
        running -= ended;
        done += ended;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return failed;
}

/* The comparison of every finished point, through dllab compare itself. */
static int compare_points(sweep *w)
{
    char **ca = calloc((size_t)w->n + 6, sizeof *ca), store_dir[PATH_MAX];
    if (!ca)
        return DL_EXIT_FAIL;
    snprintf(store_dir, sizeof store_dir, "%s", dl_store_dir(w->st));
    int c = 0;
    ca[c++] = "compare";
    ca[c++] = "--runs";
    ca[c++] = store_dir;
    for (int k = 0; k < w->n; k++)
        if ((w->js[k].status == 2 || w->js[k].status == 4) && w->js[k].run_name[0])
            ca[c++] = w->js[k].run_name;
    if (w->base.no_tui)
        ca[c++] = "--no-tui";
    printf("\n");
    fflush(stdout);
    dl_store_close(w->st);
    w->st = NULL;
    int crc = cmd_compare(c, ca);
    free(ca);
    return crc;
}

int cmd_sweep(int argc, char **argv)
{
    static sweep w; /* the configuration is large; one sweep per process */
    memset(&w, 0, sizeof w);
    int rc = parse_args(&w, argc, argv);
    if (rc >= 0)
        goto out;
    rc = DL_EXIT_FAIL;
    if (dl_cli_open("sweep", w.base.runs[0] ? w.base.runs : NULL, 0, &w.st) != 0)
        goto out;
    snprintf(w.logdir, sizeof w.logdir, "%s/sweeps/%s", dl_store_dir(w.st), w.name);
    dl_err err = {0};
    if (dl_mkdir_p(w.logdir, &err) != DL_OK) {
        fprintf(stderr, "dllab sweep: %s\n", err.msg);
        goto out;
    }
    if (!(w.js = calloc((size_t)w.n, sizeof *w.js)))
        goto out;
    int skipped = 0;
    for (int k = 0; k < w.n; k++)
        if ((w.js[k].run = finished_run(w.st, w.name, &w.pts[k], w.js[k].run_name,
                                        sizeof w.js[k].run_name)) >= 0) {
            w.js[k].status = 4;
            skipped++;
        }
    printf("sweep %s: %d points (%d finished before, skipped), %d at a time; logs in %s\n", w.name,
           w.n, skipped, w.base.jobs, w.logdir);
    for (int k = 0; k < w.n; k++)
        if (w.js[k].status == 4)
            printf("[%d/%d] %-36s skipped: finished as %s\n", k + 1, w.n, w.pts[k].key,
                   w.js[k].run_name);
    int failed = run_points(&w, skipped), finished = 0;
    for (int k = 0; k < w.n; k++)
        finished += w.js[k].status == 2 || w.js[k].status == 4;
    printf("sweep %s: %d of %d points finished%s%s\n", w.name, finished, w.n,
           failed ? ", some failed (see the logs)" : "",
           interrupted ? "; interrupted (run it again to continue)" : "");
    rc = finished == w.n ? DL_EXIT_OK : DL_EXIT_FAIL;
    if (finished >= 2 && !interrupted && compare_points(&w) != DL_EXIT_OK)
        rc = DL_EXIT_FAIL;
out:
    dl_store_close(w.st);
    free(w.pts);
    free(w.js);
    return rc;
}
