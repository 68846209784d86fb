/* read_file: whole-file reads for the weight-file parsers (core/file.c reads); see read_file.h. */
#include "core/io/read_file.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/file.h"

dl_status dl_io_read_file(const char *path, void **buf, size_t *len, dl_err *err)
{
    return dl_file_read(path, SIZE_MAX, "a weight file", buf, len, err); /* no cap: ResNet-50 alone is 100 MB */
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
