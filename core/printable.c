/* printable: UTF-8 validation and escaping of text for terminals. See printable.h. */
#include "core/printable.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes there are not one. */
static int utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xc2 && c <= 0xdf   ? 2
            : c >= 0xe0 && c <= 0xef ? 3
            : c >= 0xf0 && c <= 0xf4 ? 4
                                     : 0;
    if (!n)
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || /* overlong, surrogates */
        (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))   /* overlong, > U+10FFFF */
        return 0;
    return n;
}

bool dl_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = utf8_len(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

const char *dl_printable(const char *s, char *out, size_t cap)
{
    if (!cap)
        return out;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t j = 0;
    while (*p) {
        int n = utf8_len(p);
        char esc[8];
        size_t len;
        const char *piece;
        /* C0, DEL, and the C1 controls U+0080..U+009F (0xc2 0x80..0x9f) */
        bool ctl = n == 1 ? p[0] < 0x20 || p[0] == 0x7f : n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
        if (n && !ctl) {
            piece = (const char *)p, len = (size_t)n;
        } else {
            /* a C1 control is named by its code point */
            unsigned b = n == 2 ? (unsigned)p[1] : p[0];
            if (n == 0)
                n = 1;
            snprintf(esc, sizeof esc, "\\x%02x", b);
            piece = esc, len = strlen(esc);
        }
        if (j + len >= cap)
            break;
        memcpy(out + j, piece, len);
        j += len;
        p += n;
    }
    out[j] = 0;
    return out;
}
