/* check_models: the zoo and the model API.
 *  - torchvision manifests: resnet18/34/50 names, dtypes, shapes and order match the committed
 *    key lists (tests/gen/mkfix_manifest.py), and the parameter counts match torchvision's;
 *  - PyTorch parity on micro ResNets (tests/gen/mkfix_models.py): eval and train logits, the loss,
 *    every parameter gradient and the BN buffers after one train forward (tolerances:
 *    docs/architecture.md §9.4);
 *  - the fastai head: names, shapes, groups, init statistics; a finite-difference check of a whole
 *    small model; freezing; state-dict and safetensors round trips; load_body; bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"
#include "core/models/model.h"
#include "core/models/resnet.h"
#include "core/ops/ops.h"
#include "tests/testutil.h"

static dl_model *make(const char *arch, int in_c, int n_out, dl_head_kind head, uint64_t seed)
{
    dl_model_cfg cfg = {
        .arch = arch, .in_channels = in_c, .n_out = n_out, .head = head, .seed = seed};
    dl_model *m = NULL;
    dl_err err = {0};
    dl_status st = dl_model_create(&m, &cfg, &err);
    ck_assert_msg(st == DL_OK, "create %s: %s", arch, err.msg);
    return m;
}

static float *randn(size_t n, uint64_t seed, float scale)
{
    float *x = malloc(n * sizeof *x);
    dl_rng r;
    dl_rng_seed(&r, seed, 0, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = dl_rng_normal(&r) * scale;
    return x;
}

static const dl_entry *entry(dl_model *m, const char *name)
{
    dl_params *ps = dl_model_params(m);
    long i = dl_params_find(ps, name);
    ck_assert_msg(i >= 0, "no entry '%s'", name);
    return &ps->e[i];
}

static float *data_of(dl_model *m, const char *name)
{
    dl_params *ps = dl_model_params(m);
    long i = dl_params_find(ps, name);
    ck_assert_msg(i >= 0, "no entry '%s'", name);
    return dl_params_data(ps, (size_t)i);
}

static float *grad_of(dl_model *m, const char *name)
{
    dl_params *ps = dl_model_params(m);
    long i = dl_params_find(ps, name);
    ck_assert_msg(i >= 0, "no entry '%s'", name);
    return dl_params_grad(ps, (size_t)i);
}

/* ---- torchvision manifests ------------------------------------------------------------------- */
static void check_manifest(const char *arch, size_t want_params)
{
    dl_model *m = make(arch, 3, 1000, DL_HEAD_TORCHVISION, 0);
    dl_params *ps = dl_model_params(m);
    ck_assert_uint_eq(dl_params_count(ps), want_params);
    char rel[64];
    snprintf(rel, sizeof rel, "zoo/%s.keys.tsv", arch);
    FILE *f = fopen(tu_fixture(rel), "r");
    ck_assert_msg(f != NULL, "cannot open %s", tu_fixture(rel));
    char line[512];
    size_t i = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\r\n")] = 0;
        char *name = strtok(line, "\t"), *dtype = strtok(NULL, "\t"), *shape = strtok(NULL, "\t");
        ck_assert_msg(i < ps->n, "%s: the model has %zu entries, the manifest more ('%s')", arch,
                      ps->n, name);
        const dl_entry *e = &ps->e[i];
        ck_assert_msg(strcmp(e->name, name) == 0, "%s entry %zu: model '%s', torchvision '%s'",
                      arch, i, e->name, name);
        ck_assert_str_eq(dtype, e->kind == DL_ENTRY_BUF_I64 ? "I64" : "F32");
        char got[128] = "";
        for (int d = 0; d < e->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "",
                     (long long)e->shape[d]);
        ck_assert_msg(strcmp(got, shape ? shape : "") == 0, "%s '%s': shape %s, torchvision %s",
                      arch, name, got, shape ? shape : "()");
        i++;
    }
    fclose(f);
    ck_assert_uint_eq(i, ps->n);
    /* the state dict carries the same names in the same order, plus metadata */
    dl_tensor_map sd;
    dl_tensor_map_init(&sd);
    ck_assert_int_eq(dl_model_state_dict(m, &sd, NULL), DL_OK);
    ck_assert_uint_eq(sd.n, ps->n);
    ck_assert_str_eq(sd.items[sd.n - 1].name, "fc.bias");
    ck_assert_str_eq(dl_tensor_map_get_meta(&sd, "arch"), arch);
    ck_assert_str_eq(dl_tensor_map_get_meta(&sd, "n_out"), "1000");
    dl_tensor_map_free(&sd);
    dl_model_free(m);
}

START_TEST(manifest_resnet18) { check_manifest("resnet18", 11689512); }
END_TEST
START_TEST(manifest_resnet34) { check_manifest("resnet34", 21797672); }
END_TEST
START_TEST(manifest_resnet50) { check_manifest("resnet50", 25557032); }
END_TEST

typedef struct conv_tally {
    int n, strided, k7, last_hw;
    char first[64];
} conv_tally;

static void tally(void *user, const char *name, int in_c, int in_h, int in_w, int out_c, int k,
                  int stride, int pad)
{
    conv_tally *t = user;
    if (!t->n)
        snprintf(t->first, sizeof t->first, "%s", name);
    t->n++;
    t->strided += stride == 2;
    t->k7 += k == 7 && pad == 3 && in_c == 3 && out_c == 64;
    t->last_hw = in_h * in_w;
}

