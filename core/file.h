/* file: makes folders (mkdir -p) and reads a whole file into memory for the parsers that work on an in-memory image (weight
 * files, images, CSV tables), so that every bounds check is against one known length. Refuses
 * folders and other non-regular files, and files over the caller's size cap. Messages start with
 * the path, so a caller listing skipped files can strip it. */
#ifndef DL_FILE_H
#define DL_FILE_H

#include <stddef.h>

#include "core/err.h"

/* On success *buf is malloc'd (free with free) and holds *len bytes. A missing file is
 * DL_ENOTFOUND; one over max_bytes DL_EFORMAT ("PATH: N MiB is too large for KIND", e.g. kind
 * "an image file"); other failures DL_EIO with the errno text. */
dl_status dl_file_read(const char *path, size_t max_bytes, const char *kind, void **buf, size_t *len, dl_err *err);

/* mkdir -p: path and every missing parent, mode 0777 less the umask (one mode for every folder
 * dllab makes). DL_EIO "PATH: cannot create folder: reason" naming the part that failed. */
dl_status dl_mkdir_p(const char *path, dl_err *err);

#endif
