/* check_weights_arch: what `dllab weights` relies on: foreign key names are renamed to
 * torchvision's (DataParallel prefix, fastai export, timm head.fc), the ResNet is recognised from
 * its keys (zoo names and resnet-custom specs), and a checked import loads every tensor bit for bit
 * into a model built with core/models. */
#include <string.h>

#include "core/io/names.h"
#include "core/io/pth.h"
#include "core/io/safetensors.h"
#include "core/models/model.h"
#include "src/weights-arch.h"
#include "tests/testutil.h"

#define TINY "resnet-custom:basic:1,1,1,1:4,8,16,16:imagenet"

static void read_renamed(const char *rel, dl_tensor_map *m, dl_weights_style *style)
{
    dl_err err = {0};
    dl_tensor_map_init(m);
    ck_assert_msg(dl_pth_read(tu_fixture(rel), m, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_weights_rename(m, style, &err) == DL_OK, "%s", err.msg);
}

START_TEST(import_loads_every_tensor_bit_for_bit)
{
    dl_tensor_map m, want, got;
    dl_weights_style style;
    read_renamed("pth/tiny_resnet.pth", &m, &style);
    ck_assert_str_eq(style.text, "torchvision");
    wa_guess g;
    char why[200];
    ck_assert_msg(wa_infer(&m, &g, why, sizeof why), "%s", why);
    ck_assert_str_eq(g.arch, TINY);
    ck_assert(g.has_head && g.n_out == 10 && g.in_channels == 3 && g.head == DL_HEAD_TORCHVISION);
    wa_report r;
    dl_model *net;
    dl_err err = {0};
    ck_assert_msg(wa_compare(&m, g.arch, &g, &r, &net, &err) == DL_OK, "%s", err.msg);
    ck_assert(wa_report_ok(&r));
    ck_assert_uint_eq(r.n_matched, 74);
    ck_assert_msg(dl_model_load_state_dict(net, &m, &err) == DL_OK, "%s", err.msg);
    dl_tensor_map_init(&got);
    dl_tensor_map_init(&want);
    ck_assert_int_eq(dl_model_state_dict(net, &got, &err), DL_OK);
    ck_assert_int_eq(
        dl_safetensors_read(tu_fixture("pth/tiny_resnet_expect.safetensors"), &want, &err), DL_OK);
    ck_assert_uint_eq(got.n, want.n);
    for (size_t i = 0; i < want.n; i++) {
        const dl_named_tensor *w = &want.items[i], *t = dl_tensor_map_get(&got, w->name);
        ck_assert_msg(t != NULL, "model lacks %s", w->name);
        ck_assert(t->dtype == w->dtype);
        size_t bytes = (size_t)dl_shape_numel(w->ndim, w->shape) * dl_dtype_size(w->dtype);
        ck_assert_msg(memcmp(t->data, w->data, bytes) == 0, "%s differs after import", w->name);
    }
    dl_model_free(net);
    dl_tensor_map_free(&m);
    dl_tensor_map_free(&got);
    dl_tensor_map_free(&want);
}
END_TEST

START_TEST(imported_model_gives_pytorch_logits)
{
    /* The whole path: .pth -> restricted unpickler -> checked import -> eval forward, against the
     * logits PyTorch computed for the same batch (tolerance 1e-4 relative to the largest logit). */
    dl_tensor_map m, ref;
    read_renamed("pth/tiny_resnet.pth", &m, NULL);
    dl_tensor_map_init(&ref);
    dl_err err = {0};
    ck_assert_int_eq(
        dl_safetensors_read(tu_fixture("pth/tiny_resnet_logits.safetensors"), &ref, &err), DL_OK);
    const dl_named_tensor *x = dl_tensor_map_get(&ref, "x"),
                          *want = dl_tensor_map_get(&ref, "logits");
    ck_assert(x && want && x->shape[0] == 2 && want->shape[1] == 10);
    wa_guess g;
    char why[200];
    ck_assert(wa_infer(&m, &g, why, sizeof why));
    wa_report r;
    dl_model *net;
    ck_assert_msg(wa_compare(&m, g.arch, &g, &r, &net, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(dl_model_load_state_dict(net, &m, &err) == DL_OK, "%s", err.msg);
    const float *logits;
    ck_assert_msg(dl_model_forward(net, x->data, 2, 32, 32, false, &logits, &err) == DL_OK, "%s",
                  err.msg);
    tu_assert_close("logits", logits, want->data, 20, 0.0, 1e-4, 1);
    dl_model_free(net);
    dl_tensor_map_free(&m);
    dl_tensor_map_free(&ref);
}
END_TEST

START_TEST(body_only_module_prefix_without_counters)
{
    dl_tensor_map m;
    dl_weights_style style;
    read_renamed("pth/tiny_body_module.pth", &m, &style);
    ck_assert_str_eq(style.text, "torchvision, prefix 'module.' removed");
    ck_assert(dl_tensor_map_get(&m, "layer3.0.downsample.0.weight"));
    wa_guess g;
    char why[200];
    ck_assert(wa_infer(&m, &g, why, sizeof why));
    ck_assert(!g.has_head);
    wa_report r;
    dl_err err = {0};
    ck_assert_int_eq(wa_compare(&m, TINY, &g, &r, NULL, &err), DL_OK);
    ck_assert(wa_report_ok(&r));
    ck_assert(r.head_missing);
    ck_assert_uint_eq(r.n_nbt_missing, 12); /* 8 block BNs, stem BN and 3 downsample BNs */
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(fastai_export_is_renamed_and_keeps_its_head)
{
    dl_tensor_map m;
    dl_weights_style style;
    read_renamed("pth/tiny_fastai_export.pth", &m, &style);
    ck_assert_str_eq(style.text, "fastai export");
    ck_assert(dl_tensor_map_get(&m, "conv1.weight") && dl_tensor_map_get(&m, "layer4.0.bn2.bias"));
    ck_assert(dl_tensor_map_get(&m, "head.8.weight") && !dl_tensor_map_get(&m, "1.8.weight"));
    wa_guess g;
    char why[200];
    ck_assert(wa_infer(&m, &g, why, sizeof why));
    ck_assert(g.head == DL_HEAD_FASTAI && g.n_out == 3);
    wa_report r;
    dl_err err = {0};
    dl_model *net;
    ck_assert_msg(wa_compare(&m, g.arch, &g, &r, &net, &err) == DL_OK, "%s", err.msg);
    ck_assert_msg(wa_report_ok(&r), "missing %zu unexpected %zu shape %zu (%s %s)", r.n_missing,
                  r.n_unexpected, r.n_shape, r.n_missing ? r.missing[0] : "",
                  r.n_unexpected ? r.unexpected[0] : "");
    ck_assert_msg(dl_model_load_state_dict(net, &m, &err) == DL_OK, "%s", err.msg);
    dl_model_free(net);
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(wrong_arch_is_reported_key_by_key)
{
    dl_tensor_map m;
    read_renamed("pth/tiny_resnet.pth", &m, NULL);
    wa_guess g;
    wa_io_shape(&m, &g);
    wa_report r;
    dl_err err = {0};
    ck_assert_int_eq(wa_compare(&m, "resnet18", &g, &r, NULL, &err), DL_OK);
    ck_assert(!wa_report_ok(&r));
    ck_assert_uint_gt(r.n_shape, 0);
    ck_assert_uint_gt(r.n_missing, 0); /* resnet18 has two blocks per stage */
    ck_assert(strstr(r.shape[0], "conv1.weight: file (4, 3, 7, 7), model (64, 3, 7, 7)"));
    ck_assert_int_ne(wa_compare(&m, "resnet-nonsense", &g, &r, NULL, &err), DL_OK);
    dl_tensor_map_free(&m);
}
END_TEST

START_TEST(timm_head_fc_and_clashes)
{
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    dl_err err = {0};
    int64_t s[2] = {2, 2};
    ck_assert_int_eq(dl_tensor_map_add(&m, "model.conv1.weight", DL_DTYPE_F32, 2, s, NULL, &err),
                     DL_OK);
    ck_assert_int_eq(dl_tensor_map_add(&m, "model.head.fc.weight", DL_DTYPE_F32, 2, s, NULL, &err),
                     DL_OK);
    dl_weights_style style;
    ck_assert_int_eq(dl_weights_rename(&m, &style, &err), DL_OK);
    ck_assert_str_eq(style.text, "timm (head.fc -> fc), prefix 'model.' removed");
    ck_assert_str_eq(m.items[1].name, "fc.weight");
    ck_assert_int_eq(dl_tensor_map_add(&m, "head.fc.weight", DL_DTYPE_F32, 2, s, NULL, &err),
                     DL_OK);
    ck_assert_int_eq(dl_weights_rename(&m, &style, &err), DL_EFORMAT);
    ck_assert(strstr(err.msg, "'fc.weight'"));
    dl_tensor_map_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("weights_arch");
    TCase *tc = tcase_create("weights_arch");
    tcase_add_test(tc, import_loads_every_tensor_bit_for_bit);
    tcase_add_test(tc, imported_model_gives_pytorch_logits);
    tcase_add_test(tc, body_only_module_prefix_without_counters);
    tcase_add_test(tc, fastai_export_is_renamed_and_keeps_its_head);
    tcase_add_test(tc, wrong_arch_is_reported_key_by_key);
    tcase_add_test(tc, timm_head_fc_and_clashes);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
