/* zip: central-directory zip reader; see zip.h. Every field read is bounds-checked against the
 * archive length first; arithmetic on offsets is done in uint64_t after checking each term. */
#include "core/io/zip.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

int dl_zip_sniff(const void *buf, size_t len) { return len >= 4 && rd32(buf) == SIG_LOCAL; }

void dl_zip_close(dl_zip *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    z->entries = NULL;
    z->n = 0;
}

const dl_zip_entry *dl_zip_find(const dl_zip *z, const char *name)
{
    for (size_t i = 0; i < z->n; i++)
        if (strcmp(z->entries[i].name, name) == 0)
            return &z->entries[i];
    return NULL;
}

/* Finds the classic EOCD in the last 64 KiB + 22 bytes; returns its offset or -1. */
static int64_t find_eocd(const unsigned char *b, size_t len)
{
    if (len < 22)
        return -1;
    size_t lo = len > 22 + 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > lo;)
        if (rd32(b + i) == SIG_EOCD && i + 22 + rd16(b + i + 20) == len)
            return (int64_t)i;
    return -1;
}

typedef struct cd_info {
    uint64_t n, size, offset,
        end; /* end: where the CD region (incl. ZIP64 records and EOCD) ends */
} cd_info;

static dl_status read_eocd(const dl_zip *z, cd_info *cd, dl_err *err)
{
    const unsigned char *b = z->buf;
    int64_t e = find_eocd(b, z->len);
    if (e < 0)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: no zip end-of-central-directory record (truncated archive?)",
                          z->name);
    cd->n = rd16(b + e + 10);
    cd->size = rd32(b + e + 12);
    cd->offset = rd32(b + e + 16);
    cd->end = (uint64_t)e;
    if (e >= 20 && rd32(b + e - 20) == SIG_LOC64) {
        uint64_t o = rd64(b + e - 20 + 8);
        if (o > (uint64_t)e - 20 || (uint64_t)e - 20 - o < 56 || rd32(b + o) != SIG_EOCD64)
            return dl_err_set(err, DL_EFORMAT,
                              "%s: ZIP64 locator points to %llu, which is not a ZIP64 record",
                              z->name, (unsigned long long)o);
        cd->n = rd64(b + o + 32);
        cd->size = rd64(b + o + 40);
        cd->offset = rd64(b + o + 48);
        cd->end = o;
    }
    if (cd->offset > cd->end || cd->size > cd->end - cd->offset)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s: central directory at %llu (+%llu bytes) lies outside the archive (%zu bytes)",
            z->name, (unsigned long long)cd->offset, (unsigned long long)cd->size, z->len);
    if (cd->n > cd->size / 46)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: central directory claims %llu entries in %llu bytes", z->name,
                          (unsigned long long)cd->n, (unsigned long long)cd->size);
    return DL_OK;
}

/* Applies the ZIP64 extended-information extra field to the fields that are saturated. */
static dl_status apply_zip64(const dl_zip *z, const char *ename, const unsigned char *x,
                             size_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *lho,
                             dl_err *err)
{
    size_t i = 0;
    while (i + 4 <= xlen) {
        uint16_t id = rd16(x + i), sz = rd16(x + i + 2);
        if (i + 4 + sz > xlen)
            break;
        if (id == 0x0001) {
            const unsigned char *p = x + i + 4;
            size_t left = sz;
            uint64_t *fields[3] = {usize, csize, lho};
            for (int f = 0; f < 3; f++) {
                if (*fields[f] != 0xffffffffu)
                    continue;
                if (left < 8)
                    return dl_err_set(err, DL_EFORMAT,
                                      "%s: entry '%s': ZIP64 extra field too short", z->name,
                                      ename);
                *fields[f] = rd64(p);
                p += 8;
                left -= 8;
            }
            return DL_OK;
        }
        i += 4 + (size_t)sz;
    }
    return DL_OK;
}

