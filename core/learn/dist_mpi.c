/* dist_mpi: the Open MPI build of the transport (see dist.h); compiled to nothing without MPI.
 *
 * A process not started by mpirun never calls MPI_Init (a singleton start is slow and prints
 * warnings) and behaves as rank 0 of 1. Errors on the world communicator go to an error handler
 * that logs the rank and the reason and aborts the whole job; a watchdog thread aborts it when a
 * collective of the training step makes no progress for the timeout, so no rank hangs forever
 * on a peer that stopped answering without dying. */
#include "config.h"

#ifdef HAVE_MPI
#include "core/learn/dist.h"

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/learn/control.h"
#include "core/log.h"

/* Process-wide: MPI's world is one per process, so its rank and size are too. */
static bool on; /* MPI_Init was called */
static int rank_, size_ = 1, local_size = 1;
static MPI_Request pending[DL_DIST_MAX_PENDING];
static int n_pending;
static double t_wait;            /* seconds blocked on gradient sums (trainer thread only) */
static _Atomic double t_entered; /* when the current sum of the step began, 0: none */
#define SIGNAL_GRACE 1.0         /* seconds in a sum with a stop signal pending (rank 0) */
static dl_dist_abort_hook hook;  /* set by the trainer's owner before training, read on abort */
static void *hook_user;
static atomic_flag aborting = ATOMIC_FLAG_INIT;
static _Atomic double timeout_s = 120;

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

static bool launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

void dl_dist_set_abort_hook(dl_dist_abort_hook fn, void *user)
{
    hook_user = user;
    hook = fn;
}

void dl_dist_abort(const char *why)
{
    if (atomic_flag_test_and_set(&aborting)) { /* another thread is aborting already */
        for (;;)
            pause();
    }
    if (hook)
        hook(hook_user, why);
    fprintf(stderr, "dllab: rank %d of %d: %s: ending every rank\n", rank_, size_, why);
    fflush(stderr);
    if (on)
        MPI_Abort(MPI_COMM_WORLD, 3);
    abort();
}

static void on_mpi_error(MPI_Comm *comm, int *code, ...)
{
    (void)comm;
    char text[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(*code, text, &len);
    char why[MPI_MAX_ERROR_STRING + 32];
    snprintf(why, sizeof why, "MPI error: %s", text);
    dl_dist_abort(why);
}

/* Two rules. A sum of the training step that makes no progress for the timeout aborts the job.
 * And on rank 0, a stop signal while stuck in a sum: mpirun sends SIGTERM to the survivors when a
 * rank died, and kills them soon after; aborting first lets rank 0's hook record why the run
 * ended. (A user's Ctrl-C reaches every rank between steps, where no sum waits.) */
static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        usleep(100 * 1000);
        double now = dl_clock_now();
        double t0 = atomic_load(&t_entered), lim = atomic_load(&timeout_s);
        if (rank_ == 0 && t0 > 0 && dl_control_signal_pending() && now - t0 > SIGNAL_GRACE)
            dl_dist_abort("stopped by mpirun while waiting for the other ranks: a rank has ended "
                          "(mpirun's message names it)");
        if (t0 > 0 && lim > 0 && now - t0 > lim) {
            char why[128];
            snprintf(why, sizeof why, "no progress in a collective of the training step for %.0f s",
                     lim);
            dl_dist_abort(why);
        }
    }
    return NULL;
}

dl_status dl_dist_init(int *argc, char ***argv, dl_err *err)
{
    if (on || !launched_by_mpirun())
        return DL_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return dl_err_set(err, DL_EIO, "MPI_Init_thread failed");
    on = true;
    if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Finalize();
        on = false;
        return dl_err_set(err, DL_EUNSUPPORTED,
                          "this MPI library gives thread level %d; dllab's trainer thread needs "
                          "MPI_THREAD_SERIALIZED",
                          provided);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    local_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", 1);
    if (local_size < 1)
        local_size = 1;
    MPI_Errhandler eh;
    MPI_Comm_create_errhandler(on_mpi_error, &eh);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh);
    const char *t = getenv("DLLAB_DIST_TIMEOUT");
    if (t && *t)
        atomic_store(&timeout_s, atof(t));
    pthread_t th;
    if (pthread_create(&th, NULL, watchdog, NULL) == 0)
        pthread_detach(th);
    return DL_OK;
}

void dl_dist_finalize(void)
{
    if (on)
        MPI_Finalize();
    on = false;
}

const char *dl_dist_transport(void) { return on ? "mpi" : "none"; }
int dl_dist_rank(void) { return rank_; }
int dl_dist_size(void) { return size_; }
int dl_dist_local_size(void) { return local_size; }
void dl_dist_set_timeout(double seconds) { atomic_store(&timeout_s, seconds); }
double dl_dist_allreduce_seconds(void) { return t_wait; }
double dl_dist_wait_seconds(void) { return t_wait; }

static void enter(void) { atomic_store(&t_entered, dl_clock_now()); }
static void leave(void) { atomic_store(&t_entered, 0.0); }

/* MPI counts are ints: long blocks go in pieces. */
#define PIECE (1 << 30)

void dl_dist_sum_f32(float *v, size_t n)
{
    if (!on || size_ == 1)
        return;
    double t0 = dl_clock_now();
    enter();
    for (size_t o = 0; o < n; o += PIECE) {
        int k = n - o < PIECE ? (int)(n - o) : PIECE;
        MPI_Allreduce(MPI_IN_PLACE, v + o, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    leave();
    t_wait += dl_clock_now() - t0;
}

void dl_dist_sum_f64(double *v, size_t n)
{
    if (!on || size_ == 1)
        return;
    enter();
    MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    leave();
}

void dl_dist_bcast(void *p, size_t bytes)
{
    if (!on || size_ == 1)
        return;
    for (size_t o = 0; o < bytes; o += PIECE) {
        int k = bytes - o < PIECE ? (int)(bytes - o) : PIECE;
        MPI_Bcast((char *)p + o, k, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
}

void dl_dist_isum_f32(float *v, size_t n)
{
    if (!on || size_ == 1)
        return;
    if (n_pending == DL_DIST_MAX_PENDING || n > PIECE) {
        dl_dist_wait_all();
        dl_dist_sum_f32(v, n);
        return;
    }
    MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                   &pending[n_pending++]);
    /* let the library move the first pieces while backward goes on */
    int flag;
    MPI_Testall(n_pending, pending, &flag, MPI_STATUSES_IGNORE);
    if (flag)
        n_pending = 0;
}

void dl_dist_wait_all(void)
{
    if (!n_pending)
        return;
    double t0 = dl_clock_now();
    enter();
    MPI_Waitall(n_pending, pending, MPI_STATUSES_IGNORE);
    leave();
    n_pending = 0;
    t_wait += dl_clock_now() - t0;
}
#endif
