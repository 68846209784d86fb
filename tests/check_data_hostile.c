/* check_data_hostile: data files written to hurt. Archives (.tgz and .zip, made here with
 * libarchive's writer) with "../" entries, absolute paths, symbolic and hard links pointing
 * outside, duplicate names, devices, a FIFO and a decompression bomb: nothing is written outside
 * the cache folder, every bad member is named in a warning and skipped, an extraction past the
 * size cap is an error and leaves nothing behind. CSVs with a NUL byte, a 1 MB line, unbalanced
 * quotes and a BOM: a file:line error or the right cells, never a crash. */
#include <archive.h>
#include <archive_entry.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/data/data.h"
#include "core/data/internal.h"
#include "core/log.h"
#include "tests/data_testutil.h"
#include "tests/testutil.h"

/* Warnings the engine logged during the current test (the log sink is process-wide). */
static char g_log[16384];

static void capture(dl_log_level level, const char *line, void *user)
{
    (void)level;
    (void)user;
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof g_log - n, "%s\n", line);
}

static void log_has(const char *needle)
{
    ck_assert_msg(strstr(g_log, needle) != NULL, "no warning names '%s'; warnings:\n%s", needle,
                  g_log);
}

/* ---- archives ---- */

typedef struct member {
    const char *name;
    mode_t type;         /* AE_IFREG, AE_IFLNK, AE_IFCHR, AE_IFIFO, or 0 for a hard link */
    const char *link;    /* symlink target or hard link source */
    const uint8_t *data; /* regular files */
    size_t len;
} member;

/* Writes the members as a .tgz (pax) or a .zip. Returns how many members the writer accepted
 * (zip cannot hold hard links or devices). */
static int pack(const char *out, const member *m, int n, bool zip)
{
    struct archive *a = archive_write_new();
    if (zip)
        archive_write_set_format_zip(a);
    else {
        archive_write_add_filter_gzip(a);
        archive_write_set_format_pax_restricted(a);
    }
    ck_assert_int_eq(archive_write_open_filename(a, out), ARCHIVE_OK);
    int accepted = 0;
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_perm(e, 0644);
        if (m[i].type == 0) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, m[i].link);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, m[i].type);
            if (m[i].type == AE_IFLNK)
                archive_entry_set_symlink(e, m[i].link);
            if (m[i].type == AE_IFCHR)
                archive_entry_set_rdev(e, makedev(1, 3));
            archive_entry_set_size(e, m[i].type == AE_IFREG ? (la_int64_t)m[i].len : 0);
        }
        if (archive_write_header(a, e) == ARCHIVE_OK) {
            accepted++;
            if (m[i].type == AE_IFREG && m[i].len)
                ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        }
        archive_entry_free(e);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return accepted;
}

/* Every path under a folder with its type and size, one per line, sorted by nftw's walk. */
static char g_tree[65536];
static const char *g_skip_prefix;

static int note_path(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)type;
    (void)ftw;
    if (g_skip_prefix && strncmp(path, g_skip_prefix, strlen(g_skip_prefix)) == 0)
        return 0;
    size_t n = strlen(g_tree);
    snprintf(g_tree + n, sizeof g_tree - n, "%s %o %lld\n", path, (unsigned)sb->st_mode,
             (long long)sb->st_size);
    return 0;
}

/* The tree under dir (skipping the paths that start with skip) into a malloc'd string. */
static char *tree(const char *dir, const char *skip)
{
    g_tree[0] = 0;
    g_skip_prefix = skip;
    nftw(dir, note_path, 16, FTW_PHYS);
    return strdup(g_tree);
}

static int bad_kinds;
static int check_extracted(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_SL || (!S_ISREG(sb->st_mode) && !S_ISDIR(sb->st_mode)) ||
        (S_ISREG(sb->st_mode) && sb->st_nlink != 1))
        bad_kinds++;
    return 0;
}

static uint8_t *read_all(const char *path, size_t *n)
{
    uint8_t *buf;
    ck_assert_int_eq(dl_read_file(path, &buf, n, NULL), DL_OK);
    return buf;
}

