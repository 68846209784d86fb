/* data/internal: types shared by the files of core/data (not a public header).
 * Sources append raw items (path or in-memory pixels, label strings, split); dataset.c turns them
 * into the split, the vocabulary and the image cache; the loader samples from the cache. */
#ifndef DL_DATA_INTERNAL_H
#define DL_DATA_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/data/data.h"
#include "core/err.h"

/* Hot loops: AVX-512/AVX2/baseline clones picked at load time (no -march=native: users' CPUs
 * differ) with the cost model that vectorises loops -O2 leaves scalar. */
/* Not under TSan: the clones' ifunc resolvers are instrumented and run before its runtime
 * starts (the program crashes while loading). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define DL_DATA_HOT                                                                                \
    __attribute__((target_clones("avx512f", "avx2", "default"),                                    \
                   optimize("vect-cost-model=dynamic")))
#else
#define DL_DATA_HOT
#endif

/* Per-thread scratch buffers (resize.c), grown on demand and freed when the thread exits, so the
 * image pipeline does not malloc per image. NULL when out of memory. A slot's contents are
 * only valid until the next call for that slot on the same thread. */
enum {
    DL_SCRATCH_TAPS_X,
    DL_SCRATCH_TAPS_Y,
    DL_SCRATCH_RESIZE_TMP,
    DL_SCRATCH_RESIZE_ACC,
    DL_SCRATCH_AUG,
    DL_SCRATCH_SLOTS
};
void *dl_scratch(int slot, size_t bytes);

/* ---- images (image.c, resize.c) ---- */
typedef struct dl_img {
    uint8_t *px; /* h x w x c, interleaved */
    int w, h, c;
} dl_img;

/* Reads the header: size after EXIF orientation and whether the image is grey. Unknown format:
 * DL_EUNSUPPORTED; dimensions that would need more memory than the limits in image.c:
 * DL_EFORMAT naming the file. A malformed EXIF block is logged as a warning naming the file
 * (orientation 1). */
dl_status dl_img_probe_mem(const uint8_t *buf, size_t n, const char *name, int *w, int *h,
                           bool *grey, dl_err *err);
/* Decodes to c channels (1 grey, 3 RGB) as Pillow does, JPEGs DCT-scaled to the smallest
 * power-of-two scale whose (oriented) size is >= 2 min_w x 2 min_h (0: full size), EXIF
 * orientation applied. out->px is malloc'd. */
dl_status dl_img_decode_mem(const uint8_t *buf, size_t n, const char *name, int c, int min_w,
                            int min_h, dl_img *out, dl_err *err);
dl_status dl_img_decode_file(const char *path, int c, int min_w, int min_h, dl_img *out,
                             dl_err *err);
/* The same with the decoder's mode: fast = TurboJPEG's fast IDCT and upsampling (--fast-decode;
 * pixels differ from Pillow's by up to ~24/255); else libjpeg's defaults, Pillow's exact pixels. */
dl_status dl_img_decode_mem_mode(const uint8_t *buf, size_t n, const char *name, int c, int min_w,
                                 int min_h, bool fast, dl_img *out, dl_err *err);
dl_status dl_img_decode_file_mode(const char *path, int c, int min_w, int min_h, bool fast,
                                  dl_img *out, dl_err *err);
dl_status dl_read_file(const char *path, uint8_t **buf, size_t *n, dl_err *err);
/* What jpeg_meta.c reads from a JPEG's markers (bounds-checked against hostile bytes). */
typedef struct dl_jpeg_meta {
    int orientation;     /* EXIF orientation 1..8; 1 when absent or malformed */
    char exif_bad[160];  /* "" or why the EXIF block was ignored (malformed) */
    uint64_t coef_bytes; /* libjpeg's whole-image coefficient buffers (progressive or multi-scan
                          * files), 0 when it decodes row by row */
} dl_jpeg_meta;
void dl_jpeg_meta_read(const uint8_t *buf, size_t n, dl_jpeg_meta *m);
/* EXIF orientation (1..8) of a JPEG, 1 when absent or unreadable. */
int dl_jpeg_exif_orientation(const uint8_t *buf, size_t n);
/* Anti-aliased resize (Pillow-style: triangle filter widened by the scale factor when shrinking;
 * box filter when area is set). dst->w, dst->h, dst->c set by the caller, dst->px allocated. */