typedef struct span {
    uint64_t begin, end;
    size_t idx;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static dl_status read_entry(dl_zip *z, const cd_info *cd, uint64_t *pos, dl_zip_entry *e, span *sp,
                            dl_err *err)
{
    const unsigned char *b = z->buf, *c = b + *pos;
    uint64_t cd_end = cd->offset + cd->size;
    if (cd_end - *pos < 46 || rd32(c) != SIG_CENTRAL)
        return dl_err_set(err, DL_EFORMAT, "%s: central directory entry at %llu is malformed",
                          z->name, (unsigned long long)*pos);
    uint16_t flags = rd16(c + 8), nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
    if (cd_end - *pos - 46 < (uint64_t)nlen + xlen + clen)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: central directory entry at %llu runs past the directory", z->name,
                          (unsigned long long)*pos);
    e->name = malloc((size_t)nlen + 1);
    if (!e->name)
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory", z->name);
    memcpy(e->name, c + 46, nlen);
    e->name[nlen] = '\0';
    if (memchr(e->name, '\0', nlen))
        return dl_err_set(err, DL_EFORMAT, "%s: entry name at %llu contains a NUL byte", z->name,
                          (unsigned long long)*pos);
    e->method = rd16(c + 10);
    e->crc = rd32(c + 16);
    e->csize = rd32(c + 20);
    e->usize = rd32(c + 24);
    uint64_t lho = rd32(c + 42);
    dl_status st = apply_zip64(z, e->name, c + 46 + nlen, xlen, &e->usize, &e->csize, &lho, err);
    if (st != DL_OK)
        return st;
    *pos += 46 + (uint64_t)nlen + xlen + clen;
    if (flags & 1)
        return dl_err_set(err, DL_EUNSUPPORTED, "%s: entry '%s' is encrypted", z->name, e->name);
    if (e->method != 0 && e->method != 8)
        return dl_err_set(err, DL_EUNSUPPORTED,
                          "%s: entry '%s' uses compression method %u (only stored and deflated)",
                          z->name, e->name, e->method);
    if (e->method == 0 && e->csize != e->usize)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: entry '%s' is stored but its sizes disagree (%llu vs %llu)", z->name,
                          e->name, (unsigned long long)e->csize, (unsigned long long)e->usize);
    if (lho > cd->offset || cd->offset - lho < 30 || rd32(b + lho) != SIG_LOCAL)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: entry '%s': local header offset %llu is not a local header", z->name,
                          e->name, (unsigned long long)lho);
    uint64_t ln = rd16(b + lho + 26), lx = rd16(b + lho + 28);
    if (ln != nlen || cd->offset - lho - 30 < ln + lx || memcmp(b + lho + 30, e->name, nlen) != 0)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: entry '%s': local header disagrees with the central directory",
                          z->name, e->name);
    e->data_offset = lho + 30 + ln + lx;
    if (e->csize > cd->offset - e->data_offset)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s: entry '%s': %llu bytes at %llu run into the central directory or past the file",
            z->name, e->name, (unsigned long long)e->csize, (unsigned long long)e->data_offset);
    sp->begin = lho;
    sp->end = e->data_offset + e->csize;
    return DL_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two entries of one name: dl_zip_find would return the first and hide the other's bytes, so
 * what is read could differ from what another reader (Python's zipfile keeps the last) sees. */
static dl_status check_unique_names(const dl_zip *z, dl_err *err)
{
    char **names = malloc((z->n ? z->n : 1) * sizeof *names);
    if (!names)
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory", z->name);
    for (size_t i = 0; i < z->n; i++)
        names[i] = z->entries[i].name;
    qsort(names, z->n, sizeof *names, cmp_name);
    dl_status st = DL_OK;
    for (size_t i = 1; i < z->n && st == DL_OK; i++)
        if (strcmp(names[i], names[i - 1]) == 0)
            st = dl_err_set(err, DL_EFORMAT,
                            "%s: two entries are named '%s' (refused: which one holds the data "
                            "is ambiguous)",
                            z->name, names[i]);
    free(names);
    return st;
}

dl_status dl_zip_open(dl_zip *z, const void *buf, size_t len, const char *name, dl_err *err)
{
    memset(z, 0, sizeof *z);
    z->buf = buf;
    z->len = len;
    z->name = name ? name : "<zip>";
    cd_info cd = {0};
    dl_status st = read_eocd(z, &cd, err);
    if (st != DL_OK)
        return st;
    z->entries = calloc(cd.n ? cd.n : 1, sizeof *z->entries);
    span *spans = calloc(cd.n ? cd.n : 1, sizeof *spans);
    if (!z->entries || !spans) {
        free(spans);
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory for %llu entries", z->name,
                          (unsigned long long)cd.n);
    }
    uint64_t pos = cd.offset;
    for (uint64_t i = 0; i < cd.n; i++) {
        z->n++;
        spans[i].idx = (size_t)i;
        if ((st = read_entry(z, &cd, &pos, &z->entries[i], &spans[i], err)) != DL_OK)
            goto fail;
    }
    qsort(spans, z->n, sizeof *spans, cmp_span);
    for (size_t i = 1; i < z->n; i++)
        if (spans[i].begin < spans[i - 1].end) {
            st = dl_err_set(err, DL_EFORMAT, "%s: entries '%s' and '%s' overlap", z->name,
                            z->entries[spans[i - 1].idx].name, z->entries[spans[i].idx].name);
            goto fail;
        }
    if ((st = check_unique_names(z, err)) != DL_OK)
        goto fail;
    free(spans);
    return DL_OK;
fail:
    free(spans);
    dl_zip_close(z);
    return st;
}

