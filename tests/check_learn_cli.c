/* check_learn_cli: the headless commands end to end, through the built dllab binary:
 *   - usage errors exit 2 with a message naming the option;
 *   - `dllab train ... --no-tui` prints fastai's epoch table and a final line naming the run;
 *   - SIGTERM mid-run stops at a batch boundary, saves a checkpoint and marks the run stopped
 *     (exit 1); `--resume RUN` finishes it, and its last epoch row equals the uninterrupted run's;
 *   - `--resume RUN --from-epoch 0` rewinds into a new run that reproduces epoch 1; a fine-tune
 *     run rewinds into its unfrozen phase from the end of the frozen one or from inside it;
 *   - `dllab lrfind` prints the four suggestions; `dllab interpret` the confusion matrix;
 *   - `dllab predict` classifies image files of a folder dataset with the run's model, and
 *     `--pretrained RUN` fine-tunes that run's body with a fresh head.
 * Small data (Fashion-MNIST 640/128, a tiny ResNet) keeps it to seconds; skipped without
 * Debian's Fashion-MNIST. */
#include <fcntl.h>
#include <png.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

#define SMALL                                                                                      \
    "--limit 640 --valid-limit 128 --bs 64 --no-aug --threads 1 --head torchvision "               \
    "--arch resnet-custom:basic:1,1,1:8,16,32:small --lr 1e-2"

static char dllab[1024], runs[1024];
static char out[65536];

/* Runs `dllab ARGS` (shell syntax) and captures stdout into out; returns the exit code. */
static int run(const char *args)
{
    char cmd[8192]; /* args can be 4 KB, beside two paths */
    snprintf(cmd, sizeof cmd, "%s %s --runs %s 2>/dev/null", dllab, args, runs);
    return tu_sh(cmd, out, sizeof out);
}

/* The run name from "run NAME finished|stopped ...". */
static void run_name(const char *text, const char *word, char *name, size_t cap)
{
    const char *p = text, *hit = NULL;
    while ((p = strstr(p, "\nrun ")) != NULL) {
        char w[64];
        if (sscanf(p + 5, "%*s %63s", w) == 1 && strcmp(w, word) == 0)
            hit = p + 5;
        p++;
    }
    ck_assert_msg(hit != NULL, "no 'run NAME %s' line in:\n%s", word, text);
    sscanf(hit, "%255s", name);
    (void)cap;
}

/* The table row of epoch e (the last one printed), as text. */
static void row_of(const char *text, int e, char *row, size_t cap)
{
    const char *p = text, *hit = NULL;
    char pre[16];
    snprintf(pre, sizeof pre, "\n%d ", e);
    while ((p = strstr(p, pre)) != NULL)
        hit = ++p;
    ck_assert_msg(hit != NULL, "no row for epoch %d in:\n%s", e, text);
    size_t n = strcspn(hit, "\n");
    snprintf(row, cap, "%.*s", (int)n, hit);
    /* drop the time column: everything but the last field */
    char *last = strrchr(row, ' ');
    while (last && last > row && last[-1] == ' ')
        last--;
    if (last)
        *last = 0;
}

static bool setup(void)
{
    snprintf(dllab, sizeof dllab, "%s", tu_dllab()); /* execv wants a char * */
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "check_learn_cli: Fashion-MNIST not installed; skipped\n");
        return false;
    }
    char *d = tu_mkdtemp();
    snprintf(runs, sizeof runs, "%s", d);
    free(d);
    return true;
}

START_TEST(usage_errors_exit_2)
{
    if (!setup())
        return;
    ck_assert_int_eq(run("train"), 2);
    ck_assert_int_eq(run("train fashion-mnist --bs zero"), 2);
    ck_assert_int_eq(run("train fashion-mnist --lr 1e-2..1e-4"), 2);
    ck_assert_int_eq(run("train fashion-mnist --from-epoch 1"), 2);
    ck_assert_int_eq(run("lrfind fashion-mnist --metric f1"), 2);
    ck_assert_int_eq(run("predict"), 2);
    ck_assert_int_eq(run("interpret"), 2);
    ck_assert_int_eq(run("train --help"), 0);
    ck_assert_ptr_nonnull(strstr(out, "--fine-tune"));
    tu_rmtree(runs);
}
END_TEST

