/* check_safetensors: the safetensors reader and writer. Round trips are bit-exact, F16/BF16/F64
 * convert to known float32 values, every malformed file (built here byte by byte) is refused with a
 * message naming the file and the tensor, and a failed atomic write leaves the old file intact. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io/safetensors.h"
#include "core/tensor_map.h"
#include "tests/testutil.h"

/* Builds a file image: 8-byte length, the JSON header as given, then nbytes of data (0..n-1). */
static unsigned char *mkfile(const char *json, size_t nbytes, size_t *len)
{
    size_t hl = strlen(json);
    *len = 8 + hl + nbytes;
    unsigned char *b = malloc(*len);
    uint64_t le = hl;
    memcpy(b, &le, 8);
    memcpy(b + 8, json, hl);
    for (size_t i = 0; i < nbytes; i++)
        b[8 + hl + i] = (unsigned char)i;
    return b;
}

/* Parses json+data and asserts failure with the given code and every fragment in the message. */
static void expect_reject(const char *json, size_t nbytes, dl_status code, const char *frag1,
                          const char *frag2)
{
    size_t len;
    unsigned char *b = mkfile(json, nbytes, &len);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    dl_status st = dl_safetensors_parse(b, len, "bad.safetensors", &m, &err);
    ck_assert_msg(st == code, "expected %s, got %s (%s) for %s", dl_status_name(code),
                  dl_status_name(st), err.msg, json);
    ck_assert_msg(strstr(err.msg, "bad.safetensors"), "message lacks the file: %s", err.msg);
    if (frag1)
        ck_assert_msg(strstr(err.msg, frag1), "message lacks '%s': %s", frag1, err.msg);
    if (frag2)
        ck_assert_msg(strstr(err.msg, frag2), "message lacks '%s': %s", frag2, err.msg);
    dl_tensor_map_free(&m);
    free(b);
}

