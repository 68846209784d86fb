/* check_core: the foundation: RNG streams, tensor maps, the parameter store and its state-dict
 * import/export rules, and the BLAS kernel decision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas_select.h"
#include "core/file.h"
#include "core/numfmt.h"
#include "core/params.h"
#include "core/rng.h"
#include "core/tensor_map.h"
#include "tests/testutil.h"

START_TEST(rng_streams_are_reproducible_and_distinct)
{
    dl_rng a, b, c;
    dl_rng_seed(&a, 42, 1, 7);
    dl_rng_seed(&b, 42, 1, 7);
    dl_rng_seed(&c, 42, 1, 8);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = dl_rng_u64(&a), y = dl_rng_u64(&b), z = dl_rng_u64(&c);
        ck_assert_uint_eq(x, y);
        same_c += x == z;
    }
    ck_assert_int_lt(same_c, 2);
}
END_TEST

START_TEST(rng_distributions)
{
    dl_rng r;
    dl_rng_seed(&r, 1, 0, 0);
    double s = 0, s2 = 0, su = 0;
    int n = 200000, counts[7] = {0};
    for (int i = 0; i < n; i++) {
        float z = dl_rng_normal(&r);
        s += z;
        s2 += (double)z * z;
        float u = dl_rng_uniform(&r);
        ck_assert(u >= 0.0f && u < 1.0f);
        su += u;
        counts[dl_rng_below(&r, 7)]++;
    }
    ck_assert_double_lt(fabs(s / n), 0.01);
    ck_assert_double_lt(fabs(s2 / n - 1.0), 0.02);
    ck_assert_double_lt(fabs(su / n - 0.5), 0.005);
    for (int k = 0; k < 7; k++)
        ck_assert_int_lt(abs(counts[k] - n / 7), n / 70);
}
END_TEST

START_TEST(rng_shuffle_is_a_permutation)
{
    dl_rng r;
    dl_rng_seed(&r, 3, 0, 0);
    uint32_t idx[100];
    for (uint32_t i = 0; i < 100; i++)
        idx[i] = i;
    dl_rng_shuffle_u32(&r, idx, 100);
    int seen[100] = {0}, moved = 0;
    for (uint32_t i = 0; i < 100; i++) {
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 80);
}
END_TEST

START_TEST(tensor_map_rejects_duplicates_and_keeps_meta)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err;
    int64_t shape[2] = {2, 3};
    float data[6] = {1, 2, 3, 4, 5, 6};
    ck_assert_int_eq(dl_tensor_map_add(&m, "a", DL_DTYPE_F32, 2, shape, data, &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_add(&m, "a", DL_DTYPE_F32, 2, shape, data, &err), DL_EFORMAT);
    ck_assert(strstr(err.msg, "'a'") != NULL);
    const dl_named_tensor *t = dl_tensor_map_get(&m, "a");
    ck_assert_ptr_nonnull(t);
    ck_assert_float_eq(((float *)t->data)[5], 6.0f);
    ck_assert_int_eq(dl_tensor_map_set_meta(&m, "arch", "resnet18", &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_set_meta(&m, "arch", "resnet34", &err), DL_OK);
    ck_assert_str_eq(dl_tensor_map_get_meta(&m, "arch"), "resnet34");
    ck_assert_ptr_null(dl_tensor_map_get_meta(&m, "nope"));
    dl_tensor_map_free(&m);
}
END_TEST

/* A tiny store in state-dict order: conv weight (group 0), bn (group 0), fc (group 1). */
static void tiny_store(dl_params *ps)
{
    dl_params_init(ps);
    int64_t w[4] = {4, 3, 3, 3}, c[1] = {4}, fw[2] = {2, 4}, fb[1] = {2};
    ck_assert_int_ge(dl_params_add(ps, "conv1.weight", 4, w, 0, 0, NULL), 0);
    ck_assert_int_ge(dl_params_add(ps, "bn1.weight", 1, c, 0, DL_PARAM_NORM, NULL), 0);
    ck_assert_int_ge(dl_params_add(ps, "bn1.bias", 1, c, 0, DL_PARAM_NORM | DL_PARAM_BIAS, NULL),
                     0);
    ck_assert_int_ge(dl_params_add_buffer(ps, "bn1.running_mean", DL_ENTRY_BUF_F32, 1, c, NULL), 0);
    ck_assert_int_ge(dl_params_add_buffer(ps, "bn1.running_var", DL_ENTRY_BUF_F32, 1, c, NULL), 0);
    ck_assert_int_ge(
        dl_params_add_buffer(ps, "bn1.num_batches_tracked", DL_ENTRY_BUF_I64, 0, NULL, NULL), 0);
    ck_assert_int_ge(dl_params_add(ps, "fc.weight", 2, fw, 1, 0, NULL), 0);
    ck_assert_int_ge(dl_params_add(ps, "fc.bias", 1, fb, 1, DL_PARAM_BIAS, NULL), 0);
    ck_assert_int_eq(dl_params_finalize(ps, NULL), DL_OK);
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->e[i].kind == DL_ENTRY_PARAM)
            for (size_t j = 0; j < ps->e[i].numel; j++)
                dl_params_data(ps, i)[j] = (float)(i * 100 + j);
        else if (ps->e[i].kind == DL_ENTRY_BUF_F32)
            for (size_t j = 0; j < ps->e[i].numel; j++)
                dl_params_buf(ps, i)[j] = (float)(i * 10 + j);
        else
            dl_params_ibuf(ps, i)[0] = 17;
    }
}

