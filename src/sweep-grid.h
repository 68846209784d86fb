/* sweep-grid: the grid of a `dllab sweep`: the cartesian product of comma-separated lists of
 * learning rates, epoch counts and architectures, in that nesting order (arch outermost, lr
 * innermost). Each point gets a key naming only the axes given, "lr=1e-3/epochs=3/arch=resnet18",
 * which tags its run (with the sweep's name in front) so a restarted sweep can skip it.
 * Refuses empty items, duplicate items, learning rates that are not positive numbers (or
 * LO..HI / =V as `dllab train` takes them), epochs that are not positive integers, more than
 * DL_SWEEP_MAX_POINTS points, and sweep names that cannot be tags (commas, too long). */
#ifndef DL_SWEEP_GRID_H
#define DL_SWEEP_GRID_H

#include <stddef.h>

#define DL_SWEEP_MAX_POINTS 256
#define DL_SWEEP_ITEM_MAX 64

typedef struct dl_sweep_point {
    char lr[DL_SWEEP_ITEM_MAX];     /* "" when --lr was not given */
    char epochs[DL_SWEEP_ITEM_MAX]; /* "" when --epochs was not given */
    char arch[DL_SWEEP_ITEM_MAX];   /* "" when --arch was not given */
    char key[3 * DL_SWEEP_ITEM_MAX + 24];
} dl_sweep_point;

/* Expands the lists (each may be NULL). Returns the number of points (>= 1) into *out
 * (malloc'd), or -1 with a message in msg. */
int dl_sweep_expand(const char *lrs, const char *epochs, const char *archs, dl_sweep_point **out,
                    char *msg, size_t cap);

/* The tag marking a run as part of sweep `name` ("sweep:NAME") and the one marking its point
 * ("NAME/KEY"); -1 when they would not fit a tag (DL_STORE_NAME_MAX) or name has a comma. */
int dl_sweep_tags(const char *name, const dl_sweep_point *p, char *sweep_tag, char *point_tag,
                  size_t cap);

#endif
