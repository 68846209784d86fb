/* check_compare_cli: `dllab compare` end to end through the built binary on a fixture store:
 * the text table (figures with epochs, only the differing hyper-parameters, "—" for a missing
 * key), --all-params, --json parsed back (figures, deltas against the store's baseline, params),
 * usage errors and unknown runs; `dllab export --plot`: PNGs decode with libpng at the requested
 * size with real content, SVGs are well-formed XML with one stroke colour per drawn series, --csv
 * writes the series drawn, bad requests are refused. */
#include <jansson.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_compare_fixture.h"
#include "tests/testutil.h"

static char *dir;
static int64_t ids[3];
static char out[1 << 16];

static int dllab(const char *args)
{
    char cmd[16384]; /* some callers build args in 8 KB buffers */
    snprintf(cmd, sizeof cmd, "DLLAB_RUNS='%s' '%s' %s </dev/null 2>&1", dir, tu_dllab(), args);
    return tu_sh(cmd, out, sizeof out);
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
    ck_assert_ptr_nonnull(
        strstr(line_of("best valid_loss"), "@3")); /* run b improves to its last epoch */
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
        if (strcmp(json_string_value(json_object_get(json_array_get(figs, i), "name")),
                   "best valid_loss") == 0)
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

/* ---- export --plot ---- */

/* Decodes path with libpng; returns the share of pixels that are not white and counts the
 * distinct "coloured" pixels (r, g, b not all within 24 of each other). */
static double png_ink(const char *path, int *w, int *h, int *coloured)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&im, path), "%s: %s", path, im.message);
    im.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
    ck_assert(png_image_finish_read(&im, NULL, buf, 0, NULL));
    *w = (int)im.width;
    *h = (int)im.height;
    size_t n = (size_t)im.width * im.height, ink = 0;
    *coloured = 0;
    for (size_t i = 0; i < n; i++) {
        int r = buf[3 * i], g = buf[3 * i + 1], b = buf[3 * i + 2];
        ink += r < 250 || g < 250 || b < 250;
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b),
            mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        *coloured += mx - mn > 24;
    }
    free(buf);
    return (double)ink / (double)n;
}

/* A small XML well-formedness check: every start tag is closed by an end tag of the same name,
 * in order; comments, processing instructions and CDATA are skipped; attributes' quotes balance.
 * Returns the number of elements, or -1 when malformed. */
static int xml_elements(const char *s)
{
    char stack[256][64];
    int depth = 0, count = 0;
    for (const char *p = strchr(s, '<'); p; p = strchr(p, '<')) {
        if (strncmp(p, "<?", 2) == 0 || strncmp(p, "<!--", 4) == 0 ||
            strncmp(p, "<![CDATA[", 9) == 0 || strncmp(p, "<!", 2) == 0) {
            const char *end = strncmp(p, "<!--", 4) == 0        ? strstr(p, "-->")
                              : strncmp(p, "<![CDATA[", 9) == 0 ? strstr(p, "]]>")
                                                                : strchr(p, '>');
            if (!end)
                return -1;
            p = end + 1;
            continue;
        }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        size_t len = strcspn(q, " \t\r\n/>");
        if (len == 0 || len >= 64)
            return -1;
        const char *e = q + len;
        char quote = 0;
        for (; *e && (quote || *e != '>'); e++)
            if (quote && *e == quote)
                quote = 0;
            else if (!quote && (*e == '"' || *e == '\''))
                quote = *e;
        if (!*e)
            return -1;
        int self = e[-1] == '/';
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], q, len) != 0 || stack[depth - 1][len])
                return -1;
            depth--;
        } else {
            count++;
            if (!self) {
                if (depth == 256)
                    return -1;
                memcpy(stack[depth], q, len);
                stack[depth++][len] = 0;
            }
        }
        p = e + 1;
    }
    return depth == 0 ? count : -1;
}

/* Distinct non-grey stroke colours in an SVG written by cairo (stroke:rgb(r%,g%,b%) or
 * stroke="rgb(...)"): one per series, since axes, grid and text are grey or black. */
static int svg_series_colours(const char *s)
{
    char seen[64][64];
    int n = 0;
    for (const char *p = strstr(s, "stroke"); p; p = strstr(p + 1, "stroke")) {
        const char *q = p + 6;
        if (*q == ':' || *q == '=')
            q++;
        if (*q == '"')
            q++;
        if (strncmp(q, "rgb(", 4) != 0)
            continue;
        double c[3];
        if (sscanf(q + 4, "%lf%%,%lf%%,%lf%%", &c[0], &c[1], &c[2]) != 3 &&
            sscanf(q + 4, "%lf,%lf,%lf", &c[0], &c[1], &c[2]) != 3)
            continue;
        if (fabs(c[0] - c[1]) < 1 && fabs(c[1] - c[2]) < 1)
            continue;
        size_t len = strcspn(q, ")");
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)len, q);
        int k = 0;
        while (k < n && strcmp(seen[k], col) != 0)
            k++;
        if (k == n && n < 64)
            snprintf(seen[n++], sizeof seen[0], "%s", col);
    }
    return n;
}

