/* cmd-predict: `dllab predict RUN IMAGE...` loads a run's best (else latest, or --checkpoint's)
 * checkpoint, prepares each image as the run's validation split was prepared (size, channels,
 * resize, normalisation, all recorded in the run) and prints the top classes with their
 * probabilities, or for a multi-label run the labels whose probability is above the threshold. No
 * dataset is needed. Exit codes: 0 ok, 1 failure (a bad image is reported and the others still
 * run), 2 usage. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/data.h"
#include "core/learn/learner.h"
#include "core/models/model.h"
#include "core/printable.h"
#include "src/commands.h"
#include "src/runs-util.h"
#include "src/train-setup.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: dllab predict RUN IMAGE... [--runs DIR] [--top K] [--thresh T]\n"
               "                                  [--checkpoint best|last|epoch-K] [--no-tui]\n\n"
               "Prints one line per image: PATH: class probability, ... (most probable first).\n"
               "  --top K             single-label: classes to show per image (default 3)\n"
               "  --thresh T          multi-label: show labels above T (default: the run's)\n"
               "  --checkpoint WHICH  best, last or epoch-K (default: the best, else the last)\n"
               "  --epoch K           the same as --checkpoint epoch-K\n"
               "  --no-tui            accepted as by every command (predict always prints text)\n");
}

typedef struct model_info {
    dl_image_prep prep;
    dl_model_cfg mc;
    char arch[128];
    bool multi;
    float thresh;
    char **vocab;
    int k;
} model_info;

static int read_info(dl_store *st, int64_t run, model_info *mi)
{
    dl_run r;
    dl_err err = {0};
    if (dl_store_run_get(st, run, &r, &err) != DL_OK) {
        fprintf(stderr, "dllab predict: %s\n", err.msg);
        return DL_EXIT_FAIL;
    }
    json_t *cfg = json_loads(r.config_json ? r.config_json : "", 0, NULL);
    json_t *voc = json_loads(r.vocab_json ? r.vocab_json : "", 0, NULL);
    json_t *prep = json_object_get(cfg, "prep");
    int rc = DL_EXIT_OK;
    if (!json_is_object(prep) || !json_is_array(voc) || json_array_size(voc) < 1 ||
        !json_is_string(json_object_get(cfg, "arch"))) {
        fprintf(stderr,
                "dllab predict: run '%s' does not record its model and image preparation "
                "(not trained by dllab train)\n",
                r.name);
        rc = DL_EXIT_FAIL;
    } else {
        memset(mi, 0, sizeof *mi);
        mi->prep.size = (int)json_integer_value(json_object_get(prep, "size"));
        mi->prep.channels = (int)json_integer_value(json_object_get(prep, "channels"));
        mi->prep.resize = (dl_resize_method)json_integer_value(json_object_get(prep, "resize"));
        for (int c = 0; c < mi->prep.channels && c < 3; c++) {
            mi->prep.mean[c] =
                (float)json_number_value(json_array_get(json_object_get(prep, "mean"), (size_t)c));
            mi->prep.std[c] =
                (float)json_number_value(json_array_get(json_object_get(prep, "std"), (size_t)c));
        }
        snprintf(mi->arch, sizeof mi->arch, "%s", json_string_value(json_object_get(cfg, "arch")));
        const char *head = json_string_value(json_object_get(cfg, "head"));
        mi->multi = json_is_true(json_object_get(cfg, "multi_label"));
        json_t *th = json_object_get(cfg, "thresh");
        mi->thresh = json_is_number(th) ? (float)json_number_value(th) : 0.5f;
        mi->k = (int)json_array_size(voc);
        mi->vocab = calloc((size_t)mi->k, sizeof *mi->vocab);
        for (int i = 0; i < mi->k; i++)
            mi->vocab[i] = strdup(json_string_value(json_array_get(voc, (size_t)i))
                                      ? json_string_value(json_array_get(voc, (size_t)i))
                                      : "?");
        mi->mc.arch = mi->arch;
        mi->mc.in_channels = mi->prep.channels;
        mi->mc.n_out = mi->k;
        mi->mc.head = head && !strcmp(head, "torchvision") ? DL_HEAD_TORCHVISION : DL_HEAD_FASTAI;
        if (mi->prep.size < 8 || (mi->prep.channels != 1 && mi->prep.channels != 3)) {
            fprintf(stderr, "dllab predict: run '%s' records a bad image preparation\n", r.name);
            rc = DL_EXIT_FAIL;
        }
    }
    json_decref(cfg);
    json_decref(voc);
    dl_run_clear(&r);
    return rc;
}

/* One format for both kinds: "PATH: class prob, class prob" with classes by falling probability;
 * single-label: the top K of the softmax; multi-label: every label whose sigmoid is above the
 * threshold, or "(no label above T)". */
