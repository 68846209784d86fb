/* cmd-sweep: `dllab sweep DATA --lr 1e-4,1e-3,1e-2 [--epochs 1,3] [--arch a,b] [--jobs N]
 * [--name NAME] [train options]` runs the grid (src/sweep-grid.c), each point a normal
 * `dllab train` run in a child process (the same program, so the same code path), named NAME-K-N and
 * tagged "sweep:NAME" and "NAME/<point>" as soon as it appears in the store; one child at a time or
 * N at once. It prints the grid's progress, then the comparison of the finished runs (the compare
 * screen on a terminal, the table otherwise). A sweep started again with the same NAME (default:
 * DATA's base name + "-sweep") skips points whose tagged run finished. Children's output goes to
 * STORE/sweeps/NAME/K.log. With --jobs N and no --threads, each child gets cores/N threads. Ctrl-C stops launching, lets running children stop at their next batch
 * (they get the same signal from the terminal, or SIGTERM here), and waits for them.
 * Exit codes: 0 every point finished, 1 some did not, 2 usage. */
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

#include "src/commands.h"
#include "src/runs-util.h"
#include "src/sweep-grid.h"
#include "src/train-setup.h"

#define USAGE                                                                                                   \
    "usage: dllab sweep DATA [--lr V,V...] [--epochs N,N...] [--arch A,A...] [--jobs N] [--name NAME]\n"      \
    "                   [--runs DIR] [--no-tui] [other dllab train options]\n"

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

typedef struct job {
    pid_t pid;
    int64_t run;        /* -1 until it shows up in the store */
    char run_name[DL_STORE_NAME_MAX];
    int status;         /* 0 pending, 1 running, 2 finished, 3 failed, 4 skipped */
    int exit_code;
} job;

static int mkdir_p(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++)
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return -1;
            if (!(*s = c))
                return 0;
        }
}

static pid_t spawn(char **argv, const char *log)
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
    execv(argv[0], argv);
    fprintf(stderr, "dllab sweep: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
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
    if (dl_sweep_tags(name, p, a, b, sizeof a) != 0 || dl_store_tag_add(st, run, a, &err) != DL_OK ||
        dl_store_tag_add(st, run, b, &err) != DL_OK)
        fprintf(stderr, "dllab sweep: warning: cannot tag run %lld: %s\n", (long long)run, err.msg);
}

/* A finished run tagged with this point, from an earlier sweep of the same name. */
static int64_t finished_run(dl_store *st, const char *name, const dl_sweep_point *p, char *run_name, size_t cap)
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

static void print_result(dl_store *st, const job *j, int k, int n, const dl_sweep_point *p, const char *log)
{
    dl_run r;
    if (j->run >= 0 && dl_store_run_get(st, j->run, &r, NULL) == DL_OK) {
        char v[32];
        dl_cli_fmt_num(r.best_valid_loss, "%.4f", v, sizeof v);
        printf("[%d/%d] %-36s %-9s best valid_loss %s @%d  (%s)\n", k + 1, n, p->key, dl_run_status_name(r.status), v,
               r.best_epoch, r.name);
        dl_run_clear(&r);
    } else {
        printf("[%d/%d] %-36s failed before creating a run (exit %d); see %s\n", k + 1, n, p->key, j->exit_code, log);
    }
    fflush(stdout);
}

static void no_usage(FILE *o) { (void)o; }

/* Whether `dllab train` will accept the point's options: checked for every point before the
 * first trains, so `--arch resnet-xs,bogus` fails at once instead of after training resnet-xs.
 * dl_train_args_parse names what is wrong. */
static bool point_parses(const char *data, const dl_sweep_point *p, char **pass, int npass)
{
    char **v = calloc((size_t)npass + 10, sizeof *v); /* getopt reorders its argv: a copy */
    if (!v)
        return false;
    int c = 0;
    v[c++] = "train";
    v[c++] = (char *)data;
    const char *axes[3][2] = {{"--lr", p->lr}, {"--epochs", p->epochs}, {"--arch", p->arch}};
    for (int i = 0; i < 3; i++)
        if (axes[i][1][0]) {
            v[c++] = (char *)axes[i][0];
            v[c++] = (char *)axes[i][1];
        }
    for (int i = 0; i < npass; i++)
        v[c++] = pass[i];
    dl_train_args a;
    bool ok = dl_train_args_parse(&a, "sweep", c, v, no_usage) < 0;
    free(v);
    return ok;
}

