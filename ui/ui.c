/* ui: entry points that wrap one screen in the app loop (see ui.h). */
#include "ui/ui.h"

#include <stdlib.h>
#include <string.h>

#include "core/run/run_cfg.h"
#include "ui/app.h"

void dl_ui_opts_take(dl_ui_opts *o, int *argc, char **argv)
{
    memset(o, 0, sizeof *o);
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        if (i > 0 && strcmp(argv[i], "--ascii") == 0)
            o->ascii = 1;
        else if (i > 0 && strcmp(argv[i], "--no-color") == 0)
            o->no_color = 1;
        else
            argv[k++] = argv[i];
    }
    *argc = k;
    argv[k] = NULL;
}

static dl_status run_one(dl_screen *s, const dl_ui_opts *opts, int wake_fd, const char *log,
                         struct dl_run_cfg *request, int *asked, dl_err *err)
{
    dl_app *app = dl_app_new(opts);
    if (!app) {
        s->close(s);
        return dl_err_set(err, DL_ENOMEM, "no memory for the UI");
    }
    dl_app_push(app, s);
    if (wake_fd >= 0)
        dl_app_watch_fd(app, wake_fd);
    dl_status st = dl_app_run(app, log, err);
    if (request) {
        *asked = 0;
        /* The home screen is the only one that makes requests; it asks from the top. */
        dl_screen *bottom = dl_app_depth(app) == 1 ? dl_app_top(app) : NULL;
        const struct dl_run_cfg *r =
            bottom && strcmp(bottom->name, "home") == 0 ? dl_home_request(bottom) : NULL;
        if (r) {
            *request = *r;
            *asked = 1;
        }
    }
    dl_app_free(app);
    return st;
}

dl_status dl_ui_train(dl_control *ctl, const dl_run_info *info, const dl_train_hooks *hooks,
                      const dl_ui_opts *opts, const char *stderr_log, dl_err *err)
{
    dl_screen s;
    dl_status st = dl_screen_train(&s, ctl, NULL, info, hooks, err);
    if (st != DL_OK)
        return st;
    return run_one(&s, opts, dl_control_wake_fd(ctl), stderr_log, NULL, NULL, err);
}

dl_status dl_ui_lrfind(dl_control *ctl, int num_it, const dl_lrfind_hooks *hooks,
                       const dl_ui_opts *opts, const char *stderr_log, dl_err *err)
{
    /* The screen borrows its feed; this one lives for the whole loop. */
    dl_feed feed;
    dl_feed_init(&feed, ctl);
    dl_screen s;
    dl_status st = dl_screen_lrfind(&s, ctl, &feed, num_it, hooks, err);
    if (st == DL_OK)
        st = run_one(&s, opts, dl_control_wake_fd(ctl), stderr_log, NULL, NULL, err);
    dl_feed_free(&feed);
    return st;
}

dl_status dl_ui_show_run(dl_store *store, int64_t run_id, const dl_ui_opts *opts, dl_err *err)
{
    dl_screen s;
    dl_status st = dl_screen_run(&s, store, run_id, err);
    if (st != DL_OK)
        return st;
    return run_one(&s, opts, -1, NULL, NULL, NULL, err);
}

dl_status dl_ui_attach(dl_store *store, int64_t run_id, const dl_ui_opts *opts,
                       dl_attach_outcome *outcome, dl_err *err)
{
    dl_screen s;
    dl_status st = dl_screen_attach(&s, store, run_id, outcome, err);
    if (st != DL_OK)
        return st;
    return run_one(&s, opts, -1, NULL, NULL, NULL, err);
}

dl_status dl_ui_home(dl_store *store, const dl_home_hooks *hooks, const dl_ui_opts *opts,
                     const char *select, const char *message, struct dl_run_cfg *request,
                     int *asked, dl_err *err)
{
    dl_screen s;
    dl_status st = dl_screen_home(&s, store, hooks, err);
    if (st != DL_OK)
        return st;
    dl_home_select(&s, select, message);
    return run_one(&s, opts, -1, NULL, request, asked, err);
}

dl_status dl_ui_images(const char *title, const dl_ui_image *img, const char *const *labels, int n,
                       const dl_ui_opts *opts, dl_err *err)
{
    dl_screen s;
    dl_status st = dl_screen_images(&s, title, img, labels, n, err);
    if (st != DL_OK)
        return st;
    return run_one(&s, opts, -1, NULL, NULL, NULL, err);
}
