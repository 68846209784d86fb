/* safetensors: reader and atomic writer for the safetensors format; see safetensors.h.
 * Refuses: files shorter than 8 bytes, header lengths past the end of the file or above 100 MB,
 * JSON that does not parse or is not an object of objects, duplicate names, dtypes other than
 * F32/F16/BF16/F64/I64, negative or overflowing shapes, and data_offsets that are out of range,
 * mis-sized, overlapping, leave gaps or do not cover the data buffer exactly (as the reference
 * implementation's Metadata::validate does). Data is little-endian; so is every host we build on.
 */
#include "core/io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/io/read_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies little-endian file data directly; add byte swapping for this host"
#endif

#define ST_MAX_HEADER 100000000ull
#define DL_SAFETENSORS_MAX_TENSORS 65536

typedef enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64 } st_dtype;

typedef struct st_entry {
    const char *name; /* points into the JSON object (valid while root lives) */
    st_dtype dtype;
    int ndim;
    int64_t shape[DL_MAX_DIMS];
    uint64_t numel, begin, end;
} st_entry;

static int st_dtype_from_name(const char *s, st_dtype *out)
{
    static const struct {
        const char *name;
        st_dtype t;
    } table[] = {
        {"F32", ST_F32}, {"F16", ST_F16}, {"BF16", ST_BF16}, {"F64", ST_F64}, {"I64", ST_I64}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(s, table[i].name) == 0) {
            *out = table[i].t;
            return 1;
        }
    return 0;
}

static size_t st_dtype_size(st_dtype t)
{
    switch (t) {
    case ST_F16:
    case ST_BF16:
        return 2;
    case ST_F32:
        return 4;
    default:
        return 8;
    }
}

/* IEEE binary16 -> binary32, including subnormals, infinities and NaN payloads. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise the mantissa */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void st_convert(st_dtype t, const unsigned char *src, uint64_t n, void *dst)
{
    float *f = dst;
    switch (t) {
    case ST_F32:
    case ST_I64:
        memcpy(dst, src, (size_t)(n * st_dtype_size(t)));
        break;
    case ST_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            f[i] = half_to_float(h);
        }
        break;
    case ST_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            uint32_t bits = (uint32_t)h << 16;
            memcpy(&f[i], &bits, 4);
        }
        break;
    case ST_F64:
        for (uint64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            f[i] = (float)d;
        }
        break;
    }
}

static dl_status st_parse_entry(const char *file, const char *key, json_t *v, uint64_t data_len,
                                st_entry *e, dl_err *err)
{
    if (!json_is_object(v))
        return dl_err_set(err, DL_EFORMAT, "%s: tensor '%s': header entry is not a JSON object",
                          file, key);
    json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
           *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd))
        return dl_err_set(err, DL_EFORMAT, "%s: tensor '%s': missing or non-string \"dtype\"", file,
                          key);
    if (!st_dtype_from_name(json_string_value(jd), &e->dtype))
        return dl_err_set(
            err, DL_EUNSUPPORTED,
            "%s: tensor '%s': unsupported dtype '%s' (dllab reads F32, F16, BF16, F64, I64)", file,
            key, json_string_value(jd));
    if (!json_is_array(js))
        return dl_err_set(err, DL_EFORMAT, "%s: tensor '%s': missing or non-array \"shape\"", file,
                          key);
    size_t nd = json_array_size(js);
    if (nd > DL_MAX_DIMS)
        return dl_err_set(err, DL_EUNSUPPORTED,
                          "%s: tensor '%s': %zu dimensions (dllab handles at most %d)", file, key,
                          nd, DL_MAX_DIMS);
    e->ndim = (int)nd;
    uint64_t numel = 1;
    int overflow = 0;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return dl_err_set(err, DL_EFORMAT,
                              "%s: tensor '%s': shape dimension %zu is not a non-negative integer",
                              file, key, i);
        e->shape[i] = (int64_t)json_integer_value(d);
        if (e->shape[i] != 0 && numel > UINT64_MAX / (uint64_t)e->shape[i])
            overflow = 1;
        else
            numel *= (uint64_t)e->shape[i];
    }
    if (overflow || numel > UINT64_MAX / 8)
        return dl_err_set(err, DL_EFORMAT, "%s: tensor '%s': shape product overflows", file, key);
    e->numel = numel;
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !json_is_integer(json_array_get(jo, 0)) ||
        !json_is_integer(json_array_get(jo, 1)))
        return dl_err_set(err, DL_EFORMAT,
                          "%s: tensor '%s': \"data_offsets\" must be [begin, end] integers", file,
                          key);
    json_int_t b = json_integer_value(json_array_get(jo, 0)),
               en = json_integer_value(json_array_get(jo, 1));
    if (b < 0 || en < b || (uint64_t)en > data_len)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s: tensor '%s': data_offsets [%lld, %lld] out of range (data buffer is %llu bytes)",
            file, key, (long long)b, (long long)en, (unsigned long long)data_len);
    e->begin = (uint64_t)b;
    e->end = (uint64_t)en;
    if (e->end - e->begin != numel * st_dtype_size(e->dtype))
        return dl_err_set(err, DL_EFORMAT,
                          "%s: tensor '%s': data_offsets span %llu bytes but shape needs %llu",
                          file, key, (unsigned long long)(e->end - e->begin),
                          (unsigned long long)(numel * st_dtype_size(e->dtype)));
    e->name = key;
    return DL_OK;
}

