/* cmd-version: `dllab --version` prints the version, the BLAS library, the kernel in use and how
 * it was chosen, and the thread count. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas_select.h"
#include "core/learn/dist.h"
#include "core/run/session.h"
#include "src/commands.h"

int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0) {
            printf("usage: dllab version [--kernel]\n\nPrints the version, the BLAS library and "
                   "kernel, and threads.\n"
                   "  --kernel   print only the OpenBLAS kernel dllab runs with (after its own "
                   "selection);\n"
                   "             the test suite runs its numerics under the same one\n");
            return DL_EXIT_OK;
        }
        if (strcmp(argv[1], "--kernel") == 0 && argc == 2) {
            printf("%s\n", dl_blas_corename());
            return DL_EXIT_OK;
        }
        fprintf(stderr,
                "dllab version: unexpected argument '%s'\nusage: dllab version [--kernel]\n",
                argv[1]);
        return DL_EXIT_USAGE;
    }
    const char *best = dl_blas_cpu_best_core();
    char kernel[256];
    printf("dllab %s\n", PACKAGE_VERSION);
    printf("blas: OpenBLAS, kernel %s\n", dl_blas_describe(kernel, sizeof kernel));
    printf("cpu: best vector kernel %s\n", best ? best : "none above SSE");
    printf("threads: %d (OpenBLAS; training runs it on 1 thread per replica)\n", dl_blas_threads());
    /* what `train` would use by default here: replicas per process x processes, and the transport
     */
    int ranks = dl_dist_size(), cores = dl_session_usable_cores();
    printf("parallel: %d replica%s x %d rank%s, transport %s (MPI %s)\n", cores,
           cores == 1 ? "" : "s", ranks, ranks == 1 ? "" : "s", ranks > 1 ? "mpi" : "threads",
           dl_dist_built() ? "built in: mpirun -np N dllab train ... --no-tui" : "not built in");
    return DL_EXIT_OK;
}
