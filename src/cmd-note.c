/* cmd-note: `dllab note RUN TEXT...` sets a run's note (the words joined by spaces); an empty
 * TEXT ("") clears it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/commands.h"
#include "src/runs-util.h"

#define USAGE "usage: dllab note [--runs DIR] RUN TEXT...\n"

int cmd_note(int argc, char **argv)
{
    const char *dir = NULL, *query = NULL;
    char *note = calloc(1, 1);
    size_t len = 0;
    bool have_text = false;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("note", argc, argv, &i, &dir);
        if (r < 0) {
            free(note);
            return DL_EXIT_USAGE;
        }
        if (r > 0)
            continue;
        if (!query && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            printf(USAGE "\nSets the run's note, shown by dllab show and dllab runs --json. \"\" "
                         "clears it.\n");
            free(note);
            return DL_EXIT_OK;
        }
        if (!query) {
            query = argv[i];
            continue;
        }
        size_t add = strlen(argv[i]);
        char *p = realloc(note, len + add + 2);
        if (!p) {
            free(note);
            return DL_EXIT_FAIL;
        }
        note = p;
        len += (size_t)sprintf(note + len, "%s%s", have_text ? " " : "", argv[i]);
        have_text = true;
    }
    if (!query || !have_text) {
        fprintf(stderr, "dllab note: give a run and the text\n" USAGE);
        free(note);
        return DL_EXIT_USAGE;
    }
    dl_store *st = NULL;
    int64_t id;
    int rc = dl_cli_open("note", dir, 0, &st);
    if (!rc && (rc = dl_cli_find("note", st, query, &id)) == 0) {
        dl_err err = {0};
        if (dl_store_note_set(st, id, note, &err) != DL_OK) {
            fprintf(stderr, "dllab note: %s\n", err.msg);
            rc = DL_EXIT_FAIL;
        }
    }
    dl_store_close(st);
    free(note);
    return rc;
}