START_TEST(conv_walk_lists_the_plan)
{
    dl_model *m = make("resnet18", 3, 10, DL_HEAD_TORCHVISION, 0);
    conv_tally t = {0};
    dl_model_walk_convs(m, tally, &t);
    ck_assert_int_eq(t.n, 0); /* nothing planned yet */
    float *x = randn(2 * 3 * 64 * 64, 1, 1.0f);
    const float *y;
    ck_assert_int_eq(dl_model_forward(m, x, 2, 64, 64, false, &y, NULL), DL_OK);
    dl_model_walk_convs(m, tally, &t);
    /* stem + 16 block convs + 3 downsamples; stride 2 in the stem, 3 conv1s and 3 downsamples */
    ck_assert_int_eq(t.n, 20);
    ck_assert_int_eq(t.strided, 7);
    ck_assert_int_eq(t.k7, 1);
    ck_assert_str_eq(t.first, "conv1");
    ck_assert_int_eq(t.last_hw, 2 * 2); /* layer4.1.conv2 at 64 / 32 */
    free(x);
    dl_model_free(m);
}
END_TEST

START_TEST(layer_groups_follow_fastai)
{
    dl_model *m = make("resnet18", 3, 10, DL_HEAD_TORCHVISION, 0);
    ck_assert_int_eq(dl_model_n_groups(m), 3);
    ck_assert_int_eq(entry(m, "conv1.weight")->group, 0);
    ck_assert_int_eq(entry(m, "layer2.1.bn2.bias")->group, 0);
    ck_assert_int_eq(entry(m, "layer3.0.conv1.weight")->group, 1);
    ck_assert_int_eq(entry(m, "layer4.1.conv2.weight")->group, 1);
    ck_assert_int_eq(entry(m, "fc.weight")->group, 2);
    ck_assert_int_eq(dl_model_body_channels(m), 512);
    ck_assert(entry(m, "layer1.0.bn1.weight")->flags & DL_PARAM_NORM);
    ck_assert(entry(m, "fc.bias")->flags & DL_PARAM_BIAS);
    dl_model_free(m);
    m = make("resnet50", 3, 10, DL_HEAD_TORCHVISION, 0);
    ck_assert_int_eq(dl_model_body_channels(m), 2048);
    dl_model_free(m);
}
END_TEST

START_TEST(small_resnets_shapes)
{
    /* resnet-xs: the Fashion-MNIST model of docs/performance.md §4, (d) */
    dl_model *m = make("resnet-xs", 1, 10, DL_HEAD_TORCHVISION, 0);
    ck_assert(entry(m, "conv1.weight")->shape[0] == 32 && entry(m, "conv1.weight")->shape[1] == 1 &&
              entry(m, "conv1.weight")->shape[2] == 3);
    ck_assert(dl_params_find(dl_model_params(m), "layer1.0.downsample.0.weight") < 0);
    ck_assert(entry(m, "layer2.0.downsample.0.weight")->shape[0] == 64);
    ck_assert(entry(m, "layer3.1.conv2.weight")->shape[0] == 128);
    ck_assert(dl_params_find(dl_model_params(m), "layer4.0.conv1.weight") < 0);
    ck_assert(entry(m, "fc.weight")->shape[1] == 128);
    float *x = randn(2 * 28 * 28, 5, 1.0f);
    const float *y;
    dl_err err;
    ck_assert_int_eq(dl_model_forward(m, x, 2, 28, 28, false, &y, &err), DL_OK);
    for (int i = 0; i < 20; i++)
        ck_assert(isfinite(y[i]));
    ck_assert_uint_gt(dl_model_activation_bytes(m), 0);
    free(x);
    dl_model_free(m);
    m = make("resnet-s", 3, 7, DL_HEAD_FASTAI, 0);
    ck_assert_int_eq(dl_model_body_channels(m), 256);
    ck_assert(entry(m, "head.4.weight")->shape[1] == 512);
    dl_model_free(m);
}
END_TEST

/* ---- micro ResNet parity -------------------------------------------------------------------- */
static bool is_fixture_extra(const char *k) { return !strncmp(k, "after.", 6); }

static const dl_named_tensor *need(const dl_tensor_map *m, const char *k)
{
    const dl_named_tensor *t = dl_tensor_map_get(m, k);
    ck_assert_msg(t != NULL, "fixture lacks '%s'", k);
    return t;
}

