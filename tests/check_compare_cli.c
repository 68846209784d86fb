/* check_compare_cli: `dllab compare` end to end through the built binary on a fixture store:
 * the text table (figures with epochs, only the differing hyper-parameters, "—" for a missing
 * key), --all-params, --json parsed back (figures, deltas against the store's baseline, params),
 * usage errors and unknown runs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/check_compare_fixture.h"
#include "tests/testutil.h"

static char *dir;
static int64_t ids[3];
static char out[1 << 16];

static int dllab(const char *args)
{
    char cmd[8192];
    const char *bd = getenv("top_builddir");
    snprintf(cmd, sizeof cmd, "DLLAB_RUNS='%s' '%s/src/dllab' %s </dev/null 2>&1", dir, bd ? bd : ".", args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void setup(void)
{
    dir = tu_mkdtemp();
    cf_build(dir, ids);
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

/* The line of the text table that starts with key. */
static const char *line_of(const char *key)
{
    size_t k = strlen(key);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, k) == 0 && l[k] == ' ')
            return l;
    ck_abort_msg("no line '%s' in:\n%s", key, out);
    return NULL;
}

START_TEST(text_table_and_diff)
{
    ck_assert_int_eq(dllab("compare lr-a-1 lr-b-1 lr-c-1 --no-tui"), 0);
    ck_assert_ptr_nonnull(strstr(line_of("run"), "lr-c-1"));
    ck_assert_ptr_nonnull(strstr(line_of("status"), "finished"));
    ck_assert_ptr_nonnull(strstr(line_of("best valid_loss"), "@3")); /* run b improves to its last epoch */
    ck_assert_ptr_nonnull(strstr(line_of("epochs"), "4"));
    /* only lr, prep.size and pretrained differ; arch is shared */
    ck_assert_ptr_nonnull(strstr(line_of("lr"), "0.01"));
    ck_assert_ptr_nonnull(strstr(line_of("prep.size"), "64"));
    ck_assert_ptr_nonnull(strstr(line_of("pretrained"), "\xe2\x80\x94"));
    ck_assert_ptr_null(strstr(out, "\narch "));
    ck_assert_ptr_null(strstr(out, "baseline:"));
    ck_assert_int_eq(dllab("compare lr-a-1 lr-c-1 --no-tui --all-params"), 0);
    ck_assert_ptr_nonnull(strstr(line_of("arch"), "resnet-xs"));
    ck_assert_ptr_nonnull(strstr(out, "!prep.size"));
}
END_TEST

START_TEST(json_with_baseline)
{
    ck_assert_int_eq(dllab("baseline lr-a-1"), 0);
    ck_assert_int_eq(dllab("compare lr-a-1 lr-b-1 --json"), 0);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    ck_assert_msg(root != NULL, "%s in\n%s", je.text, out);
    ck_assert_str_eq(json_string_value(json_object_get(root, "baseline")), "lr-a-1");
    ck_assert_uint_eq(json_array_size(json_object_get(root, "runs")), 2);
    json_t *figs = json_object_get(root, "figures"), *best = NULL;
    for (size_t i = 0; i < json_array_size(figs); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(figs, i), "name")), "best valid_loss") == 0)
            best = json_array_get(figs, i);
    ck_assert_ptr_nonnull(best);
    double a = json_real_value(json_array_get(json_object_get(best, "values"), 0));
    double b = json_real_value(json_array_get(json_object_get(best, "values"), 1));
    double d = json_real_value(json_array_get(json_object_get(best, "deltas"), 1));
    ck_assert(fabs(a - 1.5 * exp(-1.5)) < 1e-9);
    ck_assert(fabs(b - 1.5 * exp(-4.0)) < 1e-9);
    ck_assert(fabs(d - (b - a)) < 1e-9);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(best, "epochs"), 1)), 3);
    /* --json lists every key, flagged */
    json_t *params = json_object_get(root, "params");
    int differing = 0;
    for (size_t i = 0; i < json_array_size(params); i++)
        differing += json_is_true(json_object_get(json_array_get(params, i), "differs"));
    ck_assert_int_eq(differing, 1);
    ck_assert_uint_eq(json_array_size(params), 4);
    json_decref(root);
    /* the text form shows the deltas and names the baseline */
    ck_assert_int_eq(dllab("compare lr-a-1 lr-b-1 --no-tui"), 0);
    ck_assert_ptr_nonnull(strstr(out, "baseline: lr-a-1"));
    ck_assert_ptr_nonnull(strstr(line_of("epochs"), "(+1)"));
    /* --baseline overrides the store's */
    ck_assert_int_eq(dllab("compare lr-a-1 lr-b-1 --no-tui --baseline lr-b-1"), 0);
    ck_assert_ptr_nonnull(strstr(out, "baseline: lr-b-1"));
    ck_assert_ptr_nonnull(strstr(line_of("epochs"), "(-1)"));
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_int_eq(dllab("compare lr-a-1 --no-tui"), 2);
    ck_assert_ptr_nonnull(strstr(out, "2 to"));
    ck_assert_int_eq(dllab("compare lr-a-1 nope-9 --no-tui"), 1);
    ck_assert_int_eq(dllab("compare lr-a-1 lr-a-1 --no-tui"), 1);
    ck_assert_ptr_nonnull(strstr(out, "twice"));
    ck_assert_int_eq(dllab("compare lr-a-1 lr-b-1 --baseline lr-c-1 --no-tui"), 2);
    ck_assert_int_eq(dllab("compare lr-a-1 lr-b-1 --bogus"), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare_cli");
    TCase *tc = tcase_create("compare");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, text_table_and_diff);
    tcase_add_test(tc, json_with_baseline);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
