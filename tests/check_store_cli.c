/* check_store_cli: the run-store commands end to end. A store is filled through the API, then the
 * built dllab binary is run: runs (table, --json parsed back, --tag, --status), show, export
 * (--csv files read back, --json parsed back, --all), tag, note, baseline, rm (refuses without a
 * terminal unless --yes, asks on a terminal, removes checkpoints), ambiguous prefixes and exit
 * codes. */
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/store/store.h"
#include "tests/testutil.h"

static char *dir;
static char out[1 << 18];
static int64_t id_a, id_b, id_c;
static char ckpath[4096];

/* Runs `dllab ARGS` (words split on spaces) with DLLAB_RUNS=dir and stdin from /dev/null;
 * stdout+stderr into out; returns the exit code. */
static int dllab(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "DLLAB_RUNS='%s' '%s' %s </dev/null 2>&1", dir, tu_dllab(), args);
    return tu_sh(cmd, out, sizeof out);
}

static void fill(void)
{
    dl_store *st;
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "fmnist-resnet-xs",
                        .dataset = "fashion-mnist",
                        .arch = "resnet-xs",
                        .n_train = 600,
                        .n_valid = 100,
                        .vocab_json = "[\"shirt\",\"shoe\"]",
                        .config_json = "{\"lr\":0.002,\"bs\":64}"};
    ck_assert_int_eq(dl_store_run_create(st, &spec, &id_a, NULL, 0, &err), DL_OK);
    ck_assert_int_eq(dl_store_run_create(st, &spec, &id_b, NULL, 0, &err), DL_OK);
    spec.name_prefix = "pets-resnet34";
    spec.dataset = "oxford-pets";
    ck_assert_int_eq(dl_store_run_create(st, &spec, &id_c, NULL, 0, &err), DL_OK);
    for (int s = 0; s < 20; s++) {
        dl_batch_row r = {.step = s,
                          .epoch = s / 10,
                          .n_lr = 2,
                          .lr = {1e-4, 1e-3 * (s + 1)},
                          .mom = 0.95,
                          .loss = 2.0 - 0.05 * s,
                          .smooth_loss = 2.0 - 0.04 * s,
                          .t = 1.8e9 + s};
        ck_assert_int_eq(dl_store_log_batch(st, id_a, &r, &err), DL_OK);
        if (s % 10 == 9) {
            dl_epoch_row e = {.epoch = s / 10,
                              .train_loss = 1.5 - 0.5 * (s / 10),
                              .valid_loss = 1.2 - 0.4 * (s / 10),
                              .duration = 61,
                              .t = 1.8e9 + s,
                              .n_metrics = 1};
            snprintf(e.metrics[0].name, sizeof e.metrics[0].name, "accuracy");
            e.metrics[0].value = 0.6 + 0.1 * (s / 10);
            ck_assert_int_eq(dl_store_log_epoch(st, id_a, &e, &err), DL_OK);
        }
    }
    ck_assert_int_eq(dl_store_log_event(st, id_a, DL_EV_UNFREEZE, 10, 0,
                                        "{\"note\":\"a, \\\"quoted\\\"\"}", &err),
                     DL_OK);
    double lr[3] = {1e-5, 1e-4, 1e-3}, loss[3] = {2.3, 2.0, NAN};
    dl_lr_suggestion sug = {"valley", 1e-4, 2.0};
    ck_assert_int_eq(dl_store_lrfind_save(st, id_a, 0, lr, loss, 3, &sug, 1, NULL, &err), DL_OK);
    ck_assert_int_eq(dl_store_interp_save(st, id_a, 1, "confusion", "[[40,10],[5,45]]", &err),
                     DL_OK);
    ck_assert_int_eq(dl_store_skipped_add(st, id_a, "train/bad,name.jpg", "truncated JPEG", &err),
                     DL_OK);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    int64_t shape[1] = {4};
    float w[4] = {1, 2, 3, 4};
    ck_assert_int_eq(dl_tensor_map_add(&m, "fc.weight", DL_DTYPE_F32, 1, shape, w, &err), DL_OK);
    ck_assert_int_eq(dl_store_checkpoint_save(st, id_a, "best", &m, 1, 19, 0.8, true, ckpath,
                                              sizeof ckpath, &err),
                     DL_OK);
    dl_tensor_map_free(&m);
    ck_assert_int_eq(dl_store_run_finish(st, id_a, DL_RUN_FINISHED, &err), DL_OK);
    ck_assert_int_eq(dl_store_run_finish(st, id_b, DL_RUN_STOPPED, &err), DL_OK);
    /* id_c stays running: its pid is ours, and we are alive. */
    dl_store_close(st);
}

