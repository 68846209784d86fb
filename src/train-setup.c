/* train-setup: options and session shared by `dllab train` and `dllab lrfind`; see train-setup.h.
 * The run's config_json keeps the command line ("argv") so `dllab train --resume RUN` can rebuild
 * the same session, and the image preparation ("prep") so `dllab predict` prepares images as the
 * validation split was prepared. */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas_select.h"
#include "core/io/names.h"
#include "core/io/safetensors.h"
#include "core/io/weights.h"
#include "src/commands.h"
#include "src/runs-util.h"
#include "src/train-setup.h"

void dl_train_args_usage(FILE *o)
{
    fprintf(o,
            "model and training:\n"
            "  --arch A            resnet-xs (default), resnet-s, resnet18, resnet34, resnet50\n"
            "  --head H            fastai (default) or torchvision\n"
            "  --pretrained X      body weights from a FILE (.safetensors or PyTorch .pth, e.g.\n"
            "                      torchvision's; ImageNet statistics then normalise the images) or\n"
            "                      a saved RUN (fresh head; the model starts frozen, and --fine-tune\n"
            "                      becomes the default)\n"
            "  --bs N              batch size (default 64)\n"
            "  --epochs N          epochs (default 1)\n"
            "  --lr V | LO..HI     learning rate: V is fastai's slice(V) (V/10 for all groups but the\n"
            "                      head), LO..HI spreads geometrically over groups, =V sets all groups\n"
            "  --fit | --flat-cos | --one-cycle | --fine-tune   schedule (default one-cycle, or\n"
            "                      fine-tune with --pretrained)\n"
            "  --freeze-epochs N   fine-tune's frozen epochs (default 1)\n"
            "  --opt adam|sgd      optimiser (default adam)\n"
            "  --wd W              weight decay (default: the optimiser's, Adam 0.01)\n"
            "  --metric M[,M]      error_rate, accuracy, accuracy_multi (default error_rate, or\n"
            "                      accuracy_multi for multi-label data)\n"
            "  --thresh T          accuracy_multi threshold (default 0.5)\n"
            "  --monitor NAME      tracked column (default valid_loss); best checkpoint flagged\n"
            "  --patience N        early stopping after N epochs without improvement\n"
            "  --min-delta D       improvement threshold of the tracker (default 0)\n"
            "  --plateau F         divide the lr by F after an epoch without improvement\n"
            "  --load-best         load the best weights at the end\n"
            "  --resume RUN        continue RUN from its last checkpoint (same options)\n"
            "  --from-epoch K      with --resume: rewind to the checkpoint of epoch K (a new run)\n"
            "  --num-it N          LR-finder batches (default 100)\n"
            "  --seed S            split, initialisation and augmentation seed (default 42)\n"
            "  --name NAME         run name prefix (default DATA-ARCH)\n"
            "  --runs DIR          run store (default $DLLAB_RUNS or ./dllab-runs)\n"
            "  --threads N         BLAS and loader threads\n"
            "  --no-tui            print the epoch table instead of the dashboard (implied when\n"
            "                      stdout is not a terminal)\n"
            "data:\n"
            "  --size PX           image size (default 128; 28 fashion-mnist, 64 fashion-mosaic)\n"
            "  --resize M          crop | pad | pad-zeros | squish\n"
            "  --limit N           only the first N training items; --valid-limit N likewise\n"
            "  --valid-pct P       random validation fraction (default 0.2)\n"
            "  --label-re RE, --csv FILE, --fname-col C, --label-col C, --label-delim C,\n"
            "  --valid-col C, --folder DIR, --multi-label, --channels N, --no-aug, --cache DIR,\n"
            "  --mosaic-train N, --mosaic-valid N   fashion-mosaic sizes (default 2000, 500)\n");
}

static int bad(const dl_train_args *a, const char *opt, const char *val)
{
    fprintf(stderr, "dllab %s: bad value '%s' for %s\n", a->cmd, val, opt);
    return DL_EXIT_USAGE;
}

