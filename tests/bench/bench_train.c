/* bench_train: training throughput of dllab's engine (forward + backward + Adam step, images/s,
 * median of timed steps after warm-up) for resnet18 at 3x64x64 batch 64 and the Fashion-MNIST
 * ResNet (resnet-xs) at 1x28x28 batch 128, with the median split into forward / loss+backward /
 * optimiser so the report can say where the time goes, and peak RSS. cpu_img/s divides by the
 * process CPU time of the median step instead of wall time: on a shared host that time-slices
 * our core it stays near the quiet-machine figure (1 thread), where img/s drops with the load.
 * Prints one line in the format of bench_train_torch.py; bench_train.sh alternates the two.
 * Not part of make check: timings are never pass/fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/blas_select.h"
#include "core/models/model.h"
#include "core/ops/ops.h"
#include "core/train/optim.h"
#include "core/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    const char *arch = "resnet18", *head = "torchvision";
    int threads = 1, steps = 6, warmup = 2, batch = 0, eval = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            arch = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--head") && i + 1 < argc)
            head = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--eval"))
            eval = 1;
        else {
            fprintf(stderr, "usage: bench_train [--model resnet18|resnet-xs] [--threads T] "
                            "[--steps N] [--warmup W]"
                            " [--head torchvision|fastai] [--batch N] [--eval]\n");
            return 2;
        }
    }
    if (steps < 1 || steps > 1000 || warmup < 0) {
        fprintf(stderr, "bench_train: --steps must be 1..1000\n");
        return 2;
    }
    dl_blas_set_threads(threads);
    int small = strcmp(arch, "resnet18") != 0;
    int n = batch > 0 ? batch : small ? 128 : 64, c = small ? 1 : 3, hw = small ? 28 : 64, k = 10;
    const int fastai = !strcmp(head, "fastai");

    dl_err err;
    dl_model *m;
    dl_model_cfg cfg = {.arch = arch,
                        .in_channels = c,
                        .n_out = k,
                        .head = fastai ? DL_HEAD_FASTAI : DL_HEAD_TORCHVISION,
                        .seed = 0};
    if (dl_model_create(&m, &cfg, &err) != DL_OK) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    dl_params *ps = dl_model_params(m);
    dl_optim opt;
    if (dl_optim_init(&opt, DL_OPTIM_ADAM, ps, &err) != DL_OK) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    size_t in_len = (size_t)n * c * hw * hw;
    float *x = malloc(in_len * sizeof *x), *dlogits = malloc((size_t)n * k * sizeof *dlogits);
    int32_t *y = malloc((size_t)n * sizeof *y);
    dl_rng r;
    dl_rng_seed(&r, 0, 0, 0);
    for (size_t i = 0; i < in_len; i++)
        x[i] = dl_rng_normal(&r);
    for (int i = 0; i < n; i++)
        y[i] = (int32_t)dl_rng_below(&r, (uint64_t)k);

    double *t_step = calloc((size_t)steps, sizeof(double)),
           *t_fwd = calloc((size_t)steps, sizeof(double));
    double *t_bwd = calloc((size_t)steps, sizeof(double)),
           *t_opt = calloc((size_t)steps, sizeof(double));
    double *t_cpu = calloc((size_t)steps, sizeof(double));
    double loss = 0;
    for (int s = 0; s < warmup + steps; s++) {
        double c0 = cpu_now(), t0 = now();
        const float *logits;
        if (eval) { /* evaluation: the forward in eval mode only (validation, interpretation) */
            if (dl_model_forward(m, x, n, hw, hw, false, &logits, &err) != DL_OK) {
                fprintf(stderr, "bench_train: %s\n", err.msg);
                return 1;
            }
            if (s >= warmup)
                t_cpu[s - warmup] = cpu_now() - c0,
                          t_step[s - warmup] = t_fwd[s - warmup] = now() - t0;
            continue;
        }
        dl_params_zero_grad(ps);
        if (dl_model_forward(m, x, n, hw, hw, true, &logits, &err) != DL_OK) {
            fprintf(stderr, "bench_train: %s\n", err.msg);
            return 1;
        }
        double t1 = now();
        loss = dl_cross_entropy(dlogits, logits, y, n, k);
        if (dl_model_backward(m, dlogits, &err) != DL_OK) {
            fprintf(stderr, "bench_train: %s\n", err.msg);
            return 1;
        }
        double t2 = now();
        dl_optim_step(&opt);
        double t3 = now(), c3 = cpu_now();
        if (s >= warmup) {
            t_cpu[s - warmup] = c3 - c0;
            t_step[s - warmup] = t3 - t0;
            t_fwd[s - warmup] = t1 - t0;
            t_bwd[s - warmup] = t2 - t1;
            t_opt[s - warmup] = t3 - t2;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double med = median(t_step, steps);
    printf("dllab %s%s%s threads=%d img/s=%.1f cpu_img/s=%.1f steps=%d rss_mb=%.0f fwd_ms=%.0f "
           "bwd_ms=%.0f opt_ms=%.1f loss=%.3f kernel=%s\n",
           arch, fastai ? "+fastai" : "", eval ? " eval" : "", threads, n / med,
           n / median(t_cpu, steps), steps, ru.ru_maxrss / 1024.0, 1e3 * median(t_fwd, steps),
           1e3 * median(t_bwd, steps), 1e3 * median(t_opt, steps), loss, dl_blas_corename());
    dl_optim_free(&opt);
    dl_model_free(m);
    free(x);
    free(y);
    free(dlogits);
    free(t_step);
    free(t_fwd);
    free(t_bwd);
    free(t_opt);
    free(t_cpu);
    return 0;
}