START_TEST(train_table_stop_resume_rewind_interpret_lrfind)
{
    if (!setup())
        return;
    char name[256], row_a[256], row_b[256], row_c[256];

    /* A: uninterrupted */
    ck_assert_int_eq(run("train fashion-mnist --epochs 3 --name a --no-tui " SMALL), 0);
    ck_assert_msg(strstr(out, "epoch       train_loss  valid_loss  error_rate  time") != NULL, "%s",
                  out);
    run_name(out, "finished", name, sizeof name);
    ck_assert_str_eq(name, "a-1");
    row_of(out, 2, row_a, sizeof row_a);
    char a_out[65536];
    snprintf(a_out, sizeof a_out, "%s", out);

    /* B: same, stopped by SIGTERM once epoch 0 is printed, then resumed */
    char *argv[40];
    char small[] = SMALL;
    int n = 0;
    argv[n++] = dllab;
    argv[n++] = "train";
    argv[n++] = "fashion-mnist";
    argv[n++] = "--epochs";
    argv[n++] = "3";
    argv[n++] = "--name";
    argv[n++] = "b";
    argv[n++] = "--no-tui";
    argv[n++] = "--runs";
    argv[n++] = runs;
    for (char *save, *t = strtok_r(small, " ", &save); t && n < 39; t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    argv[n] = NULL;
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execv(dllab, argv);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char line[512], got[8192] = "";
    bool signalled = false;
    while (fgets(line, sizeof line, f)) {
        strncat(got, line, sizeof got - strlen(got) - 1);
        if (!signalled && line[0] == '0' && line[1] == ' ') {
            kill(pid, SIGTERM);
            signalled = true;
        }
    }
    fclose(f);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(signalled);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d after SIGTERM:\n%s",
                  WEXITSTATUS(st), got);
    ck_assert_msg(strstr(got, "run b-1 stopped") != NULL, "%s", got);

    ck_assert_int_eq(run("train --resume b-1 --no-tui"), 0);
    run_name(out, "finished", name, sizeof name);
    ck_assert_str_eq(name, "b-1");
    row_of(out, 2, row_b, sizeof row_b);
    ck_assert_str_eq(row_a, row_b); /* the continuation reproduces the uninterrupted run */
    /* b-1 is finished now: resuming it again says so and fails. */
    char again[8192];
    snprintf(again, sizeof again, "%s train --resume b-1 --no-tui --runs %s 2>&1", dllab, runs);
    ck_assert_int_eq(tu_sh(again, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "run b-1 has finished all its epochs: nothing to resume") != NULL,
                  "%s", out);

    /* C: rewind run a to epoch 0: a new run whose epochs 1 and 2 reproduce a's */
    ck_assert_int_eq(run("train --resume a-1 --from-epoch 0 --no-tui"), 0);
    ck_assert_msg(strstr(out, "\n0 ") == NULL, "rewind re-ran epoch 0:\n%s", out);
    run_name(out, "finished", name, sizeof name);
    ck_assert_str_eq(name, "a-1-rewind-1");
    row_of(out, 2, row_c, sizeof row_c);
    ck_assert_str_eq(row_a, row_c);

    /* interpret and lrfind */
    ck_assert_int_eq(run("interpret a-1 --top 3"), 0);
    ck_assert_ptr_nonnull(strstr(out, "confusion matrix (rows actual, columns predicted)"));
    ck_assert_ptr_nonnull(strstr(out, "Ankle boot"));
    ck_assert_ptr_nonnull(strstr(out, "top losses"));
    char cmd[8192]; /* the error, on stderr, names the run asked for */
    snprintf(cmd, sizeof cmd, "%s interpret a-1 --epoch 77 --runs %s 2>&1", dllab, runs);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "dllab interpret: a-1: the run has no checkpoint of epoch 77") !=
                      NULL,
                  "%s", out);
    ck_assert_int_eq(run("lrfind fashion-mnist --num-it 30 --no-tui " SMALL), 0);
    for (const char *m = "valley\0steep\0minimum\0slide\0"; *m; m += strlen(m) + 1)
        ck_assert_msg(strstr(out, m) != NULL, "no %s in:\n%s", m, out);
    ck_assert_ptr_nonnull(strstr(out, "curve and suggestions saved"));
    tu_rmtree(runs);
}
END_TEST

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* fine_tune(2, freeze_epochs 1): the store's epochs 0 (frozen) and 1, 2 (unfrozen). Rewinding
 * to epoch 0 continues with the unfrozen phase, to epoch 1 inside it; both end on the
 * uninterrupted run's last row. */
