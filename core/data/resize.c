/* data/resize: anti-aliased separable resampling of uint8 images, and the fitted size of each
 * resize method. The filter follows Pillow's: when shrinking by s the kernel (triangle for
 * bilinear, box for area) is widened by s, so every source pixel contributes and large
 * down-scales do not alias; when enlarging it is plain bilinear interpolation.
 * Fixed point (as Pillow): weights in Q14 summing exactly to 1, the vertical pass first (its
 * rows are contiguous, so it vectorises, and it leaves fewer rows for the horizontal pass), an
 * intermediate row kept as uint16 with 7 extra fraction bits so the two roundings cost < 0.01
 * level. Buffers come from per-thread scratch (dl_scratch): no malloc per image in steady state. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/data/internal.h"
void dl_fit_size(int w, int h, int size, dl_resize_method m, int *fw, int *fh)
{
    if (m == DL_RESIZE_SQUISH) {
        *fw = *fh = size;
        return;
    }
    /* crop: short side becomes size; pad: long side becomes size. */
    bool w_ref = (m == DL_RESIZE_CROP) ? (w <= h) : (w >= h);
    double other = w_ref ? (double)h * size / w : (double)w * size / h;
    int o = other < INT_MAX ? (int)lround(other) : INT_MAX; /* dl_fit_check refuses such sizes */
    *fw = w_ref ? size : o;
    *fh = w_ref ? o : size;
    if (*fw < 1)
        *fw = 1;
    if (*fh < 1)
        *fh = 1;
}

void dl_crop_box(int w, int h, int size, double pct_x, double pct_y, int *x, int *y, int *cw,
                 int *ch)
{
    /* fastai's Resize(method=crop) in the same double arithmetic as its Python, so the integer
     * box is the same: m = min(w/size, h/size); crop (int(m*size))^2 at int(pct*(w-cw)). */
    double m = (double)w / size < (double)h / size ? (double)w / size : (double)h / size;
    *cw = (int)(m * size);
    *ch = (int)(m * size);
    if (*cw < 1)
        *cw = 1;
    if (*ch < 1)
        *ch = 1;
    *x = (int)(pct_x * (w - *cw));
    *y = (int)(pct_y * (h - *ch));
}

