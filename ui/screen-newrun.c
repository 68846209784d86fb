/* screen-newrun: the home screen's new-run form. A few fields of a run configuration (data,
 * arch, epochs, lr, schedule, limit, size, pretrained), each checked by the option table as it is
 * left and again on Enter: a bad value shows under its field and nothing else happens. Defaults
 * finish in about a minute on one core (10 000 Fashion-MNIST images, 2 500 to validate, one epoch);
 * Ctrl-F clears the limit (the full set). Tab completes the data field (fashion-mnist,
 * fashion-mosaic, folders and archives under the current directory). Enter with every field valid
 * hands the configuration to the home screen and ends the UI (the training starts in the same
 * process); Esc cancels. Every other key is text: this screen takes keys before the app's bindings
 * (text_input). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/run/run_cfg.h"
#include "ui/screens.h"

#define KEY_CTRL_F 6
#define N_FIELDS 8

typedef struct field {
    const char *label;
    const char *opt;  /* the table row it sets; NULL: DATA */
    const char *hint; /* shown when the field is empty or beside it */
    char text[256];
    char error[DL_ERR_MSG_MAX + 64];
} field;

typedef struct form {
    field f[N_FIELDS];
    int cur;
    int tab; /* completions cycled by Tab */
    char tab_prefix[256];
    dl_run_cfg *out;
    int *done;
} form;

static const field initial[N_FIELDS] = {
    {"data", NULL, "fashion-mnist, fashion-mosaic, a folder or an archive (Tab completes)",
     "fashion-mnist", ""},
    {"arch", "arch", "resnet-xs, resnet-s, resnet18, resnet34, resnet50", "resnet-xs", ""},
    {"epochs", "epochs", "", "1", ""},
    {"lr", "lr", "empty: =1e-3 (V, =V, ..HI, LO..HI)", "", ""},
    {"schedule", "schedule", "auto, fit, flat-cos, one-cycle, fine-tune", "auto", ""},
    {"limit", "limit", "training images, a quarter as many to validate; Ctrl-F/empty: all", "10000",
     ""},
    {"size", "size", "empty: the data's (28 for Fashion-MNIST)", "", ""},
    {"pretrained", "pretrained", "empty: from scratch; a weight file or a run", "", ""},
};

static int is_builtin(const char *s)
{
    return !strcmp(s, "fashion-mnist") || !strcmp(s, "fashion-mosaic");
}

/* Checks field i into c; returns 0 when valid (its error cleared), -1 with its error set. */
static int check_field(form *fm, int i, dl_run_cfg *c)
{
    field *f = &fm->f[i];
    dl_err err = {0};
    f->error[0] = '\0';
    if (!f->opt) {
        if (!f->text[0])
            snprintf(f->error, sizeof f->error, "give a dataset (fashion-mnist, or a folder)");
        else if (!is_builtin(f->text) && access(f->text, R_OK) != 0)
            snprintf(f->error, sizeof f->error, "%.200s: no such folder or archive", fm->f[0].text);
        else
            snprintf(c->data, sizeof c->data, "%s", f->text);
        return f->error[0] ? -1 : 0;
    }
    if (!f->text[0])
        return 0; /* the table's default */
    if (dl_run_cfg_set(c, dl_opt_find(f->opt), f->text, &err) != DL_OK) {
        snprintf(f->error, sizeof f->error, "%s", err.msg);
        return -1;
    }
    return 0;
}

static int check_all(form *fm, dl_run_cfg *c)
{
    dl_run_cfg_init(c);
    int bad = -1;
    for (int i = 0; i < N_FIELDS; i++)
        if (check_field(fm, i, c) != 0 && bad < 0)
            bad = i;
    if (c->limit > 0) /* a quick run validates quickly too (Fashion-MNIST's split is 12 000) */
        c->valid_limit = c->limit / 4 > 0 ? c->limit / 4 : 1;
    return bad;
}

/* The n-th name under the current directory (or a built-in) that starts with prefix. */
static int completion(const char *prefix, int n, char *out, size_t cap)
{
    const char *builtins[] = {"fashion-mnist", "fashion-mosaic"};
    int k = 0;
    for (int i = 0; i < 2; i++)
        if (!strncmp(builtins[i], prefix, strlen(prefix)) && k++ == n) {
            snprintf(out, cap, "%s", builtins[i]);
            return 0;
        }
    const char *slash = strrchr(prefix, '/');
    char dir[256] = ".";
    const char *base = prefix;
    if (slash) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - prefix) ? (int)(slash - prefix) : 1,
                 prefix);
        base = slash + 1;
    }
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = -1;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, base, strlen(base)) != 0)
            continue;
        if (k++ == n) {
            snprintf(out, cap, "%.*s%s", slash ? (int)(slash - prefix) + 1 : 0, prefix, e->d_name);
            found = 0;
            break;
        }
    }
    if (d)
        closedir(d);
    return found;
}

