/* pth: imports PyTorch checkpoints saved by torch.save (>= 1.6: a zip archive holding data.pkl and
 * one raw storage per tensor) without executing anything: the pickle goes through the restricted
 * machine in core/io/pickle.h, storages are looked up by name in the zip's central directory, and
 * each tensor is copied out of its storage with its offset, sizes and strides (views that share a
 * storage work), converted to float32 (int64 is kept for num_batches_tracked). A checkpoint that
 * nests its state dict one level down ({'state_dict': ...} or {'model': ...}) is looked into.
 * Refuses legacy (pre-1.6 pickle or tar) checkpoints with a hint on re-saving them, big-endian
 * archives, storages that are missing or whose size disagrees with their element count, views past
 * the end of their storage, negative strides, and float32 output above 8x the file size (or
 * DL_PTH_MAX_BYTES): only broadcast (stride-0) views or extreme compression could get there. */
#ifndef DL_IO_PTH_H
#define DL_IO_PTH_H

#include <stddef.h>

#include "core/err.h"
#include "core/tensor_map.h"

/* Upper bound on the float32 bytes one checkpoint may produce (and on one zip entry). */
#define DL_PTH_MAX_BYTES (16ull << 30)

dl_status dl_pth_read(const char *path, dl_tensor_map *out, dl_err *err);
/* Same on an in-memory file image; name is used in messages. */
dl_status dl_pth_parse(const void *buf, size_t len, const char *name, dl_tensor_map *out,
                       dl_err *err);

#endif