/* ---- per-thread scratch ---- */
typedef struct scratch {
    void *p[DL_SCRATCH_SLOTS];
    size_t cap[DL_SCRATCH_SLOTS];
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *v)
{
    scratch *s = v;
    for (int i = 0; i < DL_SCRATCH_SLOTS; i++)
        free(s->p[i]);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

void *dl_scratch(int slot, size_t bytes)
{
    pthread_once(&scratch_once, scratch_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (bytes > s->cap[slot]) {
        size_t cap = bytes + bytes / 4 + 64; /* headroom: sizes vary a little image to image */
        void *p = malloc(cap);
        if (!p)
            return NULL;
        free(s->p[slot]);
        s->p[slot] = p;
        s->cap[slot] = cap;
    }
    return s->p[slot];
}

/* ---- filter taps ---- */
#define PREC 14 /* weight fraction bits */
#define MID 7   /* extra fraction bits of the intermediate image */

typedef struct taps {
    int *start, *count;
    int32_t *w;   /* out x kmax, Q14 */
    int16_t *w16; /* the same as int16: a pair of taps loads as one 32-bit word for pmaddwd */
    int kmax;
} taps;

static double tri(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}
static double box(double x) { return (x >= -0.5 && x < 0.5) ? 1.0 : 0.0; }

/* Taps of out pixels sampling the source span [in0, in0 + len) of a row of in pixels, as Pillow's
 * precompute_coeffs with a box; taps stay inside the span's outer whole pixels, so an integer box
 * is exactly a crop followed by the resize. */
static bool make_taps(taps *t, int in, double in0, double len, int out, bool area, int slot)
{
    double scale = len / out;
    int span_lo = (int)floor(in0), span_hi = (int)ceil(in0 + len);
    if (span_lo < 0)
        span_lo = 0;
    if (span_hi > in)
        span_hi = in;
    double fs = scale > 1.0 ? scale : 1.0;
    double support = (area ? 0.5 : 1.0) * fs;
    /* even, with at least one zero tap at the end: the vector passes take taps in pairs */
    t->kmax = (int)ceil(support) * 2 + 2;
    size_t ints = 2 * (size_t)out + (size_t)out * t->kmax + (size_t)out * t->kmax / 2;
    ints += ints & 1; /* keep the doubles after the ints aligned */
    int *mem = dl_scratch(slot, sizeof(int32_t) * ints + sizeof(double) * t->kmax);
    if (!mem)
        return false;
    t->start = mem;
    t->count = mem + out;
    t->w = mem + 2 * (size_t)out;
    t->w16 = (int16_t *)(t->w + (size_t)out * t->kmax);
    double *wd = (double *)(mem + ints);
    for (int i = 0; i < out; i++) {
        double center = in0 + (i + 0.5) * scale;
        int lo = (int)floor(center - support + 0.5);
        int hi = (int)floor(center + support + 0.5);
        if (lo < span_lo)
            lo = span_lo;
        if (hi > span_hi)
            hi = span_hi;
        if (hi - lo > t->kmax - 1)
            hi = lo + t->kmax - 1;
        double sum = 0;
        for (int k = lo; k < hi; k++) {
            double x = (k - center + 0.5) / fs;
            wd[k - lo] = area ? box(x) : tri(x);
            sum += wd[k - lo];
        }
        if (sum <= 0) { /* degenerate: nearest pixel */
            int k = (int)center;
            lo = k < span_hi ? k : span_hi - 1;
            hi = lo + 1;
            wd[0] = 1;
            sum = 1;
        }
        /* Quantise, then give the rounding residue to the largest tap: the weights sum to
         * exactly 1 << PREC, so a flat image stays flat to the level. */
        int32_t *w = t->w + (size_t)i * t->kmax, isum = 0;
        memset(w, 0, sizeof(int32_t) * t->kmax);
        int big = 0;
        for (int k = 0; k < hi - lo; k++) {
            w[k] = (int32_t)lround(wd[k] / sum * (1 << PREC));
            isum += w[k];
            if (w[k] > w[big])
                big = k;
        }
        w[big] += (1 << PREC) - isum;
        for (int k = 0; k < t->kmax; k++) /* Q14 weights lie in [0, 16384]: they fit */
            t->w16[(size_t)i * t->kmax + k] = (int16_t)w[k];
        t->start[i] = lo;
        t->count[i] = hi - lo;
    }
    return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_VROW_AVX2 1
/* The vertical pass with AVX2, 16 bytes of two source rows at a time: their bytes interleaved
 * and widened to int16 so one vpmaddwd applies both rows' weights (where the generic loop
 * needs a 32-bit multiply per byte and row). Same integer arithmetic, same result. Returns
 * how many bytes it did (a multiple of 16); the caller finishes the row. */
static inline int32_t tap_pair(const int16_t *w16)
{
    int32_t p;
    memcpy(&p, w16, sizeof p);
    return p;
}

__attribute__((target("avx2"))) static size_t
vrow_avx2(const uint8_t *restrict s, size_t rowlen, const int16_t *w16, int n, uint16_t *restrict o)
{
    const __m256i rnd = _mm256_set1_epi32(1 << (PREC - MID - 1));
    size_t i = 0;
    for (; i + 16 <= rowlen; i += 16) {
        __m256i a0 = rnd, a1 = rnd;
        for (int k = 0; k < n; k += 2) { /* w[n] is 0 (make_taps pads) */
            const uint8_t *r0 = s + (size_t)k * rowlen + i, *r1 = k + 1 < n ? r0 + rowlen : r0;
            __m256i wp = _mm256_set1_epi32(tap_pair(w16 + k));
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)r0);
            __m128i y = _mm_loadu_si128((const __m128i *)(const void *)r1);
            a0 = _mm256_add_epi32(
                a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x, y)), wp));
            a1 = _mm256_add_epi32(
                a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(x, y)), wp));
        }
        a0 = _mm256_srai_epi32(a0, PREC - MID);
        a1 = _mm256_srai_epi32(a1, PREC - MID);
        /* packus works per 128-bit lane: reorder the 64-bit quarters back into byte order */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a0, a1), 0xD8);
        _mm256_storeu_si256((__m256i *)(void *)(o + i), p);
    }
    return i;
}
#endif

