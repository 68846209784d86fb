/* testutil: see testutil.h. */
#include "tests/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/blas_select.h"

/* Every suite runs its numerics under the BLAS kernel dllab itself would run (dllab re-executes
 * when OpenBLAS chose a weaker kernel than the CPU supports and the user set none). glibc passes
 * argc/argv to .init_array functions, so this happens before main without touching each suite. */
static void tu_select_blas_kernel(int argc, char **argv, char **envp)
{
    (void)argc, (void)envp;
    /* A test's timeout only guards against a hang, and the suite must pass on a loaded 2-core
     * machine (trainings of the e2e suite took over 300 s with two other trainings running):
     * every limit is stretched 4x unless the caller chose a multiplier (the sanitizer trees do). */
    setenv("CK_TIMEOUT_MULTIPLIER", "4", 0);
    dl_blas_reexec_if_weak(argv);
}
__attribute__((section(".init_array"), used)) static void (*tu_select_blas_kernel_at_start)(
    int, char **, char **) = tu_select_blas_kernel;

void tu_assert_close(const char *name, const float *c, const float *r, size_t n, double atol,
                     double rtol, int rtol_of_max)
{
    double maxr = 0, worst = -1, max_abs = 0, max_rel = 0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(r[i]) > maxr)
            maxr = fabs(r[i]);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)c[i] - (double)r[i]);
        double tol = atol + rtol * (rtol_of_max ? maxr : fabs(r[i]));
        if (d > max_abs)
            max_abs = d;
        if (fabs(r[i]) > 0 && d / fabs(r[i]) > max_rel)
            max_rel = d / fabs(r[i]);
        if (!(d <= tol)) { /* also catches NaN */
            bad++;
            if (d - tol > worst || isnan(d)) {
                worst = isnan(d) ? INFINITY : d - tol;
                wi = i;
            }
        }
    }
    ck_assert_msg(bad == 0,
                  "%s: %d of %zu elements out of tolerance; worst at [%zu]: got %.9g want %.9g; "
                  "max abs err %.3g, max rel err %.3g",
                  name, bad, n, wi, bad ? c[wi] : 0.0, bad ? r[wi] : 0.0, max_abs, max_rel);
}

double tu_rel_err(const float *c, const float *r, size_t n)
{
    double maxr = 0, maxd = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(r[i]) > maxr)
            maxr = fabs(r[i]);
        double d = fabs((double)c[i] - (double)r[i]);
        if (d > maxd || isnan(d))
            maxd = isnan(d) ? INFINITY : d;
    }
    return maxr > 0 ? maxd / maxr : maxd;
}

const char *tu_fixture(const char *rel)
{
    static char bufs[8][1024];
    static int slot;
    char *b = bufs[slot++ % 8];
    snprintf(b, 1024, "%s/%s", FIXTURES_DIR, rel);
    return b;
}

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[1024];
    snprintf(tmpl, sizeof tmpl, "%s/dllab-test-XXXXXX", base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    ck_assert_msg(d != NULL, "mkdtemp failed");
    return strdup(d);
}

void tu_rmtree(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (!s)
        return NULL;
    s[n] = '\0';
    if (len)
        *len = (size_t)n;
    return s;
}

const char *tu_dllab(void)
{
    static char path[1024];
    const char *bd = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/src/dllab", bd ? bd : ".");
    return path;
}

int tu_sh(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run: %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
