/* pickle: the restricted unpickler; see pickle.h. The machine only moves data around: REDUCE is
 * interpreted for exactly three allowlisted callables, BINPERSID only builds a storage reference,
 * BUILD is only accepted (and ignored) on a dict. Every length is compared with the bytes left
 * before it is used; every pop respects the innermost MARK. */
#include "core/io/pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena {
    dl_pk_obj **objs;
    size_t n, cap;
} arena;

typedef struct vm {
    const unsigned char *b;
    size_t len, pos, op_at;
    const char *name;
    dl_pk_obj **stack;
    size_t sp, scap;
    size_t marks[DL_PK_MAX_MARKS];
    size_t nmarks;
    dl_pk_obj **memo;
    size_t memo_cap;
    arena *ar;
    dl_err *err;
} vm;

static const struct {
    unsigned char op;
    const char *name;
} opnames[] = {{'(', "MARK"},
               {'.', "STOP"},
               {'0', "POP"},
               {'1', "POP_MARK"},
               {'2', "DUP"},
               {'F', "FLOAT"},
               {'I', "INT"},
               {'J', "BININT"},
               {'K', "BININT1"},
               {'L', "LONG"},
               {'M', "BININT2"},
               {'N', "NONE"},
               {'P', "PERSID"},
               {'Q', "BINPERSID"},
               {'R', "REDUCE"},
               {'S', "STRING"},
               {'T', "BINSTRING"},
               {'U', "SHORT_BINSTRING"},
               {'V', "UNICODE"},
               {'X', "BINUNICODE"},
               {'a', "APPEND"},
               {'b', "BUILD"},
               {'c', "GLOBAL"},
               {'d', "DICT"},
               {'}', "EMPTY_DICT"},
               {'e', "APPENDS"},
               {'g', "GET"},
               {'h', "BINGET"},
               {'i', "INST"},
               {'j', "LONG_BINGET"},
               {'l', "LIST"},
               {']', "EMPTY_LIST"},
               {'o', "OBJ"},
               {'p', "PUT"},
               {'q', "BINPUT"},
               {'r', "LONG_BINPUT"},
               {'s', "SETITEM"},
               {'t', "TUPLE"},
               {')', "EMPTY_TUPLE"},
               {'u', "SETITEMS"},
               {'G', "BINFLOAT"},
               {0x80, "PROTO"},
               {0x81, "NEWOBJ"},
               {0x82, "EXT1"},
               {0x83, "EXT2"},
               {0x84, "EXT4"},
               {0x85, "TUPLE1"},
               {0x86, "TUPLE2"},
               {0x87, "TUPLE3"},
               {0x88, "NEWTRUE"},
               {0x89, "NEWFALSE"},
               {0x8a, "LONG1"},
               {0x8b, "LONG4"},
               {'B', "BINBYTES"},
               {'C', "SHORT_BINBYTES"},
               {0x8c, "SHORT_BINUNICODE"},
               {0x8d, "BINUNICODE8"},
               {0x8e, "BINBYTES8"},
               {0x8f, "EMPTY_SET"},
               {0x90, "ADDITEMS"},
               {0x91, "FROZENSET"},
               {0x92, "NEWOBJ_EX"},
               {0x93, "STACK_GLOBAL"},
               {0x94, "MEMOIZE"},
               {0x95, "FRAME"},
               {0x96, "BYTEARRAY8"},
               {0x97, "NEXT_BUFFER"},
               {0x98, "READONLY_BUFFER"}};

static const char *opname(unsigned char op)
{
    for (size_t i = 0; i < sizeof opnames / sizeof opnames[0]; i++)
        if (opnames[i].op == op)
            return opnames[i].name;
    return "unknown opcode";
}

static const struct {
    const char *name;
    dl_pk_stype t;
    size_t size;
} storages[] = {{"FloatStorage", DL_PK_S_FLOAT, 4}, {"DoubleStorage", DL_PK_S_DOUBLE, 8},
                {"HalfStorage", DL_PK_S_HALF, 2},   {"BFloat16Storage", DL_PK_S_BFLOAT16, 2},
                {"LongStorage", DL_PK_S_LONG, 8},   {"IntStorage", DL_PK_S_INT32, 4},
                {"ShortStorage", DL_PK_S_SHORT, 2}, {"CharStorage", DL_PK_S_CHAR, 1},
                {"ByteStorage", DL_PK_S_BYTE, 1},   {"BoolStorage", DL_PK_S_BOOLS, 1}};

