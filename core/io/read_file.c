/* read_file: whole-file reads for the weight-file parsers; see read_file.h. */
#include "core/io/read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

dl_status dl_io_read_file(const char *path, void **buf, size_t *len, dl_err *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dl_err_set(err, errno == ENOENT ? DL_ENOTFOUND : DL_EIO, "cannot open %s: %s", path,
                          strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return dl_err_set(err, DL_EIO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size;
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

dl_status dl_io_read_parse(const char *path, dl_io_parse_fn parse, dl_tensor_map *out, dl_err *err)
{
    void *buf;
    size_t len;
    dl_status st = dl_io_read_file(path, &buf, &len, err);
    if (st != DL_OK)
        return st;
    st = parse(buf, len, path, out, err);
    free(buf);
    return st;
}