int cmd_sweep(int argc, char **argv)
{
    const char *data = NULL, *lrs = NULL, *eps = NULL, *archs = NULL, *name = NULL, *dir = NULL;
    int jobs = 1;
    bool no_tui = false;
    char **pass = calloc((size_t)argc + 1, sizeof *pass);
    int npass = 0, rc = DL_EXIT_USAGE;
    dl_sweep_point *pts = NULL;
    job *js = NULL;
    dl_store *st = NULL;
    char **cargv = NULL;
    if (!pass)
        return DL_EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf(USAGE "\nRuns `dllab train DATA` once per point of the grid (the product of the lists), each\n"
                         "a normal run tagged sweep:NAME and NAME/<point>, sequentially or --jobs N at a time,\n"
                         "then compares them. Started again with the same NAME, it skips finished points.\n");
            rc = DL_EXIT_OK;
            goto out;
        } else if (strcmp(a, "--lr") == 0 && has) {
            lrs = argv[++i];
        } else if (strcmp(a, "--epochs") == 0 && has) {
            eps = argv[++i];
        } else if (strcmp(a, "--arch") == 0 && has) {
            archs = argv[++i];
        } else if (strcmp(a, "--name") == 0 && has) {
            name = argv[++i];
        } else if (strcmp(a, "--runs") == 0 && has) {
            dir = argv[++i];
        } else if (strcmp(a, "--jobs") == 0 && has) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 64) {
                fprintf(stderr, "dllab sweep: --jobs wants 1..64, not '%s'\n", argv[i]);
                goto out;
            }
            jobs = (int)v;
        } else if (strcmp(a, "--no-tui") == 0) {
            no_tui = true;
        } else if (strcmp(a, "--resume") == 0 || strcmp(a, "--from-epoch") == 0) {
            fprintf(stderr, "dllab sweep: %s is not for sweeps (run the same sweep again to skip finished points)\n", a);
            goto out;
        } else if (!data && a[0] != '-') {
            data = a;
        } else {
            pass[npass++] = argv[i]; /* a train option (and, in order, its value) */
        }
    }
    if (!data || (!lrs && !eps && !archs)) {
        fprintf(stderr, "dllab sweep: give DATA and at least one of --lr, --epochs, --arch lists\n" USAGE);
        goto out;
    }
    char msg[512];
    int n = dl_sweep_expand(lrs, eps, archs, &pts, msg, sizeof msg);
    if (n < 0) {
        fprintf(stderr, "dllab sweep: %s\n", msg);
        goto out;
    }
    char defname[DL_STORE_NAME_MAX];
    if (!name) {
        const char *base = strrchr(data, '/');
        base = base && base[1] ? base + 1 : data;
        snprintf(defname, sizeof defname, "%.40s-sweep", base);
        for (char *c = defname; *c; c++)
            if (*c == ',' || *c == '/' || *c == ' ')
                *c = '_';
        name = defname;
    }
    char t1[DL_STORE_NAME_MAX * 2], t2[DL_STORE_NAME_MAX * 2];
    for (int k = 0; k < n; k++)
        if (dl_sweep_tags(name, &pts[k], t1, t2, sizeof t1) != 0) {
            fprintf(stderr, "dllab sweep: the sweep name '%s' with point %s does not make a tag (no commas or "
                            "slashes, under %d characters)\n", name, pts[k].key, DL_STORE_NAME_MAX);
            goto out;
        }
    for (int k = 0; k < n; k++)
        if (!point_parses(data, &pts[k], pass, npass)) {
            fprintf(stderr, "dllab sweep: point %s would not start: nothing was trained\n", pts[k].key);
            goto out;
        }
    rc = DL_EXIT_FAIL;
    if (dl_cli_open("sweep", dir, 0, &st) != 0)
        goto out;
    char self[PATH_MAX], logdir[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "dllab sweep: cannot find the dllab program (/proc/self/exe): %s\n", strerror(errno));
        goto out;
    }
    self[sl] = 0;
    snprintf(logdir, sizeof logdir, "%s/sweeps/%s", dl_store_dir(st), name);
    if (mkdir_p(logdir) != 0) {
        fprintf(stderr, "dllab sweep: cannot create %s: %s\n", logdir, strerror(errno));
        goto out;
    }
    /* N children at once share the cores: unless told, each gets cores/N BLAS and loader threads */
    char threads[24] = "";
    bool threads_given = false;
    for (int i = 0; i < npass; i++)
        threads_given |= strncmp(pass[i], "--threads", 9) == 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs > 1 && !threads_given)
        snprintf(threads, sizeof threads, "%ld", ncpu > jobs ? ncpu / jobs : 1);
    js = calloc((size_t)n, sizeof *js);
    cargv = calloc((size_t)npass + 20, sizeof *cargv);
    if (!js || !cargv)
        goto out;
    int skipped = 0;
    for (int k = 0; k < n; k++) {
        js[k].run = finished_run(st, name, &pts[k], js[k].run_name, sizeof js[k].run_name);
        if (js[k].run >= 0) {
            js[k].status = 4;
            skipped++;
        }
    }
    printf("sweep %s: %d points (%d finished before, skipped), %d at a time; logs in %s\n", name, n, skipped, jobs,
           logdir);
    for (int k = 0; k < n; k++)
        if (js[k].status == 4)
            printf("[%d/%d] %-36s skipped: finished as %s\n", k + 1, n, pts[k].key, js[k].run_name);
    fflush(stdout);
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int running = 0, next = 0, done = skipped, failed = 0;
    bool forwarded = false;
    for (;;) {
        while (!interrupted && running < jobs && next < n) {
            if (js[next].status == 4) {
                next++;
                continue;
            }
            const dl_sweep_point *p = &pts[next];
            char prefix[DL_STORE_NAME_MAX], log[PATH_MAX + 16];
            snprintf(prefix, sizeof prefix, "%.100s-%d", name, next + 1);
            snprintf(log, sizeof log, "%s/%d.log", logdir, next + 1);
            int c = 0;
            cargv[c++] = self;
            cargv[c++] = "train";
            cargv[c++] = (char *)data;
            if (p->lr[0]) {
                cargv[c++] = "--lr";
                cargv[c++] = (char *)p->lr;
            }
            if (p->epochs[0]) {
                cargv[c++] = "--epochs";
                cargv[c++] = (char *)p->epochs;
            }
            if (p->arch[0]) {
                cargv[c++] = "--arch";
                cargv[c++] = (char *)p->arch;
            }
            for (int i = 0; i < npass; i++)
                cargv[c++] = pass[i];
            cargv[c++] = "--name";
            cargv[c++] = prefix;
            cargv[c++] = "--runs";
            cargv[c++] = (char *)dl_store_dir(st);
            cargv[c++] = "--no-tui";
            if (threads[0]) {
                cargv[c++] = "--threads";
                cargv[c++] = threads;
            }
            cargv[c] = NULL;
            js[next].pid = spawn(cargv, log);
            if (js[next].pid < 0) {
                fprintf(stderr, "dllab sweep: fork: %s\n", strerror(errno));
                js[next].status = 3;
                failed++;
                done++;
            } else {
                js[next].status = 1;
                js[next].run = -1;
                running++;
                printf("[%d/%d] %-36s started (%d running, %d done)\n", next + 1, n, p->key, running, done);
                fflush(stdout);
            }
            next++;
        }
        if (interrupted && !forwarded) {
            /* children stop at their next batch boundary and mark their runs stopped */
            for (int k = 0; k < n; k++)
                if (js[k].status == 1)
                    kill(js[k].pid, SIGTERM);
            forwarded = true;
        }
        if (running == 0)
            break;
        for (int k = 0; k < n; k++) {
            if (js[k].status != 1)
                continue;
            char prefix[DL_STORE_NAME_MAX];
            snprintf(prefix, sizeof prefix, "%.100s-%d", name, k + 1);
            if (js[k].run < 0 && (js[k].run = find_child_run(st, prefix, js[k].pid, js[k].run_name,
                                                              sizeof js[k].run_name)) >= 0)
                tag_run(st, js[k].run, name, &pts[k]); /* tagged while it trains: comparable live */
            int ws;
            pid_t w = waitpid(js[k].pid, &ws, WNOHANG);
            if (w != js[k].pid)
                continue;
            js[k].exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            if (js[k].run < 0 && (js[k].run = find_child_run(st, prefix, js[k].pid, js[k].run_name,
                                                              sizeof js[k].run_name)) >= 0)
                tag_run(st, js[k].run, name, &pts[k]);
            js[k].status = js[k].exit_code == 0 ? 2 : 3;
            failed += js[k].status == 3;
            running--;
            done++;
            char log[PATH_MAX + 16];
            snprintf(log, sizeof log, "%s/%d.log", logdir, k + 1);
            print_result(st, &js[k], k, n, &pts[k], log);
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int finished = 0;
    for (int k = 0; k < n; k++)
        finished += js[k].status == 2 || js[k].status == 4;
    printf("sweep %s: %d of %d points finished%s%s\n", name, finished, n, failed ? ", some failed (see the logs)" : "",
           interrupted ? "; interrupted (run it again to continue)" : "");
    rc = finished == n ? DL_EXIT_OK : DL_EXIT_FAIL;
    if (finished >= 2 && !interrupted) {
        /* the comparison of every finished point, through dllab compare itself */
        char **ca = calloc((size_t)n + 6, sizeof *ca), store_dir[PATH_MAX];
        snprintf(store_dir, sizeof store_dir, "%s", dl_store_dir(st));
        int c = 0;
        if (ca) {
            ca[c++] = "compare";
            ca[c++] = "--runs";
            ca[c++] = store_dir;
            for (int k = 0; k < n; k++)
                if ((js[k].status == 2 || js[k].status == 4) && js[k].run_name[0])
                    ca[c++] = js[k].run_name;
            if (no_tui)
                ca[c++] = "--no-tui";
            printf("\n");
            fflush(stdout);
            dl_store_close(st);
            st = NULL;
            int crc = cmd_compare(c, ca);
            free(ca);
            if (crc != DL_EXIT_OK)
                rc = DL_EXIT_FAIL;
        }
    }
out:
    dl_store_close(st);
    free(pts);
    free(js);
    free(cargv);
    free(pass);
    return rc;
}
