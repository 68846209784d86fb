/* pth: .pth import through the zip reader and the restricted unpickler; see pth.h. */
#include "core/io/pth.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/pickle.h"
#include "core/io/read_file.h"
#include "core/io/zip.h"

#define PTH_MAX_PICKLE (256ull << 20)
#define PTH_MAX_TENSORS 65536
#define RESAVE_HINT                                                                                \
    "re-save it with torch >= 1.6: torch.save(torch.load(p), p), or export it as safetensors"

typedef struct storage_slot {
    const char *key;
    const unsigned char *data;
    uint64_t len;
    void *owned;
} storage_slot;

typedef struct pth_ctx {
    const char *name;
    dl_zip zip;
    char *prefix; /* "<folder>/" holding data.pkl, or "" */
    storage_slot *slots;
    size_t n_slots, cap_slots;
    uint64_t total_bytes, max_bytes; /* float32 output so far, and its cap */
    dl_err *err;
} pth_ctx;

static int is_legacy_pickle(const unsigned char *b, size_t len)
{
    return len >= 2 && b[0] == 0x80 && b[1] <= 5;
}
static int is_tar(const unsigned char *b, size_t len)
{
    return len >= 512 && memcmp(b + 257, "ustar", 5) == 0;
}

static dl_status find_storage(pth_ctx *c, const dl_pk_obj *s, const char *tname,
                              const storage_slot **out)
{
    for (size_t i = 0; i < c->n_slots; i++)
        if (strcmp(c->slots[i].key, s->s) == 0) {
            *out = &c->slots[i];
            return DL_OK;
        }
    if (strchr(s->s, '/') || s->slen != strlen(s->s))
        return dl_err_set(c->err, DL_EFORMAT,
                          "%s: tensor '%s': storage key '%s' is not a plain name", c->name, tname,
                          s->s);
    size_t nl = strlen(c->prefix) + 6 + strlen(s->s);
    char *ename = malloc(nl);
    if (!ename)
        return dl_err_set(c->err, DL_ENOMEM, "out of memory");
    snprintf(ename, nl, "%sdata/%s", c->prefix, s->s);
    const dl_zip_entry *e = dl_zip_find(&c->zip, ename);
    if (!e) {
        dl_status st = dl_err_set(c->err, DL_EFORMAT,
                                  "%s: tensor '%s': storage '%s' is missing from the archive",
                                  c->name, tname, ename);
        free(ename);
        return st;
    }
    free(ename);
    if (c->n_slots == c->cap_slots) {
        size_t cap = c->cap_slots ? c->cap_slots * 2 : 64;
        storage_slot *sl = realloc(c->slots, cap * sizeof *sl);
        if (!sl)
            return dl_err_set(c->err, DL_ENOMEM, "out of memory");
        c->slots = sl;
        c->cap_slots = cap;
    }
    storage_slot *slot = &c->slots[c->n_slots];
    dl_status st = dl_zip_extract(&c->zip, e, DL_PTH_MAX_BYTES, &slot->data, &slot->owned, c->err);
    if (st != DL_OK)
        return dl_err_wrap(c->err, "tensor '%s'", tname);
    slot->key = s->s;
    slot->len = e->usize;
    c->n_slots++;
    *out = slot;
    return DL_OK;
}

