/* check_optim: SGD and Adam against PyTorch (fixtures from tests/gen/mkfix_optim.py), frozen
 * entries left bit-identical, weight decay skipped on norm/bias entries, state cleared, and the
 * state saved -> restored (through a safetensors file) giving a bit-identical next step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"
#include "core/train/optim.h"
#include "core/params.h"
#include "core/tensor_map.h"
#include "tests/testutil.h"

/* The layout the generator uses. */
static const struct {
    const char *name;
    int ndim;
    int64_t shape[4];
    int group;
    unsigned flags;
} LAYOUT[] = {
    {"conv.weight", 4, {4, 3, 3, 3}, 0, 0},
    {"bn.weight", 1, {4}, 0, DL_PARAM_NORM},
    {"bn.bias", 1, {4}, 0, DL_PARAM_NORM | DL_PARAM_BIAS},
    {"fc.weight", 2, {5, 7}, 1, 0},
    {"fc.bias", 1, {5}, 1, DL_PARAM_BIAS},
};
#define N_LAYOUT (sizeof LAYOUT / sizeof LAYOUT[0])

static void build(dl_params *ps)
{
    dl_err err;
    dl_params_init(ps);
    for (size_t i = 0; i < N_LAYOUT; i++)
        ck_assert_int_ge(dl_params_add(ps, LAYOUT[i].name, LAYOUT[i].ndim, LAYOUT[i].shape,
                                       LAYOUT[i].group, LAYOUT[i].flags, &err),
                         0);
    /* a buffer, as a BN layer has: the optimiser must never touch it */
    int64_t four = 4;
    ck_assert_int_ge(dl_params_add_buffer(ps, "bn.running_mean", DL_ENTRY_BUF_F32, 1, &four, &err),
                     0);
    ck_assert_int_eq(dl_params_finalize(ps, &err), DL_OK);
}

static const float *tensor(const dl_tensor_map *m, const char *fmt, int k, const char *name,
                           size_t numel)
{
    char key[256];
    if (k >= 0)
        snprintf(key, sizeof key, fmt, k, name);
    else
        snprintf(key, sizeof key, fmt, name);
    const dl_named_tensor *t = dl_tensor_map_get(m, key);
    ck_assert_msg(t != NULL, "fixture tensor '%s' missing", key);
    ck_assert_int_eq(t->dtype, DL_DTYPE_F32);
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    ck_assert_msg(n == numel, "fixture tensor '%s' has %zu elements, expected %zu", key, n, numel);
    return t->data;
}

static double meta_num(const dl_tensor_map *m, const char *fmt, int k)
{
    char key[64];
    snprintf(key, sizeof key, fmt, k);
    const char *v = dl_tensor_map_get_meta(m, key);
    ck_assert_msg(v != NULL, "fixture metadata '%s' missing", key);
    return strtod(v, NULL);
}

static void fill_grads(dl_params *ps, const dl_tensor_map *m, int k)
{
    for (size_t i = 0; i < N_LAYOUT; i++)
        memcpy(dl_params_grad(ps, i), tensor(m, "grad.%d.%s", k, ps->e[i].name, ps->e[i].numel),
               ps->e[i].numel * sizeof(float));
}

