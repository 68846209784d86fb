/* init: torchvision's and fastai's initialisation, from one dl_rng stream seeded by the model
 * seed, walking entries in state_dict order (so a seed always gives the same weights).
 *   body conv      kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2 / (OC*KH*KW))
 *   body BN        weight 1, bias 0; running_mean 0, running_var 1, num_batches_tracked 0
 *   fc (tv head)   nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in))
 *   head.* linear  kaiming_normal_ (fan_in, gain sqrt 2): std = sqrt(2 / in); biases 0
 *   head.* BN      weight 1, bias 1e-3 (fastai's BatchNorm init)
 * The entry's role comes from its name and shape, which the builders fix. */
#include <math.h>
#include <string.h>

#include "core/models/model_internal.h"

dl_status dl_model_init_weights(dl_model *m, uint64_t seed, dl_err *err)
{
    dl_params *ps = &m->ps;
    dl_rng r;
    dl_rng_seed(&r, seed, 0x696e6974 /* "init" */, 0);
    for (size_t i = 0; i < ps->n; i++) {
        dl_entry *e = &ps->e[i];
        bool head = strncmp(e->name, "head.", 5) == 0;
        bool fc = strncmp(e->name, "fc.", 3) == 0;
        if (e->kind == DL_ENTRY_BUF_F32) {
            float v = strstr(e->name, "running_var") ? 1.0f : 0.0f;
            float *b = dl_params_buf(ps, i);
            for (size_t j = 0; j < e->numel; j++)
                b[j] = v;
            continue;
        }
        if (e->kind == DL_ENTRY_BUF_I64) {
            memset(dl_params_ibuf(ps, i), 0, e->numel * sizeof(int64_t));
            continue;
        }
        float *d = dl_params_data(ps, i);
        if (e->flags & DL_PARAM_NORM) {
            float v = (e->flags & DL_PARAM_BIAS) ? (head ? 1e-3f : 0.0f) : 1.0f;
            for (size_t j = 0; j < e->numel; j++)
                d[j] = v;
        } else if (fc) {
            /* both fc.weight (OUT, IN) and fc.bias (OUT) use the bound of the weight's fan-in */
            long wi = dl_params_find(ps, "fc.weight");
            if (wi < 0)
                return dl_err_set(err, DL_EINVAL, "init: '%s' without fc.weight", e->name);
            float bound = 1.0f / sqrtf((float)ps->e[wi].shape[1]);
            for (size_t j = 0; j < e->numel; j++)
                d[j] = (2.0f * dl_rng_uniform(&r) - 1.0f) * bound;
        } else if (e->ndim == 4) {
            float std = sqrtf(2.0f / (float)(e->shape[0] * e->shape[2] * e->shape[3]));
            for (size_t j = 0; j < e->numel; j++)
                d[j] = dl_rng_normal(&r) * std;
        } else if (head && e->ndim == 2) {
            float std = sqrtf(2.0f / (float)e->shape[1]);
            for (size_t j = 0; j < e->numel; j++)
                d[j] = dl_rng_normal(&r) * std;
        } else if (head && (e->flags & DL_PARAM_BIAS)) {
            memset(d, 0, e->numel * sizeof(float));
        } else {
            return dl_err_set(err, DL_EINVAL, "init: no rule for parameter '%s'", e->name);
        }
    }
    return DL_OK;
}