START_TEST(fine_tune_rewinds_into_either_phase)
{
    if (!setup())
        return;
    char name[256], row_a[256], row_b[256];
    ck_assert_int_eq(run("train fashion-mnist --fine-tune --epochs 2 --freeze-epochs 1 --name ft "
                         "--no-tui " SMALL),
                     0);
    ck_assert_int_eq(count_of(out, "epoch       train_loss"),
                     2); /* one table per phase, as fastai */
    row_of(out, 1, row_a, sizeof row_a);
    for (int k = 0; k < 2; k++) {
        char args[128];
        snprintf(args, sizeof args, "train --resume ft-1 --from-epoch %d --no-tui", k);
        ck_assert_int_eq(run(args), 0);
        ck_assert_msg(count_of(out, "epoch       train_loss") == 1, "from epoch %d:\n%s", k, out);
        ck_assert_int_eq(count_of(out, "\n0 "), k == 0 ? 1 : 0);
        run_name(out, "finished", name, sizeof name);
        ck_assert_ptr_nonnull(strstr(name, "ft-1-rewind-"));
        row_of(out, 1, row_b, sizeof row_b);
        ck_assert_msg(strcmp(row_a, row_b) == 0, "from epoch %d: '%s' vs uninterrupted '%s'", k,
                      row_b, row_a);
    }
    tu_rmtree(runs);
}
END_TEST

/* The text of FILE of run NAME's `dllab export --csv` folder (malloc'd). */
static char *exported(const char *name, const char *file)
{
    char args[2200], path[2200];
    snprintf(args, sizeof args, "export %s --csv %s/csv", name, runs);
    ck_assert_int_eq(run(args), 0);
    snprintf(path, sizeof path, "%s/csv/%s/%s", runs, name, file);
    char *t = tu_slurp(path, NULL);
    ck_assert_msg(t != NULL, "no %s", path);
    return t;
}

/* --lr V is fastai's float (every group V), ..HI its slice(HI); fine_tune's unfreeze event records
 * the rates of the unfrozen phase. */
START_TEST(lr_is_every_group_and_unfreeze_records_its_rates)
{
    if (!setup())
        return;
    const char *tiny = "--limit 128 --valid-limit 64 --bs 64 --no-aug --threads 1 --epochs 1 "
                       "--arch resnet-custom:basic:1,1,1:8,16,32:small --no-tui";
    char args[600];
    snprintf(args, sizeof args, "train fashion-mnist --fit --lr 2e-3 --name every %s", tiny);
    ck_assert_int_eq(run(args), 0);
    char *b = exported("every-1", "batches.csv");
    ck_assert_msg(strstr(b, "\n1,0,0.002,0.002,0.002,") != NULL, "%s", b);
    free(b);
    snprintf(args, sizeof args, "train fashion-mnist --fit --lr ..2e-3 --name slice %s", tiny);
    ck_assert_int_eq(run(args), 0);
    b = exported("slice-1", "batches.csv");
    ck_assert_msg(strstr(b, "\n1,0,0.0002,0.0002,0.002,") != NULL, "%s", b);
    free(b);
    /* fine_tune(1, base_lr 2e-3): frozen slice(2e-3), then slice(1e-5, 1e-3) */
    snprintf(args, sizeof args, "train fashion-mnist --pretrained every-1 --lr 2e-3 --name ft %s",
             tiny);
    ck_assert_int_eq(run(args), 0);
    char *e = exported("ft-1", "events.csv");
    const char *u = strstr(e, ",unfreeze,");
    ck_assert_msg(u != NULL, "%s", e);
    ck_assert_msg(strstr(u, "\"\"lr\"\":[1e-05,0.0001,0.001]") != NULL, "%s", e);
    free(e);
    tu_rmtree(runs);
}
END_TEST

/* A folder dataset of 32x32 PNGs, grey or (rgb) coloured: class "left" is bright on the left,
 * "right" on the right. */
static void write_png_as(const char *path, int bright_left, int seed, int rgb)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_init_io(p, fp);
    png_set_IHDR(p, info, 32, 32, 8, rgb ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    unsigned char row[32 * 3];
    for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
            int on = (x < 16) == bright_left;
            unsigned char v =
                (unsigned char)((on ? 200 : 40) + ((x * 7 + y * 13 + seed * 31) % 40));
            if (rgb) /* the class is in the brightness; red and blue differ per side */
                row[3 * x] = on ? v : 30, row[3 * x + 1] = v, row[3 * x + 2] = on ? 30 : v;
            else
                row[x] = v;
        }
        png_write_row(p, row);
    }
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(fp);
}