static bool num_ll(const char *s, long long lo, long long hi, long long *v)
{
    char *end;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

static bool num_d(const char *s, double lo, double hi, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (!*s || *end || !(x >= lo && x <= hi))
        return false;
    *v = x;
    return true;
}

enum {
    O_ARCH = 1000, O_HEAD, O_PRE, O_BS, O_EPOCHS, O_LR, O_FIT, O_FLAT, O_ONE, O_FT, O_FE, O_OPT, O_WD, O_METRIC,
    O_THRESH, O_MON, O_PAT, O_MD, O_PLAT, O_LB, O_RESUME, O_FROM, O_NUMIT, O_SEED, O_NAME, O_RUNS, O_THREADS,
    O_NOTUI, O_SIZE, O_RESIZE, O_LIMIT, O_VLIMIT, O_PCT, O_RE, O_CSV, O_FC, O_LC, O_LD, O_VC, O_FOLDER, O_MULTI,
    O_CH, O_NOAUG, O_CACHE, O_MT, O_MV, O_HELP
};

static const struct option opts[] = {
    {"arch", 1, 0, O_ARCH},        {"head", 1, 0, O_HEAD},       {"pretrained", 1, 0, O_PRE},
    {"bs", 1, 0, O_BS},            {"epochs", 1, 0, O_EPOCHS},   {"lr", 1, 0, O_LR},
    {"fit", 0, 0, O_FIT},          {"flat-cos", 0, 0, O_FLAT},   {"one-cycle", 0, 0, O_ONE},
    {"fine-tune", 0, 0, O_FT},     {"freeze-epochs", 1, 0, O_FE}, {"opt", 1, 0, O_OPT},
    {"wd", 1, 0, O_WD},            {"metric", 1, 0, O_METRIC},   {"thresh", 1, 0, O_THRESH},
    {"monitor", 1, 0, O_MON},      {"patience", 1, 0, O_PAT},    {"min-delta", 1, 0, O_MD},
    {"plateau", 1, 0, O_PLAT},     {"load-best", 0, 0, O_LB},    {"resume", 1, 0, O_RESUME},
    {"from-epoch", 1, 0, O_FROM},  {"num-it", 1, 0, O_NUMIT},    {"seed", 1, 0, O_SEED},
    {"name", 1, 0, O_NAME},        {"runs", 1, 0, O_RUNS},       {"threads", 1, 0, O_THREADS},
    {"no-tui", 0, 0, O_NOTUI},     {"size", 1, 0, O_SIZE},       {"resize", 1, 0, O_RESIZE},
    {"limit", 1, 0, O_LIMIT},      {"valid-limit", 1, 0, O_VLIMIT}, {"valid-pct", 1, 0, O_PCT},
    {"label-re", 1, 0, O_RE},      {"csv", 1, 0, O_CSV},         {"fname-col", 1, 0, O_FC},
    {"label-col", 1, 0, O_LC},     {"label-delim", 1, 0, O_LD},  {"valid-col", 1, 0, O_VC},
    {"folder", 1, 0, O_FOLDER},    {"multi-label", 0, 0, O_MULTI}, {"channels", 1, 0, O_CH},
    {"no-aug", 0, 0, O_NOAUG},     {"cache", 1, 0, O_CACHE},     {"mosaic-train", 1, 0, O_MT},
    {"mosaic-valid", 1, 0, O_MV},  {"help", 0, 0, O_HELP},
    {0, 0, 0, 0}};

static int parse_metrics(dl_train_args *a, const char *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    a->n_metrics = 0;
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        dl_err err;
        if (a->n_metrics == DL_SNAP_METRICS || dl_metric_parse(t, &a->metrics[a->n_metrics], &err) != DL_OK) {
            fprintf(stderr, "dllab %s: --metric: %s\n", a->cmd,
                    a->n_metrics == DL_SNAP_METRICS ? "too many metrics" : err.msg);
            return DL_EXIT_USAGE;
        }
        a->n_metrics++;
    }
    return a->n_metrics ? -1 : bad(a, "--metric", s);
}

static void args_defaults(dl_train_args *a, const char *cmd)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    dl_data_config_init(&a->data);
    a->arch = "resnet-xs";
    a->head = DL_HEAD_FASTAI;
    a->bs = 64;
    a->epochs = 1;
    a->freeze_epochs = 1;
    a->opt = DL_OPTIM_ADAM;
    a->wd = NAN;
    a->thresh = 0.5f;
    a->from_epoch = -1;
    a->num_it = 100;
}