START_TEST(hostile_archive_members_are_named_and_skipped)
{
    char *d = tu_mkdtemp();
    char src[4096], cache[4096], outside[4096], victim[4096], abs_name[4096], arc[4096];
    snprintf(src, sizeof src, "%s/src", d);
    snprintf(cache, sizeof cache, "%s/cache", d);
    snprintf(outside, sizeof outside, "%s/outside", d);
    snprintf(victim, sizeof victim, "%s/victim.txt", outside);
    snprintf(abs_name, sizeof abs_name, "%s/abs.jpg", outside);
    du_write_text(outside, "victim.txt", "keep");
    static const char *const classes[] = {"cat", "dog"};
    du_class_tree(src, "", classes, 2, 5);
    /* 10 good images, then every kind of bad member. */
    member m[32];
    uint8_t *bufs[10];
    char names[10][64];
    int n = 0;
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 5; j++, n++) {
            char p[4200];
            snprintf(names[n], sizeof names[n], "%s/%s_%03d.jpg", classes[k], classes[k], j);
            snprintf(p, sizeof p, "%s/%s", src, names[n]);
            size_t len;
            bufs[n] = read_all(p, &len);
            char *full = malloc(80);
            snprintf(full, 80, "data/%s", names[n]);
            m[n] = (member){full, AE_IFREG, NULL, bufs[n], len};
        }
    static uint8_t bomb[2 << 20]; /* zeros: a 2 MB member compresses to a few KB */
    const uint8_t dup[] = "DUPLICATE, NOT A JPEG";
    m[n++] = (member){"../escape.jpg", AE_IFREG, NULL, dup, sizeof dup};
    m[n++] = (member){"data/../../../escape2.jpg", AE_IFREG, NULL, dup, sizeof dup};
    m[n++] = (member){abs_name, AE_IFREG, NULL, dup, sizeof dup};
    m[n++] = (member){"data/link", AE_IFLNK, outside, NULL, 0};
    m[n++] = (member){"data/link/through.txt", AE_IFREG, NULL, dup, sizeof dup};
    m[n++] = (member){"data/passwd.jpg", AE_IFLNK, "/etc/passwd", NULL, 0};
    m[n++] = (member){"data/cat/cat_000.jpg", AE_IFREG, NULL, dup, sizeof dup}; /* duplicate */
    m[n++] = (member){"data/hard.jpg", 0, victim, NULL, 0};
    m[n++] = (member){"data/hard2.jpg", 0, "../../outside/victim.txt", NULL, 0};
    m[n++] = (member){"data/null", AE_IFCHR, NULL, NULL, 0};
    m[n++] = (member){"data/fifo", AE_IFIFO, NULL, NULL, 0};
    m[n++] = (member){"data/bomb.jpg", AE_IFREG, NULL, bomb, sizeof bomb};
    const dl_archive_limits lim = {.member_max = 1 << 20, .total_max = 64 << 20};
    for (int z = 0; z < 2; z++) {
        snprintf(arc, sizeof arc, "%s/hostile%s", d, z ? ".zip" : ".tgz");
        int accepted = pack(arc, m, n, z);
        ck_assert_int_ge(accepted, n - 3); /* zip may refuse hard links and devices */
        char *before = tree(d, cache);
        g_log[0] = 0;
        char out[4096];
        dl_err err = {0};
        ck_assert_msg(dl_archive_extract_limited(arc, cache, &lim, out, sizeof out, &err) == DL_OK,
                      "%s", err.msg);
        /* Nothing outside the cache changed or appeared. */
        char *after = tree(d, cache);
        ck_assert_str_eq(after, before);
        free(before);
        free(after);
        size_t vn;
        uint8_t *v = read_all(victim, &vn);
        ck_assert_uint_eq(vn, 4);
        ck_assert_int_eq(memcmp(v, "keep", 4), 0);
        free(v);
        /* Inside the cache: only regular files (no links, devices, FIFOs) and folders, all
         * under the extraction folder. */
        bad_kinds = 0;
        nftw(cache, check_extracted, 16, FTW_PHYS);
        ck_assert_int_eq(bad_kinds, 0);
        char p[8192];
        snprintf(p, sizeof p, "%s/archives/escape.jpg", cache);
        ck_assert_int_ne(access(p, F_OK), 0);
        snprintf(p, sizeof p, "%s/escape2.jpg", cache);
        ck_assert_int_ne(access(p, F_OK), 0);
        snprintf(p, sizeof p, "%s/bomb.jpg", out);
        ck_assert_int_ne(access(p, F_OK), 0);
        /* The first copy of a duplicate is kept: still the JPEG. */
        snprintf(p, sizeof p, "%s/cat/cat_000.jpg", out);
        size_t cn;
        uint8_t *c = read_all(p, &cn);
        ck_assert_uint_eq(cn, m[0].len);
        ck_assert_int_eq(memcmp(c, m[0].data, cn), 0);
        free(c);
        /* Each bad member is named with the reason. */
        log_has("'../escape.jpg' skipped: '..' in its path");
        log_has("'data/../../../escape2.jpg' skipped");
        log_has("skipped: absolute path");
        log_has("'data/link' skipped: symbolic link");
        log_has("'data/passwd.jpg' skipped: symbolic link");
        log_has("'data/cat/cat_000.jpg' skipped: duplicate name");
        log_has("'data/bomb.jpg' skipped: larger than the member limit");
        if (!z) {
            log_has("'data/hard.jpg' skipped: hard link");
            log_has("'data/hard2.jpg' skipped: hard link");
            log_has("'data/null' skipped: device file");
            log_has("'data/fifo' skipped: FIFO");
        }
        /* The dataset reads the 10 images (through.txt, in a folder that is no link, is no image).
         */
        dl_data_config cfg;
        dl_data_config_init(&cfg);
        cfg.source = arc;
        cfg.cache_dir = cache;
        cfg.size = 16;
        cfg.valid_pct = 0.2;
        dl_dataset *ds = NULL;
        ck_assert_msg(dl_data_open(&cfg, &ds, &err) == DL_OK, "%s", err.msg);
        ck_assert_uint_eq(dl_data_count(ds, DL_SPLIT_TRAIN) + dl_data_count(ds, DL_SPLIT_VALID),
                          10);
        dl_data_close(ds);
    }
    for (int i = 0; i < 10; i++) {
        free(bufs[i]);
        free((char *)m[i].name);
    }
    tu_rmtree(d);
    free(d);
}
END_TEST

