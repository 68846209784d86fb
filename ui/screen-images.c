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

/* Label rows under each image: two when any label has a second line (top losses' captions). */
static int label_rows(const images_state *st)
{
    for (int i = 0; i < st->n; i++)
        if (strchr(st->label[i], '\n'))
            return 2;
    return 1;
}

/* Tile width in cells for a grid of `want` images inside cols x rows (image h = w/2 rows for
 * square pictures, plus the label rows and a gap). */
static int tile_width(int cols, int rows, int want, int lrows, int *ncols, int *nrows)
{
    for (int w = 32; w >= 6; w -= 2) {
        int nc = cols / (w + 2), nr = rows / (w / 2 + 1 + lrows);
        if (nc * nr >= want || w == 6) {
            *ncols = nc > 0 ? nc : 1;
            *nrows = nr > 0 ? nr : 1;
            return w;
        }
    }
    return 6;
}

/* One label line fitted to w cells: "a\x1fb" is two names shown as "a/b", each cut evenly when
 * both do not fit (fastai's "prediction/actual" with long class names); other text is cut at the
 * end by the grid. */
void dl_images_fit_caption(const char *line, size_t len, int w, char *out, size_t cap)
{
    const char *sep = memchr(line, '\x1f', len);
    if (!sep) {
        snprintf(out, cap, "%.*s", (int)len, line);
        return;
    }
    int a = (int)(sep - line), b = (int)(len - (size_t)a - 1);
    int room = w - 1; /* the slash */
    if (a + b > room && room >= 2) {
        int ha = room / 2, hb = room - ha;
        if (a < ha) /* a short name gives its spare cells to the other */
            hb = room - a, ha = a;
        else if (b < hb)
            ha = room - b, hb = b;
        a = a < ha ? a : ha;
        b = b < hb ? b : hb;
        /* a name cut after a separator ("T-shirt/" of "T-shirt/top") would read as two */
        while (a > 1 && strchr("/- _", line[a - 1]))
            a--;
        while (b > 1 && strchr("/- _", sep[b]))
            b--;
    }
    snprintf(out, cap, "%.*s/%.*s", a, line, b, sep + 1);
}

static void draw_label(dl_grid *g, int x, int y, int w, const char *label, int lrows)
{
    char buf[256];
    const char *nl = strchr(label, '\n');
    size_t len = nl ? (size_t)(nl - label) : strlen(label);
    dl_images_fit_caption(label, len, w, buf, sizeof buf);
    dl_grid_text(g, x, y, w, DL_ROLE_DEFAULT, 0, buf);
    if (nl && lrows > 1) {
        dl_images_fit_caption(nl + 1, strlen(nl + 1), w, buf, sizeof buf);
        dl_grid_text(g, x, y + 1, w, DL_ROLE_DIM, 0, buf);
    }
}

static void images_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    images_state *st = s->self;
    int nc, nr, want = st->n < 12 ? st->n : 12, lrows = label_rows(st);
    int w = tile_width(g->cols, g->rows - 2, want > 0 ? want : 1, lrows, &nc, &nr);
    st->per_page = nc * nr;
    int pages = (st->n + st->per_page - 1) / st->per_page;
    if (st->page >= pages)
        st->page = pages > 0 ? pages - 1 : 0;
    dl_grid_textf(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD, "%s  (page %d/%d, %d images)",
                  st->title, st->page + 1, pages > 0 ? pages : 1, st->n);
    int first = st->page * st->per_page;
    for (int t = 0; t < st->per_page && first + t < st->n; t++) {
        int i = first + t, cx = (t % nc) * (w + 2), cy = 1 + (t / nc) * (w / 2 + 1 + lrows);
        /* Without colour half blocks carry no picture: shades do. */
        int ow = dl_image_draw(g, (dl_rect){cx, cy, w, w / 2}, &st->img[i], NULL, DL_ROLE_DEFAULT,
                               env->ascii || env->depth == DL_COLOR_MONO);
        (void)ow;
        draw_label(g, cx, cy + w / 2, w, st->label[i], lrows);
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