int dl_train_args_parse(dl_train_args *a, const char *cmd, int argc, char **argv, void (*usage)(FILE *))
{
    args_defaults(a, cmd);
    a->argc = argc;
    a->argv = argv;
    optind = 1;
    opterr = 0;
    int o;
    long long v;
    double d;
    dl_err err;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_ARCH: a->arch = optarg; break;
        case O_HEAD:
            if (!strcmp(optarg, "fastai"))
                a->head = DL_HEAD_FASTAI;
            else if (!strcmp(optarg, "torchvision"))
                a->head = DL_HEAD_TORCHVISION;
            else
                return bad(a, "--head", optarg);
            break;
        case O_PRE: a->pretrained = optarg; break;
        case O_BS:
            if (!num_ll(optarg, 1, 65536, &v))
                return bad(a, "--bs", optarg);
            a->bs = (int)v;
            break;
        case O_EPOCHS:
            if (!num_ll(optarg, 1, 100000, &v))
                return bad(a, "--epochs", optarg);
            a->epochs = (int)v;
            break;
        case O_FE:
            if (!num_ll(optarg, 0, 100000, &v))
                return bad(a, "--freeze-epochs", optarg);
            a->freeze_epochs = (int)v;
            break;
        case O_LR:
            if (dl_lr_parse(optarg, &a->lr, &err) != DL_OK) {
                fprintf(stderr, "dllab %s: --lr: %s\n", cmd, err.msg);
                return DL_EXIT_USAGE;
            }
            a->lr_set = true;
            break;
        case O_FIT: a->fit = DL_CHOOSE_FIT; break;
        case O_FLAT: a->fit = DL_CHOOSE_FLAT_COS; break;
        case O_ONE: a->fit = DL_CHOOSE_ONE_CYCLE; break;
        case O_FT: a->fit = DL_CHOOSE_FINE_TUNE; break;
        case O_OPT:
            if (dl_optim_kind_parse(optarg, &a->opt, &err) != DL_OK)
                return bad(a, "--opt", optarg);
            break;
        case O_WD:
            if (!num_d(optarg, 0, 10, &a->wd))
                return bad(a, "--wd", optarg);
            break;
        case O_METRIC: {
            int r = parse_metrics(a, optarg);
            if (r >= 0)
                return r;
            break;
        }
        case O_THRESH:
            if (!num_d(optarg, 0, 1, &d))
                return bad(a, "--thresh", optarg);
            a->thresh = (float)d;
            break;
        case O_MON: a->monitor = optarg; break;
        case O_PAT:
            if (!num_ll(optarg, 1, 100000, &v))
                return bad(a, "--patience", optarg);
            a->patience = (int)v;
            break;
        case O_MD:
            if (!num_d(optarg, 0, 1e9, &a->min_delta))
                return bad(a, "--min-delta", optarg);
            break;
        case O_PLAT:
            if (!num_d(optarg, 1.0000001, 1e9, &a->plateau))
                return bad(a, "--plateau", optarg);
            break;
        case O_LB: a->load_best = true; break;
        case O_RESUME: a->resume = optarg; break;
        case O_FROM:
            if (!num_ll(optarg, 0, 1000000, &v))
                return bad(a, "--from-epoch", optarg);
            a->from_epoch = (int)v;
            break;
        case O_NUMIT:
            if (!num_ll(optarg, 6, DL_LRFIND_MAX, &v))
                return bad(a, "--num-it", optarg);
            a->num_it = (int)v;
            break;
        case O_SEED:
            if (!num_ll(optarg, 0, (long long)1 << 62, &v))
                return bad(a, "--seed", optarg);
            a->data.seed = (uint64_t)v;
            break;
        case O_NAME: a->name = optarg; break;
        case O_RUNS: a->runs = optarg; break;
        case O_THREADS:
            if (!num_ll(optarg, 1, 1024, &v))
                return bad(a, "--threads", optarg);
            a->threads = (int)v;
            break;
        case O_NOTUI: a->no_tui = true; break;
        case O_SIZE:
            if (!num_ll(optarg, 8, 2048, &v))
                return bad(a, "--size", optarg);
            a->data.size = (int)v;
            break;
        case O_RESIZE:
            if (!strcmp(optarg, "crop"))
                a->data.resize = DL_RESIZE_CROP;
            else if (!strcmp(optarg, "pad"))
                a->data.resize = DL_RESIZE_PAD_REFLECT;
            else if (!strcmp(optarg, "pad-zeros"))
                a->data.resize = DL_RESIZE_PAD_ZEROS;
            else if (!strcmp(optarg, "squish"))
                a->data.resize = DL_RESIZE_SQUISH;
            else
                return bad(a, "--resize", optarg);
            break;
        case O_LIMIT:
        case O_VLIMIT:
            if (!num_ll(optarg, 1, (long long)1 << 40, &v))
                return bad(a, o == O_LIMIT ? "--limit" : "--valid-limit", optarg);
            *(o == O_LIMIT ? &a->data.limit : &a->data.valid_limit) = v;
            break;
        case O_PCT:
            if (!num_d(optarg, 0, 0.99, &a->data.valid_pct))
                return bad(a, "--valid-pct", optarg);
            break;
        case O_RE: a->data.label_re = optarg; break;
        case O_CSV: a->data.csv = optarg; break;
        case O_FC: a->data.fname_col = optarg; break;
        case O_LC: a->data.label_col = optarg; break;
        case O_LD:
            if (strlen(optarg) != 1)
                return bad(a, "--label-delim", optarg);
            a->data.label_delim = optarg[0];
            break;
        case O_VC: a->data.valid_col = optarg; break;
        case O_FOLDER: a->data.folder = optarg; break;
        case O_MULTI: a->data.multi_label = true; break;
        case O_CH:
            if (!num_ll(optarg, 1, 3, &v) || v == 2)
                return bad(a, "--channels", optarg);
            a->data.channels = (int)v;
            break;
        case O_NOAUG: a->data.aug = false; break;
        case O_CACHE: a->data.cache_dir = optarg; break;
        case O_MT:
        case O_MV:
            if (!num_ll(optarg, 1, 10000000, &v))
                return bad(a, o == O_MT ? "--mosaic-train" : "--mosaic-valid", optarg);
            *(o == O_MT ? &a->data.mosaic_train : &a->data.mosaic_valid) = (int)v;
            break;
        case 'h':
        case O_HELP: usage(stdout); return DL_EXIT_OK;
        default:
            fprintf(stderr, "dllab %s: unknown or incomplete option '%s'\n", cmd, argv[optind - 1]);
            usage(stderr);
            return DL_EXIT_USAGE;
        }
    }
    if (optind == argc - 1)
        a->data.source = argv[optind];
    else if (optind < argc - 1) {
        fprintf(stderr, "dllab %s: more than one DATA given ('%s', '%s')\n", cmd, argv[optind], argv[optind + 1]);
        usage(stderr);
        return DL_EXIT_USAGE;
    } else if (!a->resume) {
        fprintf(stderr, "dllab %s: missing DATA\n", cmd);
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    if (a->from_epoch >= 0 && !a->resume) {
        fprintf(stderr, "dllab %s: --from-epoch needs --resume RUN\n", cmd);
        return DL_EXIT_USAGE;
    }
    if (!isatty(STDOUT_FILENO))
        a->no_tui = true;
    return -1;
}

