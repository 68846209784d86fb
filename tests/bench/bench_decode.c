/* bench_decode: decode + resize + augment throughput (images/s) of dllab's data pipeline on a
 * folder of 500x375 JPEGs, to 128x128 and 224x224, on 1 thread and on all threads, next to two
 * Pillow peers (tests/bench/bench_decode_pil.py with Debian's /usr/bin/python3): "plain" (open,
 * convert RGB, resize bilinear: the peer) and "aug" (the same work as dllab's: DCT-scaled
 * decode, resize, crop, one perspective transform for flip/rotate/zoom/warp, lighting,
 * normalisation), run in the same invocation, alternating C and Pillow rounds, medians, with the
 * ratios; then the CPU time per image of each stage. Files are read into memory before timing (as
 * docs/performance.md §6). Then the loader's steady state: how long a consumer
 * that spends a fixed time per batch waits for data in a cached epoch.
 *
 * usage: bench_decode [--dir DIR] [--n N] [--rounds R] [--step-ms MS (default 50)] [--no-pil]
 * Without --dir it writes N (default 300) photo-like 500x375 JPEGs (quality 90, 4:2:0, multi-scale
 * value noise + gradients + edges, ~50 KiB like the photos of docs/performance.md §6) into
 * /tmp/dllab-bench-jpegs-N/{a,b}/ once. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/data/data.h"
#include "core/data/internal.h"
#include "core/rng.h"

#ifndef BENCH_DIR
#define BENCH_DIR "tests/bench"
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Smooth value noise on a grid of the given cell size. */
static float vnoise(const float *g, int gw, float x, float y, float cell)
{
    float fx = x / cell, fy = y / cell;
    int ix = (int)fx, iy = (int)fy;
    float tx = fx - ix, ty = fy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    float a = g[iy * gw + ix], b = g[iy * gw + ix + 1], c = g[(iy + 1) * gw + ix],
          d = g[(iy + 1) * gw + ix + 1];
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
}

