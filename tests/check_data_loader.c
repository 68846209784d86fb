/* check_data_loader: the threaded loader (order, per-epoch shuffle, drop_last, determinism across
 * worker counts, targets and one-hot), augmentation (seeded per item, fastai probabilities, exact
 * flip), the uint8 cache (a second epoch reads no file; over the cap it decodes again), and the
 * fashion-mosaic generator (labels match the placed items, no train/valid leakage, deterministic).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/data.h"
#include "core/data/internal.h"
#include "tests/data_testutil.h"
#include "tests/testutil.h"

static dl_dataset *open_ok(dl_data_config *cfg)
{
    dl_dataset *ds = NULL;
    dl_err e = {0};
    ck_assert_msg(dl_data_open(cfg, &ds, &e) == DL_OK, "open: %s", e.msg);
    return ds;
}

static dl_loader *loader(dl_dataset *ds, dl_split s, int bs, bool shuffle, bool drop, int threads)
{
    dl_loader *l = NULL;
    dl_err e = {0};
    ck_assert_msg(dl_loader_create(ds, s, bs, shuffle, drop, 42, threads, &l, &e) == DL_OK, "%s",
                  e.msg);
    return l;
}

static dl_dataset *fmnist(int ntrain, int nvalid, bool aug)
{
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = "fashion-mnist";
    cfg.limit = ntrain;
    cfg.valid_limit = nvalid;
    cfg.aug = aug;
    return open_ok(&cfg);
}

START_TEST(valid_loader_in_order_keeps_last_batch)
{
    dl_dataset *ds = fmnist(100, 50, true);
    dl_loader *l = loader(ds, DL_SPLIT_VALID, 7, false, false, 2);
    ck_assert_int_eq(dl_loader_batches(l), 8);
    dl_image_prep p;
    dl_data_prep(ds, &p);
    dl_batch b;
    uint32_t next = 0;
    int nb = 0;
    for (;;) {
        ck_assert_int_eq(dl_loader_next(l, &b, NULL), DL_OK);
        if (b.n == 0)
            break;
        nb++;
        ck_assert_int_eq(b.c, 1);
        ck_assert_int_eq(b.h, 28);
        ck_assert_ptr_nonnull(b.targets);
        ck_assert_ptr_null(b.onehot);
        for (int j = 0; j < b.n; j++, next++) {
            ck_assert_uint_eq(b.items[j], next);
            int lab;
            dl_data_item_labels(ds, DL_SPLIT_VALID, next, &lab, 1);
            ck_assert_int_eq(b.targets[j], lab);
            /* in-memory pixels give the exact expected values */
            const uint8_t *px = ds->items[DL_SPLIT_VALID][next].pixels;
            for (int k = 0; k < 28 * 28; k += 37)
                ck_assert_float_eq_tol(b.images[(size_t)j * 784 + k],
                                       (px[k] / 255.0f - p.mean[0]) / p.std[0], 1e-5f);
        }
    }
    ck_assert_int_eq(nb, 8);
    ck_assert_uint_eq(next, 50);
    ck_assert_int_eq(dl_loader_next(l, &b, NULL), DL_OK); /* then epoch 1, prefetched, same order */
    ck_assert_int_eq(b.n, 7);
    ck_assert_uint_eq(b.items[0], 0);
    ck_assert_uint_eq(b.items[6], 6);
    dl_loader_destroy(l);
    dl_data_close(ds);
}
END_TEST

static void epoch_items(dl_loader *l, int epoch, uint32_t *items, int *n)
{
    ck_assert_int_eq(dl_loader_start_epoch(l, epoch, NULL), DL_OK);
    dl_batch b;
    *n = 0;
    for (;;) {
        ck_assert_int_eq(dl_loader_next(l, &b, NULL), DL_OK);
        if (!b.n)
            break;
        ck_assert_int_eq(b.n, 32);
        memcpy(items + *n, b.items, sizeof(uint32_t) * b.n);
        *n += b.n;
    }
}

