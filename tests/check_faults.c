/* check_faults: faults end to end (bad values, hostile names, full disks), through
 * the built dllab. diverged: a NaN validation loss marks the run diverged, no NaN checkpoint is
 * kept, predict / interpret refuse NaN outputs. names: class names that are not UTF-8 are
 * refused at data-open time; control characters in class and tensor names are printed escaped.
 * leaks: resume, interpret and a bad .pth under a preloaded LeakSanitizer. small: duplicate .pth
 * storages, CSV names leaving the folder, usage errors (exit 2, one line), sweep grid checked
 * before training, one "loader:" prefix. full-disk (root: a small tmpfs in the test's folder,
 * skipped with a reason otherwise): checkpoint and store commits on a full disk, read-only
 * commands on a 100 % full disk, resume once space is back, archive extraction; killed
 * checkpoint temporaries removed. live-run: no rm or second --resume while the run's process
 * trains; rm --force stops it. Each training uses a few dozen fashion-mnist images. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/io/safetensors.h"
#include "core/store/store.h"
#include "tests/data_testutil.h"
#include "tests/testutil.h"

static char *dir;
static char runs[4400];
static char mnt[4200]; /* a small tmpfs, mounted while non-empty; teardown unmounts it */
static char out[1 << 18];

static void setup(void)
{
    dir = tu_mkdtemp();
    snprintf(runs, sizeof runs, "%s/runs", dir);
}

/* Processes spawn() started; a failed test leaves none behind. */
static pid_t spawned[8];
static int n_spawned;

static void teardown(void)
{
    if (mnt[0] && umount2(mnt, MNT_DETACH) != 0)
        fprintf(stderr, "check_faults: cannot unmount %s: %s\n", mnt, strerror(errno));
    mnt[0] = 0;
    for (int i = 0; i < n_spawned; i++)
        if (waitpid(spawned[i], NULL, WNOHANG) == 0) { /* still our running child (not reaped) */
            kill(spawned[i], SIGKILL);
            waitpid(spawned[i], NULL, 0);
        }
    n_spawned = 0;
    tu_rmtree(dir);
    free(dir);
}

/* Runs `dllab ARGS` (through the shell) with DLLAB_RUNS=runs, in dir, stdin from /dev/null;
 * stdout+stderr into out; returns the exit code (-1 on a crash). */
static int dllab(const char *args)
{
    char cmd[12000];
    snprintf(cmd, sizeof cmd, "cd '%s' && DLLAB_RUNS='%s' '%s' %s </dev/null 2>&1", dir, runs,
             tu_dllab(), args);
    return tu_sh(cmd, out, sizeof out);
}

/* Starts `dllab ARGS` in the background (its own pid: the shell execs it), output into log. */
static pid_t spawn(const char *args, const char *log)
{
    char cmd[12000];
    snprintf(cmd, sizeof cmd, "cd '%s' && DLLAB_RUNS='%s' exec '%s' %s </dev/null >'%s' 2>&1", dir,
             runs, tu_dllab(), args, log);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test (no teardown) leaves no trainer behind */
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (n_spawned < 8)
        spawned[n_spawned++] = pid;
    return pid;
}

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

/* The single run of the store (its id in *id, status returned), or -1 when there is none yet. */
static int only_run(int64_t *id, int64_t *n_batches)
{
    dl_store *st;
    if (dl_store_open(runs, DL_STORE_READONLY, &st, NULL) != DL_OK)
        return -1;
    dl_run *r;
    size_t n = 0;
    int status = -1;
    if (dl_store_runs_list(st, NULL, &r, &n, NULL) == DL_OK) {
        if (n == 1) {
            status = (int)r[0].status;
            *id = r[0].id;
            if (n_batches)
                *n_batches = r[0].n_batches;
        }
        dl_runs_free(r, n);
    }
    dl_store_close(st);
    return status;
}

/* Waits (up to 120 s) until the store's one run is running and has committed a batch row. */
static int64_t wait_training(pid_t pid)
{
    for (int i = 0; i < 1200; i++) {
        int64_t id = 0, nb = 0;
        if (only_run(&id, &nb) == DL_RUN_RUNNING && nb > 0)
            return id;
        ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0,
                      "the training ended before it was seen running");
        sleep_ms(100);
    }
    ck_abort_msg("no training seen within 120 s");
    return 0;
}