static void check_parity(const char *name)
{
    char rel[128];
    dl_err err = {0};
    dl_tensor_map fx, gx, sd;
    dl_tensor_map_init(&fx);
    dl_tensor_map_init(&gx);
    dl_tensor_map_init(&sd);
    snprintf(rel, sizeof rel, "models/%s.safetensors", name);
    ck_assert_msg(dl_safetensors_read(tu_fixture(rel), &fx, &err) == DL_OK, "%s", err.msg);
    snprintf(rel, sizeof rel, "models/%s_out.safetensors", name);
    ck_assert_msg(dl_safetensors_read(tu_fixture(rel), &gx, &err) == DL_OK, "%s", err.msg);
    const char *arch = dl_tensor_map_get_meta(&fx, "arch");
    ck_assert_ptr_nonnull(arch);
    dl_model *m = make(arch, 3, 10, DL_HEAD_TORCHVISION, 99);
    for (size_t i = 0; i < fx.n; i++)
        if (!is_fixture_extra(fx.items[i].name))
            ck_assert_int_eq(dl_tensor_map_add(&sd, fx.items[i].name, fx.items[i].dtype,
                                               fx.items[i].ndim, fx.items[i].shape,
                                               fx.items[i].data, NULL),
                             DL_OK);
    ck_assert_msg(dl_model_load_state_dict(m, &sd, &err) == DL_OK, "%s", err.msg);

    const dl_named_tensor *x = need(&gx, "x"), *tg = need(&gx, "targets");
    int n = (int)x->shape[0], h = (int)x->shape[2], w = (int)x->shape[3];
    const float *y;
    ck_assert_int_eq(dl_model_forward(m, x->data, n, h, w, false, &y, &err), DL_OK);
    const float *ref = need(&gx, "logits_eval")->data;
    double r = tu_rel_err(y, ref, (size_t)n * 10);
    ck_assert_msg(r <= 1e-4, "%s eval logits: max-rel %g", name, r);

    ck_assert_int_eq(dl_model_forward(m, x->data, n, h, w, true, &y, &err), DL_OK);
    ref = need(&gx, "logits_train")->data;
    r = tu_rel_err(y, ref, (size_t)n * 10);
    ck_assert_msg(r <= 1e-4, "%s train logits: max-rel %g", name, r);

    int32_t t32[16];
    for (int i = 0; i < n; i++)
        t32[i] = (int32_t)((const int64_t *)tg->data)[i];
    float dlog[160];
    double loss = dl_cross_entropy(dlog, y, t32, n, 10);
    double want = ((const float *)need(&gx, "loss")->data)[0];
    ck_assert_msg(fabs(loss - want) <= 1e-5, "%s loss %.8f, torch %.8f", name, loss, want);

    dl_params *ps = dl_model_params(m);
    dl_params_zero_grad(ps);
    ck_assert_int_eq(dl_model_backward(m, dlog, &err), DL_OK);
    int n_grads = 0, n_bufs = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const dl_entry *e = &ps->e[i];
        char key[DL_NAME_MAX + 8];
        if (e->kind == DL_ENTRY_PARAM) {
            snprintf(key, sizeof key, "grad.%s", e->name);
            const dl_named_tensor *g = need(&gx, key);
            r = tu_rel_err(dl_params_grad(ps, i), g->data, e->numel);
            ck_assert_msg(r <= 1e-3, "%s grad of %s: max-rel %g", name, e->name, r);
            n_grads++;
        } else {
            snprintf(key, sizeof key, "after.%s", e->name);
            const dl_named_tensor *b = need(&fx, key);
            if (e->kind == DL_ENTRY_BUF_I64) {
                ck_assert_int_eq(dl_params_ibuf(ps, i)[0], ((const int64_t *)b->data)[0]);
                ck_assert_int_eq(dl_params_ibuf(ps, i)[0],
                                 4); /* 3 in the fixture + one train forward */
            } else {
                tu_assert_close(e->name, dl_params_buf(ps, i), b->data, e->numel, 1e-5, 1e-4, 0);
            }
            n_bufs++;
        }
    }
    ck_assert_int_gt(n_grads, 10);
    ck_assert_int_gt(n_bufs, 10);
    dl_model_free(m);
    dl_tensor_map_free(&fx);
    dl_tensor_map_free(&gx);
    dl_tensor_map_free(&sd);
}

/* fastai head, eval mode: concat pool order (max, then avg), BatchNorm1d, bias-free linears */
START_TEST(parity_micro_fastai_head_eval)
{
    dl_err err = {0};
    dl_tensor_map fx, sd;
    dl_tensor_map_init(&fx);
    dl_tensor_map_init(&sd);
    ck_assert_msg(dl_safetensors_read(tu_fixture("models/micro_fastai.safetensors"), &fx, &err) ==
                      DL_OK,
                  "%s", err.msg);
    ck_assert_str_eq(dl_tensor_map_get_meta(&fx, "head"), "fastai");
    dl_model *m = make(dl_tensor_map_get_meta(&fx, "arch"), 3, 10, DL_HEAD_FASTAI, 99);
    for (size_t i = 0; i < fx.n; i++)
        if (strcmp(fx.items[i].name, "x") && strcmp(fx.items[i].name, "logits_eval"))
            ck_assert_int_eq(dl_tensor_map_add(&sd, fx.items[i].name, fx.items[i].dtype,
                                               fx.items[i].ndim, fx.items[i].shape,
                                               fx.items[i].data, NULL),
                             DL_OK);
    ck_assert_msg(dl_model_load_state_dict(m, &sd, &err) == DL_OK, "%s", err.msg);
    const dl_named_tensor *x = need(&fx, "x");
    const float *y;
    ck_assert_int_eq(dl_model_forward(m, x->data, 2, 32, 32, false, &y, &err), DL_OK);
    double r = tu_rel_err(y, need(&fx, "logits_eval")->data, 20);
    ck_assert_msg(r <= 1e-4, "fastai head eval logits: max-rel %g", r);
    dl_model_free(m);
    dl_tensor_map_free(&fx);
    dl_tensor_map_free(&sd);
}
END_TEST

START_TEST(parity_micro_basic) { check_parity("micro_basic"); }
END_TEST
START_TEST(parity_micro_bottleneck) { check_parity("micro_bottleneck"); }
END_TEST
START_TEST(parity_micro_small) { check_parity("micro_small"); }
END_TEST

/* ---- fastai head ---------------------------------------------------------------------------- */
START_TEST(fastai_head_names_shapes_groups)
{
    dl_model *m = make("resnet34", 3, 37, DL_HEAD_FASTAI, 0);
    dl_params *ps = dl_model_params(m);
    ck_assert(dl_params_find(ps, "fc.weight") < 0);
    ck_assert(entry(m, "head.2.weight")->shape[0] == 1024);
    ck_assert(entry(m, "head.2.num_batches_tracked")->kind == DL_ENTRY_BUF_I64);
    ck_assert(entry(m, "head.4.weight")->shape[0] == 512 &&
              entry(m, "head.4.weight")->shape[1] == 1024);
    ck_assert(dl_params_find(ps, "head.4.bias") < 0);
    ck_assert(entry(m, "head.6.running_var")->shape[0] == 512);
    ck_assert(entry(m, "head.8.weight")->shape[0] == 37 &&
              entry(m, "head.8.weight")->shape[1] == 512);
    ck_assert(dl_params_find(ps, "head.8.bias") < 0);
    ck_assert_int_eq(entry(m, "head.8.weight")->group, 2);
    ck_assert_int_eq(entry(m, "head.2.bias")->group, 2);
    /* the body keeps torchvision's names, the head follows them in state_dict order */
    ck_assert_str_eq(ps->e[0].name, "conv1.weight");
    ck_assert_str_eq(ps->e[ps->n - 1].name, "head.8.weight");
    dl_model_free(m);
    m = make("resnet50", 3, 2, DL_HEAD_FASTAI, 0);
    ck_assert(entry(m, "head.4.weight")->shape[1] == 4096);
    dl_model_free(m);
}
END_TEST