START_TEST(train_loader_shuffles_per_epoch_and_drops_last)
{
    dl_dataset *ds = fmnist(100, 20, true);
    dl_loader *l = loader(ds, DL_SPLIT_TRAIN, 32, true, true, 2);
    ck_assert_int_eq(dl_loader_batches(l), 3);
    uint32_t e0[100], e1[100], again[100];
    int n0, n1, n2;
    epoch_items(l, 0, e0, &n0);
    epoch_items(l, 1, e1, &n1);
    epoch_items(l, 0, again, &n2);
    ck_assert_int_eq(n0, 96);
    ck_assert_int_eq(n1, 96);
    ck_assert_mem_eq(e0, again, sizeof(uint32_t) * 96);
    int seen[100] = {0}, same = 0, ascending = 1;
    for (int i = 0; i < 96; i++) {
        ck_assert_uint_lt(e0[i], 100);
        ck_assert_int_eq(seen[e0[i]]++, 0);
        same += e0[i] == e1[i];
        if (i && e0[i] < e0[i - 1])
            ascending = 0;
    }
    ck_assert_int_lt(same, 10);
    ck_assert_int_eq(ascending, 0);
    dl_loader_destroy(l);
    /* Restarting mid-epoch is clean too. */
    l = loader(ds, DL_SPLIT_TRAIN, 32, true, true, 3);
    dl_batch b;
    ck_assert_int_eq(dl_loader_next(l, &b, NULL), DL_OK);
    ck_assert_mem_eq(b.items, e0, sizeof(uint32_t) * 32);
    epoch_items(l, 1, again, &n2);
    ck_assert_mem_eq(e1, again, sizeof(uint32_t) * 96);
    dl_loader_destroy(l);
    dl_data_close(ds);
}
END_TEST

START_TEST(batches_do_not_depend_on_worker_count)
{
    char *d = tu_mkdtemp();
    const char *cls[] = {"a", "b"};
    du_class_tree(d, "", cls, 2, 12);
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = d;
    cfg.size = 24;
    cfg.min_scale = 0.5f;
    dl_dataset *ds = open_ok(&cfg);
    size_t sz = 5 * 3 * 24 * 24;
    float *ref = malloc(sizeof(float) * sz * 16);
    for (int threads = 1; threads <= 4; threads += 3) {
        dl_loader *l = loader(ds, DL_SPLIT_TRAIN, 5, true, true, threads);
        int k = 0;
        for (int epoch = 0; epoch < 2; epoch++) {
            dl_loader_start_epoch(l, epoch, NULL);
            dl_batch b;
            while (dl_loader_next(l, &b, NULL) == DL_OK && b.n) {
                if (threads == 1)
                    memcpy(ref + k * sz, b.images, sizeof(float) * sz);
                else
                    ck_assert_mem_eq(ref + k * sz, b.images, sizeof(float) * sz);
                k++;
            }
        }
        ck_assert_int_eq(k, 2 * dl_loader_batches(l));
        dl_loader_destroy(l);
    }
    free(ref);
    dl_data_close(ds);
    tu_rmtree(d);
    free(d);
}
END_TEST

/* A shard (one mpirun rank's share) decodes only its items, exactly as the whole batch would;
 * every item keeps its label and index, the other positions are not rendered. */
