/* check_data_cli: `dllab data` end to end — the summary a user sees (source kind, counts per split
 * and class, labels kind, sizes, skipped files with reasons) and exit codes (0 ok, 1 bad data with
 * a file:line message, 2 usage). Runs $top_builddir/src/dllab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/data_testutil.h"
#include "tests/testutil.h"

/* Runs dllab with args (stderr merged), returns the exit code and the output in out. */
static int run(const char *args, char *out, size_t cap)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' data %s 2>&1", tu_dllab(), args);
    return tu_sh(cmd, out, cap);
}

static void has(const char *out, const char *needle)
{
    ck_assert_msg(strstr(out, needle) != NULL, "output lacks '%s':\n%s", needle, out);
}

START_TEST(summary_of_a_folder_with_a_bad_file)
{
    char *d = tu_mkdtemp();
    const char *cls[] = {"cat", "dog"};
    du_class_tree(d, "train", cls, 2, 20);
    du_class_tree(d, "valid", cls, 2, 5);
    du_write_text(d, "train/dog/broken.jpg", "not really a jpeg");
    char args[4200], out[16384];
    snprintf(args, sizeof args, "'%s' --size 32", d);
    ck_assert_int_eq(run(args, out, sizeof out), 0);
    has(out, "folder per class, train/valid folders");
    has(out, "items:       40 train, 10 valid");
    has(out, "single-label, 2 classes");
    has(out, "image size:  40x30 (all)");
    has(out, "prepared:    3x32x32, resize crop");
    has(out, "cat");
    has(out, "skipped 1 file(s):");
    has(out, "broken.jpg: not a JPEG or PNG image");
    tu_rmtree(d);
    free(d);
}
END_TEST

START_TEST(bad_csv_and_usage_exit_codes)
{
    char *d = tu_mkdtemp();
    du_write_image(d, "a.jpg", 20, 20, 3, du_smooth, 0);
    du_write_text(d, "labels.csv", "fname,labels,is_valid\na.jpg,x,maybe\n");
    char args[4200], out[16384];
    snprintf(args, sizeof args, "'%s' --csv labels.csv --valid-col is_valid", d);
    ck_assert_int_eq(run(args, out, sizeof out), 1);
    has(out, "labels.csv:2: column 'is_valid' is 'maybe', expected true/false/1/0");
    ck_assert_int_eq(run("", out, sizeof out), 2);
    has(out, "missing DATA");
    ck_assert_int_eq(run("fashion-mnist --resize sideways", out, sizeof out), 2);
    has(out, "--resize: 'sideways' is not one of crop, pad, pad-zeros, squish");
    ck_assert_int_eq(run("fashion-mnist --bogus", out, sizeof out), 2);
    has(out, "'--bogus'");
    ck_assert_int_eq(run("--help", out, sizeof out), 0);
    has(out, "usage: dllab data DATA");
    tu_rmtree(d);
    free(d);
}
END_TEST

START_TEST(builtin_sets)
{
    char out[16384];
    ck_assert_int_eq(run("fashion-mnist --limit 500 --valid-limit 100", out, sizeof out), 0);
    has(out, "built-in fashion-mnist");
    has(out, "items:       500 train, 100 valid");
    has(out, "Ankle boot");
    has(out, "prepared:    1x28x28");
    char *d = tu_mkdtemp(), args[4200];
    snprintf(args, sizeof args, "fashion-mosaic --cache '%s' --mosaic-train 40 --mosaic-valid 10",
             d);
    ck_assert_int_eq(run(args, out, sizeof out), 0);
    has(out, "built-in fashion-mosaic (multi-label)");
    has(out, "items:       40 train, 10 valid");
    has(out, "multi-label");
    has(out, "image size:  64x64 (all)");
    tu_rmtree(d);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, summary_of_a_folder_with_a_bad_file);
    tcase_add_test(tc, bad_csv_and_usage_exit_codes);
    tcase_add_test(tc, builtin_sets);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