static void setup(void)
{
    dir = tu_mkdtemp();
    fill();
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

START_TEST(runs_table_json_and_filters)
{
    ck_assert_int_eq(dllab("runs"), 0);
    ck_assert_ptr_nonnull(strstr(out, "NAME"));
    ck_assert_ptr_nonnull(strstr(out, "fmnist-resnet-xs-1"));
    ck_assert_ptr_nonnull(strstr(out, "accuracy 0.7000"));
    ck_assert_ptr_nonnull(strstr(out, "0.8000")); /* best valid loss */
    ck_assert_ptr_nonnull(strstr(out, "pets-resnet34-1"));

    ck_assert_int_eq(dllab("runs --json"), 0);
    json_error_t je;
    json_t *arr = json_loads(out, 0, &je);
    ck_assert_msg(json_is_array(arr), "runs --json is not a JSON array: %s", je.text);
    ck_assert_uint_eq(json_array_size(arr), 3);
    json_t *a = json_array_get(arr, 0);
    ck_assert_str_eq(json_string_value(json_object_get(a, "name")), "fmnist-resnet-xs-1");
    ck_assert_str_eq(json_string_value(json_object_get(a, "status")), "finished");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "epochs")), 2);
    ck_assert_double_eq_tol(json_real_value(json_object_get(a, "best_valid_loss")), 0.8, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(a, "config"), "lr")),
                            0.002, 1e-12);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(a, "vocab"), 1)), "shoe");
    ck_assert(json_is_null(json_object_get(json_array_get(arr, 1), "best_valid_loss")));
    json_decref(arr);

    ck_assert_int_eq(dllab("runs --status stopped --json"), 0);
    arr = json_loads(out, 0, &je);
    ck_assert_uint_eq(json_array_size(arr), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "name")),
                     "fmnist-resnet-xs-2");
    json_decref(arr);
    ck_assert_int_eq(dllab("runs --status done"), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown run status 'done'"));

    ck_assert_int_eq(dllab("tag fmnist-resnet-xs-2 lowlr keep"), 0);
    ck_assert_int_eq(dllab("runs --tag lowlr --json"), 0);
    arr = json_loads(out, 0, &je);
    ck_assert_uint_eq(json_array_size(arr), 1);
    json_t *tags = json_object_get(json_array_get(arr, 0), "tags");
    ck_assert_uint_eq(json_array_size(tags), 2);
    ck_assert_str_eq(json_string_value(json_array_get(tags, 0)), "keep");
    json_decref(arr);
    ck_assert_int_eq(dllab("tag fmnist-resnet-xs-2 --rm keep"), 0);
    ck_assert_int_eq(dllab("runs --tag keep"), 0);
    ck_assert_ptr_nonnull(strstr(out, "no runs match"));
    ck_assert_int_eq(dllab("runs --bogus"), 2);
}
END_TEST

/* The table shows a long run name and data description whole, with every column aligned. */
START_TEST(runs_table_long_cells_whole_and_aligned)
{
    dl_store *st;
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "a-rather-long-experiment-name",
                        .dataset = "my-photos (folder per class)",
                        .arch = "resnet-xs",
                        .n_train = 10,
                        .n_valid = 2,
                        .vocab_json = "[\"a\",\"b\"]",
                        .config_json = "{}"};
    int64_t id;
    ck_assert_int_eq(dl_store_run_create(st, &spec, &id, NULL, 0, &err), DL_OK);
    ck_assert_int_eq(dl_store_run_finish(st, id, DL_RUN_FINISHED, &err), DL_OK);
    dl_store_close(st);
    ck_assert_int_eq(dllab("runs"), 0);
    ck_assert_ptr_nonnull(strstr(out, "a-rather-long-experiment-name-1 "));
    ck_assert_ptr_nonnull(strstr(out, " my-photos (folder per class) "));
    /* STARTED, ARCH and STATUS start at the same column on every line. */
    const char *cols[] = {"STARTED", "ARCH", "STATUS"};
    const char *vals[][4] = {{"20", "20", "20", "20"},
                             {"resnet-xs", "resnet-xs", "resnet-xs", "resnet-xs"},
                             {"finished", "stopped", "running", "finished"}};
    const char *header_end = strchr(out, '\n');
    ck_assert_ptr_nonnull(header_end);
    for (int c = 0; c < 3; c++) {
        long col = strstr(out, cols[c]) - out;
        const char *line = header_end + 1;
        for (int row = 0; row < 4 && *line; row++) {
            ck_assert_msg(strncmp(line + col, vals[c][row], strlen(vals[c][row])) == 0,
                          "row %d: %s is not at column %ld:\n%s", row, cols[c], col, out);
            line = strchr(line, '\n');
            ck_assert_ptr_nonnull(line);
            line++;
        }
    }
}
END_TEST

