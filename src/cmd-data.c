/* cmd-data: `dllab data DATA [options]` opens a dataset exactly as training would and prints what a
 * user needs to know first (fastai's DataBlock.summary spirit): the source kind, items per split
 * and per class, the vocabulary, multi-label or not, image sizes seen, normalisation statistics,
 * and every skipped file with its reason. Exit 1 when the data cannot be opened, 2 on bad usage. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/data.h"
#include "core/printable.h"
#include "src/commands.h"

static void usage(FILE *o)
{
    fprintf(o,
            "usage: dllab data DATA [options]\n"
            "\n"
            "DATA is a folder (DATA/<class>/*.jpg, or DATA/train|valid/<class>/*.jpg), an archive\n"
            "(.tgz, .tar.gz, .zip), or a built-in set: fashion-mnist, fashion-mosaic (multi-label).\n"
            "\n"
            "  --label-re RE       labels from file names: POSIX ERE, group 1 is the label\n"
            "  --csv FILE          labels from a CSV (relative to DATA)\n"
            "  --fname-col NAME    CSV column of file names (default fname)\n"
            "  --label-col NAME    CSV column of labels (default labels)\n"
            "  --label-delim C     separator of several labels in a cell (default space)\n"
            "  --valid-col NAME    CSV column true/false/1/0 marking validation rows\n"
            "  --folder DIR        CSV file names are relative to DATA/DIR\n"
            "  --multi-label       force multi-label targets\n"
            "  --valid-pct P       random validation fraction (default 0.2; dllab's own split)\n"
            "  --seed N            split and augmentation seed (default 42)\n"
            "  --limit N           keep only the first N training items\n"
            "  --valid-limit N     keep only the first N validation items\n"
            "  --size N            image size (default 128; 28 fashion-mnist, 64 fashion-mosaic)\n"
            "  --resize M          crop | pad | pad-zeros | squish (default crop)\n"
            "  --channels N        1 or 3 (default: as the data)\n"
            "  --imagenet-stats    normalise with ImageNet statistics\n"
            "  --no-aug            no augmentation\n"
            "  --fast-decode       faster JPEG decoding (fast IDCT + upsampling, smaller DCT\n"
            "                      scales); pixels then differ from Pillow's (fastai's)\n"
            "  --cache DIR         where archives and fashion-mosaic are unpacked\n"
            "  --mosaic-train N, --mosaic-valid N   fashion-mosaic sizes (default 2000, 500)\n");
}

static bool parse_long(const char *s, long long lo, long long hi, long long *v)
{
    char *end;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

static int bad_value(const char *opt, const char *val)
{
    fprintf(stderr, "dllab data: bad value '%s' for %s\n", val, opt);
    return DL_EXIT_USAGE;
}

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
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    enum { O_RE = 1000, O_CSV, O_FC, O_LC, O_LD, O_VC, O_FOLDER, O_MULTI, O_PCT, O_SEED, O_LIMIT, O_VLIMIT,
           O_SIZE, O_RESIZE, O_CH, O_IMNET, O_NOAUG, O_CACHE, O_MT, O_MV, O_HELP,
           O_FAST };
    static const struct option opts[] = {
        {"label-re", 1, 0, O_RE},     {"csv", 1, 0, O_CSV},          {"fname-col", 1, 0, O_FC},
        {"label-col", 1, 0, O_LC},    {"label-delim", 1, 0, O_LD},   {"valid-col", 1, 0, O_VC},
        {"folder", 1, 0, O_FOLDER},   {"multi-label", 0, 0, O_MULTI}, {"valid-pct", 1, 0, O_PCT},
        {"seed", 1, 0, O_SEED},       {"limit", 1, 0, O_LIMIT},      {"valid-limit", 1, 0, O_VLIMIT},
        {"size", 1, 0, O_SIZE},       {"resize", 1, 0, O_RESIZE},    {"channels", 1, 0, O_CH},
        {"imagenet-stats", 0, 0, O_IMNET}, {"no-aug", 0, 0, O_NOAUG}, {"cache", 1, 0, O_CACHE},
        {"mosaic-train", 1, 0, O_MT}, {"mosaic-valid", 1, 0, O_MV},  {"help", 0, 0, O_HELP},
        {"fast-decode", 0, 0, O_FAST},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    long long v;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_RE: cfg.label_re = optarg; break;
        case O_CSV: cfg.csv = optarg; break;
        case O_FC: cfg.fname_col = optarg; break;
        case O_LC: cfg.label_col = optarg; break;
        case O_LD:
            if (strlen(optarg) != 1)
                return bad_value("--label-delim", optarg);
            cfg.label_delim = optarg[0];
            break;
        case O_VC: cfg.valid_col = optarg; break;
        case O_FOLDER: cfg.folder = optarg; break;
        case O_MULTI: cfg.multi_label = true; break;
        case O_PCT: {
            char *end;
            cfg.valid_pct = strtod(optarg, &end);
            if (!*optarg || *end || cfg.valid_pct < 0 || cfg.valid_pct >= 1)
                return bad_value("--valid-pct", optarg);
            break;
        }
        case O_SEED:
            if (!parse_long(optarg, 0, (long long)1 << 62, &v))
                return bad_value("--seed", optarg);
            cfg.seed = (uint64_t)v;
            break;
        case O_LIMIT:
        case O_VLIMIT:
            if (!parse_long(optarg, 1, (long long)1 << 40, &v))
                return bad_value(o == O_LIMIT ? "--limit" : "--valid-limit", optarg);
            *(o == O_LIMIT ? &cfg.limit : &cfg.valid_limit) = v;
            break;
        case O_SIZE:
            if (!parse_long(optarg, 8, 2048, &v))
                return bad_value("--size", optarg);
            cfg.size = (int)v;
            break;
        case O_RESIZE:
            if (!strcmp(optarg, "crop"))
                cfg.resize = DL_RESIZE_CROP;
            else if (!strcmp(optarg, "pad"))
                cfg.resize = DL_RESIZE_PAD_REFLECT;
            else if (!strcmp(optarg, "pad-zeros"))
                cfg.resize = DL_RESIZE_PAD_ZEROS;
            else if (!strcmp(optarg, "squish"))
                cfg.resize = DL_RESIZE_SQUISH;
            else
                return bad_value("--resize", optarg);
            break;
        case O_CH:
            if (!parse_long(optarg, 1, 3, &v) || v == 2)
                return bad_value("--channels", optarg);
            cfg.channels = (int)v;
            break;
        case O_IMNET: cfg.imagenet_stats = true; break;
        case O_NOAUG: cfg.aug = false; break;
        case O_FAST: cfg.fast_decode = true; break;
        case O_CACHE: cfg.cache_dir = optarg; break;
        case O_MT:
        case O_MV:
            if (!parse_long(optarg, 1, 10000000, &v))
                return bad_value(o == O_MT ? "--mosaic-train" : "--mosaic-valid", optarg);
            *(o == O_MT ? &cfg.mosaic_train : &cfg.mosaic_valid) = (int)v;
            break;
        case 'h':
        case O_HELP: usage(stdout); return DL_EXIT_OK;
        default:
            fprintf(stderr, "dllab data: unknown or incomplete option '%s' (dllab data --help lists them)\n",
                    argv[optind - 1]);
            return DL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dllab data: %s\n", optind >= argc ? "missing DATA" : "more than one DATA given");
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    cfg.source = argv[optind];
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
    printf("labels:      %s, %d classes\n", dl_data_multi_label(ds) ? "multi-label" : "single-label", nc);
    print_sizes(ds);
    dl_image_prep p;
    dl_data_prep(ds, &p);
    static const char *rn[] = {"crop", "pad", "pad-zeros", "squish"};
    printf("prepared:    %dx%dx%d, resize %s, augmentation %s\n", p.channels, p.size, p.size, rn[p.resize],
           cfg.aug ? "on (train)" : "off");
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
            printf("  %-4d %-*s %8lld %8lld\n", k, w, dl_printable(dl_data_class_name(ds, k), shown, sizeof shown),
                   (long long)tc[k], (long long)vc[k]);
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