static void moments(const float *d, size_t n, double *mean, double *std)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += d[i];
        s2 += (double)d[i] * d[i];
    }
    *mean = s / (double)n;
    *std = sqrt(s2 / (double)n - *mean * *mean);
}

START_TEST(init_statistics)
{
    dl_model *m = make("resnet18", 3, 10, DL_HEAD_FASTAI, 7);
    double mean, std;
    /* head linears: kaiming normal, fan_in: std sqrt(2/in) */
    moments(data_of(m, "head.4.weight"), 512 * 1024, &mean, &std);
    ck_assert_double_lt(fabs(mean), 0.002);
    ck_assert_double_lt(fabs(std / sqrt(2.0 / 1024) - 1), 0.02);
    moments(data_of(m, "head.8.weight"), 10 * 512, &mean, &std);
    ck_assert_double_lt(fabs(std / sqrt(2.0 / 512) - 1), 0.05);
    /* head BN: weight 1, bias 1e-3; body BN: weight 1, bias 0; running stats 0 / 1 */
    for (int i = 0; i < 1024; i++) {
        ck_assert(data_of(m, "head.2.weight")[i] == 1.0f);
        ck_assert(data_of(m, "head.2.bias")[i] == 1e-3f);
    }
    ck_assert(data_of(m, "head.6.bias")[511] == 1e-3f);
    ck_assert(data_of(m, "layer1.0.bn1.bias")[0] == 0.0f &&
              data_of(m, "layer1.0.bn1.weight")[63] == 1.0f);
    dl_params *ps = dl_model_params(m);
    long rv = dl_params_find(ps, "layer4.1.bn2.running_var");
    ck_assert(dl_params_buf(ps, (size_t)rv)[0] == 1.0f);
    /* body convs: kaiming normal, fan_out: std sqrt(2/(OC*k*k)) */
    moments(data_of(m, "layer3.0.conv2.weight"), 256 * 256 * 9, &mean, &std);
    ck_assert_double_lt(fabs(std / sqrt(2.0 / (256 * 9)) - 1), 0.02);
    moments(data_of(m, "conv1.weight"), 64 * 3 * 49, &mean, &std);
    ck_assert_double_lt(fabs(std / sqrt(2.0 / (64 * 49)) - 1), 0.05);
    dl_model_free(m);

    /* torchvision fc: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias */
    m = make("resnet18", 3, 100, DL_HEAD_TORCHVISION, 7);
    float bound = 1.0f / sqrtf(512.0f), mx = 0;
    const float *fw = data_of(m, "fc.weight");
    for (int i = 0; i < 100 * 512; i++) {
        ck_assert(fabsf(fw[i]) <= bound);
        mx = fmaxf(mx, fabsf(fw[i]));
    }
    ck_assert(mx > 0.95f * bound);
    moments(fw, 100 * 512, &mean, &std);
    ck_assert_double_lt(fabs(std / (bound / sqrt(3.0)) - 1), 0.03);
    const float *fb = data_of(m, "fc.bias");
    mx = 0;
    for (int i = 0; i < 100; i++) {
        ck_assert(fabsf(fb[i]) <= bound);
        mx = fmaxf(mx, fabsf(fb[i]));
    }
    ck_assert(mx > 0.5f * bound);
    /* same seed, same weights; another seed, others */
    dl_model *m2 = make("resnet18", 3, 100, DL_HEAD_TORCHVISION, 7),
             *m3 = make("resnet18", 3, 100, DL_HEAD_TORCHVISION, 8);
    ck_assert(memcmp(dl_model_params(m)->data, dl_model_params(m2)->data,
                     dl_model_params(m)->total * 4) == 0);
    ck_assert(memcmp(dl_model_params(m)->data, dl_model_params(m3)->data, 64 * 4) != 0);
    dl_model_free(m);
    dl_model_free(m2);
    dl_model_free(m3);
}
END_TEST

/* L = sum(logits * R) in double, with the dropout stream rewound so every call sees the same masks
 */
static double fd_loss(dl_model *m, const float *x, int n, int h, int w, const float *R, int k,
                      dl_rng saved)
{
    *dl_model_dropout_rng(m) = saved;
    const float *y;
    ck_assert_int_eq(dl_model_forward(m, x, n, h, w, true, &y, NULL), DL_OK);
    double s = 0;
    for (int i = 0; i < n * k; i++)
        s += (double)y[i] * R[i];
    return s;
}

/* Central difference of parameter element j with step hh. */
static double fd_num(dl_model *m, float *p, size_t j, float hh, const float *x, int n, int h, int w,
                     const float *R, int k, dl_rng saved)
{
    float old = p[j];
    p[j] = old + hh;
    double lp = fd_loss(m, x, n, h, w, R, k, saved);
    p[j] = old - hh;
    double lm = fd_loss(m, x, n, h, w, R, k, saved);
    p[j] = old;
    return (lp - lm) / (2.0 * (double)hh);
}

/* Whole model, train mode (BN batch statistics, dropout with rewound masks), fastai head. A ReLU
 * or max-pool kink near an element makes its numeric derivative change with the step; such
 * elements (three steps disagreeing) are skipped, as ggml's grad_expect does, and at most a quarter
 * of the sample may be skipped. */
