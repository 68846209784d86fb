/* weights-arch: ResNet detection and key/shape checking for `dllab weights`; see weights-arch.h. */
#include "src/weights-arch.h"

#include <stdio.h>
#include <string.h>

#include "core/models/resnet.h"

static const dl_named_tensor *get(const dl_tensor_map *m, const char *fmt, int a, int b)
{
    char k[96];
    snprintf(k, sizeof k, fmt, a, b);
    return dl_tensor_map_get(m, k);
}

bool wa_is_head_key(const char *name)
{
    return strncmp(name, "fc.", 3) == 0 || strncmp(name, "head.", 5) == 0;
}

void wa_io_shape(const dl_tensor_map *m, wa_guess *g)
{
    const dl_named_tensor *c1 = dl_tensor_map_get(m, "conv1.weight"),
                          *fc = dl_tensor_map_get(m, "fc.weight"),
                          *fh = dl_tensor_map_get(m, "head.8.weight");
    g->in_channels = c1 && c1->ndim == 4 ? (int)c1->shape[1] : 3;
    g->has_head = (fc && fc->ndim == 2) || (fh && fh->ndim == 2);
    g->head = fh ? DL_HEAD_FASTAI : DL_HEAD_TORCHVISION;
    g->n_out = fc && fc->ndim == 2   ? (int)fc->shape[0]
               : fh && fh->ndim == 2 ? (int)fh->shape[0]
                                     : 1000;
}

static void join_ints(char *out, size_t cap, const int *v, int n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%d", i ? "," : "", v[i]);
}

bool wa_infer(const dl_tensor_map *m, wa_guess *g, char *why, size_t cap)
{
    memset(g, 0, sizeof *g);
    wa_io_shape(m, g);
    const dl_named_tensor *c1 = dl_tensor_map_get(m, "conv1.weight");
    if (!c1 || c1->ndim != 4) {
        snprintf(why, cap, "no 4-d 'conv1.weight': not a torchvision-style ResNet");
        return false;
    }
    dl_resnet_spec s = {0};
    if (c1->shape[2] == 7 && c1->shape[3] == 7)
        s.stem = DL_STEM_IMAGENET;
    else if (c1->shape[2] == 3 && c1->shape[3] == 3)
        s.stem = DL_STEM_SMALL;
    else {
        snprintf(why, cap, "stem kernel %lldx%lld is neither 7x7 (ImageNet) nor 3x3 (small)",
                 (long long)c1->shape[2], (long long)c1->shape[3]);
        return false;
    }
    s.block = get(m, "layer%d.%d.conv3.weight", 1, 0) ? DL_BLOCK_BOTTLENECK : DL_BLOCK_BASIC;
    for (int st = 1; st <= DL_RESNET_MAX_STAGES; st++) {
        int b = 0;
        while (b < 64 && get(m, "layer%d.%d.conv1.weight", st, b))
            b++;
        if (!b)
            break;
        const dl_named_tensor *w = get(m, "layer%d.%d.conv1.weight", st, 0);
        if (w->ndim != 4) {
            snprintf(why, cap, "'layer%d.0.conv1.weight' is not 4-d", st);
            return false;
        }
        s.blocks[s.n_stages] = b;
        s.planes[s.n_stages] = (int)w->shape[0];
        s.n_stages++;
    }
    if (!s.n_stages) {
        snprintf(why, cap, "no 'layer1.0.conv1.weight': not a torchvision-style ResNet");
        return false;
    }
    const char *const *names = dl_resnet_names();
    for (size_t i = 0; names[i]; i++) {
        dl_resnet_spec z;
        if (dl_resnet_spec_parse(names[i], &z, NULL) == DL_OK && z.block == s.block &&
            z.stem == s.stem && z.n_stages == s.n_stages &&
            memcmp(z.blocks, s.blocks, sizeof z.blocks) == 0 &&
            memcmp(z.planes, s.planes, sizeof z.planes) == 0) {
            snprintf(g->arch, sizeof g->arch, "%s", names[i]);
            return true;
        }
    }
    char blocks[40], planes[40];
    join_ints(blocks, sizeof blocks, s.blocks, s.n_stages);
    join_ints(planes, sizeof planes, s.planes, s.n_stages);
    snprintf(g->arch, sizeof g->arch, "resnet-custom:%s:%s:%s:%s",
             s.block == DL_BLOCK_BASIC ? "basic" : "bottleneck", blocks, planes,
             s.stem == DL_STEM_IMAGENET ? "imagenet" : "small");
    return true;
}

static void note(char (*list)[96], size_t *n, const char *name)
{
    if (*n < WA_LIST)
        snprintf(list[*n], sizeof list[*n], "%s", name);
    (*n)++;
}

dl_status wa_compare(const dl_tensor_map *m, const char *arch, const wa_guess *g, wa_report *r,
                     dl_model **model, dl_err *err)
{
    memset(r, 0, sizeof *r);
    dl_model_cfg cfg = {
        .arch = arch, .in_channels = g->in_channels, .n_out = g->n_out, .head = g->head, .seed = 0};
    dl_model *net;
    dl_status st = dl_model_create(&net, &cfg, err);
    if (st != DL_OK)
        return st;
    dl_tensor_map sd;
    dl_tensor_map_init(&sd);
    if ((st = dl_model_state_dict(net, &sd, err)) != DL_OK) {
        dl_model_free(net);
        return st;
    }
    r->n_expected = sd.n;
    for (size_t i = 0; i < sd.n; i++) {
        const dl_named_tensor *want = &sd.items[i], *got = dl_tensor_map_get(m, want->name);
        if (!got) {
            size_t nl = strlen(want->name);
            if (nl >= 19 && strcmp(want->name + nl - 19, "num_batches_tracked") == 0)
                r->n_nbt_missing++;
            else if (wa_is_head_key(want->name) && !g->has_head)
                r->head_missing = true;
            else
                note(r->missing, &r->n_missing, want->name);
            continue;
        }
        if (!dl_shape_equal(got->ndim, got->shape, want->ndim, want->shape)) {
            char a[64], b[64];
            if (r->n_shape < WA_LIST)
                snprintf(r->shape[r->n_shape], sizeof r->shape[0], "%s: file %s, model %s",
                         want->name, dl_shape_str(got->ndim, got->shape, a, sizeof a),
                         dl_shape_str(want->ndim, want->shape, b, sizeof b));
            r->n_shape++;
            continue;
        }
        r->n_matched++;
    }
    for (size_t i = 0; i < m->n; i++)
        if (!dl_tensor_map_get(&sd, m->items[i].name))
            note(r->unexpected, &r->n_unexpected, m->items[i].name);
    dl_tensor_map_free(&sd);
    if (model)
        *model = net;
    else
        dl_model_free(net);
    return DL_OK;
}

bool wa_report_ok(const wa_report *r) { return !r->n_missing && !r->n_unexpected && !r->n_shape; }
