/* remote: the steering words, the snapshot's JSON form and the store poller thread (see
 * remote.h). The poller never touches the model or the trainer's store connection: it reads and
 * marks command rows on its own connection and posts to the thread-safe dl_control queue. */
#include "core/learn/remote.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/store/store.h"
#include "core/train/sched.h"

/* ---- the steering words ---- */
static const dl_steer_word words[] = {
    {"freeze", DL_CMD_FREEZE, 0, "freeze the body (train the head only)"},
    {"unfreeze", DL_CMD_UNFREEZE, 0, "unfreeze every layer group"},
    {"lr", DL_CMD_SET_LR, 1, "set the lr: V (every group), ..HI (slice(HI)), LO..HI"},
    {"lr-scale", DL_CMD_SCALE_LR, 1, "multiply every group's lr by F"},
    {"pause", DL_CMD_PAUSE, 0, "pause at the next batch"},
    {"resume", DL_CMD_RESUME, 0, "resume a paused training"},
    {"save", DL_CMD_SAVE, 0, "write a checkpoint now"},
    {"lrfind", DL_CMD_LRFIND, 0, "run the LR finder from the current weights"},
    {"stop", DL_CMD_STOP_AFTER_EPOCH, 0, "stop at the end of this epoch"},
    {"stop-now", DL_CMD_STOP_NOW, 0, "stop after the current batch (saves)"},
};
#define N_WORDS (sizeof words / sizeof words[0])

size_t dl_steer_word_count(void) { return N_WORDS; }
const dl_steer_word *dl_steer_word_at(size_t i) { return i < N_WORDS ? &words[i] : NULL; }

