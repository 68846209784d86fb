/* data/mosaic: the built-in multi-label set "fashion-mosaic". Each 64x64 grey image is a 2x2 grid
 * of 32x32 cells; 1-3 cells (p = .3/.4/.3) get a Fashion-MNIST item at a random 0-4 px offset,
 * combined with max. Labels = the classes present (space-separated, duplicates collapse). Train
 * mosaics use train items only, validation mosaics t10k items only (no leakage). Everything is
 * drawn from dl_rng_seed(seed, 0x305A1C, mosaic index), so a seed always gives the same files.
 * Written once as img/NNNNNN.jpg + labels.csv (fname,labels,is_valid,items; items names the
 * placed sources as split:index:cell:dx:dy) into <cache>/fashion-mosaic-s<seed>-<train>-<valid>;
 * labels.csv is written last (temp name, rename), so a half-written folder is redone. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/internal.h"
#include "core/file.h"
#include "core/rng.h"

static const char *const slug[10] = {"tshirt_top", "trouser", "pullover", "dress", "coat",
                                     "sandal",     "shirt",   "sneaker",  "bag",   "ankle_boot"};

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int class_of(const char *name)
{
    for (int k = 0; k < 10; k++)
        if (!strcmp(dl_fashion_class_name(k), name))
            return k;
    return -1;
}

dl_status dl_mosaic_prepare(const char *fmnist_dir, const char *cache_dir, uint64_t seed,
                            int n_train, int n_valid, char *out_dir, size_t cap, dl_err *err)
{
    if (n_train <= 0 || n_valid <= 0)
        return dl_err_set(err, DL_EINVAL,
                          "fashion-mosaic: need > 0 train and valid mosaics (%d, %d)", n_train,
                          n_valid);
    snprintf(out_dir, cap, "%s/fashion-mosaic-s%llu-%d-%d", cache_dir, (unsigned long long)seed,
             n_train, n_valid);
    char csv[PATH_MAX], path[PATH_MAX];
    snprintf(csv, sizeof csv, "%s/labels.csv", out_dir);
    struct stat sb;
    if (stat(csv, &sb) == 0)
        return DL_OK;
    dl_rawset rs = {0};
    dl_status st = dl_source_fashion_mnist(fmnist_dir, &rs, err);
    if (st) {
        dl_rawset_free(&rs);
        return dl_err_wrap(err, "fashion-mosaic is built from fashion-mnist");
    }
    /* Index the two splits. */
    size_t nsplit[2] = {0, 0};
    for (size_t i = 0; i < rs.n; i++)
        nsplit[rs.items[i].split]++;
    size_t first[2] = {0, nsplit[0]}; /* train items come first in the raw set */
    snprintf(path, sizeof path, "%s/img", out_dir);
    st = dl_mkdirs(path, err);
    FILE *f = st ? NULL : dl_file_create(csv, err); /* written last: its presence means complete */
    if (!st && !f)
        st = err ? err->code : DL_EIO;
    if (f)
        fprintf(f, "fname,labels,is_valid,items\n");
    uint8_t canvas[64 * 64];
    dl_img img = {canvas, 64, 64, 1};
    int total = n_train + n_valid;
    for (int m = 0; m < total && !st; m++) {
        int split = m < n_train ? 0 : 1;
        dl_rng r;
        dl_rng_seed(&r, seed, 0x305A1C, (uint64_t)m);
        float u = dl_rng_uniform(&r);
        int k = u < 0.3f ? 1 : u < 0.7f ? 2 : 3;
        int cells[4] = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) { /* choose k distinct cells */
            int j = (int)dl_rng_below(&r, (uint64_t)i + 1);
            int t = cells[i];
            cells[i] = cells[j];
            cells[j] = t;
        }
        memset(canvas, 0, sizeof canvas);
        const char *labs[3];
        int nl = 0;
        char items[256] = "";
        for (int c = 0; c < k; c++) {
            size_t idx = (size_t)dl_rng_below(&r, nsplit[split]);
            int dx = (int)dl_rng_below(&r, 5), dy = (int)dl_rng_below(&r, 5);
            const dl_raw_item *it = &rs.items[first[split] + idx];
            int ox = (cells[c] % 2) * 32 + dx, oy = (cells[c] / 2) * 32 + dy;
            for (int y = 0; y < it->h && oy + y < 64; y++)
                for (int x = 0; x < it->w && ox + x < 64; x++) {
                    uint8_t v = it->pixels[y * it->w + x];
                    uint8_t *d = &canvas[(oy + y) * 64 + ox + x];
                    if (v > *d)
                        *d = v;
                }
            const char *name = slug[class_of(it->labels[0])];
            bool dup = false;
            for (int q = 0; q < nl; q++)
                dup |= !strcmp(labs[q], name);
            if (!dup)
                labs[nl++] = name;
            size_t l = strlen(items);
            snprintf(items + l, sizeof items - l, "%s%s:%zu:%d:%d:%d", c ? " " : "",
                     split ? "t10k" : "train", idx, cells[c], dx, dy);
        }
        qsort(labs, nl, sizeof *labs, cmp_cstr);
        snprintf(path, sizeof path, "%s/img/%06d.jpg", out_dir, m);
        st = dl_jpeg_write(path, &img, 95, err);
        if (st)
            break;
        fprintf(f, "img/%06d.jpg,", m);
        for (int q = 0; q < nl; q++)
            fprintf(f, "%s%s", q ? " " : "", labs[q]);
        fprintf(f, ",%s,%s\n", split ? "True" : "False", items);
    }
    if (f && st)
        dl_file_discard(f, csv);
    else if (f)
        st = dl_file_commit(f, csv, err);
    dl_rawset_free(&rs);
    return st;
}
