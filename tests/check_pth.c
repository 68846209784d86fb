/* check_pth: the .pth importer, the zip reader and the restricted unpickler, on fixtures made by
 * tests/gen/mkfix_pth.py. Real torch.save files must give exactly the tensors PyTorch holds
 * (compared bit for bit with the same state dict written as safetensors); every hostile file must
 * be refused with DL_EFORMAT/DL_EUNSUPPORTED and a message naming what was wrong and where. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/io/pickle.h"
#include "core/io/pth.h"
#include "core/io/read_file.h"
#include "core/io/safetensors.h"
#include "core/io/weights.h"
#include "core/io/zip.h"
#include "tests/testutil.h"

static void assert_same(const dl_tensor_map *got, const dl_tensor_map *want)
{
    ck_assert_uint_eq(got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const dl_named_tensor *g = &got->items[i], *w = &want->items[i];
        ck_assert_str_eq(g->name, w->name); /* state-dict order is kept */
        ck_assert_msg(g->dtype == w->dtype, "%s: dtype %s, want %s", w->name,
                      dl_dtype_name(g->dtype), dl_dtype_name(w->dtype));
        char a[64], b[64];
        ck_assert_msg(dl_shape_equal(g->ndim, g->shape, w->ndim, w->shape), "%s: shape %s, want %s",
                      w->name, dl_shape_str(g->ndim, g->shape, a, sizeof a),
                      dl_shape_str(w->ndim, w->shape, b, sizeof b));
        size_t bytes = (size_t)dl_shape_numel(w->ndim, w->shape) * dl_dtype_size(w->dtype);
        ck_assert_msg(memcmp(g->data, w->data, bytes) == 0, "%s: values differ", w->name);
    }
}

static void check_against_expectation(const char *pth, const char *expect)
{
    dl_tensor_map got, want;
    dl_tensor_map_init(&got);
    dl_tensor_map_init(&want);
    dl_err err = {0};
    ck_assert_msg(dl_pth_read(tu_fixture(pth), &got, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_safetensors_read(tu_fixture(expect), &want, &err) == DL_OK, "%s", err.msg);
    assert_same(&got, &want);
    dl_tensor_map_free(&got);
    dl_tensor_map_free(&want);
}

START_TEST(tiny_resnet_matches_pytorch)
{
    check_against_expectation("pth/tiny_resnet.pth", "pth/tiny_resnet_expect.safetensors");
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err;
    ck_assert_int_eq(dl_pth_read(tu_fixture("pth/tiny_resnet.pth"), &m, &err), DL_OK);
    const dl_named_tensor *t = dl_tensor_map_get(&m, "layer2.0.downsample.1.num_batches_tracked");
    ck_assert(t && t->dtype == DL_DTYPE_I64 && t->ndim == 0 && *(int64_t *)t->data == 1);
    ck_assert(dl_tensor_map_get(&m, "layer4.0.conv2.weight"));
    ck_assert_str_eq(m.items[0].name, "conv1.weight");
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(views_sharing_storage_are_copied_out)
{
    check_against_expectation("pth/views.pth", "pth/views_expect.safetensors");
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err;
    ck_assert_int_eq(dl_pth_read(tu_fixture("pth/views.pth"), &m, &err), DL_OK);
    const dl_named_tensor *s = dl_tensor_map_get(&m, "step"),
                          *tr = dl_tensor_map_get(&m, "transposed");
    /* base = arange(24)*0.25-3; step = base[2:20:3]; transposed = base.view(4,6).t() */
    ck_assert_int_eq(s->shape[0], 6);
    ck_assert(((float *)s->data)[1] == 5 * 0.25f - 3.0f);
    ck_assert(tr->shape[0] == 6 && tr->shape[1] == 4);
    ck_assert(((float *)tr->data)[1] == 6 * 0.25f - 3.0f);
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(half_bf16_double_long_storages_convert)
{
    check_against_expectation("pth/dtypes.pth", "pth/dtypes_expect.safetensors");
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err;
    ck_assert_int_eq(dl_pth_read(tu_fixture("pth/dtypes.pth"), &m, &err), DL_OK);
    const dl_named_tensor *i = dl_tensor_map_get(&m, "i64"), *h = dl_tensor_map_get(&m, "half");
    ck_assert_int_eq(i->dtype, DL_DTYPE_F32); /* int64 stays int64 only for num_batches_tracked */
    ck_assert(((float *)i->data)[2] == 1099511627776.0f);
    ck_assert(((float *)h->data)[2] == 65504.0f);
    ck_assert_int_eq(dl_tensor_map_get(&m, "bn.num_batches_tracked")->dtype, DL_DTYPE_I64);
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(nested_checkpoints_are_looked_into_one_level)
{
    const char *files[2] = {"pth/nested_state_dict.pth", "pth/nested_model.pth"};
    for (int f = 0; f < 2; f++) {
        dl_tensor_map m;
        dl_tensor_map_init(&m);
        dl_err err = {0};
        ck_assert_msg(dl_pth_read(tu_fixture(files[f]), &m, &err) == DL_OK, "%s", err.msg);
        ck_assert_uint_eq(m.n, 2);
        ck_assert(((float *)dl_tensor_map_get(&m, "a.weight")->data)[3] == 1.0f);
        dl_tensor_map_free(&m);
    }
}
END_TEST

typedef struct bad_case {
    const char *file;
    dl_status code;
    const char *frag1, *frag2;
} bad_case;

static const bad_case bad_cases[] = {
    {"nested_unknown.pth", DL_EFORMAT, "'weights' (dict)", "'epoch' (int)"},
    {"legacy_pickle.pth", DL_EUNSUPPORTED, "legacy", "torch.save(torch.load(p), p)"},
    {"legacy_tar.pth", DL_EUNSUPPORTED, "tar format", "torch.save(torch.load(p), p)"},
    {"hostile_os_system.pth", DL_EFORMAT, "GLOBAL os.system is not allowed", "pickle byte 2"},
    {"hostile_builtins_eval.pth", DL_EFORMAT, "GLOBAL builtins.eval", "pickle byte 2"},
    {"hostile_posix_system.pth", DL_EFORMAT, "GLOBAL posix.system", "pickle byte 2"},
    {"hostile_reduce_storage.pth", DL_EFORMAT, "REDUCE of torch.FloatStorage", "byte 25"},
    {"hostile_reduce_str.pth", DL_EFORMAT, "REDUCE of a str", "byte 9"},
    {"hostile_build_list.pth", DL_EFORMAT, "BUILD on a list", "byte 4"},
    {"hostile_stack_global.pth", DL_EFORMAT, "STACK_GLOBAL", "not allowed"},
    {"hostile_inst.pth", DL_EFORMAT, "opcode INST", "byte 3"},
    {"hostile_deep_marks.pth", DL_EFORMAT, "MARKs nested deeper than 1000", "byte 1002"},
    {"hostile_huge_string.pth", DL_EFORMAT, "exceeds the limit", "byte 2"},
    {"hostile_truncated_unicode.pth", DL_EFORMAT, "BINUNICODE is truncated", "byte 3"},
    {"hostile_binget.pth", DL_EFORMAT, "BINGET of memo 9", "byte 3"},
    {"hostile_no_stop.pth", DL_EFORMAT, "without STOP", NULL},
    {"hostile_huge_dims.pth", DL_EFORMAT, "tensor 'w'", "overflows"},
    {"hostile_huge_numel.pth", DL_EFORMAT, "tensor 'w'", "too many"},
    {"hostile_numel_mismatch.pth", DL_EFORMAT, "tensor 'w'", "holds 16 bytes but declares 8"},
    {"hostile_stride_past_end.pth", DL_EFORMAT, "tensor 'w'",
     "reaches element 4 of a storage of 4"},
    {"hostile_negative_stride.pth", DL_EFORMAT, "tensor 'w'", "negative"},
    {"hostile_missing_storage.pth", DL_EFORMAT, "tensor 'w'", "'archive/data/7' is missing"},
    {"hostile_storage_path.pth", DL_EFORMAT, "tensor 'w'", "not a plain name"},
    {"hostile_overlap.pth", DL_EFORMAT, "'archive/data/0' and 'archive/data/1' overlap", NULL},
    {"hostile_stored_sizes.pth", DL_EFORMAT, "'archive/data/0' is stored but its sizes disagree",
     NULL},
    {"hostile_lying_deflate.pth", DL_EFORMAT,
     "'archive/data/0' inflates to more bytes than declared", NULL},
    {"hostile_zip_bomb.pth", DL_EFORMAT, "'archive/data/0' inflates to more bytes than declared",
     "zip bomb"},
    {"hostile_zip64_huge.pth", DL_EFORMAT, "'archive/data/0' declares 1099511627776 bytes",
     "limit"},
    {"hostile_ratio.pth", DL_EFORMAT, "'archive/data/0' claims 104857600 bytes from", "zip bomb"},
    {"hostile_broadcast.pth", DL_EFORMAT, "tensor 'w'", "broadcast views"},
    {"hostile_bigendian.pth", DL_EUNSUPPORTED, "saved big-endian", NULL},
    {"hostile_method12.pth", DL_EUNSUPPORTED, "'archive/data.pkl' uses compression method 12",
     NULL},
    {"hostile_cd_past_eof.pth", DL_EFORMAT, "central directory", "outside the archive"},
    {"hostile_crc.pth", DL_EFORMAT, "'archive/data/0': CRC mismatch", "tensor 'w'"},
    {"hostile_truncated.pth", DL_EFORMAT, "end-of-central-directory", "truncated"},
    {"hostile_no_pickle.pth", DL_EFORMAT, "no data.pkl", NULL},
    {"hostile_not_dict.pth", DL_EFORMAT, "holds a list, not a state dict", NULL},
};

START_TEST(hostile_and_legacy_files_are_refused)
{
    const bad_case *c = &bad_cases[_i];
    char rel[128];
    snprintf(rel, sizeof rel, "pth/%s", c->file);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    dl_status st = dl_pth_read(tu_fixture(rel), &m, &err);
    ck_assert_msg(st == c->code, "%s: expected %s, got %s: %s", c->file, dl_status_name(c->code),
                  dl_status_name(st), err.msg);
    ck_assert_msg(strstr(err.msg, c->file), "%s: message lacks the file name: %s", c->file,
                  err.msg);
    ck_assert_msg(strstr(err.msg, c->frag1), "%s: message lacks '%s': %s", c->file, c->frag1,
                  err.msg);
    if (c->frag2)
        ck_assert_msg(strstr(err.msg, c->frag2), "%s: message lacks '%s': %s", c->file, c->frag2,
                      err.msg);
    ck_assert_uint_eq(m.n, 0);
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(zip_reader_handles_torch_archives)
{
    /* torch.save writes ZIP64 records, zero sizes in local headers and 64-byte aligned data. */
    void *buf;
    size_t len;
    dl_err err = {0};
    ck_assert_int_eq(dl_file_read(tu_fixture("pth/tiny_resnet.pth"), SIZE_MAX, "a weight file",
                                  &buf, &len, &err),
                     DL_OK);
    dl_zip z;
    ck_assert_msg(dl_zip_open(&z, buf, len, "tiny", &err) == DL_OK, "%s", err.msg);
    const dl_zip_entry *pkl = dl_zip_find(&z, "tiny_resnet/data.pkl"),
                       *v = dl_zip_find(&z, "tiny_resnet/version");
    ck_assert(pkl && v);
    ck_assert_uint_eq(pkl->data_offset % 64, 0);
    const unsigned char *d;
    void *owned;
    ck_assert_int_eq(dl_zip_extract(&z, v, 100, &d, &owned, &err), DL_OK);
    ck_assert(owned == NULL && v->usize == 2 && memcmp(d, "3\n", 2) == 0);
    ck_assert_int_eq(dl_zip_extract(&z, pkl, 10, &d, &owned, &err),
                     DL_EFORMAT); /* above the caller's cap */
    ck_assert(strstr(err.msg, "limit of 10"));
    dl_zip_close(&z);
    /* Every truncation of the archive is refused cleanly, never read past. */
    for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
        void *part = malloc(cut ? cut : 1);
        memcpy(part, buf, cut);
        dl_tensor_map m;
        dl_tensor_map_init(&m);
        ck_assert_int_ne(dl_pth_parse(part, cut, "cut", &m, &err), DL_OK);
        dl_tensor_map_free(&m);
        free(part);
    }
    free(buf);
}
END_TEST

static dl_status load_bytes(const char *bytes, size_t n, dl_pickle *pk, dl_err *err)
{
    return dl_pickle_load(pk, bytes, n, "t.pkl", err);
}

START_TEST(pickle_machine_builds_plain_data)
{
    /* {'a': (1, -2, 300, -5, 1.5, True, None), 'b': L} where L = ['x', L, 0]:
     * BININT1/BININT/BININT2, LONG1, BINFLOAT, NEWTRUE, NONE, memo PUT/GET, APPENDS, SETITEMS */
    static const char p[] = "\x80\x02}q\x00(X\x01\x00\x00\x00"
                            "a(K\x01J\xfe\xff\xff\xffM\x2c\x01\x8a\x01\xfb"
                            "G\x3f\xf8\x00\x00\x00\x00\x00\x00\x88NtX\x01\x00\x00\x00"
                            "b]q\x01(U\x01xh\x01"
                            "\x8a\x00"
                            "eu.";
    dl_pickle pk;
    dl_err err = {0};
    ck_assert_msg(load_bytes(p, sizeof p - 1, &pk, &err) == DL_OK, "%s", err.msg);
    const dl_pk_obj *a = dl_pk_dict_get(pk.root, "a"), *b = dl_pk_dict_get(pk.root, "b");
    ck_assert(a && a->kind == DL_PK_TUPLE && a->n == 7);
    ck_assert_int_eq(a->items[0]->i, 1);
    ck_assert_int_eq(a->items[1]->i, -2);
    ck_assert_int_eq(a->items[2]->i, 300);
    ck_assert_int_eq(a->items[3]->i, -5);
    ck_assert(a->items[4]->kind == DL_PK_FLOAT && a->items[4]->f == 1.5);
    ck_assert(a->items[5]->kind == DL_PK_BOOL && a->items[5]->i == 1);
    ck_assert(a->items[6]->kind == DL_PK_NONE);
    /* b is the list itself (memo 1 refers to it), holding 'x' and 0 */
    ck_assert(b && b->kind == DL_PK_LIST && b->n == 3);
    ck_assert_str_eq(b->items[0]->s, "x");
    ck_assert(b->items[1] == b);
    ck_assert_int_eq(b->items[2]->i, 0);
    dl_pickle_free(&pk);
}
END_TEST

START_TEST(pickle_machine_refuses_bad_stack_use)
{
    static const struct {
        const char *p;
        size_t n;
        const char *frag;
    } cases[] = {
        {"\x80\x02(u.", 5, "SETITEMS on a missing value"},
        {"\x80\x02}(K\x01u.", 8, "odd number"},
        {"\x80\x02t.", 4, "TUPLE without a MARK"},
        {"\x80\x02}(0.", 6, "opcode POP"},
        {"\x80\x02K\x01K\x02.", 7, "STOP with 2 values"},
        {"\x80\x02(K\x01\x86.", 7, "TUPLE2 needs 2 values"},
        {"\x80\x09.", 3, "protocol 9"},
        {"\x80\x02\x8a\x09", 4, "LONG1 of 9 bytes"},
        {"\x80\x02}N\x85"
         "b.",
         7, "BUILD on a dict"},
        {"\x80\x02}s.", 5, "SETITEM needs a key and a value"},
        {"\x80\x02"
         "a.",
         4, "APPEND needs a value"},
        {"\x80\x02}K\x01"
         "a.",
         7, "APPEND on a dict, not a list"},
        {"\x80\x02](K\x01K\x02u.", 10, "SETITEMS on a list, not a dict"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dl_pickle pk;
        dl_err err = {0};
        dl_status st = load_bytes(cases[i].p, cases[i].n, &pk, &err);
        if (i == 8) { /* BUILD on a dict is what every state dict ends with: accepted */
            ck_assert_msg(st == DL_OK, "%s", err.msg);
            dl_pickle_free(&pk);
            continue;
        }
        ck_assert_msg(st == DL_EFORMAT, "case %zu accepted", i);
        ck_assert_msg(strstr(err.msg, cases[i].frag), "case %zu: '%s' not in %s", i, cases[i].frag,
                      err.msg);
        ck_assert(strstr(err.msg, "t.pkl: pickle byte"));
    }
}
END_TEST

START_TEST(weights_read_dispatches_on_content)
{
    dl_tensor_map a, b;
    dl_tensor_map_init(&a);
    dl_tensor_map_init(&b);
    dl_err err = {0};
    ck_assert_msg(dl_weights_read(tu_fixture("pth/views.pth"), &a, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_weights_read(tu_fixture("pth/views_expect.safetensors"), &b, &err) == DL_OK,
                  "%s", err.msg);
    assert_same(&a, &b);
    dl_tensor_map_free(&a);
    ck_assert_int_eq(dl_weights_read(tu_fixture("pth/legacy_pickle.pth"), &a, &err),
                     DL_EUNSUPPORTED);
    ck_assert_int_eq(dl_weights_read(tu_fixture("pth/hostile_os_system.pth"), &a, &err),
                     DL_EFORMAT);
    /* Not a weight file at all: the safetensors reader explains. */
    static const char junk[] = "hello, this is not a weight file";
    ck_assert_int_eq(dl_weights_parse(junk, sizeof junk, "junk.bin", &a, &err), DL_EFORMAT);
    ck_assert(strstr(err.msg, "junk.bin"));
    ck_assert_int_eq(dl_weights_sniff("\x80\x02\x8a\x0a", 4), DL_WEIGHTS_PTH);
    dl_tensor_map_free(&a);
    dl_tensor_map_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pth");
    TCase *tc = tcase_create("pth");
    tcase_add_test(tc, tiny_resnet_matches_pytorch);
    tcase_add_test(tc, views_sharing_storage_are_copied_out);
    tcase_add_test(tc, half_bf16_double_long_storages_convert);
    tcase_add_test(tc, nested_checkpoints_are_looked_into_one_level);
    tcase_add_loop_test(tc, hostile_and_legacy_files_are_refused, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, zip_reader_handles_torch_archives);
    tcase_add_test(tc, pickle_machine_builds_plain_data);
    tcase_add_test(tc, pickle_machine_refuses_bad_stack_use);
    tcase_add_test(tc, weights_read_dispatches_on_content);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
