/* resnet: arch-string parsing and the body builder (see resnet.h). Blocks follow torchvision's
 * BasicBlock and Bottleneck (v1.5, stride on the 3x3 conv); the ReLU after each bn1/bn2 is fused
 * into the BN node and the block's final ReLU into the residual node. */
#include "core/models/resnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct zoo_entry {
    const char *name;
    dl_resnet_spec spec;
} zoo_entry;

static const zoo_entry zoo[] = {
    {"resnet18", {DL_BLOCK_BASIC, DL_STEM_IMAGENET, 4, {2, 2, 2, 2}, {64, 128, 256, 512}}},
    {"resnet34", {DL_BLOCK_BASIC, DL_STEM_IMAGENET, 4, {3, 4, 6, 3}, {64, 128, 256, 512}}},
    {"resnet50", {DL_BLOCK_BOTTLENECK, DL_STEM_IMAGENET, 4, {3, 4, 6, 3}, {64, 128, 256, 512}}},
    /* the Fashion-MNIST model: docs/fastai.md §9.2, model (d) of docs/performance.md §4 */
    {"resnet-xs", {DL_BLOCK_BASIC, DL_STEM_SMALL, 3, {2, 2, 2, 0}, {32, 64, 128, 0}}},
    {"resnet-s", {DL_BLOCK_BASIC, DL_STEM_SMALL, 3, {2, 3, 3, 0}, {64, 128, 256, 0}}},
};

static const char *const zoo_names[] = {"resnet18",  "resnet34", "resnet50",
                                        "resnet-xs", "resnet-s", NULL};

const char *const *dl_resnet_names(void) { return zoo_names; }

/* "1,2,3" -> ints; returns the count or -1 */
static int parse_ints(const char *s, size_t len, int *out, int max)
{
    int n = 0;
    const char *p = s, *end = s + len;
    while (p < end) {
        char *q;
        long v = strtol(p, &q, 10);
        if (q == p || v < 1 || v > 100000 || n == max)
            return -1;
        out[n++] = (int)v;
        p = q;
        if (p < end) {
            if (*p != ',')
                return -1;
            p++;
            if (p == end)
                return -1;
        }
    }
    return n;
}

static dl_status parse_custom(const char *arch, dl_resnet_spec *s, dl_err *err)
{
    const char *hint =
        "expected resnet-custom:<basic|bottleneck>:<blocks,..>:<planes,..>:<imagenet|small>";
    const char *f[4];
    size_t len[4];
    const char *p = arch + strlen("resnet-custom:");
    for (int i = 0; i < 3; i++) {
        const char *c = strchr(p, ':');
        if (!c)
            return dl_err_set(err, DL_EINVAL, "arch '%s': %s", arch, hint);
        f[i] = p;
        len[i] = (size_t)(c - p);
        p = c + 1;
    }
    f[3] = p;
    len[3] = strlen(p);
    memset(s, 0, sizeof *s);
    if (len[0] == 5 && !strncmp(f[0], "basic", 5))
        s->block = DL_BLOCK_BASIC;
    else if (len[0] == 10 && !strncmp(f[0], "bottleneck", 10))
        s->block = DL_BLOCK_BOTTLENECK;
    else
        return dl_err_set(err, DL_EINVAL, "arch '%s': unknown block '%.*s'; %s", arch, (int)len[0],
                          f[0], hint);
    int nb = parse_ints(f[1], len[1], s->blocks, DL_RESNET_MAX_STAGES);
    int np = parse_ints(f[2], len[2], s->planes, DL_RESNET_MAX_STAGES);
    if (nb < 1 || np != nb)
        return dl_err_set(err, DL_EINVAL,
                          "arch '%s': blocks and planes must be 1-%d positive numbers each, "
                          "as many planes as stages; %s",
                          arch, DL_RESNET_MAX_STAGES, hint);
    s->n_stages = nb;
    if (!strcmp(f[3], "imagenet"))
        s->stem = DL_STEM_IMAGENET;
    else if (!strcmp(f[3], "small"))
        s->stem = DL_STEM_SMALL;
    else
        return dl_err_set(err, DL_EINVAL, "arch '%s': unknown stem '%s'; %s", arch, f[3], hint);
    return DL_OK;
}