START_TEST(finite_differences_whole_model)
{
    const int n = 8, h = 8, w = 8, k = 5;
    dl_model *m = make("resnet-custom:basic:1,1:4,8:small", 2, k, DL_HEAD_FASTAI, 3);
    float *x = randn((size_t)n * 2 * h * w, 11, 1.0f), *R = randn((size_t)n * k, 12, 1.0f);
    dl_rng saved = *dl_model_dropout_rng(m);
    dl_params *ps = dl_model_params(m);
    fd_loss(m, x, n, h, w, R, k, saved);
    dl_params_zero_grad(ps);
    ck_assert_int_eq(dl_model_backward(m, R, NULL), DL_OK);
    const char *names[] = {"conv1.weight",          "bn1.weight",
                           "layer1.0.conv2.weight", "layer2.0.downsample.0.weight",
                           "layer2.0.bn2.bias",     "head.2.weight",
                           "head.4.weight",         "head.6.bias",
                           "head.8.weight"};
    int checked = 0, skipped = 0, nonzero = 0;
    for (size_t t = 0; t < sizeof names / sizeof names[0]; t++) {
        long ei = dl_params_find(ps, names[t]);
        ck_assert(ei >= 0);
        const dl_entry *e = &ps->e[ei];
        float *p = dl_params_data(ps, (size_t)ei), *g = dl_params_grad(ps, (size_t)ei);
        for (int s = 0; s < 4; s++) {
            size_t j = ((size_t)s * 7919u + t * 31u) % e->numel;
            double n1 = fd_num(m, p, j, 2e-4f, x, n, h, w, R, k, saved);
            double n2 = fd_num(m, p, j, 1e-4f, x, n, h, w, R, k, saved), an = g[j];
            double n4 = fd_num(m, p, j, 4e-4f, x, n, h, w, R, k, saved);
            /* three steps: two can agree by chance where kinks are dense (seen with Winograd's
             * rounding: 2e-4 and 1e-4 agreed within 2 %, 5e-4 read -0.0008) */
            if (fabs(n1 - n2) > 2e-3 + 2e-2 * fmax(fabs(n1), fabs(n2)) ||
                fabs(n4 - n2) > 2e-3 + 2e-2 * fmax(fabs(n4), fabs(n2))) {
                skipped++;
                continue;
            }
            ck_assert_msg(fabs(an - n2) <= 2e-3 + 2e-2 * fmax(fabs(an), fabs(n2)),
                          "%s[%zu]: analytic %g, numeric %g (%g)", names[t], j, an, n2, n1);
            checked++;
            nonzero += fabs(an) > 1e-2;
        }
    }
    ck_assert_msg(skipped * 4 <= checked + skipped, "%d of %d elements sit on kinks", skipped,
                  checked + skipped);
    ck_assert_int_gt(nonzero, checked / 2);
    free(x);
    free(R);
    dl_model_free(m);
}
END_TEST

START_TEST(dropout_masks_follow_the_stream)
{
    dl_model *m = make("resnet-custom:basic:1:4:small", 1, 3, DL_HEAD_FASTAI, 3);
    float *x = randn(4 * 6 * 6, 2, 1.0f);
    float a[12], b[12];
    const float *y;
    dl_rng saved = *dl_model_dropout_rng(m);
    dl_model_forward(m, x, 4, 6, 6, true, &y, NULL);
    memcpy(a, y, sizeof a);
    dl_model_forward(m, x, 4, 6, 6, true, &y, NULL);
    memcpy(b, y, sizeof b);
    ck_assert(memcmp(a, b, sizeof a) != 0); /* fresh masks each train forward */
    *dl_model_dropout_rng(m) = saved;
    dl_model_forward(m, x, 4, 6, 6, true, &y, NULL);
    ck_assert(memcmp(a, y, sizeof a) == 0); /* rewound: identical */
    /* eval is deterministic */
    dl_model_forward(m, x, 4, 6, 6, false, &y, NULL);
    memcpy(a, y, sizeof a);
    dl_model_forward(m, x, 4, 6, 6, false, &y, NULL);
    ck_assert(memcmp(a, y, sizeof a) == 0);
    free(x);
    dl_model_free(m);
}
END_TEST

/* Same seed, same input: bit-identical logits, gradients and buffers (dropout included), run
 * after run; that is what makes a training run repeatable. */
START_TEST(same_seed_is_bit_exact)
{
    const char *arch = "resnet-custom:bottleneck:1,1:4,8:small";
    dl_model *a = make(arch, 3, 4, DL_HEAD_FASTAI, 21), *b = make(arch, 3, 4, DL_HEAD_FASTAI, 21);
    float *x = randn(3 * 3 * 9 * 9, 8, 1.0f), *R = randn(12, 9, 1.0f);
    for (int step = 0; step < 2; step++) {
        const float *ya, *yb;
        float la[12];
        dl_params_zero_grad(dl_model_params(a));
        dl_params_zero_grad(dl_model_params(b));
        ck_assert_int_eq(dl_model_forward(a, x, 3, 9, 9, true, &ya, NULL), DL_OK);
        memcpy(la, ya, sizeof la);
        ck_assert_int_eq(dl_model_forward(b, x, 3, 9, 9, true, &yb, NULL), DL_OK);
        ck_assert(memcmp(la, yb, sizeof la) == 0);
        dl_model_backward(a, R, NULL);
        dl_model_backward(b, R, NULL);
        dl_params *pa = dl_model_params(a), *pb = dl_model_params(b);
        ck_assert(memcmp(pa->grad, pb->grad, pa->total * sizeof(float)) == 0);
        ck_assert(memcmp(pa->buf, pb->buf, pa->buf_total * sizeof(float)) == 0);
    }
    free(x);
    free(R);
    dl_model_free(a);
    dl_model_free(b);
}
END_TEST

