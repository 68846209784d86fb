/* pickle: a restricted unpickler for PyTorch state dicts. A small stack machine that builds plain
 * data (none, bool, int, float, str, tuple, list, dict) and two torch descriptions (storage
 * reference, tensor view); it never calls anything. It accepts only the opcodes a state dict
 * needs (PROTO GLOBAL BINPUT LONG_BINPUT BINGET LONG_BINGET MARK TUPLE TUPLE1-3 EMPTY_TUPLE
 * EMPTY_DICT EMPTY_LIST SETITEM SETITEMS APPEND APPENDS BINUNICODE SHORT_BINSTRING BININT1 BININT2
 * BININT LONG1 BINFLOAT NEWFALSE NEWTRUE NONE REDUCE BINPERSID BUILD STOP) and only the globals
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and
 * torch.<Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool>Storage. Anything else
 * (os.system, builtins.eval, REDUCE of another callable, BUILD on anything but a dict, ...) is
 * refused with a message naming the opcode or global and its byte offset. Memo size, stack depth,
 * MARK nesting, string length and object count are limited. */
#ifndef DL_IO_PICKLE_H
#define DL_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/tensor.h"

#define DL_PK_MAX_MEMO 1000000
#define DL_PK_MAX_STACK 1000000
#define DL_PK_MAX_MARKS 1000
#define DL_PK_MAX_STR (1 << 20)

typedef enum dl_pk_kind {
    DL_PK_NONE,
    DL_PK_BOOL,
    DL_PK_INT,
    DL_PK_FLOAT,
    DL_PK_STR,
    DL_PK_TUPLE,
    DL_PK_LIST,
    DL_PK_DICT,
    DL_PK_GLOBAL,
    DL_PK_STORAGE,
    DL_PK_TENSOR
} dl_pk_kind;

/* Storage element types, as torch's legacy storage classes name them. */
typedef enum dl_pk_stype {
    DL_PK_S_FLOAT,
    DL_PK_S_DOUBLE,
    DL_PK_S_HALF,
    DL_PK_S_BFLOAT16,
    DL_PK_S_LONG,
    DL_PK_S_INT32,
    DL_PK_S_SHORT,
    DL_PK_S_CHAR,
    DL_PK_S_BYTE,
    DL_PK_S_BOOLS
} dl_pk_stype;

/* Allowlisted globals. */
typedef enum dl_pk_global {
    DL_PK_G_ORDERED_DICT,
    DL_PK_G_REBUILD_TENSOR_V2,
    DL_PK_G_REBUILD_PARAMETER,
    DL_PK_G_STORAGE
} dl_pk_global;

typedef struct dl_pk_obj dl_pk_obj;
struct dl_pk_obj {
    dl_pk_kind kind;
    int64_t i; /* BOOL/INT value; STORAGE numel; TENSOR storage offset */
    double f;  /* FLOAT */
    char *s;   /* STR (NUL-terminated, may hold NULs: see slen); STORAGE key */
    size_t slen;
    dl_pk_obj **items;   /* TUPLE/LIST items; DICT keys and values interleaved (k0 v0 k1 v1 ...) */
    size_t n, cap;       /* n items (DICT: n pairs * 2) */
    dl_pk_global global; /* GLOBAL */
    dl_pk_stype stype;   /* GLOBAL of a storage type; STORAGE */
    dl_pk_obj *storage;  /* TENSOR */
    int ndim;            /* TENSOR */
    int64_t size[DL_MAX_DIMS], stride[DL_MAX_DIMS];
};

typedef struct dl_pickle {
    dl_pk_obj *root;
    void *arena; /* every object, freed together */
} dl_pickle;

/* Runs the restricted machine over buf[0..len); name is used in messages. */
dl_status dl_pickle_load(dl_pickle *pk, const void *buf, size_t len, const char *name, dl_err *err);
void dl_pickle_free(dl_pickle *pk);
/* The value stored under the str key in a DICT, or NULL. */
const dl_pk_obj *dl_pk_dict_get(const dl_pk_obj *dict, const char *key);
const char *dl_pk_kind_name(dl_pk_kind k);
size_t dl_pk_stype_size(dl_pk_stype t);
const char *dl_pk_stype_name(dl_pk_stype t);

#endif
