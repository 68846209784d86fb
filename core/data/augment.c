/* data/augment: per-item random parameters (fastai aug_transforms defaults) and the one-pass
 * renderer that takes the size x size window of a fitted uint8 image, applies flip, rotation,
 * zoom, perspective warp and random resized crop as a single bilinear resampling (reflection
 * padding, align_corners=True as fastai), then lighting in logit space and normalisation.
 * Randomness comes only from dl_rng_seed(seed, epoch, item), never from thread timing.
 * Speed: each output row goes through small passes GCC vectorises (window coordinates,
 * branch-free reflection, table lighting + normalisation); the bilinear gather of RGB rows and
 * the lighting tables use AVX2 gathers when the CPU has them (chosen at run time, scalar
 * otherwise); row buffers come from the per-thread scratch, so no malloc per image. */
#include <math.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "core/data/internal.h"
#include "core/rng.h"

static float unif(dl_rng *r, float a, float b) { return a + (b - a) * dl_rng_uniform(r); }

void dl_aug_draw(dl_aug_params *p, uint64_t seed, uint64_t epoch, uint64_t item, bool train,
                 bool aug, float min_scale)
{
    memset(p, 0, sizeof *p);
    p->u_x = p->u_y = 0.5f;
    p->zoom = 1.0f;
    p->rrc_scale = 1.0f;
    p->rrc_ratio = 1.0f;
    p->bright = 0.5f;
    p->contrast = 1.0f;
    if (!train)
        return;
    dl_rng r;
    dl_rng_seed(&r, seed, epoch, item);
    /* Resize places its window at random on the train split, with or without augmentation. */
    p->u_x = dl_rng_uniform(&r);
    p->u_y = dl_rng_uniform(&r);
    if (!aug)
        return;
    const float p_affine = 0.75f, p_light = 0.75f;
    p->flip = dl_rng_uniform(&r) < 0.5f;
    if (dl_rng_uniform(&r) < p_affine)
        p->rot_deg = unif(&r, -10.0f, 10.0f);
    if (dl_rng_uniform(&r) < p_affine) {
        p->zoom = unif(&r, 1.0f, 1.1f);
        p->zoom_cx = dl_rng_uniform(&r);
        p->zoom_cy = dl_rng_uniform(&r);
    }
    if (dl_rng_uniform(&r) < p_affine) {
        p->warp_x = unif(&r, -0.2f, 0.2f);
        p->warp_y = unif(&r, -0.2f, 0.2f);
    }
    if (min_scale < 1.0f) { /* RandomResizedCrop: 10 tries, else the whole window */
        for (int t = 0; t < 10; t++) {
            float a = unif(&r, min_scale, 1.0f);
            float ratio = expf(unif(&r, logf(3.0f / 4.0f), logf(4.0f / 3.0f)));
            float fw = sqrtf(a * ratio), fh = sqrtf(a / ratio);
            if (fw <= 1.0f && fh <= 1.0f) {
                p->rrc_scale = fh;
                p->rrc_ratio = fw / fh;
                p->rrc_cx = (1.0f - fw) * (2.0f * dl_rng_uniform(&r) - 1.0f);
                p->rrc_cy = (1.0f - fh) * (2.0f * dl_rng_uniform(&r) - 1.0f);
                break;
            }
        }
    }
    if (dl_rng_uniform(&r) < p_light)
        p->bright = unif(&r, 0.4f, 0.6f);
    if (dl_rng_uniform(&r) < p_light)
        p->contrast = expf(unif(&r, logf(0.8f), -logf(0.8f)));
    p->affine = p->flip || p->rot_deg != 0 || p->zoom != 1 || p->warp_x != 0 || p->warp_y != 0 ||
                p->rrc_scale != 1.0f;
    p->lighting = p->bright != 0.5f || p->contrast != 1.0f;
}

/* Reflection of x into [0, n-1] (align_corners reflection, period 2(n-1)). */
static float reflectf(float x, int n)
{
    if (n <= 1)
        return 0;
    float span = (float)(n - 1);
    x = fabsf(x);
    float period = 2 * span;
    x = fmodf(x, period);
    return x > span ? period - x : x;
}

static int reflecti(int i, int n)
{
    if (n <= 1)
        return 0;
    int period = 2 * (n - 1);
    i = i < 0 ? -i : i;
    i %= period;
    return i >= n ? period - i : i;
}

