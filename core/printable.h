/* printable: text from data (class names, tensor names, file names) made safe to print and to
 * store. Such text may hold bytes that are not UTF-8 (a folder named in Latin-1) or control
 * characters (ESC and OSC sequences a hostile archive or checkpoint can carry); a terminal must
 * never receive them raw. */
#ifndef DL_PRINTABLE_H
#define DL_PRINTABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
bool dl_utf8_valid(const char *s);
/* s for display: every control character (C0 such as ESC and newline, DEL, C1) and every byte
 * that is not part of valid UTF-8 becomes \xHH; the rest is copied. Always NUL-terminated, cut
 * before the escape or character that would not fit in cap. Returns out. */
const char *dl_printable(const char *s, char *out, size_t cap);

#endif
