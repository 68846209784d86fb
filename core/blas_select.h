/* blas_select: makes sure OpenBLAS runs the best kernel this CPU supports.
 * Debian's OpenBLAS 0.3.21 does not recognise recent Intel CPUs and falls back to its SSE3
 * "Prescott" kernel (3-4x slower sgemm). OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so
 * the fix is to set it and re-execute the program before any work; core only decides, the program
 * (src/main.c) re-executes. */
#ifndef DL_BLAS_SELECT_H
#define DL_BLAS_SELECT_H

#include <stdbool.h>

/* The kernel OpenBLAS chose ("Prescott", "SkylakeX", "Haswell", ...). */
const char *dl_blas_corename(void);
/* The CPU's best vector ISA as OpenBLAS core names: "SkylakeX" (AVX-512F), "Haswell" (AVX2+FMA), or NULL. */
const char *dl_blas_cpu_best_core(void);
/* The kernel OpenBLAS chose on its own (or DLLAB_ASSUME_BLAS_CORE, a test hook). */
const char *dl_blas_library_choice(void);
/* When OpenBLAS chose a weaker kernel than the CPU supports and the user has not set
 * OPENBLAS_CORETYPE, returns the core type to set before re-executing; otherwise NULL. */
const char *dl_blas_coretype_to_force(void);
int dl_blas_threads(void);
void dl_blas_set_threads(int n);

#endif
