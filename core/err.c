/* err: fills dl_err messages; see err.h. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

dl_status dl_err_set(dl_err *err, dl_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

dl_status dl_err_wrap(dl_err *err, const char *fmt, ...)
{
    if (!err)
        return DL_EINVAL;
    char prefix[256], old[DL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* The old message may be cut at the end: the prefix names the context, the tail is detail. */
    int n = snprintf(err->msg, sizeof err->msg, "%s: ", prefix);
    if (n > 0 && (size_t)n < sizeof err->msg)
        memcpy(err->msg + n, old, sizeof err->msg - (size_t)n - 1);
    err->msg[sizeof err->msg - 1] = '\0';
    return err->code;
}

void dl_err_clear(dl_err *err)
{
    if (err) {
        err->code = DL_OK;
        err->msg[0] = '\0';
    }
}

const char *dl_status_name(dl_status code)
{
    switch (code) {
    case DL_OK:
        return "ok";
    case DL_EINVAL:
        return "invalid argument";
    case DL_ENOMEM:
        return "out of memory";
    case DL_EIO:
        return "i/o error";
    case DL_EFORMAT:
        return "bad format";
    case DL_ENOTFOUND:
        return "not found";
    case DL_ESHAPE:
        return "shape mismatch";
    case DL_ENOSPC:
        return "disk full";
    case DL_EDIVERGED:
        return "diverged";
    case DL_ESTOPPED:
        return "stopped";
    case DL_EUNSUPPORTED:
        return "unsupported";
    }
    return "unknown error";
}
