/* read_file: whole-file reads for the weight-file parsers (core/file.c reads); see read_file.h. */
#include "core/io/read_file.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/file.h"

dl_status dl_io_read_parse(const char *path, dl_io_parse_fn parse, dl_tensor_map *out, dl_err *err)
{
    void *buf;
    size_t len;
    dl_status st = dl_file_read(path, SIZE_MAX, "a weight file", &buf, &len, err);
    if (st != DL_OK)
        return st;
    st = parse(buf, len, path, out, err);
    free(buf);
    return st;
}