size_t dl_pk_stype_size(dl_pk_stype t) { return storages[t].size; }
const char *dl_pk_stype_name(dl_pk_stype t) { return storages[t].name; }

const char *dl_pk_kind_name(dl_pk_kind k)
{
    static const char *names[] = {"None", "bool", "int",    "float",   "str",   "tuple",
                                  "list", "dict", "global", "storage", "tensor"};
    return names[k];
}

static dl_status fail(vm *m, dl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static dl_status fail(vm *m, dl_status code, const char *fmt, ...)
{
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return dl_err_set(m->err, code, "%s: pickle byte %zu: %s", m->name, m->op_at, detail);
}

static dl_pk_obj *new_obj(vm *m, dl_pk_kind kind)
{
    arena *a = m->ar;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        dl_pk_obj **o = realloc(a->objs, cap * sizeof *o);
        if (!o)
            return NULL;
        a->objs = o;
        a->cap = cap;
    }
    dl_pk_obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->kind = kind;
    a->objs[a->n++] = o;
    return o;
}

static int add_item(dl_pk_obj *o, dl_pk_obj *item)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4;
        dl_pk_obj **it = realloc(o->items, cap * sizeof *it);
        if (!it)
            return 0;
        o->items = it;
        o->cap = cap;
    }
    o->items[o->n++] = item;
    return 1;
}

static dl_status push(vm *m, dl_pk_obj *o)
{
    if (!o)
        return fail(m, DL_ENOMEM, "out of memory");
    if (m->sp == m->scap) {
        if (m->scap >= DL_PK_MAX_STACK)
            return fail(m, DL_EFORMAT, "stack deeper than %d entries", DL_PK_MAX_STACK);
        size_t cap = m->scap ? m->scap * 2 : 64;
        dl_pk_obj **s = realloc(m->stack, cap * sizeof *s);
        if (!s)
            return fail(m, DL_ENOMEM, "out of memory");
        m->stack = s;
        m->scap = cap;
    }
    m->stack[m->sp++] = o;
    return DL_OK;
}