START_TEST(show_and_ambiguous_prefixes)
{
    ck_assert_int_eq(dllab("show fmnist-resnet-xs-1"), 0);
    ck_assert_ptr_nonnull(strstr(out, "run       fmnist-resnet-xs-1"));
    ck_assert_ptr_nonnull(strstr(out, "\"lr\": 0.002"));
    ck_assert_ptr_nonnull(strstr(out, "<- best valid loss"));
    ck_assert_ptr_nonnull(strstr(out, "best checkpoint"));
    ck_assert_ptr_nonnull(strstr(out, "best.safetensors"));
    ck_assert_ptr_nonnull(strstr(out, "valley"));
    ck_assert_ptr_nonnull(strstr(out, "unfreeze"));
    ck_assert_ptr_nonnull(strstr(out, "truncated JPEG"));
    ck_assert_ptr_nonnull(strstr(out, "classes   2: shirt shoe"));

    ck_assert_int_eq(dllab("show fm"), 1);
    ck_assert_ptr_nonnull(strstr(out, "ambiguous"));
    ck_assert_ptr_nonnull(strstr(out, "fmnist-resnet-xs-1, fmnist-resnet-xs-2"));
    ck_assert_int_eq(dllab("show pe"), 0); /* a unique prefix */
    ck_assert_ptr_nonnull(strstr(out, "pets-resnet34-1"));
    ck_assert_ptr_nonnull(strstr(out, "status    running"));
    char q[64];
    snprintf(q, sizeof q, "show %lld", (long long)id_b);
    ck_assert_int_eq(dllab(q), 0);
    ck_assert_ptr_nonnull(strstr(out, "fmnist-resnet-xs-2"));
    ck_assert_int_eq(dllab("show nothing-like-this"), 1);
    ck_assert_ptr_nonnull(strstr(out, "no run named 'nothing-like-this'"));
    ck_assert_int_eq(dllab("show"), 2);
}
END_TEST

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "missing %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(export_csv_and_json)
{
    char cmd[4096], path[4096];
    snprintf(cmd, sizeof cmd, "export fmnist-resnet-xs-1 --csv '%s/out'", dir);
    ck_assert_int_eq(dllab(cmd), 0);
    snprintf(path, sizeof path, "%s/out/fmnist-resnet-xs-1/batches.csv", dir);
    char *t = read_text(path);
    ck_assert_msg(
        strncmp(t, "step,epoch,lr_0,lr_1,mom,loss,smooth_loss,time\n0,0,0.0001,0.001,0.95,2,",
                70) == 0,
        "%s", t);
    int lines = 0;
    for (char *p = t; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 21);
    snprintf(path, sizeof path, "%s/out/fmnist-resnet-xs-1/epochs.csv", dir);
    t = read_text(path);
    ck_assert_ptr_nonnull(strstr(t, "epoch,train_loss,valid_loss,accuracy,duration,time\n"));
    ck_assert_ptr_nonnull(strstr(t, "\n1,1,0.8,0.7,61,"));
    snprintf(path, sizeof path, "%s/out/fmnist-resnet-xs-1/lrfind.csv", dir);
    t = read_text(path);
    ck_assert_ptr_nonnull(strstr(t, "0,0,2,0.001,\n")); /* NaN loss is an empty field */
    snprintf(path, sizeof path, "%s/out/fmnist-resnet-xs-1/skipped.csv", dir);
    t = read_text(path);
    ck_assert_ptr_nonnull(strstr(t, "\"train/bad,name.jpg\",truncated JPEG"));
    snprintf(path, sizeof path, "%s/out/fmnist-resnet-xs-1/events.csv", dir);
    t = read_text(path);
    ck_assert_ptr_nonnull(strstr(t, "\"{\"\"note\"\":\"\"a, \\\"\"quoted\\\"\"\"\"}\""));
    snprintf(path, sizeof path, "%s/out/fmnist-resnet-xs-1/run.json", dir);
    json_error_t je;
    json_t *meta = json_load_file(path, 0, &je);
    ck_assert_ptr_nonnull(meta);
    ck_assert_str_eq(json_string_value(json_object_get(meta, "name")), "fmnist-resnet-xs-1");
    json_decref(meta);

    snprintf(cmd, sizeof cmd, "export fmn --csv '%s/out2'", dir);
    ck_assert_int_eq(dllab(cmd), 1); /* ambiguous */
    ck_assert_ptr_nonnull(strstr(out, "ambiguous"));

    ck_assert_int_eq(dllab("export fmnist-resnet-xs-1 --json -"), 0);
    json_t *doc = json_loads(out, 0, &je);
    ck_assert_msg(doc != NULL, "export --json: %s", je.text);
    json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(run, "batches")), 20);
    json_t *b5 = json_array_get(json_object_get(run, "batches"), 5);
    ck_assert_double_eq_tol(json_real_value(json_array_get(json_object_get(b5, "lr"), 1)), 6e-3,
                            1e-12);
    ck_assert_double_eq_tol(json_real_value(json_object_get(b5, "loss")), 1.75, 1e-12);
    json_t *e1 = json_array_get(json_object_get(run, "epoch_rows"), 1);
    ck_assert_double_eq_tol(
        json_real_value(json_object_get(json_object_get(e1, "metrics"), "accuracy")), 0.7, 1e-12);
    json_t *lf = json_array_get(json_object_get(run, "lr_finds"), 0);
    ck_assert(json_is_null(json_array_get(json_object_get(lf, "loss"), 2)));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(lf, "suggestions"), 0), "method")),
                     "valley");
    json_t *ev = json_array_get(json_object_get(run, "events"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "payload"), "note")),
                     "a, \"quoted\"");
    json_t *cm = json_object_get(json_object_get(run, "interpretation"), "confusion");
    ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(cm, 1), 0)), 5);
    ck_assert_uint_eq(json_array_size(json_object_get(run, "checkpoints")), 1);
    json_decref(doc);

    snprintf(cmd, sizeof cmd, "export --all --json '%s/all.json'", dir);
    ck_assert_int_eq(dllab(cmd), 0);
    snprintf(path, sizeof path, "%s/all.json", dir);
    doc = json_load_file(path, 0, &je);
    ck_assert_ptr_nonnull(doc);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "runs")), 3);
    json_decref(doc);
    snprintf(cmd, sizeof cmd, "export --all --csv '%s/every'", dir);
    ck_assert_int_eq(dllab(cmd), 0);
    snprintf(path, sizeof path, "%s/every/pets-resnet34-1/epochs.csv", dir);
    t = read_text(path);
    ck_assert_str_eq(t, "epoch,train_loss,valid_loss,duration,time\n");
    ck_assert_int_eq(dllab("export --all"), 2);
    ck_assert_int_eq(dllab("export fmnist-resnet-xs-1 --all --json -"), 2);
}
END_TEST

