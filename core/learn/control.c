/* control: command queue, published snapshot, curve/event rings and wake-up fd; see control.h.
 * One mutex guards everything; every critical section is a copy, so neither side waits long.
 * The wake fd is an eventfd: writes coalesce, and a write from a signal handler is safe. */
#include "core/clock.h"
#include "core/learn/control.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct dl_control {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a command is posted */
    dl_cmd queue[DL_CONTROL_QUEUE];
    size_t q_head, q_len;
    dl_snapshot snap;
    dl_curve_point *points; /* ring of DL_CONTROL_POINTS */
    uint64_t n_points;      /* total ever pushed */
    dl_event *events;       /* ring of DL_CONTROL_EVENTS */
    uint64_t n_events;
    int wake_fd;
    double t0; /* dl_clock_now() at creation */
};

static volatile sig_atomic_t g_signal_flag;
static volatile int g_signal_fd = -1;

static const char *const cmd_names[] = {"set_lr", "scale_lr", "freeze",   "unfreeze",
                                        "pause",  "resume",   "stop_now", "stop_after_epoch",
                                        "save",   "lrfind"};
_Static_assert(sizeof cmd_names / sizeof *cmd_names == DL_CMD_COUNT,
               "command names"); /* tripwire */

const char *dl_cmd_name(dl_cmd_kind k)
{
    return (unsigned)k < DL_CMD_COUNT ? cmd_names[k] : "unknown";
}

const char *dl_phase_name(dl_phase p)
{
    static const char *const names[] = {"idle", "train",   "valid",    "lrfind", "paused",
                                        "done", "stopped", "diverged", "failed", "next fit"};
    _Static_assert(sizeof names / sizeof *names == DL_PHASE_NEXT_FIT + 1,
                   "phase names"); /* tripwire */
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "unknown";
}

dl_status dl_control_create(dl_control **out, dl_err *err)
{
    *out = NULL;
    dl_control *c = calloc(1, sizeof *c);
    if (!c)
        return dl_err_set(err, DL_ENOMEM, "out of memory creating the control channel");
    c->points = calloc(DL_CONTROL_POINTS, sizeof *c->points);
    c->events = calloc(DL_CONTROL_EVENTS, sizeof *c->events);
    if (!c->points || !c->events) {
        free(c->points);
        free(c->events);
        free(c);
        return dl_err_set(err, DL_ENOMEM, "out of memory creating the control channel");
    }
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake_fd < 0) {
        int e = errno;
        free(c->points);
        free(c->events);
        free(c);
        return dl_err_set(err, DL_EIO, "eventfd for the control wake-up: %s", strerror(e));
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    c->t0 = dl_clock_now();
    c->snap.valid_loss = NAN;
    c->snap.smooth_loss = NAN;
    c->snap.last_loss = NAN;
    *out = c;
    return DL_OK;
}

void dl_control_free(dl_control *c)
{
    if (!c)
        return;
    if (g_signal_fd == c->wake_fd)
        g_signal_fd = -1;
    close(c->wake_fd);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->points);
    free(c->events);
    free(c);
}

static void wake(int fd)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: a wake-up is pending anyway. */
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;
}

dl_status dl_control_post(dl_control *c, const dl_cmd *cmd, dl_err *err)
{
    if ((unsigned)cmd->kind >= DL_CMD_COUNT)
        return dl_err_set(err, DL_EINVAL, "unknown control command %d", (int)cmd->kind);
    pthread_mutex_lock(&c->mu);
    if (c->q_len == DL_CONTROL_QUEUE) {
        pthread_mutex_unlock(&c->mu);
        return dl_err_set(err, DL_ENOSPC, "control queue full (%d commands waiting): '%s' dropped",
                          DL_CONTROL_QUEUE, dl_cmd_name(cmd->kind));
    }
    c->queue[(c->q_head + c->q_len) % DL_CONTROL_QUEUE] = *cmd;
    c->q_len++;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return DL_OK;
}

size_t dl_control_take(dl_control *c, dl_cmd *out, size_t cap)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->q_len < cap ? c->q_len : cap;
    for (size_t i = 0; i < n; i++)
        out[i] = c->queue[(c->q_head + i) % DL_CONTROL_QUEUE];
    c->q_head = (c->q_head + n) % DL_CONTROL_QUEUE;
    c->q_len -= n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

