/* blas_select: compares OpenBLAS's kernel with what cpuid says the CPU can do; see blas_select.h. */
#include "core/blas_select.h"

#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* OpenBLAS's extension API (not in cblas.h on every version). */
extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);

const char *dl_blas_corename(void) { return openblas_get_corename(); }

static bool os_saves_avx_state(unsigned mask)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & mask) == mask;
}

const char *dl_blas_cpu_best_core(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return NULL;
    bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
    if (!osxsave || !avx || !os_saves_avx_state(0x6))
        return NULL;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return NULL;
    bool avx2 = b & (1u << 5), avx512f = b & (1u << 16), avx512bw = b & (1u << 30), avx512vl = b & (1u << 31);
    bool avx512dq = b & (1u << 17), avx512cd = b & (1u << 28);
    /* OpenBLAS's SkylakeX kernel needs F, CD, BW, DQ, VL and the OS saving opmask/zmm state. */
    if (avx512f && avx512cd && avx512bw && avx512dq && avx512vl && os_saves_avx_state(0xe6))
        return "SkylakeX";
    if (avx2 && fma)
        return "Haswell";
    return NULL;
}

static int core_rank(const char *name)
{
    static const char *const weak[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
                                       "Katmai", "Coppermine", "Northwood", "Banias", "Sandybridge",
                                       "Barcelona", "Bulldozer", "Piledriver", "Steamroller", "Excavator",
                                       "Opteron", "Athlon", "Bobcat", NULL};
    if (!name)
        return 0;
    for (int i = 0; weak[i]; i++)
        if (strcasecmp(name, weak[i]) == 0)
            return 1;
    if (strcasecmp(name, "Haswell") == 0 || strcasecmp(name, "Zen") == 0)
        return 2;
    return 3; /* SkylakeX, Cooperlake, SapphireRapids, or something newer we do not second-guess */
}

const char *dl_blas_library_choice(void)
{
    /* DLLAB_ASSUME_BLAS_CORE lets the test suite exercise the re-execution path on a machine
     * whose OpenBLAS already picks the right kernel. */
    const char *assumed = getenv("DLLAB_ASSUME_BLAS_CORE");
    return assumed && *assumed ? assumed : dl_blas_corename();
}

const char *dl_blas_coretype_to_force(void)
{
    if (getenv("OPENBLAS_CORETYPE"))
        return NULL; /* the user's choice wins */
    const char *best = dl_blas_cpu_best_core();
    if (!best)
        return NULL;
    int want = strcmp(best, "SkylakeX") == 0 ? 3 : 2;
    return core_rank(dl_blas_library_choice()) < want ? best : NULL;
}

int dl_blas_threads(void) { return openblas_get_num_threads(); }
void dl_blas_set_threads(int n) { openblas_set_num_threads(n); }