static void print_prediction(const char *path, const float *logits, const model_info *mi, int top)
{
    int k = mi->k;
    char shown[1024]; /* class names come from the data: escaped for the terminal */
    double *p = malloc((size_t)k * sizeof *p);
    if (!p)
        return;
    if (mi->multi) {
        for (int j = 0; j < k; j++)
            p[j] = 1.0 / (1.0 + exp(-(double)logits[j]));
    } else {
        double mx = logits[0], s = 0;
        for (int j = 1; j < k; j++)
            mx = logits[j] > mx ? logits[j] : mx;
        for (int j = 0; j < k; j++)
            s += p[j] = exp((double)logits[j] - mx);
        for (int j = 0; j < k; j++)
            p[j] /= s;
    }
    printf("%s:", path);
    int shown_n = 0;
    for (int r = 0; r < (mi->multi ? k : top) && r < k; r++) {
        int b = -1;
        for (int j = 0; j < k; j++)
            if (p[j] >= 0 && (b < 0 || p[j] > p[b]))
                b = j;
        if (b < 0 || (mi->multi && !(p[b] > mi->thresh)))
            break;
        printf("%s %s %.4f", shown_n++ ? "," : "", dl_printable(mi->vocab[b], shown, sizeof shown),
               p[b]);
        p[b] = -1;
    }
    if (shown_n == 0)
        printf(" (no label above %.2f)", mi->thresh);
    printf("\n");
    free(p);
}

int cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {{"runs", 1, 0, 'r'},       {"top", 1, 0, 'k'},
                                         {"thresh", 1, 0, 't'},     {"epoch", 1, 0, 'e'},
                                         {"checkpoint", 1, 0, 'c'}, {"no-tui", 0, 0, 'n'},
                                         {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    const char *runs = NULL;
    int top = 3, epoch = -1;
    char which[64] = "";
    double thresh = -1;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            runs = optarg;
            break;
        case 'k':
            if (dl_cli_int_arg("predict", "--top", optarg, 1, INT_MAX, &top))
                return DL_EXIT_USAGE;
            break;
        case 't':
            if (dl_cli_prob_arg("predict", "--thresh", optarg, &thresh))
                return DL_EXIT_USAGE;
            break;
        case 'e':
            if (dl_cli_int_arg("predict", "--epoch", optarg, 0, INT_MAX, &epoch))
                return DL_EXIT_USAGE;
            break;
        case 'c':
            snprintf(which, sizeof which, "%s", optarg);
            break;
        case 'n':
            break;
        case 'h':
            usage(stdout);
            return DL_EXIT_OK;
        default:
            fprintf(stderr, "dllab predict: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return DL_EXIT_USAGE;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "dllab predict: %s\n",
                optind >= argc ? "missing RUN and IMAGE" : "missing IMAGE");
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    dl_store *st;
    if (dl_cli_open("predict", runs, DL_STORE_READONLY, &st) != 0)
        return DL_EXIT_FAIL;
    int64_t run;
    model_info mi;
    memset(&mi, 0, sizeof mi);
    int rc = dl_cli_find("predict", st, argv[optind], &run);
    if (rc == 0)
        rc = read_info(st, run, &mi);
    dl_model *m = NULL;
    dl_err err = {0};
    if (rc == 0) {
        dl_tensor_map ck, sd;
        char said[128];
        int ck_epoch;
        if (epoch >= 0)
            snprintf(which, sizeof which, "epoch-%d", epoch);
        dl_status s =
            dl_run_checkpoint_choose(st, run, which, &ck, said, sizeof said, &ck_epoch, &err);
        bool bad_which = s == DL_EINVAL; /* a usage error: not best, last or epoch-K */

        if (s == DL_OK) {
            s = dl_checkpoint_model_map(&ck, &sd, &err);
            dl_tensor_map_free(&ck);
            if (s == DL_OK) {
                s = dl_model_create(&m, &mi.mc, &err);
                if (s == DL_OK)
                    s = dl_model_load_state_dict(m, &sd, &err);
                dl_tensor_map_free(&sd);
            }
        }
        if (s != DL_OK) {
            fprintf(stderr, "dllab predict: %s: %s\n", argv[optind], err.msg);
            rc = bad_which ? DL_EXIT_USAGE : DL_EXIT_FAIL;
        }
    }
    dl_store_close(st);
    if (thresh >= 0)
        mi.thresh = (float)thresh;
    if (rc == 0) {
        size_t px = (size_t)mi.prep.channels * mi.prep.size * mi.prep.size;
        float *x = malloc(px * sizeof *x);
        for (int i = optind + 1; i < argc; i++) {
            const float *logits;
            if (dl_image_load_prepped(argv[i], &mi.prep, x, &err) != DL_OK ||
                dl_model_forward(m, x, 1, mi.prep.size, mi.prep.size, false, &logits, &err) !=
                    DL_OK) {
                fprintf(stderr, "dllab predict: %s\n", err.msg);
                rc = DL_EXIT_FAIL;
                continue;
            }
            int bad = -1;
            char shown[1024];
            for (int j = 0; j < mi.k && bad < 0; j++)
                bad = isfinite(logits[j]) ? -1 : j;
            if (bad >= 0) { /* NaN outputs would pick no class at all */
                fprintf(stderr,
                        "dllab predict: %s: the model's output for class '%s' is %g: the run's "
                        "weights have diverged (retrain with a lower learning rate)\n",
                        argv[i], dl_printable(mi.vocab[bad], shown, sizeof shown),
                        (double)logits[bad]);
                rc = DL_EXIT_FAIL;
                continue;
            }
            print_prediction(argv[i], logits, &mi, top);
        }
        free(x);
    }
    dl_model_free(m);
    for (int i = 0; i < mi.k; i++)
        free(mi.vocab[i]);
    free(mi.vocab);
    return rc;
}