START_TEST(params_layout_and_freeze)
{
    dl_params ps;
    tiny_store(&ps);
    ck_assert_int_eq(ps.n_groups, 2);
    ck_assert_uint_eq(dl_params_count(&ps), 108 + 4 + 4 + 8 + 2);
    for (size_t i = 0; i < ps.n; i++)
        ck_assert_uint_eq(ps.e[i].offset % 16, 0);
    dl_params_freeze_to(&ps, -1);
    ck_assert(!dl_params_trainable(&ps, 0)); /* frozen conv */
    ck_assert(dl_params_trainable(&ps, 1));  /* BN stays trainable (train_bn) */
    ck_assert(!dl_params_trainable(&ps, 3)); /* buffers never are */
    ck_assert(dl_params_trainable(&ps, (size_t)dl_params_find(&ps, "fc.weight")));
    dl_params_freeze_to(&ps, 0);
    ck_assert(dl_params_trainable(&ps, 0));
    dl_params_free(&ps);
}
END_TEST

START_TEST(params_state_dict_round_trip)
{
    dl_params a, b;
    tiny_store(&a);
    dl_params_init(&b);
    tiny_store(&b);
    memset(b.data, 0, b.total * sizeof(float));
    memset(b.buf, 0, b.buf_total * sizeof(float));
    b.ibuf[0] = 0;
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_int_eq(dl_params_to_map(&a, &m, NULL), DL_OK);
    ck_assert_uint_eq(m.n, 8);
    ck_assert_str_eq(m.items[5].name, "bn1.num_batches_tracked");
    ck_assert_int_eq(m.items[5].dtype, DL_DTYPE_I64);
    dl_err err;
    ck_assert_int_eq(dl_params_load_map(&b, &m, NULL, &err), DL_OK);
    ck_assert_mem_eq(a.data, b.data, a.total * sizeof(float));
    ck_assert_mem_eq(a.buf, b.buf, a.buf_total * sizeof(float));
    ck_assert_int_eq(b.ibuf[0], 17);
    dl_tensor_map_free(&m);
    dl_params_free(&a);
    dl_params_free(&b);
}
END_TEST