static size_t fence(const vm *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static dl_status pop(vm *m, dl_pk_obj **o)
{
    if (m->sp <= fence(m))
        return fail(m, DL_EFORMAT, "%s pops an empty stack", opname(m->b[m->op_at]));
    *o = m->stack[--m->sp];
    return DL_OK;
}

static dl_status top(vm *m, dl_pk_obj **o)
{
    if (m->sp <= fence(m))
        return fail(m, DL_EFORMAT, "%s needs a value on the stack", opname(m->b[m->op_at]));
    *o = m->stack[m->sp - 1];
    return DL_OK;
}

static dl_status need(vm *m, size_t n)
{
    if (m->len - m->pos < n)
        return fail(m, DL_EFORMAT, "%s is truncated (needs %zu bytes, %zu left)",
                    opname(m->b[m->op_at]), n, m->len - m->pos);
    return DL_OK;
}

static uint64_t rdle(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static dl_status push_int(vm *m, int64_t v)
{
    dl_pk_obj *o = new_obj(m, DL_PK_INT);
    if (o)
        o->i = v;
    return push(m, o);
}

static dl_status read_str(vm *m, size_t lenbytes)
{
    dl_status st = need(m, lenbytes);
    if (st != DL_OK)
        return st;
    uint64_t n = rdle(m->b + m->pos, (int)lenbytes);
    m->pos += lenbytes;
    if (n > DL_PK_MAX_STR)
        return fail(m, DL_EFORMAT, "string of %llu bytes exceeds the limit of %d",
                    (unsigned long long)n, DL_PK_MAX_STR);
    if ((st = need(m, (size_t)n)) != DL_OK)
        return st;
    dl_pk_obj *o = new_obj(m, DL_PK_STR);
    if (!o || !(o->s = malloc((size_t)n + 1)))
        return fail(m, DL_ENOMEM, "out of memory");
    memcpy(o->s, m->b + m->pos, (size_t)n);
    o->s[n] = '\0';
    o->slen = (size_t)n;
    m->pos += (size_t)n;
    return push(m, o);
}

/* Reads a newline-terminated GLOBAL operand (at most 256 bytes). */
static dl_status read_line(vm *m, char *out, size_t cap)
{
    for (size_t i = 0; i < cap; i++) {
        if (m->pos + i >= m->len)
            return fail(m, DL_EFORMAT, "GLOBAL is truncated");
        if (m->b[m->pos + i] == '\n') {
            memcpy(out, m->b + m->pos, i);
            out[i] = '\0';
            m->pos += i + 1;
            return DL_OK;
        }
    }
    return fail(m, DL_EFORMAT, "GLOBAL operand longer than %zu bytes", cap - 1);
}

static dl_status op_global(vm *m)
{
    char mod[257], name[257];
    dl_status st;
    if ((st = read_line(m, mod, sizeof mod)) != DL_OK ||
        (st = read_line(m, name, sizeof name)) != DL_OK)
        return st;
    dl_pk_obj *o = new_obj(m, DL_PK_GLOBAL);
    if (!o)
        return fail(m, DL_ENOMEM, "out of memory");
    if (strcmp(mod, "collections") == 0 && strcmp(name, "OrderedDict") == 0)
        o->global = DL_PK_G_ORDERED_DICT;
    else if (strcmp(mod, "torch._utils") == 0 && strcmp(name, "_rebuild_tensor_v2") == 0)
        o->global = DL_PK_G_REBUILD_TENSOR_V2;
    else if (strcmp(mod, "torch._utils") == 0 && strcmp(name, "_rebuild_parameter") == 0)
        o->global = DL_PK_G_REBUILD_PARAMETER;
    else {
        int found = 0;
        for (size_t i = 0; strcmp(mod, "torch") == 0 && i < sizeof storages / sizeof storages[0];
             i++)
            if (strcmp(name, storages[i].name) == 0) {
                o->global = DL_PK_G_STORAGE;
                o->stype = storages[i].t;
                found = 1;
            }
        if (!found)
            return fail(m, DL_EFORMAT,
                        "GLOBAL %s.%s is not allowed (a state dict only needs tensors; refusing to "
                        "run code from a weight file)",
                        mod, name);
    }
    return push(m, o);
}

static dl_status memo_index(vm *m, size_t nbytes, size_t *idx)
{
    dl_status st = need(m, nbytes);
    if (st != DL_OK)
        return st;
    *idx = (size_t)rdle(m->b + m->pos, (int)nbytes);
    m->pos += nbytes;
    return DL_OK;
}

static dl_status op_put(vm *m, size_t nbytes)
{
    size_t idx;
    dl_pk_obj *o;
    dl_status st;
    if ((st = memo_index(m, nbytes, &idx)) != DL_OK || (st = top(m, &o)) != DL_OK)
        return st;
    if (idx >= DL_PK_MAX_MEMO)
        return fail(m, DL_EFORMAT, "memo index %zu exceeds the limit of %d", idx, DL_PK_MAX_MEMO);
    if (idx >= m->memo_cap) {
        size_t cap = m->memo_cap ? m->memo_cap : 64;
        while (cap <= idx)
            cap *= 2;
        dl_pk_obj **mm = realloc(m->memo, cap * sizeof *mm);
        if (!mm)
            return fail(m, DL_ENOMEM, "out of memory");
        memset(mm + m->memo_cap, 0, (cap - m->memo_cap) * sizeof *mm);
        m->memo = mm;
        m->memo_cap = cap;
    }
    m->memo[idx] = o;
    return DL_OK;
}

static dl_status op_get(vm *m, size_t nbytes)
{
    size_t idx;
    dl_status st = memo_index(m, nbytes, &idx);
    if (st != DL_OK)
        return st;
    if (idx >= m->memo_cap || !m->memo[idx])
        return fail(m, DL_EFORMAT, "%s of memo %zu, which was never stored", opname(m->b[m->op_at]),
                    idx);
    return push(m, m->memo[idx]);
}

/* The start of the values above the innermost MARK (the MARK is dropped). */
static dl_status pop_mark(vm *m, size_t *from)
{
    if (!m->nmarks)
        return fail(m, DL_EFORMAT, "%s without a MARK", opname(m->b[m->op_at]));
    *from = m->marks[--m->nmarks];
    return DL_OK;
}

/* Moves stack[from..sp) into container c, in order, and pops them. */
static dl_status move_items(vm *m, dl_pk_obj *c, size_t from)
{
    for (size_t i = from; i < m->sp; i++)
        if (!add_item(c, m->stack[i]))
            return fail(m, DL_ENOMEM, "out of memory");
    m->sp = from;
    return DL_OK;
}

/* A new tuple of the values from `from` up; pushed in their place. */
static dl_status make_tuple(vm *m, size_t from)
{
    dl_pk_obj *t = new_obj(m, DL_PK_TUPLE);
    if (!t)
        return fail(m, DL_ENOMEM, "out of memory");
    dl_status st = move_items(m, t, from);
    return st != DL_OK ? st : push(m, t);
}

static dl_status op_tuple_n(vm *m, size_t n)
{
    if (m->sp - fence(m) < n)
        return fail(m, DL_EFORMAT, "%s needs %zu values on the stack", opname(m->b[m->op_at]), n);
    return make_tuple(m, m->sp - n);
}

static dl_status op_tuple_mark(vm *m)
{
    size_t from = 0;
    dl_status st = pop_mark(m, &from);
    return st != DL_OK ? st : make_tuple(m, from);
}

/* SETITEM(S) into the dict (kind DL_PK_DICT: key/value pairs) or APPEND(S) into the list below the
 * values: those above the MARK (marked), else the top pair or value. */
static dl_status op_fill(vm *m, dl_pk_kind kind, int marked)
{
    int dict = kind == DL_PK_DICT;
    size_t per = dict ? 2 : 1, from = 0;
    dl_status st;
    if (marked) {
        if ((st = pop_mark(m, &from)) != DL_OK)
            return st;
    } else {
        if (m->sp - fence(m) < per)
            return fail(m, DL_EFORMAT, "%s",
                        dict ? "SETITEM needs a key and a value" : "APPEND needs a value");
        from = m->sp - per;
    }
    if ((m->sp - from) % per)
        return fail(m, DL_EFORMAT, "SETITEMS with an odd number of values");
    if (from <= fence(m) || m->stack[from - 1]->kind != kind)
        return fail(m, DL_EFORMAT, "%s on a %s, not a %s", opname(m->b[m->op_at]),
                    from > fence(m) ? dl_pk_kind_name(m->stack[from - 1]->kind) : "missing value",
                    dict ? "dict" : "list");
    return move_items(m, m->stack[from - 1], from);
}

static int int_tuple(const dl_pk_obj *t, int64_t *out)
{
    if (t->kind != DL_PK_TUPLE || t->n > DL_MAX_DIMS)
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != DL_PK_INT)
            return 0;
        out[i] = t->items[i]->i;
    }
    return 1;
}

