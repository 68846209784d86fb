/* numfmt: fixed-width numbers (see numfmt.h). */
#include "core/numfmt.h"

#include <stdio.h>
#include <string.h>

const char *dl_fmt_fit(double v, int decimals, int width, char *buf, size_t cap)
{
    if (snprintf(buf, cap, "%.*f", decimals, v) <= width)
        return buf;
    for (int p = width > 1 ? width : 1; p >= 1; p--)
        if (snprintf(buf, cap, "%.*g", p, v) <= width)
            return buf;
    snprintf(buf, cap, "%.1g", v);
    return buf;
}