START_TEST(params_load_reports_missing_unexpected_and_shape)
{
    dl_params a;
    tiny_store(&a);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_int_eq(dl_params_to_map(&a, &m, NULL), DL_OK);
    float before = a.data[0];
    /* a 1000-class fc: shape error names the tensor and both shapes, and leaves the model alone */
    int64_t big[2] = {1000, 4};
    dl_tensor_map m2;
    dl_tensor_map_init(&m2);
    for (size_t i = 0; i < m.n; i++) {
        dl_named_tensor *t = &m.items[i];
        if (strcmp(t->name, "fc.weight") == 0)
            dl_tensor_map_add(&m2, t->name, t->dtype, 2, big, NULL, NULL);
        else if (strcmp(t->name, "bn1.num_batches_tracked") != 0)
            dl_tensor_map_add(&m2, t->name, t->dtype, t->ndim, t->shape, t->data, NULL);
    }
    dl_tensor_map_add(&m2, "extra.weight", DL_DTYPE_F32, 1, big, NULL, NULL);
    a.data[0] = -1;
    dl_err err;
    ck_assert_int_eq(dl_params_load_map(&a, &m2, NULL, &err), DL_ESHAPE);
    ck_assert_msg(strstr(err.msg, "fc.weight") && strstr(err.msg, "(1000, 4)") &&
                      strstr(err.msg, "(2, 4)"),
                  "message: %s", err.msg);
    ck_assert_float_eq(a.data[0], -1);
    /* skipping the head: now the missing counter and the extra key are reported */
    dl_load_opts o = {.skip_prefix = "fc."};
    ck_assert_int_eq(dl_params_load_map(&a, &m2, &o, &err), DL_EFORMAT);
    ck_assert_msg(strstr(err.msg, "bn1.num_batches_tracked") && strstr(err.msg, "extra.weight"),
                  "message: %s", err.msg);
    o.allow_missing_nbt = true;
    o.allow_unexpected = true;
    ck_assert_int_eq(dl_params_load_map(&a, &m2, &o, &err), DL_OK);
    ck_assert_float_eq(a.data[0], before);
    (void)before;
    dl_tensor_map_free(&m);
    dl_tensor_map_free(&m2);
    dl_params_free(&a);
}
END_TEST

/* Synthetic cpuid facts: vendor, leaf 1 ecx, leaf 7.0 ebx, leaf 7.1 eax, xcr0. */
static dl_cpuid_facts cpu(const char *vendor, bool avx2_fma, bool avx512, bool bf16,
                          unsigned long long xcr0)
{
    dl_cpuid_facts f;
    memset(&f, 0, sizeof f);
    snprintf(f.vendor, sizeof f.vendor, "%s", vendor);
    f.leaf1_ecx = (1u << 0) | (1u << 19) | (1u << 20); /* SSE3, SSE4.1, SSE4.2 */
    if (avx2_fma || avx512)
        f.leaf1_ecx |= (1u << 12) | (1u << 27) | (1u << 28); /* FMA, OSXSAVE, AVX */
    if (avx2_fma || avx512)
        f.leaf7_ebx |= 1u << 5; /* AVX2 */
    if (avx512)
        f.leaf7_ebx |=
            (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31); /* F DQ CD BW VL */
    if (bf16)
        f.leaf7_1_eax |= 1u << 5;
    f.xcr0 = xcr0;
    return f;
}