/* ---- session ---- */

static int fail(const dl_train_args *a, dl_session *s, const char *what, const dl_err *err)
{
    fprintf(stderr, "dllab %s: %s%s%s\n", a->cmd, what ? what : "", what ? ": " : "", err->msg);
    dl_session_close(s);
    return DL_EXIT_FAIL;
}

dl_status dl_run_checkpoint_read(dl_store *st, int64_t run, int epoch, bool want_best, dl_tensor_map *map,
                                 dl_err *err)
{
    dl_checkpoint_row row;
    memset(&row, 0, sizeof row);
    dl_status rc;
    if (epoch >= 0) {
        dl_checkpoint_row *rows;
        size_t n;
        if ((rc = dl_store_checkpoints(st, run, &rows, &n, err)) != DL_OK)
            return rc;
        rc = dl_err_set(err, DL_ENOTFOUND, "the run has no checkpoint of epoch %d", epoch);
        for (size_t i = 0; i < n; i++) {
            char want[64];
            snprintf(want, sizeof want, "epoch-%d.safetensors", epoch);
            const char *base = strrchr(rows[i].path, '/');
            if (strcmp(base ? base + 1 : rows[i].path, want) == 0) {
                row.path = strdup(rows[i].path);
                rc = DL_OK;
            }
        }
        dl_checkpoints_free(rows, n);
    } else {
        rc = want_best ? dl_store_checkpoint_best(st, run, &row, err) : DL_ENOTFOUND;
        if (rc == DL_ENOTFOUND)
            rc = dl_store_checkpoint_latest(st, run, &row, err);
    }
    if (rc != DL_OK)
        return rc;
    char path[4096];
    dl_store_checkpoint_abspath(st, row.path, path, sizeof path);
    dl_checkpoint_row_clear(&row);
    dl_tensor_map_init(map);
    return dl_safetensors_read(path, map, err);
}

