/* params: the parameter store. Every learnable tensor of a model lives in one contiguous float
 * block, with mirrors of the same layout for gradients and two optimiser-state blocks (llm.c's
 * layout), so optimisers are flat loops. BatchNorm running statistics live in a separate float
 * block and num_batches_tracked counters in an int64 block: they are state, not parameters.
 *
 * Life cycle: a model registers entries (dl_params_add / dl_params_add_buffer) in torchvision
 * state_dict order, then dl_params_finalize allocates the blocks. After that, pointers returned
 * by dl_params_data/grad/buf are stable until dl_params_free. Entry order is the state_dict order,
 * so exporting weights is a walk over entries and importing one is a name lookup. */
#ifndef DL_PARAMS_H
#define DL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/tensor.h"
#include "core/tensor_map.h"

#define DL_MAX_GROUPS 8
#define DL_NAME_MAX 128

typedef enum dl_entry_kind {
    DL_ENTRY_PARAM = 0,   /* learnable float32 tensor in the parameter block */
    DL_ENTRY_BUF_F32 = 1, /* float32 buffer (BN running_mean / running_var) */
    DL_ENTRY_BUF_I64 = 2  /* int64 buffer (BN num_batches_tracked) */
} dl_entry_kind;

/* Flags of a parameter. */
enum {
    DL_PARAM_NORM =
        1u << 0, /* a norm layer's weight/bias: trainable in frozen groups (train_bn), no wd */
    DL_PARAM_BIAS = 1u << 1 /* a bias: no weight decay (fastai's wd_bn_bias=False) */
};

/* How an entry starts (core/models/init.c applies it). The layer that registers the entry says,
 * so the initialiser needs no rule keyed on names. */
typedef enum dl_init_rule {
    DL_INIT_ZERO = 0,        /* the default of every entry */
    DL_INIT_ONE,             /* BN weight, running_var */
    DL_INIT_SMALL,           /* 1e-3: fastai's BatchNorm bias in a head */
    DL_INIT_KAIMING_FAN_OUT, /* conv: normal, std sqrt(2 / (OC*KH*KW)) (torchvision's ResNet) */
    DL_INIT_KAIMING_FAN_IN,  /* linear weight: normal, std sqrt(2 / in) (fastai's head) */
    DL_INIT_TORCH_LINEAR /* nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), weight and bias
                          */
} dl_init_rule;

typedef struct dl_entry {
    char name[DL_NAME_MAX]; /* torchvision state_dict name, e.g. "layer1.0.bn1.running_mean" */
    dl_entry_kind kind;
    int ndim;
    int64_t shape[4];
    size_t numel;
    size_t offset;  /* in elements, into the block of its kind; 16-element aligned */
    int group;      /* parameter group (layer group) */
    unsigned flags; /* DL_PARAM_* */
    dl_init_rule init;
    int fan_in; /* DL_INIT_TORCH_LINEAR: the layer's fan-in (its bias uses the weight's) */
} dl_entry;

typedef struct dl_params {
    dl_entry *e;
    size_t n, cap;
    size_t total;      /* floats in data/grad/state blocks (padded) */
    size_t buf_total;  /* floats in the f32 buffer block */
    size_t ibuf_total; /* int64s in the i64 buffer block */
    float *data, *grad, *state0,
        *state1; /* params, grads, optimiser state (momentum / exp_avg, exp_avg_sq) */
    float *buf;
    int64_t *ibuf;
    int n_groups;
    bool frozen[DL_MAX_GROUPS]; /* group frozen: its non-norm params get no grads and no updates */
    bool finalized;
    bool data_shared; /* data belongs to another store (a replica's view): never freed here */
} dl_params;

void dl_params_init(dl_params *ps);
void dl_params_free(dl_params *ps);
/* Registers a learnable parameter; returns its entry index (>= 0) or -1 with err set. */
long dl_params_add(dl_params *ps, const char *name, int ndim, const int64_t *shape, int group,
                   unsigned flags, dl_err *err);
/* Registers a buffer (kind DL_ENTRY_BUF_F32 or DL_ENTRY_BUF_I64); returns its index or -1. */
long dl_params_add_buffer(dl_params *ps, const char *name, dl_entry_kind kind, int ndim,
                          const int64_t *shape, dl_err *err);
/* Sets how entry i starts (a layer, right after registering it). */
void dl_params_set_init(dl_params *ps, long i, dl_init_rule rule, int fan_in);
/* Allocates the blocks (zeroed). No more entries may be added afterwards. */
dl_status dl_params_finalize(dl_params *ps, dl_err *err);

static inline float *dl_params_data(const dl_params *ps, size_t i)
{
    return ps->data + ps->e[i].offset;
}
static inline float *dl_params_grad(const dl_params *ps, size_t i)
{
    return ps->grad + ps->e[i].offset;
}
static inline float *dl_params_buf(const dl_params *ps, size_t i)
{
    return ps->buf + ps->e[i].offset;
}
static inline int64_t *dl_params_ibuf(const dl_params *ps, size_t i)
{
    return ps->ibuf + ps->e[i].offset;
}

/* True when entry i is a parameter that receives gradients and updates now. */
bool dl_params_trainable(const dl_params *ps, size_t i);
/* Index of the entry with this name, or -1. */
long dl_params_find(const dl_params *ps, const char *name);
size_t dl_params_count(const dl_params *ps); /* learnable scalars (sum of param numel) */
void dl_params_zero_grad(dl_params *ps);
/* Makes replica (a store of the same architecture) read master's parameter block instead of its
 * own: data-parallel replicas share one copy of the weights and keep their own gradients and BN
 * buffers. Its optimiser-state blocks are released (a replica never steps). Fails, naming the
 * sizes, when the layouts differ. */
dl_status dl_params_share_data(dl_params *replica, const dl_params *master, dl_err *err);
/* Freezes groups [0, n) and unfreezes the rest (fastai's freeze_to; negative n counts from the
 * end). */
void dl_params_freeze_to(dl_params *ps, int n);

/* The state dict: every entry, in order, as float32 / int64 tensors (copies). */
dl_status dl_params_to_map(const dl_params *ps, dl_tensor_map *out, dl_err *err);

/* How dl_params_load_map treats names that do not line up. */
typedef struct dl_load_opts {
    const char *skip_prefix; /* entries with this prefix are left as they are (e.g. "fc." for a
                                fresh head) */
    const char
        *src_prefix; /* prefix stripped from map names before lookup (e.g. "0." for a body) */
    bool allow_missing_nbt; /* num_batches_tracked may be absent (pre-0.4.1 checkpoints) */
    bool allow_unexpected;  /* names in the map that the model lacks are ignored */
} dl_load_opts;

/* Copies tensors from map into the store by name. Shapes must match exactly; a missing or
 * unexpected name is an error listing up to 10 names, unless opts say otherwise. */
dl_status dl_params_load_map(dl_params *ps, const dl_tensor_map *map, const dl_load_opts *opts,
                             dl_err *err);

#endif