static void fill_sample(dl_tensor_map *m)
{
    dl_err err;
    int64_t s1[4] = {2, 3, 1, 2}, s2[1] = {5}, s3[2] = {0, 4};
    float a[12], b[5];
    for (int i = 0; i < 12; i++)
        a[i] = (float)(i * 0.37 - 1.1) * (i % 2 ? 1e-30f : 3e7f); /* tiny and large values */
    for (int i = 0; i < 5; i++)
        b[i] = nextafterf((float)i, 10.0f);
    int64_t nbt = 123456789012345LL;
    ck_assert_int_eq(dl_tensor_map_add(m, "conv1.weight", DL_DTYPE_F32, 4, s1, a, &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_add(m, "bn1.bias", DL_DTYPE_F32, 1, s2, b, &err), DL_OK);
    ck_assert_int_eq(
        dl_tensor_map_add(m, "bn1.num_batches_tracked", DL_DTYPE_I64, 0, s2, &nbt, &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_add(m, "empty", DL_DTYPE_F32, 2, s3, NULL, &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_set_meta(m, "format", "dllab", &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_set_meta(m, "arch", "resnet34", &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_set_meta(m, "classes", "[\"cat\", \"dog\"]", &err), DL_OK);
}

static void assert_maps_identical(const dl_tensor_map *a, const dl_tensor_map *b)
{
    ck_assert_uint_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const dl_named_tensor *x = &a->items[i], *y = &b->items[i];
        ck_assert_str_eq(x->name, y->name); /* map order is preserved */
        ck_assert_int_eq(x->dtype, y->dtype);
        ck_assert(dl_shape_equal(x->ndim, x->shape, y->ndim, y->shape));
        size_t bytes = (size_t)dl_shape_numel(x->ndim, x->shape) * dl_dtype_size(x->dtype);
        ck_assert_int_eq(memcmp(x->data, y->data, bytes), 0);
    }
    ck_assert_uint_eq(a->n_meta, b->n_meta);
    for (size_t i = 0; i < a->n_meta; i++)
        ck_assert_str_eq(dl_tensor_map_get_meta(b, a->meta[i].key), a->meta[i].value);
}

START_TEST(round_trip_is_bit_exact_with_metadata)
{
    dl_tensor_map m, r;
    dl_tensor_map_init(&m);
    dl_tensor_map_init(&r);
    fill_sample(&m);
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    dl_err err = {0};
    ck_assert_msg(dl_safetensors_write(path, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_safetensors_read(path, &r, &err) == DL_OK, "%s", err.msg);
    assert_maps_identical(&m, &r);
    const dl_named_tensor *t = dl_tensor_map_get(&r, "bn1.num_batches_tracked");
    ck_assert_int_eq(t->ndim, 0);
    ck_assert_int_eq(*(int64_t *)t->data, 123456789012345LL);
    /* Writing the read map again yields the same bytes. */
    void *b1, *b2;
    size_t l1, l2;
    ck_assert_int_eq(dl_safetensors_serialize(&m, &b1, &l1, &err), DL_OK);
    ck_assert_int_eq(dl_safetensors_serialize(&r, &b2, &l2, &err), DL_OK);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(b1, b2, l1), 0);
    free(b1);
    free(b2);
    dl_tensor_map_free(&m);
    dl_tensor_map_free(&r);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(header_is_space_padded_to_8_and_lists_metadata_first)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    fill_sample(&m);
    void *buf;
    size_t len;
    dl_err err;
    ck_assert_int_eq(dl_safetensors_serialize(&m, &buf, &len, &err), DL_OK);
    uint64_t hl;
    memcpy(&hl, buf, 8);
    ck_assert_uint_eq(hl % 8, 0);
    const char *h = (const char *)buf + 8;
    ck_assert_int_eq(h[0], '{');
    ck_assert(strncmp(h, "{\"__metadata__\":", 16) == 0);
    size_t i = hl;
    while (i > 0 && h[i - 1] == ' ')
        i--;
    ck_assert_int_eq(h[i - 1], '}');
    ck_assert_uint_eq(len, 8 + hl + 12 * 4 + 5 * 4 + 8);
    dl_tensor_map_free(&m);
    free(buf);
}
END_TEST

START_TEST(leading_and_trailing_whitespace_in_header_are_accepted)
{
    size_t len;
    unsigned char *b =
        mkfile("  {\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}   ", 4, &len);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    ck_assert_msg(dl_safetensors_parse(b, len, "ws", &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_uint_eq(m.n, 1);
    dl_tensor_map_free(&m);
    free(b);
}
END_TEST

START_TEST(f16_bf16_f64_convert_to_known_values)
{
    /* F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), inf, 0.333251953125 (0x3555).
     * BF16: 1.0 (0x3f80), -3.140625 (0xc049). F64: 0.1 -> 0.1f, -1e300 -> -inf. */
    uint16_t f16[6] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555};
    uint16_t bf16[2] = {0x3f80, 0xc049};
    double f64[2] = {0.1, -1e300};
    const char *json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                       "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[16,32]}}";
    size_t len;
    unsigned char *b = mkfile(json, 32, &len);
    unsigned char *data = b + 8 + strlen(json);
    memcpy(data, f16, 12);
    memcpy(data + 12, bf16, 4);
    memcpy(data + 16, f64, 16);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    ck_assert_msg(dl_safetensors_parse(b, len, "conv", &m, &err) == DL_OK, "%s", err.msg);
    const dl_named_tensor *h = dl_tensor_map_get(&m, "h"), *bb = dl_tensor_map_get(&m, "b"),
                          *d = dl_tensor_map_get(&m, "d");
    ck_assert(h && bb && d);
    ck_assert_int_eq(h->dtype, DL_DTYPE_F32);
    const float *hf = h->data, *bf = bb->data, *df = d->data;
    ck_assert(hf[0] == 1.0f && hf[1] == -2.0f && hf[2] == 65504.0f);
    ck_assert(hf[3] == ldexpf(1.0f, -24));
    ck_assert(isinf(hf[4]) && hf[4] > 0);
    ck_assert(hf[5] == 0.333251953125f);
    ck_assert(bf[0] == 1.0f && bf[1] == -3.140625f);
    ck_assert(df[0] == 0.1f);
    ck_assert(isinf(df[1]) && df[1] < 0);
    dl_tensor_map_free(&m);
    free(b);
}
END_TEST

START_TEST(corrupt_files_are_rejected_with_their_message)
{
    /* truncated, too short for the length */
    {
        unsigned char b[5] = {1, 2, 3, 4, 5};
        dl_tensor_map m;
        dl_tensor_map_init(&m);
        dl_err err = {0};
        ck_assert_int_eq(dl_safetensors_parse(b, 5, "bad.safetensors", &m, &err), DL_EFORMAT);
        ck_assert(strstr(err.msg, "bad.safetensors") && strstr(err.msg, "truncated"));
    }
    /* header length larger than the file, and absurd */
    {
        unsigned char b[16] = {0};
        uint64_t hl = 100;
        memcpy(b, &hl, 8);
        dl_tensor_map m;
        dl_tensor_map_init(&m);
        dl_err err = {0};
        ck_assert_int_eq(dl_safetensors_parse(b, 16, "bad.safetensors", &m, &err), DL_EFORMAT);
        ck_assert_msg(strstr(err.msg, "larger than the file"), "%s", err.msg);
        hl = 200000000;
        memcpy(b, &hl, 8);
        ck_assert_int_eq(dl_safetensors_parse(b, 16, "bad.safetensors", &m, &err), DL_EFORMAT);
        ck_assert_msg(strstr(err.msg, "absurd"), "%s", err.msg);
    }
    /* the data buffer is cut short: offsets out of range */
    expect_reject("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
                  DL_EFORMAT, "'w'", "out of range");
    expect_reject("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", 4, DL_EFORMAT,
                  "does not parse", NULL);
    expect_reject("[1,2]", 0, DL_EFORMAT, "not a JSON object", NULL);
    expect_reject("{\"w\":[1,2]}", 0, DL_EFORMAT, "'w'", "not a JSON object");
    expect_reject("{\"w\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4,
                  DL_EUNSUPPORTED, "'w'", "'I8'");
    expect_reject("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                  DL_EFORMAT, "'w'", "non-negative");
    expect_reject(
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}",
        4, DL_EFORMAT, "'w'", "overflows");
    expect_reject("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,-1]}}", 8,
                  DL_EFORMAT, "'w'", "out of range");
    expect_reject("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, DL_EFORMAT,
                  "'w'", "shape needs 8");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  12, DL_EFORMAT, "'b'", "overlap tensor 'a'");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                  12, DL_EFORMAT, "'b'", "gap");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12,
                  DL_EFORMAT, "data buffer holds 12", NULL);
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                  8, DL_EFORMAT, "duplicate", "a");
    expect_reject("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, DL_EFORMAT, "'w'", "dtype");
    expect_reject("{\"__metadata__\":{\"k\":3}}", 0, DL_EFORMAT, "'k'", "not a string");
}
END_TEST

START_TEST(too_many_tensors_are_refused)
{
    /* 70000 entries: refused by count before any of them is looked at. */
    size_t cap = 70000 * 16 + 16, used = 0;
    char *json = malloc(cap);
    used += (size_t)snprintf(json, cap, "{");
    for (int i = 0; i < 70000; i++)
        used += (size_t)snprintf(json + used, cap - used, "%s\"t%d\":{}", i ? "," : "", i);
    snprintf(json + used, cap - used, "}");
    expect_reject(json, 0, DL_EFORMAT, "70000 tensors", "limit 65536");
    free(json);
}
END_TEST

START_TEST(missing_file_is_not_found)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    ck_assert_int_eq(dl_safetensors_read("/nonexistent/x.safetensors", &m, &err), DL_ENOTFOUND);
    ck_assert(strstr(err.msg, "/nonexistent/x.safetensors"));
}
END_TEST

static size_t count_entries(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    ck_assert(fscanf(p, "%zu", &n) == 1);
    pclose(p);
    return n;
}

START_TEST(failed_write_keeps_the_previous_file)
{
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    dl_tensor_map small, big, r;
    dl_tensor_map_init(&small);
    dl_tensor_map_init(&big);
    dl_tensor_map_init(&r);
    fill_sample(&small);
    dl_err err = {0};
    ck_assert_int_eq(dl_safetensors_write(path, &small, &err), DL_OK);
    int64_t shape[1] = {1 << 16};
    ck_assert_int_eq(dl_tensor_map_add(&big, "w", DL_DTYPE_F32, 1, shape, NULL, &err), DL_OK);
    /* Inject a write failure: cap the file size this (forked) test process may write. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    dl_status st = dl_safetensors_write(path, &big, &err);
    ck_assert_int_eq(st, DL_EIO);
    ck_assert_msg(strstr(err.msg, "ck.safetensors"), "%s", err.msg);
    ck_assert_msg(dl_safetensors_read(path, &r, &err) == DL_OK, "%s", err.msg);
    assert_maps_identical(&small, &r);
    ck_assert_uint_eq(count_entries(dir), 1); /* the temporary file was removed */
    /* A folder that does not exist fails cleanly too. */
    snprintf(path, sizeof path, "%s/missing/ck.safetensors", dir);
    ck_assert_int_eq(dl_safetensors_write(path, &small, &err), DL_EIO);
    ck_assert(strstr(err.msg, "missing/ck.safetensors"));
    dl_tensor_map_free(&small);
    dl_tensor_map_free(&big);
    dl_tensor_map_free(&r);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(reads_a_pytorch_written_fixture)
{
    /* tests/gen/mkfix_io.py wrote this from torch tensors, laid out as safetensors.torch does. */
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    ck_assert_msg(dl_safetensors_read(tu_fixture("io/torch_written.safetensors"), &m, &err) ==
                      DL_OK,
                  "%s", err.msg);
    const dl_named_tensor *w = dl_tensor_map_get(&m, "w"), *n = dl_tensor_map_get(&m, "n"),
                          *h = dl_tensor_map_get(&m, "h");
    ck_assert(w && n && h);
    ck_assert_int_eq(w->ndim, 2);
    ck_assert_int_eq(w->shape[0], 2);
    ck_assert_int_eq(w->shape[1], 3);
    for (int i = 0; i < 6; i++)
        ck_assert(((float *)w->data)[i] == (float)i * 0.5f - 1.0f);
    ck_assert_int_eq(n->dtype, DL_DTYPE_I64);
    ck_assert_int_eq(*(int64_t *)n->data, 7);
    ck_assert(((float *)h->data)[1] == 1.5f);
    ck_assert_str_eq(dl_tensor_map_get_meta(&m, "source"), "torch");
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(dllab_layout_matches_the_committed_fixture)
{
    /* tests/gen/mkfix_io.py parses this committed file with PyTorch; serialising the same map today
     * must give the same bytes, so what PyTorch was shown is what dllab writes.
     * DLLAB_REGEN_FIXTURES=1 rewrites it (then rerun the generator). */
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    fill_sample(&m);
    void *buf;
    size_t len;
    dl_err err = {0};
    ck_assert_int_eq(dl_safetensors_serialize(&m, &buf, &len, &err), DL_OK);
    const char *path = tu_fixture("io/dllab_written.safetensors");
    if (getenv("DLLAB_REGEN_FIXTURES"))
        ck_assert_msg(dl_safetensors_write(path, &m, &err) == DL_OK, "%s", err.msg);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    unsigned char *want = malloc(len + 1);
    size_t got = fread(want, 1, len + 1, f);
    fclose(f);
    ck_assert_uint_eq(got, len);
    ck_assert_int_eq(memcmp(want, buf, len), 0);
    free(want);
    free(buf);
    dl_tensor_map_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_add_test(tc, round_trip_is_bit_exact_with_metadata);
    tcase_add_test(tc, header_is_space_padded_to_8_and_lists_metadata_first);
    tcase_add_test(tc, leading_and_trailing_whitespace_in_header_are_accepted);
    tcase_add_test(tc, f16_bf16_f64_convert_to_known_values);
    tcase_add_test(tc, corrupt_files_are_rejected_with_their_message);
    tcase_add_test(tc, too_many_tensors_are_refused);
    tcase_add_test(tc, missing_file_is_not_found);
    tcase_add_test(tc, failed_write_keeps_the_previous_file);
    tcase_add_test(tc, reads_a_pytorch_written_fixture);
    tcase_add_test(tc, dllab_layout_matches_the_committed_fixture);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