START_TEST(frozen_groups_get_no_conv_grads)
{
    dl_model *m = make("resnet-custom:basic:1,1,1:4,8,8:small", 3, 4, DL_HEAD_FASTAI, 5);
    dl_params *ps = dl_model_params(m);
    dl_params_freeze_to(ps, -1); /* fastai's freeze(): body frozen, head trains */
    float *x = randn(3 * 3 * 8 * 8, 9, 1.0f), *R = randn(12, 10, 1.0f);
    const float *y;
    dl_params_zero_grad(ps);
    ck_assert_int_eq(dl_model_forward(m, x, 3, 8, 8, true, &y, NULL), DL_OK);
    ck_assert_int_eq(dl_model_backward(m, R, NULL), DL_OK);
    int convs = 0, norms = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const dl_entry *e = &ps->e[i];
        if (e->kind != DL_ENTRY_PARAM)
            continue;
        double s = 0;
        for (size_t j = 0; j < e->numel; j++)
            s += fabs(dl_params_grad(ps, i)[j]);
        if (e->group < 2 && !(e->flags & DL_PARAM_NORM)) {
            ck_assert_msg(s == 0.0, "frozen %s has a gradient", e->name);
            convs++;
        } else {
            ck_assert_msg(s > 0.0, "trainable %s has no gradient", e->name);
            norms += (e->flags & DL_PARAM_NORM) && e->group < 2;
        }
    }
    ck_assert_int_gt(convs, 5);
    ck_assert_int_gt(norms, 5);
    /* unfreeze: the same convs now get gradients */
    dl_params_freeze_to(ps, 0);
    dl_params_zero_grad(ps);
    dl_model_forward(m, x, 3, 8, 8, true, &y, NULL);
    dl_model_backward(m, R, NULL);
    ck_assert(fabsf(grad_of(m, "conv1.weight")[0]) + fabsf(grad_of(m, "conv1.weight")[1]) > 0);
    free(x);
    free(R);
    dl_model_free(m);
}
END_TEST

/* ---- state dicts ----------------------------------------------------------------------------- */
static void trained_a_little(dl_model *m, const float *x, int n, int h, int w)
{
    const float *y;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(dl_model_forward(m, x, n, h, w, true, &y, NULL), DL_OK);
}

START_TEST(save_load_bit_identical)
{
    const char *arch = "resnet-custom:bottleneck:1,1:4,8:small";
    dl_model *a = make(arch, 3, 6, DL_HEAD_FASTAI, 1), *b = make(arch, 3, 6, DL_HEAD_FASTAI, 2);
    float *x = randn(2 * 3 * 8 * 8, 4, 1.0f);
    trained_a_little(a, x, 2, 8, 8); /* moves running stats and num_batches_tracked */
    const float *ya, *yb;
    float ra[12];
    dl_model_forward(a, x, 2, 8, 8, false, &ya, NULL);
    memcpy(ra, ya, sizeof ra);
    dl_model_forward(b, x, 2, 8, 8, false, &yb, NULL);
    ck_assert(memcmp(ra, yb, sizeof ra) != 0);

    dl_tensor_map sd;
    dl_tensor_map_init(&sd);
    dl_err err;
    ck_assert_int_eq(dl_model_state_dict(a, &sd, &err), DL_OK);
    ck_assert_str_eq(dl_tensor_map_get_meta(&sd, "head"), "fastai");
    ck_assert_int_eq(((const int64_t *)dl_tensor_map_get(&sd, "bn1.num_batches_tracked")->data)[0],
                     2);
    ck_assert_msg(dl_model_load_state_dict(b, &sd, &err) == DL_OK, "%s", err.msg);
    dl_model_forward(b, x, 2, 8, 8, false, &yb, NULL);
    ck_assert(memcmp(ra, yb, sizeof ra) == 0);

    /* through a safetensors file */
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    ck_assert_msg(dl_safetensors_write(path, &sd, &err) == DL_OK, "%s", err.msg);
    dl_model *c = make(arch, 3, 6, DL_HEAD_FASTAI, 3);
    dl_tensor_map rd;
    dl_tensor_map_init(&rd);
    ck_assert_msg(dl_safetensors_read(path, &rd, &err) == DL_OK, "%s", err.msg);
    ck_assert_str_eq(dl_tensor_map_get_meta(&rd, "arch"), arch);
    ck_assert_msg(dl_model_load_state_dict(c, &rd, &err) == DL_OK, "%s", err.msg);
    const float *yc;
    dl_model_forward(c, x, 2, 8, 8, false, &yc, NULL);
    ck_assert(memcmp(ra, yc, sizeof ra) == 0);
    dl_params *pa = dl_model_params(a), *pc = dl_model_params(c);
    ck_assert(memcmp(pa->data, pc->data, pa->total * sizeof(float)) == 0);
    ck_assert(memcmp(pa->buf, pc->buf, pa->buf_total * sizeof(float)) == 0);
    ck_assert(memcmp(pa->ibuf, pc->ibuf, pa->ibuf_total * sizeof(int64_t)) == 0);
    tu_rmtree(dir);
    free(dir);
    dl_tensor_map_free(&rd);
    dl_tensor_map_free(&sd);
    free(x);
    dl_model_free(a);
    dl_model_free(b);
    dl_model_free(c);
}
END_TEST