START_TEST(note_baseline_rm)
{
    ck_assert_int_eq(dllab("note fmnist-resnet-xs-1 first try, one-cycle"), 0);
    ck_assert_int_eq(dllab("baseline"), 0);
    ck_assert_ptr_nonnull(strstr(out, "no baseline"));
    ck_assert_int_eq(dllab("baseline fmnist-resnet-xs-1"), 0);
    ck_assert_int_eq(dllab("baseline pets"), 0);
    ck_assert_int_eq(dllab("baseline"), 0);
    ck_assert_str_eq(out, "pets-resnet34-1\n");
    ck_assert_int_eq(dllab("runs --json"), 0);
    json_t *arr = json_loads(out, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "note")),
                     "first try, one-cycle");
    ck_assert(json_is_false(json_object_get(json_array_get(arr, 0), "baseline")));
    ck_assert(json_is_true(json_object_get(json_array_get(arr, 2), "baseline")));
    json_decref(arr);
    ck_assert_int_eq(dllab("runs"), 0);
    ck_assert_ptr_nonnull(strstr(out, "pets-resnet34-1 *"));
    ck_assert_int_eq(dllab("baseline --clear"), 0);
    ck_assert_int_eq(dllab("baseline"), 0);
    ck_assert_ptr_nonnull(strstr(out, "no baseline"));

    struct stat sb;
    ck_assert_int_eq(stat(ckpath, &sb), 0);
    ck_assert_int_eq(dllab("rm fmnist-resnet-xs-1"), 2); /* stdin is not a terminal: refuses */
    ck_assert_ptr_nonnull(strstr(out, "--yes"));
    ck_assert_int_eq(stat(ckpath, &sb), 0);
    ck_assert_int_eq(dllab("rm --yes fmnist-resnet-xs-1 nosuchrun"),
                     1); /* nothing removed on a typo */
    ck_assert_int_eq(stat(ckpath, &sb), 0);
    ck_assert_int_eq(dllab("rm --yes fmnist-resnet-xs-1"), 0);
    ck_assert_ptr_nonnull(strstr(out, "removed fmnist-resnet-xs-1"));
    ck_assert_int_ne(stat(ckpath, &sb), 0);
    ck_assert_int_eq(dllab("show fmnist-resnet-xs-1"), 1);
    ck_assert_int_eq(dllab("show fm"), 0); /* the prefix is unique now */
    ck_assert_int_eq(dllab("runs --runs /nonexistent/store"), 1);
    ck_assert_ptr_nonnull(strstr(out, "no run store at /nonexistent/store/runs.db"));
}
END_TEST

