/* data/idx: built-in Fashion-MNIST from Debian's dataset-fashion-mnist (gzip'd IDX files read with
 * zlib). Train (60 000) is the train split, t10k (10 000) the validation split; class names and
 * order as in the dataset's documentation (the vocabulary keeps that order, not sorted, so class
 * k is label k). Refuses: a wrong magic, a header that disagrees with the file size, label/image
 * count mismatch, labels >= 10. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/data/internal.h"

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

const char *dl_fashion_class_name(int k) { return k >= 0 && k < 10 ? fashion_names[k] : NULL; }

/* Uncompressed size cap: Fashion-MNIST's largest file is 47 MB; a gzip bomb (the folder comes
 * from DLLAB_FASHION_MNIST) must not grow until memory runs out. */
#define MAX_IDX_BYTES ((size_t)1 << 30)

/* Reads a whole gzip file into memory. */
static dl_status gz_slurp(const char *path, uint8_t **out, size_t *n, dl_err *err)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return dl_err_set(
            err, DL_ENOTFOUND,
            "%s: cannot open (install Debian's dataset-fashion-mnist package: apt-get install "
            "dataset-fashion-mnist)",
            path);
    size_t cap = 1 << 20, len = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (!b)
            break;
        if (len == cap) {
            if (cap >= MAX_IDX_BYTES) {
                free(b);
                gzclose(f);
                return dl_err_set(err, DL_EFORMAT,
                                  "%s: more than %zu MiB uncompressed; not an IDX file", path,
                                  MAX_IDX_BYTES >> 20);
            }
            uint8_t *q = realloc(b, cap * 2);
            if (!q) {
                free(b);
                b = NULL;
                break;
            }
            b = q;
            cap *= 2;
        }
        int got = gzread(f, b + len, (unsigned)(cap - len > (1u << 30) ? (1u << 30) : cap - len));
        if (got < 0) {
            int e;
            const char *m = gzerror(f, &e);
            dl_status st = dl_err_set(err, DL_EFORMAT, "%s: gzip error: %s", path, m);
            free(b);
            gzclose(f);
            return st;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    gzclose(f);
    if (!b)
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory", path);
    *out = b;
    *n = len;
    return DL_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Loads one images+labels pair, appending items with the given split. */
static dl_status load_pair(const char *dir, const char *prefix, int split, dl_rawset *rs,
                           uint8_t **keep, dl_err *err)
{
    char ip[4096], lp[4096];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    uint8_t *img = NULL, *lab = NULL;
    size_t ni, nl;
    dl_status st = gz_slurp(ip, &img, &ni, err);
    if (!st)
        st = gz_slurp(lp, &lab, &nl, err);
    if (st)
        goto out;
    if (ni < 16 || be32(img) != 0x803) {
        st = dl_err_set(err, DL_EFORMAT, "%s: not an IDX image file (magic)", ip);
        goto out;
    }
    if (nl < 8 || be32(lab) != 0x801) {
        st = dl_err_set(err, DL_EFORMAT, "%s: not an IDX label file (magic)", lp);
        goto out;
    }
    uint32_t n = be32(img + 4), h = be32(img + 8), w = be32(img + 12);
    if (h == 0 || w == 0 || h > 4096 || w > 4096 || (uint64_t)n * h * w + 16 != ni) {
        st = dl_err_set(err, DL_EFORMAT,
                        "%s: header says %u images of %ux%u but the file has %zu bytes", ip, n, w,
                        h, ni);
        goto out;
    }
    if (be32(lab + 4) != n || (size_t)n + 8 != nl) {
        st = dl_err_set(err, DL_EFORMAT, "%s: %u labels for %u images", lp, be32(lab + 4), n);
        goto out;
    }
    for (uint32_t i = 0; i < n && !st; i++) {
        if (lab[8 + i] >= 10) {
            st = dl_err_set(err, DL_EFORMAT, "%s: label %u of item %u is not a class (0..9)", lp,
                            lab[8 + i], i);
            break;
        }
        const char *name = fashion_names[lab[8 + i]];
        st = dl_raw_add(rs, NULL, &name, 1, split, err);
        if (!st) {
            dl_raw_item *it = &rs->items[rs->n - 1];
            it->pixels = img + 16 + (size_t)i * w * h;
            it->w = (int)w;
            it->h = (int)h;
        }
    }
out:
    free(lab);
    if (st)
        free(img);
    else
        *keep = img;
    return st;
}

dl_status dl_source_fashion_mnist(const char *dir, dl_rawset *rs, dl_err *err)
{
    uint8_t *train = NULL, *test = NULL;
    rs->kind = DL_SOURCE_FASHION_MNIST;
    dl_status st = load_pair(dir, "train", DL_RAW_TRAIN, rs, &train, err);
    if (!st)
        st = load_pair(dir, "t10k", DL_RAW_VALID, rs, &test, err);
    if (st) {
        free(train);
        return st;
    }
    rs->blob = train; /* items point into these two blocks */
    rs->blob2 = test;
    rs->class_names = fashion_names;
    rs->n_class_names = 10;
    return DL_OK;
}
