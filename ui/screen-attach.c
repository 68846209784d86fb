/* screen-attach: the training dashboard over a run trained by another process (`dllab attach
 * RUN`, Enter on a running run at home). It is screen-train over a store-fed feed
 * (ui/feed-store.h): keys post to a local proxy control whose commands go into the store's
 * steering channel, acknowledgements show on the bottom line, `d` detaches (the training goes
 * on), q asks whether to stop the training or only detach, and when the training ends the screen
 * says so. It refuses a run whose process is gone (nothing would ever answer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store/store.h"
#include "ui/feed-store.h"
#include "ui/screens.h"
#include "ui/ui.h"

typedef struct attach_ui {
    dl_store *st;
    int64_t run;
    dl_feed feed;
    dl_feed_attach *fa;
    dl_control *proxy;
    dl_attach_outcome *outcome;
} attach_ui;

static int at_tick(void *user, dl_feed *feed, dl_app *app)
{
    attach_ui *u = user;
    int r = dl_feed_pull(feed) ? DL_R_REDRAW : DL_R_NONE;
    const char *note = dl_feed_attach_note(u->fa);
    if (note) {
        dl_app_message(app, note);
        r |= DL_R_REDRAW;
    }
    return r;
}

static void set_outcome(attach_ui *u, dl_attach_outcome o)
{
    if (dl_feed_attach_ended(u->fa, NULL))
        o = DL_ATTACH_ENDED;
    if (u->outcome)
        *u->outcome = o;
}

static int at_detach(void *user, dl_app *app)
{
    attach_ui *u = user;
    (void)app;
    dl_feed_attach_flush(u->fa);
    set_outcome(u, DL_ATTACH_DETACHED);
    return DL_R_POP;
}

static int at_quit(void *user, int key, dl_app *app)
{
    attach_ui *u = user;
    if (key == 's' || key == 'S') {
        dl_err err;
        if (!dl_feed_attach_ended(u->fa, NULL) &&
            dl_control_post(u->proxy, &(dl_cmd){.kind = DL_CMD_STOP_NOW}, &err) != DL_OK) {
            dl_app_message(app, err.msg);
            return DL_R_REDRAW;
        }
        dl_feed_attach_flush(u->fa);
        set_outcome(u, DL_ATTACH_STOPPED);
        return DL_R_POP;
    }
    if (key == 'd' || key == 'D' || key == 'q' || key < 0)
        return at_detach(user, app);
    return DL_R_REDRAW; /* any other key: stay */
}

static int at_confusion(void *user, dl_app *app, char *msg, int cap)
{
    attach_ui *u = user;
    return dl_ui_push_stored_confusion(app, u->st, u->run, msg, cap);
}

static int at_top_losses(void *user, dl_app *app, char *msg, int cap)
{
    attach_ui *u = user;
    return dl_ui_push_stored_top_losses(app, u->st, u->run, msg, cap);
}

static void at_close(void *user)
{
    attach_ui *u = user;
    dl_feed_attach_flush(u->fa);
    dl_feed_attach_close(u->fa);
    dl_feed_free(&u->feed);
    free(u);
}

dl_status dl_screen_attach(dl_screen *out, dl_store *st, int64_t run_id, dl_attach_outcome *outcome,
                           dl_err *err)
{
    int64_t owner = 0;
    dl_run r;
    memset(&r, 0, sizeof r);
    if (dl_store_run_get(st, run_id, &r, err) != DL_OK)
        return err ? err->code : DL_ENOTFOUND;
    dl_status s = DL_OK;
    if (r.status != DL_RUN_RUNNING)
        s = dl_err_set(err, DL_EINVAL, "run %s is not training (%s): nothing to attach to", r.name,
                       dl_run_status_name(r.status));
    else if (dl_store_run_owner(st, run_id, &owner, err) == DL_OK && owner == 0)
        s = dl_err_set(err, DL_EINVAL,
                       "run %s is marked running but its process (pid %lld) is gone: it crashed "
                       "(dllab train --resume %s continues it)",
                       r.name, (long long)r.pid, r.name);
    attach_ui *u = s == DL_OK ? calloc(1, sizeof *u) : NULL;
    if (s == DL_OK && !u)
        s = dl_err_set(err, DL_ENOMEM, "no memory for the attached screen");
    if (s != DL_OK) {
        dl_run_clear(&r);
        return s;
    }
    u->st = st;
    u->run = run_id;
    u->outcome = outcome;
    if (outcome)
        *outcome = DL_ATTACH_DETACHED;
    dl_feed_init(&u->feed, NULL);
    s = dl_feed_attach_open(&u->fa, &u->feed, st, run_id, &u->proxy, err);
    if (s != DL_OK) {
        dl_feed_free(&u->feed);
        free(u);
        dl_run_clear(&r);
        return s;
    }
    char data[160], name[120];
    snprintf(data, sizeof data, "%s %lld/%lld", r.dataset ? r.dataset : "?", (long long)r.n_train,
             (long long)r.n_valid);
    snprintf(name, sizeof name, "%s (attached, pid %lld)", r.name, (long long)owner);
    dl_run_info info = {name, data, r.arch};
    dl_train_hooks hooks = {.user = u,
                            .confusion = at_confusion,
                            .top_losses = at_top_losses,
                            .tick = at_tick,
                            .close = at_close,
                            .detach = at_detach,
                            .quit_prompt = "s: stop the training  d: detach (it goes on)  "
                                           "other: stay",
                            .quit = at_quit};
    s = dl_screen_train(out, u->proxy, &u->feed, &info, &hooks, err);
    dl_run_clear(&r);
    if (s != DL_OK) {
        at_close(u);
        return s;
    }
    out->name = "attach";
    return DL_OK;
}