dl_status dl_steer_parse(const char *word, const char *arg, dl_cmd *out, dl_err *err)
{
    memset(out, 0, sizeof *out);
    const dl_steer_word *w = NULL;
    for (size_t i = 0; i < N_WORDS && !w; i++)
        if (word && strcmp(word, words[i].word) == 0)
            w = &words[i];
    if (!w) {
        char list[256];
        size_t k = 0;
        for (size_t i = 0; i < N_WORDS && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", words[i].word);
        return dl_err_set(err, DL_EINVAL, "unknown steering command '%s' (one of: %s)",
                          word ? word : "", list);
    }
    out->kind = w->kind;
    bool has = arg && *arg;
    if (w->takes_arg && !has)
        return dl_err_set(err, DL_EINVAL, "steering command '%s' needs an argument (%s)", w->word,
                          w->help);
    if (!w->takes_arg && has && w->kind != DL_CMD_FREEZE)
        return dl_err_set(err, DL_EINVAL, "steering command '%s' takes no argument (got '%s')",
                          w->word, arg);
    char *end;
    switch (w->kind) {
    case DL_CMD_SET_LR: {
        return dl_lr_parse(arg, &out->lr, err);
    }
    case DL_CMD_SCALE_LR:
        out->factor = strtod(arg, &end);
        if (end == arg || *end || !(out->factor > 0) || !isfinite(out->factor))
            return dl_err_set(err, DL_EINVAL,
                              "lr-scale: '%s' is not a positive factor (e.g. 2 or 0.5)", arg);
        return DL_OK;
    case DL_CMD_FREEZE:
        out->arg = -1;
        if (has) {
            long v = strtol(arg, &end, 10);
            if (end == arg || *end || v < -DL_MAX_GROUPS || v > DL_MAX_GROUPS)
                return dl_err_set(err, DL_EINVAL,
                                  "freeze: '%s' is not a group count (freeze_to N, e.g. -1)", arg);
            out->arg = (int)v;
        }
        return DL_OK;
    default:
        return DL_OK;
    }
}

void dl_steer_format(const dl_cmd *c, char *word, size_t wcap, char *arg, size_t acap)
{
    snprintf(word, wcap, "?");
    arg[0] = 0;
    for (size_t i = 0; i < N_WORDS; i++)
        if (words[i].kind == c->kind) {
            snprintf(word, wcap, "%s", words[i].word);
            break;
        }
    if (c->kind == DL_CMD_SET_LR) {
        dl_lr_format(&c->lr, arg, acap); /* the --lr grammar, read back by dl_lr_parse */
    } else if (c->kind == DL_CMD_SCALE_LR) {
        snprintf(arg, acap, "%.6g", c->factor);
    } else if (c->kind == DL_CMD_FREEZE && c->arg != 0 && c->arg != -1) {
        snprintf(arg, acap, "%d", c->arg);
    }
}

/* ---- the snapshot as JSON ---- */
static int put_num(char *buf, size_t cap, int k, const char *key, double v)
{
    if (k < 0 || (size_t)k >= cap)
        return k;
    if (isfinite(v))
        return k + snprintf(buf + k, cap - (size_t)k, ",\"%s\":%.9g", key, v);
    return k + snprintf(buf + k, cap - (size_t)k, ",\"%s\":null", key);
}

int dl_snapshot_to_json(const dl_snapshot *s, char *buf, size_t cap)
{
    int k = snprintf(buf, cap, "{\"phase\":\"%s\"", dl_phase_name(s->phase));
    k = put_num(buf, cap, k, "epoch", s->epoch);
    k = put_num(buf, cap, k, "n_epochs", s->n_epochs);
    k = put_num(buf, cap, k, "batch", s->batch);
    k = put_num(buf, cap, k, "n_batches", s->n_batches);
    k = put_num(buf, cap, k, "step", (double)s->step);
    k = put_num(buf, cap, k, "mom", s->mom);
    k = put_num(buf, cap, k, "frozen_to", s->frozen_to);
    k = put_num(buf, cap, k, "last_loss", s->last_loss);
    k = put_num(buf, cap, k, "smooth_loss", s->smooth_loss);
    k = put_num(buf, cap, k, "valid_loss", s->valid_loss);
    k = put_num(buf, cap, k, "images_per_s", s->images_per_s);
    k = put_num(buf, cap, k, "eta_s", s->eta_s);
    if (k < 0 || (size_t)k >= cap)
        return -1;
    k += snprintf(buf + k, cap - (size_t)k, ",\"lr\":[");
    for (int g = 0; g < s->n_groups && g < DL_MAX_GROUPS && (size_t)k < cap; g++)
        k += snprintf(buf + k, cap - (size_t)k, "%s%.9g", g ? "," : "", s->lr[g]);
    if ((size_t)k < cap)
        k += snprintf(buf + k, cap - (size_t)k, "],\"metrics\":[");
    for (int i = 0; i < s->n_metrics && i < DL_SNAP_METRICS && (size_t)k < cap; i++) {
        json_t *name = json_string(s->metric_name[i]);
        char *nm = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
        k += snprintf(buf + k, cap - (size_t)k, "%s[%s,", i ? "," : "", nm ? nm : "\"?\"");
        if (isfinite(s->metric[i]))
            k += snprintf(buf + k, cap - (size_t)k, "%.9g]", s->metric[i]);
        else
            k += snprintf(buf + k, cap - (size_t)k, "null]");
        free(nm);
        json_decref(name);
    }
    json_t *msg = json_string(s->message);
    char *m = msg ? json_dumps(msg, JSON_ENCODE_ANY) : NULL;
    if ((size_t)k < cap)
        k += snprintf(buf + k, cap - (size_t)k, "],\"message\":%s}", m ? m : "\"\"");
    free(m);
    json_decref(msg);
    return k >= 0 && (size_t)k < cap ? k : -1;
}

static double get_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int dl_snapshot_from_json(const char *json, dl_snapshot *out)
{
    json_t *o = json_loads(json, 0, NULL);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    dl_snapshot s;
    memset(&s, 0, sizeof s);
    const char *ph = json_string_value(json_object_get(o, "phase"));
    for (int p = 0; ph && p <= DL_PHASE_FAILED; p++)
        if (strcmp(ph, dl_phase_name((dl_phase)p)) == 0)
            s.phase = (dl_phase)p;
    double v;
#define INT_FIELD(f)                                                                               \
    v = get_num(o, #f);                                                                            \
    s.f = isfinite(v) ? (int)v : 0
    INT_FIELD(epoch);
    INT_FIELD(n_epochs);
    INT_FIELD(batch);
    INT_FIELD(n_batches);
    INT_FIELD(frozen_to);
#undef INT_FIELD
    v = get_num(o, "step");
    s.step = isfinite(v) && v > 0 ? (uint64_t)v : 0;
    s.mom = get_num(o, "mom");
    s.last_loss = get_num(o, "last_loss");
    s.smooth_loss = get_num(o, "smooth_loss");
    s.valid_loss = get_num(o, "valid_loss");
    s.images_per_s = get_num(o, "images_per_s");
    if (!isfinite(s.images_per_s))
        s.images_per_s = 0;
    s.eta_s = get_num(o, "eta_s");
    json_t *lr = json_object_get(o, "lr");
    for (size_t g = 0; json_is_array(lr) && g < json_array_size(lr) && g < DL_MAX_GROUPS; g++) {
        s.lr[g] = json_number_value(json_array_get(lr, g));
        s.n_groups = (int)g + 1;
    }
    json_t *ms = json_object_get(o, "metrics");
    for (size_t i = 0; json_is_array(ms) && i < json_array_size(ms) && i < DL_SNAP_METRICS; i++) {
        json_t *pair = json_array_get(ms, i);
        const char *nm = json_string_value(json_array_get(pair, 0));
        snprintf(s.metric_name[i], DL_SNAP_NAME, "%s", nm ? nm : "?");
        json_t *mv = json_array_get(pair, 1);
        s.metric[i] = json_is_number(mv) ? json_number_value(mv) : NAN;
        s.n_metrics = (int)i + 1;
    }
    const char *msg = json_string_value(json_object_get(o, "message"));
    snprintf(s.message, sizeof s.message, "%s", msg ? msg : "");
    json_decref(o);
    s.gen = out->gen;
    *out = s;
    return 0;
}

/* ---- the poller ---- */
struct dl_remote {
    dl_store *st;
    int64_t run_id;
    dl_control *ctl;
    pthread_t th;
    int stop_pipe[2]; /* written by dl_remote_stop: the thread's poll() returns at once */
    atomic_int stopping;
    int64_t last_id;   /* highest command id taken */
    int64_t last_dv;   /* data_version at the last look */
    uint64_t last_gen; /* snapshot generation last written to the live table */
    double last_live;  /* monotonic seconds */
    clockid_t cpu;     /* the thread's CPU clock */
    bool have_cpu;
};

/* A command that cannot wait for a batch boundary is refused here, with its event. */
static void refuse(dl_remote *r, const dl_steer_row *row, const dl_snapshot *sn, const char *why)
{
    char payload[512];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "text", why, "cmd", row->cmd, "arg", row->arg,
                          "origin", row->origin);
    char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
    snprintf(payload, sizeof payload, "%s", j ? j : "{}");
    free(j);
    json_decref(o);
    dl_err err;
    if (dl_store_log_event_steer(r->st, r->run_id, "refused", (int64_t)sn->step, payload, row->id,
                                 DL_STEER_REFUSED, why, &err) != DL_OK)
        dl_log(DL_LOG_WARN, "refusing steering command %lld: %s", (long long)row->id, err.msg);
    /* the dashboard of the training process shows it too */
    dl_event e;
    memset(&e, 0, sizeof e);
    e.step = sn->step;
    e.n_groups = sn->n_groups;
    memcpy(e.lr, sn->lr, sizeof e.lr);
    e.frozen_to = sn->frozen_to;
    char text[400];
    snprintf(text, sizeof text, "refused %s %s: %s (%s)", row->cmd, row->arg, why, row->origin);
    snprintf(e.text, sizeof e.text, "%.127s", text);
    dl_control_push_event(r->ctl, &e);
}

static void take_commands(dl_remote *r)
{
    dl_steer_row *rows;
    size_t n;
    dl_err err;
    if (dl_store_steer_take(r->st, r->run_id, r->last_id, &rows, &n, &err) != DL_OK) {
        dl_log(DL_LOG_WARN, "reading steering commands: %s", err.msg);
        return;
    }
    dl_snapshot sn;
    dl_control_read(r->ctl, &sn);
    for (size_t i = 0; i < n; i++) {
        dl_steer_row *row = &rows[i];
        r->last_id = row->id;
        dl_cmd c;
        if (dl_steer_parse(row->cmd, row->arg, &c, &err) != DL_OK) {
            refuse(r, row, &sn, err.msg);
            continue;
        }
        if (sn.phase == DL_PHASE_LRFIND) {
            refuse(r, row, &sn, "the run is in its LR finder; send it again when the finder ends");
            continue;
        }
        c.remote_id = row->id;
        snprintf(c.origin, sizeof c.origin, "%s", row->origin);
        if (dl_control_post(r->ctl, &c, &err) != DL_OK)
            refuse(r, row, &sn, err.msg);
    }
    free(rows);
}

static void write_live(dl_remote *r, bool force)
{
    dl_snapshot sn;
    dl_control_read(r->ctl, &sn);
    if (!force && sn.gen == r->last_gen)
        return;
    char json[2048];
    if (dl_snapshot_to_json(&sn, json, sizeof json) < 0)
        return;
    dl_err err;
    if (dl_store_live_put(r->st, r->run_id, json, &err) != DL_OK)
        dl_log(DL_LOG_DEBUG, "writing live progress: %s", err.msg);
    r->last_gen = sn.gen;
}

static void *poll_main(void *arg)
{
    dl_remote *r = arg;
    while (!atomic_load(&r->stopping)) {
        int64_t dv = dl_store_data_version(r->st);
        if (dv != r->last_dv) {
            r->last_dv = dv;
            take_commands(r);
        }
        double now = dl_clock_now();
        if ((now - r->last_live) * 1e3 >= DL_REMOTE_LIVE_MS) {
            write_live(r, false);
            r->last_live = now;
        }
        struct pollfd pf = {.fd = r->stop_pipe[0], .events = POLLIN};
        poll(&pf, 1, DL_REMOTE_POLL_MS);
    }
    take_commands(r); /* a command written just before the end still gets its answer */
    write_live(r, true);
    return NULL;
}

dl_status dl_remote_start(const char *store_dir, int64_t run_id, dl_control *ctl, dl_remote **out,
                          dl_err *err)
{
    *out = NULL;
    dl_remote *r = calloc(1, sizeof *r);
    if (!r)
        return dl_err_set(err, DL_ENOMEM, "out of memory for the steering poller");
    r->run_id = run_id;
    r->ctl = ctl;
    r->last_dv = -2; /* look at once: a resumed run may have commands waiting */
    r->last_live = -1e9;
    dl_status s = dl_store_open(store_dir, 0, &r->st, err);
    if (s) {
        free(r);
        return dl_err_wrap(err, "the steering channel");
    }
    if (pipe(r->stop_pipe) != 0) {
        int e = errno;
        dl_store_close(r->st);
        free(r);
        return dl_err_set(err, DL_EIO, "pipe for the steering poller: %s", strerror(e));
    }
    /* Signals belong to the main thread (docs/architecture.md §4.3). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&r->th, NULL, poll_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(r->stop_pipe[0]);
        close(r->stop_pipe[1]);
        dl_store_close(r->st);
        free(r);
        return dl_err_set(err, DL_EIO, "starting the steering poller: %s", strerror(rc));
    }
    r->have_cpu = pthread_getcpuclockid(r->th, &r->cpu) == 0;
    *out = r;
    return DL_OK;
}

double dl_remote_cpu_seconds(const dl_remote *r)
{
    struct timespec ts;
    if (!r || !r->have_cpu || clock_gettime(r->cpu, &ts) != 0)
        return NAN;
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void dl_remote_stop(dl_remote *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, 1);
    char b = 1;
    ssize_t w = write(r->stop_pipe[1], &b, 1);
    (void)w;
    pthread_join(r->th, NULL);
    close(r->stop_pipe[0]);
    close(r->stop_pipe[1]);
    dl_store_close(r->st);
    free(r);
}