void dl_img_resize(const dl_img *src, dl_img *dst, bool area);
/* The same from the box (x0, y0, bw, bh) of src (fractional at reduced DCT scales): a crop, then
 * the resize (fastai's order for crop-mode Resize). */
void dl_img_resize_box(const dl_img *src, double x0, double y0, double bw, double bh, dl_img *dst,
                       bool area);
dl_status dl_jpeg_write(const char *path, const dl_img *img, int quality, dl_err *err);
dl_status dl_png_write(const char *path, const dl_img *img, dl_err *err);

/* Size an image of w x h is resized to before the size x size window is taken (crop: the short
 * side becomes size; pad: the long side; squish: size x size). */
void dl_fit_size(int w, int h, int size, dl_resize_method m, int *fw, int *fh);
/* fastai's crop-mode box of a w x h image for a size x size output placed at (pct_x, pct_y) in
 * [0,1] (0.5: centred, the validation split): top-left (x, y), size cw x ch, in source pixels. */
void dl_crop_box(int w, int h, int size, double pct_x, double pct_y, int *x, int *y, int *cw,
                 int *ch);
/* DL_EFORMAT naming the file when that fitted size is beyond image.c's decoded-pixel limit (a
 * 1 x 65000 strip cropped to 224 px would be 224 x 14.6 million). */
dl_status dl_fit_check(const char *name, int w, int h, int size, dl_resize_method m, dl_err *err);

/* ---- sampling (augment.c) ---- */
typedef struct dl_aug_params {
    float u_x, u_y; /* window placement in [0,1] (0.5: centred) */
    bool affine;    /* any of flip/rotate/zoom/warp/rrc below */
    bool flip;
    float rot_deg, zoom, zoom_cx, zoom_cy, warp_x, warp_y;
    float rrc_scale, rrc_ratio, rrc_cx, rrc_cy; /* random resized crop in window coords */
    bool lighting;
    float bright, contrast;
} dl_aug_params;

/* Draws augmentation parameters for one item (fastai aug_transforms defaults). */
void dl_aug_draw(dl_aug_params *p, uint64_t seed, uint64_t epoch, uint64_t item, bool train,
                 bool aug, float min_scale);
/* Samples the size x size window of a fitted image into out (oc x size x size floats, normalised
 * with mean/std), applying p. */
void dl_aug_render(const dl_img *fitted, int size, dl_resize_method m, const dl_aug_params *p,
                   int oc, const float *mean, const float *std, float *out);

/* ---- CSV (csv.c) ---- */
typedef struct dl_csv {
    char **cells; /* rows * cols, row 0 is the header */
    int *line;    /* source line of each row */
    size_t rows;
    int cols;
} dl_csv;
/* RFC 4180: comma separated, "quoted" fields with "" escapes and embedded newlines, CRLF or LF.
 * Every row must have the header's number of fields. Errors: "file:line: reason". */
dl_status dl_csv_parse(const char *text, size_t n, const char *fname, dl_csv *out, dl_err *err);
dl_status dl_csv_read(const char *path, dl_csv *out, dl_err *err);
int dl_csv_col(const dl_csv *c, const char *name); /* -1 when absent */
void dl_csv_free(dl_csv *c);

/* ---- raw items gathered by sources (sources.c, idx.c) ---- */
enum { DL_RAW_RANDOM = -1, DL_RAW_TRAIN = 0, DL_RAW_VALID = 1, DL_RAW_NONE = 2 };

typedef struct dl_raw_item {
    char *path;            /* NULL for in-memory pixels */
    const uint8_t *pixels; /* in-memory grey image (fashion-mnist), w x h */
    int w, h;
    char **labels;
    int n_labels;
    int split; /* DL_RAW_* */
    int line;  /* the CSV line that listed it (errors name it); 0 for other sources */
} dl_raw_item;

