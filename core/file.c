/* file: whole-file reads; see file.h. One reader for core/io and core/data, which may not
 * include each other. */
#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

dl_status dl_file_read(const char *path, size_t max_bytes, const char *kind, void **buf, size_t *len, dl_err *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dl_err_set(err, errno == ENOENT ? DL_ENOTFOUND : DL_EIO, "%s: cannot open: %s", path, strerror(errno));
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
        return dl_err_set(err, DL_EIO, "%s: read failed: %s", path, had_error ? strerror(e) : "file shrank");
    }
    fclose(f);
    *buf = b;
    *len = n;
    return DL_OK;
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
