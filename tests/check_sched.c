/* check_sched: schedules against docs/fastai.md's worked numbers (§2.3 one-cycle, §3 fine_tune,
 * §4.3 spreading), the mid-run rescale rule, and the LR finder's sweep, smoothing, stop rule,
 * window and suggesters against that page's test vectors (§5.5) and hand-computed curves,
 * including NaN and diverge-early curves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"
#include "core/lrfind/lrfind.h"
#include "core/train/sched.h"
#include "tests/testutil.h"

/* |c - r| <= rel * |r| (+ a tiny absolute floor for zeros). */
#define ASSERT_REL(c, r, rel)                                                                      \
    do {                                                                                           \
        double c_ = (c), r_ = (r);                                                                 \
        ck_assert_msg(fabs(c_ - r_) <= (rel)*fabs(r_) + 1e-300,                                    \
                      "%s = %.10g, expected %.10g (rel %g)", #c, c_, r_, (double)(rel));           \
    } while (0)

/* The spec prints 5 significant digits. */
#define SPEC 1.2e-4

START_TEST(building_blocks)
{
    dl_sched lin = {DL_SCHED_LIN, 2, 4}, cs = {DL_SCHED_COS, 2, 4}, ex = {DL_SCHED_EXP, 1e-7, 10},
             no = {DL_SCHED_NO, 3, 9};
    ASSERT_REL(dl_sched_at(&lin, 0.25), 2.5, 1e-15);
    ASSERT_REL(dl_sched_at(&cs, 0.0), 2.0, 1e-15);
    ASSERT_REL(dl_sched_at(&cs, 0.5), 3.0, 1e-15);
    ASSERT_REL(dl_sched_at(&cs, 1.0), 4.0, 1e-15);
    ASSERT_REL(dl_sched_at(&cs, 0.25), 2 + 2 * (1 - cos(M_PI * 0.25)) / 2, 1e-14);
    ASSERT_REL(dl_sched_at(&ex, 0.5), 1e-3, 1e-12);
    ASSERT_REL(dl_sched_at(&no, 0.7), 3.0, 0);

    dl_err err;
    dl_sched_combo c;
    const double pcts[2] = {0.3, 0.7};
    const dl_sched ph[2] = {{DL_SCHED_LIN, 0, 1}, {DL_SCHED_LIN, 10, 20}};
    ck_assert_int_eq(dl_sched_combine(&c, 2, pcts, ph, &err), DL_OK);
    ASSERT_REL(dl_sched_combo_at(&c, 0.15), 0.5, 1e-12);
    ASSERT_REL(dl_sched_combo_at(&c, 0.3), 10.0, 1e-12); /* at the edge: the second phase */
    ASSERT_REL(dl_sched_combo_at(&c, 0.65), 15.0, 1e-12);
    const double badp[2] = {0.3, 0.6};
    ck_assert_int_eq(dl_sched_combine(&c, 2, badp, ph, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "sum"));
    /* pos of batch i of epoch e */
    ASSERT_REL(dl_sched_pos(1, 3, 4, 10), 13.0 / 40.0, 1e-15);
    ASSERT_REL(dl_sched_pos(0, 0, 4, 10), 0.0, 0);
}
END_TEST

START_TEST(one_cycle_worked_example)
{
    /* docs/fastai.md §2.3: 100 iterations, lr_max 1e-2, defaults */
    static const struct {
        int t;
        double lr, mom;
    } W[] = {{0, 4.0000e-4, 0.950000},  {1, 4.3785e-4, 0.949606},  {12, 4.8986e-3, 0.903140},
             {25, 1.0000e-2, 0.850000}, {50, 7.5000e-3, 0.875000}, {99, 4.4858e-6, 0.949956}};
    dl_err err;
    dl_fit_sched s;
    const double lr_max[1] = {1e-2};
    ck_assert_int_eq(dl_sched_one_cycle(&s, 1, lr_max, NULL, &err), DL_OK);
    for (size_t k = 0; k < sizeof W / sizeof W[0]; k++) {
        double pos = dl_sched_pos(0, W[k].t, 1, 100), mom = -1;
        ASSERT_REL(dl_fit_sched_lr(&s, 0, pos), W[k].lr, SPEC);
        ck_assert(dl_fit_sched_mom(&s, pos, &mom));
        ck_assert_msg(fabs(mom - W[k].mom) <= 6e-7, "t=%d mom %.7f, expected %.6f", W[k].t, mom,
                      W[k].mom);
    }
    /* ratios between groups stay fixed */
    const double three[3] = {1e-4, 1e-3, 1e-2};
    ck_assert_int_eq(dl_sched_one_cycle(&s, 3, three, NULL, &err), DL_OK);
    for (double pos = 0; pos < 1; pos += 0.0625)
        ASSERT_REL(dl_fit_sched_lr(&s, 0, pos) * 100, dl_fit_sched_lr(&s, 2, pos), 1e-12);
    /* the end of the cosine (pos 1, never scheduled in training) is lr_max/div_final */
    ASSERT_REL(dl_fit_sched_lr(&s, 2, 1.0), 1e-7, 1e-9);
    /* bad input names the problem */
    dl_one_cycle_opts o = dl_one_cycle_defaults();
    o.pct_start = 1.5;
    ck_assert_int_eq(dl_sched_one_cycle(&s, 1, lr_max, &o, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "pct_start"));
    const double neg[1] = {-1e-3};
    ck_assert_int_eq(dl_sched_one_cycle(&s, 1, neg, NULL, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 0"));
}
END_TEST

START_TEST(fit_and_flat_cos)
{
    dl_err err;
    dl_fit_sched s;
    const double lr[2] = {1e-4, 1e-3};
    double mom = 0.5;
    ck_assert_int_eq(dl_sched_fit(&s, 2, lr, &err), DL_OK);
    for (double pos = 0; pos < 1; pos += 0.1) {
        ck_assert(dl_fit_sched_lr(&s, 0, pos) == 1e-4);
        ck_assert(dl_fit_sched_lr(&s, 1, pos) == 1e-3);
    }
    ck_assert(!dl_fit_sched_mom(&s, 0.5, &mom)); /* fit leaves momentum alone */
    ck_assert(mom == 0.5);

    ck_assert_int_eq(dl_sched_flat_cos(&s, 2, lr, 0.75, 1e5, &err), DL_OK);
    ck_assert(!dl_fit_sched_mom(&s, 0.5, &mom));
    ASSERT_REL(dl_fit_sched_lr(&s, 1, 0.0), 1e-3, 1e-15);
    ASSERT_REL(dl_fit_sched_lr(&s, 1, 0.74), 1e-3, 1e-15);
    ASSERT_REL(dl_fit_sched_lr(&s, 1, 0.75), 1e-3, 1e-15);
    /* halfway through the cosine: the mean of lr and lr/1e5 */
    ASSERT_REL(dl_fit_sched_lr(&s, 1, 0.875), (1e-3 + 1e-8) / 2, 1e-12);
    ASSERT_REL(dl_fit_sched_lr(&s, 0, 0.875), (1e-4 + 1e-9) / 2, 1e-12);
}
END_TEST

START_TEST(even_mults_and_spreading)
{
    dl_err err;
    double out[8];
    dl_even_mults(1e-6, 1e-4, 3, out);
    ASSERT_REL(out[0], 1e-6, 1e-12);
    ASSERT_REL(out[1], 1e-5, 1e-12);
    ASSERT_REL(out[2], 1e-4, 1e-12);
    dl_even_mults(1e-5, 1e-3, 3, out);
    ASSERT_REL(out[1], 1e-4, 1e-12);
    dl_even_mults(1e-3, 8e-3, 4, out); /* ratio 2 */
    for (int i = 0; i < 4; i++)
        ASSERT_REL(out[i], 1e-3 * pow(2, i), 1e-12);
    dl_even_mults(1e-5, 1e-3, 1, out);
    ck_assert(out[0] == 1e-3);

    dl_lr_spec sl = {DL_LR_SLICE_HI, 0, 3e-3};
    ck_assert_int_eq(dl_lr_spread(&sl, 3, out, &err), DL_OK);
    ASSERT_REL(out[0], 3e-4, 1e-15);
    ASSERT_REL(out[1], 3e-4, 1e-15);
    ck_assert(out[2] == 3e-3);
    ck_assert_int_eq(dl_lr_spread(&sl, 1, out, &err), DL_OK);
    ck_assert(out[0] == 3e-3); /* a single group is the last group */
    dl_lr_spec c = {DL_LR_CONST, 0, 2e-3};
    ck_assert_int_eq(dl_lr_spread(&c, 3, out, &err), DL_OK);
    ck_assert(out[0] == 2e-3 && out[1] == 2e-3 && out[2] == 2e-3);
    dl_lr_spec r = {DL_LR_RANGE, 1e-6, 1e-4};
    ck_assert_int_eq(dl_lr_spread(&r, 3, out, &err), DL_OK);
    ASSERT_REL(out[1], 1e-5, 1e-12);
    dl_lr_spec bad = {DL_LR_RANGE, 1e-2, 1e-4};
    ck_assert_int_eq(dl_lr_spread(&bad, 3, out, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "0.01..0.0001"));
    ck_assert_int_eq(dl_lr_spread(&r, DL_MAX_GROUPS + 1, out, &err), DL_EINVAL);
}
END_TEST

START_TEST(lr_strings)
{
    dl_err err;
    dl_lr_spec s;
    char buf[64];
    /* a plain value is fastai's float: every group */
    ck_assert_int_eq(dl_lr_parse("3e-3", &s, &err), DL_OK);
    ck_assert(s.kind == DL_LR_CONST && s.hi == 3e-3);
    dl_lr_format(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.003");
    /* ..HI is slice(HI); ':' is an alias of '..' */
    ck_assert_int_eq(dl_lr_parse("..3e-3", &s, &err), DL_OK);
    ck_assert(s.kind == DL_LR_SLICE_HI && s.hi == 3e-3);
    dl_lr_format(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "..0.003");
    ck_assert_int_eq(dl_lr_parse(":3e-3", &s, &err), DL_OK);
    ck_assert(s.kind == DL_LR_SLICE_HI && s.hi == 3e-3);
    ck_assert_int_eq(dl_lr_parse("1e-5:1e-3", &s, &err), DL_OK);
    ck_assert(s.kind == DL_LR_RANGE && s.lo == 1e-5 && s.hi == 1e-3);
    ck_assert_int_eq(dl_lr_parse("1e-6..1e-4", &s, &err), DL_OK);
    ck_assert(s.kind == DL_LR_RANGE && s.lo == 1e-6 && s.hi == 1e-4);
    dl_lr_format(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "1e-06..0.0001");
    ck_assert_int_eq(dl_lr_parse(buf, &s, &err), DL_OK);
    ck_assert(s.lo == 1e-6 && s.hi == 1e-4);
    ck_assert_int_eq(dl_lr_parse("=0.002", &s, &err), DL_OK);
    ck_assert(s.kind == DL_LR_CONST && s.hi == 0.002);
    dl_lr_format(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.002");
    static const char *bad[] = {"",
                                "abc",
                                "1e-3..",
                                "..",
                                "-1e-3",
                                "0",
                                "1e-2..1e-4",
                                "nan",
                                "inf",
                                "1e-3x",
                                "..=1",
                                ":",
                                "1e-3..2e-3..3e-3",
                                "1:2:3",
                                "..1e-3..1"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(dl_lr_parse(bad[k], &s, &err) == DL_EINVAL, "'%s' accepted", bad[k]);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[k]);
        ck_assert_ptr_nonnull(strstr(err.msg, quoted));
    }
}
END_TEST

START_TEST(fine_tune_phases)
{
    dl_err err;
    dl_fine_tune_plan p;
    /* docs/fastai.md §3, defaults, 3 groups */
    ck_assert_int_eq(dl_sched_fine_tune(&p, 3, 2, NULL, &err), DL_OK);
    ck_assert_int_eq(p.n_phases, 2);
    const dl_fine_tune_phase *a = &p.phase[0], *b = &p.phase[1];
    ck_assert_int_eq(a->epochs, 1);
    ck_assert_int_eq(a->freeze_to, -1);
    ck_assert_int_eq(b->epochs, 2);
    ck_assert_int_eq(b->freeze_to, 0);
    const double a_max[3] = {2e-4, 2e-4, 2e-3}, b_max[3] = {1e-5, 1e-4, 1e-3};
    for (int g = 0; g < 3; g++) {
        ASSERT_REL(a->lr_max[g], a_max[g], 1e-12);
        ASSERT_REL(dl_fit_sched_lr(&a->sched, g, 0.0), a_max[g] / 25,
                   1e-12);                                                /* [8e-6, 8e-6, 8e-5] */
        ASSERT_REL(dl_fit_sched_lr(&a->sched, g, 0.99), a_max[g], 1e-12); /* peak at 99 % */
        ck_assert(dl_fit_sched_lr(&a->sched, g, 0.98) < a_max[g]);
        ASSERT_REL(b->lr_max[g], b_max[g], 1e-12);
        ASSERT_REL(dl_fit_sched_lr(&b->sched, g, 0.0), b_max[g] / 5,
                   1e-12);                                               /* [2e-6, 2e-5, 2e-4] */
        ASSERT_REL(dl_fit_sched_lr(&b->sched, g, 0.3), b_max[g], 1e-12); /* peak at 30 % */
        ASSERT_REL(dl_fit_sched_lr(&b->sched, g, 1.0), b_max[g] / 1e5, 1e-9);
    }
    double mom;
    ck_assert(dl_fit_sched_mom(&b->sched, 0.3, &mom));
    ASSERT_REL(mom, 0.85, 1e-12);

    /* fastbook ch6: fine_tune(3, base_lr=3e-3, freeze_epochs=4) */
    dl_fine_tune_opts o = dl_fine_tune_defaults();
    o.base_lr = 3e-3;
    o.freeze_epochs = 4;
    ck_assert_int_eq(dl_sched_fine_tune(&p, 3, 3, &o, &err), DL_OK);
    const double c_max[3] = {3e-4, 3e-4, 3e-3}, d_max[3] = {1.5e-5, 1.5e-4, 1.5e-3};
    ck_assert_int_eq(p.phase[0].epochs, 4);
    ck_assert_int_eq(p.phase[1].epochs, 3);
    for (int g = 0; g < 3; g++) {
        ASSERT_REL(p.phase[0].lr_max[g], c_max[g], 1e-12);
        ASSERT_REL(p.phase[1].lr_max[g], d_max[g], 1e-12);
    }
    /* freeze_epochs = 0 skips the frozen phase */
    o.freeze_epochs = 0;
    ck_assert_int_eq(dl_sched_fine_tune(&p, 3, 3, &o, &err), DL_OK);
    ck_assert_int_eq(p.n_phases, 1);
    ck_assert_int_eq(p.phase[0].freeze_to, 0);
    ASSERT_REL(p.phase[0].lr_max[2], 1.5e-3, 1e-12);
    ck_assert_int_eq(dl_sched_fine_tune(&p, 3, 0, &o, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "epochs"));
}
END_TEST

START_TEST(mid_run_rescale)
{
    dl_err err;
    dl_fit_sched s, orig;
    const double lr_max[3] = {1e-4, 1e-3, 1e-2};
    ck_assert_int_eq(dl_sched_one_cycle(&s, 3, lr_max, NULL, &err), DL_OK);
    orig = s;
    double pos = 0.5, cur[3], want[3];
    for (int g = 0; g < 3; g++) {
        cur[g] = dl_fit_sched_lr(&s, g, pos);
        want[g] = cur[g] * (g == 2 ? 2.0 : 0.5);
    }
    ck_assert_int_eq(dl_fit_sched_set_lr(&s, pos, want, &err), DL_OK);
    for (int g = 0; g < 3; g++) {
        ASSERT_REL(dl_fit_sched_lr(&s, g, pos), want[g], 1e-12); /* jumps to the new value now */
        for (double q = 0.55; q < 1; q += 0.1)                   /* and keeps the shape after */
            ASSERT_REL(dl_fit_sched_lr(&s, g, q),
                       dl_fit_sched_lr(&orig, g, q) * (g == 2 ? 2.0 : 0.5), 1e-12);
    }
    double m1, m2;
    ck_assert(dl_fit_sched_mom(&s, 0.7, &m1) && dl_fit_sched_mom(&orig, 0.7, &m2));
    ck_assert(m1 == m2); /* momentum untouched */
    ck_assert_int_eq(dl_fit_sched_scale_lr(&s, 0.1, &err), DL_OK);
    ASSERT_REL(dl_fit_sched_lr(&s, 2, 0.9), dl_fit_sched_lr(&orig, 2, 0.9) * 0.2, 1e-12);
    ck_assert_int_eq(dl_fit_sched_scale_lr(&s, -1, &err), DL_EINVAL);
    const double bad[3] = {1e-3, NAN, 1e-3};
    ck_assert_int_eq(dl_fit_sched_set_lr(&s, pos, bad, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 1"));

    /* a group scheduled at 0 has nothing to scale: its remainder becomes the constant */
    dl_fit_sched z;
    memset(&z, 0, sizeof z);
    z.n_groups = 1;
    const double one = 1.0;
    const dl_sched zero = {DL_SCHED_NO, 0, 0};
    ck_assert_int_eq(dl_sched_combine(&z.lr[0], 1, &one, &zero, &err), DL_OK);
    const double nv[1] = {5e-4};
    ck_assert_int_eq(dl_fit_sched_set_lr(&z, 0.4, nv, &err), DL_OK);
    ck_assert(dl_fit_sched_lr(&z, 0, 0.4) == 5e-4 && dl_fit_sched_lr(&z, 0, 0.9) == 5e-4);
}
END_TEST

START_TEST(validate_rejects_corrupt_schedules)
{
    dl_err err;
    dl_fit_sched s, bad;
    const double lr[3] = {1e-4, 1e-3, 1e-2};
    ck_assert_int_eq(dl_sched_one_cycle(&s, 3, lr, NULL, &err), DL_OK);
    ck_assert_int_eq(dl_fit_sched_validate(&s, &err), DL_OK);
    ck_assert_int_eq(dl_sched_fit(&s, 3, lr, &err), DL_OK);
    ck_assert_int_eq(dl_fit_sched_validate(&s, &err), DL_OK);
    ck_assert_int_eq(dl_sched_one_cycle(&s, 3, lr, NULL, &err), DL_OK);
    bad = s;
    bad.n_groups = 99;
    ck_assert_int_eq(dl_fit_sched_validate(&bad, &err), DL_EFORMAT);
    bad = s;
    bad.lr[1].n = 1000;
    ck_assert_int_eq(dl_fit_sched_validate(&bad, &err), DL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 1"));
    bad = s;
    bad.lr[2].ph[1].kind = (dl_sched_kind)42;
    ck_assert_int_eq(dl_fit_sched_validate(&bad, &err), DL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "group 2 phase 1"));
    bad = s;
    bad.lr[0].edge[1] = 1.5;
    ck_assert_int_eq(dl_fit_sched_validate(&bad, &err), DL_EFORMAT);
    bad = s;
    bad.mom.ph[0].end = NAN;
    ck_assert_int_eq(dl_fit_sched_validate(&bad, &err), DL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "momentum"));
    bad.has_mom = false; /* an unscheduled momentum is not looked at */
    ck_assert_int_eq(dl_fit_sched_validate(&bad, &err), DL_OK);
}
END_TEST

/* Compares a fit schedule, step by step, with a fixture table [n_epoch*n_iter, groups] (and the
 * momentum column when mom_key is given). The fixture holds float32 roundings of float64 values. */
static void compare_fit(const dl_tensor_map *m, const char *lr_key, const char *mom_key,
                        const dl_fit_sched *s, int n_epoch, int n_iter)
{
    const dl_named_tensor *t = dl_tensor_map_get(m, lr_key);
    ck_assert_msg(t != NULL, "fixture tensor '%s' missing", lr_key);
    ck_assert_int_eq(t->ndim, 2);
    ck_assert_int_eq(t->shape[0], n_epoch * n_iter);
    ck_assert_int_eq(t->shape[1], s->n_groups);
    const float *lr = t->data, *mom = NULL;
    if (mom_key) {
        const dl_named_tensor *tm = dl_tensor_map_get(m, mom_key);
        ck_assert_msg(tm != NULL && tm->shape[0] == n_epoch * n_iter, "fixture tensor '%s'",
                      mom_key);
        mom = tm->data;
    }
    for (int e = 0, k = 0; e < n_epoch; e++)
        for (int i = 0; i < n_iter; i++, k++) {
            double pos = dl_sched_pos(e, i, n_epoch, n_iter), mv;
            for (int g = 0; g < s->n_groups; g++) {
                double c = dl_fit_sched_lr(s, g, pos), r = lr[k * s->n_groups + g];
                ck_assert_msg(fabs(c - r) <= 1e-6 * fabs(r),
                              "%s step %d group %d: %.9g, expected %.9g", lr_key, k, g, c, r);
            }
            ck_assert(dl_fit_sched_mom(s, pos, &mv) == (mom != NULL));
            if (mom)
                ck_assert_msg(fabs(mv - mom[k]) <= 1e-6 * mom[k], "%s step %d: %.9g, expected %.9g",
                              mom_key, k, mv, (double)mom[k]);
        }
}

START_TEST(whole_fits_match_the_formulas)
{
    dl_err err;
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_msg(dl_safetensors_read(tu_fixture("optim/onecycle.safetensors"), &m, &err) == DL_OK,
                  "%s", err.msg);
    ck_assert_str_eq(dl_tensor_map_get_meta(&m, "groups"), "3");
    ck_assert_str_eq(dl_tensor_map_get_meta(&m, "n_iter"), "7");
    double lr[3];
    dl_fit_sched s;
    dl_lr_spec sl = {DL_LR_SLICE_HI, 0, 1e-3}, rg = {DL_LR_RANGE, 1e-5, 1e-3};
    ck_assert_int_eq(dl_lr_spread(&sl, 3, lr, &err), DL_OK);
    ck_assert_int_eq(dl_sched_one_cycle(&s, 3, lr, NULL, &err), DL_OK);
    compare_fit(&m, "one_cycle.lr", "one_cycle.mom", &s, 3, 7);
    ck_assert_int_eq(dl_lr_spread(&rg, 3, lr, &err), DL_OK);
    ck_assert_int_eq(dl_sched_flat_cos(&s, 3, lr, 0.75, 1e5, &err), DL_OK);
    compare_fit(&m, "flat_cos.lr", NULL, &s, 3, 7);
    dl_fine_tune_opts o = dl_fine_tune_defaults();
    o.base_lr = 3e-3;
    dl_fine_tune_plan p;
    ck_assert_int_eq(dl_sched_fine_tune(&p, 3, 2, &o, &err), DL_OK);
    ck_assert_int_eq(p.n_phases, 2);
    compare_fit(&m, "fine_tune.1.lr", "fine_tune.1.mom", &p.phase[0].sched, p.phase[0].epochs, 7);
    compare_fit(&m, "fine_tune.2.lr", "fine_tune.2.mom", &p.phase[1].sched, p.phase[1].epochs, 7);
    const dl_named_tensor *sw = dl_tensor_map_get(&m, "lrfind.lr");
    ck_assert(sw != NULL && sw->shape[0] == 100);
    dl_lrfind_cfg c = dl_lrfind_defaults();
    for (int i = 0; i < 100; i++)
        ASSERT_REL(dl_lrfind_lr(&c, i), ((const float *)sw->data)[i], 1e-6);
    dl_tensor_map_free(&m);
}
END_TEST

/* ---- LR finder ---- */

START_TEST(sweep_lrs_and_epochs)
{
    dl_lrfind_cfg c = dl_lrfind_defaults();
    ASSERT_REL(dl_lrfind_lr(&c, 0), 1e-7, 1e-12);
    ASSERT_REL(dl_lrfind_lr(&c, 10), 6.3096e-7, SPEC);
    ASSERT_REL(dl_lrfind_lr(&c, 50), 1e-3, 1e-12);
    ASSERT_REL(dl_lrfind_lr(&c, 94), 3.3113, SPEC);
    ASSERT_REL(dl_lrfind_lr(&c, 99), 8.3176, SPEC);
    ck_assert_int_eq(dl_lrfind_epochs(&c, 30), 4);
    ck_assert_int_eq(dl_lrfind_epochs(&c, 100), 2);
    ck_assert_int_eq(dl_lrfind_epochs(&c, 500), 1);
    c.num_it = 3; /* raised to 6 */
    ASSERT_REL(dl_lrfind_lr(&c, 3), 1e-7 * pow(1e8, 0.5), 1e-12);
}
END_TEST

START_TEST(smoothing_matches_fastai)
{
    dl_smooth s;
    dl_smooth_reset(&s);
    const double in[4] = {2, 1, 1, 0.5}, out[4] = {2.0, 1.494949, 1.326622, 1.113663};
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(dl_smooth_add(&s, in[k]) - out[k]) < 5e-7, "smoothed value %d", k);
}
END_TEST

START_TEST(stop_rules)
{
    dl_lrfind_cfg c = dl_lrfind_defaults();
    double lrs[100], losses[100];
    dl_lrfind_run r;
    /* a flat loss runs the full 100 iterations */
    dl_lrfind_begin(&r, &c, lrs, losses);
    int i = 0;
    while (!dl_lrfind_record(&r, dl_lrfind_lr(&c, i), 1.0))
        i++;
    ck_assert_int_eq(r.n, 100);
    ck_assert_int_eq(i, 99);
    ck_assert_ptr_nonnull(strstr(r.stop_reason, "all iterations"));
    ck_assert(dl_lrfind_record(&r, 1, 1)); /* stays stopped, records nothing */
    ck_assert_int_eq(r.n, 100);

    /* the loss explodes at batch 20: stop at the first smoothed value > 4 x best, recorded */
    dl_lrfind_begin(&r, &c, lrs, losses);
    dl_smooth sm;
    dl_smooth_reset(&sm);
    double best = INFINITY;
    int expect = -1;
    for (int k = 0; k < 100 && expect < 0; k++) {
        double v = dl_smooth_add(&sm, k < 20 ? 1.0 : 1000.0);
        best = v < best ? v : best;
        if (v > 4 * best)
            expect = k;
    }
    ck_assert_int_eq(expect, 20); /* 0.02*1000 pushes the debiased mean past 4 at once */
    for (i = 0; !dl_lrfind_record(&r, dl_lrfind_lr(&c, i), i < 20 ? 1.0 : 1000.0); i++)
        ;
    ck_assert_int_eq(i, expect);
    ck_assert_int_eq(r.n, expect + 1);
    ck_assert(losses[expect] > 4.0);
    ck_assert_ptr_nonnull(strstr(r.stop_reason, "4x"));

    /* a NaN loss stops at once */
    dl_lrfind_begin(&r, &c, lrs, losses);
    for (i = 0; i < 5; i++)
        ck_assert(!dl_lrfind_record(&r, dl_lrfind_lr(&c, i), 2.0));
    ck_assert(dl_lrfind_record(&r, dl_lrfind_lr(&c, 5), NAN));
    ck_assert_int_eq(r.n, 6);
    ck_assert_ptr_nonnull(strstr(r.stop_reason, "not finite"));

    /* a loss that settles at 3.5x the best never trips the 4x rule */
    dl_lrfind_begin(&r, &c, lrs, losses);
    for (i = 0; !dl_lrfind_record(&r, 1, i < 20 ? 1.0 : 3.5); i++)
        ;
    ck_assert_int_eq(r.n, 100);
    ck_assert(losses[99] > 3.0 && losses[99] < 4.0);

    /* stop_div off: only NaN and num_it stop */
    c.stop_div = false;
    dl_lrfind_begin(&r, &c, lrs, losses);
    for (i = 0; !dl_lrfind_record(&r, 1, i < 20 ? 1.0 : 1000.0); i++)
        ;
    ck_assert_int_eq(r.n, 100);
}
END_TEST

START_TEST(window_rules)
{
    double l[100];
    for (int k = 0; k < 100; k++)
        l[k] = 1.0;
    int a, n;
    dl_lrfind_window(l, 100, 100, &a, &n); /* [10, 95): 85 points */
    ck_assert_int_eq(a, 10);
    ck_assert_int_eq(n, 85);
    l[50] = NAN;
    dl_lrfind_window(l, 100, 100, &a, &n); /* cut at the first NaN */
    ck_assert_int_eq(n, 40);
    l[50] = INFINITY;
    dl_lrfind_window(l, 100, 100, &a, &n);
    ck_assert_int_eq(n, 40);
    dl_lrfind_window(l, 12, 100, &a, &n); /* [10, 7): empty */
    ck_assert_int_eq(n, 0);
    dl_lrfind_window(l, 3, 100, &a, &n);
    ck_assert_int_eq(n, 0);
    dl_lrfind_window(l, 0, 100, &a, &n);
    ck_assert_int_eq(n, 0);
    dl_lrfind_window(l, 20, 6, &a, &n); /* [0, 15) */
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(n, 15);
}
END_TEST

static const double VA[12] = {2.0,  1.98, 1.95, 1.90, 1.70, 1.40,
                              1.10, 0.90, 0.85, 0.95, 1.30, 2.50};
static const double VB[40] = {2.299,  2.2986, 2.2979, 2.2969, 2.2955, 2.2935, 2.2906, 2.2864,
                              2.2802, 2.2714, 2.2586, 2.2404, 2.2146, 2.1784, 2.1284, 2.0607,
                              1.9716, 1.8588, 1.7225, 1.5668, 1.4,    1.2332, 1.0775, 0.9412,
                              0.8284, 0.7393, 0.6716, 0.6216, 0.5854, 0.5596, 0.5414, 0.5286,
                              0.5198, 0.5136, 0.5094, 0.508,  0.5285, 0.5766, 0.6521, 0.7549};

START_TEST(spec_vector_a)
{
    double lrs[12];
    for (int k = 0; k < 12; k++)
        lrs[k] = pow(10, -6 + 0.5 * k);
    dl_suggestion v = dl_suggest_valley(lrs, VA, 12);
    ck_assert(v.ok);
    ck_assert_int_eq(v.idx, 3);
    ASSERT_REL(v.lr, 3.1623e-5, SPEC);
    ck_assert(v.x == lrs[3] && v.y == VA[3]);
    dl_suggestion m = dl_suggest_minimum(lrs, VA, 12);
    ck_assert(m.ok);
    ASSERT_REL(m.lr, 1e-3, 1e-12);
    /* the marker is drawn where the value it lists lies: lr_min/10 = lrs[6], on the curve */
    ASSERT_REL(m.x, 1e-3, 1e-12);
    ck_assert_int_eq(m.idx, 6);
    ASSERT_REL(m.y, VA[6], 1e-12);
    dl_suggestion s = dl_suggest_steep(lrs, VA, 12);
    ck_assert(s.ok);
    ck_assert_int_eq(s.idx, 4);
    ASSERT_REL(s.lr, 1e-4, 1e-12);
    dl_suggestion sl = dl_suggest_slide(lrs, VA, 12, 15, 0.005, 1.0); /* 12 < 16 points */
    ck_assert(!sl.ok);
    ck_assert_ptr_nonnull(strstr(sl.reason, "needs 16"));
}
END_TEST

START_TEST(spec_vector_b)
{
    double lrs[40];
    for (int k = 0; k < 40; k++)
        lrs[k] = pow(10, -6 + 0.15 * k);
    dl_suggestion v = dl_suggest_valley(lrs, VB, 40);
    ck_assert(v.ok);
    ck_assert_int_eq(v.idx, 17);
    ASSERT_REL(v.lr, 3.5481e-4, SPEC);
    dl_suggestion m = dl_suggest_minimum(lrs, VB, 40);
    ASSERT_REL(m.lr, 1.7783e-2, SPEC); /* lowest loss at point 35, lr 0.17783 */
    ASSERT_REL(m.x, 1.7783e-2, SPEC);  /* marked at the lr it lists: between points 28 and 29 */
    ck_assert_int_eq(m.idx, 28);
    ck_assert(m.y >= fmin(VB[28], VB[29]) && m.y <= fmax(VB[28], VB[29]));
    /* steep: segments 19->20 and 20->21 both fall by exactly 0.1668 over equal log steps, a tie
     * that float rounding breaks either way (torch float64 picks 20, as the spec says; float32 and
     * numpy pick 19). Either answer is fastai's; anything else is wrong. */
    dl_suggestion s = dl_suggest_steep(lrs, VB, 40);
    ck_assert(s.ok);
    ck_assert_msg(s.idx == 19 || s.idx == 20, "steep idx %d", s.idx);
    ASSERT_REL(s.lr, lrs[s.idx], 0);
    dl_suggestion sl = dl_suggest_slide(lrs, VB, 40, 15, 0.005, 1.0);
    ck_assert(sl.ok);
    ASSERT_REL(sl.lr, 1e-6, 1e-12);
    ASSERT_REL(sl.y, 2.299, 1e-12); /* marker at the first point */
}
END_TEST

START_TEST(hand_computed_curves)
{
    double lrs[20], l[20];
    for (int k = 0; k < 20; k++) {
        lrs[k] = pow(10, -5 + 0.1 * k);
        l[k] = 1.0 - 0.01 * k; /* straight line: every gradient is -0.01 */
    }
    /* slide: |g[19] - g[4]| = 0 <= thresh at once, so it keeps lrs[19 - 15] */
    dl_suggestion sl = dl_suggest_slide(lrs, l, 20, 15, 0.005, 1.0);
    ck_assert(sl.ok);
    ck_assert_int_eq(sl.idx, 4);
    ASSERT_REL(sl.lr, lrs[4], 1e-15);
    ASSERT_REL(sl.y, l[4], 1e-12);
    sl = dl_suggest_slide(lrs, l, 20, 15, 0.005, 0.5); /* adjust_value scales the lr */
    ASSERT_REL(sl.lr, lrs[4] * 0.5, 1e-15);
    /* 17 points on the same line with l[2] raised by 0.1: g[1] = 0.04 (central difference), g[0]
     * and g[15], g[16] stay -0.01 (one-sided at the ends). First test |g[16] - g[1]| = 0.05 >
     * thresh moves the candidate to lrs[1]; the next, |g[15] - g[0]| = 0, stops there. */
    double l17[17];
    for (int k = 0; k < 17; k++)
        l17[k] = 1.0 - 0.01 * k + (k == 2 ? 0.1 : 0.0);
    sl = dl_suggest_slide(lrs, l17, 17, 15, 0.005, 1.0);
    ck_assert(sl.ok);
    ck_assert_int_eq(sl.idx, 1);
    /* valley on a monotone decrease of 20 points: lds[19] = 20, max_start = -1,
     * sections = 20/3 -> idx = -1 + 6 + 3 = 8 */
    dl_suggestion v = dl_suggest_valley(lrs, l, 20);
    ck_assert_int_eq(v.idx, 8);
    /* steep: the only steeper segment wins */
    l[12] = l[11] - 0.5;
    for (int k = 13; k < 20; k++)
        l[k] = l[12] - 0.01 * (k - 12);
    dl_suggestion s = dl_suggest_steep(lrs, l, 20);
    ck_assert_int_eq(s.idx, 11);
    /* valley quirk: a longest decreasing run of 2 at the start gives index -1 = the last point */
    const double two[4] = {2.0, 1.0, 3.0, 4.0}, lr4[4] = {1e-4, 1e-3, 1e-2, 1e-1};
    v = dl_suggest_valley(lr4, two, 4);
    ck_assert(v.ok);
    ck_assert_int_eq(v.idx, 3);
    /* a loss that never decreases has no valley */
    const double up[4] = {1.0, 2.0, 3.0, 4.0};
    v = dl_suggest_valley(lr4, up, 4);
    ck_assert(!v.ok);
    ck_assert_ptr_nonnull(strstr(v.reason, "never decreases"));
}
END_TEST

/* A 100-point sweep whose loss falls, then turns NaN from point 30: every suggester looks only at
 * points 10..29, and says so where it cannot. */
START_TEST(nan_curve)
{
    dl_lrfind_cfg c = dl_lrfind_defaults();
    double lrs[100], l[100];
    for (int k = 0; k < 100; k++) {
        lrs[k] = dl_lrfind_lr(&c, k);
        l[k] = k < 30 ? 3.0 - 0.05 * k + 0.001 * k * k : NAN;
    }
    dl_suggestion out[DL_SUGGEST_COUNT];
    dl_lrfind_suggest_all(lrs, l, 100, 100, out);
    dl_suggestion v = dl_suggest_valley(lrs + 10, l + 10, 20),
                  m = dl_suggest_minimum(lrs + 10, l + 10, 20);
    ck_assert(out[DL_SUGGEST_VALLEY].ok && out[DL_SUGGEST_MINIMUM].ok && out[DL_SUGGEST_STEEP].ok);
    ck_assert_int_eq(out[DL_SUGGEST_VALLEY].idx, v.idx + 10);
    ck_assert(out[DL_SUGGEST_VALLEY].lr == v.lr);
    /* the quadratic 3 - 0.05k + 0.001k^2 falls all the way to k=25 (its vertex) and rises after */
    ck_assert(out[DL_SUGGEST_MINIMUM].lr == m.lr && m.lr == lrs[25] / 10);
    /* its marker: lrs[25]/10 lies 12.5 sweep steps lower, between points 12 and 13 */
    ck_assert(out[DL_SUGGEST_MINIMUM].x == m.lr);
    ck_assert_msg(out[DL_SUGGEST_MINIMUM].idx == 12 || out[DL_SUGGEST_MINIMUM].idx == 13,
                  "minimum idx %d", out[DL_SUGGEST_MINIMUM].idx);
    ck_assert(out[DL_SUGGEST_SLIDE].ok); /* 20 points >= 16 */
    for (int k = 0; k < DL_SUGGEST_COUNT; k++)
        ck_assert(isfinite(out[k].lr) && out[k].idx >= 10 && out[k].idx < 30);

    /* NaN from point 20: 10 points, too few for slide, which says why */
    for (int k = 20; k < 100; k++)
        l[k] = NAN;
    dl_lrfind_suggest_all(lrs, l, 100, 100, out);
    ck_assert(out[DL_SUGGEST_VALLEY].ok);
    ck_assert(!out[DL_SUGGEST_SLIDE].ok);
    ck_assert_ptr_nonnull(strstr(out[DL_SUGGEST_SLIDE].reason, "not finite from point 20"));
    /* NaN from point 10: nothing left */
    for (int k = 10; k < 20; k++)
        l[k] = NAN;
    dl_lrfind_suggest_all(lrs, l, 100, 100, out);
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        ck_assert(!out[k].ok);
        ck_assert_ptr_nonnull(strstr(out[k].reason, "not finite"));
    }
}
END_TEST

/* fastai #3658: a sweep that diverged after a few points leaves an empty window. */
START_TEST(diverged_early_curve)
{
    dl_lrfind_cfg c = dl_lrfind_defaults();
    double lrs[100], l[100];
    dl_lrfind_run r;
    dl_lrfind_begin(&r, &c, lrs, l);
    int i = 0;
    while (!dl_lrfind_record(&r, dl_lrfind_lr(&c, i), i < 7 ? 1.0 : 1e4))
        i++;
    ck_assert_int_eq(r.n, 8);
    dl_suggestion out[DL_SUGGEST_COUNT];
    dl_lrfind_suggest_all(r.lrs, r.losses, r.n, c.num_it, out);
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        ck_assert_msg(!out[k].ok, "%s suggested %g", dl_suggest_name(k), out[k].lr);
        ck_assert_ptr_nonnull(strstr(out[k].reason, "stopped after 8 of 100"));
    }
    /* and the suggesters themselves never crash on 0 or 1 points */
    ck_assert(!dl_suggest_valley(lrs, l, 0).ok);
    ck_assert(!dl_suggest_steep(lrs, l, 1).ok);
    ck_assert(!dl_suggest_minimum(lrs, l, 0).ok);
    ck_assert(!dl_suggest_slide(lrs, l, 0, 15, 0.005, 1).ok);
    ck_assert(dl_suggest_minimum(lrs, l, 1).ok);
    ck_assert_str_eq(dl_suggest_name(DL_SUGGEST_VALLEY), "valley");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc = tcase_create("sched");
    tcase_add_test(tc, building_blocks);
    tcase_add_test(tc, one_cycle_worked_example);
    tcase_add_test(tc, fit_and_flat_cos);
    tcase_add_test(tc, even_mults_and_spreading);
    tcase_add_test(tc, lr_strings);
    tcase_add_test(tc, fine_tune_phases);
    tcase_add_test(tc, mid_run_rescale);
    tcase_add_test(tc, validate_rejects_corrupt_schedules);
    tcase_add_test(tc, whole_fits_match_the_formulas);
    suite_add_tcase(s, tc);
    TCase *lf = tcase_create("lrfind");
    tcase_add_test(lf, sweep_lrs_and_epochs);
    tcase_add_test(lf, smoothing_matches_fastai);
    tcase_add_test(lf, stop_rules);
    tcase_add_test(lf, window_rules);
    tcase_add_test(lf, spec_vector_a);
    tcase_add_test(lf, spec_vector_b);
    tcase_add_test(lf, hand_computed_curves);
    tcase_add_test(lf, nan_curve);
    tcase_add_test(lf, diverged_early_curve);
    suite_add_tcase(s, lf);
    return s;
}

int main(void) { return tu_run(suite()); }
