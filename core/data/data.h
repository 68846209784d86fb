/* data: dllab's datasets and loader — the one header the learner, the CLI and the UI include.
 *
 * A dataset is opened from a description (dl_data_config): a folder of images (folder per class,
 * with an optional train/valid grandparent split), labels from file names by a regex, a CSV
 * (fastbook chapter 6 / PASCAL VOC layout), an archive of any of these (.tgz/.tar.gz/.zip,
 * extracted once into a cache folder), or a built-in name: "fashion-mnist" (Debian's
 * dataset-fashion-mnist IDX files) or "fashion-mosaic" (multi-label 64x64 mosaics of
 * Fashion-MNIST items, generated once into a cache folder as JPEGs + labels.csv).
 *
 * The random split (--valid-pct, --seed) is dllab's own: a Fisher-Yates permutation from dllab's
 * xoshiro stream (core/rng.h) seeded with the seed; valid = the first int(valid_pct*n) indices of
 * the permutation, as fastai's RandomSplitter does, but it is NOT the split fastai's torch RNG
 * would make for the same seed.
 *
 * Refuses: a single class, an empty training or validation split, a validation label missing from
 * the training vocabulary, more than 5 % unreadable image files, malformed CSVs (file:line:
 * reason). Core never prints: skipped files are kept in the dataset (path + reason) and logged as
 * warnings.
 */
#ifndef DL_DATA_H
#define DL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum dl_split { DL_SPLIT_TRAIN = 0, DL_SPLIT_VALID = 1 } dl_split;

typedef enum dl_resize_method {
    DL_RESIZE_CROP = 0,    /* largest centred (valid) / random (train) crop of the target aspect */
    DL_RESIZE_PAD_REFLECT, /* fit inside, pad by reflection (fastai's default pad_mode) */
    DL_RESIZE_PAD_ZEROS,   /* fit inside, pad with zeros (fastbook ch. 2) */
    DL_RESIZE_SQUISH       /* whole image to the target size, aspect ignored */
} dl_resize_method;
/* "crop", "pad", "pad-zeros", "squish" (the --resize spellings); "?" outside the enum. */
const char *dl_resize_name(dl_resize_method m);

typedef enum dl_source_kind {
    DL_SOURCE_FOLDER = 0,  /* DIR/<class>/image, random split */
    DL_SOURCE_GRANDPARENT, /* DIR/{train,valid|val}/<class>/image */
    DL_SOURCE_REGEX,       /* label = group 1 of --label-re on the file name, random split */
    DL_SOURCE_CSV,         /* --csv: file name + labels (+ validity) columns */
    DL_SOURCE_FASHION_MNIST,
    DL_SOURCE_FASHION_MOSAIC
} dl_source_kind;

/* What to open and how to prepare images. Fill with dl_data_config_init, then set fields. Strings
 * are borrowed for the duration of dl_data_open only. */
typedef struct dl_data_config {
    const char *source;    /* folder, archive, or "fashion-mnist" / "fashion-mosaic" */
    const char *label_re;  /* POSIX ERE with one group, applied to the file name (NULL: folders) */
    const char *csv;       /* CSV path (relative to source unless absolute); NULL: no CSV */
    const char *fname_col; /* default "fname" */
    const char *label_col; /* default "labels" */
    const char *valid_col; /* NULL: random split; default NULL ("is_valid" for the mosaic) */
    const char *folder;    /* images are source/folder/fname (NULL: source/fname) */
    char label_delim;      /* separator inside the label cell, default ' ' */
    bool multi_label;      /* force multi-label (else: any item with != 1 label makes it so) */
    double valid_pct;      /* default 0.2; ignored when the data defines its own split */
    uint64_t seed;         /* split seed, also the base of augmentation seeds; default 42 */
    int64_t limit;         /* > 0: keep only the first N training items after the split */
    int64_t valid_limit;   /* > 0: keep only the first N validation items (tests, quick runs) */
    int size;              /* output images are size x size; 0 (default) = 28 for fashion-mnist,
                            * 64 for fashion-mosaic, else 128 */
    dl_resize_method resize;
    bool aug;            /* train-split augmentation (fastai aug_transforms defaults); default on */
    bool fast_decode;    /* TurboJPEG's fast IDCT + upsampling (faster; pixels differ from
                          * Pillow's); default off: Pillow's exact pixels */
    float min_scale;     /* random resized crop on train: area fraction U(min_scale, 1); 1 = off */
    int channels;        /* channels the model wants: 3 (grey replicated), 1 (RGB -> luma) or
                          * 0 = as the data (1 if every image is grey, else 3) */
    bool imagenet_stats; /* normalise with ImageNet mean/std (pretrained); else computed */
    const char *cache_dir;  /* archives and the mosaic live here; default $XDG_CACHE_HOME/dllab or
                             * ~/.cache/dllab */
    size_t cache_max_bytes; /* cap of the decoded uint8 image cache; default 2 GiB */
    int mosaic_train; /* fashion-mosaic: number of train / valid mosaics (default 2000 / 500) */
    int mosaic_valid;
} dl_data_config;

void dl_data_config_init(dl_data_config *cfg);