START_TEST(load_rejects_what_does_not_fit)
{
    dl_model *a = make("resnet-custom:basic:1,1:4,8:small", 3, 6, DL_HEAD_TORCHVISION, 1);
    dl_model *b = make("resnet-custom:basic:1,1:4,16:small", 3, 6, DL_HEAD_TORCHVISION, 1);
    dl_tensor_map sd;
    dl_tensor_map_init(&sd);
    dl_model_state_dict(a, &sd, NULL);
    dl_err err;
    float before = data_of(b, "conv1.weight")[0];
    ck_assert_int_eq(dl_model_load_state_dict(b, &sd, &err), DL_ESHAPE);
    ck_assert_msg(strstr(err.msg, "layer2.0.conv1.weight") != NULL, "%s", err.msg);
    ck_assert(data_of(b, "conv1.weight")[0] == before); /* untouched on failure */
    dl_model *c = make("resnet-custom:basic:1,1:4,8:small", 3, 6, DL_HEAD_FASTAI, 1);
    ck_assert_int_eq(dl_model_load_state_dict(c, &sd, &err), DL_EFORMAT);
    ck_assert_msg(strstr(err.msg, "head.") != NULL && strstr(err.msg, "fc.weight") != NULL, "%s",
                  err.msg);
    dl_tensor_map_free(&sd);
    dl_model_free(a);
    dl_model_free(b);
    dl_model_free(c);
}
END_TEST

