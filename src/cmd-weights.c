/* cmd-weights: `dllab weights info FILE` and `dllab weights import FILE --arch A -o OUT`.
 * info lists a weight file (safetensors or a torch.save .pth, read without executing anything):
 * its format, metadata, keys with dtypes and shapes, parameter and buffer counts, and the ResNet it
 * holds, checked against a model built from that architecture. import renames foreign keys
 * (DataParallel/timm/fastai), checks every key and shape against the model for --arch, and writes
 * a dllab safetensors checkpoint atomically; a missing classifier is expected (transfer learning)
 * and the output then holds the body only. Exit 0 ok, 1 failure, 2 usage. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "core/file.h"
#include "core/io/names.h"
#include "core/io/read_file.h"
#include "core/io/safetensors.h"
#include "core/io/weights.h"
#include "core/models/model.h"
#include "core/printable.h"
#include "src/commands.h"
#include "src/weights-arch.h"

static void usage(FILE *o)
{
    fprintf(
        o,
        "usage: dllab weights info FILE\n"
        "       dllab weights import FILE --arch ARCH -o OUT.safetensors\n"
        "\n"
        "FILE is a .safetensors file or a PyTorch checkpoint saved by torch.save (torch >= 1.6),\n"
        "read without running any of its code. Keys from DataParallel ('module.'), timm and "
        "fastai\n"
        "exports are renamed to torchvision's.\n"
        "\n"
        "  info     keys, dtypes, shapes, parameter count and the detected architecture\n"
        "  import   check every key and shape against ARCH (resnet18, resnet34, resnet50, "
        "resnet-xs,\n"
        "           resnet-s, resnet-custom:...) and write a dllab checkpoint; a missing fc is\n"
        "           fine (the head is trained fresh), anything else missing or unexpected fails\n");
}

static int is_buffer(const char *name)
{
    size_t n = strlen(name);
    static const char *sfx[] = {"running_mean", "running_var", "num_batches_tracked"};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(sfx[i]);
        if (n >= l && strcmp(name + n - l, sfx[i]) == 0)
            return 1;
    }
    return 0;
}

static int load(const char *prog, const char *path, dl_tensor_map *m, dl_weights_style *style,
                const char **fmt)
{
    void *buf;
    size_t len;
    dl_err err = {0};
    dl_status st = dl_file_read(path, SIZE_MAX, "a weight file", &buf, &len, &err);
    if (st == DL_OK) {
        *fmt = dl_weights_sniff(buf, len) == DL_WEIGHTS_PTH ? "PyTorch checkpoint (torch.save zip)"
                                                            : "safetensors";
        st = dl_weights_parse(buf, len, path, m, &err);
        free(buf);
    }
    if (st == DL_OK)
        st = dl_weights_rename(m, style, &err);
    if (st != DL_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

static void print_list(FILE *o, const char *what, char (*list)[96], size_t n)
{
    if (!n)
        return;
    char shown[400];
    fprintf(o, "  %s (%zu):", what, n);
    for (size_t i = 0; i < n && i < WA_LIST; i++)
        fprintf(o, "%s %s", i ? "," : "", dl_printable(list[i], shown, sizeof shown));
    fprintf(o, "%s\n", n > WA_LIST ? ", ..." : "");
}

static void print_report(FILE *o, const wa_report *r)
{
    print_list(o, "missing", (char(*)[96])r->missing, r->n_missing);
    print_list(o, "unexpected", (char(*)[96])r->unexpected, r->n_unexpected);
    for (size_t i = 0; i < r->n_shape && i < WA_LIST; i++)
        fprintf(o, "  shape mismatch: %s\n", r->shape[i]);
    if (r->n_shape > WA_LIST)
        fprintf(o, "  ... and %zu more shape mismatches\n", r->n_shape - WA_LIST);
}

static int cmd_info(const char *path)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_weights_style style = {""};
    const char *fmt = "";
    int rc = load("dllab weights info", path, &m, &style, &fmt);
    if (rc != DL_EXIT_OK)
        return rc;
    char shown[1024], shown2[4096]; /* names and metadata from the file, escaped for the terminal */
    printf("file: %s\nformat: %s\nkey names: %s\n", path, fmt, style.text);
    for (size_t i = 0; i < m.n_meta; i++)
        printf("metadata: %s = %s\n", dl_printable(m.meta[i].key, shown, sizeof shown),
               dl_printable(m.meta[i].value, shown2, sizeof shown2));
    unsigned long long params = 0, buf_vals = 0;
    size_t n_params = 0;
    for (size_t i = 0; i < m.n; i++) {
        unsigned long long n =
            (unsigned long long)dl_shape_numel(m.items[i].ndim, m.items[i].shape);
        if (is_buffer(m.items[i].name))
            buf_vals += n;
        else {
            params += n;
            n_params++;
        }
    }
    printf("tensors: %zu (%zu parameters, %zu buffers)\nparameter count: %llu (buffers hold %llu "
           "values)\n",
           m.n, n_params, m.n - n_params, params, buf_vals);
    wa_guess g;
    char why[200];
    if (!wa_infer(&m, &g, why, sizeof why)) {
        printf("architecture: unknown (%s)\n", why);
    } else {
        wa_report r;
        dl_err err = {0};
        if (wa_compare(&m, g.arch, &g, &r, NULL, &err) != DL_OK) {
            printf("architecture: looks like %s, but dllab cannot build it: %s\n", g.arch, err.msg);
        } else {
            printf("architecture: %s (%d input channels, %s)%s\n", g.arch, g.in_channels,
                   g.has_head ? (g.head == DL_HEAD_FASTAI ? "fastai head" : "torchvision head")
                              : "no head",
                   wa_report_ok(&r) ? "" : " with differences:");
            if (g.has_head)
                printf("classes: %d\n", g.n_out);
            print_report(stdout, &r);
            printf("keys matching the model: %zu of %zu%s\n", r.n_matched, r.n_expected,
                   r.n_nbt_missing ? " (num_batches_tracked absent, filled with 0 on import)" : "");
        }
    }
    printf("\n");
    for (size_t i = 0; i < m.n; i++) {
        char s[96];
        printf("  %-48s %s %s\n", dl_printable(m.items[i].name, shown, sizeof shown),
               dl_dtype_name(m.items[i].dtype),
               dl_shape_str(m.items[i].ndim, m.items[i].shape, s, sizeof s));
    }
    dl_tensor_map_free(&m);
    return DL_EXIT_OK;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Copies the model's state dict into out, dropping the head when the file had none. */
