/* blas_select: compares OpenBLAS's kernel with what cpuid says the CPU can do; see blas_select.h.
 */
#include "core/blas_select.h"

#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* OpenBLAS's extension API (not in cblas.h on every version). */
extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);

const char *dl_blas_corename(void) { return openblas_get_corename(); }

void dl_cpuid_read(dl_cpuid_facts *f)
{
    unsigned a, b, c, d;
    memset(f, 0, sizeof *f);
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    unsigned max_leaf = a;
    memcpy(f->vendor, &b, 4), memcpy(f->vendor + 4, &d, 4), memcpy(f->vendor + 8, &c, 4);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d))
        f->leaf1_ecx = c;
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f->leaf7_ebx = b, f->leaf7_ecx = c, f->leaf7_edx = d;
        if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d))
            f->leaf7_1_eax = a;
    }
    if (f->leaf1_ecx & (1u << 27)) { /* OSXSAVE: xgetbv is allowed */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        f->xcr0 = ((unsigned long long)hi << 32) | lo;
    }
}

#define BIT(word, n) (((word) >> (n)) & 1u)

const char *dl_blas_best_core_for(const dl_cpuid_facts *f)
{
    bool osxsave = BIT(f->leaf1_ecx, 27), fma = BIT(f->leaf1_ecx, 12), avx = BIT(f->leaf1_ecx, 28);
    /* xcr0 bits 1-2: the OS saves XMM/YMM; bits 5-7: opmask and the upper ZMM registers. */
    bool os_avx = (f->xcr0 & 0x6) == 0x6, os_avx512 = (f->xcr0 & 0xe6) == 0xe6;
    if (!osxsave || !avx || !os_avx)
        return NULL;
    unsigned b = f->leaf7_ebx;
    bool avx2 = BIT(b, 5), avx512f = BIT(b, 16), avx512dq = BIT(b, 17), avx512cd = BIT(b, 28);
    bool avx512bw = BIT(b, 30), avx512vl = BIT(b, 31);
    bool avx512_bf16 = BIT(f->leaf7_1_eax, 5);
    /* OpenBLAS's SkylakeX kernel needs F, CD, BW, DQ and VL; its Cooperlake kernel adds BF16 (it
     * picks it itself on Zen 4/5 and on Intel since Cooper Lake, AMX parts included: 0.3.21 has no
     * SapphireRapids kernel, and a newer OpenBLAS that reports one ranks it with these). */
    if (avx512f && avx512cd && avx512bw && avx512dq && avx512vl && os_avx512)
        return avx512_bf16 ? "Cooperlake" : "SkylakeX";
    if (avx2 && fma)
        return strcmp(f->vendor, "AuthenticAMD") == 0 || strcmp(f->vendor, "HygonGenuine") == 0
                   ? "Zen"
                   : "Haswell";
    return NULL;
}

const char *dl_blas_cpu_best_core(void)
{
    dl_cpuid_facts f;
    dl_cpuid_read(&f);
    return dl_blas_best_core_for(&f);
}

/* One row per kernel name OpenBLAS reports (its names, case-insensitive). Names not listed are
 * newer than this table and are not second-guessed (tier 3). */
static const struct {
    const char *name;
    int tier;
} core_tiers[] = {
    {"Prescott", 1},  {"Core2", 1},      {"Penryn", 1},      {"Dunnington", 1},
    {"Nehalem", 1},   {"Atom", 1},       {"Katmai", 1},      {"Coppermine", 1},
    {"Northwood", 1}, {"Banias", 1},     {"Sandybridge", 1}, {"Barcelona", 1},
    {"Bulldozer", 1}, {"Piledriver", 1}, {"Steamroller", 1}, {"Excavator", 1},
    {"Opteron", 1},   {"Athlon", 1},     {"Bobcat", 1},      {"Haswell", 2},
    {"Zen", 2},       {"SkylakeX", 3},   {"Cooperlake", 3},  {"SapphireRapids", 3},
};

