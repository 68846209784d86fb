/* model: the public face of a network, as the learner, the weight importer and the benchmark
 * see it. A model is a tree of nodes (core/nn) built by the zoo (core/models), owning its
 * parameter store and its activation memory, which is planned once per (batch size, input shape)
 * and re-planned when either changes.
 *
 * Architectures (dl_model_cfg.arch):
 *   "resnet18", "resnet34", "resnet50"  torchvision's definitions and state_dict names
 *   "resnet-xs", "resnet-s", ...        small ResNets for 28-64 px images: 3x3 stem, no max-pool,
 *                                        torchvision naming (conv1, bn1, layer1..,
 * downsample.{0,1}, fc) resnet-xs: stem 32, stages 2x32 / 2x64 / 2x128 BasicBlocks resnet-s: stem
 * 64, 2x64 / 3x128 / 3x256 (shapes and sizes: docs/fastai.md §9.2)
 *   "resnet-custom:<basic|bottleneck>:<blocks,..>:<planes,..>:<imagenet|small>"
 *                                        any 1-4 stage ResNet, e.g. the micro fixtures
 *                                        "resnet-custom:basic:1,1,1,1:4,8,16,32:imagenet"
 * (resnet.h) Heads (dl_model_cfg.head): DL_HEAD_TORCHVISION  avgpool + fc, as torchvision (names
 * "fc.weight", "fc.bias") DL_HEAD_FASTAI       fastai's create_head on the body (names head.{2,6}.*
 * BatchNorm1d and head.{4,8}.weight Linear without bias: fastai's Sequential indices; see
 * models/resnet.h); the body is the ResNet without avgpool/fc, its names unchanged. Layer groups as
 * fastai splits a ResNet: 0 = stem + layer1 + layer2, 1 = layer3 + layer4, 2 = head (with a
 * torchvision head: the fc). */
#ifndef DL_MODEL_H
#define DL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/params.h"
#include "core/rng.h"
#include "core/tensor_map.h"

typedef enum dl_head_kind { DL_HEAD_TORCHVISION = 0, DL_HEAD_FASTAI = 1 } dl_head_kind;

typedef struct dl_model_cfg {
    const char *arch; /* see above */
    int in_channels;  /* 1 or 3 (any positive number works) */
    int n_out;        /* classes (or labels for multi-label) */
    dl_head_kind head;
    uint64_t seed; /* initialisation (and dropout) stream */
} dl_model_cfg;

typedef struct dl_model dl_model;

dl_status dl_model_create(dl_model **out, const dl_model_cfg *cfg, dl_err *err);
void dl_model_free(dl_model *m);

/* Runs the network on x (N, C, H, W). train selects BatchNorm batch statistics and dropout.
 * *logits points into model-owned memory (N, n_out), valid until the next forward. */
dl_status dl_model_forward(dl_model *m, const float *x, int n, int h, int w, bool train,
                           const float **logits, dl_err *err);
/* What forward checks and plans before it runs (sizes, activation memory): after it succeeds, a
 * forward of the same shape cannot fail. */
dl_status dl_model_prepare(dl_model *m, int n, int h, int w, bool train, dl_err *err);
/* Back-propagates dlogits (N, n_out) of the last train forward; ACCUMULATES parameter gradients
 * into the store (call dl_params_zero_grad first). Frozen non-norm parameters get no gradient and
 * their weight-gradient GEMMs are skipped. It reads the x of that forward again: keep x alive and
 * unchanged until backward returns. dlogits is copied, never modified. */
dl_status dl_model_backward(dl_model *m, const float *dlogits, dl_err *err);

dl_params *dl_model_params(dl_model *m);
const dl_model_cfg *dl_model_config(const dl_model *m);
int dl_model_n_groups(const dl_model *m);
/* Number of body output channels (512 for resnet18/34, 2048 for resnet50). */
int dl_model_body_channels(const dl_model *m);

/* Re-initialises every parameter and buffer as torchvision/fastai would for this seed. */
dl_status dl_model_init_weights(dl_model *m, uint64_t seed, dl_err *err);

/* The state dict (torchvision names, state_dict order) and its metadata
 * ("arch", "n_out", "in_channels", "head"). */
dl_status dl_model_state_dict(const dl_model *m, dl_tensor_map *out, dl_err *err);
/* Loads a full state dict (every key must fit). */
dl_status dl_model_load_state_dict(dl_model *m, const dl_tensor_map *sd, dl_err *err);
/* Loads only the body (everything but the head) from sd; the head stays freshly initialised.
 * Accepts torchvision checkpoints (with "fc.*", which is ignored) and dllab ones of either head. */
dl_status dl_model_load_body(dl_model *m, const dl_tensor_map *sd, dl_err *err);

/* The dropout stream (seeded from cfg.seed): save and restore its state to resume a run exactly
 * or to repeat a train-mode forward with the same masks. */
dl_rng *dl_model_dropout_rng(dl_model *m);
/* Bytes of the current activation plan and conv workspace (0 before the first forward). */
size_t dl_model_activation_bytes(const dl_model *m);

/* Conv geometry of the current plan (nothing before the first forward), in network order; for
 * benchmarks that time each conv shape. */
typedef void (*dl_model_conv_visit)(void *user, const char *name, int in_c, int in_h, int in_w,
                                    int out_c, int k, int stride, int pad);
void dl_model_walk_convs(const dl_model *m, dl_model_conv_visit visit, void *user);

/* Synchronised BatchNorm for a data-parallel replica (core/learn/replicas.c): train-mode BN
 * statistics over every replica's slice of the batch; NULL turns it off. s must outlive its use. */
typedef struct dl_bn_sync dl_bn_sync;
void dl_model_set_bn_sync(dl_model *m, const dl_bn_sync *s);

/* fn(user, entry) after each layer's backward, for each of its parameter entries whose gradient
 * is now final (NULL: none). Data parallelism sums finished buckets while backward goes on. */
void dl_model_set_grad_hook(dl_model *m, void (*fn)(void *user, long entry), void *user);

/* Lists the architectures the zoo knows, NULL-terminated. */
const char *const *dl_model_arch_names(void);

#endif
