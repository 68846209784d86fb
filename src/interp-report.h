/* interp-report: the interpretation a training run ends with and `dllab interpret` prints:
 * predictions on the validation split, then (single-label) the confusion matrix, most_confused and
 * top losses, or (multi-label) per-class precision/recall/F1 at the threshold and the threshold
 * sweep. Printed to out (NULL: not printed) and saved to the run store as JSON by kind
 * ("confusion", "most-confused", "top-losses", "per-class", "thresh-sweep"). */
#ifndef DL_INTERP_REPORT_H
#define DL_INTERP_REPORT_H

#include <stdio.h>

#include "src/train-setup.h"

typedef struct dl_report_opts {
    int epoch;           /* recorded with the results */
    float thresh;        /* multi-label threshold */
    int top_k;           /* top losses to list (default 9) */
    int min_val;         /* most_confused minimum count (default 1) */
    bool save;           /* write the JSON results to the store */
    bool fit_pass;       /* the fit's own best (else last) validation pass, no new one; epoch and
                            weights are then filled in from it */
    FILE *summary;       /* a one-line summary (most confused pairs / micro-F1), or NULL */
    const char *weights; /* which weights were interpreted ("best checkpoint (epoch 3)"): printed
                            and saved as kind "weights"; NULL: not said */
} dl_report_opts;

/* Returns an exit code (errors printed as "dllab CMD: ..."). */
int dl_interp_report(dl_session *s, const char *cmd, const dl_report_opts *o, FILE *out);

#endif
