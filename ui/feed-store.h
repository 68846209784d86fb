/* feed-store: a dl_feed filled from the run store rather than from a dl_control in this process.
 *  - dl_feed_load_store reads a run's history (batches, epochs, events) into a feed: the run view,
 *    a resumed training's dashboard (everything before the resume point) and attach use it.
 *  - dl_feed_attach makes a feed follow a run trained by another process: its dl_feed_pull reads
 *    the live snapshot, the new rows and the run's status from the store (at most every
 *    DL_ATTACH_POLL_MS), and forwards the commands the screen posts to a local proxy dl_control
 *    into the store's steering channel (origin "attach pid N"), then reports their
 *    acknowledgements. Screens stay unaware: they post to a control and pull a feed as always. */
#ifndef DL_UI_FEED_STORE_H
#define DL_UI_FEED_STORE_H

#include <stdint.h>

#include "core/err.h"
#include "core/learn/control.h"
#include "core/store/store.h"
#include "ui/feed.h"

#define DL_ATTACH_POLL_MS 200

/* Adds to f what the store holds for the run beyond what f has: batches with step < until_step
 * and epoch rows with epoch < until_epoch (negative: no limit), and every newer event. Returns 1
 * when anything was added, 0 when nothing, -1 on error. */
int dl_feed_load_store(dl_feed *f, dl_store *st, int64_t run_id, int64_t until_step,
                       int until_epoch, dl_err *err);

typedef struct dl_feed_attach dl_feed_attach;

/* Makes f (initialised, ctl NULL) follow run_id through st (a connection owned by the caller that
 * may write: commands are posted through it). The screen posts to *proxy (owned by the attach). */
dl_status dl_feed_attach_open(dl_feed_attach **out, dl_feed *f, dl_store *st, int64_t run_id,
                              dl_control **proxy, dl_err *err);
void dl_feed_attach_close(dl_feed_attach *a);
/* Forwards what the proxy holds now (the screen is closing). */
void dl_feed_attach_flush(dl_feed_attach *a);
/* A line to show once (an acknowledgement, the end of the training); NULL when none is new. */
const char *dl_feed_attach_note(dl_feed_attach *a);
/* The training has ended (or its process is gone); the status it ended with. */
int dl_feed_attach_ended(const dl_feed_attach *a, dl_run_status *status);
/* The pid training the run (0 once it is gone). */
int64_t dl_feed_attach_pid(const dl_feed_attach *a);

#endif
