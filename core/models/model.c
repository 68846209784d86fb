/* model: the dl_model API (model.h) over the zoo builders and the node tree. Activations are
 * planned on the first forward and re-planned only when the input size changes or the batch
 * grows (a smaller last batch reuses the plan). Backward reuses the input of the last train
 * forward, which the caller must keep alive until then. Refuses: backward after an eval forward,
 * inputs whose channels differ from cfg.in_channels, state dicts that do not fit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/models/model_internal.h"

const char *const *dl_model_arch_names(void) { return dl_resnet_names(); }

void dl_model_free(dl_model *m)
{
    if (!m)
        return;
    dl_nn_free(m->root);
    dl_params_free(&m->ps);
    dl_free_aligned(m->act);
    dl_free_aligned(m->ws);
    dl_free_aligned(m->dlog);
    free(m);
}

dl_status dl_model_create(dl_model **out, const dl_model_cfg *cfg, dl_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->arch)
        return dl_err_set(err, DL_EINVAL, "model: no architecture given");
    if (strlen(cfg->arch) >= 256)
        return dl_err_set(err, DL_EINVAL, "model: architecture string too long");
    if (cfg->in_channels < 1 || cfg->n_out < 1)
        return dl_err_set(err, DL_EINVAL,
                          "model '%s': in_channels (%d) and n_out (%d) must be positive", cfg->arch,
                          cfg->in_channels, cfg->n_out);
    if (cfg->head != DL_HEAD_TORCHVISION && cfg->head != DL_HEAD_FASTAI)
        return dl_err_set(err, DL_EINVAL, "model '%s': unknown head kind %d", cfg->arch,
                          (int)cfg->head);
    dl_model *m = calloc(1, sizeof *m);
    if (!m)
        return dl_err_set(err, DL_ENOMEM, "out of memory creating model '%s'", cfg->arch);
    m->cfg = *cfg;
    snprintf(m->arch, sizeof m->arch, "%s", cfg->arch);
    m->cfg.arch = m->arch;
    dl_params_init(&m->ps);
    dl_status st = dl_resnet_spec_parse(cfg->arch, &m->spec, err);
    if (st == DL_OK && !(m->root = dl_nn_sequential("", err)))
        st = err ? err->code : DL_ENOMEM;
    if (st == DL_OK)
        st = dl_resnet_build(&m->ps, m->root, &m->spec, cfg->in_channels, err);
    if (st == DL_OK) {
        m->body_c = dl_resnet_body_channels(&m->spec);
        if (cfg->head == DL_HEAD_FASTAI) {
            m->head_prefix = "head.";
            st = dl_head_fastai(&m->ps, m->root, m->body_c, cfg->n_out, err);
        } else {
            m->head_prefix = "fc.";
            st = dl_head_torchvision(&m->ps, m->root, m->body_c, cfg->n_out, err);
        }
    }
    if (st == DL_OK)
        m->ps.n_groups =
            3; /* stem+layer1+layer2 | layer3+layer4 | head, even when a stage is absent */
    if (st == DL_OK)
        st = dl_params_finalize(&m->ps, err);
    if (st == DL_OK)
        st = dl_model_init_weights(m, cfg->seed, err);
    if (st != DL_OK) {
        dl_model_free(m);
        return st;
    }
    dl_rng_seed(&m->drop_rng, cfg->seed, 0x64726f70 /* "drop" */, 0);
    *out = m;
    return DL_OK;
}

static dl_status plan(dl_model *m, int n, int h, int w, dl_err *err)
{
    if (m->act && n <= m->plan_n && h == m->plan_h && w == m->plan_w)
        return DL_OK;
    int in[3] = {m->cfg.in_channels, h, w};
    size_t act = 0, ws = 0;
    dl_status st = dl_nn_plan(m->root, n, in, NULL, &act, &ws, err);
    if (st != DL_OK)
        return dl_err_wrap(err, "model '%s', input %dx%dx%d", m->arch, in[0], h, w);
    dl_free_aligned(m->act);
    dl_free_aligned(m->ws);
    dl_free_aligned(m->dlog);
    m->act = dl_alloc_aligned(act * sizeof(float));
    m->ws = dl_alloc_aligned((ws ? ws : 1) * sizeof(float));
    m->dlog = dl_alloc_aligned((size_t)n * (size_t)m->cfg.n_out * sizeof(float));
    m->plan_n = 0;
    m->last_x = NULL;
    if (!m->act || !m->ws || !m->dlog)
        return dl_err_set(
            err, DL_ENOMEM,
            "model '%s': cannot allocate activations for batch %d at %dx%d (%.1f MB); hint: use a "
            "smaller batch",
            m->arch, n, h, w, (double)act * 4.0 / 1e6);
    if ((st = dl_nn_plan(m->root, n, in, m->act, NULL, NULL, err)) != DL_OK)
        return st;
    m->act_floats = act;
    m->ws_floats = ws;
    m->bn_min_hw = dl_nn_plan_bn_min_hw(m->root, m->bn_min_name, sizeof m->bn_min_name);
    m->plan_n = n;
    m->plan_h = h;
    m->plan_w = w;
    return DL_OK;
}

