/* cmd-data: `dllab data DATA [options]` opens a dataset exactly as training would and prints what a
 * user needs to know first (fastai's DataBlock.summary spirit): the source kind, items per split
 * and per class, the vocabulary, multi-label or not, image sizes seen, normalisation statistics,
 * and every skipped file with its reason. Exit 1 when the data cannot be opened, 2 on bad usage. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/data.h"
#include "core/printable.h"
#include "src/commands.h"
#include "src/train-setup.h"

#define SYNOPSIS                                                                                   \
    "usage: dllab data DATA [options]\n\n"                                                         \
    "DATA is a folder (DATA/<class>/*.jpg, or DATA/train|valid/<class>/*.jpg), an archive\n"       \
    "(.tgz, .tar.gz, .zip), or a built-in set: fashion-mnist, fashion-mosaic (multi-label).\n\n"

static void print_sizes(const dl_dataset *ds)
{
    int minw = 1 << 30, minh = 1 << 30, maxw = 0, maxh = 0;
    size_t n = 0;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < dl_data_count(ds, s); i++) {
            int w, h;
            dl_data_item_size(ds, s, i, &w, &h);
            minw = w < minw ? w : minw;
            minh = h < minh ? h : minh;
            maxw = w > maxw ? w : maxw;
            maxh = h > maxh ? h : maxh;
            n++;
        }
    if (!n)
        return;
    if (minw == maxw && minh == maxh)
        printf("image size:  %dx%d (all)\n", minw, minh);
    else
        printf("image sizes: width %d..%d, height %d..%d\n", minw, maxw, minh, maxh);
}

int cmd_data(int argc, char **argv)
{
    dl_run_cfg rc_cfg;
    const char *data[2];
    int n_pos;
    int rc = dl_cli_cfg_parse(&rc_cfg, "data", SYNOPSIS, argc, argv, data, 2, &n_pos);
    if (rc >= 0)
        return rc;
    if (n_pos != 1) {
        fprintf(stderr, "dllab data: %s\n",
                n_pos == 0 ? "missing DATA" : "more than one DATA given");
        dl_cli_usage(stderr, "data", SYNOPSIS);
        return DL_EXIT_USAGE;
    }
    if ((rc = dl_cli_set_data(&rc_cfg, "data", data[0])) >= 0)
        return rc;
    dl_data_config cfg;
    dl_run_cfg_data(&rc_cfg, &cfg);
    dl_dataset *ds;
    dl_err err = {0};
    if (dl_data_open(&cfg, &ds, &err) != DL_OK) {
        fprintf(stderr, "dllab data: %s\n", err.msg);
        return DL_EXIT_FAIL;
    }
    int nc = dl_data_n_classes(ds);
    size_t ntr = dl_data_count(ds, DL_SPLIT_TRAIN), nva = dl_data_count(ds, DL_SPLIT_VALID);
    printf("source:      %s (%s)\n", dl_data_root(ds), dl_data_kind_name(dl_data_kind(ds)));
    printf("items:       %zu train, %zu valid", ntr, nva);
    if (dl_data_left_out(ds))
        printf(", %zu left out (in neither split)", dl_data_left_out(ds));
    printf("\n");
    printf("labels:      %s, %d classes\n",
           dl_data_multi_label(ds) ? "multi-label" : "single-label", nc);
    print_sizes(ds);
    dl_image_prep p;
    dl_data_prep(ds, &p);
    static const char *rn[] = {"crop", "pad", "pad-zeros", "squish"};
    printf("prepared:    %dx%dx%d, resize %s, augmentation %s\n", p.channels, p.size, p.size,
           rn[p.resize], cfg.aug ? "on (train)" : "off");
    printf("normalise:   mean");
    for (int c = 0; c < p.channels; c++)
        printf(" %.4f", p.mean[c]);
    printf(", std");
    for (int c = 0; c < p.channels; c++)
        printf(" %.4f", p.std[c]);
    printf("%s\n", cfg.imagenet_stats ? " (ImageNet)" : " (from the training set)");
    int64_t *tc = calloc(nc, sizeof *tc), *vc = calloc(nc, sizeof *vc);
    if (tc && vc) {
        dl_data_class_counts(ds, DL_SPLIT_TRAIN, tc);
        dl_data_class_counts(ds, DL_SPLIT_VALID, vc);
        int w = 5;
        char shown[1024]; /* class names come from folder names and CSV cells: escaped */
        for (int k = 0; k < nc; k++)
            if ((int)strlen(dl_printable(dl_data_class_name(ds, k), shown, sizeof shown)) > w)
                w = (int)strlen(shown);
        printf("\n  %-4s %-*s %8s %8s\n", "#", w, "class", "train", "valid");
        for (int k = 0; k < nc; k++)
            printf("  %-4d %-*s %8lld %8lld\n", k, w,
                   dl_printable(dl_data_class_name(ds, k), shown, sizeof shown), (long long)tc[k],
                   (long long)vc[k]);
    }
    free(tc);
    free(vc);
    size_t ns = dl_data_n_skipped(ds);
    if (ns) {
        printf("\nskipped %zu file(s):\n", ns);
        for (size_t i = 0; i < ns; i++) {
            const char *why;
            const char *path = dl_data_skipped(ds, i, &why);
            char shown[4096];
            printf("  %s: %s\n", dl_printable(path, shown, sizeof shown), why);
        }
    }
    dl_data_close(ds);
    return DL_EXIT_OK;
}
