/* sweep-grid: expanding a sweep's lists into points and naming them (see src/sweep-grid.h). */
#include "src/sweep-grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store/store.h"
#include "core/train/sched.h"

/* An lr as `dllab train --lr` takes it (the one grammar, dl_lr_parse): V, =V, ..HI, LO..HI. */
static int lr_ok(const char *s)
{
    dl_lr_spec lr;
    return dl_lr_parse(s, &lr, NULL) == DL_OK;
}

static int epochs_ok(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return end != s && !*end && v > 0 && v < 100000;
}

/* Splits list into items[]; returns the count or -1 with msg. */
static int split(const char *what, const char *list, char (*items)[DL_SWEEP_ITEM_MAX], int cap,
                 int (*ok)(const char *), char *msg, size_t mcap)
{
    if (!list) {
        items[0][0] = 0;
        return 1;
    }
    int n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= DL_SWEEP_ITEM_MAX) {
            snprintf(msg, mcap, "--%s '%s': %s item", what, list,
                     len == 0 ? "an empty" : "a too long");
            return -1;
        }
        if (n == cap) {
            snprintf(msg, mcap, "--%s '%s': more than %d values", what, list, cap);
            return -1;
        }
        snprintf(items[n], DL_SWEEP_ITEM_MAX, "%.*s", (int)len, p);
        if (ok && !ok(items[n])) {
            snprintf(msg, mcap, "--%s: '%s' is not %s", what, items[n],
                     ok == lr_ok ? "a learning rate (V every group, ..HI, LO..HI)"
                                 : "a positive whole number");
            return -1;
        }
        for (int k = 0; k < n; k++)
            if (strcmp(items[k], items[n]) == 0) {
                snprintf(msg, mcap, "--%s: '%s' is listed twice", what, items[n]);
                return -1;
            }
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    return n;
}

int dl_sweep_expand(const char *lrs, const char *epochs, const char *archs, dl_sweep_point **out,
                    char *msg, size_t cap)
{
    char l[DL_SWEEP_MAX_POINTS][DL_SWEEP_ITEM_MAX], e[DL_SWEEP_MAX_POINTS][DL_SWEEP_ITEM_MAX],
        a[DL_SWEEP_MAX_POINTS][DL_SWEEP_ITEM_MAX];
    *out = NULL;
    int nl = split("lr", lrs, l, DL_SWEEP_MAX_POINTS, lr_ok, msg, cap);
    int ne = nl < 0 ? -1 : split("epochs", epochs, e, DL_SWEEP_MAX_POINTS, epochs_ok, msg, cap);
    int na = ne < 0 ? -1 : split("arch", archs, a, DL_SWEEP_MAX_POINTS, NULL, msg, cap);
    if (na < 0)
        return -1;
    long total = (long)nl * ne * na;
    if (total > DL_SWEEP_MAX_POINTS) {
        snprintf(msg, cap, "the grid has %ld points; at most %d", total, DL_SWEEP_MAX_POINTS);
        return -1;
    }
    dl_sweep_point *p = calloc((size_t)total, sizeof *p);
    if (!p) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    int k = 0;
    for (int ia = 0; ia < na; ia++)
        for (int ie = 0; ie < ne; ie++)
            for (int il = 0; il < nl; il++, k++) {
                snprintf(p[k].lr, sizeof p[k].lr, "%.63s", l[il]);
                snprintf(p[k].epochs, sizeof p[k].epochs, "%.63s", e[ie]);
                snprintf(p[k].arch, sizeof p[k].arch, "%.63s", a[ia]);
                int m = 0;
                size_t kc = sizeof p[k].key;
                if (l[il][0])
                    m += snprintf(p[k].key + m, kc - (size_t)m, "lr=%s", l[il]);
                if (e[ie][0])
                    m += snprintf(p[k].key + m, kc - (size_t)m, "%sepochs=%s", m ? "/" : "", e[ie]);
                if (a[ia][0])
                    m += snprintf(p[k].key + m, kc - (size_t)m, "%sarch=%s", m ? "/" : "", a[ia]);
                if (!m)
                    snprintf(p[k].key, kc, "default");
            }
    *out = p;
    return (int)total;
}

int dl_sweep_tags(const char *name, const dl_sweep_point *p, char *sweep_tag, char *point_tag,
                  size_t cap)
{
    if (!*name || strchr(name, ',') || strchr(name, '/'))
        return -1;
    int a = snprintf(sweep_tag, cap, "sweep:%s", name);
    int b = snprintf(point_tag, cap, "%s/%s", name, p->key);
    if (a < 0 || b < 0 || (size_t)a >= cap || (size_t)b >= cap || a >= DL_STORE_NAME_MAX ||
        b >= DL_STORE_NAME_MAX || strchr(point_tag, ','))
        return -1;
    return 0;
}