static void make_photo(dl_img *im, uint64_t seed)
{
    dl_rng r;
    dl_rng_seed(&r, seed, 77, 0);
    const int W = 500, H = 375, GW = 130;
    static float grid[4][3][130 * 130];
    const float cells[4] = {120, 40, 12, 4}, amp[4] = {70, 35, 18, 9};
    for (int o = 0; o < 4; o++)
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < GW * GW; i++)
                grid[o][ch][i] = dl_rng_uniform(&r) * 2 - 1;
    float base[3] = {dl_rng_uniform(&r) * 120 + 60, dl_rng_uniform(&r) * 120 + 60,
                     dl_rng_uniform(&r) * 120 + 60};
    float ex = dl_rng_uniform(&r) * W, slope = dl_rng_uniform(&r) * 2 - 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            bool side = x - ex > slope * (y - H / 2); /* one hard edge, like an object boundary */
            for (int ch = 0; ch < 3; ch++) {
                float v = base[ch] + (side ? 40.0f : -30.0f) + 0.05f * (x - y);
                for (int o = 0; o < 4; o++)
                    v += amp[o] * vnoise(grid[o][ch], GW, (float)x, (float)y, cells[o]);
                v += (dl_rng_uniform(&r) - 0.5f) * 10; /* sensor noise */
                im->px[((size_t)y * W + x) * 3 + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

static int make_set(const char *dir, int n)
{
    char marker[4200];
    snprintf(marker, sizeof marker, "%s/.complete", dir);
    struct stat sb;
    if (stat(marker, &sb) == 0)
        return 0;
    dl_img im = {malloc(500 * 375 * 3), 500, 375, 3};
    fprintf(stderr, "writing %d JPEGs to %s ...\n", n, dir);
    for (int i = 0; i < n; i++) {
        char p[4300], sub[4200];
        snprintf(sub, sizeof sub, "%s/%c", dir, i % 2 ? 'b' : 'a');
        if (dl_mkdirs(sub, NULL))
            return -1;
        snprintf(p, sizeof p, "%s/img%04d.jpg", sub, i % 10000);
        make_photo(&im, (uint64_t)i);
        dl_err e;
        if (dl_jpeg_write(p, &im, 90, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return -1;
        }
    }
    free(im.px);
    FILE *f = fopen(marker, "w");
    if (f)
        fclose(f);
    return 0;
}

typedef struct file {
    uint8_t *buf;
    size_t n;
} file;

typedef struct job {
    file *files;
    int n, size;
    bool aug;
    _Atomic int next;
    float mean[3], std[3];
} job;

/* One image through the training pipeline: DCT-scaled decode, anti-aliased resize to the fitted
 * size, random crop + aug_transforms + lighting + normalisation into floats. */
static void *run(void *arg)
{
    job *j = arg;
    float *out = malloc(sizeof(float) * 3 * j->size * j->size);
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            break;
        int w, h, fw, fh;
        bool grey;
        if (dl_img_probe_mem(j->files[i].buf, j->files[i].n, "x", &w, &h, &grey, NULL))
            abort();
        dl_fit_size(w, h, j->size, DL_RESIZE_CROP, &fw, &fh);
        dl_img src, fit = {malloc((size_t)fw * fh * 3), fw, fh, 3};
        if (dl_img_decode_mem(j->files[i].buf, j->files[i].n, "x", 3, fw, fh, &src, NULL))
            abort();
        dl_img_resize(&src, &fit, false);
        dl_aug_params p;
        dl_aug_draw(&p, 1, 0, (uint64_t)i, j->aug, j->aug, 1.0f);
        dl_aug_render(&fit, j->size, DL_RESIZE_CROP, &p, 3, j->mean, j->std, out);
        free(src.px);
        free(fit.px);
    }
    free(out);
    return NULL;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Images/s in wall time; *cpu_rate: in the calling thread's CPU time (meaningful on 1 thread,
 * where that thread does all the work). */
static double c_rate(file *files, int n, int size, int threads, bool aug, double *cpu_rate)
{
    job j = {.files = files,
             .n = n,
             .size = size,
             .aug = aug,
             .mean = {0.5f, 0.5f, 0.5f},
             .std = {0.25f, 0.25f, 0.25f}};
    atomic_init(&j.next, 0);
    pthread_t th[64];
    double t0 = now(), c0 = cpu_now();
    for (int t = 1; t < threads; t++)
        pthread_create(&th[t], NULL, run, &j);
    run(&j);
    for (int t = 1; t < threads; t++)
        pthread_join(th[t], NULL);
    if (cpu_rate)
        *cpu_rate = n / (cpu_now() - c0);
    return n / (now() - t0);
}

/* Where one thread's time goes, in CPU time (robust to other load on the machine): ms per image
 * for probe + DCT-scaled decode, resize to the fitted size, augmented render. */
static void stage_times(file *files, int n, int size, double ms[3])
{
    float *out = malloc(sizeof(float) * 3 * size * size);
    const float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.25f, 0.25f, 0.25f};
    double t[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        int w, h, fw, fh;
        bool grey;
        double t0 = cpu_now();
        if (dl_img_probe_mem(files[i].buf, files[i].n, "x", &w, &h, &grey, NULL))
            abort();
        dl_fit_size(w, h, size, DL_RESIZE_CROP, &fw, &fh);
        dl_img src, fit = {malloc((size_t)fw * fh * 3), fw, fh, 3};
        if (dl_img_decode_mem(files[i].buf, files[i].n, "x", 3, fw, fh, &src, NULL))
            abort();
        double t1 = cpu_now();
        dl_img_resize(&src, &fit, false);
        double t2 = cpu_now();
        dl_aug_params p;
        dl_aug_draw(&p, 1, 0, (uint64_t)i, true, true, 1.0f);
        dl_aug_render(&fit, size, DL_RESIZE_CROP, &p, 3, mean, std, out);
        double t3 = cpu_now();
        t[0] += t1 - t0;
        t[1] += t2 - t1;
        t[2] += t3 - t2;
        free(src.px);
        free(fit.px);
    }
    for (int k = 0; k < 3; k++)
        ms[k] = 1e3 * t[k] / n;
    free(out);
}

/* CPU ms per image of probe + decode + resize to the fitted size (size 0: full-size decode, no
 * resize), with the exact (default, Pillow's pixels) or the fast (--fast-decode) decoder. */
static double decode_ms(file *files, int n, int size, bool fast)
{
    double t0 = cpu_now();
    for (int i = 0; i < n; i++) {
        int w, h, fw = 0, fh = 0;
        bool grey;
        if (dl_img_probe_mem(files[i].buf, files[i].n, "x", &w, &h, &grey, NULL))
            abort();
        if (size)
            dl_fit_size(w, h, size, DL_RESIZE_CROP, &fw, &fh);
        dl_img src;
        if (dl_img_decode_mem_mode(files[i].buf, files[i].n, "x", 3, fw, fh, fast, &src, NULL))
            abort();
        if (size) {
            dl_img fit = {malloc((size_t)fw * fh * 3), fw, fh, 3};
            dl_img_resize(&src, &fit, false);
            free(fit.px);
        }
        free(src.px);
    }
    return 1e3 * (cpu_now() - t0) / n;
}

/* Pillow's images/s in wall time; *cpu_rate: in the Python process's CPU time. */
static double pil_rate(const char *dir, int size, bool aug, double *cpu_rate)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/bench_decode_pil.py' '%s' %d %s", BENCH_DIR,
             dir, size, aug ? "aug" : "plain");
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    double r = 0;
    *cpu_rate = 0;
    if (fscanf(p, "%lf %lf", &r, cpu_rate) != 2)
        r = *cpu_rate = 0;
    pclose(p);
    return r;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int load_files(const char *dir, file **out)
{
    int cap = 1000, n = 0, misses = 0;
    file *f = malloc(sizeof *f * cap);
    for (int i = 0; n < cap && misses < 2; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%c/img%04d.jpg", dir, i % 2 ? 'b' : 'a', i % 10000);
        if (dl_read_file(p, &f[n].buf, &f[n].n, NULL) == DL_OK) {
            n++;
            misses = 0;
        } else
            misses++;
    }
    *out = f;
    return n;
}

