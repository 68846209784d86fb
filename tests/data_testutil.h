/* data_testutil: helpers of the data suites — synthetic images written with TurboJPEG and
 * libpng, text files, folders. Patterns are functions of (x, y, channel) so a test can predict
 * every pixel. */
#ifndef DL_DATA_TESTUTIL_H
#define DL_DATA_TESTUTIL_H

#include <stdint.h>

#include "core/data/internal.h"

/* A w x h x c image whose pixel (x, y, ch) is f(x, y, ch, seed). */
typedef uint8_t (*du_pattern)(int x, int y, int ch, int seed);
dl_img du_image(int w, int h, int c, du_pattern f, int seed);
uint8_t du_smooth(int x, int y, int ch, int seed);  /* gentle gradients (JPEG-friendly) */
uint8_t du_columns(int x, int y, int ch, int seed); /* value = x (mod 256) */
uint8_t du_rows(int x, int y, int ch, int seed);    /* value = y (mod 256) */
/* Writes dir/rel (folders created) as JPEG (quality 95) or PNG depending on the extension. */
void du_write_image(const char *dir, const char *rel, int w, int h, int c, du_pattern f, int seed);
void du_write_text(const char *dir, const char *rel, const char *text);
/* A folder-per-class tree: classes[k] gets per_class JPEGs of 40x30. */
void du_class_tree(const char *dir, const char *prefix, const char *const *classes, int n_classes,
                   int per_class);

#endif