START_TEST(shard_decodes_only_its_share_of_each_batch)
{
    dl_dataset *ds = fmnist(256, 16, true);
    const int bs = 64;
    size_t chw = 28 * 28;
    dl_loader *full = loader(ds, DL_SPLIT_TRAIN, bs, true, true, 2),
              *part = loader(ds, DL_SPLIT_TRAIN, bs, true, true, 2);
    dl_loader_set_shard(part, 1, 4);
    ck_assert(dl_loader_start_epoch(full, 1, NULL) == DL_OK); /* epoch 1: nothing prefetched */
    ck_assert(dl_loader_start_epoch(part, 1, NULL) == DL_OK);
    dl_batch a, b;
    int others_differ = 0, batches = 0;
    while (dl_loader_next(full, &a, NULL) == DL_OK && a.n) {
        ck_assert(dl_loader_next(part, &b, NULL) == DL_OK && b.n == a.n);
        ck_assert_mem_eq(a.targets, b.targets, sizeof(int32_t) * (size_t)a.n);
        ck_assert_mem_eq(a.items, b.items, sizeof(uint32_t) * (size_t)a.n);
        ck_assert_mem_eq(a.images + 16 * chw, b.images + 16 * chw, sizeof(float) * 16 * chw);
        others_differ += memcmp(a.images, b.images, sizeof(float) * 16 * chw) != 0;
        batches++;
    }
    ck_assert_int_eq(batches, 4);
    ck_assert_int_eq(others_differ, batches);
    dl_loader_destroy(full);
    dl_loader_destroy(part);
    dl_data_close(ds);
}
END_TEST

START_TEST(augmentation_is_seeded_per_item_with_fastai_probabilities)
{
    dl_aug_params a, b;
    dl_aug_draw(&a, 42, 3, 17, true, true, 1.0f);
    dl_aug_draw(&b, 42, 3, 17, true, true, 1.0f);
    ck_assert_mem_eq(&a, &b, sizeof a);
    int flips = 0, rots = 0, zooms = 0, warps = 0, brights = 0, contrasts = 0, n = 4000;
    for (int i = 0; i < n; i++) {
        dl_aug_draw(&a, 42, 0, (uint64_t)i, true, true, 1.0f);
        flips += a.flip;
        rots += a.rot_deg != 0;
        zooms += a.zoom != 1.0f;
        warps += a.warp_x != 0;
        brights += a.bright != 0.5f;
        contrasts += a.contrast != 1.0f;
        ck_assert(fabsf(a.rot_deg) <= 10.0f);
        ck_assert(a.zoom >= 1.0f && a.zoom <= 1.1f);
        ck_assert(fabsf(a.warp_x) <= 0.2f && fabsf(a.warp_y) <= 0.2f);
        ck_assert(a.bright >= 0.4f && a.bright <= 0.6f);
        ck_assert(a.contrast >= 0.79f && a.contrast <= 1.26f);
    }
    ck_assert_int_lt(abs(flips - n / 2), n / 20);
    ck_assert_int_lt(abs(rots - 3 * n / 4), n / 20);
    ck_assert_int_lt(abs(zooms - 3 * n / 4), n / 20);
    ck_assert_int_lt(abs(warps - 3 * n / 4), n / 20);
    ck_assert_int_lt(abs(brights - 3 * n / 4), n / 20);
    ck_assert_int_lt(abs(contrasts - 3 * n / 4), n / 20);
    /* --no-aug on train: only the window placement is random. */
    dl_aug_draw(&a, 42, 0, 5, true, false, 1.0f);
    ck_assert(!a.affine && !a.lighting);
    ck_assert(a.u_x != 0.5f);
    /* Validation: centred, nothing random. */
    dl_aug_draw(&a, 42, 0, 5, false, true, 0.5f);
    ck_assert(!a.affine && !a.lighting && a.u_x == 0.5f && a.u_y == 0.5f);
}
END_TEST

START_TEST(flip_and_lighting_render_exactly)
{
    dl_img cols = du_image(50, 50, 1, du_columns, 0);
    dl_aug_params p;
    dl_aug_draw(&p, 0, 0, 0, false, false, 1.0f);
    p.flip = p.affine = true;
    const float mean[1] = {0}, std[1] = {1 / 255.0f};
    float out[2500];
    dl_aug_render(&cols, 50, DL_RESIZE_SQUISH, &p, 1, mean, std, out);
    for (int x = 0; x < 50; x++)
        ck_assert_float_eq_tol(out[10 * 50 + x], (float)(49 - x), 1e-3f);
    /* Contrast 1.25 in logit space pushes values away from 0.5, keeps 0.5 (pixel 127.5) fixed. */
    dl_aug_draw(&p, 0, 0, 0, false, false, 1.0f);
    p.lighting = true;
    p.contrast = 1.25f;
    dl_aug_render(&cols, 50, DL_RESIZE_SQUISH, &p, 1, mean, std, out);
    float x10 = 10 / 255.0f, want = 1 / (1 + powf((1 - x10) / x10, 1.25f));
    ck_assert_float_eq_tol(out[10], want * 255, 0.3f);
    ck_assert_float_lt(out[10], 10.0f);
    free(cols.px);
}
END_TEST

