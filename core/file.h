/* file: makes folders (mkdir -p) and reads a whole file into memory for the parsers that work on an
 * in-memory image (weight files, images, CSV tables), so that every bounds check is against one
 * known length. Refuses folders and other non-regular files, and files over the caller's size cap.
 * Messages start with the path, so a caller listing skipped files can strip it. */
#ifndef DL_FILE_H
#define DL_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

/* On success *buf is malloc'd (free with free) and holds *len bytes. A missing file is
 * DL_ENOTFOUND; one over max_bytes DL_EFORMAT ("PATH: N MiB is too large for KIND", e.g. kind
 * "an image file"); other failures DL_EIO with the errno text. */
dl_status dl_file_read(const char *path, size_t max_bytes, const char *kind, void **buf,
                       size_t *len, dl_err *err);

/* ---- outputs: every file dllab writes goes through these ----
 * A missing path or a regular file (or a symlink to one) is written as "TARGET.tmp.PID" next to
 * it and renamed over it on commit, so a failed write leaves the previous file whole. An existing
 * character or block device or FIFO (/dev/null, /dev/stdout, a named pipe) is opened and written
 * in place: renaming over it would replace the device node with a regular file (it once turned a
 * root user's /dev/null into a 46 MB file). A directory, a symlink to one, a socket are refused
 * with a message naming the path. A FIFO blocks until a reader opens it, as any writer would. */
FILE *dl_file_create(const char *path, dl_err *err);
/* Flushes and closes f (from dl_file_create for the same path); a temporary is also fsync'd,
 * renamed over the path and its folder fsync'd. On failure a temporary is removed, the path is
 * untouched, and the error (DL_ENOSPC when the disk is full, else DL_EIO) names the path. */
dl_status dl_file_commit(FILE *f, const char *path, dl_err *err);
/* Closes f without committing it: a temporary is removed. */
void dl_file_discard(FILE *f, const char *path);
/* dl_file_create + one write of len bytes + dl_file_commit. */
dl_status dl_file_write(const char *path, const void *buf, size_t len, dl_err *err);
/* mkdir -p: path and every missing parent, mode 0777 less the umask (one mode for every folder
 * dllab makes). DL_EIO "PATH: cannot create folder: reason" naming the part that failed. */
dl_status dl_mkdir_p(const char *path, dl_err *err);

#endif