static float load_f32(dl_pk_stype t, const unsigned char *p)
{
    switch (t) {
    case DL_PK_S_FLOAT: {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    case DL_PK_S_DOUBLE: {
        double d;
        memcpy(&d, p, 8);
        return (float)d;
    }
    case DL_PK_S_HALF: {
        uint16_t h = (uint16_t)(p[0] | p[1] << 8);
        uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, mt = h & 0x3ff;
        float v = e == 0    ? ldexpf((float)mt, -24)
                  : e == 31 ? (mt ? NAN : INFINITY)
                            : ldexpf((float)(mt | 0x400), (int)e - 25);
        return sign ? -v : v;
    }
    case DL_PK_S_BFLOAT16: {
        uint32_t b = (uint32_t)(p[0] | p[1] << 8) << 16;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case DL_PK_S_LONG: {
        int64_t v;
        memcpy(&v, p, 8);
        return (float)v;
    }
    case DL_PK_S_INT32: {
        int32_t v;
        memcpy(&v, p, 4);
        return (float)v;
    }
    case DL_PK_S_SHORT: {
        int16_t v;
        memcpy(&v, p, 2);
        return (float)v;
    }
    case DL_PK_S_CHAR:
        return (float)(int8_t)p[0];
    case DL_PK_S_BYTE:
        return (float)p[0];
    case DL_PK_S_BOOLS:
        return p[0] ? 1.0f : 0.0f;
    }
    return 0.0f;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Copies one tensor out of its storage with offset/sizes/strides into a fresh contiguous buffer. */
static dl_status materialise(pth_ctx *c, const char *tname, const dl_pk_obj *t, dl_tensor_map *out)
{
    const dl_pk_obj *s = t->storage;
    size_t esz = dl_pk_stype_size(s->stype);
    if ((uint64_t)s->i > DL_PTH_MAX_BYTES / esz)
        return dl_err_set(c->err, DL_EFORMAT,
                          "%s: tensor '%s': storage declares %lld elements (too many)", c->name,
                          tname, (long long)s->i);
    const storage_slot *slot = NULL;
    dl_status st = find_storage(c, s, tname, &slot);
    if (st != DL_OK)
        return st;
    uint64_t snumel = (uint64_t)s->i;
    if (slot->len != snumel * esz)
        return dl_err_set(c->err, DL_EFORMAT,
                          "%s: tensor '%s': storage '%s' holds %llu bytes but declares %llu %s "
                          "elements (%llu bytes)",
                          c->name, tname, s->s, (unsigned long long)slot->len,
                          (unsigned long long)snumel, dl_pk_stype_name(s->stype),
                          (unsigned long long)(snumel * esz));
    uint64_t numel = 1, last = (uint64_t)t->i;
    for (int d = 0; d < t->ndim; d++) {
        if (t->size[d] < 0 || t->stride[d] < 0)
            return dl_err_set(c->err, DL_EFORMAT,
                              "%s: tensor '%s': negative size or stride in dimension %d", c->name,
                              tname, d);
        if (t->size[d] && numel > DL_PTH_MAX_BYTES / (uint64_t)t->size[d])
            return dl_err_set(c->err, DL_EFORMAT, "%s: tensor '%s': size product overflows",
                              c->name, tname);
        numel *= (uint64_t)t->size[d];
    }
    if (numel) {
        for (int d = 0; d < t->ndim; d++) {
            uint64_t span = (uint64_t)(t->size[d] - 1);
            if (t->stride[d] && span > (UINT64_MAX / 2 - last) / (uint64_t)t->stride[d])
                return dl_err_set(c->err, DL_EFORMAT, "%s: tensor '%s': strides overflow", c->name,
                                  tname);
            last += span * (uint64_t)t->stride[d];
        }
        if (last >= snumel)
            return dl_err_set(
                c->err, DL_EFORMAT,
                "%s: tensor '%s': view reaches element %llu of a storage of %llu (offset %lld)",
                c->name, tname, (unsigned long long)last, (unsigned long long)snumel,
                (long long)t->i);
    }
    int keep_i64 = s->stype == DL_PK_S_LONG && ends_with(tname, "num_batches_tracked");
    dl_dtype dt = keep_i64 ? DL_DTYPE_I64 : DL_DTYPE_F32;
    uint64_t bytes = numel * dl_dtype_size(dt);
    if (bytes > c->max_bytes - c->total_bytes)
        return dl_err_set(c->err, DL_EFORMAT,
                          "%s: tensor '%s': tensors would exceed %llu bytes in total (8x the file; "
                          "broadcast views?)",
                          c->name, tname, (unsigned long long)c->max_bytes);
    c->total_bytes += bytes;
    void *buf = dl_alloc_aligned(bytes ? (size_t)bytes : 1);
    if (!buf)
        return dl_err_set(c->err, DL_ENOMEM, "%s: tensor '%s': cannot allocate %llu bytes", c->name,
                          tname, (unsigned long long)bytes);
    int64_t idx[DL_MAX_DIMS] = {0};
    uint64_t off = (uint64_t)t->i;
    for (uint64_t j = 0; j < numel; j++) {
        const unsigned char *p = slot->data + off * esz;
        if (keep_i64)
            memcpy((int64_t *)buf + j, p, 8);
        else
            ((float *)buf)[j] = load_f32(s->stype, p);
        for (int d = t->ndim - 1; d >= 0; d--) { /* odometer over the view's indices */
            off += (uint64_t)t->stride[d];
            if (++idx[d] < t->size[d])
                break;
            off -= (uint64_t)t->stride[d] * (uint64_t)t->size[d];
            idx[d] = 0;
        }
    }
    st = dl_tensor_map_add_owned(out, tname, dt, t->ndim, t->size, buf, c->err);
    if (st != DL_OK) {
        dl_free_aligned(buf);
        return dl_err_wrap(c->err, "%s", c->name);
    }
    return DL_OK;
}

static int all_tensors(const dl_pk_obj *d)
{
    for (size_t i = 0; i + 1 < d->n; i += 2)
        if (d->items[i]->kind != DL_PK_STR || d->items[i + 1]->kind != DL_PK_TENSOR)
            return 0;
    return 1;
}

/* The state dict: the root, or one level down under 'state_dict' / 'model'. */
static dl_status pick_state_dict(pth_ctx *c, const dl_pk_obj *root, const dl_pk_obj **sd)
{
    if (root->kind != DL_PK_DICT)
        return dl_err_set(c->err, DL_EFORMAT, "%s: the pickle holds a %s, not a state dict",
                          c->name, dl_pk_kind_name(root->kind));
    if (all_tensors(root)) {
        *sd = root;
        return DL_OK;
    }
    static const char *nested[] = {"state_dict", "model"};
    for (size_t i = 0; i < 2; i++) {
        const dl_pk_obj *v = dl_pk_dict_get(root, nested[i]);
        if (v && v->kind == DL_PK_DICT && all_tensors(v)) {
            *sd = v;
            return DL_OK;
        }
    }
    char keys[600] = "";
    size_t used = 0;
    for (size_t i = 0; i + 1 < root->n && i < 20; i += 2) {
        const dl_pk_obj *k = root->items[i], *v = root->items[i + 1];
        int n = snprintf(keys + used, sizeof keys - used, "%s'%.60s' (%s)", i ? ", " : "",
                         k->kind == DL_PK_STR ? k->s : dl_pk_kind_name(k->kind),
                         dl_pk_kind_name(v->kind));
        if (n < 0 || (size_t)n >= sizeof keys - used)
            break;
        used += (size_t)n;
    }
    return dl_err_set(c->err, DL_EFORMAT,
                      "%s: not a state dict of tensors and no 'state_dict' or 'model' entry "
                      "holding one; keys: %s%s",
                      c->name, keys, root->n > 20 ? ", ..." : "");
}

static dl_status find_prefix(pth_ctx *c, const dl_zip_entry **pkl)
{
    *pkl = NULL;
    for (size_t i = 0; i < c->zip.n; i++) {
        const char *n = c->zip.entries[i].name;
        if (strcmp(n, "data.pkl") == 0 || ends_with(n, "/data.pkl")) {
            if (*pkl)
                return dl_err_set(c->err, DL_EFORMAT, "%s: more than one data.pkl ('%s' and '%s')",
                                  c->name, (*pkl)->name, n);
            *pkl = &c->zip.entries[i];
        }
    }
    if (!*pkl)
        return dl_err_set(c->err, DL_EFORMAT,
                          "%s: zip archive has no data.pkl: not a torch.save checkpoint", c->name);
    size_t pl = strlen((*pkl)->name) - strlen("data.pkl");
    c->prefix = strndup((*pkl)->name, pl);
    if (!c->prefix)
        return dl_err_set(c->err, DL_ENOMEM, "out of memory");
    return DL_OK;
}

static dl_status check_byteorder(pth_ctx *c)
{
    size_t nl = strlen(c->prefix) + 10;
    char *n = malloc(nl);
    if (!n)
        return dl_err_set(c->err, DL_ENOMEM, "out of memory");
    snprintf(n, nl, "%sbyteorder", c->prefix);
    const dl_zip_entry *e = dl_zip_find(&c->zip, n);
    free(n);
    if (!e)
        return DL_OK;
    const unsigned char *d;
    void *owned;
    dl_status st = dl_zip_extract(&c->zip, e, 64, &d, &owned, c->err);
    if (st != DL_OK)
        return st;
    int little = e->usize == 6 && memcmp(d, "little", 6) == 0;
    free(owned);
    if (!little)
        return dl_err_set(c->err, DL_EUNSUPPORTED,
                          "%s: checkpoint was saved big-endian; dllab reads little-endian",
                          c->name);
    return DL_OK;
}

dl_status dl_pth_parse(const void *buf, size_t len, const char *name, dl_tensor_map *out,
                       dl_err *err)
{
    const unsigned char *b = buf;
    if (!name)
        name = "<pth>";
    if (!dl_zip_sniff(buf, len)) {
        if (is_legacy_pickle(b, len) || is_tar(b, len))
            return dl_err_set(err, DL_EUNSUPPORTED,
                              "%s: legacy PyTorch checkpoint (%s, from before torch 1.6); %s", name,
                              is_tar(b, len) ? "tar format" : "bare pickle", RESAVE_HINT);
        return dl_err_set(err, DL_EFORMAT, "%s: not a PyTorch checkpoint (no zip header)", name);
    }
    /* Stored storages convert to at most 4x their size (bytes -> float32); only stride-0
     * (broadcast) views could grow more, and a state dict has none worth 8x the file. */
    uint64_t cap = 8 * (uint64_t)len + (1u << 20);
    pth_ctx c = {
        .name = name, .err = err, .max_bytes = cap < DL_PTH_MAX_BYTES ? cap : DL_PTH_MAX_BYTES};
    dl_pickle pk = {0};
    const dl_zip_entry *pkl;
    const unsigned char *pdata;
    void *powned = NULL;
    dl_status st = dl_zip_open(&c.zip, buf, len, name, err);
    if (st != DL_OK)
        return st;
    if ((st = find_prefix(&c, &pkl)) != DL_OK || (st = check_byteorder(&c)) != DL_OK)
        goto done;
    if ((st = dl_zip_extract(&c.zip, pkl, PTH_MAX_PICKLE, &pdata, &powned, err)) != DL_OK)
        goto done;
    char pname[512];
    snprintf(pname, sizeof pname, "%s:%s", name, pkl->name);
    if ((st = dl_pickle_load(&pk, pdata, (size_t)pkl->usize, pname, err)) != DL_OK)
        goto done;
    const dl_pk_obj *sd = NULL;
    if ((st = pick_state_dict(&c, pk.root, &sd)) != DL_OK)
        goto done;
    if (sd->n / 2 > PTH_MAX_TENSORS) { /* the map's name lookups are linear: bound them */
        st = dl_err_set(err, DL_EFORMAT, "%s: state dict has %zu tensors (limit %d)", name,
                        sd->n / 2, PTH_MAX_TENSORS);
        goto done;
    }
    for (size_t i = 0; i + 1 < sd->n; i += 2) {
        const dl_pk_obj *k = sd->items[i];
        if (k->slen != strlen(k->s)) {
            st = dl_err_set(err, DL_EFORMAT, "%s: a tensor name contains a NUL byte", name);
            goto done;
        }
        if ((st = materialise(&c, k->s, sd->items[i + 1], out)) != DL_OK)
            goto done;
    }
done:
    if (st != DL_OK) /* no half-filled map: the caller frees nothing after an error */
        dl_tensor_map_free(out);
    for (size_t i = 0; i < c.n_slots; i++)
        free(c.slots[i].owned);
    free(c.slots);
    free(c.prefix);
    free(powned);
    dl_pickle_free(&pk);
    dl_zip_close(&c.zip);
    return st;
}

dl_status dl_pth_read(const char *path, dl_tensor_map *out, dl_err *err)
{
    return dl_io_read_parse(path, dl_pth_parse, out, err);
}
