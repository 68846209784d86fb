/* blas_select: makes sure OpenBLAS runs the best kernel this CPU supports, unless the user chose
 * one. Debian's OpenBLAS 0.3.21 does not recognise recent Intel CPUs and falls back to its SSE3
 * "Prescott" kernel (3-4x slower sgemm). OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so
 * the fix is to set it and re-execute the program before any work. A value the user set (some
 * administrators pin an older kernel on purpose, where newer ones misbehave) is never overridden.
 * See docs/blas.md. */
#ifndef DL_BLAS_SELECT_H
#define DL_BLAS_SELECT_H

#include <stdbool.h>

/* The cpuid facts the choice depends on: leaf 0's vendor, leaf 1's ecx, leaf 7.0's ebx/ecx/edx,
 * leaf 7.1's eax, and the OS-saved state from xgetbv(0). Kept as plain data so tests can feed
 * synthetic CPUs. */
typedef struct {
    char vendor[13]; /* "GenuineIntel", "AuthenticAMD", ... */
    unsigned leaf1_ecx;
    unsigned leaf7_ebx, leaf7_ecx, leaf7_edx;
    unsigned leaf7_1_eax;
    unsigned long long xcr0; /* 0 when the OS does not enable xgetbv */
} dl_cpuid_facts;

/* This CPU's facts (zeros where cpuid does not answer). */
void dl_cpuid_read(dl_cpuid_facts *f);
/* The best OpenBLAS kernel for those facts, as OpenBLAS names it: "SapphireRapids" (AVX-512 + AMX
 * on Intel), "Cooperlake" (AVX-512 with BF16), "SkylakeX" (AVX-512), "Haswell" (Intel AVX2+FMA),
 * "Zen" (AMD AVX2+FMA), or NULL (nothing above SSE, or the OS does not save the AVX state). */
const char *dl_blas_best_core_for(const dl_cpuid_facts *f);
/* dl_blas_best_core_for() of this CPU. */
const char *dl_blas_cpu_best_core(void);
/* A kernel's tier: 0 unknown/none, 1 SSE-era, 2 AVX2 (Haswell, Zen), 3 AVX-512 and newer. */
int dl_blas_core_rank(const char *name);

/* The kernel OpenBLAS runs ("Prescott", "SkylakeX", "Haswell", ...). */
const char *dl_blas_corename(void);
/* The kernel OpenBLAS chose on its own (or DLLAB_ASSUME_BLAS_CORE, a test hook). */
const char *dl_blas_library_choice(void);

/* The decision, as a pure function: given the user's OPENBLAS_CORETYPE (NULL when unset), the CPU's
 * best core and the library's own choice, the core type to set before re-executing, or NULL. */
const char *dl_blas_coretype_decide(const char *user_coretype, const char *cpu_best,
                                    const char *library_choice);
/* dl_blas_coretype_decide() for this process's environment and CPU. */
const char *dl_blas_coretype_to_force(void);

/* How the running kernel was chosen, for --version and the run's log. */
typedef enum {
    DL_BLAS_BY_LIBRARY, /* OpenBLAS chose, and it is as good as the CPU allows (or we could not
                           tell) */
    DL_BLAS_BY_DLLAB,   /* dllab set OPENBLAS_CORETYPE and re-executed */
    DL_BLAS_BY_USER,    /* OPENBLAS_CORETYPE came from the user's environment */
} dl_blas_origin;
dl_blas_origin dl_blas_kernel_origin(void);
/* One line describing the kernel and how it was chosen, e.g. "Haswell (OPENBLAS_CORETYPE=Haswell
 * set by the user; this CPU supports Cooperlake)". Returns buf. */
char *dl_blas_describe(char *buf, unsigned cap);

/* When dl_blas_coretype_to_force() names a kernel and this process has not re-executed yet, sets
 * OPENBLAS_CORETYPE and re-executes /proc/self/exe with argv; returns only when nothing needed
 * doing or the re-execution failed (then the weaker kernel stays, and --version shows which one).
 * The program and the test suites call it first thing, so both run the kernel users get. */
void dl_blas_reexec_if_weak(char **argv);

int dl_blas_threads(void);
void dl_blas_set_threads(int n);

#endif