/* Reads the --pretrained weights (a weight FILE in any format core/io knows, or a saved RUN's best
 * checkpoint) into *body, keeping the model's part only. Returns 0, -1 (already reported) or 1. */
static int read_pretrained(dl_train_args *a, dl_session *s, dl_tensor_map *body, bool *from_file, dl_err *err)
{
    dl_tensor_map ck;
    dl_tensor_map_init(&ck);
    dl_status st;
    *from_file = access(a->pretrained, R_OK) == 0;
    if (*from_file) {
        st = dl_weights_read(a->pretrained, &ck, err);
        if (st == DL_OK)
            st = dl_weights_rename(&ck, NULL, err); /* DataParallel, timm, fastai exports */
    } else {
        int64_t run;
        if (dl_cli_find(a->cmd, s->st, a->pretrained, &run) != 0)
            return -1;
        st = dl_run_checkpoint_read(s->st, run, -1, true, &ck, err);
    }
    if (st == DL_OK)
        st = dl_checkpoint_model_map(&ck, body, err);
    dl_tensor_map_free(&ck);
    if (st != DL_OK) {
        dl_err_wrap(err, "--pretrained %s", a->pretrained);
        return 1;
    }
    return 0;
}

static char *config_json(const dl_train_args *a, const dl_session *s, int argc, char **argv)
{
    json_t *o = json_object(), *av = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(av, json_string(argv[i]));
    json_object_set_new(o, "argv", av);
    dl_image_prep p;
    dl_data_prep(s->ds, &p);
    json_t *prep = json_object();
    json_object_set_new(prep, "size", json_integer(p.size));
    json_object_set_new(prep, "channels", json_integer(p.channels));
    json_object_set_new(prep, "resize", json_integer(p.resize));
    json_t *mean = json_array(), *std = json_array();
    for (int c = 0; c < p.channels; c++) {
        json_array_append_new(mean, json_real(p.mean[c]));
        json_array_append_new(std, json_real(p.std[c]));
    }
    json_object_set_new(prep, "mean", mean);
    json_object_set_new(prep, "std", std);
    json_object_set_new(o, "prep", prep);
    json_object_set_new(o, "arch", json_string(a->arch));
    json_object_set_new(o, "head", json_string(a->head == DL_HEAD_FASTAI ? "fastai" : "torchvision"));
    json_object_set_new(o, "multi_label", json_boolean(s->multi));
    json_object_set_new(o, "thresh", json_real(a->thresh));
    json_object_set_new(o, "bs", json_integer(a->bs));
    json_object_set_new(o, "seed", json_integer((json_int_t)a->data.seed));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static char *vocab_json(const dl_dataset *ds)
{
    json_t *v = json_array();
    for (int k = 0; k < dl_data_n_classes(ds); k++)
        json_array_append_new(v, json_string(dl_data_class_name(ds, k)));
    char *txt = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return txt;
}

static void run_prefix(const dl_train_args *a, char *out, size_t cap)
{
    if (a->name) {
        snprintf(out, cap, "%s", a->name);
        return;
    }
    const char *src = a->data.source;
    const char *b = strrchr(src, '/');
    b = b && b[1] ? b + 1 : src;
    if (!strcmp(b, "fashion-mnist"))
        b = "fmnist";
    else if (!strcmp(b, "fashion-mosaic"))
        b = "fmosaic";
    snprintf(out, cap, "%.40s-%.40s", b, a->arch);
    for (char *p = out; *p; p++)
        if (*p == ':' || *p == ',' || *p == ' ' || *p == '.')
            *p = '-';
}

int dl_session_open(dl_session *s, dl_train_args *a)
{
    memset(s, 0, sizeof *s);
    dl_err err = {0};
    if (a->threads > 0)
        dl_blas_set_threads(a->threads);
    if (dl_cli_open(a->cmd, a->runs, 0, &s->st) != 0)
        return DL_EXIT_FAIL;
    dl_tensor_map body;
    dl_tensor_map_init(&body);
    if (a->pretrained) {
        bool from_file;
        int r = read_pretrained(a, s, &body, &from_file, &err);
        if (r != 0) {
            if (r > 0)
                fprintf(stderr, "dllab %s: %s\n", a->cmd, err.msg);
            dl_session_close(s);
            return DL_EXIT_FAIL;
        }
        /* The images must have the channels the body was trained on; a foreign (ImageNet) body also
         * wants ImageNet's normalisation, as fastai adds it for pretrained models. */
        const dl_named_tensor *c1 = dl_tensor_map_get(&body, "conv1.weight");
        if (c1 && c1->ndim == 4 && a->data.channels == 0 && (c1->shape[1] == 1 || c1->shape[1] == 3))
            a->data.channels = (int)c1->shape[1];
        if (from_file && c1 && c1->ndim == 4 && c1->shape[1] == 3)
            a->data.imagenet_stats = true;
    }
    if (dl_data_open(&a->data, &s->ds, &err) != DL_OK) {
        dl_tensor_map_free(&body);
        return fail(a, s, NULL, &err);
    }
    s->multi = dl_data_multi_label(s->ds);
    if (dl_loader_create(s->ds, DL_SPLIT_TRAIN, a->bs, true, true, a->data.seed, a->threads, &s->tr, &err) != DL_OK ||
        dl_loader_create(s->ds, DL_SPLIT_VALID, a->bs, false, false, a->data.seed, a->threads, &s->va, &err) != DL_OK) {
        dl_tensor_map_free(&body);
        return fail(a, s, "loader", &err);
    }
    if (dl_loader_batches(s->tr) < 1) {
        dl_tensor_map_free(&body);
        dl_err_set(&err, DL_EINVAL, "%zu training items make no full batch of %d (lower --bs)",
                   dl_data_count(s->ds, DL_SPLIT_TRAIN), a->bs);
        return fail(a, s, NULL, &err);
    }
    dl_image_prep prep;
    dl_data_prep(s->ds, &prep);
    dl_model_cfg mc = {.arch = a->arch, .in_channels = prep.channels, .n_out = dl_data_n_classes(s->ds),
                       .head = a->head, .seed = a->data.seed};
    dl_status st = dl_model_create(&s->model, &mc, &err);
    if (st == DL_OK && a->pretrained) {
        st = dl_model_load_body(s->model, &body, &err);
        if (st != DL_OK)
            dl_err_wrap(&err, "--pretrained %s", a->pretrained);
    }
    dl_tensor_map_free(&body);
    if (st != DL_OK)
        return fail(a, s, NULL, &err);
    if (dl_control_create(&s->ctl, &err) != DL_OK)
        return fail(a, s, NULL, &err);
    dl_learner_cfg lc;
    dl_learner_cfg_init(&lc);
    lc.opt = a->opt;
    lc.wd = a->wd;
    if (a->n_metrics == 0) {
        a->n_metrics = 1;
        a->metrics[0] = s->multi ? DL_METRIC_ACCURACY_MULTI : DL_METRIC_ERROR_RATE;
    }
    lc.n_metrics = a->n_metrics;
    memcpy(lc.metrics, a->metrics, sizeof lc.metrics);
    lc.thresh = a->thresh;
    lc.monitor = a->monitor;
    lc.min_delta = a->min_delta;
    lc.patience = a->patience;
    lc.plateau_factor = a->plateau;
    lc.load_best = a->load_best;
    lc.pause_on_diverge = !a->no_tui;
    if (dl_learner_create(&s->l, &lc, s->model, dl_batch_source_loader(s->tr), dl_batch_source_loader(s->va),
                          s->ctl, &err) != DL_OK)
        return fail(a, s, NULL, &err);
    if (a->pretrained)
        dl_learner_freeze(s->l); /* fastai creates a pretrained learner frozen */
    return DL_OK;
}

/* Creates the run (call after dl_session_open; argv is stored for --resume). */
int dl_session_new_run(dl_session *s, const dl_train_args *a, int argc, char **argv, const char *prefix_override)
{
    dl_err err = {0};
    char prefix[96], dsdesc[256];
    if (prefix_override)
        snprintf(prefix, sizeof prefix, "%s", prefix_override);
    else
        run_prefix(a, prefix, sizeof prefix);
    snprintf(dsdesc, sizeof dsdesc, "%s (%s)", a->data.source ? a->data.source : "?",
             dl_data_kind_name(dl_data_kind(s->ds)));
    char *cfg = config_json(a, s, argc, argv), *voc = vocab_json(s->ds);
    dl_run_spec spec = {.name_prefix = prefix, .dataset = dsdesc, .arch = a->arch,
                        .n_train = (int64_t)dl_data_count(s->ds, DL_SPLIT_TRAIN),
                        .n_valid = (int64_t)dl_data_count(s->ds, DL_SPLIT_VALID),
                        .vocab_json = voc, .config_json = cfg, .blas_kernel = dl_blas_corename()};
    dl_status st = dl_store_run_create(s->st, &spec, &s->run, s->run_name, sizeof s->run_name, &err);
    free(cfg);
    free(voc);
    if (st != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", a->cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    for (size_t i = 0; i < dl_data_n_skipped(s->ds); i++) {
        const char *reason, *path = dl_data_skipped(s->ds, i, &reason);
        dl_store_skipped_add(s->st, s->run, path, reason, NULL);
    }
    dl_learner_attach_store(s->l, s->st, s->run);
    return DL_EXIT_OK;
}

void dl_session_close(dl_session *s)
{
    dl_learner_free(s->l);
    dl_control_free(s->ctl);
    dl_model_free(s->model);
    dl_loader_destroy(s->tr);
    dl_loader_destroy(s->va);
    dl_data_close(s->ds);
    dl_store_close(s->st);
    memset(s, 0, sizeof *s);
}

int dl_train_args_from_run(dl_train_args *a, const char *cmd, dl_store *st, int64_t run, void (*usage)(FILE *))
{
    dl_run r;
    dl_err err = {0};
    if (dl_store_run_get(st, run, &r, &err) != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    json_t *cfg = json_loads(r.config_json ? r.config_json : "", 0, NULL);
    json_t *av = json_object_get(cfg, "argv");
    int rc;
    if (!json_is_array(av) || json_array_size(av) < 1) {
        fprintf(stderr, "dllab %s: run '%s' has no recorded command line (not started by dllab train)\n", cmd,
                r.name);
        rc = DL_EXIT_FAIL;
    } else {
        /* The strings must outlive the parse (the args point into them): dl_train_args_release. */
        int n = (int)json_array_size(av);
        char **argv = calloc((size_t)n + 1, sizeof *argv);
        for (int i = 0; i < n; i++)
            argv[i] = strdup(json_string_value(json_array_get(av, i)) ? json_string_value(json_array_get(av, i)) : "");
        rc = dl_train_args_parse(a, cmd, n, argv, usage);
        a->owned_argv = argv;
        a->resume = NULL;
        a->from_epoch = -1;
    }
    json_decref(cfg);
    dl_run_clear(&r);
    return rc;
}

void dl_train_args_release(dl_train_args *a)
{
    if (a->owned_argv)
        for (char **p = a->owned_argv; *p; p++)
            free(*p);
    free(a->owned_argv);
    a->owned_argv = NULL;
}
