/* bench_conv: GFLOP/s of dl_conv2d forward, backward-data and backward-weight for every distinct
 * conv layer of resnet18 at 3x64x64 (batch 64) and the Fashion-MNIST ResNet at 1x28x28 (batch 128),
 * each beside a plain cblas_sgemm of the same M x N x K (N = images per GEMM x OH*OW, as the kernel
 * tiles them) with the same transposes over the same batch: the gap between the two is what
 * im2col/col2im/gather and the copies between tiles and NCHW cost.
 * Median of several timed runs (the thread's CPU time) after one warm-up; 1 BLAS thread first (the
 * primary figure), then 2 threads. Not a test: built by `make bench`, run by hand. Usage:
 * bench_conv [--reps N] [--threads LIST] [--model resnet18|fmnist|all]   (LIST like 1,2) */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/blas_select.h"
#include "core/ops/ops.h"
#include "core/ops/winograd.h"
#include "core/tensor.h"
#include "tests/bench/fma_peak.h"

typedef struct layer {
    const char *name;
    int c, h, w, oc, k, s, p;
    int count; /* how many convs of the model have this shape */
} layer;

static const layer RESNET18[] = {
    {"conv1", 3, 64, 64, 64, 7, 2, 3, 1},
    {"layer1 3x3", 64, 16, 16, 64, 3, 1, 1, 4},
    {"layer2.0 3x3 s2", 64, 16, 16, 128, 3, 2, 1, 1},
    {"layer2 3x3", 128, 8, 8, 128, 3, 1, 1, 3},
    {"layer2.0 down 1x1 s2", 64, 16, 16, 128, 1, 2, 0, 1},
    {"layer3.0 3x3 s2", 128, 8, 8, 256, 3, 2, 1, 1},
    {"layer3 3x3", 256, 4, 4, 256, 3, 1, 1, 3},
    {"layer3.0 down 1x1 s2", 128, 8, 8, 256, 1, 2, 0, 1},
    {"layer4.0 3x3 s2", 256, 4, 4, 512, 3, 2, 1, 1},
    {"layer4 3x3", 512, 2, 2, 512, 3, 1, 1, 3},
    {"layer4.0 down 1x1 s2", 256, 4, 4, 512, 1, 2, 0, 1},
};

static const layer FMNIST[] = {
    {"stem 3x3", 1, 28, 28, 32, 3, 1, 1, 1},
    {"stage1 3x3", 32, 28, 28, 32, 3, 1, 1, 4},
    {"stage2.0 3x3 s2", 32, 28, 28, 64, 3, 2, 1, 1},
    {"stage2 3x3", 64, 14, 14, 64, 3, 1, 1, 3},
    {"stage2.0 down 1x1 s2", 32, 28, 28, 64, 1, 2, 0, 1},
    {"stage3.0 3x3 s2", 64, 14, 14, 128, 3, 2, 1, 1},
    {"stage3 3x3", 128, 7, 7, 128, 3, 1, 1, 3},
    {"stage3.0 down 1x1 s2", 64, 14, 14, 128, 1, 2, 0, 1},
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { FWD, BWD_DATA, BWD_WEIGHT, CONV, GEMM };

typedef struct run {
    const layer *l;
    dl_conv2d_cfg cfg;
    int n;
    float *x, *w, *y, *dy, *dx, *dw, *ws, *col;
} run;

/* One timed call: the conv kernel, or the bare sgemm it reduces to, for `what`. */
static void call(run *r, int what, int impl)
{
    const dl_conv2d_cfg *c = &r->cfg;
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    if (impl == CONV) {
        if (what == FWD)
            dl_conv2d_forward(r->y, r->x, r->w, NULL, c, r->n, r->ws);
        else if (what == BWD_DATA)
            dl_conv2d_backward(r->dx, NULL, NULL, r->dy, r->x, r->w, c, r->n, r->ws);
        else
            dl_conv2d_backward(NULL, r->dw, NULL, r->dy, r->x, r->w, c, r->n, r->ws);
        return;
    }
    /* the same GEMMs (same tiles of images) on a ready-made column matrix: no im2col, col2im or
     * gather, no copies between the tile and NCHW */
    const int tile = dl_conv2d_tile_images(c);
    for (int i0 = 0; i0 < r->n; i0 += tile) {
        const int tn = r->n - i0 < tile ? r->n - i0 : tile, ld = tn * ohw;
        float *g = r->dy + (size_t)i0 * m * ohw, *out = r->y + (size_t)i0 * m * ohw;
        if (what == FWD)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, ld, k, 1.0f, r->w, k, r->col,
                        ld, 0.0f, out, ld);
        else if (what == BWD_DATA)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ld, m, 1.0f, r->w, k, g, ld,
                        0.0f, r->col, ld);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, ld, 1.0f, g, ld, r->col, ld,
                        1.0f, r->dw, k);
    }
}