START_TEST(blas_best_core_from_synthetic_cpuid)
{
    const unsigned long long ymm = 0x7, zmm = 0xe7;
    struct {
        const char *what;
        dl_cpuid_facts f;
        const char *want;
    } rows[] = {
        {"Intel Skylake-SP (AVX-512)", cpu("GenuineIntel", true, true, false, zmm), "SkylakeX"},
        {"Intel Sapphire/Emerald Rapids (AVX-512 + BF16 + AMX)",
         cpu("GenuineIntel", true, true, true, zmm | 0x60000), "Cooperlake"},
        {"AMD EPYC Zen 4 (AVX-512 + BF16)", cpu("AuthenticAMD", true, true, true, zmm),
         "Cooperlake"},
        {"AMD EPYC Zen 3 (AVX2 only)", cpu("AuthenticAMD", true, false, false, ymm), "Zen"},
        {"Intel Haswell (AVX2 only)", cpu("GenuineIntel", true, false, false, ymm), "Haswell"},
        {"AVX-512 CPU whose OS does not save zmm", cpu("GenuineIntel", true, true, false, ymm),
         "Haswell"},
        {"SSE-only CPU", cpu("GenuineIntel", false, false, false, 0), NULL},
        {"AVX2 CPU whose OS does not save ymm", cpu("AuthenticAMD", true, false, false, 0x3), NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *got = dl_blas_best_core_for(&rows[i].f);
        ck_assert_msg((!got && !rows[i].want) ||
                          (got && rows[i].want && strcmp(got, rows[i].want) == 0),
                      "%s: best core %s, want %s", rows[i].what, got ? got : "(none)",
                      rows[i].want ? rows[i].want : "(none)");
    }
    ck_assert_int_eq(dl_blas_core_rank("Prescott"), 1);
    ck_assert_int_eq(dl_blas_core_rank("Zen"), 2);
    ck_assert_int_eq(dl_blas_core_rank("haswell"), 2);
    ck_assert_int_eq(dl_blas_core_rank("Cooperlake"), 3);
    ck_assert_int_eq(dl_blas_core_rank("SapphireRapids"), 3);
    ck_assert_int_eq(dl_blas_core_rank(NULL), 0);
}
END_TEST

START_TEST(blas_decision_respects_the_user)
{
    /* The user's OPENBLAS_CORETYPE wins, even when weaker: administrators pin kernels on purpose.
     */
    ck_assert_ptr_null(dl_blas_coretype_decide("Haswell", "Cooperlake", "Haswell"));
    ck_assert_ptr_null(dl_blas_coretype_decide("Prescott", "SkylakeX", "Prescott"));
    /* Unset: a weaker library choice is raised to the CPU's best; an equal tier is left alone. */
    ck_assert_str_eq(dl_blas_coretype_decide(NULL, "Cooperlake", "Prescott"), "Cooperlake");
    ck_assert_str_eq(dl_blas_coretype_decide(NULL, "SkylakeX", "Haswell"), "SkylakeX");
    ck_assert_str_eq(dl_blas_coretype_decide(NULL, "Zen", "Prescott"), "Zen");
    ck_assert_ptr_null(dl_blas_coretype_decide(NULL, "Cooperlake", "SkylakeX"));
    ck_assert_ptr_null(dl_blas_coretype_decide(NULL, "Zen", "Haswell"));
    ck_assert_ptr_null(dl_blas_coretype_decide(NULL, NULL, "Prescott"));
}
END_TEST

START_TEST(blas_kernel_on_this_machine)
{
    /* Suites run under dllab's own selection (tests/testutil.c). A kernel OpenBLAS or dllab chose
     * must not be weaker than the CPU; one the user set through OPENBLAS_CORETYPE is accepted and
     * reported as the user's, and dllab must not have re-executed over it. */
    const char *best = dl_blas_cpu_best_core(), *kernel = dl_blas_corename();
    char desc[256];
    ck_assert_ptr_nonnull(kernel);
    dl_blas_describe(desc, sizeof desc);
    switch (dl_blas_kernel_origin()) {
    case DL_BLAS_BY_USER:
        ck_assert_ptr_null(dl_blas_coretype_to_force());
        ck_assert_msg(strstr(desc, "set by the user"),
                      "description '%s' does not name the user's choice", desc);
        if (best && dl_blas_core_rank(kernel) < dl_blas_core_rank(best))
            ck_assert_msg(strstr(desc, best), "description '%s' does not say the CPU supports %s",
                          desc, best);
        break;
    case DL_BLAS_BY_DLLAB:
        ck_assert_msg(strstr(desc, "dllab set OPENBLAS_CORETYPE"), "description '%s'", desc);
        /* fall through: dllab's choice must be as good as the CPU */
    default:
        if (best)
            ck_assert_msg(dl_blas_core_rank(kernel) >= dl_blas_core_rank(best),
                          "CPU supports %s but the tests run %s, which nobody asked for", best,
                          kernel);
    }
}
END_TEST

START_TEST(file_read_whole_capped_and_refusing)
{
    char *dir = tu_mkdtemp();
    char path[1200];
    dl_err err = {0};
    void *buf;
    size_t len = 99;
    /* a missing file: DL_ENOTFOUND, the path first in the message */
    snprintf(path, sizeof path, "%s/none.bin", dir);
    ck_assert_int_eq(dl_file_read(path, 1000, "a test file", &buf, &len, &err), DL_ENOTFOUND);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0 && strstr(err.msg, ": cannot open: "),
                  "%s", err.msg);
    /* a folder is not a file */
    ck_assert_int_eq(dl_file_read(dir, 1000, "a test file", &buf, &len, &err), DL_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
    /* the whole content, and the cap (at the cap is fine, one byte over is refused) */
    snprintf(path, sizeof path, "%s/data.bin", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 1000; i++)
        fputc(i % 251, f);
    fclose(f);
    ck_assert_int_eq(dl_file_read(path, 1000, "a test file", &buf, &len, &err), DL_OK);
    ck_assert_uint_eq(len, 1000);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(((unsigned char *)buf)[i], i % 251);
    free(buf);
    ck_assert_int_eq(dl_file_read(path, 999, "a test file", &buf, &len, &err), DL_EFORMAT);
    ck_assert_msg(strstr(err.msg, "is too large for a test file"), "%s", err.msg);
    /* an empty file: DL_OK, a freeable buffer, length 0 */
    snprintf(path, sizeof path, "%s/empty.bin", dir);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(dl_file_read(path, 1000, "a test file", &buf, &len, &err), DL_OK);
    ck_assert_uint_eq(len, 0);
    free(buf);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Table cells keep their width whatever the number: a diverging loss must not push the columns
 * after it (the dashboard's time column, `dllab runs`) out of line. */
START_TEST(fmt_fit_keeps_table_columns)
{
    char b[64];
    ck_assert_str_eq(dl_fmt_fit(0.297996, 6, 10, b, sizeof b), "0.297996");
    ck_assert_str_eq(dl_fmt_fit(161566.111051, 6, 10, b, sizeof b), "161566.111"); /* %.10g */
    ck_assert_str_eq(dl_fmt_fit(1553458094.0, 6, 10, b, sizeof b), "1553458094");
    ck_assert_str_eq(dl_fmt_fit(15534580940.0, 6, 10, b, sizeof b), "1.5535e+10");
    ck_assert_str_eq(dl_fmt_fit(1.5e300, 4, 10, b, sizeof b), "1.5e+300");
    ck_assert_str_eq(dl_fmt_fit(2.5, 4, 6, b, sizeof b), "2.5000");
    ck_assert_str_eq(dl_fmt_fit(NAN, 6, 10, b, sizeof b), "nan");
    for (double v = 1e-3; v < 1e30; v *= 7.3)
        ck_assert_msg(strlen(dl_fmt_fit(v, 6, 10, b, sizeof b)) <= 10, "%g: '%s'", v, b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("foundation");
    tcase_add_test(tc, rng_streams_are_reproducible_and_distinct);
    tcase_add_test(tc, rng_distributions);
    tcase_add_test(tc, rng_shuffle_is_a_permutation);
    tcase_add_test(tc, tensor_map_rejects_duplicates_and_keeps_meta);
    tcase_add_test(tc, params_layout_and_freeze);
    tcase_add_test(tc, params_state_dict_round_trip);
    tcase_add_test(tc, params_load_reports_missing_unexpected_and_shape);
    tcase_add_test(tc, blas_best_core_from_synthetic_cpuid);
    tcase_add_test(tc, blas_decision_respects_the_user);
    tcase_add_test(tc, blas_kernel_on_this_machine);
    tcase_add_test(tc, file_read_whole_capped_and_refusing);
    tcase_add_test(tc, fmt_fit_keeps_table_columns);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
