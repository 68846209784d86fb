/* data/archive: DATA given as a .tgz/.tar.gz/.tar/.zip (as users download pets or VOC) is
 * extracted once with libarchive into <cache>/archives/<name>-<size>-<mtime>/ and then read as a
 * folder. Extraction happens in a sibling "<dir>.part.<pid>" folder that is renamed into place
 * once complete (with a marker file inside), so a crash or a full disk never leaves a half
 * extraction that looks finished; a failed extraction is removed, and stale ".part" folders of
 * dead processes are removed by the next extraction.
 * Members that may not be written are named (dl_log warnings) and skipped, never followed:
 * absolute paths and ".." components (they would land outside the folder), symbolic and hard
 * links, devices, FIFOs and sockets, duplicate names (the first copy is kept), and a member larger
 * than lim->member_max (no image we could decode is that big; a "zip bomb" member is). The whole
 * extraction may not exceed lim->total_max bytes: past that it stops with an error. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/internal.h"
#include "core/file.h"
#include "core/log.h"

/* Warnings name this many skipped members, then give the count of the others. */
enum { SKIPS_NAMED = 20 };

bool dl_is_archive_name(const char *p)
{
    static const char *ext[] = {".tgz", ".tar.gz", ".tar", ".zip", ".tar.xz", ".tar.bz2"};
    size_t n = strlen(p);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(p + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

void dl_archive_limits_default(uint64_t archive_size, dl_archive_limits *lim)
{
    lim->member_max = 1ull << 30;
    /* Images barely compress (JPEG, PNG): 100x the archive is far beyond any real dataset, and
     * small archives still get 4 GiB. */
    uint64_t by_ratio = archive_size > UINT64_MAX / 100 ? UINT64_MAX : archive_size * 100;
    lim->total_max = by_ratio > (4ull << 30) ? by_ratio : 4ull << 30;
}

static bool safe_name(const char *name)
{
    if (name[0] == '/' || name[0] == 0)
        return false;
    for (const char *p = name; *p;) {
        const char *q = strchr(p, '/');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return false;
        if (!q)
            break;
        p = q + 1;
    }
    return true;
}

/* A member's name as it can be printed: control bytes become \xNN (a hostile archive may carry
 * terminal escape sequences in its names). */
static void printable(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = 0;
}

typedef struct extraction {
    const char *archive;
    const dl_archive_limits *lim;
    uint64_t total;
    size_t files, skipped;
} extraction;

static void skip(extraction *x, const char *name, const char *why)
{
    char shown[600];
    printable(name ? name : "(no name)", shown, sizeof shown);
    if (x->skipped++ < SKIPS_NAMED)
        dl_log(DL_LOG_WARN, "%s: member '%s' skipped: %s", x->archive, shown, why);
}

/* Why the member may not be written (NULL: it may). */
static const char *refusal(struct archive_entry *e, const char *name, const dl_archive_limits *lim)
{
    if (!name || !safe_name(name))
        return name && name[0] == '/' ? "absolute path (would be written outside the folder)"
                                      : "'..' in its path (would be written outside the folder)";
    if (archive_entry_hardlink(e))
        return "hard link";
    switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
    case AE_IFREG:
        break;
    case AE_IFLNK:
        return "symbolic link";
    case AE_IFCHR:
    case AE_IFBLK:
        return "device file";
    case AE_IFIFO:
        return "FIFO";
    case AE_IFSOCK:
        return "socket";
    default:
        return "not a regular file";
    }
    if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > lim->member_max)
        return "larger than the member limit (a decompression bomb?)";
    return NULL;
}

/* Writes the current member's data to a new file; returns DL_OK, or an error that stops the
 * extraction. A member that turns out too large is removed and skipped. */