/* Pixel (x, y) channel ch of the fitted image, with the resize method's padding outside it. */
static inline float px_at(const dl_img *im, int x, int y, int ch, dl_resize_method m)
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) {
        if (m == DL_RESIZE_PAD_ZEROS)
            return 0;
        if (m == DL_RESIZE_PAD_REFLECT) {
            x = reflecti(x, im->w);
            y = reflecti(y, im->h);
        } else {
            x = x < 0 ? 0 : x >= im->w ? im->w - 1 : x;
            y = y < 0 ? 0 : y >= im->h ? im->h - 1 : y;
        }
    }
    return im->px[((size_t)y * im->w + x) * im->c + ch];
}

/* Solves the 8 perspective coefficients mapping src[i] to dst[i] (Gaussian elimination). */
static void perspective_coeffs(const float src[4][2], const float dst[4][2], double c[8])
{
    double a[8][9];
    for (int i = 0; i < 4; i++) {
        double x = src[i][0], y = src[i][1], u = dst[i][0], v = dst[i][1];
        double r1[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
        double r2[9] = {0, 0, 0, x, y, 1, -v * x, -v * y, v};
        memcpy(a[2 * i], r1, sizeof r1);
        memcpy(a[2 * i + 1], r2, sizeof r2);
    }
    for (int col = 0; col < 8; col++) {
        int piv = col;
        for (int r = col + 1; r < 8; r++)
            if (fabs(a[r][col]) > fabs(a[piv][col]))
                piv = r;
        if (piv != col)
            for (int k = 0; k < 9; k++) {
                double t = a[col][k];
                a[col][k] = a[piv][k];
                a[piv][k] = t;
            }
        for (int r = 0; r < 8; r++) {
            if (r == col || a[col][col] == 0)
                continue;
            double f = a[r][col] / a[col][col];
            for (int k = col; k < 9; k++)
                a[r][k] -= f * a[col][k];
        }
    }
    for (int i = 0; i < 8; i++)
        c[i] = a[i][i] == 0 ? 0 : a[i][8] / a[i][i];
}

static float logitf(float x)
{
    x = x < 1e-7f ? 1e-7f : x > 1 - 1e-7f ? 1 - 1e-7f : x;
    return logf(x / (1 - x));
}

/* ---- the render, one output row at a time, in passes simple enough for GCC to vectorise ---- */

/* Window coordinates (before reflection) of one output row: grid point (ax, ay) in [-1,1],
 * through the perspective warp when wc is set, then the composed affine map a. */
DL_DATA_HOT static void row_window(int size, float x0, float step, float ay, const float *wc,
                                   const float a[6], float *restrict wx, float *restrict wy)
{
    if (wc) {
        for (int x = 0; x < size; x++) {
            float ax = step * x + x0;
            float d = wc[6] * ax + wc[7] * ay + 1;
            float ux = (wc[0] * ax + wc[1] * ay + wc[2]) / d,
                  uy = (wc[3] * ax + wc[4] * ay + wc[5]) / d;
            wx[x] = a[0] * ux + a[1] * uy + a[4];
            wy[x] = a[2] * ux + a[3] * uy + a[5];
        }
    } else {
        for (int x = 0; x < size; x++) {
            float ax = step * x + x0;
            wx[x] = a[0] * ax + a[1] * ay + a[4];
            wy[x] = a[2] * ax + a[3] * ay + a[5];
        }
    }
}

/* Reflection padding inside the window (one fold each side, branch-free). Returns true when
 * some coordinate lies more than one window away and needs the general reflection (only under
 * extreme warps). */
DL_DATA_HOT static bool row_reflect(int n, float span, float *restrict v)
{
    int far = 0;
    for (int x = 0; x < n; x++) {
        float t = fabsf(v[x]);
        t = t > span ? 2 * span - t : t;
        far |= t < 0;
        v[x] = t;
    }
    return far;
}

/* Bilinear sample of the fitted image at (fxs, fys) into v0[x] (grey) or v0..v2[x] (RGB), with
 * the resize method's padding for taps outside the image. */
static inline void sample_px(const dl_img *im, dl_resize_method m, int x, float fxs, float fys,
                             float *restrict v0, float *restrict v1, float *restrict v2)
{
    const int w = im->w, h = im->h, c = im->c;
    const size_t stride = (size_t)w * c;
    int x0 = (int)fxs, y0 = (int)fys; /* floor without a libm call */
    x0 -= fxs < (float)x0;
    y0 -= fys < (float)y0;
    float fx = fxs - x0, fy = fys - y0;
    if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        const uint8_t *q = im->px + (size_t)y0 * stride + (size_t)x0 * c;
        if (c == 3) {
            float t0 = q[0] + fx * (q[3] - q[0]), b0 = q[stride] + fx * (q[stride + 3] - q[stride]);
            float t1 = q[1] + fx * (q[4] - q[1]),
                  b1 = q[stride + 1] + fx * (q[stride + 4] - q[stride + 1]);
            float t2 = q[2] + fx * (q[5] - q[2]),
                  b2 = q[stride + 2] + fx * (q[stride + 5] - q[stride + 2]);
            v0[x] = t0 + fy * (b0 - t0);
            v1[x] = t1 + fy * (b1 - t1);
            v2[x] = t2 + fy * (b2 - t2);
        } else {
            float t0 = q[0] + fx * (q[1] - q[0]), b0 = q[stride] + fx * (q[stride + 1] - q[stride]);
            v0[x] = t0 + fy * (b0 - t0);
        }
        return;
    }
    float *vv[3] = {v0, v1, v2};
    for (int ch = 0; ch < c; ch++) {
        float t = px_at(im, x0, y0, ch, m) +
                  fx * (px_at(im, x0 + 1, y0, ch, m) - px_at(im, x0, y0, ch, m));
        float b = px_at(im, x0, y0 + 1, ch, m) +
                  fx * (px_at(im, x0 + 1, y0 + 1, ch, m) - px_at(im, x0, y0 + 1, ch, m));
        vv[ch][x] = t + fy * (b - t);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_SAMPLE_AVX2 1
/* RGB, 8 output pixels at a time: one AVX2 gather of 4 bytes per corner fetches a corner's 3
 * channels for 8 pixels (where the scalar loop spends 12 loads and 12 conversions per pixel).
 * A group with any tap outside the image, or whose last gather would read past the buffer's
 * end, goes through sample_px. */
__attribute__((target("avx2,fma"))) static void
row_sample_rgb_avx2(const dl_img *im, dl_resize_method m, int n, const float *ix, const float *iy,
                    int offx, int offy, float *restrict v0, float *restrict v1, float *restrict v2)
{
    const int w = im->w, h = im->h, stride = 3 * w;
    const __m256 ox = _mm256_set1_ps((float)offx), oy = _mm256_set1_ps((float)offy);
    const __m256i wlim = _mm256_set1_epi32(w - 1), hlim = _mm256_set1_epi32(h - 1),
                  neg = _mm256_set1_epi32(-1);
    const __m256i vs = _mm256_set1_epi32(stride), three = _mm256_set1_epi32(3),
                  ff = _mm256_set1_epi32(0xff);
    const __m256i vs3 = _mm256_set1_epi32(stride + 3);
    /* the bottom-right gather reads bytes idx + stride + 3 .. idx + stride + 6 */
    const __m256i end = _mm256_set1_epi32(stride * h - stride - 6);
    const int *base = (const int *)(const void *)im->px;
    int x = 0;
    for (; x + 8 <= n; x += 8) {
        __m256 fxs = _mm256_add_ps(_mm256_loadu_ps(ix + x), ox),
               fys = _mm256_add_ps(_mm256_loadu_ps(iy + x), oy);
        __m256 flx = _mm256_floor_ps(fxs), fly = _mm256_floor_ps(fys);
        __m256i x0 = _mm256_cvttps_epi32(flx), y0 = _mm256_cvttps_epi32(fly);
        __m256i ok = _mm256_and_si256(_mm256_cmpgt_epi32(x0, neg), _mm256_cmpgt_epi32(wlim, x0));
        ok = _mm256_and_si256(
            ok, _mm256_and_si256(_mm256_cmpgt_epi32(y0, neg), _mm256_cmpgt_epi32(hlim, y0)));
        __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(y0, vs), _mm256_mullo_epi32(x0, three));
        ok = _mm256_and_si256(ok, _mm256_cmpgt_epi32(end, idx));
        if (_mm256_movemask_epi8(ok) != -1) {
            for (int k = x; k < x + 8; k++)
                sample_px(im, m, k, ix[k] + offx, iy[k] + offy, v0, v1, v2);
            continue;
        }
        __m256 fx = _mm256_sub_ps(fxs, flx), fy = _mm256_sub_ps(fys, fly);
        __m256i g00 = _mm256_i32gather_epi32(base, idx, 1);
        __m256i g10 = _mm256_i32gather_epi32(base, _mm256_add_epi32(idx, three), 1);
        __m256i g01 = _mm256_i32gather_epi32(base, _mm256_add_epi32(idx, vs), 1);
        __m256i g11 = _mm256_i32gather_epi32(base, _mm256_add_epi32(idx, vs3), 1);
#define CHAN(SH, OUT)                                                                              \
    do {                                                                                           \
        __m256 a = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g00, SH), ff));           \
        __m256 b = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g10, SH), ff));           \
        __m256 c = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g01, SH), ff));           \
        __m256 d = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g11, SH), ff));           \
        __m256 t = _mm256_fmadd_ps(fx, _mm256_sub_ps(b, a), a),                                    \
               u = _mm256_fmadd_ps(fx, _mm256_sub_ps(d, c), c);                                    \
        _mm256_storeu_ps((OUT) + x, _mm256_fmadd_ps(fy, _mm256_sub_ps(u, t), t));                  \
    } while (0)
        CHAN(0, v0);
        CHAN(8, v1);
        CHAN(16, v2);
