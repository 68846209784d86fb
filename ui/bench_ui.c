/* bench_ui: what drawing the training dashboard costs per frame at 120x40 as a run grows (1k,
 * 10k, 100k, 1M batches of history), so the UI's share of the CPU next to the trainer is known:
 * at 20 frames a second, share = 20 x frame time. `make bench` runs it. */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "core/learn/control.h"
#include "core/clock.h"
#include "ui/app.h"
#include "ui/screens.h"

/* the thread's CPU time: the frame's cost, whatever share of a core a loaded host gives us */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
    for (int n = 1000; n <= 1000000; n *= 10) {
        dl_control *c;
        if (dl_control_create(&c, NULL) != DL_OK)
            return 1;
        dl_feed f;
        dl_feed_init(&f, NULL);
        for (int i = 0; i < n; i++) {
            double noise = 0.1 * ((i * 7919) % 13) / 13.0;
            dl_curve_point p = {.kind = DL_POINT_TRAIN,
                                .step = (uint64_t)i,
                                .lr = 1e-3 * (1 + sin(i * 1e-3)),
                                .loss = 1 + sin(i * 0.01),
                                .raw = 1 + sin(i * 0.01) + noise};
            dl_feed_add_point(&f, &p);
            if (i % 1000 == 999) {
                dl_curve_point v = {.kind = DL_POINT_VALID, .step = (uint64_t)i, .loss = 0.9};
                dl_feed_add_point(&f, &v);
            }
        }
        f.snap.n_batches = 1000;
        f.snap.n_epochs = n / 1000 + 1;
        f.snap.n_groups = 3;
        dl_app *app = dl_app_new(NULL);
        dl_screen s;
        dl_screen_train(&s, c, &f, NULL, NULL, NULL);
        dl_app_push(app, &s);
        dl_grid *g = dl_grid_new(120, 40);
        int reps = 40;
        double t0 = now();
        for (int r = 0; r < reps; r++)
            dl_app_draw(app, g);
        double dt = (now() - t0) / reps;
        printf("bench_ui: %6d batches of history: %6.2f ms per 120x40 frame, %5.1f%% of a core at "
               "20 frames/s\n",
               n, dt * 1e3, dt * 20 * 100);
        dl_grid_free(g);
        dl_app_free(app);
        dl_feed_free(&f);
        dl_control_free(c);
    }
    return 0;
}