START_TEST(plot_png_sizes_and_content)
{
    char cmd[8192], png[2048];
    const char *kinds[] = {"loss", "lr", "lrfind", "confusion", "compare"};
    for (int k = 0; k < 5; k++) {
        snprintf(png, sizeof png, "%s/%s.png", dir, kinds[k]);
        snprintf(cmd, sizeof cmd, "export lr-a-1%s --plot %s --png %s --size 640x%d",
                 k == 4 ? " lr-b-1 lr-c-1" : "", kinds[k], png, 400 + 10 * k);
        ck_assert_msg(dllab(cmd) == 0, "%s: %s", cmd, out);
        int w, h, coloured;
        double ink = png_ink(png, &w, &h, &coloured);
        ck_assert_int_eq(w, 640);
        ck_assert_int_eq(h, 400 + 10 * k);
        ck_assert_msg(ink > 0.01 && ink < 0.9, "%s: %.3f of the pixels drawn", kinds[k], ink);
        ck_assert_msg(coloured > 200, "%s: only %d coloured pixels", kinds[k], coloured);
    }
    /* default size */
    snprintf(cmd, sizeof cmd, "export lr-b-1 --plot loss --png %s/d.png", dir);
    ck_assert_int_eq(dllab(cmd), 0);
    snprintf(png, sizeof png, "%s/d.png", dir);
    int w, h, coloured;
    png_ink(png, &w, &h, &coloured);
    ck_assert(w == 800 && h == 500);
}
END_TEST