#undef CHAN
    }
    for (; x < n; x++)
        sample_px(im, m, x, ix[x] + offx, iy[x] + offy, v0, v1, v2);
}
#endif

/* Bilinear samples of the fitted image at window points (ix, iy) + the window's offset. */
static void row_sample(const dl_img *im, dl_resize_method m, int n, const float *ix,
                       const float *iy, int offx, int offy, float *restrict v0, float *restrict v1,
                       float *restrict v2)
{
#ifdef HAVE_SAMPLE_AVX2
    if (im->c == 3 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        row_sample_rgb_avx2(im, m, n, ix, iy, offx, offy, v0, v1, v2);
        return;
    }
#endif
    for (int x = 0; x < n; x++)
        sample_px(im, m, x, ix[x] + offx, iy[x] + offy, v0, v1, v2);
}

/* Lighting (a 257-entry table over [0,1], linearly interpolated, normalisation folded in). */
DL_DATA_HOT static void row_light(int n, const float *v, const float *lut, const float *slope,
                                  float *restrict o)
{
    for (int x = 0; x < n; x++) {
        float t = v[x] * (256.0f / 255.0f);
        int i = (int)t;
        i = i < 0 ? 0 : i > 255 ? 255 : i;
        o[x] = lut[i] + (t - i) * slope[i];
    }
}