/* Runs the 3 fixture steps and compares params after each, and the final state. */
static void parity(const char *file, dl_optim_kind kind)
{
    dl_err err;
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_msg(dl_safetensors_read(tu_fixture(file), &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_str_eq(dl_tensor_map_get_meta(&m, "kind"), kind == DL_OPTIM_SGD ? "sgd" : "adamw");
    dl_params ps;
    build(&ps);
    for (size_t i = 0; i < N_LAYOUT; i++)
        memcpy(dl_params_data(&ps, i), tensor(&m, "param.%s", -1, ps.e[i].name, ps.e[i].numel),
               ps.e[i].numel * sizeof(float));
    dl_optim o;
    ck_assert_int_eq(dl_optim_init(&o, kind, &ps, &err), DL_OK);
    double wd = meta_num(&m, "wd", 0);
    int steps = (int)meta_num(&m, "steps", 0);
    ck_assert_int_eq(steps, 3);
    for (int k = 0; k < steps; k++) {
        double lr = meta_num(&m, "lr.%d", k), mom = meta_num(&m, "mom.%d", k);
        dl_optim_set_lr(&o, 0, lr / 10);
        dl_optim_set_lr(&o, 1, lr);
        dl_optim_set_mom_all(&o, mom);
        dl_optim_set_wd_all(&o, wd);
        ck_assert_int_eq(dl_optim_check_hyper(&o, &err), DL_OK);
        fill_grads(&ps, &m, k);
        dl_optim_step(&o);
        for (size_t i = 0; i < N_LAYOUT; i++) {
            char what[256];
            snprintf(what, sizeof what, "%s step %d %s", file, k, ps.e[i].name);
            tu_assert_close(what, dl_params_data(&ps, i),
                            tensor(&m, "after.%d.%s", k, ps.e[i].name, ps.e[i].numel),
                            ps.e[i].numel, 1e-6, 1e-5, 0);
        }
    }
    for (size_t i = 0; i < N_LAYOUT; i++) {
        char what[256];
        snprintf(what, sizeof what, "%s state0 %s", file, ps.e[i].name);
        tu_assert_close(what, ps.state0 + ps.e[i].offset,
                        tensor(&m, "state0.%s", -1, ps.e[i].name, ps.e[i].numel), ps.e[i].numel,
                        1e-6, 1e-5, 0);
        if (kind == DL_OPTIM_ADAM) {
            snprintf(what, sizeof what, "%s state1 %s", file, ps.e[i].name);
            tu_assert_close(what, ps.state1 + ps.e[i].offset,
                            tensor(&m, "state1.%s", -1, ps.e[i].name, ps.e[i].numel), ps.e[i].numel,
                            1e-9, 1e-5, 0);
        }
        ck_assert_int_eq(o.step[i], 3);
    }
    dl_optim_free(&o);
    dl_params_free(&ps);
    dl_tensor_map_free(&m);
}

START_TEST(sgd_momentum_matches_torch) { parity("optim/sgd_mom.safetensors", DL_OPTIM_SGD); }
END_TEST

START_TEST(adam_matches_torch_adamw) { parity("optim/adamw.safetensors", DL_OPTIM_ADAM); }
END_TEST

/* Deterministic pseudo-random fill (no RNG parity needed). */
static void fill(float *x, size_t n, unsigned seed)
{
    for (size_t k = 0; k < n; k++) {
        seed = seed * 1103515245u + 12345u;
        x[k] = ((float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f) * 2.0f;
    }
}

static void fill_all(dl_params *ps, unsigned seed, int grads_only)
{
    for (size_t i = 0; i < N_LAYOUT; i++) {
        if (!grads_only)
            fill(dl_params_data(ps, i), ps->e[i].numel, seed + 100 + (unsigned)i);
        fill(dl_params_grad(ps, i), ps->e[i].numel, seed + (unsigned)i);
    }
}

START_TEST(frozen_entries_untouched)
{
    for (int kind = 0; kind < 2; kind++) {
        dl_err err;
        dl_params ps;
        build(&ps);
        fill_all(&ps, 7, 0);
        fill(dl_params_buf(&ps, N_LAYOUT), 4, 99);
        dl_optim o;
        ck_assert_int_eq(dl_optim_init(&o, (dl_optim_kind)kind, &ps, &err), DL_OK);
        dl_optim_set_wd_all(&o, 0.1);
        dl_params_freeze_to(&ps, 1); /* group 0 frozen: conv.weight fixed, bn.* still train */
        size_t total = ps.total * sizeof(float);
        float *before = malloc(total), *s0 = malloc(total), *s1 = malloc(total),
              *buf = malloc(4 * sizeof(float));
        memcpy(before, ps.data, total);
        memcpy(buf, dl_params_buf(&ps, N_LAYOUT), 4 * sizeof(float));
        /* give the frozen entry some state, as if it had trained before being frozen */
        fill(ps.state0 + ps.e[0].offset, ps.e[0].numel, 5);
        fill(ps.state1 + ps.e[0].offset, ps.e[0].numel, 6);
        for (size_t k = 0; k < ps.e[0].numel; k++)
            ps.state1[ps.e[0].offset + k] = fabsf(ps.state1[ps.e[0].offset + k]);
        memcpy(s0, ps.state0, total);
        memcpy(s1, ps.state1, total);
        for (int step = 0; step < 3; step++) {
            fill_all(&ps, 11 + (unsigned)step, 1);
            dl_optim_step(&o);
        }
        size_t off = ps.e[0].offset, n = ps.e[0].numel * sizeof(float);
        ck_assert_msg(memcmp(ps.data + off, before + off, n) == 0,
                      "frozen conv.weight changed (%s)", dl_optim_kind_name(o.kind));
        ck_assert(memcmp(ps.state0 + off, s0 + off, n) == 0);
        ck_assert(memcmp(ps.state1 + off, s1 + off, n) == 0);
        ck_assert_int_eq(o.step[0], 0);
        ck_assert(memcmp(dl_params_buf(&ps, N_LAYOUT), buf, 4 * sizeof(float)) == 0);
        for (size_t i = 1; i < N_LAYOUT;
             i++) { /* norm params of the frozen group and group 1 moved */
            ck_assert_msg(memcmp(dl_params_data(&ps, i), before + ps.e[i].offset,
                                 ps.e[i].numel * sizeof(float)) != 0,
                          "%s did not move", ps.e[i].name);
            ck_assert_int_eq(o.step[i], 3);
        }
        free(before), free(s0), free(s1), free(buf);
        dl_optim_free(&o);
        dl_params_free(&ps);
    }
}
END_TEST

START_TEST(no_weight_decay_on_norm_and_bias)
{
    dl_err err;
    dl_params ps;
    build(&ps);
    fill_all(&ps, 3, 0);
    memset(ps.grad, 0, ps.total * sizeof(float));
    dl_optim o;
    ck_assert_int_eq(dl_optim_init(&o, DL_OPTIM_SGD, &ps, &err), DL_OK);
    dl_optim_set_wd_all(&o, 0.5);
    dl_optim_set_lr(&o, 0, 0.1);
    dl_optim_set_lr(&o, 1, 0.2);
    float w0 = dl_params_data(&ps, 0)[3], fw = dl_params_data(&ps, 3)[5];
    float bnw = dl_params_data(&ps, 1)[0], fb = dl_params_data(&ps, 4)[2];
    dl_optim_step(&o);
    ck_assert_float_eq(dl_params_data(&ps, 0)[3], w0 * (float)(1.0 - 0.1 * 0.5));
    ck_assert_float_eq(dl_params_data(&ps, 3)[5], fw * (float)(1.0 - 0.2 * 0.5));
    ck_assert_float_eq(dl_params_data(&ps, 1)[0], bnw);
    ck_assert_float_eq(dl_params_data(&ps, 4)[2], fb);
    /* wd_bn_bias = true decays them too */
    o.wd_bn_bias = true;
    dl_optim_step(&o);
    ck_assert_float_eq(dl_params_data(&ps, 1)[0], bnw * (float)(1.0 - 0.1 * 0.5));
    dl_optim_free(&o);
    dl_params_free(&ps);
}
END_TEST

START_TEST(clear_wipes_state_and_steps)
{
    dl_err err;
    dl_params a, b;
    build(&a);
    build(&b);
    fill_all(&a, 21, 0);
    memcpy(b.data, a.data, a.total * sizeof(float));
    dl_optim oa, ob;
    ck_assert_int_eq(dl_optim_init(&oa, DL_OPTIM_ADAM, &a, &err), DL_OK);
    ck_assert_int_eq(dl_optim_init(&ob, DL_OPTIM_ADAM, &b, &err), DL_OK);
    for (int s = 0; s < 2; s++) {
        fill_all(&a, 30 + (unsigned)s, 1);
        dl_optim_step(&oa);
    }
    memcpy(b.data, a.data, a.total * sizeof(float));
    dl_optim_clear(&oa);
    for (size_t k = 0; k < a.total; k++)
        ck_assert(a.state0[k] == 0 && a.state1[k] == 0);
    fill_all(&a, 40, 1);
    memcpy(b.grad, a.grad, a.total * sizeof(float));
    dl_optim_step(&oa);
    dl_optim_step(&ob); /* a fresh optimiser's first step */
    ck_assert(memcmp(a.data, b.data, a.total * sizeof(float)) == 0);
    ck_assert(memcmp(a.state0, b.state0, a.total * sizeof(float)) == 0);
    ck_assert_int_eq(oa.step[0], 1);
    dl_optim_free(&oa), dl_optim_free(&ob);
    dl_params_free(&a), dl_params_free(&b);
}
END_TEST

static void roundtrip(dl_optim_kind kind)
{
    dl_err err;
    dl_params a, b;
    build(&a);
    build(&b);
    fill_all(&a, 51, 0);
    dl_optim oa, ob;
    ck_assert_int_eq(dl_optim_init(&oa, kind, &a, &err), DL_OK);
    ck_assert_int_eq(dl_optim_init(&ob, kind, &b, &err), DL_OK);
    dl_params_freeze_to(&a, 1); /* uneven step counters: conv.weight stays at 0 */
    for (int s = 0; s < 2; s++) {
        dl_optim_set_lr(&oa, 0, 1e-3 * (s + 1));
        dl_optim_set_lr(&oa, 1, 3e-3 / (s + 1));
        dl_optim_set_mom_all(&oa, 0.93 - 0.01 * s);
        fill_all(&a, 60 + (unsigned)s, 1);
        dl_optim_step(&oa);
    }
    dl_params_freeze_to(&a, 0);
    /* checkpoint: weights + optimiser state in one map, through a real file */
    dl_tensor_map m, r;
    dl_tensor_map_init(&m);
    dl_tensor_map_init(&r);
    ck_assert_int_eq(dl_params_to_map(&a, &m, &err), DL_OK);
    ck_assert_msg(dl_optim_state_to_map(&oa, &m, &err) == DL_OK, "%s", err.msg);
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    ck_assert_msg(dl_safetensors_write(path, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_safetensors_read(path, &r, &err) == DL_OK, "%s", err.msg);
    dl_load_opts lo = {.allow_unexpected = true};
    ck_assert_msg(dl_params_load_map(&b, &r, &lo, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_optim_state_from_map(&ob, &r, &err) == DL_OK, "%s", err.msg);
    for (int g = 0; g < 2; g++)
        ck_assert(memcmp(&oa.h[g], &ob.h[g], sizeof oa.h[g]) == 0);
    ck_assert(memcmp(oa.step, ob.step, a.n * sizeof *oa.step) == 0);
    ck_assert_int_eq(ob.step[0], 0);
    ck_assert_int_eq(ob.step[3], 2);
    /* the next step is bit-identical */
    fill_all(&a, 70, 1);
    memcpy(b.grad, a.grad, a.total * sizeof(float));
    dl_optim_step(&oa);
    dl_optim_step(&ob);
    for (size_t i = 0; i < N_LAYOUT; i++) {
        size_t off = a.e[i].offset, n = a.e[i].numel * sizeof(float);
        ck_assert_msg(memcmp(a.data + off, b.data + off, n) == 0, "%s differs after restore",
                      a.e[i].name);
        ck_assert(memcmp(a.state0 + off, b.state0 + off, n) == 0);
        ck_assert(memcmp(a.state1 + off, b.state1 + off, n) == 0);
    }
    tu_rmtree(dir);
    free(dir);
    dl_tensor_map_free(&m);
    dl_tensor_map_free(&r);
    dl_optim_free(&oa), dl_optim_free(&ob);
    dl_params_free(&a), dl_params_free(&b);
}

START_TEST(state_roundtrip_adam_is_bit_exact) { roundtrip(DL_OPTIM_ADAM); }
END_TEST

START_TEST(state_roundtrip_sgd_is_bit_exact) { roundtrip(DL_OPTIM_SGD); }
END_TEST

START_TEST(state_restore_rejects_bad_maps)
{
    dl_err err;
    dl_params ps;
    build(&ps);
    dl_optim o, sgd;
    ck_assert_int_eq(dl_optim_init(&o, DL_OPTIM_ADAM, &ps, &err), DL_OK);
    ck_assert_int_eq(dl_optim_init(&sgd, DL_OPTIM_SGD, &ps, &err), DL_OK);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_int_eq(dl_optim_state_to_map(&o, &m, &err), DL_OK);
    /* wrong kind */
    ck_assert_int_eq(dl_optim_state_from_map(&sgd, &m, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "adam"));
    /* a missing tensor is named; nothing changes */
    dl_tensor_map bad;
    dl_tensor_map_init(&bad);
    for (size_t i = 0; i < m.n; i++)
        if (strcmp(m.items[i].name, "opt.state1.fc.weight") != 0)
            ck_assert_int_eq(dl_tensor_map_add(&bad, m.items[i].name, m.items[i].dtype,
                                               m.items[i].ndim, m.items[i].shape, m.items[i].data,
                                               &err),
                             DL_OK);
    for (size_t i = 0; i < m.n_meta; i++)
        dl_tensor_map_set_meta(&bad, m.meta[i].key, m.meta[i].value, &err);
    o.h[1].lr = 0.123;
    ck_assert_int_eq(dl_optim_state_from_map(&o, &bad, &err), DL_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "opt.state1.fc.weight"));
    ck_assert(o.h[1].lr == 0.123);
    /* a wrong shape is named */
    int64_t shp[1] = {3};
    ck_assert_int_eq(
        dl_tensor_map_add(&bad, "opt.state1.fc.weight", DL_DTYPE_F32, 1, shp, NULL, &err), DL_OK);
    ck_assert_int_eq(dl_optim_state_from_map(&o, &bad, &err), DL_ESHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "opt.state1.fc.weight"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[3], expected [5, 7]"));
    /* no metadata at all */
    dl_tensor_map empty;
    dl_tensor_map_init(&empty);
    ck_assert_int_eq(dl_optim_state_from_map(&o, &empty, &err), DL_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "opt.kind"));
    dl_tensor_map_free(&empty);
    dl_tensor_map_free(&bad);
    dl_tensor_map_free(&m);
    dl_optim_free(&o), dl_optim_free(&sgd);
    dl_params_free(&ps);
}
END_TEST

START_TEST(hyper_checks_name_the_group)
{
    dl_err err;
    dl_params ps;
    build(&ps);
    dl_optim o;
    ck_assert_int_eq(dl_optim_init(&o, DL_OPTIM_ADAM, &ps, &err), DL_OK);
    dl_hyper d = dl_optim_defaults(DL_OPTIM_ADAM);
    ck_assert(d.mom == 0.9 && d.sqr_mom == 0.99 && d.eps == 1e-5 && d.wd == 0.01 && d.lr == 1e-3);
    d = dl_optim_defaults(DL_OPTIM_SGD);
    ck_assert(d.mom == 0 && d.wd == 0 && d.lr == 1e-3);
    ck_assert_int_eq(dl_optim_check_hyper(&o, &err), DL_OK);
    o.h[1].lr = NAN;
    ck_assert_int_eq(dl_optim_check_hyper(&o, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 1"));
    o.h[1].lr = 1e-3;
    o.h[0].mom = 1.0;
    ck_assert_int_eq(dl_optim_check_hyper(&o, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 0"));
    dl_optim_kind k;
    ck_assert_int_eq(dl_optim_kind_parse("sgd", &k, &err), DL_OK);
    ck_assert_int_eq(k, DL_OPTIM_SGD);
    ck_assert_int_eq(dl_optim_kind_parse("rmsprop", &k, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "rmsprop"));
    dl_optim_free(&o);
    dl_params_free(&ps);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, sgd_momentum_matches_torch);
    tcase_add_test(tc, adam_matches_torch_adamw);
    tcase_add_test(tc, frozen_entries_untouched);
    tcase_add_test(tc, no_weight_decay_on_norm_and_bias);
    tcase_add_test(tc, clear_wipes_state_and_steps);
    tcase_add_test(tc, state_roundtrip_adam_is_bit_exact);
    tcase_add_test(tc, state_roundtrip_sgd_is_bit_exact);
    tcase_add_test(tc, state_restore_rejects_bad_maps);
    tcase_add_test(tc, hyper_checks_name_the_group);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }
