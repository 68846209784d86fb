/* numfmt: a number in a fixed-width table column. Losses are printed "%.6f" as fastai does, but a
 * diverging run's 1553458094.000000 would push every later column (time) out of its panel and
 * misalign listings; such values switch to the most precise "%g" that fits. */
#ifndef DL_NUMFMT_H
#define DL_NUMFMT_H

#include <stddef.h>

/* v as "%.{decimals}f" when that takes at most width characters, else as the most precise "%g"
 * that does (1.553e+09), else "%.1g". NaN and infinities as "nan", "inf", "-inf". Returns buf. */
const char *dl_fmt_fit(double v, int decimals, int width, char *buf, size_t cap);

#endif
