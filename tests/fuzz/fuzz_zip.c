/* fuzz_zip: libFuzzer target for the zip reader and the whole .pth import (core/io/zip.c,
 * core/io/pth.c): opens the archive, extracts every entry under a 1 MiB cap, then runs the full
 * importer on the same bytes. Run with `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>

#include "core/io/pth.h"
#include "core/io/zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dl_zip z;
    dl_err err;
    if (dl_zip_open(&z, data, size, "fuzz", &err) == DL_OK) {
        for (size_t i = 0; i < z.n; i++) {
            const unsigned char *d;
            void *owned;
            if (dl_zip_extract(&z, &z.entries[i], 1 << 20, &d, &owned, &err) == DL_OK) {
                volatile unsigned char sink = z.entries[i].usize ? d[z.entries[i].usize - 1] : 0;
                (void)sink;
                free(owned);
            }
        }
        dl_zip_close(&z);
    }
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_pth_parse(data, size, "fuzz", &m, &err);
    dl_tensor_map_free(&m);
    return 0;
}