static int st_cmp_begin(const void *a, const void *b)
{
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static dl_status st_read_metadata(const char *file, json_t *meta, dl_tensor_map *out, dl_err *err)
{
    if (!json_is_object(meta))
        return dl_err_set(err, DL_EFORMAT, "%s: \"__metadata__\" is not an object", file);
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v)
    {
        if (!json_is_string(v))
            return dl_err_set(err, DL_EFORMAT, "%s: __metadata__ key '%s' is not a string", file,
                              k);
        dl_status st = dl_tensor_map_set_meta(out, k, json_string_value(v), err);
        if (st != DL_OK)
            return st;
    }
    return DL_OK;
}

static dl_status st_parse_json(const unsigned char *p, size_t len, const char *name, json_t *root,
                               dl_tensor_map *out, dl_err *err)
{
    uint64_t hlen = 0;
    memcpy(&hlen, p, 8);
    const unsigned char *data = p + 8 + hlen;
    uint64_t data_len = len - 8 - hlen;
    size_t n_ent = json_object_size(root);
    if (n_ent > DL_SAFETENSORS_MAX_TENSORS + 1) /* the map's name lookups are linear: bound them */
        return dl_err_set(err, DL_EFORMAT, "%s: header lists %zu tensors (limit %d)", name, n_ent,
                          DL_SAFETENSORS_MAX_TENSORS);
    st_entry *ents = calloc(n_ent ? n_ent : 1, sizeof *ents);
    if (!ents)
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory reading the header", name);
    size_t n = 0;
    dl_status st = DL_OK;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "__metadata__") == 0)
            st = st_read_metadata(name, v, out, err);
        else if ((st = st_parse_entry(name, key, v, data_len, &ents[n], err)) == DL_OK)
            n++;
        if (st != DL_OK)
            goto done;
    }
    qsort(ents, n, sizeof *ents, st_cmp_begin);
    uint64_t expect = 0;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].begin < expect) {
            st = dl_err_set(err, DL_EFORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s'", name,
                            ents[i].name, (unsigned long long)ents[i].begin,
                            (unsigned long long)ents[i].end, ents[i - 1].name);
            goto done;
        }
        if (ents[i].begin > expect) {
            st = dl_err_set(err, DL_EFORMAT,
                            "%s: tensor '%s': gap before data_offsets begin %llu (expected %llu)",
                            name, ents[i].name, (unsigned long long)ents[i].begin,
                            (unsigned long long)expect);
            goto done;
        }
        expect = ents[i].end;
    }
    if (expect != data_len) {
        st = dl_err_set(err, DL_EFORMAT,
                        "%s: tensors cover %llu bytes but the data buffer holds %llu", name,
                        (unsigned long long)expect, (unsigned long long)data_len);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        st_entry *e = &ents[i];
        dl_dtype dt = e->dtype == ST_I64 ? DL_DTYPE_I64 : DL_DTYPE_F32;
        size_t bytes = (size_t)(e->numel * dl_dtype_size(dt));
        void *buf = dl_alloc_aligned(bytes ? bytes : 1);
        if (!buf) {
            st = dl_err_set(err, DL_ENOMEM, "%s: tensor '%s': cannot allocate %zu bytes", name,
                            e->name, bytes);
            goto done;
        }
        st_convert(e->dtype, data + e->begin, e->numel, buf);
        if ((st = dl_tensor_map_add_owned(out, e->name, dt, e->ndim, e->shape, buf, err)) !=
            DL_OK) {
            dl_free_aligned(buf);
            dl_err_wrap(err, "%s", name);
            goto done;
        }
    }
done:
    free(ents);
    return st;
}