typedef struct dl_dataset dl_dataset;

/* Opens (and for archives / the mosaic, prepares) a dataset. Files are listed, labelled, split and
 * their headers read (so bad files are found before training); pixels are decoded lazily by the
 * loader and cached. Also computes the normalisation statistics unless imagenet_stats is set. */
dl_status dl_data_open(const dl_data_config *cfg, dl_dataset **out, dl_err *err);
void dl_data_close(dl_dataset *ds);

/* ---- what was opened ---- */
dl_source_kind dl_data_kind(const dl_dataset *ds);
const char *dl_data_kind_name(dl_source_kind kind);
const char *dl_data_root(const dl_dataset *ds); /* folder the items live in (after extraction) */
size_t dl_data_count(const dl_dataset *ds, dl_split split);
size_t dl_data_left_out(const dl_dataset *ds); /* files in neither split (grandparent layout) */
int dl_data_n_classes(const dl_dataset *ds);
const char *dl_data_class_name(const dl_dataset *ds, int k); /* vocab, sorted by code point */
bool dl_data_multi_label(const dl_dataset *ds);
/* Items per class in a split (multi-label: items carrying the label); counts has n_classes. */
void dl_data_class_counts(const dl_dataset *ds, dl_split split, int64_t *counts);
/* Item i of a split: path (NULL for in-memory built-ins) and its labels (class indices, sorted);
 * returns the number of labels (may exceed cap; only cap are written). */
const char *dl_data_item_path(const dl_dataset *ds, dl_split split, size_t i);
int dl_data_item_labels(const dl_dataset *ds, dl_split split, size_t i, int *labels, int cap);
/* Original image size of item i (known after open: headers are read). */
void dl_data_item_size(const dl_dataset *ds, dl_split split, size_t i, int *w, int *h);
/* Files skipped (unreadable, truncated, not an image): path and reason. */
size_t dl_data_n_skipped(const dl_dataset *ds);
const char *dl_data_skipped(const dl_dataset *ds, size_t i, const char **reason);

/* ---- how images come out of the loader ---- */
typedef struct dl_image_prep {
    int size;     /* output is channels x size x size */
    int channels; /* 1 or 3 */
    dl_resize_method resize;
    float mean[3], std[3]; /* per channel, applied to [0,1] pixels */
} dl_image_prep;

/* The preprocessing the loader applies (without augmentation); store it with a model so
 * `dllab predict` prepares images the same way. */
void dl_data_prep(const dl_dataset *ds, dl_image_prep *prep);

/* Loads one image file (JPEG or PNG) for prediction with the validation-split preprocessing:
 * decode (EXIF orientation honoured, Pillow's pixels), resize (centre crop then resize, as fastai /
 * pad / squish), normalise.
 * out: prep->channels * prep->size * prep->size floats (CHW). */
dl_status dl_image_load_prepped(const char *path, const dl_image_prep *prep, float *out,
                                dl_err *err);

/* ---- the loader ---- */
typedef struct dl_batch {
    int n; /* items in this batch (0 = the epoch is over) */
    int c, h, w;
    const float *images;    /* n x c x h x w, normalised */
    const int32_t *targets; /* n class indices (single-label), else NULL */
    const float *onehot;    /* n x n_classes (multi-label), else NULL */
    int n_classes;
    const uint32_t *items; /* n item indices into the split */
} dl_batch;

typedef struct dl_loader dl_loader;

/* threads <= 0: one worker per online CPU. The split is augmented only when it is the train split
 * and the dataset's config has aug on. Images for item i in epoch e are the same whatever the
 * thread count: randomness comes from dl_rng_seed(seed, epoch, item). */
dl_status dl_loader_create(dl_dataset *ds, dl_split split, int batch_size, bool shuffle,
                           bool drop_last, uint64_t seed, int threads, dl_loader **out,
                           dl_err *err);
/* Batches per epoch (drop_last: floor, else ceil). */
int64_t dl_loader_batches(const dl_loader *l);
/* Data parallelism across processes: from now on only items [n*shard/shards, n*(shard+1)/shards)
 * of each batch of n get their images (every item keeps its label and index); the batch is
 * otherwise the same global batch in every process. (0, 1): every item, the default. */
void dl_loader_set_shard(dl_loader *l, int shard, int shards);
/* Starts (or restarts) epoch `epoch`: reshuffles from (seed, epoch) and wakes the workers. The
 * first dl_loader_next without a start begins epoch 0. Workers prefetch epoch 0 at creation and
 * epoch e+1 once epoch e is over; starting that same epoch keeps the prefetched batches. */
dl_status dl_loader_start_epoch(dl_loader *l, int epoch, dl_err *err);
/* Next batch of the epoch; pointers stay valid until the next call. At the end of the epoch
 * returns DL_OK with batch->n == 0; the call after that continues with epoch e+1. An image that
 * fails to decode mid-run is an error naming it. */
dl_status dl_loader_next(dl_loader *l, dl_batch *batch, dl_err *err);
/* Time the caller spent waiting for workers in dl_loader_next, seconds, since creation. */
double dl_loader_wait_seconds(const dl_loader *l);
void dl_loader_destroy(dl_loader *l);

#endif
