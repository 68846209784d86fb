/* bench_replicas: training throughput of data parallelism (core/learn/replicas.c): img/s of the
 * global batch (forward + backward + gradient sums + Adam step) for resnet-xs@28 b128 or
 * resnet18@64 b64 with N replicas, and under mpirun with the ranks; the median step split into
 * compute (every replica's forward and backward), reduce (the replicas' gradient sum) and
 * allreduce (waiting for the ranks' sum), and the gradient bytes a step sums. cpu_img/s divides
 * by the process CPU time instead (the machine is shared). `--fma` instead measures the FMA peak
 * on 1 thread and on 2 threads at once: how many real cores the vCPUs give right now.
 * Only rank 0 prints. Not part of make check: timings are never pass/fail. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas_select.h"
#include "core/learn/dist.h"
#include "core/learn/replicas.h"
#include "core/models/model.h"
#include "core/ops/ops.h"
#include "core/rng.h"
#include "core/train/optim.h"
#include "tests/bench/fma_peak.h"

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

/* ---- the FMA probe: wall-clock FLOP rate of 1 thread, then of 2 at once ---- */
static void *fma_thread(void *arg)
{
    *(double *)arg = fma_peak();
    return NULL;
}

static int probe(void)
{
    double t0 = now(), one = fma_peak(), t1 = now();
    double r1 = one; /* CPU-time rate of one thread */
    double g[2];
    pthread_t th[2];
    double t2 = now();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, fma_thread, &g[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double t3 = now();
    /* the same work took (t3 - t2) for two threads and (t1 - t0) for one: the ratio of wall-clock
     * rates is the number of cores the two threads really got */
    double cores = 2.0 * (t1 - t0) / (t3 - t2);
    printf("fma 1-thread=%.0f GFLOP/s 2-thread wall: %.2f cores (per-thread CPU-time rates %.0f, "
           "%.0f)\n",
           r1, cores, g[0], g[1]);
    return 0;
}

/* ---- the transport alone: an in-place sum of `mb` megabytes over the ranks, best of 5 ---- */
static int allreduce_only(double mb)
{
    size_t n = (size_t)(mb * 1e6 / 4);
    float *v = calloc(n ? n : 1, sizeof *v);
    double best = 1e30;
    for (int r = 0; r < 6; r++) {
        double t0 = now();
        dl_dist_sum_f32(v, n);
        double t = now() - t0;
        if (r > 0 && t < best)
            best = t;
    }
    if (dl_dist_rank() == 0)
        printf("allreduce ranks=%d transport=%s mb=%.1f ms=%.1f algbw_gbit=%.2f busbw_gbit=%.2f\n",
               dl_dist_size(), dl_dist_transport(), mb, 1e3 * best, mb * 8e-3 / best,
               mb * 8e-3 / best * 2.0 * (dl_dist_size() - 1) / dl_dist_size());
    free(v);
    dl_dist_finalize();
    return 0;
}

int main(int argc, char **argv)
{
    const char *arch = "resnet-xs";
    int replicas = 1, steps = 6, warmup = 2;
    dl_err err;
    if (dl_dist_init(&argc, &argv, &err) != DL_OK) {
        fprintf(stderr, "bench_replicas: %s\n", err.msg);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fma"))
            return probe();
        else if (!strcmp(argv[i], "--allreduce") && i + 1 < argc)
            return allreduce_only(atof(argv[++i]));
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            arch = argv[++i];
        else if (!strcmp(argv[i], "--replicas") && i + 1 < argc)
            replicas = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: bench_replicas [--fma | --allreduce MB] [--model resnet18|resnet-xs] "
                    "[--replicas N] [--steps N] [--warmup W]\n");
            return 2;
        }
    }
    if (steps < 1 || steps > 1000 || warmup < 0 || replicas < 1) {
        fprintf(stderr, "bench_replicas: bad --steps, --warmup or --replicas\n");
        return 2;
    }
    dl_blas_set_threads(1);
    const int ranks = dl_dist_size(), rank = dl_dist_rank();
    int small = !strncmp(arch, "resnet-", 7); /* the 28-px zoo; torchvision's ResNets at 64 px */
    int n = small ? 128 : 64, c = small ? 1 : 3, hw = small ? 28 : 64, k = 10;
    dl_model *m;
    dl_model_cfg cfg = {
        .arch = arch, .in_channels = c, .n_out = k, .head = DL_HEAD_TORCHVISION, .seed = 0};
    dl_optim opt;
    dl_replicas *rep = NULL;
    if (dl_model_create(&m, &cfg, &err) != DL_OK ||
        dl_optim_init(&opt, DL_OPTIM_ADAM, dl_model_params(m), &err) != DL_OK ||
        ((replicas > 1 || ranks > 1) &&
         dl_replicas_create(&rep, m, replicas, false, &err) != DL_OK)) {
        fprintf(stderr, "bench_replicas: %s\n", err.msg);
        return 1;
    }
    dl_params *ps = dl_model_params(m);
    size_t in_len = (size_t)n * c * hw * hw;
    float *x = malloc(in_len * sizeof *x), *dlogits = malloc((size_t)n * k * sizeof *dlogits);
    int32_t *y = malloc((size_t)n * sizeof *y);
    dl_rng r;
    dl_rng_seed(&r, 0, 0, 0);
    for (size_t i = 0; i < in_len; i++)
        x[i] = dl_rng_normal(&r);
    for (int i = 0; i < n; i++)
        y[i] = (int32_t)dl_rng_below(&r, (uint64_t)k);
    dl_batch b = {.n = n, .c = c, .h = hw, .w = hw, .images = x, .targets = y, .n_classes = k};
    double *t_step = calloc((size_t)steps, sizeof(double)),
           *t_cpu = calloc((size_t)steps, sizeof(double));
    double *t_comp = calloc((size_t)steps, sizeof(double)),
           *t_red = calloc((size_t)steps, sizeof(double)),
           *t_comm = calloc((size_t)steps, sizeof(double));
    double loss = 0;
    for (int s = 0; s < warmup + steps; s++) {
        dl_replicas_times before = {0}, after = {0};
        if (rep)
            dl_replicas_get_times(rep, &before);
        double c0 = cpu_now(), t0 = now();
        if (rep) {
            if (dl_replicas_step(rep, &b, &loss, &err) != DL_OK) {
                fprintf(stderr, "bench_replicas: %s\n", err.msg);
                return 1;
            }
        } else {
            const float *logits;
            dl_params_zero_grad(ps);
            if (dl_model_forward(m, x, n, hw, hw, true, &logits, &err) != DL_OK) {
                fprintf(stderr, "bench_replicas: %s\n", err.msg);
                return 1;
            }
            loss = dl_cross_entropy(dlogits, logits, y, n, k);
            dl_model_backward(m, dlogits, &err);
        }
        dl_optim_step(&opt);
        double t1 = now(), c1 = cpu_now();
        if (rep)
            dl_replicas_get_times(rep, &after);
        if (s >= warmup) {
            int j = s - warmup;
            t_step[j] = t1 - t0;
            t_cpu[j] = c1 - c0;
            t_comp[j] = rep ? after.compute - before.compute : t1 - t0;
            t_red[j] = rep ? after.reduce - before.reduce : 0;
            t_comm[j] = rep ? after.comm - before.comm : 0;
        }
    }
    if (rank == 0) {
        double med = median(t_step, steps);
        /* cpu: this process's CPU time; with ranks, every rank burns about as much */
        printf("dllab %s replicas=%d ranks=%d transport=%s img/s=%.1f cpu_img/s=%.1f step_ms=%.0f "
               "compute_ms=%.0f reduce_ms=%.1f allreduce_ms=%.1f grad_mb=%.1f steps=%d loss=%.3f\n",
               arch, replicas, ranks, dl_dist_transport(), n / med,
               n / (median(t_cpu, steps) * ranks), 1e3 * med, 1e3 * median(t_comp, steps),
               1e3 * median(t_red, steps), 1e3 * median(t_comm, steps), ps->total * 4.0 / 1e6,
               steps, loss);
    }
    dl_replicas_free(rep);
    dl_optim_free(&opt);
    dl_model_free(m);
    free(x);
    free(y);
    free(dlogits);
    free(t_step);
    free(t_cpu);
    free(t_comp);
    free(t_red);
    free(t_comm);
    dl_dist_finalize();
    return 0;
}
