/* err: status codes and error messages for the engine.
 * Core never prints and never exits: a failing function fills a dl_err (code + message naming the
 * file, line, key or layer, with a hint where one helps) and returns its code. Callers that do not
 * care about the message may pass NULL. */
#ifndef DL_ERR_H
#define DL_ERR_H

#include <stddef.h>

typedef enum dl_status {
    DL_OK = 0,
    DL_EINVAL,    /* bad argument or configuration */
    DL_ENOMEM,    /* allocation failed */
    DL_EIO,       /* read/write/open failed (errno in the message) */
    DL_EFORMAT,   /* malformed, truncated or hostile file content */
    DL_ENOTFOUND, /* missing file, key, column, run */
    DL_ESHAPE,    /* shape mismatch */
    DL_ENOSPC,    /* disk full */
    DL_EDIVERGED, /* NaN/inf loss */
    DL_ESTOPPED,  /* interrupted by the user */
    DL_EUNSUPPORTED
} dl_status;

#define DL_ERR_MSG_MAX 1024

typedef struct dl_err {
    dl_status code;
    char msg[DL_ERR_MSG_MAX];
} dl_err;

/* Sets err (if non-NULL) and returns code, so callers can write `return dl_err_set(err, ...)`. */
dl_status dl_err_set(dl_err *err, dl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with context ("loading x.safetensors: ...") and returns its code. */
dl_status dl_err_wrap(dl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dl_err_clear(dl_err *err);
const char *dl_status_name(dl_status code);

#endif