/* Counts the entries of a folder (without . and ..); -1 when it cannot be opened. */
static int entries(const char *dir)
{
    char cmd[4200], out[64];
    snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | wc -l", dir);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 0);
    return atoi(out);
}

START_TEST(archive_past_the_size_cap_is_refused_and_removed)
{
    char *d = tu_mkdtemp();
    char cache[4096], arc[4096], archives[4200];
    snprintf(cache, sizeof cache, "%s/cache", d);
    snprintf(archives, sizeof archives, "%s/archives", cache);
    snprintf(arc, sizeof arc, "%s/big.tgz", d);
    static uint8_t zeros[600 << 10];
    member m[] = {{"big/a.png", AE_IFREG, NULL, zeros, sizeof zeros},
                  {"big/b.png", AE_IFREG, NULL, zeros, sizeof zeros},
                  {"big/c.png", AE_IFREG, NULL, zeros, sizeof zeros}};
    pack(arc, m, 3, false);
    const dl_archive_limits lim = {.member_max = 1 << 20, .total_max = 1 << 20};
    char out[4096];
    dl_err err = {0};
    g_log[0] = 0;
    ck_assert_int_eq(dl_archive_extract_limited(arc, cache, &lim, out, sizeof out, &err),
                     DL_EFORMAT);
    ck_assert_msg(strstr(err.msg, "big.tgz: expands to more than 1 MB (at 'big/b.png')"), "%s",
                  err.msg);
    ck_assert_int_eq(entries(archives), 0); /* no partial extraction left */
    /* The default cap is 100x the archive, at least 4 GiB. */
    dl_archive_limits def;
    dl_archive_limits_default(1 << 20, &def);
    ck_assert_uint_eq(def.total_max, 4ull << 30);
    dl_archive_limits_default(1ull << 30, &def);
    ck_assert_uint_eq(def.total_max, 100ull << 30);
    tu_rmtree(d);
    free(d);
}
END_TEST

