/* train-run: a training started in this process from a run configuration (dllab train, the home
 * screen's new run, the LR finder's Enter and each point of a sweep all come here). */
#ifndef DL_TRAIN_RUN_H
#define DL_TRAIN_RUN_H

#include <stddef.h>

#include "core/run/run_cfg.h"
#include "ui/ui.h"

/* Trains as `dllab train` would with c (c->resume: continue that run); the dashboard unless
 * c->no_tui. The new run's name goes to run_name when not NULL. Returns an exit code. */
int dl_train_cfg(dl_run_cfg *c, const dl_ui_opts *uo, char *run_name, size_t cap);

#endif