static dl_status write_member(struct archive *a, struct archive_entry *e, extraction *x,
                              const char *name, const char *path, dl_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST || errno == EISDIR || errno == ENOTDIR || errno == ELOOP) {
            skip(x, name, "duplicate name (the first copy is kept)");
            return DL_OK;
        }
        return dl_err_set(err, DL_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    const void *buf;
    size_t size;
    la_int64_t off;
    uint64_t end = 0;
    int r;
    dl_status st = DL_OK;
    const char *too_big = NULL;
    while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
        if (size == 0)
            continue; /* libarchive may hand an empty block with buf == NULL */
        if (off < 0 || (uint64_t)off + size > x->lim->member_max) {
            too_big = "expands beyond the member limit (a decompression bomb?)";
            break;
        }
        if ((uint64_t)off + size > end) {
            x->total += (uint64_t)off + size - end;
            end = (uint64_t)off + size;
        }
        if (x->total > x->lim->total_max) {
            st = dl_err_set(
                err, DL_EFORMAT,
                "%s: expands to more than %llu MB (at '%s'); refusing it (a decompression bomb?)",
                x->archive, (unsigned long long)(x->lim->total_max >> 20), name);
            break;
        }
        /* pwrite at the block's offset: sparse members come as blocks with holes between. */
        const char *p = buf;
        size_t left = size;
        while (left) {
            ssize_t w = pwrite(fd, p, left, off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                st = dl_err_set(err, DL_EIO, "%s: cannot write: %s", path,
                                w < 0 ? strerror(errno) : "short write");
                break;
            }
            p += w;
            off += w;
            left -= (size_t)w;
        }
        if (st)
            break;
    }
    /* A sparse member may end in a hole: its size is the declared one. */
    if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > end &&
        (uint64_t)archive_entry_size(e) <= x->lim->member_max)
        end = (uint64_t)archive_entry_size(e);
    if (!st && !too_big && r == ARCHIVE_EOF && end > 0 && ftruncate(fd, (off_t)end) != 0)
        st = dl_err_set(err, DL_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (close(fd) != 0 && !st && !too_big)
        st = dl_err_set(err, DL_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (st)
        return st;
    if (too_big) {
        unlink(path);
        skip(x, name, too_big);
        return DL_OK;
    }
    if (r != ARCHIVE_EOF) {
        const char *why = archive_error_string(a);
        return dl_err_set(err, DL_EFORMAT, "%s: damaged archive at '%s': %s", x->archive, name,
                          why ? why : "unreadable data");
    }
    x->files++;
    return DL_OK;
}

static dl_status extract(const char *archive_path, const char *dir, const dl_archive_limits *lim,
                         dl_err *err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    dl_status st = DL_OK;
    if (archive_read_open_filename(a, archive_path, 1 << 16) != ARCHIVE_OK) {
        st = dl_err_set(err, DL_EFORMAT, "%s: damaged archive (cannot read it): %s", archive_path,
                        archive_error_string(a));
        archive_read_free(a);
        return st;
    }
    extraction x = {.archive = archive_path, .lim = lim};
    struct archive_entry *e;
    char path[PATH_MAX];
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(e);
        const char *why = refusal(e, name, lim);
        if (why) {
            skip(&x, name, why);
            continue; /* libarchive skips the member's data on the next header */
        }
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
            skip(&x, name, "name too long");
            continue;
        }
        if (archive_entry_filetype(e) == AE_IFDIR) {
            if ((st = dl_mkdirs(path, err)))
                break;
            continue;
        }
        char *slash = strrchr(path, '/');
        *slash = 0;
        if ((st = dl_mkdirs(path, err)))
            break;
        *slash = '/';
        if ((st = write_member(a, e, &x, name, path, err)))
            break;
    }
    if (!st && r != ARCHIVE_EOF && r != ARCHIVE_OK && r != ARCHIVE_WARN)
        st = dl_err_set(err, DL_EFORMAT, "%s: damaged archive: %s", archive_path,
                        archive_error_string(a));
    if (!st && x.skipped > SKIPS_NAMED)
        dl_log(DL_LOG_WARN, "%s: %zu more members skipped", archive_path, x.skipped - SKIPS_NAMED);
    if (!st && x.files == 0)
        st = dl_err_set(err, DL_EFORMAT, "%s: the archive holds no files%s", archive_path,
                        x.skipped ? " that may be extracted" : "");
    archive_read_free(a);
    return st;
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes a folder and everything in it, never following a symbolic link. */
static void remove_tree(const char *dir) { nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Removes "<out_dir>.part.<pid>" folders left by extractions whose process is gone. */
static void remove_stale_parts(const char *out_dir)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", out_dir);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return;
    *slash = 0;
    const char *base = slash + 1;
    size_t bl = strlen(base);
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, base, bl) != 0 || strncmp(de->d_name + bl, ".part.", 6) != 0)
            continue;
        long pid = strtol(de->d_name + bl + 6, NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* its extraction is still going on */
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", parent, de->d_name) < sizeof p)
            remove_tree(p);
    }
    closedir(d);
}

