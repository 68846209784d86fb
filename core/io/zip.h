/* zip: a read-only zip reader over an in-memory archive, driven by the central directory (the
 * local headers of torch.save archives carry zero sizes). ZIP64 aware. Refuses: archives without
 * an end-of-central-directory record, a central directory or entry outside the file, entries that
 * overlap each other or the central directory, encrypted entries, methods other than stored (0) and
 * deflated (8), stored entries whose two sizes disagree, deflated entries that inflate to more or
 * less than their declared size or above the caller's cap (zip bombs), and CRC mismatches (except
 * a stored CRC of 0, which newer torch writes when CRCs are switched off). */
#ifndef DL_IO_ZIP_H
#define DL_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct dl_zip_entry {
    char *name;            /* NUL-terminated copy */
    uint64_t data_offset;  /* start of the (compressed) data in the archive */
    uint64_t csize, usize; /* compressed and uncompressed sizes from the central directory */
    uint32_t crc;
    uint16_t method; /* 0 stored, 8 deflated */
} dl_zip_entry;

typedef struct dl_zip {
    const unsigned char *buf; /* the archive image (not owned) */
    size_t len;
    const char *name; /* used in messages (not owned) */
    dl_zip_entry *entries;
    size_t n;
} dl_zip;

/* True when buf starts like a zip archive (a local file header). */
int dl_zip_sniff(const void *buf, size_t len);
/* Reads the central directory of buf[0..len) and checks every entry against the file size. */
dl_status dl_zip_open(dl_zip *z, const void *buf, size_t len, const char *name, dl_err *err);
void dl_zip_close(dl_zip *z);
const dl_zip_entry *dl_zip_find(const dl_zip *z, const char *name);
/* Gives the uncompressed bytes of e: a pointer into the archive for stored entries (*owned = NULL),
 * or a malloc'd buffer for deflated ones (*owned = that buffer, to free). Entries whose declared
 * size exceeds max_bytes are refused before any inflating. The CRC is checked. */
dl_status dl_zip_extract(const dl_zip *z, const dl_zip_entry *e, uint64_t max_bytes,
                         const unsigned char **data, void **owned, dl_err *err);

#endif