static int wait_exit(pid_t pid)
{
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static char *log_text(const char *name)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = tu_slurp(path, NULL);
    ck_assert_msg(t != NULL, "no log %s", path);
    return t;
}

#define TINY "fashion-mnist --limit 64 --valid-limit 32 --no-tui"
#define LONG "fashion-mnist --limit 10000 --valid-limit 64 --epochs 50 --no-tui"

/* ---- item 1: a NaN validation loss is divergence; NaN outputs are refused ------------------- */

START_TEST(nan_valid_loss_marks_the_run_diverged)
{
    /* lr 1e30: the one step leaves finite train loss and NaN outputs */
    int rc = dllab("train " TINY " --lr 1e30");
    ck_assert_msg(rc == 1, "train exited %d (want 1, diverged): %s", rc, out);
    ck_assert_msg(strstr(out, "diverged"), "no 'diverged' in: %s", out);
    ck_assert_msg(!strstr(out, " finished"), "a diverged run said finished: %s", out);
    int64_t id;
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_DIVERGED);
    /* no checkpoint of NaN weights was written */
    dl_store *st;
    ck_assert_int_eq(dl_store_open(runs, DL_STORE_READONLY, &st, NULL), DL_OK);
    dl_checkpoint_row *ck;
    size_t n = 0;
    ck_assert_int_eq(dl_store_checkpoints(st, id, &ck, &n, NULL), DL_OK);
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        dl_store_checkpoint_abspath(st, ck[i].path, p, sizeof p);
        dl_tensor_map m;
        dl_tensor_map_init(&m);
        ck_assert_int_eq(dl_safetensors_read(p, &m, NULL), DL_OK);
        for (size_t t = 0; t < m.n; t++) {
            if (m.items[t].dtype != DL_DTYPE_F32)
                continue;
            int64_t numel = 1;
            for (int d = 0; d < m.items[t].ndim; d++)
                numel *= m.items[t].shape[d];
            for (int64_t j = 0; j < numel; j++)
                ck_assert_msg(isfinite(((float *)m.items[t].data)[j]),
                              "checkpoint %s holds %s = %g", p, m.items[t].name,
                              ((float *)m.items[t].data)[j]);
        }
        dl_tensor_map_free(&m);
    }
    dl_checkpoints_free(ck, n);
    dl_store_close(st);
}
END_TEST

/* Every float of every checkpoint of the run becomes NaN (what a diverged model holds). */
static void poison_checkpoints(int64_t id)
{
    dl_store *st;
    ck_assert_int_eq(dl_store_open(runs, DL_STORE_READONLY, &st, NULL), DL_OK);
    dl_checkpoint_row *ck;
    size_t n = 0;
    ck_assert_int_eq(dl_store_checkpoints(st, id, &ck, &n, NULL), DL_OK);
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        dl_store_checkpoint_abspath(st, ck[i].path, p, sizeof p);
        dl_tensor_map m, nan_map; /* a copy: the file read may be mapped, and is rewritten */
        dl_err err = {0};
        dl_tensor_map_init(&m);
        ck_assert_int_eq(dl_safetensors_read(p, &m, &err), DL_OK);
        dl_tensor_map_init(&nan_map);
        for (size_t t = 0; t < m.n; t++) {
            dl_named_tensor *x = &m.items[t];
            ck_assert_int_eq(
                dl_tensor_map_add(&nan_map, x->name, x->dtype, x->ndim, x->shape, x->data, &err),
                DL_OK);
            if (x->dtype != DL_DTYPE_F32 || strstr(x->name, "running_var"))
                continue;
            int64_t numel = 1;
            for (int d = 0; d < x->ndim; d++)
                numel *= x->shape[d];
            for (int64_t j = 0; j < numel; j++)
                ((float *)nan_map.items[t].data)[j] = NAN;
        }
        for (size_t k = 0; k < m.n_meta; k++)
            dl_tensor_map_set_meta(&nan_map, m.meta[k].key, m.meta[k].value, &err);
        dl_tensor_map_free(&m);
        ck_assert_msg(dl_safetensors_write(p, &nan_map, &err) == DL_OK, "%s", err.msg);
        dl_tensor_map_free(&nan_map);
    }
    dl_checkpoints_free(ck, n);
    dl_store_close(st);
}

