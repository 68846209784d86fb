/* show-text: the text summary of one run that `dllab show` prints (the interactive view, when
 * there is one, can fall back to it or print it on request). */
#ifndef DL_SHOW_TEXT_H
#define DL_SHOW_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "core/store/store.h"

/* Prints the run's header, configuration, epoch table, checkpoints, LR-finder suggestions,
 * skipped files and events to out. Returns a dl_status (err filled on failure). */
dl_status dl_show_text(FILE *out, dl_store *st, int64_t run_id, dl_err *err);

#endif
