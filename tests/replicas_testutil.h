/* replicas_testutil: what the data-parallel suites share (static helpers, one includer each):
 * training a short resnet-xs run on Fashion-MNIST through the built program, and reading back a
 * run's per-batch losses, final weights, status and epoch metrics from its store. */
#ifndef DL_REPLICAS_TESTUTIL_H
#define DL_REPLICAS_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/run/session.h"
#include "core/store/store.h"
#include "tests/testutil.h"

/* 20 steps of resnet-xs (b64) in a regime where one replica's own arithmetic noise (another
 * summation order, e.g. another GEMM kernel) stays below 1e-5 relative over 20 steps: SGD at a
 * constant 1e-3. Adam's default one-cycle amplifies float noise chaotically (docs/scaling.md). */
#define RT_REPRO                                                                                   \
    "fashion-mnist --limit 1280 --valid-limit 64 --arch resnet-xs --head torchvision "             \
    "--bs 64 --epochs 1 --opt sgd --lr ..0.001 --fit --no-tui"

/* Runs `[prefix] dllab train ARGS --runs DIR --name NAME`; returns its exit code. */
static int rt_train(const char *prefix, const char *dir, const char *name, const char *args)
{
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "%s %s train %s --runs '%s' --name %s 2>&1", prefix ? prefix : "",
             tu_dllab(), args, dir, name);
    int rc = tu_sh(cmd, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s\n-> exit %d\n%s\n", cmd, rc, out);
    return rc;
}

static dl_store *rt_open(const char *dir)
{
    dl_store *st;
    dl_err err;
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    return st;
}

static int64_t rt_run(dl_store *st, const char *name)
{
    int64_t id;
    dl_err err;
    ck_assert_msg(dl_store_run_find(st, name, &id, &err) == DL_OK, "%s: %s", name, err.msg);
    return id;
}

/* the run's raw batch losses, in step order (malloc'd) */
static double *rt_losses(const char *dir, const char *name, size_t *n)
{
    dl_store *st = rt_open(dir);
    dl_batch_row *rows;
    dl_err err;
    ck_assert_msg(dl_store_batches(st, rt_run(st, name), -1, &rows, n, &err) == DL_OK, "%s",
                  err.msg);
    double *l = malloc((*n ? *n : 1) * sizeof *l);
    for (size_t i = 0; i < *n; i++)
        l[i] = rows[i].loss;
    free(rows);
    dl_store_close(st);
    return l;
}

static void rt_same_losses(const char *dir, const char *a, const char *b, size_t want_n,
                           double rtol)
{
    size_t na, nb;
    double *la = rt_losses(dir, a, &na), *lb = rt_losses(dir, b, &nb);
    ck_assert_msg(na == want_n && nb == want_n, "%zu and %zu batches (want %zu)", na, nb, want_n);
    for (size_t i = 0; i < na; i++)
        ck_assert_msg(fabs(la[i] - lb[i]) <= rtol * fabs(la[i]),
                      "batch %zu: %s loss %.9g, %s %.9g (rel %.2g > %.0e)", i, a, la[i], b, lb[i],
                      fabs(la[i] - lb[i]) / fabs(la[i]), rtol);
    free(la);
    free(lb);
}

/* the weights of the run's latest checkpoint agree within atol, tensor by tensor */
static void rt_same_weights(const char *dir, const char *a, const char *b, double atol)
{
    dl_store *st = rt_open(dir);
    dl_tensor_map ma, mb;
    dl_err err;
    ck_assert_msg(dl_run_checkpoint_read(st, rt_run(st, a), -1, false, &ma, &err) == DL_OK, "%s",
                  err.msg);
    ck_assert_msg(dl_run_checkpoint_read(st, rt_run(st, b), -1, false, &mb, &err) == DL_OK, "%s",
                  err.msg);
    int n_compared = 0;
    for (size_t i = 0; i < ma.n; i++) {
        const dl_named_tensor *x = &ma.items[i], *y = dl_tensor_map_get(&mb, x->name);
        ck_assert_msg(y != NULL, "%s missing in %s", x->name, b);
        if (x->dtype != DL_DTYPE_F32 || strstr(x->name, "running_") ||
            !strncmp(x->name, "opt.", 4) || !strncmp(x->name, "learner.", 8))
            continue; /* weights only (the optimiser state and BN buffers follow from them) */
        size_t n = 1;
        for (int d = 0; d < x->ndim; d++)
            n *= (size_t)x->shape[d];
        const float *p = x->data, *q = y->data;
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(fabsf(p[j] - q[j]) <= atol, "%s[%zu]: %.9g vs %.9g", x->name, j, p[j],
                          q[j]);
        n_compared++;
    }
    ck_assert_msg(n_compared > 10, "only %d weight tensors compared", n_compared);
    dl_tensor_map_free(&ma);
    dl_tensor_map_free(&mb);
    dl_store_close(st);
}

static dl_run_status rt_status(const char *dir, const char *name, int *n_epochs)
{
    dl_store *st = rt_open(dir);
    dl_run r;
    ck_assert(dl_store_run_get(st, rt_run(st, name), &r, NULL) == DL_OK);
    dl_run_status s = r.status;
    if (n_epochs)
        *n_epochs = r.n_epochs;
    dl_run_clear(&r);
    dl_store_close(st);
    return s;
}

#endif