START_TEST(predict_and_interpret_refuse_nan_outputs)
{
    ck_assert_msg(dllab("train " TINY) == 0, "%s", out);
    int64_t id;
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_FINISHED);
    poison_checkpoints(id);
    du_write_image(dir, "shoe.png", 28, 28, 1, du_smooth, 1);
    int rc = dllab("predict fmnist-resnet-xs-1 shoe.png");
    ck_assert_msg(rc == 1, "predict exited %d (want 1): %s", rc, out);
    ck_assert_msg(strstr(out, "diverged") && strstr(out, "shoe.png"), "unclear message: %s", out);
    rc = dllab("interpret fmnist-resnet-xs-1");
    ck_assert_msg(rc == 1, "interpret exited %d (want 1): %s", rc, out);
    ck_assert_msg(strstr(out, "diverged"), "unclear message: %s", out);
}
END_TEST

/* ---- a full disk, on a small tmpfs in the test's own folder -------------------------------- */

/* Mounts a tmpfs of size (e.g. "14m") at dir/full with the store at dir/full/r; false (the test
 * then returns, saying why) when not root or the mount is refused (a container). */
static bool mount_small_disk(const char *size)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP %s: mounting a small tmpfs needs root\n", tcase_name());
        return false;
    }
    char path[4200], opts[64];
    snprintf(path, sizeof path, "%s/full", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(opts, sizeof opts, "size=%s", size);
    /* A mount namespace of this test's own (check forks one process per test): the tmpfs goes
     * away with the process even when a failed assertion skips the teardown. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        fprintf(stderr, "SKIP %s: no private mount namespace: %s\n", tcase_name(), strerror(errno));
        return false;
    }
    if (mount("tmpfs", path, "tmpfs", 0, opts) != 0) {
        fprintf(stderr, "SKIP %s: cannot mount a tmpfs: %s\n", tcase_name(), strerror(errno));
        return false;
    }
    snprintf(mnt, sizeof mnt, "%s", path);
    snprintf(runs, sizeof runs, "%s/r", path);
    return true;
}

static void resize_disk(const char *size)
{
    char opts[64];
    snprintf(opts, sizeof opts, "size=%s", size);
    ck_assert_msg(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, opts) == 0, "remount: %s",
                  strerror(errno));
}

static long disk_free(void)
{
    struct statvfs v;
    ck_assert_int_eq(statvfs(mnt, &v), 0);
    return (long)(v.f_bavail * v.f_frsize);
}

/* Fills the small disk with dir/full/filler-N until at most `leave` bytes are free (0: full). */
static void fill_disk(long leave, int n)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/filler-%d", mnt, n);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    static char block[65536];
    for (long avail; (avail = disk_free()) > leave;) {
        size_t chunk = avail - leave < (long)sizeof block ? (size_t)(avail - leave) : sizeof block;
        if (write(fd, block, chunk) <= 0)
            break;
    }
    close(fd);
}

static void unfill_disk(int n)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/filler-%d", mnt, n);
    ck_assert_int_eq(unlink(path), 0);
}

/* PRAGMA integrity_check of the store, read-only. */
static void assert_store_intact(void)
{
    char db[4600];
    snprintf(db, sizeof db, "%s/runs.db", runs);
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(h);
}

/* The last "run fmnist-resnet-xs-1 ..." line of out (stdout's final line). */
static const char *status_line(void)
{
    static char line[4096];
    const char *last = NULL;
    for (const char *p = strstr(out, "run fmnist-resnet-xs-1 "); p;
         p = strstr(p + 1, "run fmnist-resnet-xs-1 "))
        if (p == out || p[-1] == '\n')
            last = p;
    ck_assert_msg(last != NULL, "no final 'run ...' line in: %s", out);
    snprintf(line, sizeof line, "%.*s", (int)strcspn(last, "\n"), last);
    return line;
}

