/* testutil: helpers shared by the check suites. */
#ifndef DL_TESTUTIL_H
#define DL_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Compares c against r element-wise with |c-r| <= atol + rtol*|r| (rtol_of_max: rtol times max|r|
 * instead). On failure reports the tensor name, the worst index with both values, max-abs and
 * max-rel error, and fails the current check test. */
void tu_assert_close(const char *name, const float *c, const float *r, size_t n, double atol,
                     double rtol, int rtol_of_max);
/* Max |c-r| / max |r|. */
double tu_rel_err(const float *c, const float *r, size_t n);
/* Path of a committed fixture: FIXTURES_DIR "/" rel, in a static buffer per call slot. */
const char *tu_fixture(const char *rel);
/* A fresh temporary directory (removed by tu_rmtree). */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* Whole file as a malloc'd buffer with a NUL after the data (so text is a C string); the size in
 * *len when len is not NULL. NULL when it cannot be opened or read. */
char *tu_slurp(const char *path, size_t *len);
/* The built program: $top_builddir/src/dllab (top_builddir comes from the test environment; "."
 * when unset), in a static buffer. */
const char *tu_dllab(void);
/* Runs cmd through the shell (popen), reads its stdout into out (at most cap-1 bytes, then a NUL)
 * and returns its exit code, or -1 when it did not exit normally (a crash fails any code check). */
int tu_sh(const char *cmd, char *out, size_t cap);
/* Runs a suite with check's runner and returns the process exit code. */
int tu_run(Suite *s);

#endif