START_TEST(load_body_keeps_the_fresh_head)
{
    const char *arch = "resnet-custom:basic:1,1:4,8:small";
    dl_model *src = make(arch, 3, 10, DL_HEAD_TORCHVISION, 1); /* like a torchvision checkpoint */
    dl_model *src2 = make(arch, 3, 9, DL_HEAD_FASTAI, 4);      /* like a dllab checkpoint */
    dl_model *dst = make(arch, 3, 3, DL_HEAD_FASTAI, 2),
             *fresh = make(arch, 3, 3, DL_HEAD_FASTAI, 2);
    float *x = randn(2 * 3 * 8 * 8, 4, 1.0f);
    trained_a_little(src, x, 2, 8, 8);
    dl_tensor_map sd, sd2;
    dl_tensor_map_init(&sd);
    dl_tensor_map_init(&sd2);
    dl_model_state_dict(src, &sd, NULL);
    dl_model_state_dict(src2, &sd2, NULL);
    dl_err err;
    ck_assert_msg(dl_model_load_body(dst, &sd, &err) == DL_OK, "%s", err.msg);
    dl_params *pd = dl_model_params(dst), *pf = dl_model_params(fresh);
    for (size_t i = 0; i < pd->n; i++) {
        const dl_entry *e = &pd->e[i];
        bool head = strncmp(e->name, "head.", 5) == 0;
        size_t bytes = e->numel * (e->kind == DL_ENTRY_BUF_I64 ? 8 : 4);
        const void *got = e->kind == DL_ENTRY_PARAM     ? (void *)dl_params_data(pd, i)
                          : e->kind == DL_ENTRY_BUF_F32 ? (void *)dl_params_buf(pd, i)
                                                        : (void *)dl_params_ibuf(pd, i);
        const void *fr = e->kind == DL_ENTRY_PARAM     ? (void *)dl_params_data(pf, i)
                         : e->kind == DL_ENTRY_BUF_F32 ? (void *)dl_params_buf(pf, i)
                                                       : (void *)dl_params_ibuf(pf, i);
        const dl_named_tensor *t = dl_tensor_map_get(&sd, e->name);
        if (head) {
            ck_assert_msg(memcmp(got, fr, bytes) == 0, "head entry %s changed", e->name);
        } else {
            ck_assert_ptr_nonnull(t);
            ck_assert_msg(memcmp(got, t->data, bytes) == 0, "body entry %s not loaded", e->name);
        }
    }
    ck_assert_int_eq(dl_params_ibuf(pd, (size_t)dl_params_find(pd, "bn1.num_batches_tracked"))[0],
                     2);
    /* a dllab checkpoint with a fastai head of another size loads its body too */
    ck_assert_msg(dl_model_load_body(dst, &sd2, &err) == DL_OK, "%s", err.msg);
    ck_assert(memcmp(data_of(dst, "conv1.weight"), dl_tensor_map_get(&sd2, "conv1.weight")->data,
                     4 * 27 * 4) == 0);
    ck_assert(memcmp(data_of(dst, "head.8.weight"), data_of(fresh, "head.8.weight"), 3 * 512 * 4) ==
              0);
    /* and into a torchvision-head model */
    dl_model *tv = make(arch, 3, 10, DL_HEAD_TORCHVISION, 7);
    float fc0 = data_of(tv, "fc.weight")[0];
    ck_assert_msg(dl_model_load_body(tv, &sd2, &err) == DL_OK, "%s", err.msg);
    ck_assert(data_of(tv, "fc.weight")[0] == fc0);
    /* a body that does not fit is still an error */
    dl_model *other = make("resnet-custom:basic:1,1,1:4,8,8:small", 3, 3, DL_HEAD_FASTAI, 2);
    ck_assert_int_eq(dl_model_load_body(other, &sd, &err), DL_EFORMAT);
    ck_assert_msg(strstr(err.msg, "layer3.0.conv1.weight") != NULL, "%s", err.msg);
    dl_tensor_map_free(&sd);
    dl_tensor_map_free(&sd2);
    free(x);
    dl_model_free(src);
    dl_model_free(src2);
    dl_model_free(dst);
    dl_model_free(fresh);
    dl_model_free(tv);
    dl_model_free(other);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------------- */
START_TEST(bad_configurations_are_named)
{
    dl_model *m = NULL;
    dl_err err;
    dl_model_cfg cfg = {.arch = "resnet19", .in_channels = 3, .n_out = 10};
    ck_assert_int_eq(dl_model_create(&m, &cfg, &err), DL_ENOTFOUND);
    ck_assert(strstr(err.msg, "resnet19") && strstr(err.msg, "resnet-xs"));
    const char *bad[] = {"resnet-custom:basic:1,1:4:small",
                         "resnet-custom:wide:1:4:small",
                         "resnet-custom:basic:1,,1:4,4:small",
                         "resnet-custom:basic:1:4:huge",
                         "resnet-custom:basic:1,1,1,1,1:4,4,4,4,4:small",
                         "resnet-custom:basic:0:4:small",
                         "resnet-custom:basic:1:4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.arch = bad[i];
        ck_assert_msg(dl_model_create(&m, &cfg, &err) == DL_EINVAL, "accepted '%s'", bad[i]);
        ck_assert_msg(strstr(err.msg, bad[i]) != NULL, "'%s': %s", bad[i], err.msg);
        ck_assert_ptr_null(m);
    }
    cfg.arch = "resnet18";
    cfg.n_out = 0;
    ck_assert_int_eq(dl_model_create(&m, &cfg, &err), DL_EINVAL);

    m = make("resnet18", 3, 10, DL_HEAD_TORCHVISION, 0);
    float x[3 * 8 * 8] = {0};
    const float *y;
    ck_assert_int_eq(dl_model_backward(m, x, &err), DL_EINVAL); /* no forward yet */
    ck_assert(strstr(err.msg, "train-mode forward") != NULL);
    /* 8x8 is fine for resnet18 (layer4 at 1x1) */
    ck_assert_int_eq(dl_model_forward(m, x, 1, 8, 8, false, &y, &err), DL_OK);
    ck_assert_int_eq(dl_model_backward(m, x, &err), DL_EINVAL); /* after eval */
    ck_assert_int_eq(dl_model_forward(m, x, 0, 8, 8, false, &y, &err), DL_EINVAL);
    ck_assert(strstr(err.msg, "resnet18") != NULL);
    dl_model_free(m);
    m = make("resnet-xs", 1, 10, DL_HEAD_FASTAI, 0);
    ck_assert_int_eq(dl_model_forward(m, x, 1, 8, 8, true, &y, &err),
                     DL_EINVAL); /* BatchNorm1d needs 2 */
    ck_assert_msg(strstr(err.msg, "head.2") != NULL, "%s", err.msg);
    dl_model_free(m);
    /* torchvision head: resnet18 at 32x32 has layer4 at 1x1, so batch 1 cannot train, batch 2 can
     */
    m = make("resnet18", 3, 10, DL_HEAD_TORCHVISION, 0);
    float *x32 = randn(2 * 3 * 32 * 32, 1, 1.0f);
    ck_assert_int_eq(dl_model_forward(m, x32, 1, 32, 32, true, &y, &err), DL_EINVAL);
    ck_assert_msg(strstr(err.msg, "layer4") != NULL, "%s", err.msg);
    ck_assert_int_eq(dl_model_forward(m, x32, 1, 32, 32, false, &y, &err), DL_OK);
    ck_assert_int_eq(dl_model_forward(m, x32, 2, 32, 32, true, &y, &err), DL_OK);
    ck_assert_int_eq(dl_model_forward(m, x32, 1, 64, 32, true, &y, &err), DL_OK); /* layer4 2x1 */
    free(x32);
    dl_model_free(m);
}
END_TEST

START_TEST(replans_on_new_sizes)
{
    dl_model *m = make("resnet-custom:basic:1,1:4,8:small", 1, 3, DL_HEAD_TORCHVISION, 0);
    float *x = randn(4 * 12 * 12, 3, 1.0f);
    const float *y;
    float a[3];
    /* the first image alone gives the same logits in a batch of 1, 4, and after a size change */
    ck_assert_int_eq(dl_model_forward(m, x, 1, 12, 12, false, &y, NULL), DL_OK);
    memcpy(a, y, sizeof a);
    size_t b1 = dl_model_activation_bytes(m);
    ck_assert_int_eq(dl_model_forward(m, x, 4, 12, 12, false, &y, NULL), DL_OK);
    ck_assert_uint_gt(dl_model_activation_bytes(m), b1);
    tu_assert_close("batch4[0]", y, a, 3, 1e-6, 1e-5, 0);
    ck_assert_int_eq(dl_model_forward(m, x, 4, 8, 18, false, &y, NULL), DL_OK);
    size_t b3 = dl_model_activation_bytes(m);
    ck_assert_int_eq(dl_model_forward(m, x, 1, 12, 12, false, &y, NULL), DL_OK);
    tu_assert_close("again", y, a, 3, 0, 0, 0);
    ck_assert_int_eq(dl_model_forward(m, x, 2, 12, 12, false, &y, NULL),
                     DL_OK); /* reuses the plan */
    (void)b3;
    free(x);
    dl_model_free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("models");
    TCase *t = tcase_create("zoo");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, manifest_resnet18);
    tcase_add_test(t, manifest_resnet34);
    tcase_add_test(t, manifest_resnet50);
    tcase_add_test(t, layer_groups_follow_fastai);
    tcase_add_test(t, conv_walk_lists_the_plan);
    tcase_add_test(t, small_resnets_shapes);
    tcase_add_test(t, fastai_head_names_shapes_groups);
    tcase_add_test(t, init_statistics);
    suite_add_tcase(s, t);
    t = tcase_create("parity");
    tcase_add_test(t, parity_micro_basic);
    tcase_add_test(t, parity_micro_bottleneck);
    tcase_add_test(t, parity_micro_small);
    tcase_add_test(t, parity_micro_fastai_head_eval);
    suite_add_tcase(s, t);
    t = tcase_create("train");
    tcase_add_test(t, finite_differences_whole_model);
    tcase_add_test(t, dropout_masks_follow_the_stream);
    tcase_add_test(t, frozen_groups_get_no_conv_grads);
    tcase_add_test(t, same_seed_is_bit_exact);
    tcase_add_test(t, replans_on_new_sizes);
    suite_add_tcase(s, t);
    t = tcase_create("weights");
    tcase_add_test(t, save_load_bit_identical);
    tcase_add_test(t, load_rejects_what_does_not_fit);
    tcase_add_test(t, load_body_keeps_the_fresh_head);
    tcase_add_test(t, bad_configurations_are_named);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return tu_run(suite()); }
