/* replicas: data parallelism inside one process (and, through core/learn/dist.h, across the
 * ranks of an mpirun job). N replicas of the model share the master's parameter block; each has
 * its own activations, gradient block and BN buffers, and runs forward and backward on its slice
 * of the batch on its own thread (replica 0 on the caller's: the trainer thread). The gradients
 * are then summed into the master's gradient block by all replica threads at once, each over its
 * own chunk of the block (no locks), and summed over the ranks, so one optimiser step follows,
 * identical everywhere.
 *
 * The batch is the GLOBAL batch: rank r of R with N replicas takes part p = r*N + k of R*N equal
 * parts (items [B*p/(R*N), B*(p+1)/(R*N))). Each part's loss gradient is weighted by its share of
 * the batch, so the summed gradient is the global batch mean's, as one replica would compute it.
 *
 * BatchNorm: per-replica batch statistics (PyTorch DDP's default), the running statistics being
 * replica 0's (rank 0's: copied to the replicas before every step, as DDP broadcasts buffers);
 * with sync_bn the statistics are taken over the whole global batch (core/ops batchnorm_sync.c),
 * which reproduces one replica's training up to summation order. */
#ifndef DL_LEARN_REPLICAS_H
#define DL_LEARN_REPLICAS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/data/data.h"
#include "core/err.h"
#include "core/models/model.h"

typedef struct dl_replicas dl_replicas;

/* n >= 1 replicas of master (replica 0 is master itself; n - 1 threads are started). */
dl_status dl_replicas_create(dl_replicas **out, dl_model *master, int n, bool sync_bn, dl_err *err);
void dl_replicas_free(dl_replicas *r);
int dl_replicas_count(const dl_replicas *r);
bool dl_replicas_sync_bn(const dl_replicas *r);

/* Forward, loss and backward of this rank's share of the global batch b: afterwards the master's
 * gradient block holds the gradient of the global mean loss (all replicas, all ranks) and *loss
 * that loss. Every rank calls it for every batch (it holds collectives). */
dl_status dl_replicas_step(dl_replicas *r, const dl_batch *b, double *loss, dl_err *err);

/* Where the time went, summed over the steps (seconds, wall clock of the caller's thread). */
typedef struct dl_replicas_times {
    uint64_t steps;
    double compute; /* forward + loss + backward of replica 0, until every replica is done */
    double reduce;  /* summing the replicas' gradients into the master's */
    double comm;    /* waiting for the ranks' gradient sum (MPI) */
} dl_replicas_times;
void dl_replicas_get_times(const dl_replicas *r, dl_replicas_times *t);

/* The largest replica count a global batch of bs allows with `ranks` processes and `cores`
 * usable cores per process: the largest n <= cores with bs divisible by n * ranks (at least 1). */
int dl_replicas_auto(int bs, int ranks, int cores);

#endif
