/* fmt: shared number formats (see fmt.h). */
#include "core/fmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>

void dl_fmt_lr_text(double lr, char *buf, size_t cap)
{
    if (!isfinite(lr)) {
        snprintf(buf, cap, "-");
        return;
    }
    if (lr == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    int e = (int)floor(log10(fabs(lr)));
    double m = lr / pow(10, e);
    /* 9.96e-6 rounds to 10.0e-6: carry into the exponent so it reads 1e-5. */
    if (fabs(m) >= 9.95) {
        m /= 10;
        e++;
    }
    bool whole = fabs(m - round(m)) < 0.05;
    m = whole ? round(m) : round(m * 10) / 10;
    if (e >= -1 && e <= 2) { /* 0.25, 3.8, 50: the exponent form would only be noise */
        int decimals = (whole ? 0 : 1) - e;
        snprintf(buf, cap, "%.*f", decimals > 0 ? decimals : 0, m * pow(10, e));
    } else if (whole) {
        snprintf(buf, cap, "%de%d", (int)m, e);
    } else {
        snprintf(buf, cap, "%.1fe%d", m, e);
    }
}

void dl_fmt_duration_text(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
}