static double median_seconds(run *r, int what, int impl, int reps)
{
    double t[64];
    if (reps > 64)
        reps = 64;
    call(r, what, impl);             /* warm-up */
    for (int i = 0; i < reps; i++) { /* the thread's CPU time: a shared host steals wall time */
        double t0 = fma_cpu_now();
        call(r, what, impl);
        t[i] = fma_cpu_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_d);
    return t[reps / 2];
}

static float *randbuf(size_t n, unsigned seed)
{
    float *p = dl_alloc_aligned((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_conv: out of memory (%zu floats)\n", n);
        exit(1);
    }
    uint32_t st = seed * 2654435761u + 1u; /* xorshift32: cheap fill, the values do not matter */
    for (size_t i = 0; i < n; i++) {
        st ^= st << 13, st ^= st >> 17, st ^= st << 5;
        p[i] = (float)(st >> 8) * (1.0f / 16777216.0f) - 0.5f;
    }
    return p;
}

/* Process CPU seconds (all threads): cpu/wall tells whether the host gave us the cores we asked
 * for (this machine's two vCPUs are often shared; see docs/performance.md §2). */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_gflops; /* the 1-core FMA probe, printed once and beside every layer */

/* For a conv either algorithm can run: each pass forced onto im2col + GEMM and onto Winograd,
 * alternating, GFLOP/s (direct-convolution FLOPs, so the two compare) and % of the FMA peak;
 * the rule's choice is in the row above. */
static void compare_algos(run *r, double flops, int reps)
{
    static const char *const pass[] = {"fwd", "data", "weight"};
    printf("%-22s forced:", "");
    for (int what = FWD; what <= BWD_WEIGHT; what++) {
        dl_conv2d_force_algo(DL_CONV_ALGO_GEMM);
        double tg = median_seconds(r, what, CONV, reps);
        dl_conv2d_force_algo(DL_CONV_ALGO_WINOGRAD);
        double tw = median_seconds(r, what, CONV, reps);
        printf(" %s gemm %.1f (%.0f%%) wino %.1f (%.0f%%) x%.2f |", pass[what], flops / tg * 1e-9,
               100.0 * flops / tg * 1e-9 / peak_gflops, flops / tw * 1e-9,
               100.0 * flops / tw * 1e-9 / peak_gflops, tg / tw);
    }
    dl_conv2d_force_algo(DL_CONV_ALGO_AUTO);
    printf("\n");
}

/* Prints one model's table and returns the conv seconds of one training step (all layers). */
static double peak_gflops;     /* the 1-core FMA probe, printed once and beside every layer */
static const char *only_layer; /* --layer: run the layers whose name contains it */

static double bench_model(const char *title, const layer *ls, int nl, int batch, int reps)
{
    const double wall0 = now(), cpu0 = cpu_seconds();
    printf("\n%s, batch %d\n", title, batch);
    printf("%-22s %-26s %5s %4s | %-19s | %-19s | %-19s | %8s | %5s | %s | %s\n", "layer", "shape",
           "count", "tile", "fwd GF/s (sgemm)", "bwd-data (sgemm)", "bwd-weight (sgemm)", "ms/step",
           "%peak", "algorithm fwd/data/weight (the rule's)", "gemm fwd/data/weight");
    double total = 0, total_gemm = 0, flops_total = 0;
    for (int li = 0; li < nl; li++) {
        const layer *l = &ls[li];
        run r = {.l = l, .n = batch};
        if (only_layer && !strstr(l->name, only_layer))
            continue;
        if (dl_conv2d_cfg_init(&r.cfg, l->c, l->h, l->w, l->oc, l->k, l->k, l->s, l->p) != 0) {
            fprintf(stderr, "bench_conv: bad geometry for %s\n", l->name);
            exit(1);
        }
        const size_t nx = (size_t)batch * l->c * l->h * l->w,
                     nw = (size_t)l->oc * l->c * l->k * l->k;
        const size_t ohw = (size_t)r.cfg.out_h * r.cfg.out_w, ny = (size_t)batch * l->oc * ohw;
        const size_t ncol =
            (size_t)l->c * l->k * l->k * ohw * (size_t)dl_conv2d_tile_images(&r.cfg);
        const size_t nws = dl_conv2d_workspace_floats(&r.cfg);
        r.x = randbuf(nx, 1), r.w = randbuf(nw, 2), r.y = randbuf(ny, 3), r.dy = randbuf(ny, 4);
        r.dx = randbuf(nx, 5), r.dw = randbuf(nw, 6), r.ws = randbuf(nws, 7),
        r.col = randbuf(ncol, 8);
        const double flops =
            2.0 * (double)batch * (double)l->oc * (double)ohw * (double)(l->c * l->k * l->k);
        char shape[64];
        snprintf(shape, sizeof shape, "%d->%d k%d s%d p%d %dx%d->%dx%d", l->c, l->oc, l->k, l->s,
                 l->p, l->h, l->w, r.cfg.out_h, r.cfg.out_w);
        printf("%-22s %-26s %5d %4d", l->name, shape, l->count, dl_conv2d_tile_images(&r.cfg));
        double step = 0, step_gemm = 0;
        for (int what = FWD; what <= BWD_WEIGHT; what++) {
            /* the first layer needs no dx: a training step skips it */
            int counted = !(what == BWD_DATA && li == 0);
            double tc = median_seconds(&r, what, CONV, reps),
                   tg = median_seconds(&r, what, GEMM, reps);
            printf(" | %7.1f (%7.1f)%s", flops / tc * 1e-9, flops / tg * 1e-9,
                   counted ? "  " : "* ");
            if (counted) {
                step += tc * l->count;
                step_gemm += tg * l->count;
                flops_total += flops * l->count;
            }
        }
        const double lflops = flops * (3.0 - (li == 0)) * l->count;
        printf(" | %8.1f | %4.0f%% | %s/%s/%s | %s/%s/%s\n", step * 1e3,
               100.0 * lflops / step * 1e-9 / peak_gflops, dl_conv2d_algo_name(&r.cfg, 0),
               dl_conv2d_algo_name(&r.cfg, 1), dl_conv2d_algo_name(&r.cfg, 2),
               dl_conv2d_gemm_name(&r.cfg, 0), dl_conv2d_gemm_name(&r.cfg, 1),
               dl_conv2d_gemm_name(&r.cfg, 2));
        if (dl_wino_applies(&r.cfg) && !getenv("DLLAB_CONV_ALGO"))
            compare_algos(&r, flops, reps);
        fflush(stdout);
        total += step;
        total_gemm += step_gemm;
        dl_free_aligned(r.x), dl_free_aligned(r.w), dl_free_aligned(r.y), dl_free_aligned(r.dy);
        dl_free_aligned(r.dx), dl_free_aligned(r.dw), dl_free_aligned(r.ws), dl_free_aligned(r.col);
    }
    printf("all convs of one training step: %.1f ms = %.1f GFLOP/s (bare sgemm: %.1f ms = %.1f "
           "GFLOP/s); "
           "%.1f img/s if convs were all the work\n",
           total * 1e3, flops_total / total * 1e-9, total_gemm * 1e3,
           flops_total / total_gemm * 1e-9, batch / total);
    printf("(* = not part of a training step: the first conv needs no input gradient)\n");
    printf("cpu/wall over this table: %.2f cores (1 thread on an idle core reads 1.00)\n",
           (cpu_seconds() - cpu0) / (now() - wall0));
    return total;
}

int main(int argc, char **argv)
{
    int reps = 5;
    const char *threads = "1,2", *model = "all";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--layer") && i + 1 < argc)
            only_layer = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--reps N] [--threads 1,2] [--model resnet18|fmnist|all]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    /* OpenBLAS reads OPENBLAS_CORETYPE only at load time: re-execute once with the right kernel,
     * exactly as dllab does, so these figures are the ones the program gets. */
    const char *force = dl_blas_coretype_to_force();
    if (force) {
        setenv("OPENBLAS_CORETYPE", force, 1);
        execv("/proc/self/exe", argv);
        perror("bench_conv: re-exec with OPENBLAS_CORETYPE failed; continuing with the default "
               "kernel");
    }
    peak_gflops = fma_peak();
    printf("bench_conv: OpenBLAS kernel %s (CPU best: %s), dllab gemm %s, median of %d runs after "
           "1 warm-up\n",
           dl_blas_corename(), dl_blas_cpu_best_core() ? dl_blas_cpu_best_core() : "none",
           dl_gemm_isa_name(dl_gemm_isa_active()), reps);
    printf("1-core FMA peak probe: %.1f GFLOP/s (%%peak: a layer's fwd+bwd rate over it); "
           "the (sgemm) columns are OpenBLAS\n",
           peak_gflops);
    printf(
        "GFLOP/s = 2*N*OC*OH*OW*C*KH*KW / time; in parentheses: the bare sgemm of the same shape\n"
        "(tile = images per GEMM)\n");
    for (const char *t = threads; *t;) {
        int nt = atoi(t);
        if (nt < 1)
            nt = 1;
        dl_blas_set_threads(nt);
        printf("\n==== %d BLAS thread%s ====\n", nt, nt > 1 ? "s" : "");
        if (!strcmp(model, "all") || !strcmp(model, "resnet18"))
            bench_model("resnet18 3x64x64", RESNET18, (int)(sizeof RESNET18 / sizeof RESNET18[0]),
                        64, reps);
        if (!strcmp(model, "all") || !strcmp(model, "fmnist"))
            bench_model("Fashion-MNIST ResNet 1x28x28", FMNIST,
                        (int)(sizeof FMNIST / sizeof FMNIST[0]), 128, reps);
        const char *comma = strchr(t, ',');
        if (!comma)
            break;
        t = comma + 1;
    }
    return 0;
}