#ifdef HAVE_SAMPLE_AVX2
/* The same with AVX2 gathers from the two tables (GCC's own vectorisation of row_light
 * emulates the gathers with scalar loads). */
__attribute__((target("avx2,fma"))) static void
row_light_avx2(int n, const float *v, const float *lut, const float *slope, float *restrict o)
{
    const __m256 k = _mm256_set1_ps(256.0f / 255.0f);
    const __m256i lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(255);
    int x = 0;
    for (; x + 8 <= n; x += 8) {
        __m256 t = _mm256_mul_ps(_mm256_loadu_ps(v + x), k);
        __m256i i = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvttps_epi32(t), lo), hi);
        __m256 f = _mm256_sub_ps(t, _mm256_cvtepi32_ps(i));
        __m256 a = _mm256_i32gather_ps(lut, i, 4), b = _mm256_i32gather_ps(slope, i, 4);
        _mm256_storeu_ps(o + x, _mm256_fmadd_ps(f, b, a));
    }
    row_light(n - x, v + x, lut, slope, o + x);
}
#endif

DL_DATA_HOT static void row_norm(int n, const float *v, float scale, float shift, float *restrict o)
{
    for (int x = 0; x < n; x++)
        o[x] = v[x] * scale + shift;
}

/* Plain window copy + normalisation of a row lying inside the image (no augmentation). */
DL_DATA_HOT static void row_copy(int n, const uint8_t *s, int c, float scale, float shift,
                                 float *restrict o)
{
    for (int x = 0; x < n; x++)
        o[x] = s[(size_t)x * c] * scale + shift;
}

