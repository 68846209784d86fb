/* model_internal: the dl_model struct, shared by model.c and init.c (not for use outside
 * core/models). */
#ifndef DL_MODEL_INTERNAL_H
#define DL_MODEL_INTERNAL_H

#include "core/models/model.h"
#include "core/models/resnet.h"
#include "core/nn/nn.h"
#include "core/rng.h"

struct dl_model {
    dl_model_cfg cfg;
    char arch[256]; /* cfg.arch points here */
    dl_resnet_spec spec;
    dl_params ps;
    dl_node *root; /* sequential: body nodes then head nodes */
    int body_c;
    const char *head_prefix; /* "fc." or "head." */
    /* activation plan: valid for batches <= plan_n of exactly (in_channels, plan_h, plan_w) */
    int plan_n, plan_h, plan_w;
    float *act, *ws;
    float *dlog; /* (plan_n, n_out) the logits' gradient handed to the root's backward */
    size_t act_floats, ws_floats;
    int bn_min_hw; /* smallest plane a BatchNorm normalises over in this plan */
    char bn_min_name[DL_NAME_MAX];
    dl_rng drop_rng;
    const dl_bn_sync *bn_sync; /* synchronised BatchNorm of a data-parallel replica, else NULL */
    void (*grad_ready)(void *user, long entry); /* dl_model_set_grad_hook */
    void *grad_user;
    /* last forward, for backward */
    const float *last_x;
    int last_n;
    bool last_train;
};

#endif
