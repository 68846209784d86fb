/* dist: the single-process build of the transport (see dist.h), and what both builds share.
 * With MPI compiled in, the calls go to dist_mpi.c when this process is part of an mpirun job. */
#include "core/learn/dist.h"

#include "config.h"

#include <stdlib.h>

#include "core/log.h"

bool dl_dist_built(void)
{
#ifdef HAVE_MPI
    return true;
#else
    return false;
#endif
}

#ifndef HAVE_MPI
dl_status dl_dist_init(int *argc, char ***argv, dl_err *err)
{
    (void)argc, (void)argv, (void)err;
    return DL_OK;
}
void dl_dist_finalize(void) {}
const char *dl_dist_transport(void) { return "none"; }
int dl_dist_rank(void) { return 0; }
int dl_dist_size(void) { return 1; }
int dl_dist_local_size(void) { return 1; }
void dl_dist_sum_f32(float *v, size_t n) { (void)v, (void)n; }
void dl_dist_sum_f64(double *v, size_t n) { (void)v, (void)n; }
void dl_dist_bcast(void *p, size_t bytes) { (void)p, (void)bytes; }
void dl_dist_isum_f32(float *v, size_t n) { (void)v, (void)n; }
void dl_dist_wait_all(void) {}
void dl_dist_set_abort_hook(dl_dist_abort_hook fn, void *user) { (void)fn, (void)user; }
void dl_dist_abort(const char *why)
{
    dl_log(DL_LOG_ERROR, "%s", why);
    abort();
}
void dl_dist_set_timeout(double seconds) { (void)seconds; }
double dl_dist_allreduce_seconds(void) { return 0; }
double dl_dist_wait_seconds(void) { return 0; }
#endif
