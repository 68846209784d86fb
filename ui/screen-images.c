/* screen-images: a page of images drawn with half blocks (ui/image), each with a label line under
 * it: `dllab show-batch` (class names) and the top-losses view (actual/predicted/loss/prob). The
 * tile size is chosen so a page holds about a dozen images at the terminal's size; Left/Right
 * page through. Images and labels are copied, so callers may free theirs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/image.h"
#include "ui/screens.h"

typedef struct images_state {
    char title[128];
    int n;
    dl_ui_image *img;
    char **label;
    int page, per_page;
} images_state;

/* Tile width in cells for a grid of `want` images inside cols x rows (image h = w/2 rows for
 * square pictures, plus a label row and a gap). */
static int tile_width(int cols, int rows, int want, int *ncols, int *nrows)
{
    for (int w = 32; w >= 6; w -= 2) {
        int nc = cols / (w + 2), nr = rows / (w / 2 + 2);
        if (nc * nr >= want || w == 6) {
            *ncols = nc > 0 ? nc : 1;
            *nrows = nr > 0 ? nr : 1;
            return w;
        }
    }
    return 6;
}

static void images_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    images_state *st = s->self;
    int nc, nr, want = st->n < 12 ? st->n : 12;
    int w = tile_width(g->cols, g->rows - 2, want > 0 ? want : 1, &nc, &nr);
    st->per_page = nc * nr;
    int pages = (st->n + st->per_page - 1) / st->per_page;
    if (st->page >= pages)
        st->page = pages > 0 ? pages - 1 : 0;
    dl_grid_textf(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD, "%s  (page %d/%d, %d images)",
                  st->title, st->page + 1, pages > 0 ? pages : 1, st->n);
    int first = st->page * st->per_page;
    for (int t = 0; t < st->per_page && first + t < st->n; t++) {
        int i = first + t, cx = (t % nc) * (w + 2), cy = 1 + (t / nc) * (w / 2 + 2);
        /* Without colour half blocks carry no picture: shades do. */
        dl_image_draw(g, (dl_rect){cx, cy, w, w / 2 + 1}, &st->img[i], st->label[i],
                      DL_ROLE_DEFAULT, env->ascii || env->depth == DL_COLOR_MONO);
    }
    dl_draw_keybar(g, (dl_rect){0, g->rows - 1, g->cols, 1}, DL_SCR_IMAGES);
}

static int images_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    images_state *st = s->self;
    (void)key;
    (void)app;
    int pages = st->per_page > 0 ? (st->n + st->per_page - 1) / st->per_page : 1;
    switch (a) {
    case DL_ACT_PAGE_NEXT:
    case DL_ACT_DOWN:
        if (st->page + 1 < pages)
            st->page++;
        return DL_R_REDRAW;
    case DL_ACT_PAGE_PREV:
    case DL_ACT_UP:
        if (st->page > 0)
            st->page--;
        return DL_R_REDRAW;
    default:
        return DL_R_UNHANDLED;
    }
}

static void images_close(dl_screen *s)
{
    images_state *st = s->self;
    for (int i = 0; i < st->n; i++) {
        free((void *)st->img[i].pix);
        free(st->label[i]);
    }
    free(st->img);
    free(st->label);
    free(st);
}

dl_status dl_screen_images(dl_screen *out, const char *title, const dl_ui_image *img,
                           const char *const *labels, int n, dl_err *err)
{
    if (n < 0 || (n > 0 && !img))
        return dl_err_set(err, DL_EINVAL, "images screen: %d images", n);
    for (int i = 0; i < n; i++)
        if (!img[i].pix || img[i].w <= 0 || img[i].h <= 0 ||
            (img[i].channels != 1 && img[i].channels != 3))
            return dl_err_set(err, DL_EINVAL, "image %d: %dx%d with %d channels (need 1 or 3)", i,
                              img[i].w, img[i].h, img[i].channels);
    images_state *st = calloc(1, sizeof *st);
    if (!st)
        return dl_err_set(err, DL_ENOMEM, "no memory for the images screen");
    snprintf(st->title, sizeof st->title, "%s", title ? title : "images");
    st->img = calloc((size_t)(n ? n : 1), sizeof *st->img);
    st->label = calloc((size_t)(n ? n : 1), sizeof *st->label);
    if (!st->img || !st->label) {
        free(st->img);
        free(st->label);
        free(st);
        return dl_err_set(err, DL_ENOMEM, "no memory for %d images", n);
    }
    dl_screen tmp = {.self = st};
    for (int i = 0; i < n; i++) {
        size_t bytes = (size_t)img[i].w * img[i].h * img[i].channels;
        uint8_t *p = malloc(bytes);
        char *l = strdup(labels && labels[i] ? labels[i] : "");
        if (!p || !l) {
            free(p);
            free(l);
            st->n = i;
            images_close(&tmp);
            return dl_err_set(err, DL_ENOMEM, "no memory for image %d", i);
        }
        memcpy(p, img[i].pix, bytes);
        st->img[i] = img[i];
        st->img[i].pix = p;
        st->label[i] = l;
    }
    st->n = n;
    *out = (dl_screen){.name = "images",
                       .id = DL_SCR_IMAGES,
                       .self = st,
                       .draw = images_draw,
                       .key = images_key,
                       .close = images_close};
    return DL_OK;
}