START_TEST(cache_means_second_epoch_reads_no_file)
{
    char *d = tu_mkdtemp();
    const char *cls[] = {"a", "b"};
    du_class_tree(d, "", cls, 2, 6);
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = d;
    cfg.size = 16;
    dl_dataset *ds = open_ok(&cfg);
    dl_loader *l = loader(ds, DL_SPLIT_TRAIN, 2, true, false, 2);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/a' '%s/b'", d, d);
    ck_assert_int_eq(system(cmd), 0); /* every image file is gone */
    for (int epoch = 0; epoch < 2; epoch++) {
        dl_loader_start_epoch(l, epoch, NULL);
        dl_batch b;
        dl_err e = {0};
        int n = 0;
        while (dl_loader_next(l, &b, &e) == DL_OK && b.n)
            n += b.n;
        ck_assert_int_eq(n, (int)dl_data_count(ds, DL_SPLIT_TRAIN));
    }
    dl_loader_destroy(l);
    dl_data_close(ds);
    /* With a cap too small to cache anything, images are decoded again: a vanished file is an
     * error naming it. */
    du_class_tree(d, "", cls, 2, 6);
    cfg.cache_max_bytes = 1;
    ds = open_ok(&cfg);
    ck_assert_int_eq(system(cmd), 0);
    l = loader(ds, DL_SPLIT_TRAIN, 2, false, false, 1);
    dl_batch b;
    dl_err e = {0};
    ck_assert_int_eq(dl_loader_next(l, &b, &e), DL_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, dl_data_item_path(ds, DL_SPLIT_TRAIN, 0)));
    dl_loader_destroy(l);
    dl_data_close(ds);
    tu_rmtree(d);
    free(d);
}
END_TEST

static int class_index(const char *slug)
{
    static const char *const slugs[10] = {"tshirt_top", "trouser",   "pullover", "dress",
                                          "coat",       "sandal",    "shirt",    "sneaker",
                                          "bag",        "ankle_boot"};
    for (int k = 0; k < 10; k++)
        if (!strcmp(slugs[k], slug))
            return k;
    return -1;
}