bool dl_control_wait(dl_control *c, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (c->q_len == 0 && !g_signal_flag)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT)
            break;
    bool have = c->q_len > 0;
    pthread_mutex_unlock(&c->mu);
    return have;
}

void dl_control_publish(dl_control *c, const dl_snapshot *s)
{
    pthread_mutex_lock(&c->mu);
    uint64_t gen = c->snap.gen + 1;
    c->snap = *s;
    c->snap.gen = gen;
    pthread_mutex_unlock(&c->mu);
    wake(c->wake_fd);
}

void dl_control_read(dl_control *c, dl_snapshot *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->snap;
    pthread_mutex_unlock(&c->mu);
}

void dl_control_push_point(dl_control *c, const dl_curve_point *p)
{
    pthread_mutex_lock(&c->mu);
    dl_curve_point *d = &c->points[c->n_points % DL_CONTROL_POINTS];
    *d = *p;
    d->seq = c->n_points++;
    pthread_mutex_unlock(&c->mu);
}

double dl_control_elapsed(const dl_control *c) { return dl_clock_now() - c->t0; }

void dl_control_push_event(dl_control *c, const dl_event *e)
{
    double t = dl_control_elapsed(c);
    pthread_mutex_lock(&c->mu);
    dl_event *d = &c->events[c->n_events % DL_CONTROL_EVENTS];
    *d = *e;
    d->seq = c->n_events++;
    d->t = t;
    pthread_mutex_unlock(&c->mu);
    wake(c->wake_fd);
}

/* Shared ring reader: copies items [max(since, total-cap), total) up to out_cap. */
static size_t ring_read(uint64_t total, size_t ring_cap, uint64_t *since, uint64_t *dropped,
                        size_t out_cap, uint64_t *first)
{
    uint64_t oldest = total > ring_cap ? total - ring_cap : 0;
    uint64_t from = *since < oldest ? oldest : *since;
    if (dropped)
        *dropped = from - (*since < from ? *since : from);
    if (from >= total) {
        *first = total;
        if (*since > total)
            *since = total;
        return 0;
    }
    uint64_t n = total - from;
    if (n > out_cap)
        n = out_cap;
    *first = from;
    *since = from + n;
    return (size_t)n;
}

size_t dl_control_read_points(dl_control *c, uint64_t *since, dl_curve_point *out, size_t cap,
                              uint64_t *dropped)
{
    pthread_mutex_lock(&c->mu);
    uint64_t first;
    size_t n = ring_read(c->n_points, DL_CONTROL_POINTS, since, dropped, cap, &first);
    for (size_t i = 0; i < n; i++)
        out[i] = c->points[(first + i) % DL_CONTROL_POINTS];
    pthread_mutex_unlock(&c->mu);
    return n;
}

size_t dl_control_read_events(dl_control *c, uint64_t *since, dl_event *out, size_t cap,
                              uint64_t *dropped)
{
    pthread_mutex_lock(&c->mu);
    uint64_t first;
    size_t n = ring_read(c->n_events, DL_CONTROL_EVENTS, since, dropped, cap, &first);
    for (size_t i = 0; i < n; i++)
        out[i] = c->events[(first + i) % DL_CONTROL_EVENTS];
    pthread_mutex_unlock(&c->mu);
    return n;
}

int dl_control_wake_fd(const dl_control *c) { return c->wake_fd; }

void dl_control_drain_wake(dl_control *c)
{
    uint64_t v;
    while (read(c->wake_fd, &v, sizeof v) > 0)
        ;
}

static void on_signal(int sig)
{
    (void)sig;
    g_signal_flag = 1;
    int fd = g_signal_fd;
    if (fd >= 0)
        wake(fd); /* write(2) is async-signal-safe */
}

dl_status dl_control_install_signals(dl_control *c, dl_err *err)
{
    g_signal_fd = c ? c->wake_fd : -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return dl_err_set(err, DL_EIO, "installing SIGINT/SIGTERM handlers: %s", strerror(errno));
    return DL_OK;
}

bool dl_control_signal_pending(void) { return g_signal_flag != 0; }

void dl_control_signal_clear(void) { g_signal_flag = 0; }

void dl_control_signal_raise(void) { on_signal(0); }
