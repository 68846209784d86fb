/* data/jpeg_meta: what dllab reads from a JPEG's markers itself, before TurboJPEG sees the
 * file: the EXIF orientation (APP1 "Exif" -> TIFF header -> IFD0 tag 0x0112) and the frame
 * layout that tells how much memory libjpeg will allocate. The bytes are hostile: every offset
 * and count is checked against the length of the block it points into, in size_t arithmetic
 * that cannot wrap (compare against "room left", never add to an attacker's offset first). */
#include <stdio.h>
#include <string.h>

#include "core/data/internal.h"

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* A TIFF block (the EXIF payload after "Exif\0\0") in its byte order. */
typedef struct tiff {
    const uint8_t *p;
    size_t n;
    bool le;
} tiff;

/* Reads a 16/32-bit value at off if it lies wholly inside the block. */
static bool tiff_u16(const tiff *t, size_t off, unsigned *v)
{
    if (off > t->n || t->n - off < 2)
        return false;
    const uint8_t *p = t->p + off;
    *v = t->le ? (unsigned)p[0] | (unsigned)p[1] << 8 : be16(p);
    return true;
}

static bool tiff_u32(const tiff *t, size_t off, uint32_t *v)
{
    if (off > t->n || t->n - off < 4)
        return false;
    const uint8_t *p = t->p + off;
    *v = t->le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
               : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return true;
}

/* Orientation from an EXIF payload s[0..n) (starting at "Exif\0\0"). Returns 1..8, or 0 with
 * why filled when the block is malformed. */
static int exif_orientation(const uint8_t *s, size_t n, char *why, size_t why_len)
{
    tiff t = {s + 6, n - 6, false};
    unsigned magic = 0, cnt = 0;
    uint32_t ifd = 0;
    if (t.n < 8) {
        snprintf(why, why_len, "its TIFF header is cut short (%zu bytes)", t.n);
        return 0;
    }
    if (t.p[0] == 'I' && t.p[1] == 'I')
        t.le = true;
    else if (!(t.p[0] == 'M' && t.p[1] == 'M')) {
        snprintf(why, why_len, "unknown TIFF byte order 0x%02x%02x", t.p[0], t.p[1]);
        return 0;
    }
    if (!tiff_u16(&t, 2, &magic) || magic != 42) {
        snprintf(why, why_len, "TIFF magic %u instead of 42", magic);
        return 0;
    }
    tiff_u32(&t, 4, &ifd);
    if (!tiff_u16(&t, ifd, &cnt)) {
        snprintf(why, why_len, "IFD0 offset %lu %s the end of the %zu-byte block",
                 (unsigned long)ifd, ifd < t.n ? "runs past" : "is past", t.n);
        return 0;
    }
    size_t room = (t.n - ifd - 2) / 12; /* tiff_u16 proved ifd + 2 <= t.n */
    if (cnt > room) {
        snprintf(why, why_len,
                 "IFD0 claims %u entries at offset %lu; the %zu-byte block has room for %zu", cnt,
                 (unsigned long)ifd, t.n, room);
        return 0;
    }
    for (size_t i = 0; i < cnt; i++) {
        size_t e = (size_t)ifd + 2 + 12 * i; /* e + 12 <= t.n by the room check */
        unsigned tag = 0, type = 0, v = 0;
        uint32_t v32 = 0;
        tiff_u16(&t, e, &tag);
        if (tag != 0x0112)
            continue;
        tiff_u16(&t, e + 2, &type);
        tiff_u16(&t, e + 8, &v);
        if (type == 4 && tiff_u32(&t, e + 8, &v32)) /* LONG: some writers ignore the spec's SHORT */
            v = v32 <= 8 ? (unsigned)v32 : 0;
        if ((type != 3 && type != 4) || v < 1 || v > 8) {
            snprintf(why, why_len, "its orientation tag (type %u) holds %lu instead of 1..8", type,
                     type == 4 ? (unsigned long)v32 : (unsigned long)v);
            return 0;
        }
        return (int)v;
    }
    return 1;
}

/* SOF markers (C0..CF less DHT C4, JPG C8, DAC CC); progressive ones are C2, C6, CA, CE. */
static bool is_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Bytes of libjpeg's whole-image coefficient arrays (one JCOEF[64] per 8x8 block and component,
 * rows and columns rounded up to the sampling factors), from a SOF payload s[0..n). */
static uint64_t coef_bytes(const uint8_t *s, size_t n)
{
    if (n < 6)
        return 0;
    uint64_t h = be16(s + 1), w = be16(s + 3);
    size_t nc = s[5];
    if (nc == 0 || (n - 6) / 3 < nc)
        return 0;
    unsigned hmax = 1, vmax = 1;
    for (size_t i = 0; i < nc; i++) {
        unsigned hs = s[6 + 3 * i + 1] >> 4, vs = s[6 + 3 * i + 1] & 15;
        hmax = hs > hmax ? hs : hmax;
        vmax = vs > vmax ? vs : vmax;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < nc; i++) {
        unsigned hs = s[6 + 3 * i + 1] >> 4, vs = s[6 + 3 * i + 1] & 15;
        uint64_t bw = (w * hs + 8 * hmax - 1) / (8 * hmax) + hs,
                 bh = (h * vs + 8 * vmax - 1) / (8 * vmax) + vs;
        total += bw * bh * 64 * 2;
    }
    return total;
}

void dl_jpeg_meta_read(const uint8_t *b, size_t n, dl_jpeg_meta *m)
{
    memset(m, 0, sizeof *m);
    m->orientation = 1;
    bool have_exif = false, progressive = false;
    size_t frame_comps = 0;
    uint64_t coef = 0;
    size_t p = 2;
    while (p < n && n - p >= 4) {
        if (b[p] != 0xFF)
            break;
        unsigned marker = b[p + 1];
        if (marker == 0xFF) { /* fill byte before a marker */
            p++;
            continue;
        }
        if (marker == 0xD9 || marker == 0x01 ||
            (marker >= 0xD0 && marker <= 0xD8)) { /* no length */
            if (marker == 0xD9)
                break;
            p += 2;
            continue;
        }
        size_t len = be16(b + p + 2);
        if (len < 2 || len > n - p - 2)
            break; /* a cut segment: the decoder reports the file as corrupt */
        const uint8_t *s = b + p + 4;
        size_t sl = len - 2;
        if (marker == 0xDA) { /* SOS: fewer components than the frame means several scans */
            if (frame_comps && (progressive || (sl >= 1 && s[0] < frame_comps)))
                m->coef_bytes = coef;
            break;
        }
        if (is_sof(marker) && !frame_comps) {
            progressive = marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
            frame_comps = sl >= 6 ? s[5] : 0;
            coef = coef_bytes(s, sl);
        }
        if (marker == 0xE1 && !have_exif && sl >= 6 && memcmp(s, "Exif\0\0", 6) == 0) {
            have_exif = true; /* the first EXIF block counts, as in other readers */
            int o = exif_orientation(s, sl, m->exif_bad, sizeof m->exif_bad);
            m->orientation = o ? o : 1;
        }
        p += 2 + len;
    }
}

int dl_jpeg_exif_orientation(const uint8_t *buf, size_t n)
{
    dl_jpeg_meta m;
    dl_jpeg_meta_read(buf, n, &m);
    return m.orientation;
}
