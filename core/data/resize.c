/* data/resize: anti-aliased separable resampling of uint8 images, and the fitted size of each
 * resize method. The filter follows Pillow's: when shrinking by s the kernel (triangle for
 * bilinear, box for area) is widened by s, so every source pixel contributes and large
 * down-scales do not alias; when enlarging it is plain bilinear interpolation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/internal.h"

void dl_fit_size(int w, int h, int size, dl_resize_method m, int *fw, int *fh)
{
    if (m == DL_RESIZE_SQUISH) {
        *fw = *fh = size;
        return;
    }
    /* crop: short side becomes size; pad: long side becomes size. */
    bool w_ref = (m == DL_RESIZE_CROP) ? (w <= h) : (w >= h);
    if (w_ref) {
        *fw = size;
        *fh = (int)lround((double)h * size / w);
    } else {
        *fh = size;
        *fw = (int)lround((double)w * size / h);
    }
    if (*fw < 1)
        *fw = 1;
    if (*fh < 1)
        *fh = 1;
}

typedef struct taps {
    int *start, *count;
    float *w; /* out x kmax */
    int kmax;
} taps;

static float tri(float x) { x = fabsf(x); return x < 1.0f ? 1.0f - x : 0.0f; }
static float box(float x) { return (x >= -0.5f && x < 0.5f) ? 1.0f : 0.0f; }

static bool make_taps(taps *t, int in, int out, bool area)
{
    double scale = (double)in / out;
    double fs = scale > 1.0 ? scale : 1.0;
    double support = (area ? 0.5 : 1.0) * fs;
    t->kmax = (int)ceil(support) * 2 + 1;
    t->start = malloc(sizeof(int) * out);
    t->count = malloc(sizeof(int) * out);
    t->w = malloc(sizeof(float) * out * t->kmax);
    if (!t->start || !t->count || !t->w)
        return false;
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        if (hi - lo > t->kmax)
            hi = lo + t->kmax;
        float *w = t->w + (size_t)i * t->kmax;
        double sum = 0;
        for (int k = lo; k < hi; k++) {
            float x = (float)((k - center + 0.5) / fs);
            w[k - lo] = area ? box(x) : tri(x);
            sum += w[k - lo];
        }
        if (sum <= 0) { /* degenerate: nearest pixel */
            int k = (int)center;
            lo = k < in ? k : in - 1;
            hi = lo + 1;
            w[0] = 1;
            sum = 1;
        }
        for (int k = 0; k < hi - lo; k++)
            w[k] = (float)(w[k] / sum);
        t->start[i] = lo;
        t->count[i] = hi - lo;
    }
    return true;
}

static void free_taps(taps *t)
{
    free(t->start);
    free(t->count);
    free(t->w);
}

void dl_img_resize(const dl_img *src, dl_img *dst, bool area)
{
    int c = src->c, ow = dst->w, oh = dst->h;
    if (src->w == ow && src->h == oh) {
        memcpy(dst->px, src->px, (size_t)ow * oh * c);
        return;
    }
    taps tx = {0}, ty = {0};
    float *tmp = malloc(sizeof(float) * (size_t)src->h * ow * c);
    if (!tmp || !make_taps(&tx, src->w, ow, area) || !make_taps(&ty, src->h, oh, area)) {
        memset(dst->px, 0, (size_t)ow * oh * c); /* only on allocation failure */
        free(tmp);
        free_taps(&tx);
        free_taps(&ty);
        return;
    }
    /* Horizontal pass: src rows -> tmp (h x ow x c). */
    for (int y = 0; y < src->h; y++) {
        const uint8_t *row = src->px + (size_t)y * src->w * c;
        float *o = tmp + (size_t)y * ow * c;
        for (int x = 0; x < ow; x++) {
            const float *w = tx.w + (size_t)x * tx.kmax;
            const uint8_t *s = row + (size_t)tx.start[x] * c;
            int n = tx.count[x];
            if (c == 3) {
                float a = 0, b = 0, d = 0;
                for (int k = 0; k < n; k++) {
                    a += w[k] * s[3 * k];
                    b += w[k] * s[3 * k + 1];
                    d += w[k] * s[3 * k + 2];
                }
                o[3 * x] = a;
                o[3 * x + 1] = b;
                o[3 * x + 2] = d;
            } else {
                for (int ch = 0; ch < c; ch++) {
                    float a = 0;
                    for (int k = 0; k < n; k++)
                        a += w[k] * s[c * k + ch];
                    o[c * x + ch] = a;
                }
            }
        }
    }
    /* Vertical pass: tmp -> dst, rounding and clamping to uint8 (row-wise for locality). */
    size_t rowlen = (size_t)ow * c;
    float *acc = malloc(sizeof(float) * rowlen);
    for (int y = 0; acc && y < oh; y++) {
        const float *w = ty.w + (size_t)y * ty.kmax;
        const float *s = tmp + (size_t)ty.start[y] * rowlen;
        int n = ty.count[y];
        for (size_t i = 0; i < rowlen; i++)
            acc[i] = 0.5f;
        for (int k = 0; k < n; k++) {
            const float *r = s + (size_t)k * rowlen;
            float wk = w[k];
            for (size_t i = 0; i < rowlen; i++)
                acc[i] += wk * r[i];
        }
        uint8_t *o = dst->px + (size_t)y * rowlen;
        for (size_t i = 0; i < rowlen; i++)
            o[i] = acc[i] <= 0 ? 0 : acc[i] >= 255 ? 255 : (uint8_t)acc[i];
    }
    free(acc);
    free(tmp);
    free_taps(&tx);
    free_taps(&ty);
}
