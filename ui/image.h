/* image: terminal previews of images. A uint8 image (grey or RGB, HWC) is scaled into a cell
 * rectangle, keeping its aspect ratio, with two pixels per cell: the upper half block U+2580 in
 * the top pixel's colour over a background of the bottom pixel's colour (cells carry RGB;
 * ui/term turns it into true colour or the nearest of 256). In ASCII mode each cell shows a
 * shade from " .:-=+*#%@" for the mean luma of its two pixels. A label line is written under the
 * picture. Refuses (returns -1) a NULL image, channels other than 1 or 3, or a non-positive
 * size; a rectangle smaller than 1x2 draws nothing. */
#ifndef DL_UI_IMAGE_H
#define DL_UI_IMAGE_H

#include <stdint.h>

#include "ui/grid.h"

typedef struct dl_ui_image {
    const uint8_t *pix; /* h x w x channels, row-major */
    int w, h, channels;
} dl_ui_image;

/* Draws img into r (last row reserved for label, which may be NULL). Returns the number of
 * cell columns the picture took, or -1 for a bad image. */
int dl_image_draw(dl_grid *g, dl_rect r, const dl_ui_image *img, const char *label, int label_role,
                  int ascii);
/* The RGB of the box-averaged source region behind output pixel (ox, oy) of an ow x oh scaled
 * image. */
uint32_t dl_image_sample(const dl_ui_image *img, int ox, int oy, int ow, int oh);

#endif
