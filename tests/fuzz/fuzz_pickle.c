/* fuzz_pickle: libFuzzer target for the restricted unpickler (core/io/pickle.c) on raw pickle
 * bytes (seeds are data.pkl files from torch.save archives). Run with `make fuzz`. */
#include <stdint.h>

#include "core/io/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dl_pickle pk;
    dl_err err;
    if (dl_pickle_load(&pk, data, size, "fuzz", &err) == DL_OK) {
        dl_pk_dict_get(pk.root, "state_dict");
        dl_pickle_free(&pk);
    }
    return 0;
}
