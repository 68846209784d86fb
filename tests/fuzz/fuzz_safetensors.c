/* fuzz_safetensors: libFuzzer target for the safetensors reader (core/io/safetensors.c).
 * Any input must give DL_OK or an error, never a crash, leak or undefined behaviour; an input that
 * parses must also serialise and re-parse to the same tensor count. Run with `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>

#include "core/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err;
    if (dl_safetensors_parse(data, size, "fuzz", &m, &err) == DL_OK) {
        void *buf;
        size_t len;
        if (dl_safetensors_serialize(&m, &buf, &len, &err) == DL_OK) {
            dl_tensor_map r;
            dl_tensor_map_init(&r);
            if (dl_safetensors_parse(buf, len, "fuzz-rt", &r, &err) != DL_OK || r.n != m.n)
                abort();
            dl_tensor_map_free(&r);
            free(buf);
        }
    }
    dl_tensor_map_free(&m);
    return 0;
}
