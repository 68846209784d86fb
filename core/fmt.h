/* fmt: the number formats every screen and command shares, so a learning rate or a duration reads
 * the same on the dashboard, in the event log and in a headless progress line. */
#ifndef DL_FMT_H
#define DL_FMT_H

#include <stddef.h>

/* A learning rate as fastai's users write it: 1e-3, 3.2e-4, and plain decimals from 0.1 to 999
 * (3.8, 0.25, 50) instead of 3.8e0; "0" and "-" (not finite). */
void dl_fmt_lr_text(double lr, char *buf, size_t cap);
/* mm:ss, or h:mm:ss from an hour; "--:--" when unknown (NaN or negative). */
void dl_fmt_duration_text(double s, char *buf, size_t cap);

#endif
