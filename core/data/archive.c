/* data/archive: DATA given as a .tgz/.tar.gz/.tar/.zip (as users download pets or VOC) is
 * extracted once with libarchive into <cache>/<name>-<size>-<mtime>/ and then read as a folder.
 * A marker file written last makes a half-finished extraction (crash, disk full) start again.
 * Refuses: damaged archives (the libarchive message, with the archive's name), absolute paths and
 * ".." components (an archive may not write outside its folder), links and special files. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/data/internal.h"
#include "core/file.h"

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

static bool safe_name(const char *name)
{
    if (name[0] == '/')
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

static dl_status extract(const char *archive_path, const char *dir, dl_err *err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    dl_status st = DL_OK;
    if (archive_read_open_filename(a, archive_path, 1 << 16) != ARCHIVE_OK) {
        st = dl_err_set(err, DL_EFORMAT, "%s: damaged archive (cannot read it): %s", archive_path, archive_error_string(a));
        archive_read_free(a);
        return st;
    }
    struct archive_entry *e;
    char path[PATH_MAX];
    size_t files = 0;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (!name || !safe_name(name)) {
            st = dl_err_set(err, DL_EFORMAT, "%s: entry '%s' would be written outside the folder", archive_path,
                            name ? name : "(no name)");
            break;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        mode_t type = archive_entry_filetype(e);
        if (type == AE_IFDIR) {
            if ((st = dl_mkdirs(path, err)))
                break;
            continue;
        }
        if (type != AE_IFREG)
            continue; /* links and devices are not images */
        char *slash = strrchr(path, '/');
        *slash = 0;
        if ((st = dl_mkdirs(path, err)))
            break;
        *slash = '/';
        FILE *f = fopen(path, "wb");
        if (!f) {
            st = dl_err_set(err, DL_EIO, "%s: cannot write: %s", path, strerror(errno));
            break;
        }
        const void *buf;
        size_t size;
        la_int64_t off;
        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
            if (fwrite(buf, 1, size, f) != size) {
                r = ARCHIVE_FATAL;
                break;
            }
        if (fclose(f) != 0 && r == ARCHIVE_EOF)
            r = ARCHIVE_FATAL;
        if (r != ARCHIVE_EOF) {
            st = dl_err_set(err, DL_EFORMAT, "%s: damaged archive at '%s': %s", archive_path, name,
                            archive_error_string(a) ? archive_error_string(a) : strerror(errno));
            break;
        }
        files++;
    }
    if (!st && r != ARCHIVE_EOF)
        st = dl_err_set(err, DL_EFORMAT, "%s: damaged archive: %s", archive_path, archive_error_string(a));
    if (!st && files == 0)
        st = dl_err_set(err, DL_EFORMAT, "%s: the archive holds no files", archive_path);
    archive_read_free(a);
    return st;
}

dl_status dl_archive_extract(const char *archive, const char *cache_dir, char *out_dir, size_t cap, dl_err *err)
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
    snprintf(out_dir, cap, "%s/archives/%s-%lld-%lld", cache_dir, name, (long long)sb.st_size, (long long)sb.st_mtime);
    char marker[PATH_MAX];
    snprintf(marker, sizeof marker, "%s/.dllab-extracted", out_dir);
    if (stat(marker, &sb) != 0) {
        dl_status st = dl_mkdirs(out_dir, err);
        if (!st)
            st = extract(archive, out_dir, err);
        if (st)
            return st;
        if ((st = dl_file_write(marker, "", 0, err))) /* core/file.h: never over a device */
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
        if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            snprintf(out_dir, cap, "%s", sub);
    }
    return DL_OK;
}