int dl_blas_core_rank(const char *name)
{
    if (!name || !*name)
        return 0;
    for (size_t i = 0; i < sizeof core_tiers / sizeof core_tiers[0]; i++)
        if (strcasecmp(name, core_tiers[i].name) == 0)
            return core_tiers[i].tier;
    return 3;
}

const char *dl_blas_library_choice(void)
{
    /* DLLAB_ASSUME_BLAS_CORE lets the test suite exercise the re-execution path on a machine
     * whose OpenBLAS already picks the right kernel. */
    const char *assumed = getenv("DLLAB_ASSUME_BLAS_CORE");
    return assumed && *assumed ? assumed : dl_blas_corename();
}

const char *dl_blas_coretype_decide(const char *user_coretype, const char *cpu_best,
                                    const char *library_choice)
{
    if (user_coretype)
        return NULL; /* the user's choice wins, even a weaker one: it may be a workaround */
    if (!cpu_best)
        return NULL;
    return dl_blas_core_rank(library_choice) < dl_blas_core_rank(cpu_best) ? cpu_best : NULL;
}

/* DLLAB_BLAS_REEXEC marks a process dllab re-executed (it holds what OpenBLAS had chosen); then
 * OPENBLAS_CORETYPE is dllab's, not the user's. */
static const char *user_coretype(void)
{
    return getenv("DLLAB_BLAS_REEXEC") ? NULL : getenv("OPENBLAS_CORETYPE");
}

const char *dl_blas_coretype_to_force(void)
{
    return dl_blas_coretype_decide(user_coretype(), dl_blas_cpu_best_core(),
                                   dl_blas_library_choice());
}

dl_blas_origin dl_blas_kernel_origin(void)
{
    if (getenv("DLLAB_BLAS_REEXEC") && getenv("OPENBLAS_CORETYPE"))
        return DL_BLAS_BY_DLLAB;
    return getenv("OPENBLAS_CORETYPE") ? DL_BLAS_BY_USER : DL_BLAS_BY_LIBRARY;
}

char *dl_blas_describe(char *buf, unsigned cap)
{
    const char *kernel = dl_blas_corename(), *best = dl_blas_cpu_best_core();
    const char *env = getenv("OPENBLAS_CORETYPE");
    bool weaker = best && dl_blas_core_rank(kernel) < dl_blas_core_rank(best);
    switch (dl_blas_kernel_origin()) {
    case DL_BLAS_BY_DLLAB:
        snprintf(buf, cap, "%s (OpenBLAS chose %s; dllab set OPENBLAS_CORETYPE=%s for this CPU)",
                 kernel, getenv("DLLAB_BLAS_REEXEC"), env);
        break;
    case DL_BLAS_BY_USER:
        if (weaker)
            snprintf(buf, cap, "%s (OPENBLAS_CORETYPE=%s set by the user; this CPU supports %s)",
                     kernel, env, best);
        else
            snprintf(buf, cap, "%s (OPENBLAS_CORETYPE=%s set by the user)", kernel, env);
        break;
    default:
        if (weaker)
            snprintf(buf, cap, "%s (chosen by OpenBLAS; this CPU supports %s)", kernel, best);
        else
            snprintf(buf, cap, "%s (chosen by OpenBLAS)", kernel);
    }
    return buf;
}

void dl_blas_reexec_if_weak(char **argv)
{
    const char *force = dl_blas_coretype_to_force();
    if (!force || getenv("DLLAB_BLAS_REEXEC"))
        return;
    setenv("OPENBLAS_CORETYPE", force, 1);
    setenv("DLLAB_BLAS_REEXEC", dl_blas_library_choice(),
           1); /* remembers what OpenBLAS had chosen */
    execv("/proc/self/exe", argv);
    /* Re-execution failed: carry on with the weaker kernel; --version shows which one. */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("DLLAB_BLAS_REEXEC");
}

int dl_blas_threads(void) { return openblas_get_num_threads(); }
void dl_blas_set_threads(int n) { openblas_set_num_threads(n); }
