/* data/suggest: "did you mean ...?" for a DATA argument that names nothing. The candidates are
 * the built-in data sets and the entries of the folder the argument points into (the current
 * folder for a bare name); the closest by edit distance wins when it is close enough that a typo
 * is the likely story (at most a third of the name's length, and at most 3 edits). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/internal.h"

static const char *const builtins[] = {"fashion-mnist", "fashion-mosaic"};

/* Levenshtein distance with adjacent transpositions counted as one edit ("mnsit"), capped at
 * 64-character names (longer ones are never suggested). */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64)
        return 1 << 20;
    int d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

static void consider(const char *name, const char *cand, const char *prefix, int *best, char *buf,
                     size_t cap)
{
    int d = distance(name, cand);
    if (d > 0 && d < *best) {
        *best = d;
        snprintf(buf, cap, "%s%s", prefix, cand);
    }
}

const char *dl_data_suggest(const char *arg, char *buf, size_t cap)
{
    if (!arg || !*arg || cap == 0)
        return NULL;
    /* the folder part stays as typed; only the last component is matched */
    char dir[4096] = ".", prefix[4096] = "";
    const char *name = arg, *slash = strrchr(arg, '/');
    if (slash) {
        if (slash[1] == '\0')
            return NULL;
        size_t dl = (size_t)(slash - arg) + 1;
        if (dl >= sizeof dir)
            return NULL;
        memcpy(prefix, arg, dl);
        prefix[dl] = '\0';
        snprintf(dir, sizeof dir, "%.*s", (int)(dl > 1 ? dl - 1 : 1), arg);
        name = slash + 1;
    }
    int len = (int)strlen(name), limit = len / 3 < 3 ? len / 3 : 3;
    if (limit < 1)
        return NULL;
    int best = limit + 1;
    if (!slash)
        for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
            consider(name, builtins[i], "", &best, buf, cap);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                consider(name, e->d_name, prefix, &best, buf, cap);
        closedir(d);
    }
    return best <= limit ? buf : NULL;
}