void dl_aug_render(const dl_img *im, int size, dl_resize_method m, const dl_aug_params *p, int oc,
                   const float *mean, const float *std, float *out)
{
    int c = im->c;
    int offx = (int)floorf(p->u_x * (float)(im->w - size));
    int offy = (int)floorf(p->u_y * (float)(im->h - size));
    size_t plane = (size_t)size * size;
    float scale[3], shift[3];
    for (int ch = 0; ch < oc; ch++) {
        scale[ch] = 1.0f / (255.0f * std[ch]);
        shift[ch] = -mean[ch] / std[ch];
    }
    if (!p->affine && !p->lighting) {
        bool cols_in = offx >= 0 && offx + size <= im->w;
        for (int y = 0; y < size; y++) {
            int sy = y + offy;
            if (cols_in && sy >= 0 && sy < im->h) {
                const uint8_t *row = im->px + ((size_t)sy * im->w + offx) * c;
                for (int ch = 0; ch < oc; ch++)
                    row_copy(size, row + (c == 1 ? 0 : ch), c, scale[ch], shift[ch],
                             out + ch * plane + (size_t)y * size);
                continue;
            }
            for (int x = 0; x < size; x++)
                for (int ch = 0; ch < oc; ch++) {
                    float v = px_at(im, x + offx, sy, c == 1 ? 0 : ch, m);
                    out[ch * plane + (size_t)y * size + x] = v * scale[ch] + shift[ch];
                }
        }
        return;
    }
    float lutn[3][257], slope[3][256]; /* lighting then normalisation, per output channel */
    if (p->lighting) {
        float lut[257]; /* lighting over [0,1] */
        float lb = logitf(p->bright);
        for (int i = 0; i <= 256; i++)
            lut[i] = 1.0f / (1.0f + expf(-p->contrast * (logitf(i / 256.0f) + lb)));
        for (int ch = 0; ch < oc; ch++) {
            for (int i = 0; i <= 256; i++)
                lutn[ch][i] = lut[i] * 255.0f * scale[ch] + shift[ch];
            for (int i = 0; i < 256; i++)
                slope[ch][i] = lutn[ch][i + 1] - lutn[ch][i];
        }
    }
    /* Output grid point (xn, yn) in [-1,1] -> warp -> flip/rotate/zoom -> crop window. */
    double wc[8] = {1, 0, 0, 0, 1, 0, 0, 0};
    bool warp = p->warp_x != 0 || p->warp_y != 0;
    if (warp) {
        float wx = p->warp_x, wy = p->warp_y;
        const float src[4][2] = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
        const float dst[4][2] = {
            {-1 - wy, -1 - wx}, {-1 + wy, 1 + wx}, {1 + wy, -1 + wx}, {1 - wy, 1 - wx}};
        perspective_coeffs(src, dst, wc);
    }
    /* Everything after the warp is affine: window pixel = A (ax, ay) + b, composed once. */
    float th = p->rot_deg * (float)M_PI / 180.0f, cs = cosf(th), sn = sinf(th);
    float zs = 1.0f / p->zoom;
    float ztx = (1 - zs) * (2 * p->zoom_cx - 1), zty = (1 - zs) * (2 * p->zoom_cy - 1);
    float fl = p->flip ? -1.0f : 1.0f;
    float rw = p->rrc_scale * p->rrc_ratio, rh = p->rrc_scale;
    float half = (size - 1) * 0.5f;
    /* zoom, then rotate, then flip (matrices multiplied flip . rotate . zoom), then the crop */
    const float a[6] = {half * rw * fl * cs * zs,
                        -half * rw * fl * sn * zs,
                        half * rh * sn * zs,
                        half * rh * cs * zs,
                        half * (1 + p->rrc_cx + rw * fl * (cs * ztx - sn * zty)),
                        half * (1 + p->rrc_cy + rh * (sn * ztx + cs * zty))};
    float wcf[8];
    for (int i = 0; i < 8; i++)
        wcf[i] = (float)wc[i];
    const float span = (float)(size - 1);
    float step = size > 1 ? 2.0f / (size - 1) : 0, x0 = size > 1 ? -1.0f : 0.0f;
    float *buf = dl_scratch(DL_SCRATCH_AUG, sizeof(float) * 5 * (size_t)size);
    if (!buf) { /* only on allocation failure, as the resizer */
        memset(out, 0, sizeof(float) * oc * plane);
        return;
    }
    void (*light)(int, const float *, const float *, const float *, float *) = row_light;
#ifdef HAVE_SAMPLE_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        light = row_light_avx2;
#endif
    float *ix = buf, *iy = buf + size, *v[3] = {buf + 2 * size, buf + 3 * size, buf + 4 * size};
    for (int y = 0; y < size; y++) {
        float yn = size > 1 ? step * y - 1 : 0;
        row_window(size, x0, step, yn, warp ? wcf : NULL, a, ix, iy);
        if (row_reflect(size, span, ix))
            for (int x = 0; x < size; x++)
                if (ix[x] < 0)
                    ix[x] = reflectf(ix[x], size);
        if (row_reflect(size, span, iy))
            for (int x = 0; x < size; x++)
                if (iy[x] < 0)
                    iy[x] = reflectf(iy[x], size);
        row_sample(im, m, size, ix, iy, offx, offy, v[0], v[1], v[2]);
        for (int ch = 0; ch < oc; ch++) {
            float *o = out + ch * plane + (size_t)y * size;
            const float *vc = v[c == 1 ? 0 : ch];
            if (p->lighting)
                light(size, vc, lutn[ch], slope[ch], o);
            else
                row_norm(size, vc, scale[ch], shift[ch], o);
        }
    }
}