dl_status dl_zip_extract(const dl_zip *z, const dl_zip_entry *e, uint64_t max_bytes,
                         const unsigned char **data, void **owned, dl_err *err)
{
    *data = NULL;
    *owned = NULL;
    if (e->usize > max_bytes)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: entry '%s' declares %llu bytes, above the limit of %llu", z->name,
                          e->name, (unsigned long long)e->usize, (unsigned long long)max_bytes);
    /* Deflate cannot expand more than 1032:1, so a larger claim is a bomb: refuse it before
     * allocating the declared size. */
    if (e->method == 8 && e->usize / 1032 > e->csize + 1)
        return dl_err_set(
            err, DL_EFORMAT, "%s: entry '%s' claims %llu bytes from %llu compressed (a zip bomb)",
            z->name, e->name, (unsigned long long)e->usize, (unsigned long long)e->csize);
    const unsigned char *src = z->buf + e->data_offset;
    unsigned char *out = NULL;
    if (e->method == 8) {
        out = malloc(e->usize ? (size_t)e->usize : 1);
        if (!out)
            return dl_err_set(err, DL_ENOMEM, "%s: entry '%s': cannot allocate %llu bytes", z->name,
                              e->name, (unsigned long long)e->usize);
        if (e->csize > UINT32_MAX || e->usize > UINT32_MAX) {
            free(out);
            return dl_err_set(err, DL_EUNSUPPORTED,
                              "%s: entry '%s': deflated entries above 4 GiB are not supported",
                              z->name, e->name);
        }
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
            free(out);
            return dl_err_set(err, DL_ENOMEM, "%s: entry '%s': zlib init failed", z->name, e->name);
        }
        /* The output buffer is exactly the declared size: an entry that lies about its size (a zip
         * bomb) fills it without reaching the end of its stream and is refused. */
        zs.next_in = (unsigned char *)src;
        zs.avail_in = (uInt)e->csize;
        zs.next_out = out;
        zs.avail_out = (uInt)e->usize;
        int zr = inflate(&zs, Z_FINISH);
        int full = zs.avail_out == 0;
        uLong produced = zs.total_out;
        inflateEnd(&zs);
        const char *why = NULL;
        if (zr == Z_STREAM_END && produced != e->usize)
            why = "inflates to fewer bytes than declared (lying sizes)";
        else if (zr != Z_STREAM_END && zr != Z_DATA_ERROR && full)
            why = "inflates to more bytes than declared (lying sizes or a zip bomb)";
        else if (zr != Z_STREAM_END)
            why = "has a corrupt or truncated deflate stream";
        if (why) {
            free(out);
            return dl_err_set(err, DL_EFORMAT, "%s: entry '%s' %s", z->name, e->name, why);
        }
        src = out;
    }
    uLong crc = 0;
    for (uint64_t off = 0; off < e->usize;) {
        uInt n = e->usize - off > (1u << 30) ? (1u << 30) : (uInt)(e->usize - off);
        crc = crc32(crc, src + off, n);
        off += n;
    }
    if (crc != e->crc && e->crc != 0) {
        free(out);
        return dl_err_set(err, DL_EFORMAT,
                          "%s: entry '%s': CRC mismatch (stored %08x, computed %08lx)", z->name,
                          e->name, e->crc, crc);
    }
    *data = src;
    *owned = out;
    return DL_OK;
}
