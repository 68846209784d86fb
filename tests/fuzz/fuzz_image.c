/* fuzz_image: libFuzzer target for the image readers (core/data/image.c, core/data/jpeg_meta.c):
 * the header probe (format sniffing, EXIF walk, size limits), then a decode of JPEG or PNG bytes
 * at a target size picked from the input length (full size, or a DCT-scaled one), grey or RGB,
 * EXIF orientation applied. Run with `make fuzz`; built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, image.c's memory limits are small so runs stay fast. */
#include <stdint.h>
#include <stdlib.h>

#include "core/data/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int w, h;
    bool grey;
    dl_err err;
    dl_jpeg_meta m;
    dl_jpeg_meta_read(data, size, &m);
    if (m.orientation < 1 || m.orientation > 8)
        abort();
    if (dl_img_probe_mem(data, size, "fuzz", &w, &h, &grey, &err) != DL_OK)
        return 0;
    int c = size & 1 ? 1 : 3;
    int min = (int)(size / 2 % 3) * 24; /* 0: full size; 24 or 48: a DCT-scaled decode */
    dl_img out;
    if (dl_img_decode_mem(data, size, "fuzz", c, min, min, &out, &err) == DL_OK) {
        if (out.c != c || out.w < 1 || out.h < 1)
            abort();
        if (min == 0 &&
            (out.w != w || out.h != h)) /* the probe and the decoder agree on the size */
            abort();
        volatile uint8_t sink = out.px[(size_t)out.w * out.h * c - 1];
        (void)sink;
        free(out.px);
    }
    return 0;
}
