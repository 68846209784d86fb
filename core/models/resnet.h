/* resnet: one builder for every ResNet dllab knows (resnet_build(block, blocks[], planes[], stem)
 * of docs/fastai.md §9), with torchvision's module names so state dicts map by name.
 *
 * Arch strings accepted by dl_resnet_spec_parse (and so by dl_model_cfg.arch):
 *   "resnet18" | "resnet34" | "resnet50"            torchvision
 *   "resnet-xs" | "resnet-s"                       small ResNets (3x3 stem, no max-pool)
 *   "resnet-custom:<basic|bottleneck>:<b1,b2,..>:<p1,p2,..>:<imagenet|small>"
 *       1-4 stages; blocks per stage; planes per stage (the stem has planes[0] channels);
 *       e.g. "resnet-custom:basic:1,1,1,1:4,8,16,32:imagenet" (the micro fixtures).
 * Stage 0 has stride 1, later stages stride 2 (on conv1 of a BasicBlock, conv2 of a Bottleneck,
 * v1.5); block 0 of a stage gets downsample.{0,1} (1x1 conv + BN) when stride or width change.
 * Refuses more than 4 stages, non-positive sizes and unknown names. */
#ifndef DL_RESNET_H
#define DL_RESNET_H

#include "core/err.h"
#include "core/nn/nn.h"
#include "core/params.h"

typedef enum dl_block_kind { DL_BLOCK_BASIC = 0, DL_BLOCK_BOTTLENECK = 1 } dl_block_kind;
typedef enum dl_stem_kind {
    DL_STEM_IMAGENET = 0, /* conv 7x7 s2 p3 + BN + ReLU + max-pool 3/2/1 */
    DL_STEM_SMALL = 1     /* conv 3x3 s1 p1 + BN + ReLU */
} dl_stem_kind;

#define DL_RESNET_MAX_STAGES 4

typedef struct dl_resnet_spec {
    dl_block_kind block;
    dl_stem_kind stem;
    int n_stages;
    int blocks[DL_RESNET_MAX_STAGES];
    int planes[DL_RESNET_MAX_STAGES];
} dl_resnet_spec;

/* The named zoo entries, NULL-terminated. */
const char *const *dl_resnet_names(void);
dl_status dl_resnet_spec_parse(const char *arch, dl_resnet_spec *out, dl_err *err);
/* Channels the body outputs: planes[last] * expansion (1 basic, 4 bottleneck). */
int dl_resnet_body_channels(const dl_resnet_spec *s);
/* Appends the body (stem + stages) to seq, registering parameters in state_dict order.
 * Layer groups: stem and stages 0-1 -> group 0, stages 2-3 -> group 1 (fastai's ResNet split). */
dl_status dl_resnet_build(dl_params *ps, dl_node *seq, const dl_resnet_spec *s, int in_channels,
                          dl_err *err);

/* Heads, appended after the body (group 2). */
dl_status dl_head_torchvision(dl_params *ps, dl_node *seq, int body_c, int n_out, dl_err *err);
/* fastai create_head: names head.{2,6} (BatchNorm1d) and head.{4,8} (Linear, no bias), the
 * indices of fastai's Sequential, so "1.<i>" keys of a fastai export map to "head.<i>". */
dl_status dl_head_fastai(dl_params *ps, dl_node *seq, int body_c, int n_out, dl_err *err);
/* fastai's create_head initialisation for the entries registered from index first on: linear
 * weights kaiming_normal_ (fan_in), linear biases 0, BatchNorm biases 1e-3 (core/models/init.c). */
void dl_init_fastai_head(dl_params *ps, size_t first);

#endif
