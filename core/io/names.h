/* names: renames the keys of foreign ResNet checkpoints to torchvision's (dllab's) names, in place,
 * so the import that follows is a plain name lookup. Handled:
 *   - one prefix shared by every key: "module." (DataParallel), "model.", "backbone.", "encoder.",
 *     "net.", "state_dict."
 *   - timm: plain timm ResNets already use torchvision's names (conv1, bn1, layerN.B.convK,
 *     downsample.{0,1}, fc); models with a "head.fc." classifier get it renamed to "fc."
 *   - fastai learner exports (a Sequential of the ResNet's children plus create_head):
 *     "0.0." conv1, "0.1." bn1, "0.4."-"0.7." layer1-layer4, "1.<i>." head.<i>
 * Refuses renamings that would give two tensors the same name. Keys it does not recognise are left
 * as they are, for the caller to report. */
#ifndef DL_IO_NAMES_H
#define DL_IO_NAMES_H

#include "core/err.h"
#include "core/tensor_map.h"

/* What the names looked like: "torchvision", "timm (head.fc -> fc)", "fastai export", with
 * ", prefix 'module.' removed" appended where it applies. The caller's storage (it was a static
 * buffer, which two threads renaming at once would share). */
typedef struct dl_weights_style {
    char text[128];
} dl_weights_style;
/* style may be NULL. */
dl_status dl_weights_rename(dl_tensor_map *m, dl_weights_style *style, dl_err *err);

#endif