/* Runs `dllab rm RUN` on a pseudo-terminal, waits for the question, answers `answer`; returns the
 * exit code, the dialogue in out. */
static int rm_on_tty(const char *run, const char *answer)
{
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *bin = tu_dllab();
        setenv("DLLAB_RUNS", dir, 1);
        execl(bin, bin, "rm", run, (char *)NULL);
        _exit(127);
    }
    size_t len = 0;
    bool answered = false;
    for (;;) {
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            break;
        ssize_t got = read(master, out + len, sizeof out - 1 - len);
        if (got <= 0)
            break; /* EIO once the child has exited */
        len += (size_t)got;
        out[len] = 0;
        if (!answered && strstr(out, "[y/N]")) {
            (void)!write(master, answer, strlen(answer));
            answered = true;
        }
    }
    close(master);
    int ws;
    waitpid(pid, &ws, 0);
    ck_assert_msg(answered, "dllab rm did not ask: %s", out);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

START_TEST(rm_asks_on_a_terminal)
{
    ck_assert_int_eq(rm_on_tty("fmnist-resnet-xs-1", "n\n"), 0);
    ck_assert_ptr_nonnull(
        strstr(out, "remove run fmnist-resnet-xs-1 (finished, 2 epochs, 1 checkpoint)?"));
    ck_assert_ptr_nonnull(strstr(out, "kept fmnist-resnet-xs-1"));
    struct stat sb;
    ck_assert_int_eq(stat(ckpath, &sb), 0);
    ck_assert_int_eq(rm_on_tty("fmnist-resnet-xs-1", "y\n"), 0);
    ck_assert_ptr_nonnull(strstr(out, "removed fmnist-resnet-xs-1"));
    ck_assert_int_ne(stat(ckpath, &sb), 0);
    ck_assert_int_eq(dllab("runs --json"), 0);
    json_t *arr = json_loads(out, 0, NULL);
    ck_assert_uint_eq(json_array_size(arr), 2);
    json_decref(arr);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, runs_table_json_and_filters);
    tcase_add_test(tc, runs_table_long_cells_whole_and_aligned);
    tcase_add_test(tc, show_and_ambiguous_prefixes);
    tcase_add_test(tc, export_csv_and_json);
    tcase_add_test(tc, note_baseline_rm);
    tcase_add_test(tc, rm_asks_on_a_terminal);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
