/* golden: see golden.h. Reads and (on request) writes golden files; never creates folders. */
#include "tests/golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

void tu_assert_golden(const char *name, const char *text)
{
    char rel[256];
    snprintf(rel, sizeof rel, "ui/%s", name);
    const char *path = tu_fixture(rel);
    const char *upd = getenv("DLLAB_UPDATE_GOLDEN");
    if (upd && *upd == '1') {
        FILE *f = fopen(path, "wb");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        fputs(text, f);
        fclose(f);
    }
    char *want = tu_slurp(path, NULL);
    ck_assert_msg(want != NULL, "golden file %s is missing (run with DLLAB_UPDATE_GOLDEN=1)", path);
    if (strcmp(want, text) != 0) {
        /* Report the first differing line: a whole screen is hard to diff by eye. */
        const char *a = want, *b = text;
        int line = 1;
        while (*a && *a == *b) {
            if (*a == '\n')
                line++;
            a++;
            b++;
        }
        ck_abort_msg("%s differs from the rendering at line %d:\n--- got ---\n%s", path, line,
                     text);
    }
    free(want);
}
