/* ub_probe_main: opens a folder data set whose one file named .jpg is text, so the image probe
 * fails for it. Built by tests/ub-probe.sh with core/data/dataset.c compiled under clang's
 * -fsanitize=bool and every local pattern-filled: a flag read before the probe set it aborts. */
#include <stdio.h>
#include <stdlib.h>

#include "core/data/data.h"
#include "tests/data_testutil.h"
#include "tests/testutil.h"

START_TEST(open_with_a_text_file_named_jpg)
{
    char *dir = tu_mkdtemp();
    static const char *const classes[] = {"a", "b"};
    du_class_tree(dir, "", classes, 2, 15); /* 1 bad file in 31: under the 5 % limit */
    du_write_text(dir, "a/not-an-image.jpg", "just text\n");
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = dir;
    cfg.size = 16;
    dl_dataset *ds = NULL;
    dl_err err = {0};
    ck_assert_msg(dl_data_open(&cfg, &ds, &err) == DL_OK, "%s", err.msg);
    ck_assert_uint_eq(dl_data_n_skipped(ds), 1);
    dl_data_close(ds);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ub-probe");
    TCase *tc = tcase_create("probe");
    tcase_add_test(tc, open_with_a_text_file_named_jpg);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