static dl_status rebuild_tensor(vm *m, const dl_pk_obj *a)
{
    if (a->n != 6 && a->n != 7)
        return fail(m, DL_EFORMAT, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %zu", a->n);
    const dl_pk_obj *s = a->items[0], *off = a->items[1], *sz = a->items[2], *str = a->items[3];
    if (s->kind != DL_PK_STORAGE)
        return fail(m, DL_EFORMAT, "_rebuild_tensor_v2 argument 1 is a %s, not a storage",
                    dl_pk_kind_name(s->kind));
    if (off->kind != DL_PK_INT || off->i < 0)
        return fail(m, DL_EFORMAT, "_rebuild_tensor_v2 storage offset must be a non-negative int");
    dl_pk_obj *t = new_obj(m, DL_PK_TENSOR);
    if (!t)
        return fail(m, DL_ENOMEM, "out of memory");
    if (!int_tuple(sz, t->size) || !int_tuple(str, t->stride) || sz->n != str->n)
        return fail(m, DL_EFORMAT,
                    "_rebuild_tensor_v2 size and stride must be int tuples of equal length "
                    "(at most %d)",
                    DL_MAX_DIMS);
    if (a->items[4]->kind != DL_PK_BOOL)
        return fail(m, DL_EFORMAT, "_rebuild_tensor_v2 requires_grad is a %s, not a bool",
                    dl_pk_kind_name(a->items[4]->kind));
    for (size_t i = 5; i < a->n; i++)
        if (a->items[i]->kind != DL_PK_DICT && a->items[i]->kind != DL_PK_NONE)
            return fail(m, DL_EFORMAT, "_rebuild_tensor_v2 argument %zu is a %s, not a dict", i + 1,
                        dl_pk_kind_name(a->items[i]->kind));
    t->storage = (dl_pk_obj *)s;
    t->i = off->i;
    t->ndim = (int)sz->n;
    return push(m, t);
}

static dl_status op_reduce(vm *m)
{
    dl_pk_obj *args, *fn;
    dl_status st;
    if ((st = pop(m, &args)) != DL_OK || (st = pop(m, &fn)) != DL_OK)
        return st;
    if (fn->kind != DL_PK_GLOBAL)
        return fail(m, DL_EFORMAT, "REDUCE of a %s, which is not an allowed callable",
                    dl_pk_kind_name(fn->kind));
    if (args->kind != DL_PK_TUPLE)
        return fail(m, DL_EFORMAT, "REDUCE arguments are a %s, not a tuple",
                    dl_pk_kind_name(args->kind));
    switch (fn->global) {
    case DL_PK_G_ORDERED_DICT:
        if (args->n != 0)
            return fail(m, DL_EFORMAT,
                        "REDUCE of collections.OrderedDict with %zu arguments (only () allowed)",
                        args->n);
        return push(m, new_obj(m, DL_PK_DICT));
    case DL_PK_G_REBUILD_TENSOR_V2:
        return rebuild_tensor(m, args);
    case DL_PK_G_REBUILD_PARAMETER:
        if (args->n < 2 || args->items[0]->kind != DL_PK_TENSOR)
            return fail(m, DL_EFORMAT, "_rebuild_parameter needs (tensor, requires_grad, ...)");
        return push(m, args->items[0]);
    case DL_PK_G_STORAGE:
        break;
    }
    return fail(m, DL_EFORMAT, "REDUCE of torch.%s, which is not an allowed callable",
                dl_pk_stype_name(fn->stype));
}

static dl_status op_binpersid(vm *m)
{
    dl_pk_obj *pid;
    dl_status st = pop(m, &pid);
    if (st != DL_OK)
        return st;
    if (pid->kind != DL_PK_TUPLE || pid->n != 5 || pid->items[0]->kind != DL_PK_STR ||
        strcmp(pid->items[0]->s, "storage") != 0 || pid->items[1]->kind != DL_PK_GLOBAL ||
        pid->items[1]->global != DL_PK_G_STORAGE || pid->items[2]->kind != DL_PK_STR ||
        pid->items[3]->kind != DL_PK_STR || pid->items[4]->kind != DL_PK_INT ||
        pid->items[4]->i < 0)
        return fail(
            m, DL_EFORMAT,
            "BINPERSID needs ('storage', <torch storage type>, key, location, numel), got a %s",
            dl_pk_kind_name(pid->kind));
    dl_pk_obj *s = new_obj(m, DL_PK_STORAGE);
    if (!s)
        return fail(m, DL_ENOMEM, "out of memory");
    s->stype = pid->items[1]->stype;
    s->s = pid->items[2]->s; /* shared with the key string; the arena frees it once */
    s->slen = pid->items[2]->slen;
    s->i = pid->items[4]->i;
    return push(m, s);
}

static dl_status step(vm *m, unsigned char op, int *stop)
{
    dl_status st;
    dl_pk_obj *o;
    switch (op) {
    case 0x80:
        if ((st = need(m, 1)) != DL_OK)
            return st;
        if (m->b[m->pos] > 5)
            return fail(m, DL_EFORMAT, "pickle protocol %u is unknown", m->b[m->pos]);
        m->pos++;
        return DL_OK;
    case 'c':
        return op_global(m);
    case 'q':
        return op_put(m, 1);
    case 'r':
        return op_put(m, 4);
    case 'h':
        return op_get(m, 1);
    case 'j':
        return op_get(m, 4);
    case '(':
        if (m->nmarks == DL_PK_MAX_MARKS)
            return fail(m, DL_EFORMAT, "MARKs nested deeper than %d", DL_PK_MAX_MARKS);
        m->marks[m->nmarks++] = m->sp;
        return DL_OK;
    case 't':
        return op_tuple_mark(m);
    case ')':
        return op_tuple_n(m, 0);
    case 0x85:
        return op_tuple_n(m, 1);
    case 0x86:
        return op_tuple_n(m, 2);
    case 0x87:
        return op_tuple_n(m, 3);
    case '}':
        return push(m, new_obj(m, DL_PK_DICT));
    case ']':
        return push(m, new_obj(m, DL_PK_LIST));
    case 's':
        return op_fill(m, DL_PK_DICT, 0);
    case 'u':
        return op_fill(m, DL_PK_DICT, 1);
    case 'a':
        return op_fill(m, DL_PK_LIST, 0);
    case 'e':
        return op_fill(m, DL_PK_LIST, 1);
    case 'X':
        return read_str(m, 4);
    case 'U':
        return read_str(m, 1);
    case 'K':
    case 'M':
        if ((st = need(m, op == 'K' ? 1 : 2)) != DL_OK)
            return st;
        m->pos += op == 'K' ? 1 : 2;
        return push_int(m, (int64_t)rdle(m->b + m->pos - (op == 'K' ? 1 : 2), op == 'K' ? 1 : 2));
    case 'J':
        if ((st = need(m, 4)) != DL_OK)
            return st;
        m->pos += 4;
        return push_int(m, (int32_t)(uint32_t)rdle(m->b + m->pos - 4, 4));
    case 0x8a: {
        if ((st = need(m, 1)) != DL_OK)
            return st;
        int n = m->b[m->pos++];
        if (n > 8)
            return fail(m, DL_EFORMAT, "LONG1 of %d bytes does not fit in 64 bits", n);
        if ((st = need(m, (size_t)n)) != DL_OK)
            return st;
        uint64_t v = rdle(m->b + m->pos, n);
        if (n > 0 && n < 8 && (m->b[m->pos + n - 1] & 0x80))
            v |= ~(uint64_t)0 << (8 * n); /* sign-extend two's complement */
        m->pos += (size_t)n;
        return push_int(m, (int64_t)v);
    }
    case 'G': {
        if ((st = need(m, 8)) != DL_OK)
            return st;
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++)
            bits = bits << 8 | m->b[m->pos + i]; /* big-endian */
        m->pos += 8;
        if (!(o = new_obj(m, DL_PK_FLOAT)))
            return fail(m, DL_ENOMEM, "out of memory");
        memcpy(&o->f, &bits, 8);
        return push(m, o);
    }
    case 0x88:
    case 0x89:
        if ((o = new_obj(m, DL_PK_BOOL)))
            o->i = op == 0x88;
        return push(m, o);
    case 'N':
        return push(m, new_obj(m, DL_PK_NONE));
    case 'R':
        return op_reduce(m);
    case 'Q':
        return op_binpersid(m);
    case 'b': {
        dl_pk_obj *state, *target;
        if ((st = pop(m, &state)) != DL_OK || (st = top(m, &target)) != DL_OK)
            return st;
        if (target->kind != DL_PK_DICT)
            return fail(m, DL_EFORMAT, "BUILD on a %s (only a dict's attributes may be set)",
                        dl_pk_kind_name(target->kind));
        return DL_OK; /* the OrderedDict's _metadata: module versions, not needed */
    }
    case '.':
        *stop = 1;
        return DL_OK;
    default:
        return fail(m, DL_EFORMAT, "opcode %s (0x%02x) is not allowed in a state dict", opname(op),
                    op);
    }
}

