/* weights: content-based dispatch between the .pth importer and the safetensors reader. */
#include "core/io/weights.h"

#include <stdlib.h>
#include <string.h>

#include "core/io/pth.h"
#include "core/io/read_file.h"
#include "core/io/safetensors.h"
#include "core/io/zip.h"

dl_weights_format dl_weights_sniff(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    /* A safetensors header is JSON, so byte 8 is '{' or whitespace. PyTorch's formats have their
     * own marks: a zip local header, a legacy pickle (0x80 PROTO) or a tar ("ustar" at 257). */
    if (dl_zip_sniff(buf, len))
        return DL_WEIGHTS_PTH;
    int json_after = len > 8 && (b[8] == '{' || b[8] == ' ');
    if (!json_after &&
        ((len >= 2 && b[0] == 0x80) || (len >= 512 && memcmp(b + 257, "ustar", 5) == 0)))
        return DL_WEIGHTS_PTH;
    return DL_WEIGHTS_SAFETENSORS;
}

dl_status dl_weights_parse(const void *buf, size_t len, const char *name, dl_tensor_map *out,
                           dl_err *err)
{
    if (dl_weights_sniff(buf, len) == DL_WEIGHTS_PTH)
        return dl_pth_parse(buf, len, name, out, err);
    return dl_safetensors_parse(buf, len, name, out, err);
}

dl_status dl_weights_read(const char *path, dl_tensor_map *out, dl_err *err)
{
    return dl_io_read_parse(path, dl_weights_parse, out, err);
}
