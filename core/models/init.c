/* init: torchvision's and fastai's initialisation, from one dl_rng stream seeded by the model
 * seed, walking entries in state_dict order (so a seed always gives the same weights). Each entry
 * carries its rule (dl_init_rule), set by the layer that registered it:
 *   conv           kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2 / (OC*KH*KW))
 *   BN             weight 1, bias 0; running_mean 0, running_var 1, num_batches_tracked 0
 *   linear         nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in))
 * and fastai's head (dl_init_fastai_head) turns its linears into kaiming_normal_ (fan_in, gain
 * sqrt 2) with zero biases and its BN biases into 1e-3. No rule depends on a name. */
#include <math.h>
#include <string.h>

#include "core/models/model_internal.h"

void dl_init_fastai_head(dl_params *ps, size_t first)
{
    for (size_t i = first; i < ps->n; i++) {
        dl_entry *e = &ps->e[i];
        if (e->init == DL_INIT_TORCH_LINEAR)
            e->init = e->ndim == 2 ? DL_INIT_KAIMING_FAN_IN : DL_INIT_ZERO;
        else if (e->kind == DL_ENTRY_PARAM && (e->flags & DL_PARAM_NORM) &&
                 (e->flags & DL_PARAM_BIAS))
            e->init = DL_INIT_SMALL;
    }
}

static void fill(float *d, size_t n, float v)
{
    for (size_t j = 0; j < n; j++)
        d[j] = v;
}

dl_status dl_model_init_weights(dl_model *m, uint64_t seed, dl_err *err)
{
    dl_params *ps = &m->ps;
    dl_rng r;
    dl_rng_seed(&r, seed, 0x696e6974 /* "init" */, 0);
    for (size_t i = 0; i < ps->n; i++) {
        dl_entry *e = &ps->e[i];
        if (e->kind == DL_ENTRY_BUF_I64) {
            memset(dl_params_ibuf(ps, i), 0, e->numel * sizeof(int64_t));
            continue;
        }
        float *d = e->kind == DL_ENTRY_BUF_F32 ? dl_params_buf(ps, i) : dl_params_data(ps, i);
        float std, bound;
        switch (e->init) {
        case DL_INIT_ZERO:
            fill(d, e->numel, 0.0f);
            break;
        case DL_INIT_ONE:
            fill(d, e->numel, 1.0f);
            break;
        case DL_INIT_SMALL:
            fill(d, e->numel, 1e-3f);
            break;
        case DL_INIT_KAIMING_FAN_OUT:
            if (e->ndim != 4)
                return dl_err_set(err, DL_EINVAL, "init: '%s' is not a conv weight", e->name);
            std = sqrtf(2.0f / (float)(e->shape[0] * e->shape[2] * e->shape[3]));
            for (size_t j = 0; j < e->numel; j++)
                d[j] = dl_rng_normal(&r) * std;
            break;
        case DL_INIT_KAIMING_FAN_IN:
            if (e->ndim != 2)
                return dl_err_set(err, DL_EINVAL, "init: '%s' is not a linear weight", e->name);
            std = sqrtf(2.0f / (float)e->shape[1]);
            for (size_t j = 0; j < e->numel; j++)
                d[j] = dl_rng_normal(&r) * std;
            break;
        case DL_INIT_TORCH_LINEAR:
            if (e->fan_in <= 0)
                return dl_err_set(err, DL_EINVAL, "init: '%s' has no fan-in", e->name);
            bound = 1.0f / sqrtf((float)e->fan_in);
            for (size_t j = 0; j < e->numel; j++)
                d[j] = (2.0f * dl_rng_uniform(&r) - 1.0f) * bound;
            break;
        default:
            return dl_err_set(err, DL_EINVAL, "init: no rule for parameter '%s'", e->name);
        }
    }
    return DL_OK;
}