START_TEST(leftovers_of_a_killed_extraction_are_removed)
{
    char *d = tu_mkdtemp();
    char cache[4096], arc[4096];
    snprintf(cache, sizeof cache, "%s/cache", d);
    snprintf(arc, sizeof arc, "%s/pets.tgz", d);
    const uint8_t png[] = "not really a png";
    member m[] = {{"pets/a.png", AE_IFREG, NULL, png, sizeof png}};
    pack(arc, m, 1, false);
    struct stat sb;
    ck_assert_int_eq(stat(arc, &sb), 0);
    /* What a killed extraction leaves: its ".part.<pid>" folder (pid of a process that is gone)
     * and, from older versions, a folder without the completion marker. */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    char dir[4200], rel[4400];
    snprintf(dir, sizeof dir, "%s/archives/pets-%lld-%lld", cache, (long long)sb.st_size,
             (long long)sb.st_mtime);
    snprintf(rel, sizeof rel, "archives/pets-%lld-%lld.part.%ld/pets/half.png",
             (long long)sb.st_size, (long long)sb.st_mtime, (long)gone);
    du_write_text(cache, rel, "half");
    snprintf(rel, sizeof rel, "archives/pets-%lld-%lld/pets/junk.png", (long long)sb.st_size,
             (long long)sb.st_mtime);
    du_write_text(cache, rel, "junk");
    char out[4096];
    dl_err err = {0};
    ck_assert_msg(dl_archive_extract_limited(arc, cache, NULL, out, sizeof out, &err) == DL_OK,
                  "%s", err.msg);
    char archives[4200], p[8400];
    snprintf(archives, sizeof archives, "%s/archives", cache);
    ck_assert_int_eq(entries(archives), 1); /* the part folder is gone */
    snprintf(p, sizeof p, "%s/pets/junk.png", dir);
    ck_assert_int_ne(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/pets/a.png", dir);
    ck_assert_int_eq(access(p, F_OK), 0);
    ck_assert_str_eq(out, strcat(dir, "/pets"));
    tu_rmtree(d);
    free(d);
}
END_TEST

/* ---- CSV ---- */

static void csv_fails(const char *text, size_t n, const char *needle)
{
    dl_csv c;
    dl_err e = {0};
    ck_assert_int_eq(dl_csv_parse(text, n, "t.csv", &c, &e), DL_EFORMAT);
    ck_assert_msg(strstr(e.msg, needle), "'%s' lacks '%s'", e.msg, needle);
}

static void csv_fails_str(const char *text, const char *needle)
{
    csv_fails(text, strlen(text), needle);
}

START_TEST(csv_nul_bytes_are_an_error_naming_the_line)
{
    const char unquoted[] = "fname,labels\na.jpg,cat\nb.jpg,d\0og\n";
    csv_fails(unquoted, sizeof unquoted - 1, "t.csv:3: NUL byte in a field (field 2");
    const char quoted[] = "fname,labels\n\"a\nb.jpg\",\"c\0t\"\n";
    csv_fails(quoted, sizeof quoted - 1, "t.csv:3: NUL byte");
    const char header[] = "fn\0ame,labels\na.jpg,cat\n";
    csv_fails(header, sizeof header - 1, "t.csv:1: NUL byte");
    /* Through a dataset: the message names the file. */
    char *d = tu_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/train.csv", d);
    FILE *f = fopen(path, "wb");
    fwrite(unquoted, 1, sizeof unquoted - 1, f);
    fclose(f);
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = d;
    cfg.csv = "train.csv";
    dl_dataset *ds = NULL;
    dl_err e = {0};
    ck_assert_int_ne(dl_data_open(&cfg, &ds, &e), DL_OK);
    char want[4300];
    snprintf(want, sizeof want, "%s:3: NUL byte", path);
    ck_assert_msg(strstr(e.msg, want), "'%s' lacks '%s'", e.msg, want);
    tu_rmtree(d);
    free(d);
}
END_TEST

START_TEST(csv_long_lines_quotes_and_bom)
{
    /* A 1 MB field parses whole. */
    size_t big = 1 << 20;
    char *t = malloc(big + 64);
    int n = sprintf(t, "fname,labels\na.jpg,");
    memset(t + n, 'x', big);
    strcpy(t + n + big, "\nb.jpg,y\n");
    dl_csv c;
    dl_err e = {0};
    ck_assert_int_eq(dl_csv_parse(t, strlen(t), "t.csv", &c, &e), DL_OK);
    ck_assert_uint_eq(c.rows, 3);
    ck_assert_uint_eq(strlen(c.cells[3]), big);
    ck_assert_int_eq(c.line[2], 3);
    dl_csv_free(&c);
    /* A 1 MB quoted field that never closes: the error names the line the quote opened on. */
    n = sprintf(t, "fname,labels\na.jpg,cat\nb.jpg,\"");
    memset(t + n, 'x', big);
    t[n + big] = 0;
    csv_fails(t, strlen(t), "t.csv:3: unclosed quote");
    free(t);
    /* Unbalanced quotes elsewhere. */
    csv_fails_str("fname,labels\n\"a.jpg,cat\nb.jpg,dog\n", "t.csv:2: unclosed quote");
    csv_fails_str("fname,labels\na.jpg\",cat\n", "t.csv:2: quote inside an unquoted field");
    csv_fails_str("fname,labels\n\"a.jpg\"x,cat\n", "t.csv:2: text after a closing quote");
    csv_fails_str("\"", "t.csv:1: unclosed quote");
    /* A BOM is not part of the first column's name; a BOM alone is an empty file. */
    const char *bom = "\xEF\xBB\xBF"
                      "fname,labels\r\na.jpg,cat\r\n";
    ck_assert_int_eq(dl_csv_parse(bom, strlen(bom), "t.csv", &c, &e), DL_OK);
    ck_assert_int_eq(dl_csv_col(&c, "fname"), 0);
    ck_assert_str_eq(c.cells[3], "cat");
    dl_csv_free(&c);
    csv_fails("\xEF\xBB\xBF", 3, "t.csv:1: empty CSV file");
}
END_TEST

int main(void)
{
    dl_log_set_sink(capture, NULL);
    Suite *s = suite_create("data_hostile");
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hostile_archive_members_are_named_and_skipped);
    tcase_add_test(tc, archive_past_the_size_cap_is_refused_and_removed);
    tcase_add_test(tc, leftovers_of_a_killed_extraction_are_removed);
    tcase_add_test(tc, csv_nul_bytes_are_an_error_naming_the_line);
    tcase_add_test(tc, csv_long_lines_quotes_and_bom);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
