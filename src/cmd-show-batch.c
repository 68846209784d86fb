/* cmd-show-batch: `dllab show-batch DATA [data options] [--valid] [-n N] [--ascii] [--no-color]`
 * shows a batch as the loader makes it (augmented training items by default, fastai's
 * show_batch), each image with its label(s), drawn in the terminal with half blocks. Without a
 * terminal (or --no-tui) it prints the same page as ASCII shades, so it also works in a pipe.
 * Data options are `dllab train`'s. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/data.h"
#include "src/commands.h"
#include "src/train-setup.h"
#include "ui/app.h"
#include "ui/ui.h"

#define SYNOPSIS                                                                                   \
    "usage: dllab show-batch DATA [options] [--valid] [-n N] [--ascii] [--no-color] "              \
    "[--no-tui]\n\n"                                                                               \
    "Shows N images of a batch (default 12) with their labels: training items with their\n"        \
    "augmentation, or --valid items. Left/Right page, q quits. --ascii, --no-color: plain ASCII "  \
    "/\n"                                                                                          \
    "no colours on the screen.\n\n"

/* The loader's normalised CHW floats back to HWC bytes. */
static void to_bytes(const float *chw, int c, int h, int w, const dl_image_prep *prep, uint8_t *out)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                float v = chw[((size_t)k * h + y) * w + x] * prep->std[k] + prep->mean[k];
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                out[((size_t)y * w + x) * c + k] = (uint8_t)lrintf(v * 255.0f);
            }
}

static void label_of(const dl_dataset *ds, const dl_batch *b, int i, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (b->targets) {
        snprintf(buf, cap, "%s", dl_data_class_name(ds, b->targets[i]));
        return;
    }
    size_t k = 0;
    for (int c = 0; c < b->n_classes && b->onehot; c++)
        if (b->onehot[(size_t)i * b->n_classes + c] > 0.5f && k < cap) {
            int w = snprintf(buf + k, cap - k, "%s%s", k ? ";" : "", dl_data_class_name(ds, c));
            k += w > 0 ? (size_t)w : 0;
        }
}

int cmd_show_batch(int argc, char **argv)
{
    dl_ui_opts opts;
    dl_ui_opts_take(&opts, &argc, argv);
    dl_run_cfg a;
    const char *data;
    int n_pos;
    int rc = dl_cli_cfg_parse(&a, "show-batch", SYNOPSIS, argc, argv, &data, 1, &n_pos);
    if (rc >= 0)
        return rc;
    if (n_pos != 1) {
        fprintf(stderr, "dllab show-batch: missing DATA\n");
        return DL_EXIT_USAGE;
    }
    if ((rc = dl_cli_set_data(&a, "show-batch", data)) >= 0)
        return rc;
    int n_show = a.show_n;
    bool valid = a.show_valid;
    dl_data_config dc;
    dl_run_cfg_data(&a, &dc);
    dl_err err = {0};
    dl_dataset *ds;
    if (dl_data_open(&dc, &ds, &err) != DL_OK) {
        fprintf(stderr, "dllab show-batch: %s\n", err.msg);
        return DL_EXIT_FAIL;
    }
    dl_loader *ld;
    if (dl_loader_create(ds, valid ? DL_SPLIT_VALID : DL_SPLIT_TRAIN, n_show, !valid, false,
                         (uint64_t)a.seed, 1, &ld, &err) != DL_OK) {
        fprintf(stderr, "dllab show-batch: %s\n", err.msg);
        dl_data_close(ds);
        return DL_EXIT_FAIL;
    }
    dl_batch b;
    rc = DL_EXIT_FAIL;
    if (dl_loader_next(ld, &b, &err) != DL_OK || b.n == 0) {
        fprintf(stderr, "dllab show-batch: %s\n", err.msg[0] ? err.msg : "the split is empty");
        goto out;
    }
    dl_image_prep prep;
    dl_data_prep(ds, &prep);
    dl_ui_image *imgs = calloc((size_t)b.n, sizeof *imgs);
    char **labels = calloc((size_t)b.n, sizeof *labels);
    uint8_t *pix = malloc((size_t)b.n * b.c * b.h * b.w);
    if (!imgs || !labels || !pix) {
        fprintf(stderr, "dllab show-batch: out of memory\n");
        goto free_all;
    }
    for (int i = 0; i < b.n; i++) {
        uint8_t *p = pix + (size_t)i * b.c * b.h * b.w;
        to_bytes(b.images + (size_t)i * b.c * b.h * b.w, b.c, b.h, b.w, &prep, p);
        imgs[i] = (dl_ui_image){p, b.w, b.h, b.c};
        labels[i] = malloc(256);
        if (labels[i])
            label_of(ds, &b, i, labels[i], 256);
    }
    char title[256];
    snprintf(title, sizeof title, "%.200s: %s batch", a.data, valid ? "validation" : "training");
    if (a.no_tui) {
        /* No terminal: every page, drawn in ASCII shades into a grid and printed without the
         * key bar (there are no keys to press) or the blank rows under the pictures. */
        dl_screen s;
        if (dl_screen_images(&s, title, imgs, (const char *const *)labels, b.n, &err) == DL_OK) {
            dl_ui_env env = {1, DL_COLOR_MONO};
            char last_title[512] = "";
            for (int page = 0;; page++) {
                dl_grid *g = dl_grid_new(100, 40);
                if (!g)
                    break;
                s.draw(&s, g, &env);
                char *text = dl_grid_dump(g);
                dl_grid_free(g);
                if (!text)
                    break;
                size_t len = strcspn(text, "\n");
                if (page > 0 && strlen(last_title) == len && strncmp(text, last_title, len) == 0) {
                    free(text); /* the page did not advance: that was the last one */
                    break;
                }
                snprintf(last_title, sizeof last_title, "%.*s", (int)len, text);
                char *end = text + strlen(text);
                while (end > text && (end[-1] == '\n' || end[-1] == ' '))
                    end--;
                while (end > text && end[-1] != '\n') /* the key bar, the last row */
                    end--;
                while (end > text && (end[-1] == '\n' || end[-1] == ' '))
                    end--;
                printf("%s%.*s\n", page > 0 ? "\n" : "", (int)(end - text), text);
                free(text);
                rc = DL_EXIT_OK;
                s.key(&s, DL_ACT_PAGE_NEXT, DL_KEY_RIGHT, NULL);
            }
            s.close(&s);
        }
    } else if (dl_ui_images(title, imgs, (const char *const *)labels, b.n, &opts, &err) == DL_OK) {
        rc = DL_EXIT_OK;
    }
    if (rc != DL_EXIT_OK && err.msg[0])
        fprintf(stderr, "dllab show-batch: %s\n", err.msg);
free_all:
    for (int i = 0; labels && i < b.n; i++)
        free(labels[i]);
    free(labels);
    free(imgs);
    free(pix);
out:
    dl_loader_destroy(ld);
    dl_data_close(ds);
    return rc;
}
