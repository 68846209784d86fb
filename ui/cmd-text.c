/* cmd-text: what the status line says after a steering key, in the user's words ("will stop at
 * the end of this epoch"), never the command's internal name. One row per command. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ui/screens.h"

static const struct {
    dl_cmd_kind kind;
    const char *text; /* what happens; the lr commands add their value */
    const char *noun; /* the same, once the fit has ended */
} phrases[] = {
    {DL_CMD_SET_LR, "lr will be %s from the next batch", "the new lr"},
    {DL_CMD_SCALE_LR, "lr will be %s from the next batch", "the lr change"},
    {DL_CMD_FREEZE, "the body will be frozen (head only) from the next batch", "freezing"},
    {DL_CMD_UNFREEZE, "every layer group will train from the next batch", "unfreezing"},
    {DL_CMD_PAUSE, "will pause after this batch (p resumes)", "pausing"},
    {DL_CMD_RESUME, "resuming", "resuming"},
    {DL_CMD_STOP_NOW, "will stop after this batch and save a checkpoint", "stopping"},
    {DL_CMD_STOP_AFTER_EPOCH, "will stop at the end of this epoch", "stopping"},
    {DL_CMD_SAVE, "will save a checkpoint after this batch", "the checkpoint"},
    {DL_CMD_LRFIND, "the LR finder starts after this batch (the weights are restored after it)",
     "the LR finder"},
};

void dl_cmd_describe(const dl_cmd *c, dl_phase phase, char *buf, int cap)
{
    bool ended = phase == DL_PHASE_DONE || phase == DL_PHASE_STOPPED || phase == DL_PHASE_FAILED;
    const char *text = "command sent", *noun = "the command";
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (phrases[i].kind == c->kind)
            text = phrases[i].text, noun = phrases[i].noun;
    char value[64] = "", lo[24], hi[24];
    if (c->kind == DL_CMD_SET_LR) { /* in the --lr grammar: 3e-3, ..3e-3, 1e-5..1e-3 */
        dl_fmt_lr(c->lr.hi, hi, sizeof hi);
        dl_fmt_lr(c->lr.lo, lo, sizeof lo);
        snprintf(value, sizeof value, "%s%s%s", c->lr.kind == DL_LR_RANGE ? lo : "",
                 c->lr.kind == DL_LR_CONST ? "" : "..", hi);
        if (c->lr.kind == DL_LR_CONST)
            snprintf(value + strlen(value), sizeof value - strlen(value), " for every group");
    } else if (c->kind == DL_CMD_SCALE_LR) {
        snprintf(value, sizeof value,
                 c->factor == 2     ? "doubled"
                 : c->factor == 0.5 ? "halved"
                                    : "multiplied by %g",
                 c->factor);
    }
    /* commands apply at the next training batch: during validation that is the next epoch's */
    if (c->kind == DL_CMD_STOP_AFTER_EPOCH && phase == DL_PHASE_VALID)
        text = "will stop at the end of the next epoch (this one is being validated)";
    char what[192];
    snprintf(what, sizeof what, text, value);
    /* A fit that has ended may be the last one (no batch ever comes) or fine_tune's frozen phase
     * (the unfrozen one follows). */
    if (ended)
        snprintf(buf, (size_t)cap,
                 "this fit has ended: %s applies only if another fit follows (q quits)", noun);
    else
        snprintf(buf, (size_t)cap, "%s", what);
}
