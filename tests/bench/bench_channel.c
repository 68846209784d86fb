/* bench_channel: what the store's steering channel costs a training (docs/architecture.md §4.2).
 * The trainer thread does nothing new per batch (commands reach its existing dl_control queue);
 * the cost is the poller thread's CPU (a PRAGMA data_version every DL_REMOTE_POLL_MS, a command
 * query when the store changed, the live snapshot twice a second), taken from the core the
 * training runs on. It measures:
 *   - a resnet-xs training step (batch 128, 1x28x28: forward, backward, Adam), median CPU time;
 *   - the poller's CPU while a fake trainer publishes a snapshot and logs a batch row each step
 *     (so the store changes as in a real run), as CPU per step and as a percentage of the step;
 *   - the pickup latency: from a command's commit by another connection to its arrival in the
 *     control queue (median and max of 20).
 * Not part of make check: timings are never pass/fail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/blas_select.h"
#include "core/clock.h"
#include "core/learn/remote.h"
#include "core/models/model.h"
#include "core/ops/ops.h"
#include "core/rng.h"
#include "core/store/store.h"
#include "core/train/optim.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 20;
    if (steps < 3)
        steps = 3;
    dl_blas_set_threads(1);
    dl_err err = {0};
    dl_model *m;
    dl_model_cfg cfg = {.arch = "resnet-xs", .in_channels = 1, .n_out = 10, .seed = 0};
    if (dl_model_create(&m, &cfg, &err) != DL_OK) {
        fprintf(stderr, "bench_channel: %s\n", err.msg);
        return 1;
    }
    dl_params *ps = dl_model_params(m);
    dl_optim opt;
    dl_optim_init(&opt, DL_OPTIM_ADAM, ps, &err);
    int n = 128, k = 10, hw = 28;
    float *x = malloc(sizeof(float) * n * hw * hw), *dlogits = malloc(sizeof(float) * n * k);
    int32_t *y = malloc(sizeof(int32_t) * n);
    dl_rng r;
    dl_rng_seed(&r, 0, 0, 0);
    for (int i = 0; i < n * hw * hw; i++)
        x[i] = dl_rng_normal(&r);
    for (int i = 0; i < n; i++)
        y[i] = (int32_t)dl_rng_below(&r, (uint64_t)k);

    char dir[] = "/tmp/bench-channel-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    dl_store *st;
    if (dl_store_open(dir, 0, &st, &err) != DL_OK) {
        fprintf(stderr, "bench_channel: %s\n", err.msg);
        return 1;
    }
    dl_run_spec spec = {.name_prefix = "bench", .dataset = "random", .arch = "resnet-xs"};
    int64_t run;
    char name[DL_STORE_NAME_MAX];
    dl_store_run_create(st, &spec, &run, name, sizeof name, &err);
    dl_control *ctl;
    dl_control_create(&ctl, &err);
    dl_remote *rem;
    if (dl_remote_start(dir, run, ctl, &rem, &err) != DL_OK) {
        fprintf(stderr, "bench_channel: %s\n", err.msg);
        return 1;
    }
    double *step_cpu = calloc((size_t)steps, sizeof(double));
    double poll0 = dl_remote_cpu_seconds(rem), t0 = dl_clock_now();
    double take_s = 0;
    for (int s = 0; s < steps; s++) {
        double c0 = cpu_now();
        /* the batch boundary's channel work, as in dl_learner_boundary */
        double tb = dl_clock_now();
        dl_cmd cmds[DL_CONTROL_QUEUE];
        dl_control_take(ctl, cmds, DL_CONTROL_QUEUE);
        take_s += dl_clock_now() - tb;
        const float *logits;
        dl_params_zero_grad(ps);
        dl_model_forward(m, x, n, hw, hw, true, &logits, &err);
        dl_cross_entropy(dlogits, logits, y, n, k);
        dl_model_backward(m, dlogits, &err);
        dl_optim_step(&opt);
        step_cpu[s] = cpu_now() - c0;
        /* what a trainer publishes and logs each batch */
        dl_snapshot sn;
        memset(&sn, 0, sizeof sn);
        sn.phase = DL_PHASE_TRAIN;
        sn.step = (uint64_t)s;
        sn.n_groups = 3;
        dl_control_publish(ctl, &sn);
        dl_batch_row row = {.step = s, .n_lr = 3, .lr = {1e-3, 1e-3, 1e-3}, .t = 1e9 + s};
        dl_store_log_batch(st, run, &row, &err);
    }
    double wall = dl_clock_now() - t0, poll_cpu = dl_remote_cpu_seconds(rem) - poll0;
    qsort(step_cpu, (size_t)steps, sizeof(double), cmp);
    double step = step_cpu[steps / 2];
    double per_step = poll_cpu / wall * step; /* the poller's CPU during one step's time */
    printf("resnet-xs step (b128, 1 thread): median %.1f ms CPU over %d steps\n", step * 1e3,
           steps);
    printf("poller: %.2f ms CPU in %.1f s (%.3f%% of a core) = %.1f us per step = %.3f%% of a "
           "step\n",
           poll_cpu * 1e3, wall, 100 * poll_cpu / wall, per_step * 1e6, 100 * per_step / step);
    printf("trainer thread: dl_control_take at the boundary %.2f us per step (unchanged: it was "
           "there before)\n",
           take_s / steps * 1e6);

    /* pickup latency: commit by another connection -> in the control queue */
    double lat[20];
    for (int i = 0; i < 20; i++) {
        usleep(37000 + (unsigned)(i * 7919 % 50) * 1000);
        double tp = dl_clock_now();
        dl_store_steer_post(st, run, "unfreeze", "", "bench", NULL, &err);
        dl_cmd c;
        while (dl_control_take(ctl, &c, 1) == 0)
            dl_control_wait(ctl, 5);
        lat[i] = dl_clock_now() - tp;
    }
    qsort(lat, 20, sizeof(double), cmp);
    printf("pickup latency (commit -> control queue): median %.0f ms, max %.0f ms of 20 "
           "(poll every %d ms)\n",
           lat[10] * 1e3, lat[19] * 1e3, DL_REMOTE_POLL_MS);
    dl_remote_stop(rem);
    dl_control_free(ctl);
    dl_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_channel: could not remove %s\n", dir);
    dl_optim_free(&opt);
    dl_model_free(m);
    free(step_cpu);
    free(x);
    free(dlogits);
    free(y);
    return 0;
}
