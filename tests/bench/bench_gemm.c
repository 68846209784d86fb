/* bench_gemm: dllab's own SGEMM (core/ops/gemm) beside OpenBLAS's cblas_sgemm on the GEMM shapes
 * the convolutions of resnet-xs (Fashion-MNIST) and resnet18@64 produce, with a 1-core FMA peak
 * probe so every rate reads as a share of what the core can do. Times are the calling thread's
 * CPU time (a loaded host steals wall time, not CPU time), median of --reps runs after a warm-up.
 * Prints which implementation wins each shape. Not a test: built by `make bench`.
 * Usage: bench_gemm [--reps N] [--isa portable|avx2|avx512] */
#include <cblas.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas_select.h"
#include "core/ops/gemm/gemm.h"
#include "tests/bench/fma_peak.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct shape {
    const char *what;
    int m, n, k;
    int ta, tb;
} shape;

/* (M, N, K, transposes) as dl_conv2d issues them per image (or per tile) */
static const shape SHAPES[] = {
    {"xs stem fwd (im2col)", 32, 784, 9, 0, 0},
    {"xs stage1 fwd, per tap (shift)", 32, 840, 32, 0, 0},
    {"xs stage1 fwd as one GEMM (im2col)", 32, 784, 288, 0, 0},
    {"xs stage1 bwd-data, per tap (shift)", 32, 840, 32, 1, 0},
    {"xs stage1 dW^T (K,OC) += col dY^T", 288, 32, 784, 0, 1},
    {"xs stage1 dW (OC,K) += dY col^T", 32, 288, 784, 0, 1},
    {"xs stage2.0 s2 fwd", 64, 196, 288, 0, 0},
    {"xs stage2 fwd", 64, 196, 576, 0, 0},
    {"xs stage2 bwd-data col = W^T dY", 576, 196, 64, 1, 0},
    {"xs stage2 dW^T += col dY^T", 576, 64, 196, 0, 1},
    {"xs stage2 dW (OC,K) += dY col^T", 64, 576, 196, 0, 1},
    {"xs stage3 fwd (tile 6)", 128, 294, 1152, 0, 0},
    {"xs stage3 bwd-data", 1152, 294, 128, 1, 0},
    {"xs stage3 dW += dY col^T", 128, 1152, 294, 0, 1},
    {"r18 layer1 fwd", 64, 256, 576, 0, 0},
    {"r18 layer1 bwd-data", 576, 256, 64, 1, 0},
    {"r18 layer1 dW^T", 576, 64, 256, 0, 1},
    {"r18 layer1 dW (OC,K)", 64, 576, 256, 0, 1},
    {"r18 layer2 fwd (tile 4)", 128, 256, 1152, 0, 0},
    {"r18 layer3 fwd (tile 16)", 256, 256, 2304, 0, 0},
    {"r18 layer4 fwd (tile 64)", 512, 256, 4608, 0, 0},
};

static double time_one(const shape *s, int own, int reps, float *a, float *b, float *c)
{
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    double *t = malloc(sizeof(double) * (size_t)reps);
    /* enough calls per rep for ~10 ms */
    double flop = 2.0 * s->m * s->n * s->k;
    int calls = (int)(2e8 / flop) + 1;
    for (int r = -1; r < reps; r++) {
        double t0 = fma_cpu_now();
        for (int i = 0; i < calls; i++) {
            if (own)
                dl_sgemm(s->ta, s->tb, s->m, s->n, s->k, a, lda, b, ldb, 0.0f, c, s->n);
            else
                cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                            s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, lda, b,
                            ldb, 0.0f, c, s->n);
        }
        if (r >= 0)
            t[r] = (fma_cpu_now() - t0) / calls;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double med = t[reps / 2];
    free(t);
    return flop / med * 1e-9;
}

int main(int argc, char **argv)
{
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            const char *w = argv[++i];
            for (int j = 0; j < DL_GEMM_ISA_COUNT; j++)
                if (!strcmp(w, dl_gemm_isa_name((dl_gemm_isa)j)) &&
                    !dl_gemm_force_isa((dl_gemm_isa)j))
                    fprintf(stderr, "bench_gemm: %s not supported here\n", w);
        }
    }
    if (reps < 1)
        reps = 1;
    dl_blas_set_threads(1);
    double peak = fma_peak();
    printf("1-core FMA peak probe: %.1f GFLOP/s; dllab gemm: %s; OpenBLAS kernel: %s "
           "(OPENBLAS_CORETYPE=%s)\n",
           peak, dl_gemm_isa_name(dl_gemm_isa_active()), dl_blas_corename(),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    printf("%-38s %5s %5s %5s %2s %2s | %8s %5s | %8s %5s | %s\n", "shape", "M", "N", "K", "tA",
           "tB", "dllab", "%pk", "OpenBLAS", "%pk", "choice");
    float *a = malloc(sizeof(float) * 4608 * 512), *b = malloc(sizeof(float) * 4608 * 512);
    float *c = malloc(sizeof(float) * 1152 * 1152);
    for (size_t i = 0; i < 4608 * 512; i++)
        a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f, b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
    for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++) {
        const shape *s = &SHAPES[i];
        double own = time_one(s, 1, reps, a, b, c), ob = time_one(s, 0, reps, a, b, c);
        printf("%-38s %5d %5d %5d %2d %2d | %8.1f %4.0f%% | %8.1f %4.0f%% | %s\n", s->what, s->m,
               s->n, s->k, s->ta, s->tb, own, 100 * own / peak, ob, 100 * ob / peak,
               own >= ob ? "dllab" : "OpenBLAS");
    }
    free(a), free(b), free(c);
    return 0;
}
