/* run/session: what a run needs, built from its dl_run_cfg: the run store, dataset, loaders,
 * model (fresh, or with a pretrained body from a weight file or a saved run), control channel and
 * learner; and the run's row in the store, its configuration recorded as the effective values.
 * Never prints: every failure comes back as a status with a message in dl_err. */
#ifndef DL_RUN_SESSION_H
#define DL_RUN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/data/data.h"
#include "core/learn/learner.h"
#include "core/run/run_cfg.h"
#include "core/store/store.h"

typedef struct dl_session {
    dl_run_cfg cfg; /* the effective configuration (automatic values resolved) */
    dl_dataset *ds;
    dl_loader *tr, *va;
    dl_model *model;
    dl_control *ctl;
    dl_learner *l;
    struct dl_replicas *rep; /* data-parallel replicas (NULL: one, and no other rank) */
    dl_store *st;
    int64_t run;
    char run_name[DL_STORE_NAME_MAX];
    bool multi;
    char stem_note[200]; /* how a pretrained stem was adapted to the data's channels, or "" */
} dl_session;

/* Opens everything cfg describes (the store at cfg->runs, or the default one). On failure the
 * session is closed and err says why. */
dl_status dl_session_open(dl_session *s, const dl_run_cfg *cfg, dl_err *err);
/* Cores this process may run on (its affinity mask), shared among the job's ranks on this
 * machine: what --replicas 0 uses. */
int dl_session_usable_cores(void);
void dl_session_close(dl_session *s);
/* Creates the session's run in the store, named prefix-N (prefix NULL: --name or DATA-ARCH),
 * recording the effective configuration, the image preparation and the vocabulary, and
 * attaches it to the learner. */
dl_status dl_session_new_run(dl_session *s, const char *prefix, dl_err *err);
/* The name prefix a run of cfg gets: --name, else DATA-ARCH ("fmnist-resnet-xs"). */
void dl_run_cfg_prefix(const dl_run_cfg *c, char *out, size_t cap);

/* A stored run's configuration (any schema dllab wrote). */
dl_status dl_run_cfg_from_run(dl_run_cfg *c, dl_store *st, int64_t run, dl_err *err);

/* Loads the checkpoint `which` names into *map: "best", "last", "epoch-K", or NULL/"" for the
 * best else the last. said gets what was loaded, for the user ("best checkpoint (epoch 3)");
 * *epoch its epoch. A bad name is DL_EINVAL naming the choices. */
dl_status dl_run_checkpoint_choose(dl_store *st, int64_t run, const char *which, dl_tensor_map *map,
                                   char *said, size_t cap, int *epoch, dl_err *err);
/* Loads a run's checkpoint (best if want_best, else latest, or epoch >= 0) into *map. */
dl_status dl_run_checkpoint_read(dl_store *st, int64_t run, int epoch, bool want_best,
                                 dl_tensor_map *map, dl_err *err);

#endif