static void arena_free(arena *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        dl_pk_obj *o = a->objs[i];
        if (o->kind != DL_PK_STORAGE)
            free(o->s); /* a storage borrows its key string */
        free(o->items);
        free(o);
    }
    free(a->objs);
    free(a);
}

void dl_pickle_free(dl_pickle *pk)
{
    arena_free(pk->arena);
    pk->arena = NULL;
    pk->root = NULL;
}

dl_status dl_pickle_load(dl_pickle *pk, const void *buf, size_t len, const char *name, dl_err *err)
{
    pk->root = NULL;
    pk->arena = calloc(1, sizeof(arena));
    if (!pk->arena)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    vm m = {.b = buf, .len = len, .name = name ? name : "<pickle>", .ar = pk->arena, .err = err};
    dl_status st = DL_OK;
    int stop = 0;
    while (!stop) {
        if (m.pos >= m.len) {
            m.op_at = m.pos;
            st = fail(&m, DL_EFORMAT, "pickle ends without STOP (truncated)");
            break;
        }
        m.op_at = m.pos;
        unsigned char op = m.b[m.pos++];
        if ((st = step(&m, op, &stop)) != DL_OK)
            break;
    }
    if (st == DL_OK) {
        if (m.sp != 1 || m.nmarks)
            st = fail(&m, DL_EFORMAT,
                      "STOP with %zu values and %zu open MARKs on the stack (expected one value)",
                      m.sp, m.nmarks);
        else
            pk->root = m.stack[0];
    }
    free(m.stack);
    free(m.memo);
    if (st != DL_OK)
        dl_pickle_free(pk);
    return st;
}

const dl_pk_obj *dl_pk_dict_get(const dl_pk_obj *dict, const char *key)
{
    if (!dict || dict->kind != DL_PK_DICT)
        return NULL;
    size_t kl = strlen(key);
    const dl_pk_obj *found = NULL;
    for (size_t i = 0; i + 1 < dict->n; i += 2) {
        const dl_pk_obj *k = dict->items[i];
        if (k->kind == DL_PK_STR && k->slen == kl && memcmp(k->s, key, kl) == 0)
            found = dict->items[i + 1]; /* the last assignment wins, as in Python */
    }
    return found;
}