dl_status dl_resnet_spec_parse(const char *arch, dl_resnet_spec *out, dl_err *err)
{
    if (!arch)
        return dl_err_set(err, DL_EINVAL, "no architecture given");
    for (size_t i = 0; i < sizeof zoo / sizeof zoo[0]; i++)
        if (!strcmp(arch, zoo[i].name)) {
            *out = zoo[i].spec;
            return DL_OK;
        }
    if (!strncmp(arch, "resnet-custom:", 14))
        return parse_custom(arch, out, err);
    return dl_err_set(
        err, DL_ENOTFOUND,
        "unknown architecture '%s' (known: resnet18, resnet34, resnet50, resnet-xs, resnet-s, "
        "resnet-custom:...)",
        arch);
}

int dl_resnet_body_channels(const dl_resnet_spec *s)
{
    return s->planes[s->n_stages - 1] * (s->block == DL_BLOCK_BOTTLENECK ? 4 : 1);
}

/* appends child (built or NULL) to seq */
#define APPEND(seq, expr)                                                                          \
    do {                                                                                           \
        dl_status st_ = dl_nn_seq_append((seq), (expr), err);                                      \
        if (st_ != DL_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

static dl_status build_block(dl_params *ps, dl_node *stage, const dl_resnet_spec *s,
                             const char *name, int in_c, int planes, int stride, int group,
                             int *out_c, dl_err *err)
{
    char nm[DL_NAME_MAX];
    dl_node *br = dl_nn_sequential(name, err);
    if (!br)
        return err ? err->code : DL_ENOMEM;
    dl_status st = DL_OK;
    int exp_c = s->block == DL_BLOCK_BOTTLENECK ? planes * 4 : planes;
#define BR(expr)                                                                                   \
    do {                                                                                           \
        if ((st = dl_nn_seq_append(br, (expr), err)) != DL_OK)                                     \
            goto fail;                                                                             \
    } while (0)
#define NM(suffix) (snprintf(nm, sizeof nm, "%s.%s", name, suffix), nm)
    if (s->block == DL_BLOCK_BASIC) {
        BR(dl_nn_conv2d(ps, NM("conv1"), in_c, planes, 3, stride, 1, group, err));
        BR(dl_nn_batchnorm(ps, NM("bn1"), planes, true, group, err));
        BR(dl_nn_conv2d(ps, NM("conv2"), planes, planes, 3, 1, 1, group, err));
        BR(dl_nn_batchnorm(ps, NM("bn2"), planes, false, group, err));
    } else {
        BR(dl_nn_conv2d(ps, NM("conv1"), in_c, planes, 1, 1, 0, group, err));
        BR(dl_nn_batchnorm(ps, NM("bn1"), planes, true, group, err));
        BR(dl_nn_conv2d(ps, NM("conv2"), planes, planes, 3, stride, 1, group, err));
        BR(dl_nn_batchnorm(ps, NM("bn2"), planes, true, group, err));
        BR(dl_nn_conv2d(ps, NM("conv3"), planes, exp_c, 1, 1, 0, group, err));
        BR(dl_nn_batchnorm(ps, NM("bn3"), exp_c, false, group, err));
    }
#undef BR
    dl_node *ds = NULL;
    if (stride != 1 || in_c != exp_c) {
        ds = dl_nn_sequential(NM("downsample"), err);
        if (!ds) {
            st = err ? err->code : DL_ENOMEM;
            goto fail;
        }
        if ((st = dl_nn_seq_append(
                 ds, dl_nn_conv2d(ps, NM("downsample.0"), in_c, exp_c, 1, stride, 0, group, err),
                 err)) != DL_OK ||
            (st = dl_nn_seq_append(
                 ds, dl_nn_batchnorm(ps, NM("downsample.1"), exp_c, false, group, err), err)) !=
                DL_OK) {
            dl_nn_free(ds);
            goto fail;
        }
    }
#undef NM
    *out_c = exp_c;
    return dl_nn_seq_append(stage, dl_nn_residual(name, br, ds, err), err);
fail:
    dl_nn_free(br);
    return st;
}

dl_status dl_resnet_build(dl_params *ps, dl_node *seq, const dl_resnet_spec *s, int in_channels,
                          dl_err *err)
{
    if (in_channels < 1)
        return dl_err_set(err, DL_EINVAL, "in_channels must be positive (got %d)", in_channels);
    if (s->n_stages < 1 || s->n_stages > DL_RESNET_MAX_STAGES)
        return dl_err_set(err, DL_EINVAL, "a ResNet needs 1-%d stages (got %d)",
                          DL_RESNET_MAX_STAGES, s->n_stages);
    int c = s->planes[0];
    if (s->stem == DL_STEM_IMAGENET)
        APPEND(seq, dl_nn_conv2d(ps, "conv1", in_channels, c, 7, 2, 3, 0, err));
    else
        APPEND(seq, dl_nn_conv2d(ps, "conv1", in_channels, c, 3, 1, 1, 0, err));
    APPEND(seq, dl_nn_batchnorm(ps, "bn1", c, true, 0, err));
    if (s->stem == DL_STEM_IMAGENET)
        APPEND(seq, dl_nn_maxpool2d("maxpool", 3, 2, 1, err));
    for (int i = 0; i < s->n_stages; i++) {
        char lname[32], bname[48];
        snprintf(lname, sizeof lname, "layer%d", i + 1);
        dl_node *stage = dl_nn_sequential(lname, err);
        if (!stage)
            return err ? err->code : DL_ENOMEM;
        int group = i < 2 ? 0 : 1;
        for (int b = 0; b < s->blocks[i]; b++) {
            snprintf(bname, sizeof bname, "%s.%d", lname, b);
            int stride = (b == 0 && i > 0) ? 2 : 1;
            dl_status st =
                build_block(ps, stage, s, bname, c, s->planes[i], stride, group, &c, err);
            if (st != DL_OK) {
                dl_nn_free(stage);
                return st;
            }
        }
        APPEND(seq, stage);
    }
    return DL_OK;
}

dl_status dl_head_torchvision(dl_params *ps, dl_node *seq, int body_c, int n_out, dl_err *err)
{
    APPEND(seq, dl_nn_avgpool_global("avgpool", err));
    APPEND(seq, dl_nn_linear(ps, "fc", body_c, n_out, true, 2, err));
    return DL_OK;
}

dl_status dl_head_fastai(dl_params *ps, dl_node *seq, int body_c, int n_out, dl_err *err)
{
    size_t first = ps->n; /* the head's entries start here */
    APPEND(seq, dl_nn_concat_pool("head.0", err));
    APPEND(seq, dl_nn_flatten("head.1", err));
    APPEND(seq, dl_nn_batchnorm(ps, "head.2", 2 * body_c, false, 2, err));
    APPEND(seq, dl_nn_dropout("head.3", 0.25f, err));
    APPEND(seq, dl_nn_linear(ps, "head.4", 2 * body_c, 512, false, 2, err));
    APPEND(seq, dl_nn_relu("head.5", err));
    APPEND(seq, dl_nn_batchnorm(ps, "head.6", 512, false, 2, err));
    APPEND(seq, dl_nn_dropout("head.7", 0.5f, err));
    APPEND(seq, dl_nn_linear(ps, "head.8", 512, n_out, false, 2, err));
    dl_init_fastai_head(ps, first);
    return DL_OK;
}