typedef struct dl_rawset {
    dl_raw_item *items;
    size_t n, cap;
    dl_source_kind kind;
    char *root;
    uint8_t *blob, *blob2;          /* owned in-memory pixels (fashion-mnist train, test) */
    const char *const *class_names; /* fixed vocab in dataset order (fashion-mnist), else NULL */
    int n_class_names;
    size_t left_out;
    char **skipped, **skip_reason; /* files never made items (not images by their name) */
    size_t n_skipped, skip_cap;
    char *csv_path; /* the CSV the items came from, or NULL */
} dl_rawset;

dl_status dl_raw_add(dl_rawset *rs, const char *path, const char *const *labels, int n_labels,
                     int split, dl_err *err);
void dl_rawset_free(dl_rawset *rs);
dl_status dl_raw_skip(dl_rawset *rs, const char *path, const char *reason, dl_err *err);
bool dl_is_image_name(const char *name);
/* The built-in data set or sibling entry a mistyped DATA argument most likely meant, written to
 * buf; NULL when nothing is close (core/data/suggest.c). */
const char *dl_data_suggest(const char *arg, char *buf, size_t cap);

dl_status dl_source_folder(const char *dir, const char *label_re, dl_rawset *rs, dl_err *err);
dl_status dl_source_csv(const dl_data_config *cfg, const char *root, dl_rawset *rs, dl_err *err);
dl_status dl_source_fashion_mnist(const char *dir, dl_rawset *rs, dl_err *err);
/* Writes the mosaic dataset into dir (if not complete already) and returns its path. */
dl_status dl_mosaic_prepare(const char *fmnist_dir, const char *cache_dir, uint64_t seed,
                            int n_train, int n_valid, char *out_dir, size_t cap, dl_err *err);
/* Extracts an archive into cache_dir/<name>-<size>-<mtime> once; out_dir receives the folder.
 * Members that may not be written (outside the folder, links, devices, duplicates, too large)
 * are named in warnings and skipped. */
dl_status dl_archive_extract(const char *archive, const char *cache_dir, char *out_dir, size_t cap,
                             dl_err *err);
typedef struct dl_archive_limits {
    uint64_t member_max; /* a larger member is skipped */
    uint64_t total_max;  /* a larger extraction is an error (and removed) */
} dl_archive_limits;
/* The limits dl_archive_extract uses for an archive of archive_size bytes. */
void dl_archive_limits_default(uint64_t archive_size, dl_archive_limits *lim);
/* dl_archive_extract with explicit limits (NULL: the defaults); tests use small ones. */
dl_status dl_archive_extract_limited(const char *archive, const char *cache_dir,
                                     const dl_archive_limits *lim, char *out_dir, size_t cap,
                                     dl_err *err);
bool dl_is_archive_name(const char *path);
const char *dl_fashion_class_name(int k);
const char *dl_default_cache_dir(char *buf, size_t cap);
dl_status dl_mkdirs(const char *path, dl_err *err);

/* ---- the opened dataset (dataset.c) ---- */
typedef struct dl_ditem {
    const char *path;
    const uint8_t *pixels;
    int w, h; /* original (oriented) size */
    int label_off, n_labels;
    _Atomic(uint8_t *) cache; /* fitted uint8 image, or NULL */
    int fw, fh;               /* fitted size */
    bool crop_first; /* validation item in crop mode: fastai's centre crop in source pixels,
                      * then the resize to size x size (fw = fh = size) */
} dl_ditem;

struct dl_dataset {
    dl_data_config cfg;
    dl_rawset raw;
    dl_source_kind kind;
    char root[4096];
    dl_ditem *items[2];
    size_t count[2];
    int *labels; /* all label indices, item label_off.. */
    char **vocab;
    int n_classes;
    bool multi;
    int cache_c; /* channels the cache holds */
    dl_image_prep prep;
    char **skipped, **skip_reason;
    size_t n_skipped;
    _Atomic size_t cache_bytes;
    size_t cache_cap;
    _Atomic int cache_full_warned;
};

/* Fitted uint8 image of an item: from the cache, or decoded (and cached while the cap allows).
 * *owned tells whether the caller must free img->px. */
dl_status dl_data_fitted(dl_dataset *ds, dl_ditem *it, dl_img *img, bool *owned, dl_err *err);

#endif
