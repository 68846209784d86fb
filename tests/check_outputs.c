/* check_outputs: writing an output never replaces something that is not a regular file.
 * core/file.h's writer on its own (regular and missing paths replaced whole; a FIFO and a
 * character device made in the test's folder written in place and still what they were; a
 * directory, a symlink to one and a socket refused naming the path; a symlink to a file stays a
 * link; /dev/fd/N keeps an append-mode descriptor's offset), then the commands that write files
 * through the built binary: `weights import -o`, `export --json`, `export --plot --png/--svg`,
 * `export --csv`. Character devices need root (mknod): skipped with the reason otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/file.h"
#include "tests/check_compare_fixture.h"
#include "tests/testutil.h"

static char *dir;
static char out[1 << 16];

static void setup(void) { dir = tu_mkdtemp(); }

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static const char *at(const char *name)
{
    static char p[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* A null device (major 1, minor 3) at path; false (and why in *why) when we may not make one. */
static bool make_null_device(const char *path, const char **why)
{
    if (geteuid() != 0) {
        *why = "not root: mknod needs CAP_MKNOD";
        return false;
    }
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        *why = strerror(errno);
        return false;
    }
    int fd = open(path, O_WRONLY);
    if (fd < 0) { /* e.g. a folder on a filesystem mounted nodev */
        *why = "a device made in the test's folder cannot be opened (nodev mount?)";
        unlink(path);
        return false;
    }
    close(fd);
    return true;
}

static void assert_null_device(const char *path)
{
    struct stat sb;
    ck_assert_int_eq(lstat(path, &sb), 0);
    ck_assert_msg(S_ISCHR(sb.st_mode), "%s is no longer a character device (mode %o)", path,
                  sb.st_mode);
    ck_assert_int_eq(major(sb.st_rdev), 1);
    ck_assert_int_eq(minor(sb.st_rdev), 3);
}

static void assert_fifo(const char *path)
{
    struct stat sb;
    ck_assert_int_eq(lstat(path, &sb), 0);
    ck_assert_msg(S_ISFIFO(sb.st_mode), "%s is no longer a FIFO (mode %o)", path, sb.st_mode);
}

/* No "NAME.tmp.*" left in the test folder. */
static void assert_no_temporaries(void)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep '\\.tmp\\.' || true", dir);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 0);
    ck_assert_msg(out[0] == 0, "temporaries left: %s", out);
}

/* ---- the writer ---- */

START_TEST(regular_and_missing_paths_are_replaced_whole)
{
    const char *p = at("a.bin");
    ck_assert_int_eq(dl_file_write(p, "first", 5, NULL), DL_OK);
    ck_assert_int_eq(chmod(p, 0600), 0);
    ck_assert_int_eq(dl_file_write(p, "second!", 7, NULL), DL_OK);
    size_t n;
    char *got = tu_slurp(p, &n);
    ck_assert_int_eq(n, 7);
    ck_assert_str_eq(got, "second!");
    free(got);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600); /* the replacement keeps the mode */
    /* a failed write (discarded) leaves the previous file */
    FILE *f = dl_file_create(p, NULL);
    ck_assert_ptr_nonnull(f);
    fputs("half", f);
    dl_file_discard(f, p);
    got = tu_slurp(p, &n);
    ck_assert_str_eq(got, "second!");
    free(got);
    assert_no_temporaries();
}
END_TEST

