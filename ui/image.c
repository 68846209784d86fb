/* image: half-block image previews (see image.h). */
#include "ui/image.h"

#include "ui/colors.h"

uint32_t dl_image_sample(const dl_ui_image *img, int ox, int oy, int ow, int oh)
{
    /* Box filter over the source pixels covered by this output pixel (at least one). */
    int x0 = (int)((long)ox * img->w / ow), x1 = (int)((long)(ox + 1) * img->w / ow);
    int y0 = (int)((long)oy * img->h / oh), y1 = (int)((long)(oy + 1) * img->h / oh);
    if (x1 <= x0)
        x1 = x0 + 1;
    if (y1 <= y0)
        y1 = y0 + 1;
    long sum[3] = {0, 0, 0}, cnt = 0;
    for (int y = y0; y < y1 && y < img->h; y++)
        for (int x = x0; x < x1 && x < img->w; x++) {
            const uint8_t *p = img->pix + ((long)y * img->w + x) * img->channels;
            for (int c = 0; c < 3; c++)
                sum[c] += p[img->channels == 1 ? 0 : c];
            cnt++;
        }
    if (cnt == 0)
        return 0;
    return (uint32_t)((sum[0] + cnt / 2) / cnt) << 16 | (uint32_t)((sum[1] + cnt / 2) / cnt) << 8 |
           (uint32_t)((sum[2] + cnt / 2) / cnt);
}

int dl_image_draw(dl_grid *g, dl_rect r, const dl_ui_image *img, const char *label, int label_role,
                  int ascii)
{
    if (!img || !img->pix || img->w <= 0 || img->h <= 0 ||
        (img->channels != 1 && img->channels != 3))
        return -1;
    int rows = label ? r.h - 1 : r.h;
    if (r.w < 1 || rows < 1)
        return 0;
    /* Output pixels: one per column, two per row; fit keeping aspect. */
    int ow = r.w, oh = (int)((long)ow * img->h / img->w);
    if (oh > rows * 2) {
        oh = rows * 2;
        ow = (int)((long)oh * img->w / img->h);
    }
    if (ow < 1)
        ow = 1;
    if (oh < 1)
        oh = 1;
    static const char shades[] = " .:-=+*#%@";
    for (int cy = 0; cy * 2 < oh; cy++)
        for (int cx = 0; cx < ow; cx++) {
            uint32_t top = dl_image_sample(img, cx, cy * 2, ow, oh);
            int has_bottom = cy * 2 + 1 < oh;
            uint32_t bot = has_bottom ? dl_image_sample(img, cx, cy * 2 + 1, ow, oh) : 0;
            dl_cell *c = dl_grid_at(g, r.x + cx, r.y + cy);
            if (!c)
                continue;
            if (ascii) {
                int l =
                    has_bottom ? (dl_color_luma(top) + dl_color_luma(bot)) / 2 : dl_color_luma(top);
                *c = (dl_cell){.ch = (uint32_t)shades[l * 10 / 256]};
            } else {
                *c = (dl_cell){.ch = 0x2580,
                               .attr = DL_ATTR_RGB_FG | (has_bottom ? DL_ATTR_RGB_BG : 0),
                               .fg = top,
                               .bg = bot};
            }
        }
    if (label) {
        int ly = r.y + (oh + 1) / 2;
        dl_grid_text(g, r.x, ly, r.w, label_role, 0, label);
    }
    return ow;
}