START_TEST(checkpoint_on_full_disk_keeps_the_previous_one)
{
    /* 14 MB: the store and one 10 MB checkpoint fit, a second does not */
    if (!mount_small_disk("14m"))
        return;
    int rc = dllab("train " TINY " --epochs 2");
    ck_assert_msg(rc == 1, "train on a full disk exited %d: %s", rc, out);
    const char *last = status_line();
    ck_assert_msg(strstr(last, "failed") && strstr(last, "epoch 0") && strstr(last, "--resume"),
                  "last line: %s", last);
    ck_assert_msg(strstr(out, "disk is full") && !strstr(out, "previous one is intact"), "%s", out);
    int64_t id;
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_CRASHED);
    assert_store_intact();
    char ck[4600];
    snprintf(ck, sizeof ck, "%s/fmnist-resnet-xs-1/epoch-0.safetensors", runs);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    ck_assert_msg(dl_safetensors_read(ck, &m, &err) == DL_OK, "%s", err.msg);
    dl_tensor_map_free(&m);
    /* space is back: the run resumes from epoch 0's checkpoint and finishes */
    resize_disk("40m");
    rc = dllab("train --resume fmnist-resnet-xs-1 --no-tui");
    ck_assert_msg(rc == 0, "resume exited %d: %s", rc, out);
    ck_assert_msg(strstr(status_line(), "finished (2 epochs"), "%s", out);
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_FINISHED);
    assert_store_intact();
}
END_TEST

START_TEST(store_commits_on_full_disk)
{
    if (!mount_small_disk("14m"))
        return;
    ck_assert_int_eq(mkdir(runs, 0755), 0);
    fill_disk(160 * 1024, 0); /* room for a few commits, not for a checkpoint */
    int rc = dllab("train fashion-mnist --limit 128 --valid-limit 32 --bs 16 --no-tui");
    ck_assert_msg(rc == 1, "train on a full disk exited %d: %s", rc, out);
    ck_assert_msg(strstr(status_line(), "failed"), "last line: %s", status_line());
    ck_assert_msg(strstr(out, "disk full") || strstr(out, "disk is full"), "%s", out);
    int warnings = 0;
    for (const char *p = strstr(out, "recording batch"); p; p = strstr(p + 1, "recording batch"))
        warnings++;
    ck_assert_msg(warnings <= 2, "%d batch warnings: %s", warnings, out);
    int64_t id;
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_CRASHED);
    assert_store_intact();

    /* 100 % full: the read-only commands still work, a write says the disk is full */
    fill_disk(0, 1);
    ck_assert_int_eq(disk_free(), 0);
    rc = dllab("runs");
    ck_assert_msg(rc == 0 && strstr(out, "fmnist-resnet-xs-1") && strstr(out, "crashed"),
                  "runs: %d %s", rc, out);
    rc = dllab("show fmnist-resnet-xs-1");
    ck_assert_msg(rc == 0 && strstr(out, "crashed"), "show: %d %s", rc, out);
    rc = dllab("tag fmnist-resnet-xs-1 keep");
    ck_assert_msg(rc == 1 && strstr(out, "disk full"), "tag on a full disk: %d %s", rc, out);
    unfill_disk(1);
    unfill_disk(0);
    /* a writer closes the store cleanly (the WAL folded in), then the disk fills up again */
    ck_assert_msg(dllab("tag fmnist-resnet-xs-1 keep") == 0, "%s", out);
    fill_disk(0, 2);
    rc = dllab("runs");
    ck_assert_msg(rc == 0 && strstr(out, "keep"), "runs with an empty WAL on a full disk: %d %s",
                  rc, out);
    unfill_disk(2);
    assert_store_intact();
}
END_TEST

/* A kill during a checkpoint write leaves NAME.safetensors.tmp.PID: the next open removes it. */
START_TEST(killed_checkpoint_temp_is_removed)
{
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    dl_store *st;
    dl_err err = {0};
    ck_assert_int_eq(dl_store_open(runs, 0, &st, &err), DL_OK);
    dl_run_spec spec = {.name_prefix = "killed", .pid = dead};
    int64_t id;
    ck_assert_int_eq(dl_store_run_create(st, &spec, &id, NULL, 0, &err), DL_OK);
    dl_store_close(st);
    char folder[4600], tmp[4800], other[4800];
    snprintf(folder, sizeof folder, "%s/killed-1", runs);
    ck_assert_int_eq(mkdir(folder, 0755), 0);
    snprintf(tmp, sizeof tmp, "%s/epoch-0.safetensors.tmp.%d", folder, (int)dead);
    snprintf(other, sizeof other, "%s/epoch-0.safetensors.tmp.%d", folder,
             (int)getpid()); /* a live writer */
    du_write_text(folder, strrchr(tmp, '/') + 1, "partial");
    du_write_text(folder, strrchr(other, '/') + 1, "partial");
    ck_assert_int_eq(dl_store_open(runs, 0, &st, &err), DL_OK);
    ck_assert_int_eq(dl_store_crashed_on_open(st), 1);
    dl_store_close(st);
    ck_assert_msg(access(tmp, F_OK) != 0, "%s is still there", tmp);
    ck_assert_msg(access(other, F_OK) == 0, "a live writer's temporary was removed");
}
END_TEST