static void write_png(const char *path, int bright_left, int seed)
{
    write_png_as(path, bright_left, seed, 0);
}

START_TEST(predict_classifies_image_files)
{
    if (!setup())
        return;
    char *data = tu_mkdtemp(), path[2048];
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/%s", data, c ? "right" : "left");
        mkdir(path, 0755);
        for (int i = 0; i < 64; i++) {
            snprintf(path, sizeof path, "%s/%s/img%02d.png", data, c ? "right" : "left", i);
            write_png(path, !c, i);
        }
    }
    char args[4096];
    snprintf(args, sizeof args,
             "train %s --size 32 --epochs 8 --bs 16 --no-aug --threads 1 --lr =1e-2 "
             "--arch resnet-custom:basic:1,1:8,16:small --name f --no-tui",
             data);
    ck_assert_int_eq(run(args), 0);
    static char train_out[65536];
    snprintf(train_out, sizeof train_out, "%s", out);
    snprintf(args, sizeof args, "predict f-1 %s/left/img01.png %s/right/img02.png %s/missing.png",
             data, data, data);
    ck_assert_int_eq(run(args), 1); /* the missing file fails, the others are still predicted */
    char want[2200];
    snprintf(want, sizeof want, "%s/left/img01.png: left ", data);
    ck_assert_msg(strstr(out, want) != NULL, "expected '%s' in:\n%s\nafter training:\n%s", want,
                  out, train_out);
    snprintf(want, sizeof want, "%s/right/img02.png: right ", data);
    ck_assert_msg(strstr(out, want) != NULL, "expected '%s' in:\n%s", want, out);

    /* transfer: the body of f-1 with a fresh head, fine-tuned (two tables: frozen, then unfrozen)
     */
    snprintf(args, sizeof args,
             "train %s --size 32 --epochs 1 --bs 16 --no-aug --threads 1 "
             "--arch resnet-custom:basic:1,1:8,16:small --pretrained f-1 --name g --no-tui",
             data);
    ck_assert_int_eq(run(args), 0);
    const char *h1 = strstr(out, "epoch       train_loss");
    ck_assert_msg(h1 && strstr(h1 + 1, "epoch       train_loss"),
                  "fine-tune prints two tables:\n%s", out);
    ck_assert_ptr_nonnull(strstr(out, "run g-1 finished (2 epochs"));
    snprintf(args, sizeof args,
             "train %s --size 32 --arch resnet-custom:basic:1,1:8,16:small --pretrained nosuch "
             "--no-tui",
             data);
    ck_assert_int_eq(run(args), 1);

    /* RGB images from the 1-channel f-1: the stem is adapted (timm's rule), the images stay in
     * colour (3 channels stored) and the run's events say so */
    char *rgb = tu_mkdtemp();
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/%s", rgb, c ? "right" : "left");
        mkdir(path, 0755);
        for (int i = 0; i < 32; i++) {
            snprintf(path, sizeof path, "%s/%s/img%02d.png", rgb, c ? "right" : "left", i);
            write_png_as(path, !c, i, 1);
        }
    }
    snprintf(args, sizeof args,
             "train %s --size 32 --epochs 1 --bs 16 --no-aug --threads 1 "
             "--arch resnet-custom:basic:1,1:8,16:small --pretrained f-1 --name rgb --no-tui",
             rgb);
    ck_assert_int_eq(run(args), 0);
    ck_assert_int_eq(run("show rgb-1 --no-tui"), 0);
    ck_assert_msg(strstr(out, "\"channels\": 3") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "repeated over R,G,B and divided by 3") != NULL, "%s", out);
    tu_rmtree(rgb);
    free(rgb);
    tu_rmtree(data);
    free(data);
    tu_rmtree(runs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learn_cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, usage_errors_exit_2);
    tcase_add_test(tc, train_table_stop_resume_rewind_interpret_lrfind);
    tcase_add_test(tc, fine_tune_rewinds_into_either_phase);
    tcase_add_test(tc, lr_is_every_group_and_unfreeze_records_its_rates);
    tcase_add_test(tc, predict_classifies_image_files);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