static dl_status body_and_head(dl_model *net, bool keep_head, dl_tensor_map *out, dl_err *err)
{
    dl_tensor_map sd;
    dl_tensor_map_init(&sd);
    dl_status st = dl_model_state_dict(net, &sd, err);
    for (size_t i = 0; st == DL_OK && i < sd.n; i++) {
        const dl_named_tensor *t = &sd.items[i];
        if (keep_head || !wa_is_head_key(t->name))
            st = dl_tensor_map_add(out, t->name, t->dtype, t->ndim, t->shape, t->data, err);
    }
    for (size_t i = 0; st == DL_OK && i < sd.n_meta; i++)
        st = dl_tensor_map_set_meta(out, sd.meta[i].key, sd.meta[i].value, err);
    dl_tensor_map_free(&sd);
    return st;
}

static int cmd_import(const char *path, const char *arch, const char *outp)
{
    const char *prog = "dllab weights import";
    dl_tensor_map m, out;
    dl_tensor_map_init(&m);
    dl_tensor_map_init(&out);
    dl_weights_style style = {""};
    const char *fmt = "";
    int rc = load(prog, path, &m, &style, &fmt);
    if (rc != DL_EXIT_OK)
        return rc;
    wa_guess g;
    wa_io_shape(&m, &g);
    wa_report r;
    dl_model *net = NULL;
    dl_err err = {0};
    dl_status st = wa_compare(&m, arch, &g, &r, &net, &err);
    if (st != DL_OK) {
        fprintf(stderr, "%s: --arch %s: %s\n", prog, arch, err.msg);
        dl_tensor_map_free(&m);
        return st == DL_EINVAL || st == DL_ENOTFOUND || st == DL_EUNSUPPORTED ? DL_EXIT_USAGE
                                                                              : DL_EXIT_FAIL;
    }
    if (!wa_report_ok(&r)) {
        fprintf(stderr, "%s: %s does not fit %s (%zu of %zu keys match):\n", prog, path, arch,
                r.n_matched, r.n_expected);
        print_report(stderr, &r);
        rc = DL_EXIT_FAIL;
        goto done;
    }
    st = g.has_head ? dl_model_load_state_dict(net, &m, &err) : dl_model_load_body(net, &m, &err);
    if (st == DL_OK)
        st = body_and_head(net, g.has_head, &out, &err);
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(&out, "format", "dllab", &err);
    if (st == DL_OK)
        st = dl_tensor_map_set_meta(&out, "source", base_name(path), &err);
    if (st == DL_OK && !g.has_head)
        st = dl_tensor_map_set_meta(&out, "body_only", "1", &err);
    if (st == DL_OK)
        st = dl_safetensors_write(outp, &out, &err);
    if (st != DL_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        rc = DL_EXIT_FAIL;
        goto done;
    }
    unsigned long long vals = 0;
    for (size_t i = 0; i < out.n; i++)
        vals += (unsigned long long)dl_shape_numel(out.items[i].ndim, out.items[i].shape);
    printf("imported %s (%s; key names: %s) as %s: %zu tensors, %llu values -> %s\n", path, fmt,
           style.text, arch, out.n, vals, outp);
    if (!g.has_head)
        printf("head: none in the file (expected for transfer): it is initialised fresh when "
               "training\n");
    if (r.n_nbt_missing)
        printf("num_batches_tracked: absent for %zu BatchNorms, set to 0\n", r.n_nbt_missing);
done:
    dl_model_free(net);
    dl_tensor_map_free(&m);
    dl_tensor_map_free(&out);
    return rc;
}

int cmd_weights(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DL_EXIT_USAGE : DL_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "info") != 0 && strcmp(sub, "import") != 0) {
        fprintf(stderr, "dllab weights: unknown sub-command '%s'\n\n", sub);
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    static const struct option opts[] = {{"arch", required_argument, NULL, 'a'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *arch = NULL, *outp = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "a:o:h", opts, NULL)) != -1) {
        if (c == 'a')
            arch = optarg;
        else if (c == 'o')
            outp = optarg;
        else if (c == 'h') {
            usage(stdout);
            return DL_EXIT_OK;
        } else {
            fprintf(stderr, "dllab weights %s: bad option '%s'\n\n", sub,
                    argv[optind]); /* = (argv + 1)[optind - 1] */
            usage(stderr);
            return DL_EXIT_USAGE;
        }
    }
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (rest != 1) {
        fprintf(stderr, "dllab weights %s: expected one FILE, got %d\n\n", sub, rest);
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    if (strcmp(sub, "info") == 0) {
        if (arch || outp) {
            fprintf(stderr, "dllab weights info: --arch and -o belong to 'import'\n");
            return DL_EXIT_USAGE;
        }
        return cmd_info(args[0]);
    }
    if (!arch || !outp) {
        fprintf(stderr, "dllab weights import: %s is required\n\n",
                !arch ? "--arch" : "-o OUT.safetensors");
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    return cmd_import(args[0], arch, outp);
}