dl_status dl_model_prepare(dl_model *m, int n, int h, int w, bool train, dl_err *err)
{
    if (n < 1 || h < 1 || w < 1)
        return dl_err_set(err, DL_EINVAL, "model '%s': bad input size %dx%dx%d", m->arch, n, h, w);
    dl_status st = plan(m, n, h, w, err);
    if (st != DL_OK)
        return st;
    if (train && m->bn_min_hw > 0 && (long)n * m->bn_min_hw < 2)
        return dl_err_set(
            err, DL_EINVAL,
            "model '%s': layer '%s' would normalise over a single value in train mode (batch %d, "
            "input %dx%d); hint: use a batch of at least 2",
            m->arch, m->bn_min_name, n, h, w);
    return DL_OK;
}

dl_status dl_model_forward(dl_model *m, const float *x, int n, int h, int w, bool train,
                           const float **logits, dl_err *err)
{
    if (!x || !logits)
        return dl_err_set(err, DL_EINVAL, "model '%s': forward needs an input and a logits pointer",
                          m->arch);
    dl_status st = dl_model_prepare(m, n, h, w, train, err);
    if (st != DL_OK)
        return st;
    dl_nn_ctx c = {.ps = &m->ps,
                   .n = n,
                   .train = train,
                   .ws = m->ws,
                   .rng = &m->drop_rng,
                   .bn_sync = m->bn_sync};
    m->root->vt->forward(m->root, &c, x);
    m->last_x = x;
    m->last_n = n;
    m->last_train = train;
    *logits = m->root->y;
    return DL_OK;
}

dl_status dl_model_backward(dl_model *m, const float *dlogits, dl_err *err)
{
    if (!dlogits)
        return dl_err_set(err, DL_EINVAL, "model '%s': backward needs dlogits", m->arch);
    if (!m->last_x || !m->last_train)
        return dl_err_set(err, DL_EINVAL, "model '%s': backward needs a train-mode forward first",
                          m->arch);
    size_t k = (size_t)m->last_n * (size_t)m->cfg.n_out;
    memcpy(m->dlog, dlogits, k * sizeof(float)); /* the backward clobbers its incoming gradient */
    dl_nn_ctx c = {.ps = &m->ps,
                   .n = m->last_n,
                   .train = true,
                   .ws = m->ws,
                   .rng = &m->drop_rng,
                   .bn_sync = m->bn_sync,
                   .grad_ready = m->grad_ready,
                   .grad_user = m->grad_user};
    m->root->vt->backward(m->root, &c, m->last_x, NULL, m->dlog);
    return DL_OK;
}

dl_params *dl_model_params(dl_model *m) { return &m->ps; }
const dl_model_cfg *dl_model_config(const dl_model *m) { return &m->cfg; }
int dl_model_n_groups(const dl_model *m) { return m->ps.n_groups; }
int dl_model_body_channels(const dl_model *m) { return m->body_c; }
dl_rng *dl_model_dropout_rng(dl_model *m) { return &m->drop_rng; }

void dl_model_walk_convs(const dl_model *m, dl_model_conv_visit visit, void *user)
{
    if (m->act)
        dl_nn_walk_convs(m->root, visit, user);
}
size_t dl_model_activation_bytes(const dl_model *m)
{
    return (m->act_floats + m->ws_floats) * sizeof(float);
}

dl_status dl_model_state_dict(const dl_model *m, dl_tensor_map *out, dl_err *err)
{
    dl_status st = dl_params_to_map(&m->ps, out, err);
    char buf[32];
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(out, "arch", m->arch, err);
    snprintf(buf, sizeof buf, "%d", m->cfg.n_out);
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(out, "n_out", buf, err);
    snprintf(buf, sizeof buf, "%d", m->cfg.in_channels);
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(out, "in_channels", buf, err);
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(out, "head",
                                    m->cfg.head == DL_HEAD_FASTAI ? "fastai" : "torchvision", err);
    return st;
}

dl_status dl_model_load_state_dict(dl_model *m, const dl_tensor_map *sd, dl_err *err)
{
    dl_load_opts o = {.allow_missing_nbt = true};
    dl_status st = dl_params_load_map(&m->ps, sd, &o, err);
    if (st != DL_OK)
        return dl_err_wrap(err, "model '%s'", m->arch);
    return DL_OK;
}

static bool is_head_key(const char *name)
{
    return strncmp(name, "fc.", 3) == 0 || strncmp(name, "head.", 5) == 0;
}

dl_status dl_model_load_body(dl_model *m, const dl_tensor_map *sd, dl_err *err)
{
    /* A shallow view of sd without any head keys (fc.* or head.*): tensors are shared, not copied.
     */
    dl_tensor_map view;
    dl_tensor_map_init(&view);
    view.items = malloc((sd->n ? sd->n : 1) * sizeof *view.items);
    if (!view.items)
        return dl_err_set(err, DL_ENOMEM, "out of memory loading the body of '%s'", m->arch);
    for (size_t i = 0; i < sd->n; i++)
        if (!is_head_key(sd->items[i].name))
            view.items[view.n++] = sd->items[i];
    view.cap = sd->n;
    dl_load_opts o = {.skip_prefix = m->head_prefix, .allow_missing_nbt = true};
    dl_status st = dl_params_load_map(&m->ps, &view, &o, err);
    free(view.items);
    if (st != DL_OK)
        return dl_err_wrap(err, "model '%s' (body)", m->arch);
    return DL_OK;
}

void dl_model_set_bn_sync(dl_model *m, const dl_bn_sync *s) { m->bn_sync = s; }

void dl_model_set_grad_hook(dl_model *m, void (*fn)(void *user, long entry), void *user)
{
    m->grad_ready = fn;
    m->grad_user = user;
}