static void complete(form *fm)
{
    field *f = &fm->f[0];
    if (fm->tab == 0)
        snprintf(fm->tab_prefix, sizeof fm->tab_prefix, "%s", f->text);
    char got[512];
    if (completion(fm->tab_prefix, fm->tab, got, sizeof got) == 0) {
        snprintf(f->text, sizeof f->text, "%.255s", got);
        fm->tab++;
    } else if (fm->tab > 0) { /* wrap around */
        fm->tab = 0;
        snprintf(f->text, sizeof f->text, "%s", fm->tab_prefix);
    }
}

static void form_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    form *fm = s->self;
    (void)env;
    dl_grid_text(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD, "dllab - new run");
    dl_grid_text(g, 16, 0, g->cols - 16, DL_ROLE_DIM, 0,
                 "(defaults train for about a minute on one core)");
    for (int i = 0; i < N_FIELDS; i++) {
        const field *f = &fm->f[i];
        int y = 2 + 2 * i, sel = i == fm->cur;
        dl_grid_textf(g, 0, y, 14, sel ? DL_ROLE_TITLE : DL_ROLE_AXIS, DL_ATTR_BOLD, "%c %s",
                      sel ? '>' : ' ', f->label);
        dl_grid_textf(g, 14, y, 40, sel ? DL_ROLE_SELECT : DL_ROLE_DEFAULT,
                      sel ? DL_ATTR_REVERSE : 0, "%-39.39s%s", f->text, sel ? "_" : "");
        if (f->error[0])
            dl_grid_text(g, 14, y + 1, g->cols - 14, DL_ROLE_BAD, DL_ATTR_BOLD, f->error);
        else if (sel || !f->text[0])
            dl_grid_text(g, 14, y + 1, g->cols - 14, DL_ROLE_DIM, 0, f->hint);
    }
    dl_grid_text(g, 0, g->rows - 1, g->cols, DL_ROLE_DIM, 0,
                 "Enter train  Up/Down field  Tab complete  Ctrl-F full set  Esc cancel");
}

static int form_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    form *fm = s->self;
    field *f = &fm->f[fm->cur];
    dl_run_cfg c;
    (void)a;
    (void)app;
    if (key != '\t')
        fm->tab = 0;
    switch (key) {
    case DL_KEY_ESC:
        return DL_R_POP;
    case DL_KEY_UP:
    case DL_KEY_DOWN:
        dl_run_cfg_init(&c);
        check_field(fm, fm->cur, &c); /* a bad value shows as the field is left */
        fm->cur = (fm->cur + (key == DL_KEY_UP ? N_FIELDS - 1 : 1)) % N_FIELDS;
        return DL_R_REDRAW;
    case '\t':
        if (fm->cur == 0)
            complete(fm);
        return DL_R_REDRAW;
    case KEY_CTRL_F:
        snprintf(fm->f[5].text, sizeof fm->f[5].text, "%s", "");
        return DL_R_REDRAW;
    case DL_KEY_BACKSPACE:
    case 127:
    case 8:
        if (f->text[0])
            f->text[strlen(f->text) - 1] = '\0';
        return DL_R_REDRAW;
    case DL_KEY_ENTER:
    case '\r': {
        int bad = check_all(fm, &c);
        if (bad >= 0) {
            fm->cur = bad;
            return DL_R_REDRAW;
        }
        *fm->out = c;
        *fm->done = 1;
        return DL_R_POP | DL_R_QUIT;
    }
    default:
        if (key >= 32 && key < 127 && strlen(f->text) + 1 < sizeof f->text) {
            size_t n = strlen(f->text);
            f->text[n] = (char)key;
            f->text[n + 1] = '\0';
            f->error[0] = '\0';
        }
        return DL_R_REDRAW;
    }
}

static void form_close(dl_screen *s) { free(s->self); }

dl_status dl_screen_new_run(dl_screen *out, struct dl_run_cfg *result, int *done, dl_err *err)
{
    form *fm = calloc(1, sizeof *fm);
    if (!fm)
        return dl_err_set(err, DL_ENOMEM, "no memory for the new-run form");
    memcpy(fm->f, initial, sizeof initial);
    fm->out = result;
    fm->done = done;
    *out = (dl_screen){.name = "new-run",
                       .id = DL_SCR_FORM,
                       .self = fm,
                       .draw = form_draw,
                       .key = form_key,
                       .close = form_close,
                       .text_input = 1};
    return DL_OK;
}