START_TEST(fifo_is_written_in_place)
{
    const char *p = at("fifo");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t child = fork();
    if (child == 0) { /* the reader: what comes through the FIFO goes back on the pipe */
        alarm(20);    /* never hang the suite if the writer refuses to open the FIFO */
        int fd = open(p, O_RDONLY);
        char buf[64];
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
        if (n > 0 && write(pipefd[1], buf, (size_t)n) != n)
            _exit(2);
        _exit(n > 0 ? 0 : 1);
    }
    close(pipefd[1]);
    dl_err e = {0};
    ck_assert_msg(dl_file_write(p, "through", 7, &e) == DL_OK, "%s", e.msg);
    char buf[64] = {0};
    ck_assert_int_eq(read(pipefd[0], buf, sizeof buf - 1), 7);
    ck_assert_str_eq(buf, "through");
    close(pipefd[0]);
    int status;
    waitpid(child, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_fifo(p);
    assert_no_temporaries();
}
END_TEST

START_TEST(character_device_is_written_in_place)
{
    const char *p = at("null"), *why = NULL;
    if (!make_null_device(p, &why)) {
        printf("SKIP character_device_is_written_in_place: %s\n", why);
        return;
    }
    dl_err e = {0};
    ck_assert_msg(dl_file_write(p, "gone", 4, &e) == DL_OK, "%s", e.msg);
    assert_null_device(p);
    assert_no_temporaries();
}
END_TEST

START_TEST(directories_and_sockets_are_refused)
{
    const char *d = at("folder"), *l = at("link-to-folder"), *s = at("sock");
    ck_assert_int_eq(mkdir(d, 0700), 0);
    ck_assert_int_eq(symlink(d, l), 0);
    dl_err e = {0};
    ck_assert_int_eq(dl_file_write(d, "x", 1, &e), DL_EINVAL);
    ck_assert_msg(strstr(e.msg, d) && strstr(e.msg, "is a directory"), "%s", e.msg);
    ck_assert_int_eq(dl_file_write(l, "x", 1, &e), DL_EINVAL);
    ck_assert_msg(strstr(e.msg, l) && strstr(e.msg, "is a directory"), "%s", e.msg);
    struct stat sb;
    ck_assert_int_eq(lstat(l, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_int_eq(stat(d, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (fd >= 0 && strlen(s) < sizeof sa.sun_path) {
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(dl_file_write(s, "x", 1, &e), DL_EINVAL);
        ck_assert_msg(strstr(e.msg, "is a socket"), "%s", e.msg);
        ck_assert_int_eq(lstat(s, &sb), 0);
        ck_assert(S_ISSOCK(sb.st_mode));
    } else
        printf("SKIP socket case: the temporary folder's path is too long for a socket address\n");
    if (fd >= 0)
        close(fd);
}
END_TEST

START_TEST(symlink_to_a_file_stays_a_link)
{
    const char *t = at("target.txt"), *l = at("link.txt");
    ck_assert_int_eq(dl_file_write(t, "old", 3, NULL), DL_OK);
    ck_assert_int_eq(symlink("target.txt", l), 0);
    ck_assert_int_eq(dl_file_write(l, "new", 3, NULL), DL_OK);
    struct stat sb;
    ck_assert_int_eq(lstat(l, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    char *got = tu_slurp(t, NULL);
    ck_assert_str_eq(got, "new");
    free(got);
    assert_no_temporaries();
}
END_TEST

START_TEST(dev_fd_keeps_the_descriptor_offset)
{
    const char *p = at("log.txt");
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "head,", 5), 5);
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/fd/%d", fd);
    dl_err e = {0};
    ck_assert_msg(dl_file_write(dev, "tail", 4, &e) == DL_OK, "%s", e.msg);
    close(fd);
    char *got = tu_slurp(p, NULL);
    ck_assert_str_eq(got, "head,tail"); /* appended through the descriptor, file not replaced */
    free(got);
}
END_TEST

/* ---- the commands ---- */

/* Runs dllab ARGS with a reader draining fifo into sink (bounded by a timeout so a refused
 * write cannot hang the suite); the command's exit code. */
static int dllab_into_fifo(const char *fifo, const char *sink, const char *args)
{
    char cmd[16384];
    snprintf(
        cmd, sizeof cmd,
        "timeout 30 cat '%s' > '%s' & r=$!; DLLAB_RUNS='%s/runs' '%s' %s </dev/null >/dev/null "
        "2>&1; rc=$?; wait $r; exit $rc",
        fifo, sink, dir, tu_dllab(), args);
    return tu_sh(cmd, out, sizeof out);
}

static int dllab(const char *args)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "DLLAB_RUNS='%s/runs' '%s' %s </dev/null 2>&1", dir, tu_dllab(),
             args);
    return tu_sh(cmd, out, sizeof out);
}

static long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

START_TEST(weights_import_writes_into_fifo_and_device)
{
    const char *pth = tu_fixture("pth/tiny_resnet.pth");
    const char *arch = "'resnet-custom:basic:1,1,1,1:4,8,16,16:imagenet'";
    char args[8192];
    snprintf(args, sizeof args, "weights import '%s' --arch %s -o '%s'", pth, arch,
             at("ref.safetensors"));
    ck_assert_msg(dllab(args) == 0, "%s", out);
    long want = file_size(at("ref.safetensors"));
    ck_assert_int_gt(want, 1000);
    const char *fifo = at("w.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    snprintf(args, sizeof args, "weights import '%s' --arch %s -o '%s'", pth, arch, fifo);
    ck_assert_int_eq(dllab_into_fifo(fifo, at("from-fifo"), args), 0);
    assert_fifo(fifo);
    ck_assert_int_eq(file_size(at("from-fifo")), want);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cmp '%s' '%s'", at("ref.safetensors"), at("from-fifo"));
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 0);
    /* a folder is refused with its name */
    ck_assert_int_eq(mkdir(at("outdir"), 0700), 0);
    snprintf(args, sizeof args, "weights import '%s' --arch %s -o '%s'", pth, arch, at("outdir"));
    ck_assert_int_eq(dllab(args), 1);
    ck_assert_msg(strstr(out, "outdir: is a directory"), "%s", out);
    const char *dev = at("w.null"), *why = NULL;
    if (!make_null_device(dev, &why)) {
        printf("SKIP weights import -o DEVICE: %s\n", why);
        return;
    }
    snprintf(args, sizeof args, "weights import '%s' --arch %s -o '%s'", pth, arch, dev);
    ck_assert_msg(dllab(args) == 0, "%s", out);
    assert_null_device(dev);
    assert_no_temporaries();
}
END_TEST

START_TEST(export_writes_into_fifo_and_device)
{
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/runs", dir);
    int64_t ids[3];
    cf_build(runs, ids);
    const char *fifo = at("e.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    char args[8192];
    snprintf(args, sizeof args, "export lr-a-1 --json '%s'", fifo);
    ck_assert_int_eq(dllab_into_fifo(fifo, at("json-from-fifo"), args), 0);
    assert_fifo(fifo);
    char *doc = tu_slurp(at("json-from-fifo"), NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_msg(strstr(doc, "\"dllab_export\": 1") && strstr(doc, "lr-a-1"), "%.200s", doc);
    free(doc);
    snprintf(args, sizeof args, "export lr-a-1 --plot loss --svg '%s'", fifo);
    ck_assert_int_eq(dllab_into_fifo(fifo, at("svg-from-fifo"), args), 0);
    assert_fifo(fifo);
    doc = tu_slurp(at("svg-from-fifo"), NULL);
    ck_assert_msg(doc && strstr(doc, "</svg>"), "no SVG came through the FIFO");
    free(doc);
    const char *dev = at("e.null"), *why = NULL;
    if (!make_null_device(dev, &why)) {
        printf("SKIP export to a DEVICE: %s\n", why);
        return;
    }
    snprintf(args, sizeof args, "export lr-a-1 --json '%s'", dev);
    ck_assert_msg(dllab(args) == 0, "%s", out);
    assert_null_device(dev);
    snprintf(args, sizeof args, "export lr-a-1 --plot loss --png '%s'", dev);
    ck_assert_msg(dllab(args) == 0, "%s", out);
    assert_null_device(dev);
    /* --csv FOLDER: one of its files is a device */
    ck_assert_int_eq(mkdir(at("csv"), 0700), 0);
    ck_assert_int_eq(mkdir(at("csv/lr-a-1"), 0700), 0);
    ck_assert(make_null_device(at("csv/lr-a-1/epochs.csv"), &why));
    snprintf(args, sizeof args, "export lr-a-1 --csv '%s'", at("csv"));
    ck_assert_msg(dllab(args) == 0, "%s", out);
    assert_null_device(at("csv/lr-a-1/epochs.csv"));
    ck_assert_int_gt(file_size(at("csv/lr-a-1/batches.csv")), 10); /* the others are files */
    assert_no_temporaries();
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a reader that died is a failed check, not a killed suite */
    Suite *s = suite_create("outputs");
    TCase *tc = tcase_create("outputs");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, regular_and_missing_paths_are_replaced_whole);
    tcase_add_test(tc, fifo_is_written_in_place);
    tcase_add_test(tc, character_device_is_written_in_place);
    tcase_add_test(tc, directories_and_sockets_are_refused);
    tcase_add_test(tc, symlink_to_a_file_stays_a_link);
    tcase_add_test(tc, dev_fd_keeps_the_descriptor_offset);
    tcase_add_test(tc, weights_import_writes_into_fifo_and_device);
    tcase_add_test(tc, export_writes_into_fifo_and_device);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