/* Vertical pass: n source rows (stride rowlen bytes) weighted into one intermediate row. */
DL_DATA_HOT static void vrow(const uint8_t *restrict s, size_t rowlen, const int32_t *w,
                             const int16_t *w16, int n, int32_t *restrict acc, uint16_t *restrict o)
{
#ifdef HAVE_VROW_AVX2
    if (__builtin_cpu_supports("avx2")) {
        size_t done = vrow_avx2(s, rowlen, w16, n, o);
        s += done;
        o += done;
        rowlen -= done; /* the rest: the generic loop below, with the source stride kept */
        for (size_t i = 0; i < rowlen; i++) {
            int32_t a = 1 << (PREC - MID - 1);
            for (int k = 0; k < n; k++)
                a += w[k] * (int32_t)s[(size_t)k * (rowlen + done) + i];
            o[i] = (uint16_t)(a >> (PREC - MID));
        }
        return;
    }
#endif
    for (size_t i = 0; i < rowlen; i++)
        acc[i] = 1 << (PREC - MID - 1);
    for (int k = 0; k < n; k++) {
        const uint8_t *r = s + (size_t)k * rowlen;
        int32_t wk = w[k];
        for (size_t i = 0; i < rowlen; i++)
            acc[i] += wk * (int32_t)r[i];
    }
    for (size_t i = 0; i < rowlen; i++)
        o[i] = (uint16_t)(acc[i] >> (PREC - MID));
}

static inline uint8_t clamp8(int32_t v)
{
    v >>= PREC + MID;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

#ifdef __SSE2__
/* RGB with SSE2 (baseline on x86-64): two taps per step, the two pixels' channels interleaved
 * so one pmaddwd multiplies and pairs them (values < 2^15 and Q14 weights fit int16). Reads
 * up to 8 bytes past a row's last pixel: the scratch row has that much headroom, and those
 * lanes are either the unused fourth lane or weighted 0. */
static void hrow_rgb_sse2(const uint16_t *restrict r, const taps *t, int ow, uint8_t *restrict o)
{
    const __m128i half = _mm_set1_epi32(1 << (PREC + MID - 1));
    for (int x = 0; x < ow; x++) {
        const int32_t *w = t->w + (size_t)x * t->kmax;
        const uint16_t *s = r + (size_t)t->start[x] * 3;
        __m128i acc = half;
        int n = t->count[x], k = 0;
        for (; k < n; k += 2) { /* w[n] is 0 (make_taps pads) */
            int32_t w1 = w[k + 1];
            __m128i a = _mm_loadl_epi64((const __m128i *)(const void *)(s + 3 * k));
            __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(s + 3 * k + 3));
            __m128i wp = _mm_set1_epi32((int32_t)((uint32_t)w1 << 16 | (uint32_t)w[k]));
            acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpacklo_epi16(a, b), wp));
        }
        acc = _mm_srai_epi32(acc, PREC + MID);
        acc = _mm_packus_epi16(_mm_packs_epi32(acc, acc), acc);
        uint32_t px = (uint32_t)_mm_cvtsi128_si32(acc);
        o[3 * x] = (uint8_t)px;
        o[3 * x + 1] = (uint8_t)(px >> 8);
        o[3 * x + 2] = (uint8_t)(px >> 16);
    }
}
#endif

#ifdef HAVE_VROW_AVX2
/* RGB with AVX2: two output pixels at a time, one per 128-bit lane, each as hrow_rgb_sse2. The
 * shorter filter runs on over zero weights (make_taps zero-pads each row of taps); its reads stay
 * within the row + the headroom because start[x] + count[x+1] <= start[x+1] + count[x+1] <= w.
 * Returns the number of pixels done. */
