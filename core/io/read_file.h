/* read_file: reads a whole file into memory for the weight-file parsers, which all work on an
 * in-memory image so that every bounds check is against one known length (core/file.h, uncapped).
 * Refuses folders and files it cannot open; a missing file is DL_ENOTFOUND, other failures DL_EIO
 * with errno text. */
#ifndef DL_IO_READ_FILE_H
#define DL_IO_READ_FILE_H

#include <stddef.h>

#include "core/err.h"
#include "core/tensor_map.h"

/* On success *buf is malloc'd (free with free) and holds *len bytes. */
dl_status dl_io_read_file(const char *path, void **buf, size_t *len, dl_err *err);
/* A weight-file parser: the image buf[len] (name for messages) into out. */
typedef dl_status (*dl_io_parse_fn)(const void *buf, size_t len, const char *name, dl_tensor_map *out, dl_err *err);
/* Reads path and parses it with parse (the path names the file in messages), freeing the image. */
dl_status dl_io_read_parse(const char *path, dl_io_parse_fn parse, dl_tensor_map *out, dl_err *err);

#endif
