/* mkimages: writes the files of hostile_images.c to a folder, to look at them or to refresh the
 * fuzz seeds: `tests/gen/mkimages tests/fuzz/seeds/image` (built by make check). Files over
 * 8 KiB (the 1 x 65500 strip) are left out: seeds stay small and under the fuzzer's -max_len. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/gen/hostile_images.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkimages FOLDER\n");
        return 2;
    }
    hi_file f[HI_MAX];
    size_t n = hi_make_all(f, HI_MAX);
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].n > 8192)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], f[i].name);
        FILE *fp = fopen(path, "wb");
        if (!fp || fwrite(f[i].buf, 1, f[i].n, fp) != f[i].n || fclose(fp) != 0) {
            perror(path);
            return 1;
        }
        written++;
    }
    hi_free_all(f, n);
    printf("mkimages: %zu files in %s\n", written, argv[1]);
    return 0;
}
