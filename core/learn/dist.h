/* dist: the transport between the processes of a data-parallel run (one interface, two builds).
 * Built with Open MPI (configure finds it) and started by mpirun, dllab is rank r of n processes;
 * otherwise it is rank 0 of 1 and every call below is a no-op, so callers never test the build.
 *
 * All collectives are called by every rank in the same order, from one thread per process at a
 * time (MPI_THREAD_SERIALIZED): the trainer thread. A failed collective, or one that makes no
 * progress for the watchdog's timeout, ends every rank (MPI_Abort): a rank never waits forever
 * on a peer that has died. */
#ifndef DL_LEARN_DIST_H
#define DL_LEARN_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Starts MPI when this process was launched by mpirun (its environment says so); else nothing.
 * Call once, first thing in main. */
dl_status dl_dist_init(int *argc, char ***argv, dl_err *err);
void dl_dist_finalize(void);

bool dl_dist_built(void);            /* compiled with MPI */
const char *dl_dist_transport(void); /* "mpi" in an mpirun job, else "none" */
int dl_dist_rank(void);
int dl_dist_size(void);
/* Processes of this job on this machine (mpirun's local size; 1 outside mpirun). */
int dl_dist_local_size(void);

/* In-place sums over all ranks. */
void dl_dist_sum_f32(float *v, size_t n);
void dl_dist_sum_f64(double *v, size_t n);
/* Rank 0's bytes to every rank. */
void dl_dist_bcast(void *p, size_t bytes);

/* A started in-place float sum that completes later (MPI_Iallreduce): overlaps the sum of one
 * bucket of gradients with the backward of the layers before it. At most DL_DIST_MAX_PENDING at
 * once; dl_dist_wait_all completes every started one in order. */
#define DL_DIST_MAX_PENDING 64
void dl_dist_isum_f32(float *v, size_t n);
void dl_dist_wait_all(void);

/* Called once, with the reason, before dl_dist_abort ends the job (rank 0 marks its run crashed
 * there); NULL removes it. The hook runs on whichever thread aborts. */
typedef void (*dl_dist_abort_hook)(void *user, const char *why);
void dl_dist_set_abort_hook(dl_dist_abort_hook fn, void *user);

/* Ends every rank: a rank that cannot go on (its reason is logged first). */
void dl_dist_abort(const char *why) __attribute__((noreturn));

/* The watchdog: a sum of the training step running longer than this many seconds aborts the job
 * (0: off); default 120, or $DLLAB_DIST_TIMEOUT. On rank 0 a stop signal (mpirun's SIGTERM after
 * a rank died) while a sum waits for 1 s aborts too, so its hook can say why. */
void dl_dist_set_timeout(double seconds);

/* Seconds spent inside gradient sums (started to completed, and waiting), since the start. */
double dl_dist_allreduce_seconds(void);
double dl_dist_wait_seconds(void);

#endif