START_TEST(plot_svg_wellformed_with_series)
{
    char cmd[8192], svg[2048];
    snprintf(svg, sizeof svg, "%s/c.svg", dir);
    snprintf(cmd, sizeof cmd, "export lr-a-1 lr-b-1 lr-c-1 --plot compare --svg %s", svg);
    ck_assert_msg(dllab(cmd) == 0, "%s", out);
    char *s = tu_slurp(svg, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", svg);
    ck_assert_ptr_nonnull(strstr(s, "<svg"));
    ck_assert_int_gt(xml_elements(s), 10);
    ck_assert_int_eq(svg_series_colours(s), 3);
    free(s);
    snprintf(cmd, sizeof cmd, "export lr-a-1 lr-c-1 --plot lr --svg %s", svg);
    ck_assert_int_eq(dllab(cmd), 0);
    s = tu_slurp(svg, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", svg);
    ck_assert_int_gt(xml_elements(s), 10);
    ck_assert_int_eq(svg_series_colours(s), 2);
    free(s);
    /* the checker itself refuses broken XML */
    ck_assert_int_eq(xml_elements("<svg><g></svg></g>"), -1);
    ck_assert_int_eq(xml_elements("<svg><path d=\"M0 0\"/>"), -1);
    ck_assert_int_eq(xml_elements("<?xml version=\"1.0\"?><svg a='>'><g/></svg>"), 2);
}
END_TEST

START_TEST(plot_csv_and_errors)
{
    char cmd[8192], path[4096];
    snprintf(cmd, sizeof cmd, "export lr-a-1 lr-b-1 --plot compare --csv %s/series", dir);
    ck_assert_msg(dllab(cmd) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/series/compare.csv", dir);
    char *s = tu_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    ck_assert(strncmp(s, "run,series,x,y\n", 15) == 0);
    /* valid loss by epoch: 3 + 4 rows; smoothed train loss: 12 + 16 rows */
    int rows = 0, valid = 0;
    for (char *l = strchr(s, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        rows++;
        valid += strncmp(strchr(l + 1, ',') + 1, "valid_loss,", 11) == 0;
    }
    ck_assert_int_eq(rows, 7 + 28);
    ck_assert_int_eq(valid, 7);
    ck_assert_ptr_nonnull(strstr(s, "lr-b-1,valid_loss,4,"));
    free(s);
    snprintf(cmd, sizeof cmd, "export lr-a-1 --plot confusion --csv %s/series", dir);
    ck_assert_int_eq(dllab(cmd), 0);
    snprintf(path, sizeof path, "%s/series/confusion.csv", dir);
    s = tu_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    ck_assert_ptr_nonnull(strstr(s, "owl,0,5,37\n"));
    free(s);
    /* refusals */
    ck_assert_int_eq(dllab("export lr-b-1 --plot lrfind --png /tmp/never-written.png"), 1);
    ck_assert_ptr_nonnull(strstr(out, "lr-b-1 has no LR-finder sweep"));
    ck_assert_int_eq(dllab("export lr-b-1 --plot confusion --png x.png"), 1);
    ck_assert_int_eq(dllab("export lr-a-1 lr-b-1 --plot confusion --png x.png"), 2);
    ck_assert_int_eq(dllab("export lr-a-1 --plot pie --png x.png"), 2);
    ck_assert_int_eq(dllab("export lr-a-1 --plot loss"), 2);
    ck_assert_int_eq(dllab("export lr-a-1 --plot loss --png x.png --size 10x10"), 2);
    ck_assert_int_eq(dllab("export lr-a-1 --plot loss --png x.png --size big"), 2);
    ck_assert_int_eq(dllab("export lr-a-1 --plot loss --png /nonexistent/dir/x.png"), 1);
    ck_assert_ptr_nonnull(strstr(out, "/nonexistent/dir/x.png"));
    /* the store engineer's export is untouched without --plot */
    snprintf(cmd, sizeof cmd, "export lr-a-1 --csv %s/plain", dir);
    ck_assert_int_eq(dllab(cmd), 0);
}
END_TEST

/* Dashed paths (cairo SVG: "stroke-dasharray:6,4") by their number of segments: *train counts
 * those of 5 or more (per-batch train curves), *other those of 2..4 (a per-epoch valid line);
 * legend samples (1 segment) are left out. */
static void dashed_paths(const char *svg, int *train, int *other)
{
    *train = *other = 0;
    for (const char *p = strstr(svg, "<path"); p; p = strstr(p + 1, "<path")) {
        const char *end = strchr(p, '>'), *dash = strstr(p, "stroke-dasharray:6,4");
        if (!end || !dash || dash > end)
            continue;
        int seg = 0;
        for (const char *q = strstr(p, " d=\""); q && q < end; q++)
            seg += q[0] == 'L' && q[-1] == ' ';
        *train += seg >= 5;
        *other += seg >= 2 && seg < 5;
    }
}

/* One convention in every figure: valid solid, smoothed train dashed (--plot loss with several runs
 * had it the other way round from --plot compare). */
START_TEST(plot_line_convention_is_the_same_everywhere)
{
    char cmd[8192], svg[4096];
    const char *kinds[] = {"loss", "compare"};
    for (int k = 0; k < 2; k++) {
        snprintf(svg, sizeof svg, "%s/%s.svg", dir, kinds[k]);
        snprintf(cmd, sizeof cmd, "export lr-a-1 lr-b-1 --plot %s --svg %s", kinds[k], svg);
        ck_assert_msg(dllab(cmd) == 0, "%s", out);
        char *s = tu_slurp(svg, NULL);
        ck_assert_msg(s != NULL, "cannot read %s", svg);
        int train, other;
        dashed_paths(s, &train, &other);
        ck_assert_msg(train == 2 && other == 0, "--plot %s: %d dashed train lines, %d other",
                      kinds[k], train, other);
        free(s);
    }
}
END_TEST

/* fastai's plot_sched: --plot lr draws every parameter group's lr and, below, the momentum. */
START_TEST(plot_lr_has_every_group_and_the_momentum)
{
    dl_store *st;
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "groups", .dataset = "fake", .arch = "resnet-xs"};
    int64_t id;
    char name[DL_STORE_NAME_MAX];
    ck_assert(dl_store_run_create(st, &spec, &id, name, sizeof name, &err) == DL_OK);
    for (int b = 0; b < 6; b++) {
        dl_batch_row row = {.step = b,
                            .epoch = 0,
                            .n_lr = 3,
                            .lr = {1e-5 * (b + 1), 1e-4 * (b + 1), 1e-3 * (b + 1)},
                            .mom = 0.95 - 0.01 * b,
                            .loss = 1,
                            .smooth_loss = 1,
                            .t = 1e9 + b};
        ck_assert(dl_store_log_batch(st, id, &row, &err) == DL_OK);
    }
    dl_store_close(st);
    char cmd[8192], path[4096];
    snprintf(cmd, sizeof cmd, "export groups-1 --plot lr --csv %s/lr --png %s/lr.png", dir, dir);
    ck_assert_msg(dllab(cmd) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/lr/lr.csv", dir);
    char *s = tu_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    ck_assert_ptr_nonnull(strstr(s, "groups-1,lr_group0,5,6e-05\n"));
    ck_assert_ptr_nonnull(strstr(s, "groups-1,lr_group1,5,0.0006\n"));
    ck_assert_ptr_nonnull(strstr(s, "groups-1,lr_group2,5,0.006\n"));
    ck_assert_ptr_nonnull(strstr(s, "groups-1,mom,5,0.9\n"));
    free(s);
}
END_TEST

/* fastai's plot_lr_find(skip_end=5): the exported curve leaves out the sweep's last five points
 * (the fixture's 20-point sweep rises steeply over its last four). */
START_TEST(plot_lrfind_skips_the_last_five_points)
{
    char cmd[8192], path[4096];
    snprintf(cmd, sizeof cmd, "export lr-a-1 --plot lrfind --csv %s/lf --svg %s/lf.svg", dir, dir);
    ck_assert_msg(dllab(cmd) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/lf/lrfind.csv", dir);
    char *s = tu_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    int rows = 0;
    double x = 0, y = 0, ymax = 0;
    for (char *l = strchr(s, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        rows++;
        const char *xy = strchr(strchr(l + 1, ',') + 1, ',') + 1; /* run,series,x,y */
        ck_assert_int_eq(sscanf(xy, "%lf,%lf", &x, &y), 2);
        ymax = y > ymax ? y : ymax;
    }
    ck_assert_int_eq(rows, 15);
    ck_assert_double_eq_tol(x / (1e-6 * pow(10, 14 * 0.3)), 1, 1e-9); /* the last point drawn */
    ck_assert_double_eq_tol(ymax, 2.5, 1e-9);                         /* no divergence tail */
    free(s);
}
END_TEST

/* A multi-label run (per-class figures and a threshold sweep, as interpret stores them) exports
 * its "confusion" figure: P/R/F1 bars and micro-F1 against the threshold. */
START_TEST(plot_confusion_of_a_multi_label_run)
{
    dl_store *st;
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    int64_t id = cf_run(st, "ml", "{\"arch\":\"resnet-xs\"}", 2, 1);
    ck_assert(
        dl_store_interp_save(st, id, 1, "per-class",
                             "{\"thresh\":0.5,\"micro_f1\":0.6,\"classes\":["
                             "{\"class\":\"cat\",\"precision\":0.9,\"recall\":0.5,\"f1\":0.643},"
                             "{\"class\":\"dog\",\"precision\":0.4,\"recall\":0.8,\"f1\":0.533},"
                             "{\"class\":\"owl\",\"precision\":0.7,\"recall\":0.7,\"f1\":0.7}]}",
                             &err) == DL_OK);
    ck_assert(dl_store_interp_save(
                  st, id, 1, "thresh-sweep",
                  "{\"points\":[{\"thresh\":0.05,\"micro_f1\":0.7586,\"accuracy_multi\":0.6},"
                  "{\"thresh\":0.5,\"micro_f1\":0.6,\"accuracy_multi\":0.8},"
                  "{\"thresh\":0.95,\"micro_f1\":0.2,\"accuracy_multi\":0.7}]}",
                  &err) == DL_OK);
    dl_store_close(st);
    char cmd[8192], png[4096], path[4096];
    snprintf(png, sizeof png, "%s/ml.png", dir);
    snprintf(cmd, sizeof cmd, "export ml-1 --plot confusion --png %s --csv %s/ml --size 900x600",
             png, dir);
    ck_assert_msg(dllab(cmd) == 0, "%s", out);
    int w, h, coloured;
    double ink = png_ink(png, &w, &h, &coloured);
    ck_assert(w == 900 && h == 600);
    ck_assert_msg(ink > 0.02 && coloured > 500, "ink %.3f, %d coloured", ink, coloured);
    snprintf(path, sizeof path, "%s/ml/per-class.csv", dir);
    char *s = tu_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    ck_assert_ptr_nonnull(strstr(s, "class,threshold,precision,recall,f1\n"));
    ck_assert_ptr_nonnull(strstr(s, "dog,0.5,0.4,0.8,0.533\n"));
    free(s);
    snprintf(path, sizeof path, "%s/ml/thresh-sweep.csv", dir);
    s = tu_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    ck_assert_ptr_nonnull(strstr(s, "0.05,0.7586,0.6\n"));
    free(s);
    /* a run with neither a matrix nor per-class figures is still refused, by name */
    ck_assert_int_eq(dllab("export lr-b-1 --plot confusion --png x.png"), 1);
    ck_assert_ptr_nonnull(strstr(out, "lr-b-1"));
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
    tcase_add_test(tc, plot_png_sizes_and_content);
    tcase_add_test(tc, plot_svg_wellformed_with_series);
    tcase_add_test(tc, plot_csv_and_errors);
    tcase_add_test(tc, plot_lrfind_skips_the_last_five_points);
    tcase_add_test(tc, plot_lr_has_every_group_and_the_momentum);
    tcase_add_test(tc, plot_line_convention_is_the_same_everywhere);
    tcase_add_test(tc, plot_confusion_of_a_multi_label_run);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
