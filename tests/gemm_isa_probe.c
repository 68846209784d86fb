/* gemm_isa_probe NAME: exits 0 when this CPU runs dllab's gemm kernels for NAME (portable, avx2,
 * avx512), 1 otherwise; tests/gemm-isa.sh uses it to pick the paths to test. */
#include <stdio.h>
#include <string.h>

#include "core/ops/gemm/gemm.h"

int main(int argc, char **argv)
{
    for (int i = 0; argc == 2 && i < DL_GEMM_ISA_COUNT; i++)
        if (strcmp(argv[1], dl_gemm_isa_name((dl_gemm_isa)i)) == 0)
            return dl_gemm_isa_supported((dl_gemm_isa)i) ? 0 : 1;
    fprintf(stderr, "usage: gemm_isa_probe portable|avx2|avx512\n");
    return 2;
}
