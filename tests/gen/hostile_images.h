/* hostile_images: crafted JPEG and PNG files for the image readers' regression tests
 * (tests/check_data_exif.c) and the seeds of tests/fuzz/seeds/image (tests/gen/mkimages.c).
 * Every file is made in memory from a small real image, then its EXIF block or header patched. */
#ifndef DL_HOSTILE_IMAGES_H
#define DL_HOSTILE_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hi_kind {
    HI_GOOD,      /* a valid image (with a valid EXIF orientation when it is a JPEG) */
    HI_BAD_EXIF,  /* a decodable JPEG whose EXIF block is malformed: read with orientation 1 + a
                     warning */
    HI_TOO_LARGE, /* a header claiming dimensions beyond the limits: refused naming the file */
    HI_TOO_WIDE,  /* a valid 1 x 65500 strip: readable, but refused by a data set resizing it (crop
                   * at 64 px would make it 64 x 4 192 000) */
} hi_kind;

typedef struct hi_file {
    char name[64];
    uint8_t *buf; /* malloc'd */
    size_t n;
    hi_kind kind;
    int w, h;        /* stored size (before orientation) */
    int orientation; /* what a correct reader reports: 1..8 */
} hi_file;

/* Fills out[0..cap) and returns the number of files (at most HI_MAX). */
#define HI_MAX 40
size_t hi_make_all(hi_file *out, size_t cap);
void hi_free_all(hi_file *f, size_t n);

#endif
