/* check_learn_diverge: the exploding-loss rule (core/learn/diverge.h) on plain numbers:
 *   - a loss that explodes (the `--lr =50` shape, 2.3 -> 1e9) is caught after 5 batches above
 *     4x its best, long before it becomes NaN;
 *   - a healthy descent, a single spike, and a small loss that bumps to 5x its best but stays
 *     below the first loss are not divergence;
 *   - a loss that stays above the limit but falls back below where it crossed is not caught;
 *   - healthy() is false while the loss is above the limit (no "last good" copy then), and
 *     rearm() after a restore starts the count again. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "core/learn/diverge.h"
#include "tests/testutil.h"

static int first_alarm(const double *s, int n)
{
    dl_diverge d;
    dl_diverge_reset(&d);
    for (int i = 0; i < n; i++)
        if (dl_diverge_add(&d, s[i]))
            return i;
    return -1;
}

START_TEST(an_exploding_loss_is_caught_after_five_batches_above_the_limit)
{
    double s[20];
    for (int i = 0; i < 20; i++)
        s[i] = i < 6 ? 2.3 - 0.1 * i : 2.0 * pow(30.0, i - 5); /* 60, 1800, ... 1e9 by i = 11 */
    ck_assert_int_eq(first_alarm(s, 20), 10); /* above from i = 6: the 5th batch is i = 10 */
    dl_diverge d;
    dl_diverge_reset(&d);
    for (int i = 0; i < 8; i++)
        dl_diverge_add(&d, s[i]);
    ck_assert(!dl_diverge_healthy(&d)); /* climbing: no last-good copy now */
    char why[160];
    dl_diverge_why(&d, s[7], why, sizeof why);
    ck_assert_ptr_nonnull(strstr(why, "above 4x its best 1.8"));
    dl_diverge_rearm(&d);
    ck_assert(dl_diverge_healthy(&d));
}
END_TEST

START_TEST(noise_spikes_and_small_bumps_are_not_divergence)
{
    double descent[200];
    for (int i = 0; i < 200; i++)
        descent[i] = 2.3 * exp(-i / 40.0) + 0.05 * ((i * 7919) % 13) / 13.0;
    ck_assert_int_eq(first_alarm(descent, 200), -1);
    /* one spike of 20x for a single batch, then back */
    double spike[40];
    for (int i = 0; i < 40; i++)
        spike[i] = i == 20 ? 30.0 : 1.5;
    ck_assert_int_eq(first_alarm(spike, 40), -1);
    /* best 0.02, then 0.1 for a long while: 5x the best but far below the first loss (2.3) */
    double bump[60];
    for (int i = 0; i < 60; i++)
        bump[i] = i == 0 ? 2.3 : i < 30 ? 0.02 : 0.1 + 0.001 * i;
    ck_assert_int_eq(first_alarm(bump, 60), -1);
    /* above the limit but falling back below where it crossed: recovering, not diverging */
    double rec[12] = {2.3, 2.0, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5};
    ck_assert_int_eq(first_alarm(rec, 12), -1);
    /* non-finite values are left to the learner's NaN check */
    double nan_s[3] = {2.3, NAN, INFINITY};
    ck_assert_int_eq(first_alarm(nan_s, 3), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learn_diverge");
    TCase *tc = tcase_create("rule");
    tcase_add_test(tc, an_exploding_loss_is_caught_after_five_batches_above_the_limit);
    tcase_add_test(tc, noise_spikes_and_small_bumps_are_not_divergence);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