START_TEST(mosaic_labels_match_items_without_leakage)
{
    char *d = tu_mkdtemp();
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = "fashion-mosaic";
    cfg.cache_dir = d;
    cfg.mosaic_train = 60;
    cfg.mosaic_valid = 20;
    dl_dataset *ds = open_ok(&cfg);
    ck_assert_int_eq(dl_data_kind(ds), DL_SOURCE_FASHION_MOSAIC);
    ck_assert(dl_data_multi_label(ds));
    ck_assert_uint_eq(dl_data_count(ds, DL_SPLIT_TRAIN), 60);
    ck_assert_uint_eq(dl_data_count(ds, DL_SPLIT_VALID), 20);
    ck_assert_int_le(dl_data_n_classes(ds), 10);
    /* Loader targets are one-hot rows of the item labels. */
    dl_loader *l = loader(ds, DL_SPLIT_VALID, 8, false, false, 2);
    dl_batch b;
    ck_assert_int_eq(dl_loader_next(l, &b, NULL), DL_OK);
    ck_assert_ptr_null(b.targets);
    ck_assert_ptr_nonnull(b.onehot);
    for (int j = 0; j < b.n; j++) {
        int labs[4], nl = dl_data_item_labels(ds, DL_SPLIT_VALID, b.items[j], labs, 4);
        ck_assert(nl >= 1 && nl <= 3);
        float sum = 0;
        for (int k = 0; k < b.n_classes; k++)
            sum += b.onehot[j * b.n_classes + k];
        ck_assert_float_eq(sum, (float)nl);
        for (int q = 0; q < nl; q++)
            ck_assert_float_eq(b.onehot[j * b.n_classes + labs[q]], 1.0f);
    }
    dl_loader_destroy(l);
    /* labels.csv: every label set is exactly the classes of the placed items, and each split uses
     * only its own Fashion-MNIST split. */
    dl_dataset *fm = fmnist(0, 0, false);
    char csvp[4096];
    snprintf(csvp, sizeof csvp, "%s/labels.csv", dl_data_root(ds));
    dl_csv c;
    ck_assert_int_eq(dl_csv_read(csvp, &c, NULL), DL_OK);
    ck_assert_uint_eq(c.rows, 81);
    int ci = dl_csv_col(&c, "items"), cl = dl_csv_col(&c, "labels"),
        cv = dl_csv_col(&c, "is_valid");
    for (size_t r = 1; r < c.rows; r++) {
        char **row = c.cells + r * c.cols;
        bool valid = !strcmp(row[cv], "True");
        ck_assert(valid == (r > 60));
        int from_items[10] = {0}, from_labels[10] = {0};
        char *items = strdup(row[ci]);
        for (char *t = strtok(items, " "); t; t = strtok(NULL, " ")) {
            char split[8];
            int idx, cell, dx, dy;
            ck_assert_int_eq(sscanf(t, "%7[^:]:%d:%d:%d:%d", split, &idx, &cell, &dx, &dy), 5);
            ck_assert_str_eq(split, valid ? "t10k" : "train");
            ck_assert(dx >= 0 && dx <= 4 && dy >= 0 && dy <= 4 && cell >= 0 && cell < 4);
            int lab;
            dl_data_item_labels(fm, valid ? DL_SPLIT_VALID : DL_SPLIT_TRAIN, (size_t)idx, &lab, 1);
            from_items[lab] = 1;
        }
        free(items);
        char *labs = strdup(row[cl]);
        for (char *t = strtok(labs, " "); t; t = strtok(NULL, " ")) {
            int k = class_index(t);
            ck_assert_int_ge(k, 0);
            from_labels[k] = 1;
        }
        free(labs);
        ck_assert_mem_eq(from_items, from_labels, sizeof from_items);
    }
    dl_csv_free(&c);
    /* Same seed in another folder: byte-identical labels.csv. */
    char *d2 = tu_mkdtemp();
    char out2[4096];
    ck_assert_int_eq(dl_mosaic_prepare("/usr/share/datasets/fashion-mnist", d2, 42, 60, 20, out2,
                                       sizeof out2, NULL),
                     DL_OK);
    char csv2[4200];
    snprintf(csv2, sizeof csv2, "%s/labels.csv", out2);
    uint8_t *b1, *b2;
    size_t n1, n2;
    ck_assert_int_eq(dl_read_file(csvp, &b1, &n1, NULL), DL_OK);
    ck_assert_int_eq(dl_read_file(csv2, &b2, &n2, NULL), DL_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(b1, b2, n1);
    free(b1);
    free(b2);
    dl_data_close(fm);
    dl_data_close(ds);
    tu_rmtree(d2);
    free(d2);
    tu_rmtree(d);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, valid_loader_in_order_keeps_last_batch);
    tcase_add_test(tc, train_loader_shuffles_per_epoch_and_drops_last);
    tcase_add_test(tc, batches_do_not_depend_on_worker_count);
    tcase_add_test(tc, shard_decodes_only_its_share_of_each_batch);
    tcase_add_test(tc, augmentation_is_seeded_per_item_with_fastai_probabilities);
    tcase_add_test(tc, flip_and_lighting_render_exactly);
    tcase_add_test(tc, cache_means_second_epoch_reads_no_file);
    tcase_add_test(tc, mosaic_labels_match_items_without_leakage);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