static void loader_steady_state(const char *dir, int threads, int step_ms)
{
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = dir;
    cfg.size = 128;
    cfg.valid_pct = 0.1;
    dl_dataset *ds;
    dl_err e;
    double t0 = now();
    if (dl_data_open(&cfg, &ds, &e)) {
        fprintf(stderr, "open: %s\n", e.msg);
        return;
    }
    double topen = now() - t0;
    dl_loader *l;
    if (dl_loader_create(ds, DL_SPLIT_TRAIN, 32, true, true, 1, threads, &l, &e)) {
        fprintf(stderr, "loader: %s\n", e.msg);
        dl_data_close(ds);
        return;
    }
    /* Epoch 0 without work: the loader's own rate; epoch 1 with a consumer busy step_ms per batch
     * (a training step; a small CNN at 128 px, batch 32, takes far longer on 2 cores): the wait
     * there is what training would lose. */
    dl_batch b;
    t0 = now();
    int nimg = 0;
    dl_loader_start_epoch(l, 0, NULL);
    while (dl_loader_next(l, &b, NULL) == DL_OK && b.n)
        nimg += b.n;
    double t_fast = now() - t0;
    double w0 = dl_loader_wait_seconds(l);
    dl_loader_start_epoch(l, 1, NULL);
    int nb = 0;
    double w_first = 0;
    t0 = now();
    while (dl_loader_next(l, &b, NULL) == DL_OK && b.n) {
        if (nb++ == 0) /* the epoch's first batch always waits: workers start at start_epoch */
            w_first = dl_loader_wait_seconds(l) - w0;
        struct timespec ts = {step_ms / 1000, (step_ms % 1000) * 1000L * 1000};
        nanosleep(&ts, NULL);
    }
    double t_slow = now() - t0, w1 = dl_loader_wait_seconds(l) - w0 - w_first;
    printf("\nloader (%zu train images, 128x128, batch 32, %d workers; open incl. decode of all "
           "into the cache %.2f s)\n",
           dl_data_count(ds, DL_SPLIT_TRAIN), threads, topen);
    printf("  cached epoch, no consumer work: %.0f img/s\n", nimg / t_fast);
    printf("  cached epoch, consumer busy %d ms/batch: first batch waited %.1f ms; batches 2..%d "
           "waited %.1f ms "
           "(%.2f %% of %.2f s)\n",
           step_ms, w_first * 1e3, nb, w1 * 1e3, 100 * w1 / t_slow, t_slow);
    dl_loader_destroy(l);
    dl_data_close(ds);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int n = 300, rounds = 3, pil = 1, step_ms = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--step-ms") && i + 1 < argc)
            step_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-pil"))
            pil = 0;
        else {
            fprintf(
                stderr,
                "usage: bench_decode [--dir DIR] [--n N] [--rounds R] [--step-ms MS] [--no-pil]\n");
            return 2;
        }
    }
    if (n < 10 || n > 1000 || rounds < 1 || rounds > 15 || step_ms < 0 || step_ms > 10000) {
        fprintf(stderr, "bench_decode: --n 10..1000, --rounds 1..15, --step-ms 0..10000\n");
        return 2;
    }
    char gen[256];
    if (!dir) {
        snprintf(gen, sizeof gen, "/tmp/dllab-bench-jpegs-%d", n);
        if (make_set(gen, n))
            return 1;
        dir = gen;
    }
    file *files;
    int nf = load_files(dir, &files);
    if (nf == 0) {
        fprintf(stderr, "bench_decode: no %s/{a,b}/imgNNNN.jpg files\n", dir);
        return 1;
    }
    size_t bytes = 0;
    for (int i = 0; i < nf; i++)
        bytes += files[i].n;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int all = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
    printf("bench_decode: %d JPEGs in %s, %.1f KiB average, %d round(s), %d threads available\n",
           nf, dir, bytes / 1024.0 / nf, rounds, all);
    printf("dllab aug: DCT-scaled decode + anti-aliased resize + random crop + aug_transforms "
           "(flip, rotate, zoom,\n"
           "           warp: one resampling) + lighting + normalise to float CHW\n");
    printf("dllab no-aug: DCT-scaled decode + anti-aliased resize + random crop + normalise\n");
    printf("Pillow plain: open + convert('RGB') + resize(BILINEAR) (the issue's peer)\n");
    printf("Pillow aug: draft (DCT-scaled) + convert + resize + random crop + one PERSPECTIVE "
           "transform (flip,\n"
           "            rotate, zoom, warp) + lighting + normalise to float CHW (numpy) -- the "
           "same work\n");
    printf("medians of %d round(s), dllab and Pillow alternating; Pillow always 1 thread\n\n",
           rounds);
    printf("%-5s %12s %12s %12s %12s %12s  %9s %9s %9s\n", "size", "aug 1 thr", "aug all thr",
           "no-aug 1thr", "Pillow plain", "Pillow aug", "aug/plain", "aug/aug", "all/aug");
    const int sizes[2] = {128, 224};
    double cpu[2][4];
    for (int s = 0; s < 2; s++) {
        double c1[15], ca[15], cn[15], py[15], pa[15], k1[15], kn[15], kp[15], kpa[15];
        c_rate(files, nf < 50 ? nf : 50, sizes[s], 1, true, NULL); /* warm-up */
        for (int r = 0; r < rounds; r++) {                         /* alternate C and Pillow */
            c1[r] = c_rate(files, nf, sizes[s], 1, true, &k1[r]);
            py[r] = pil ? pil_rate(dir, sizes[s], false, &kp[r]) : (kp[r] = 0);
            ca[r] = c_rate(files, nf, sizes[s], all, true, NULL);
            pa[r] = pil ? pil_rate(dir, sizes[s], true, &kpa[r]) : (kpa[r] = 0);
            cn[r] = c_rate(files, nf, sizes[s], 1, false, &kn[r]);
        }
        double m1 = median(c1, rounds), ma = median(ca, rounds), mn = median(cn, rounds),
               mp = median(py, rounds);
        double mpa = median(pa, rounds);
        cpu[s][0] = median(k1, rounds);
        cpu[s][1] = median(kn, rounds);
        cpu[s][2] = median(kp, rounds);
        cpu[s][3] = median(kpa, rounds);
        printf("%-5d %12.0f %12.0f %12.0f ", sizes[s], m1, ma, mn);
        if (mp > 0 && mpa > 0)
            printf("%12.0f %12.0f  %8.2fx %8.2fx %8.2fx\n", mp, mpa, m1 / mp, m1 / mpa, ma / mpa);
        else
            printf("%12s %12s  %9s %9s %9s\n", "n/a", "n/a", "-", "-", "-");
    }
    printf("(img/s; aug/plain = dllab aug 1 thr / Pillow plain, aug/aug = dllab aug 1 thr / Pillow "
           "aug,\n"
           " all/aug = dllab aug on all threads / Pillow aug on 1)\n");
    /* On a shared machine wall time depends on what else runs; CPU time much less so. */
    printf("\nthe same rounds in CPU time (img per CPU-second, 1 thread; robust to other load on "
           "the machine)\n");
    printf("%-5s %12s %12s %12s %12s  %9s %9s\n", "size", "aug 1 thr", "no-aug 1thr",
           "Pillow plain", "Pillow aug", "aug/plain", "aug/aug");
    for (int s = 0; s < 2; s++) {
        printf("%-5d %12.0f %12.0f ", sizes[s], cpu[s][0], cpu[s][1]);
        if (cpu[s][2] > 0 && cpu[s][3] > 0)
            printf("%12.0f %12.0f  %8.2fx %8.2fx\n", cpu[s][2], cpu[s][3], cpu[s][0] / cpu[s][2],
                   cpu[s][0] / cpu[s][3]);
        else
            printf("%12s %12s  %9s %9s\n", "n/a", "n/a", "-", "-");
    }
    printf("\nstages, 1 thread, CPU ms per image (decode incl. probe | resize to fitted size | "
           "augmented render)\n");
    for (int s = 0; s < 2; s++) {
        double ms[3];
        stage_times(files, nf, sizes[s], ms);
        printf("%-5d decode %.3f | resize %.3f | render %.3f | total %.3f ms\n", sizes[s], ms[0],
               ms[1], ms[2], ms[0] + ms[1] + ms[2]);
    }
    printf("\nexact decode (default: Pillow's pixels) vs --fast-decode (fast IDCT + upsampling,\n"
           "smallest DCT scale), probe + decode + resize to the fitted size, 1 thread, CPU ms per\n"
           "image, median of %d\n",
           rounds);
    printf("%-5s %9s %9s %9s\n", "size", "exact", "fast", "gain");
    const int dsizes[3] = {128, 224, 0};
    for (int s = 0; s < 3; s++) {
        double ex[15], fa[15];
        for (int r = 0; r < rounds; r++) { /* alternating, so drifting load hits both alike */
            ex[r] = decode_ms(files, nf, dsizes[s], false);
            fa[r] = decode_ms(files, nf, dsizes[s], true);
        }
        double me = median(ex, rounds), mf = median(fa, rounds);
        char label[16];
        snprintf(label, sizeof label, dsizes[s] ? "%d" : "full", dsizes[s]);
        printf("%-5s %9.3f %9.3f %8.2fx\n", label, me, mf, me / mf);
    }
    loader_steady_state(dir, all, step_ms);
    for (int i = 0; i < nf; i++)
        free(files[i].buf);
    free(files);
    return 0;
}