/* Extracting an archive into a cache on a full disk: a clear error naming the archive and the
 * cause; once space is back the extraction is done again, completely. */
START_TEST(archive_extraction_on_full_disk)
{
    if (!mount_small_disk("1m"))
        return;
    char src[4600];
    snprintf(src, sizeof src, "%s/pets", dir);
    static const char *const classes[] = {"cat", "dog"};
    du_class_tree(src, "", classes, 2, 4);
    char blob[4700]; /* 1.5 MB that does not compress: the extraction cannot fit in 1 MB */
    snprintf(blob, sizeof blob, "%s/cat/notes.bin", src);
    FILE *f = fopen(blob, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t x = 12345;
    for (int i = 0; i < 1500 * 1024; i++) {
        x = x * 1664525u + 1013904223u;
        fputc((int)(x >> 24), f);
    }
    fclose(f);
    char cmd[10000];
    snprintf(cmd, sizeof cmd, "tar czf '%s/pets.tgz' -C '%s' cat dog 2>&1", dir, src);
    ck_assert_msg(tu_sh(cmd, out, sizeof out) == 0, "tar: %s", out);
    int rc = dllab("data pets.tgz --cache full/c");
    ck_assert_msg(rc == 1, "data on a full disk exited %d: %s", rc, out);
    ck_assert_msg(strstr(out, "pets.tgz") && strstr(out, "No space left on device"), "unclear: %s",
                  out);
    resize_disk("8m");
    rc = dllab("data pets.tgz --cache full/c");
    ck_assert_msg(rc == 0 && strstr(out, "cat") && strstr(out, "dog"), "after space is back: %d %s",
                  rc, out);
}
END_TEST

/* ---- item 2: class names are stored losslessly; names from data are printed escaped -------- */

/* No raw byte c anywhere in out. */
static void assert_no_byte(int c, const char *what)
{
    ck_assert_msg(memchr(out, c, strlen(out)) == NULL, "%s printed a raw 0x%02x byte: %s", what, c,
                  out);
}

START_TEST(non_utf8_class_folder_is_refused)
{
    char data[4600];
    snprintf(data, sizeof data, "%s/pets", dir);
    static const char *const classes[] = {"a", "caf\xe9", "b\xff\xfe"};
    du_class_tree(data, "", classes, 3, 4);
    int rc = dllab("data pets");
    ck_assert_msg(rc == 1, "data exited %d: %s", rc, out);
    ck_assert_msg(strstr(out, "not valid UTF-8") &&
                      (strstr(out, "caf\\xe9") || strstr(out, "b\\xff\\xfe")),
                  "unclear: %s", out);
    assert_no_byte(0xe9, "data");
    assert_no_byte(0xff, "data");
    rc = dllab("train pets "
               "--no-tui --size 16");
    ck_assert_msg(rc == 1 && strstr(out, "not valid UTF-8"), "train exited %d: %s", rc, out);
}
END_TEST

START_TEST(non_utf8_csv_label_is_refused)
{
    char data[4600];
    snprintf(data, sizeof data, "%s/pets", dir);
    static const char *const classes[] = {"a", "b"};
    du_class_tree(data, "", classes, 2, 4);
    du_write_text(data, "labels.csv",
                  "fname,labels\na/a_000.jpg,a\na/a_001.jpg,a\na/a_002.jpg,a\na/a_003.jpg,a\n"
                  "b/b_000.jpg,b\nb/b_001.jpg,b\nb/b_002.jpg,\xff\xfe\xc3\nb/b_003.jpg,b\n");
    int rc = dllab("data pets --csv labels.csv");
    ck_assert_msg(rc == 1, "data exited %d: %s", rc, out);
    ck_assert_msg(strstr(out, "not valid UTF-8") && strstr(out, "\\xff\\xfe\\xc3") &&
                      strstr(out, "b_002.jpg"),
                  "unclear: %s", out);
    assert_no_byte(0xff, "data");
}
END_TEST

START_TEST(control_characters_are_printed_escaped)
{
    char data[4600];
    snprintf(data, sizeof data, "%s/pets", dir);
    static const char *const classes[] = {"ok", "\x1b]0;pwned\x07title", "\x1b[31mred"};
    du_class_tree(data, "", classes, 3, 4);
    int rc = dllab("data pets");
    ck_assert_msg(rc == 0, "data exited %d: %s", rc, out);
    assert_no_byte(0x1b, "data");
    assert_no_byte(0x07, "data");
    ck_assert_msg(strstr(out, "\\x1b[31mred"), "the class is not shown escaped: %s", out);

    /* a weight file whose tensor names and metadata carry escape sequences */
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    int64_t shape[1] = {2};
    dl_err err = {0};
    ck_assert_int_eq(dl_tensor_map_add(&m, "\x1b]0;pwned\x07w", DL_DTYPE_F32, 1, shape, NULL, &err),
                     DL_OK);
    ck_assert_int_eq(dl_tensor_map_set_meta(&m, "note\x1b[2J",
                                            "\x9b"
                                            "31m",
                                            &err),
                     DL_OK);
    char path[4600];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    ck_assert_msg(dl_safetensors_write(path, &m, &err) == DL_OK, "%s", err.msg);
    dl_tensor_map_free(&m);
    rc = dllab("weights info w.safetensors");
    ck_assert_msg(rc == 0, "weights info exited %d: %s", rc, out);
    assert_no_byte(0x1b, "weights info");
    assert_no_byte(0x07, "weights info");
    ck_assert_msg(strstr(out, "\\x1b]0;pwned\\x07w"), "the tensor name is not shown escaped: %s",
                  out);
}
END_TEST

/* ---- item 6: leaks on the paths the sanitizers found (LeakSanitizer preloaded) -------------- */

/* The LeakSanitizer runtime, when installed (gcc's liblsan): it finds leaks in an uninstrumented
 * program when preloaded. NULL (the test says it skips) otherwise. */
static const char *lsan_runtime(void)
{
    static const char *const where[] = {"/usr/lib/x86_64-linux-gnu/liblsan.so.0",
                                        "/usr/lib/aarch64-linux-gnu/liblsan.so.0",
                                        "/usr/lib64/liblsan.so.0"};
    for (size_t i = 0; i < sizeof where / sizeof *where; i++)
        if (access(where[i], R_OK) == 0)
            return where[i];
    return NULL;
}

/* Runs `dllab ARGS` with LeakSanitizer; fails the test when it reports a leak (exit 23). */
static int dllab_lsan(const char *args)
{
    char a[8192];
    snprintf(a, sizeof a, "%s", args);
    char cmd[16000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && DLLAB_RUNS='%s' LD_PRELOAD='%s' LSAN_OPTIONS=exitcode=23 '%s' %s "
             "</dev/null 2>&1",
             dir, runs, lsan_runtime(), tu_dllab(), a);
    int rc = tu_sh(cmd, out, sizeof out);
    ck_assert_msg(rc != 23 && !strstr(out, "LeakSanitizer"), "dllab %s leaks: %s", args, out);
    return rc;
}

START_TEST(no_leaks_on_resume_interpret_and_bad_pth)
{
    if (!lsan_runtime()) {
        fprintf(stderr, "SKIP %s: no LeakSanitizer runtime (liblsan.so.0) installed\n",
                tcase_name());
        return;
    }
    ck_assert_msg(dllab("train " TINY) == 0, "%s", out);
    ck_assert_int_eq(dllab_lsan("interpret fmnist-resnet-xs-1"), 0);
    ck_assert_int_eq(dllab_lsan("train --resume fmnist-resnet-xs-1 --no-tui"),
                     1); /* finished: nothing to do */
    char args[4600];
    snprintf(args, sizeof args, "weights info '%s'", tu_fixture("pth/hostile_duplicate_key.pth"));
    ck_assert_int_eq(dllab_lsan(args), 1);
    ck_assert_msg(strstr(out, "duplicate tensor name 'w'"), "%s", out);
}
END_TEST

/* ---- item 7: smaller ones ---------------------------------------------------------------- */

START_TEST(pth_duplicate_storages_are_refused)
{
    char args[4600];
    snprintf(args, sizeof args, "weights info '%s'",
             tu_fixture("pth/hostile_duplicate_storage.pth"));
    int rc = dllab(args);
    ck_assert_msg(rc == 1 && strstr(out, "two entries are named 'archive/data/0'"), "%d: %s", rc,
                  out);
}
END_TEST

START_TEST(csv_names_that_leave_the_folder_are_refused)
{
    char data[4600];
    snprintf(data, sizeof data, "%s/pets", dir);
    static const char *const classes[] = {"a", "b"};
    du_class_tree(data, "", classes, 2, 3);
    du_write_text(data, "labels.csv",
                  "fname,labels\na/a_000.jpg,a\na/a_001.jpg,a\n../../../../etc/passwd,b\n"
                  "b/b_000.jpg,b\nb/b_001.jpg,b\n");
    int rc = dllab("data pets --csv labels.csv");
    ck_assert_msg(rc == 1 && strstr(out, "labels.csv:4") && strstr(out, "leaves the data folder"),
                  "%d: %s", rc, out);
    du_write_text(data, "abs.csv", "fname,labels\na/a_000.jpg,a\n/etc/passwd,b\nb/b_000.jpg,b\n");
    rc = dllab("data pets --csv abs.csv");
    ck_assert_msg(rc == 1 && strstr(out, "abs.csv:3") && strstr(out, "leaves the data folder"),
                  "%d: %s", rc, out);
    /* '..' inside a name that stays in the folder is still refused; dots in names are fine */
    du_write_text(data, "ok.csv",
                  "fname,labels\na/a_000.jpg,a\na/../a/a_001.jpg,a\nb/b_000.jpg,b\n");
    rc = dllab("data pets --csv ok.csv");
    ck_assert_msg(rc == 1 && strstr(out, "ok.csv:3"), "%d: %s", rc, out);
}
END_TEST

START_TEST(usage_errors_exit_2_with_one_line)
{
    int rc = dllab("train fashion-mnist --arch bogus --no-tui");
    ck_assert_msg(rc == 2 && strstr(out, "unknown architecture 'bogus'"), "--arch bogus: %d %s", rc,
                  out);
    ck_assert_int_eq(dllab("lrfind fashion-mnist --arch bogus"), 2);
    const char *bad[] = {"train fashion-mnist --bogus", "lrfind fashion-mnist --bogus",
                         "data fashion-mnist --bogus"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rc = dllab(bad[i]);
        size_t lines = 0;
        for (const char *p = out; *p; p++)
            lines += *p == '\n';
        ck_assert_msg(rc == 2 && lines == 1 && strstr(out, "--bogus") && strstr(out, "--help"),
                      "dllab %s: exit %d, %zu lines: %s", bad[i], rc, lines, out);
    }
    ck_assert_msg(access(runs, F_OK) != 0, "a usage error created the store");
}
END_TEST

START_TEST(sweep_checks_every_point_before_training)
{
    int rc = dllab("sweep fashion-mnist --arch resnet-xs,bogus --limit 64 --valid-limit 32");
    ck_assert_msg(rc == 2 && strstr(out, "bogus") && strstr(out, "nothing was trained"), "%d: %s",
                  rc, out);
    int64_t id;
    ck_assert_msg(only_run(&id, NULL) == -1, "a run was started: %s", out);
}
END_TEST

START_TEST(loader_errors_name_the_loader_once)
{
    /* 3 slots of 65536 images of 512x512 floats: far past the 4 GB of address space allowed */
    char cmd[12000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ulimit -v 4000000 && DLLAB_RUNS='%s' '%s' train fashion-mnist --limit 64 "
             "--valid-limit 32 "
             "--bs 65536 --size 512 --threads 1 --no-tui </dev/null 2>&1",
             dir, runs, tu_dllab());
    int rc = tu_sh(cmd, out, sizeof out);
    ck_assert_msg(rc == 1 && strstr(out, "loader: out of memory"), "%d: %s", rc, out);
    ck_assert_msg(!strstr(out, "loader: loader"), "%s", out);
}
END_TEST

/* ---- item 3: no removal or second writer while the run's process lives ------------------- */

START_TEST(live_run_cannot_be_removed_or_resumed)
{
    pid_t a = spawn("train " LONG, "a.log");
    int64_t id = wait_training(a);
    char want[64];
    snprintf(want, sizeof want, "process %d", (int)a);
    ck_assert_int_eq(dllab("rm --yes fmnist-resnet-xs-1"), 1);
    ck_assert_msg(strstr(out, want) && strstr(out, "--force"), "rm of a live run: %s", out);
    ck_assert_int_eq(dllab("train --resume fmnist-resnet-xs-1 --no-tui"), 1);
    ck_assert_msg(strstr(out, want), "resume of a live run: %s", out);
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_RUNNING);

    /* stopped with a checkpoint, then two resumes at once: one of them trains */
    ck_assert_int_eq(kill(a, SIGTERM), 0);
    wait_exit(a);
    ck_assert_int_eq(only_run(&id, NULL), DL_RUN_STOPPED);
    pid_t b = spawn("train --resume fmnist-resnet-xs-1", "b.log");
    pid_t c = spawn("train --resume fmnist-resnet-xs-1", "c.log");
    pid_t first = 0;
    int ws, first_rc = -1;
    for (int i = 0; i < 1200 && !first; i++) {
        pid_t p = waitpid(-1, &ws, WNOHANG);
        if (p == b || p == c)
            first = p, first_rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        else
            sleep_ms(100);
    }
    ck_assert_msg(first, "neither resume ended: both are training the run");
    pid_t other = first == b ? c : b;
    char *lg = log_text(first == b ? "b.log" : "c.log");
    snprintf(want, sizeof want, "process %d", (int)other);
    ck_assert_msg(first_rc == 1 && strstr(lg, want), "the refused resume (exit %d) said: %s",
                  first_rc, lg);
    free(lg);

    /* --force stops the trainer, then removes the run */
    wait_training(other);
    ck_assert_msg(dllab("rm --yes --force fmnist-resnet-xs-1") == 0, "rm --force: %s", out);
    ck_assert_msg(strstr(out, "removed fmnist-resnet-xs-1"), "%s", out);
    wait_exit(other);
    ck_assert_int_eq(only_run(&id, NULL), -1);
    for (const char *l = "a.log"; l; l = !strcmp(l, "a.log")   ? "b.log"
                                         : !strcmp(l, "b.log") ? "c.log"
                                                               : NULL) {
        lg = log_text(l);
        ck_assert_msg(!strstr(lg, "FOREIGN KEY"), "%s: %s", l, lg);
        free(lg);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("diverged");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, nan_valid_loss_marks_the_run_diverged);
    tcase_add_test(tc, predict_and_interpret_refuse_nan_outputs);
    suite_add_tcase(s, tc);
    tc = tcase_create("names");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, non_utf8_class_folder_is_refused);
    tcase_add_test(tc, non_utf8_csv_label_is_refused);
    tcase_add_test(tc, control_characters_are_printed_escaped);
    suite_add_tcase(s, tc);
    tc = tcase_create("leaks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, no_leaks_on_resume_interpret_and_bad_pth);
    suite_add_tcase(s, tc);
    tc = tcase_create("small");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, pth_duplicate_storages_are_refused);
    tcase_add_test(tc, csv_names_that_leave_the_folder_are_refused);
    tcase_add_test(tc, usage_errors_exit_2_with_one_line);
    tcase_add_test(tc, sweep_checks_every_point_before_training);
    tcase_add_test(tc, loader_errors_name_the_loader_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("full-disk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, checkpoint_on_full_disk_keeps_the_previous_one);
    tcase_add_test(tc, store_commits_on_full_disk);
    tcase_add_test(tc, killed_checkpoint_temp_is_removed);
    tcase_add_test(tc, archive_extraction_on_full_disk);
    suite_add_tcase(s, tc);
    tc = tcase_create("live-run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, live_run_cannot_be_removed_or_resumed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }
