/* file: whole-file reads and safe output files; see file.h. One place for core/io and core/data,
 * which may not include each other. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

dl_status dl_file_read(const char *path, size_t max_bytes, const char *kind, void **buf,
                       size_t *len, dl_err *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dl_err_set(err, errno == ENOENT ? DL_ENOTFOUND : DL_EIO, "%s: cannot open: %s", path,
                          strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return dl_err_set(err, DL_EIO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size;
    if (n > max_bytes) {
        fclose(f);
        return dl_err_set(err, DL_EFORMAT, "%s: %zu MiB is too large for %s", path, n >> 20, kind);
    }
    void *b = malloc(n ? n : 1);
    if (!b) {
        fclose(f);
        return dl_err_set(err, DL_ENOMEM, "%s: cannot allocate %zu bytes to read it", path, n);
    }
    if (n && fread(b, 1, n, f) != n) {
        int e = errno, had_error = ferror(f);
        fclose(f);
        free(b);
        return dl_err_set(err, DL_EIO, "%s: read failed: %s", path,
                          had_error ? strerror(e) : "file shrank");
    }
    fclose(f);
    *buf = b;
    *len = n;
    return DL_OK;
}

/* ---- outputs ---- */
static dl_status write_errno(dl_err *err, int e, const char *what, const char *path)
{
    dl_status code = e == ENOSPC || e == EDQUOT ? DL_ENOSPC : DL_EIO;
    return dl_err_set(err, code, "%s: %s: %s", path, what, strerror(e));
}

/* Where the bytes for path end up: the path itself, or a symlink's resolved target (so the link
 * stays a link). NULL when out of memory. */
static char *output_target(const char *path)
{
    struct stat lsb, sb;
    if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode) && stat(path, &sb) == 0) {
        char *real = realpath(path, NULL);
        if (real)
            return real;
    }
    return strdup(path);
}

static char *temp_name(const char *target)
{
    size_t n = strlen(target) + 32;
    char *tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%s.tmp.%ld", target, (long)getpid());
    return tmp;
}

/* The descriptor a /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N path names, or -1.
 * These are written through a copy of that descriptor: opening the path anew would start at
 * offset 0 of a redirected file (losing a `>>` append) and renaming over it would replace it. */
static int std_stream_fd(const char *path)
{
    if (!strcmp(path, "/dev/stdout"))
        return 1;
    if (!strcmp(path, "/dev/stderr"))
        return 2;
    const char *num = !strncmp(path, "/dev/fd/", 8)          ? path + 8
                      : !strncmp(path, "/proc/self/fd/", 14) ? path + 14
                                                             : NULL;
    if (!num || !*num)
        return -1;
    char *end;
    long fd = strtol(num, &end, 10);
    return *end || fd < 0 || fd > 1 << 20 ? -1 : (int)fd;
}

FILE *dl_file_create(const char *path, dl_err *err)
{
    int sfd = std_stream_fd(path);
    if (sfd >= 0 && fcntl(sfd, F_GETFD) != -1) {
        int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
        if (!f) {
            write_errno(err, errno, "cannot write to it", path);
            if (fd >= 0)
                close(fd);
        }
        return f;
    }
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        dl_err_set(err, DL_EINVAL, "%s: is a directory, not a file to write", path);
        return NULL;
    }
    if (exists && (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
        int fd = open(path, O_WRONLY | O_CLOEXEC); /* no O_CREAT: never a new regular file here */
        FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
        if (!f) {
            write_errno(err, errno, "cannot open for writing", path);
            if (fd >= 0)
                close(fd);
        }
        return f;
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        dl_err_set(err, DL_EINVAL, "%s: is a %s, not a file to write", path,
                   S_ISSOCK(sb.st_mode) ? "socket" : "special file");
        return NULL;
    }
    char *target = output_target(path), *tmp = target ? temp_name(target) : NULL;
    FILE *f = NULL;
    if (!tmp)
        dl_err_set(err, DL_ENOMEM, "%s: out of memory", path);
    else {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd >= 0 && exists)
            (void)fchmod(fd, sb.st_mode & 07777); /* the replacement keeps the file's mode */
        f = fd < 0 ? NULL : fdopen(fd, "wb");
        if (!f) {
            write_errno(err, errno, "cannot create", tmp);
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
        }
    }
    free(tmp);
    free(target);
    return f;
}

/* fsync the folder holding path so a rename survives a crash. */
static dl_status sync_folder(const char *path, dl_err *err)
{
    char *copy = strdup(path);
    if (!copy)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = slash ? (slash == copy ? "/" : (*slash = 0, copy)) : ".";
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    dl_status st = DL_OK;
    if (fd < 0 || fsync(fd) != 0)
        st = write_errno(err, errno, "cannot sync its folder", path);
    if (fd >= 0)
        close(fd);
    free(copy);
    return st;
}

/* Whether f is path's temporary (the file named so is f's), not the path written in place. */
static bool is_temporary(FILE *f, const char *path)
{
    char *target = output_target(path), *tmp = target ? temp_name(target) : NULL;
    struct stat a, b;
    bool temp = tmp && fstat(fileno(f), &a) == 0 && stat(tmp, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino;
    free(tmp);
    free(target);
    return temp;
}

dl_status dl_file_commit(FILE *f, const char *path, dl_err *err)
{
    bool temp = is_temporary(f, path);
    dl_status st = DL_OK;
    errno = 0;
    if (fflush(f) != 0 || ferror(f))
        st = write_errno(err, errno ? errno : EIO, "cannot write", path);
    if (!st && temp && fsync(fileno(f)) != 0)
        st = write_errno(err, errno, "cannot sync", path);
    if (fclose(f) != 0 && !st)
        st = write_errno(err, errno, "cannot close", path);
    if (!temp)
        return st;
    char *target = output_target(path), *tmp = target ? temp_name(target) : NULL;
    if (!tmp && !st)
        st = dl_err_set(err, DL_ENOMEM, "%s: out of memory", path);
    if (!st && rename(tmp, target) != 0)
        st = write_errno(err, errno, "cannot rename the temporary file over it", path);
    if (st && tmp)
        unlink(tmp); /* the previous file at path is untouched */
    if (!st)
        st = sync_folder(target, err);
    free(tmp);
    free(target);
    return st;
}

void dl_file_discard(FILE *f, const char *path)
{
    bool temp = is_temporary(f, path);
    fclose(f);
    char *target = temp ? output_target(path) : NULL, *tmp = target ? temp_name(target) : NULL;
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(target);
}

dl_status dl_file_write(const char *path, const void *buf, size_t len, dl_err *err)
{
    FILE *f = dl_file_create(path, err);
    if (!f)
        return err ? err->code : DL_EIO;
    if (len && fwrite(buf, 1, len, f) != len) {
        dl_status st = write_errno(err, errno ? errno : EIO, "cannot write", path);
        dl_file_discard(f, path);
        return st;
    }
    return dl_file_commit(f, path, err);
}

dl_status dl_mkdir_p(const char *path, dl_err *err)
{
    char *p = strdup(path);
    if (!p)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    dl_status st = DL_OK;
    for (char *s = p + 1; st == DL_OK; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            st = dl_err_set(err, DL_EIO, "%s: cannot create folder: %s", p, strerror(errno));
        *s = c;
        if (!c)
            break;
    }
    free(p);
    return st;
}