dl_status dl_safetensors_parse(const void *buf, size_t len, const char *name, dl_tensor_map *out,
                               dl_err *err)
{
    const unsigned char *p = buf;
    if (!name)
        name = "<buffer>";
    if (len < 8)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: truncated: %zu bytes, too short for the 8-byte header length", name,
                          len);
    uint64_t hlen;
    memcpy(&hlen, p, 8);
    if (hlen > ST_MAX_HEADER)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s: header length %llu is absurd (limit %llu bytes); not a safetensors file?", name,
            (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > len - 8)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: truncated: header length %llu is larger than the file (%zu bytes)",
                          name, (unsigned long long)hlen, len);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: header JSON does not parse: %s (line %d, column %d)", name,
                          jerr.text, jerr.line, jerr.column);
    dl_status st;
    if (!json_is_object(root))
        st = dl_err_set(err, DL_EFORMAT, "%s: header is not a JSON object", name);
    else
        st = st_parse_json(p, len, name, root, out, err);
    json_decref(root);
    return st;
}

dl_status dl_safetensors_read(const char *path, dl_tensor_map *out, dl_err *err)
{
    return dl_io_read_parse(path, dl_safetensors_parse, out, err);
}

dl_status dl_safetensors_serialize(const dl_tensor_map *m, void **buf, size_t *len, dl_err *err)
{
    *buf = NULL;
    *len = 0;
    json_t *root = json_object();
    if (!root)
        return dl_err_set(err, DL_ENOMEM, "out of memory building the safetensors header");
    dl_status st = DL_OK;
    if (m->n_meta) {
        json_t *meta = json_object();
        for (size_t i = 0; meta && i < m->n_meta; i++)
            json_object_set_new(meta, m->meta[i].key, json_string(m->meta[i].value));
        if (!meta || json_object_set_new(root, "__metadata__", meta) != 0) {
            st = dl_err_set(err, DL_ENOMEM, "out of memory building __metadata__");
            goto out;
        }
    }
    uint64_t off = 0;
    for (size_t i = 0; i < m->n; i++) {
        const dl_named_tensor *t = &m->items[i];
        if (strcmp(t->name, "__metadata__") == 0) {
            st = dl_err_set(err, DL_EINVAL, "a tensor may not be named '__metadata__'");
            goto out;
        }
        uint64_t bytes = (uint64_t)dl_shape_numel(t->ndim, t->shape) * dl_dtype_size(t->dtype);
        json_t *e = json_object(), *shape = json_array();
        for (int d = 0; shape && d < t->ndim; d++)
            json_array_append_new(shape, json_integer(t->shape[d]));
        json_t *offs = json_pack("[II]", (json_int_t)off, (json_int_t)(off + bytes));
        if (!e || !shape || !offs) {
            json_decref(e);
            json_decref(shape);
            json_decref(offs);
            st = dl_err_set(err, DL_ENOMEM, "out of memory building header entry '%s'", t->name);
            goto out;
        }
        json_object_set_new(e, "dtype", json_string(dl_dtype_name(t->dtype)));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "data_offsets", offs);
        json_object_set_new(root, t->name, e);
        off += bytes;
    }
    char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!hdr) {
        st = dl_err_set(err, DL_ENOMEM, "out of memory serialising the safetensors header");
        goto out;
    }
    size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7; /* data starts 8-byte aligned */
    size_t total = 8 + padded + (size_t)off;
    unsigned char *b = malloc(total ? total : 1);
    if (!b) {
        free(hdr);
        st = dl_err_set(err, DL_ENOMEM, "cannot allocate %zu bytes for the safetensors image",
                        total);
        goto out;
    }
    uint64_t le = padded;
    memcpy(b, &le, 8);
    memcpy(b + 8, hdr, hl);
    memset(b + 8 + hl, ' ', padded - hl);
    free(hdr);
    unsigned char *d = b + 8 + padded;
    for (size_t i = 0; i < m->n; i++) {
        const dl_named_tensor *t = &m->items[i];
        size_t bytes = (size_t)dl_shape_numel(t->ndim, t->shape) * dl_dtype_size(t->dtype);
        if (bytes)
            memcpy(d, t->data, bytes);
        d += bytes;
    }
    *buf = b;
    *len = total;
out:
    json_decref(root);
    return st;
}

dl_status dl_safetensors_write(const char *path, const dl_tensor_map *m, dl_err *err)
{
    void *buf;
    size_t len;
    dl_status st = dl_safetensors_serialize(m, &buf, &len, err);
    if (st != DL_OK)
        return dl_err_wrap(err, "writing %s", path);
    st = dl_file_write(path, buf, len, err); /* temporary + rename, or in place for a device */
    free(buf);
    return st;
}