__attribute__((target("avx2"))) static int hrow_rgb_avx2(const uint16_t *restrict r, const taps *t,
                                                         int ow, uint8_t *restrict o)
{
    const __m256i half = _mm256_set1_epi32(1 << (PREC + MID - 1));
    int x = 0;
    for (; x + 2 <= ow; x += 2) {
        const int16_t *w0 = t->w16 + (size_t)x * t->kmax, *w1 = w0 + t->kmax;
        const uint16_t *s0 = r + (size_t)t->start[x] * 3, *s1 = r + (size_t)t->start[x + 1] * 3;
        int n = t->count[x] > t->count[x + 1] ? t->count[x] : t->count[x + 1];
        __m256i acc = half;
        for (int k = 0; k < n; k += 2) {
            __m128i a0 = _mm_loadl_epi64((const __m128i *)(const void *)(s0 + 3 * k));
            __m128i b0 = _mm_loadl_epi64((const __m128i *)(const void *)(s0 + 3 * k + 3));
            __m128i a1 = _mm_loadl_epi64((const __m128i *)(const void *)(s1 + 3 * k));
            __m128i b1 = _mm_loadl_epi64((const __m128i *)(const void *)(s1 + 3 * k + 3));
            __m256i px = _mm256_set_m128i(_mm_unpacklo_epi16(a1, b1), _mm_unpacklo_epi16(a0, b0));
            __m256i wp = _mm256_set_m128i(_mm_set1_epi32(tap_pair(w1 + k)),
                                          _mm_set1_epi32(tap_pair(w0 + k)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(px, wp));
        }
        acc = _mm256_srai_epi32(acc, PREC + MID);
        acc = _mm256_packs_epi32(acc, acc);
        acc = _mm256_packus_epi16(acc, acc);
        uint64_t p0 = (uint32_t)_mm256_extract_epi32(acc, 0) & 0xFFFFFFu,
                 p1 = (uint32_t)_mm256_extract_epi32(acc, 4);
        uint64_t two = p0 | p1 << 24;
        if (3 * x + 8 <= 3 * ow) /* 8-byte store; bytes 6-7 are the next pair's, written after */
            memcpy(o + 3 * x, &two, 8);
        else
            memcpy(o + 3 * x, &two, 6);
    }
    return x;
}
#endif

/* Horizontal pass: one intermediate row (w pixels of c channels) into ow output pixels. */
static void hrow(const uint16_t *restrict r, int c, const taps *t, int ow, uint8_t *restrict o)
{
    const int32_t half = 1 << (PREC + MID - 1);
#ifdef HAVE_VROW_AVX2
    if (c == 3 && __builtin_cpu_supports("avx2")) {
        int done = hrow_rgb_avx2(r, t, ow, o);
        taps rest = {t->start + done, t->count + done, t->w + (size_t)done * t->kmax,
                     t->w16 + (size_t)done * t->kmax, t->kmax};
        hrow_rgb_sse2(r, &rest, ow - done, o + 3 * done);
        return;
    }
#endif
#ifdef __SSE2__
    if (c == 3) {
        hrow_rgb_sse2(r, t, ow, o);
        return;
    }
#endif
    if (c == 3) {
        for (int x = 0; x < ow; x++) {
            const int32_t *w = t->w + (size_t)x * t->kmax;
            const uint16_t *s = r + (size_t)t->start[x] * 3;
            int32_t a = half, b = half, d = half;
            for (int k = 0, n = t->count[x]; k < n; k++) {
                a += w[k] * s[3 * k];
                b += w[k] * s[3 * k + 1];
                d += w[k] * s[3 * k + 2];
            }
            o[3 * x] = clamp8(a);
            o[3 * x + 1] = clamp8(b);
            o[3 * x + 2] = clamp8(d);
        }
        return;
    }
    for (int x = 0; x < ow; x++) {
        const int32_t *w = t->w + (size_t)x * t->kmax;
        const uint16_t *s = r + (size_t)t->start[x] * c;
        for (int ch = 0; ch < c; ch++) {
            int32_t a = half;
            for (int k = 0, n = t->count[x]; k < n; k++)
                a += w[k] * s[c * k + ch];
            o[c * x + ch] = clamp8(a);
        }
    }
}

void dl_img_resize(const dl_img *src, dl_img *dst, bool area)
{
    dl_img_resize_box(src, 0, 0, src->w, src->h, dst, area);
}

void dl_img_resize_box(const dl_img *src, double x0, double y0, double bw, double bh, dl_img *dst,
                       bool area)
{
    int c = src->c, ow = dst->w, oh = dst->h;
    if (src->w == ow && src->h == oh && x0 == 0 && y0 == 0 && bw == ow && bh == oh) {
        memcpy(dst->px, src->px, (size_t)ow * oh * c);
        return;
    }
    taps tx, ty;
    size_t rowlen = (size_t)src->w * c;
    uint16_t *tmp =
        dl_scratch(DL_SCRATCH_RESIZE_TMP, sizeof(uint16_t) * (rowlen + 8)); /* + SSE2 overread */
    int32_t *acc = dl_scratch(DL_SCRATCH_RESIZE_ACC, sizeof(int32_t) * rowlen);
    if (!tmp || !acc || !make_taps(&tx, src->w, x0, bw, ow, area, DL_SCRATCH_TAPS_X) ||
        !make_taps(&ty, src->h, y0, bh, oh, area, DL_SCRATCH_TAPS_Y)) {
        memset(dst->px, 0, (size_t)ow * oh * c); /* only on allocation failure */
        return;
    }
    memset(tmp + rowlen, 0,
           sizeof(uint16_t) * 8); /* the headroom the vector passes read (weighted 0) */
    for (int y = 0; y < oh; y++) {
        vrow(src->px + (size_t)ty.start[y] * rowlen, rowlen, ty.w + (size_t)y * ty.kmax,
             ty.w16 + (size_t)y * ty.kmax, ty.count[y], acc, tmp);
        hrow(tmp, c, &tx, ow, dst->px + (size_t)y * ow * c);
    }
}

const char *dl_resize_name(dl_resize_method m)
{
    static const char *const names[] = {"crop", "pad", "pad-zeros", "squish"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}