static bool extracted(const char *dir)
{
    char marker[PATH_MAX + 32];
    struct stat sb;
    snprintf(marker, sizeof marker, "%s/.dllab-extracted", dir);
    return stat(marker, &sb) == 0;
}

/* Extracts into a private folder and renames it into place once complete. */
static dl_status extract_into_place(const char *archive, const char *out_dir,
                                    const dl_archive_limits *lim, dl_err *err)
{
    remove_stale_parts(out_dir);
    char part[PATH_MAX], marker[PATH_MAX + 32];
    if ((size_t)snprintf(part, sizeof part, "%s.part.%ld", out_dir, (long)getpid()) >= sizeof part)
        return dl_err_set(err, DL_EINVAL, "%s: cache path too long", out_dir);
    remove_tree(part);
    dl_status st = dl_mkdirs(part, err);
    if (!st)
        st = extract(archive, part, lim, err);
    if (!st) {
        snprintf(marker, sizeof marker, "%s/.dllab-extracted", part);
        FILE *f = fopen(marker, "w");
        if (!f || fclose(f) != 0)
            st = dl_err_set(err, DL_EIO, "%s: cannot write: %s", marker, strerror(errno));
    }
    if (!st) {
        /* A folder without the marker is an extraction of an older dllab that did not finish. */
        if (!extracted(out_dir))
            remove_tree(out_dir);
        if (rename(part, out_dir) != 0 && !extracted(out_dir)) /* else: another process won */
            st = dl_err_set(err, DL_EIO, "%s: cannot rename into place: %s", out_dir,
                            strerror(errno));
    }
    remove_tree(part); /* the failed or the redundant extraction */
    return st;
}

dl_status dl_archive_extract_limited(const char *archive, const char *cache_dir,
                                     const dl_archive_limits *lim, char *out_dir, size_t cap,
                                     dl_err *err)
{
    struct stat sb;
    if (stat(archive, &sb) != 0)
        return dl_err_set(err, DL_ENOTFOUND, "%s: %s", archive, strerror(errno));
    const char *base = strrchr(archive, '/');
    base = base ? base + 1 : archive;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strchr(name, '.');
    if (dot && dot != name)
        *dot = 0;
    dl_archive_limits def;
    if (!lim) {
        dl_archive_limits_default((uint64_t)sb.st_size, &def);
        lim = &def;
    }
    snprintf(out_dir, cap, "%s/archives/%s-%lld-%lld", cache_dir, name, (long long)sb.st_size,
             (long long)sb.st_mtime);
    if (!extracted(out_dir)) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s/archives", cache_dir);
        dl_status st = dl_mkdirs(parent, err);
        if (!st)
            st = extract_into_place(archive, out_dir, lim, err);
        if (st)
            return st;
    }
    /* A single top-level folder (pets.tgz -> oxford-iiit-pet/...) is the data root. */
    DIR *d = opendir(out_dir);
    if (!d)
        return dl_err_set(err, DL_EIO, "%s: %s", out_dir, strerror(errno));
    struct dirent *de;
    int entries = 0;
    char only[256] = "";
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        entries++;
        snprintf(only, sizeof only, "%s", de->d_name);
    }
    closedir(d);
    if (entries == 1) {
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", out_dir, only);
        if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            snprintf(out_dir, cap, "%s", sub);
    }
    return DL_OK;
}

dl_status dl_archive_extract(const char *archive, const char *cache_dir, char *out_dir, size_t cap,
                             dl_err *err)
{
    return dl_archive_extract_limited(archive, cache_dir, NULL, out_dir, cap, err);
}
