/* learner_thread: runs a learner job (fit, fine_tune, lr_find) on its own pthread. SIGINT,
 * SIGTERM and SIGPIPE are blocked in it so they reach the main thread, whose handler only sets
 * the flag the learner checks at each batch boundary. Refuses a second start while running. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/learn/learner_internal.h"

static void *job_main(void *arg)
{
    dl_learner *l = arg;
    dl_err *err = &l->job_err;
    dl_err_clear(err);
    switch (l->job.kind) {
    case DL_JOB_FIT:
        l->job_status = dl_learner_fit(l, &l->job.fit, err);
        break;
    case DL_JOB_FINE_TUNE:
        l->job_status =
            dl_learner_fine_tune(l, l->job.epochs, l->job.base_lr, l->job.freeze_epochs, err);
        break;
    case DL_JOB_LRFIND:
        l->job_status = dl_learner_lr_find(l, &l->job.lrfind, l->job.curve, err);
        l->phase = l->job_status == DL_OK ? DL_PHASE_DONE : DL_PHASE_FAILED;
        break;
    }
    /* every rank ends its job at the same boundary (rank 0's decision, broadcast): they check
     * together that they took the same steps */
    if (l->job_status == DL_OK)
        dl_learner_dist_check_weights(l);
    if (l->job_status != DL_OK && l->job_status != DL_EDIVERGED)
        l->phase = DL_PHASE_FAILED;
    if (l->job_status != DL_OK)
        snprintf(l->message, sizeof l->message, "%.150s", err->msg);
    dl_learner_publish(l);
    atomic_store(&l->job_done, true);
    return NULL;
}

dl_status dl_learner_start(dl_learner *l, const dl_job *job, dl_err *err)
{
    if (l->running)
        return dl_err_set(err, DL_EINVAL, "the learner is already running a job");
    if (job->kind == DL_JOB_LRFIND && !job->curve)
        return dl_err_set(err, DL_EINVAL, "an LR-finder job needs a curve to fill");
    l->job = *job;
    atomic_store(&l->job_done, false);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&l->th, NULL, job_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return dl_err_set(err, DL_EINVAL, "starting the training thread: %s", strerror(rc));
    l->running = true;
    return DL_OK;
}

dl_status dl_learner_join(dl_learner *l, dl_err *err)
{
    if (!l->running)
        return DL_OK;
    pthread_join(l->th, NULL);
    l->running = false;
    if (err)
        *err = l->job_err;
    return l->job_status;
}

bool dl_learner_job_done(dl_learner *l) { return !l->running || atomic_load(&l->job_done); }
