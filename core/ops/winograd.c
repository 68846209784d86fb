/* winograd: F(2x2, 3x3) for 3x3 stride-1 pad-1 convolutions (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2015). With the matrices
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
 *   A^T = [1 1 1 0; 0 1 -1 -1],
 * a 2x2 output block is Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A for the 4x4 input tiles
 * d_c (stride 2, overlapping by 2) and the 3x3 filters g_c. The sum over input channels at each of
 * the 16 tile positions is a GEMM over all tiles of a group of images:
 *   forward          M_xi (OC, P) = U_xi (OC, C) x V_xi (C, P)
 *   backward data    dV_xi (C, P) = U_xi^T x dM_xi (OC, P)        (dM = A dY A^T per tile)
 *   backward weights dU_xi (OC, C) += dM_xi x V_xi^T                (summed over all groups)
 * and the transforms' adjoints (B dV B^T scattered back onto the input, G^T dU G onto the filter)
 * finish the backward. The transforms' factors are 0, +-1 and 0.5, exact in floating point; the
 * rounding differs from a direct sum only by the order of additions and the transforms' few extra
 * adds (measured in tests/check_ops_winograd.c).
 *
 * Layout: the input is copied into a zero-padded plane per image (pad 1 on top and left, and up to
 * an even size + 2 on the bottom and right, so every tile reads inside it and odd sizes need no
 * special case); V, M are (16, C or OC, P) with P = tiles of the group, tile p = image * tiles per
 * image + ty * TW + tx. Deterministic: a fixed order for a given geometry and batch. */
#include "core/ops/winograd.h"

#include <string.h>

#include "core/ops/im2col.h"
#include "core/ops/vec.h"

/* About this many tiles (GEMM columns) per group: a GEMM with a few hundred columns runs near its
 * best rate (DL_CONV_TILE_COLS in conv2d.c makes the same choice), and V + M stay near L2. */
#define DL_WINO_TILES 256

/* The transforms work on 16 tiles at a time (row functions below) and write a whole vector even
 * when a row of tiles is shorter: each row of V and M (one channel's tiles) ends in a GAP of 16
 * floats that such a store may spill into, and every other spill lands on tiles written after it.
 * The 16 matrices of U, V and M also lie GAP floats apart: with channel counts and tile counts
 * that are powers of two, slabs exactly 2^k bytes apart would put the 16 streams into the same
 * cache sets (stage 3 of resnet-xs ran 2x slower). */
#define GAP 16

typedef struct geo {
    int th, tw, tpi; /* tile rows, tile columns, tiles per image */
    int wp;          /* padded row width (2*TW + 2) */
    size_t plane;    /* floats per padded plane ((2*TH + 2) * WP) */
    int group;       /* images per group */
    size_t u, v, m;  /* floats of U (and of dU), of V and of M for a full group, with gaps */
    size_t row;      /* floats per scratch row: TW + 1 rounded up to 16, + 16 to spill into */
} geo;

int dl_wino_applies(const dl_conv2d_cfg *c)
{
    return c->kh == 3 && c->kw == 3 && c->stride == 1 && c->pad == 1;
}

static void geometry(const dl_conv2d_cfg *c, geo *g)
{
    g->th = (c->out_h + 1) / 2;
    g->tw = (c->out_w + 1) / 2;
    g->tpi = g->th * g->tw;
    g->wp = 2 * g->tw + 2;
    g->plane = (size_t)(2 * g->th + 2) * g->wp;
    g->group = g->tpi >= DL_WINO_TILES ? 1 : (DL_WINO_TILES + g->tpi / 2) / g->tpi;
    const size_t p = (size_t)g->group * g->tpi + GAP;
    g->u = 16 * ((size_t)c->out_c * c->in_c + GAP);
    g->v = 16 * ((size_t)c->in_c * p + GAP);
    g->m = 16 * ((size_t)c->out_c * p + GAP);
    g->row = ((size_t)g->tw + 1 + 15) / 16 * 16 + 16;
}

/* distance between the 16 matrices of a (rows, cols) set */
static size_t slab(size_t rows, size_t cols) { return rows * cols + GAP; }

int dl_wino_group_images(const dl_conv2d_cfg *c)
{
    geo g;
    geometry(c, &g);
    return g.group;
}

/* [U][dU][V][M][padded x][padded dx][12 scratch rows] */
size_t dl_wino_workspace_floats(const dl_conv2d_cfg *c)
{
    geo g;
    geometry(c, &g);
    return 2 * g.u + g.v + g.m + 2 * (size_t)c->in_c * g.plane + 12 * g.row;
}

/* U_xi (OC, C) = G g G^T for every filter g = w[o][i] (3x3) */
static void filter_transform(float *u, size_t xs, const float *w, int oc, int ch)
{
    for (int o = 0; o < oc; o++)
        for (int i = 0; i < ch; i++) {
            const float *g = w + ((size_t)o * ch + i) * 9;
            float t[4][3]; /* G g */
            for (int j = 0; j < 3; j++) {
                t[0][j] = g[j];
                t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            float *d = u + (size_t)o * ch + i;
            for (int r = 0; r < 4; r++) { /* (G g) G^T */
                d[(4 * r + 0) * xs] = t[r][0];
                d[(4 * r + 1) * xs] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
                d[(4 * r + 2) * xs] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
                d[(4 * r + 3) * xs] = t[r][2];
            }
        }
}

/* dw[o][i] += G^T dU_xi G: the adjoint of filter_transform */
static void filter_transform_adjoint_add(float *dw, size_t xs, const float *du, int oc, int ch)
{
    for (int o = 0; o < oc; o++)
        for (int i = 0; i < ch; i++) {
            const float *s = du + (size_t)o * ch + i;
            float t[4][3]; /* dU G, row by row */
            for (int r = 0; r < 4; r++) {
                const float a = s[(4 * r) * xs], b = s[(4 * r + 1) * xs], cc = s[(4 * r + 2) * xs],
                            d = s[(4 * r + 3) * xs];
                t[r][0] = a + 0.5f * (b + cc);
                t[r][1] = 0.5f * (b - cc);
                t[r][2] = 0.5f * (b + cc) + d;
            }
            float *g = dw + ((size_t)o * ch + i) * 9;
            for (int j = 0; j < 3; j++) { /* G^T (dU G) */
                g[j] += t[0][j] + 0.5f * (t[1][j] + t[2][j]);
                g[3 + j] += 0.5f * (t[1][j] - t[2][j]);
                g[6 + j] += 0.5f * (t[1][j] + t[2][j]) + t[3][j];
            }
        }
}

/* 16 tiles at a time as a GCC vector (one zmm in the AVX-512 clone, two ymm in the AVX2 one, four
 * xmm in the baseline): element-wise loops over 16 streams are more than GCC's vectoriser takes
 * on by itself, and a row of tiles is often shorter than a vector (7 or 14 tiles), so the loops
 * run whole vectors only and rely on the gaps (GAP, geo.row). Loads and stores are unaligned. */
typedef float v16 __attribute__((vector_size(64)));
#define LD(p)                                                                                      \
    __extension__({                                                                                \
        v16 v_;                                                                                    \
        memcpy(&v_, (p), sizeof v_);                                                               \
        v_;                                                                                        \
    })
#define ST(p, v)                                                                                   \
    do {                                                                                           \
        v16 s_ = (v);                                                                              \
        memcpy((p), &s_, sizeof s_);                                                               \
    } while (0)

/* The 16 matrices at one row of tiles, xs floats apart */
#define PTR16(T, p, base, xs)                                                                      \
    T *p##0 = (base), *p##1 = p##0 + (xs), *p##2 = p##1 + (xs), *p##3 = p##2 + (xs),               \
      *p##4 = p##3 + (xs), *p##5 = p##4 + (xs), *p##6 = p##5 + (xs), *p##7 = p##6 + (xs),          \
      *p##8 = p##7 + (xs), *p##9 = p##8 + (xs), *p##10 = p##9 + (xs), *p##11 = p##10 + (xs),       \
      *p##12 = p##11 + (xs), *p##13 = p##12 + (xs), *p##14 = p##13 + (xs), *p##15 = p##14 + (xs)

/* e[i] = a[2i] op b[2i], o[i] = a[2i+1] op b[2i+1]: a row pair split into even and odd columns */
static inline void sub_split(float *restrict e, float *restrict o, const float *restrict a,
                             const float *restrict b, int n)
{
    for (int i = 0; i < n; i++) {
        e[i] = a[2 * i] - b[2 * i];
        o[i] = a[2 * i + 1] - b[2 * i + 1];
    }
}

static inline void add_split(float *restrict e, float *restrict o, const float *restrict a,
                             const float *restrict b, int n)
{
    for (int i = 0; i < n; i++) {
        e[i] = a[2 * i] + b[2 * i];
        o[i] = a[2 * i + 1] + b[2 * i + 1];
    }
}

/* One row of tiles: out[xi * xs + tx] = (B^T d B)_xi of the tile at columns 2tx..2tx+3 of the
 * padded rows r0..r3: B^T over the rows (split into even and odd columns), then over the columns
 * of each tile (e[i], o[i], e[i+1], o[i+1]). t: 8 scratch rows of rl floats. */
static DL_HOT void input_tile_row(float *out, size_t xs, const float *restrict r0,
                                  const float *restrict r1, const float *restrict r2,
                                  const float *restrict r3, int tw, float *restrict t, size_t rl)
{
    const int n = tw + 1; /* column pairs in a padded row */
    float *e0 = t, *o0 = e0 + rl, *e1 = o0 + rl, *o1 = e1 + rl;
    float *e2 = o1 + rl, *o2 = e2 + rl, *e3 = o2 + rl, *o3 = e3 + rl;
    sub_split(e0, o0, r0, r2, n); /* B^T d: d0 - d2, d1 + d2, d2 - d1, d1 - d3 */
    add_split(e1, o1, r1, r2, n);
    sub_split(e2, o2, r2, r1, n);
    sub_split(e3, o3, r1, r3, n);
    PTR16(float, v, out, xs);
#define IN_ROW(i, e, o, va, vb, vc, vd)                                                            \
    do {                                                                                           \
        const v16 e_ = LD(e + (i)), o_ = LD(o + (i)), e1_ = LD(e + (i) + 1),                       \
                  o1_ = LD(o + (i) + 1);                                                           \
        ST(va + (i), e_ - e1_);                                                                    \
        ST(vb + (i), o_ + e1_);                                                                    \
        ST(vc + (i), e1_ - o_);                                                                    \
        ST(vd + (i), o_ - o1_);                                                                    \
    } while (0)
    for (int i = 0; i < tw; i += 16) {
        IN_ROW(i, e0, o0, v0, v1, v2, v3);
        IN_ROW(i, e1, o1, v4, v5, v6, v7);
        IN_ROW(i, e2, o2, v8, v9, v10, v11);
        IN_ROW(i, e3, o3, v12, v13, v14, v15);
    }
#undef IN_ROW
}

/* V_xi[c][tile] for every 4x4 tile of the padded planes xp (C of them); xs between positions xi,
 * ld between channels. */
static void input_transform(float *v, size_t ld, size_t xs, const float *xp, int ch, const geo *g,
                            float *scratch)
{
    for (int c = 0; c < ch; c++) {
        const float *pl = xp + (size_t)c * g->plane;
        for (int ty = 0; ty < g->th; ty++) {
            const float *r0 = pl + (size_t)(2 * ty) * g->wp;
            input_tile_row(v + (size_t)c * ld + (size_t)ty * g->tw, xs, r0, r0 + g->wp,
                           r0 + 2 * g->wp, r0 + 3 * g->wp, g->tw, scratch, g->row);
        }
    }
}

/* row[2i] += e[i], row[2i+1] += o[i] for i < n */
static inline void add_merge(float *restrict row, const float *restrict e, const float *restrict o,
                             int n)
{
    for (int i = 0; i < n; i++) {
        row[2 * i] += e[i];
        row[2 * i + 1] += o[i];
    }
}

/* One row of tiles of the adjoint: x0..x3 (padded rows 2ty .. 2ty+3) += B dV_xi B^T of every tile
 * at columns 2tx..2tx+3. B dV over the rows: z0 = v0, z1 = v1 - v2 + v3, z2 = v1 + v2 - v0,
 * z3 = -v3 (rows of 4); then over the columns: [z0, z1 - z2 + z3, z1 + z2 - z0, -z3], whose first
 * two land on columns 2i, 2i+1 and last two on 2i+2, 2i+3, shared with the next tile. So two
 * passes into even/odd column sums e, o: each tile's last two values (assigned to [i+1]), then
 * its first two (added to [i]); no pass writes a place twice. h: 8 scratch rows of rl floats. */
static DL_HOT void input_adjoint_row(float *restrict x0, float *restrict x1, float *restrict x2,
                                     float *restrict x3, const float *s, size_t xs, int tw,
                                     float *restrict h, size_t rl)
{
    float *e0 = h, *o0 = e0 + rl, *e1 = o0 + rl, *o1 = e1 + rl;
    float *e2 = o1 + rl, *o2 = e2 + rl, *e3 = o2 + rl, *o3 = e3 + rl;
    PTR16(const float, v, s, xs);
    e0[0] = o0[0] = e1[0] = o1[0] = e2[0] = o2[0] = e3[0] = o3[0] = 0.0f;
#define Z_ROWS(i)                                                                                  \
    const v16 a0 = LD(v0 + (i)), a1 = LD(v1 + (i)), a2 = LD(v2 + (i)), a3 = LD(v3 + (i));          \
    const v16 b0 = LD(v4 + (i)), b1 = LD(v5 + (i)), b2 = LD(v6 + (i)), b3 = LD(v7 + (i));          \
    const v16 c0 = LD(v8 + (i)), c1 = LD(v9 + (i)), c2 = LD(v10 + (i)), c3 = LD(v11 + (i));        \
    const v16 d0 = LD(v12 + (i)), d1 = LD(v13 + (i)), d2 = LD(v14 + (i)), d3 = LD(v15 + (i));      \
    const v16 z00 = a0, z01 = a1, z02 = a2, z03 = a3;                                              \
    const v16 z10 = b0 - c0 + d0, z11 = b1 - c1 + d1, z12 = b2 - c2 + d2, z13 = b3 - c3 + d3;      \
    const v16 z20 = b0 + c0 - a0, z21 = b1 + c1 - a1, z22 = b2 + c2 - a2, z23 = b3 + c3 - a3;      \
    const v16 z30 = -d0, z31 = -d1, z32 = -d2, z33 = -d3
    for (int i = 0; i < tw; i += 16) {
        Z_ROWS(i);
        (void)z03, (void)z13, (void)z23, (void)z33;
        ST(e0 + i + 1, z01 + z02 - z00);
        ST(o0 + i + 1, -z03);
        ST(e1 + i + 1, z11 + z12 - z10);
        ST(o1 + i + 1, -z13);
        ST(e2 + i + 1, z21 + z22 - z20);
        ST(o2 + i + 1, -z23);
        ST(e3 + i + 1, z31 + z32 - z30);
        ST(o3 + i + 1, -z33);
    }
    /* column 2*TW gets only the last tile's third value: the second pass's lanes past the last
     * tile (spilled data) would add to it */
    const float keep[8] = {e0[tw], o0[tw], e1[tw], o1[tw], e2[tw], o2[tw], e3[tw], o3[tw]};
    for (int i = 0; i < tw; i += 16) {
        Z_ROWS(i);
        ST(e0 + i, LD(e0 + i) + z00);
        ST(o0 + i, LD(o0 + i) + z01 - z02 + z03);
        ST(e1 + i, LD(e1 + i) + z10);
        ST(o1 + i, LD(o1 + i) + z11 - z12 + z13);
        ST(e2 + i, LD(e2 + i) + z20);
        ST(o2 + i, LD(o2 + i) + z21 - z22 + z23);
        ST(e3 + i, LD(e3 + i) + z30);
        ST(o3 + i, LD(o3 + i) + z31 - z32 + z33);
    }
    e0[tw] = keep[0], o0[tw] = keep[1], e1[tw] = keep[2], o1[tw] = keep[3];
    e2[tw] = keep[4], o2[tw] = keep[5], e3[tw] = keep[6], o3[tw] = keep[7];
#undef Z_ROWS
    add_merge(x0, e0, o0, tw + 1);
    add_merge(x1, e1, o1, tw + 1);
    add_merge(x2, e2, o2, tw + 1);
    add_merge(x3, e3, o3, tw + 1);
}

/* dxp (C padded planes) += B dV_xi B^T of every tile at its place: the adjoint of
 * input_transform. dxp must be zeroed by the caller. */
static void input_transform_adjoint(float *dxp, const float *dv, size_t ld, size_t xs, int ch,
                                    const geo *g, float *h)
{
    for (int c = 0; c < ch; c++) {
        float *pl = dxp + (size_t)c * g->plane;
        for (int ty = 0; ty < g->th; ty++) {
            float *r0 = pl + (size_t)(2 * ty) * g->wp;
            input_adjoint_row(r0, r0 + g->wp, r0 + 2 * g->wp, r0 + 3 * g->wp,
                              dv + (size_t)c * ld + (size_t)ty * g->tw, xs, g->tw, h, g->row);
        }
    }
}

/* One row of tiles: y0, y1 (2*TW floats each) = A^T M_xi A of the tiles s[xi * xs + tx]: over
 * the rows r0 = m0 + m1 + m2, r1 = m1 - m2 - m3 (rows of 4), then the same over the columns into
 * even and odd columns, interleaved at the end. t: 4 scratch rows of rl floats. */
static DL_HOT void output_tile_row(float *restrict y0, float *restrict y1, const float *s,
                                   size_t xs, int tw, float *restrict t, size_t rl)
{
    float *e0 = t, *o0 = e0 + rl, *e1 = o0 + rl, *o1 = e1 + rl;
    PTR16(const float, m, s, xs);
    for (int i = 0; i < tw; i += 16) {
        const v16 a0 = LD(m0 + i) + LD(m4 + i) + LD(m8 + i),
                  a1 = LD(m1 + i) + LD(m5 + i) + LD(m9 + i),
                  a2 = LD(m2 + i) + LD(m6 + i) + LD(m10 + i),
                  a3 = LD(m3 + i) + LD(m7 + i) + LD(m11 + i);
        const v16 b0 = LD(m4 + i) - LD(m8 + i) - LD(m12 + i),
                  b1 = LD(m5 + i) - LD(m9 + i) - LD(m13 + i),
                  b2 = LD(m6 + i) - LD(m10 + i) - LD(m14 + i),
                  b3 = LD(m7 + i) - LD(m11 + i) - LD(m15 + i);
        ST(e0 + i, a0 + a1 + a2);
        ST(o0 + i, a1 - a2 - a3);
        ST(e1 + i, b0 + b1 + b2);
        ST(o1 + i, b1 - b2 - b3);
    }
    for (int i = 0; i < tw; i++) {
        y0[2 * i] = e0[i], y0[2 * i + 1] = o0[i];
        y1[2 * i] = e1[i], y1[2 * i + 1] = o1[i];
    }
}

/* y (OC, H, W) of one image from its tiles, cropped at odd edges */
static void output_transform(float *y, const float *m, size_t ld, size_t xs, int oc,
                             const dl_conv2d_cfg *c, const geo *g, float *scratch)
{
    const int h = c->out_h, w = c->out_w;
    float *b0 = scratch, *b1 = b0 + 2 * g->row, *t = b1 + 2 * g->row;
    for (int k = 0; k < oc; k++) {
        float *yk = y + (size_t)k * h * w;
        for (int ty = 0; ty < g->th; ty++) {
            output_tile_row(b0, b1, m + (size_t)k * ld + (size_t)ty * g->tw, xs, g->tw, t, g->row);
            memcpy(yk + (size_t)(2 * ty) * w, b0, sizeof(float) * (size_t)w);
            if (2 * ty + 1 < h)
                memcpy(yk + (size_t)(2 * ty + 1) * w, b1, sizeof(float) * (size_t)w);
        }
    }
}

/* One row of tiles: out[xi * xs + tx] = (A dY A^T)_xi of the 2x2 blocks of rows d0, d1
 * (2*TW floats each): over the rows [y0, y0 + y1, y0 - y1, -y1] (rows of 2), then the same over
 * the columns. t: 4 scratch rows of rl floats. */
static DL_HOT void output_adjoint_row(float *out, size_t xs, const float *restrict d0,
                                      const float *restrict d1, int tw, float *restrict t,
                                      size_t rl)
{
    float *a = t, *b = a + rl, *c = b + rl, *d = c + rl;
    for (int i = 0; i < tw; i++) {
        a[i] = d0[2 * i], b[i] = d0[2 * i + 1];
        c[i] = d1[2 * i], d[i] = d1[2 * i + 1];
    }
    PTR16(float, m, out, xs);
    for (int i = 0; i < tw; i += 16) {
        const v16 y00 = LD(a + i), y01 = LD(b + i), y10 = LD(c + i), y11 = LD(d + i);
        const v16 r00 = y00, r01 = y01, r10 = y00 + y10, r11 = y01 + y11;
        const v16 r20 = y00 - y10, r21 = y01 - y11, r30 = -y10, r31 = -y11;
        ST(m0 + i, r00);
        ST(m1 + i, r00 + r01);
        ST(m2 + i, r00 - r01);
        ST(m3 + i, -r01);
        ST(m4 + i, r10);
        ST(m5 + i, r10 + r11);
        ST(m6 + i, r10 - r11);
        ST(m7 + i, -r11);
        ST(m8 + i, r20);
        ST(m9 + i, r20 + r21);
        ST(m10 + i, r20 - r21);
        ST(m11 + i, -r21);
        ST(m12 + i, r30);
        ST(m13 + i, r30 + r31);
        ST(m14 + i, r30 - r31);
        ST(m15 + i, -r31);
    }
}

/* dM_xi = (A dY A^T)_xi of one image's output-gradient tiles (zero beyond odd edges): the adjoint
 * of output_transform */
static void output_transform_adjoint(float *dm, size_t ld, size_t xs, const float *dy, int oc,
                                     const dl_conv2d_cfg *c, const geo *g, float *scratch)
{
    const int h = c->out_h, w = c->out_w;
    float *b0 = scratch, *b1 = b0 + 2 * g->row, *t = b1 + 2 * g->row;
    b0[2 * g->tw - 1] = b1[2 * g->tw - 1] = 0.0f; /* the column beyond an odd width */
    for (int k = 0; k < oc; k++) {
        const float *dk = dy + (size_t)k * h * w;
        for (int ty = 0; ty < g->th; ty++) {
            const float *d0 = dk + (size_t)(2 * ty) * w;
            memcpy(b0, d0, sizeof(float) * (size_t)w);
            if (2 * ty + 1 < h)
                memcpy(b1, d0 + w, sizeof(float) * (size_t)w);
            else
                memset(b1, 0, sizeof(float) * (size_t)w);
            output_adjoint_row(dm + (size_t)k * ld + (size_t)ty * g->tw, xs, b0, b1, g->tw, t,
                               g->row);
        }
    }
}

typedef struct bufs {
    float *u, *du, *v, *m, *xp, *dxp, *scratch;
} bufs;

static void carve(float *ws, const dl_conv2d_cfg *c, const geo *g, bufs *b)
{
    b->u = ws;
    b->du = b->u + g->u;
    b->v = b->du + g->u;
    b->m = b->v + g->v;
    b->xp = b->m + g->m;
    b->dxp = b->xp + (size_t)c->in_c * g->plane;
    b->scratch = b->dxp + (size_t)c->in_c * g->plane;
}

/* V of images x[0..tn) (P = tn * TPI tiles, rows of P + GAP) */
static void transform_inputs(float *v, float *xp, const float *x, int tn, const dl_conv2d_cfg *c,
                             const geo *g, float *scratch)
{
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ld = (size_t)tn * g->tpi + GAP;
    for (int t = 0; t < tn; t++) {
        dl_plane_rows_copy(xp, g->plane, g->wp, 1, 1, x + t * xs, c->in_c, c->in_h, c->in_w);
        input_transform(v + (size_t)t * g->tpi, ld, slab((size_t)c->in_c, ld), xp, c->in_c, g,
                        scratch);
    }
}

void dl_wino_forward(float *y, const float *x, const float *w, const dl_conv2d_cfg *c, int n,
                     float *ws, dl_wino_gemm_fn gemm)
{
    geo g;
    bufs b;
    geometry(c, &g);
    carve(ws, c, &g, &b);
    const int oc = c->out_c, ch = c->in_c;
    const size_t xs = (size_t)ch * c->in_h * c->in_w, ys = (size_t)oc * c->out_h * c->out_w;
    const size_t us = slab((size_t)oc, (size_t)ch);
    filter_transform(b.u, us, w, oc, ch);
    memset(b.xp, 0, sizeof(float) * ch * g.plane); /* the padding; copies write the inside */
    for (int i0 = 0; i0 < n; i0 += g.group) {
        const int tn = n - i0 < g.group ? n - i0 : g.group, p = tn * g.tpi, ld = p + GAP;
        const size_t vs = slab((size_t)ch, (size_t)ld), ms = slab((size_t)oc, (size_t)ld);
        transform_inputs(b.v, b.xp, x + i0 * xs, tn, c, &g, b.scratch);
        for (int xi = 0; xi < 16; xi++)
            gemm(0, 0, oc, p, ch, b.u + xi * us, ch, b.v + xi * vs, ld, 0.0f, b.m + xi * ms, ld);
        for (int t = 0; t < tn; t++)
            output_transform(y + (i0 + t) * ys, b.m + (size_t)t * g.tpi, (size_t)ld, ms, oc, c, &g,
                             b.scratch);
    }
}

void dl_wino_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                      const dl_conv2d_cfg *c, int n, float *ws, dl_wino_gemm_fn gemm)
{
    geo g;
    bufs b;
    if ((!dx && !dw) || n <= 0)
        return;
    geometry(c, &g);
    carve(ws, c, &g, &b);
    const int oc = c->out_c, ch = c->in_c;
    const size_t xs = (size_t)ch * c->in_h * c->in_w, ys = (size_t)oc * c->out_h * c->out_w;
    const size_t us = slab((size_t)oc, (size_t)ch);
    if (dx)
        filter_transform(b.u, us, w, oc, ch);
    if (dw)
        memset(b.xp, 0, sizeof(float) * ch * g.plane);
    for (int i0 = 0; i0 < n; i0 += g.group) {
        const int tn = n - i0 < g.group ? n - i0 : g.group, p = tn * g.tpi, ld = p + GAP;
        const size_t vs = slab((size_t)ch, (size_t)ld), ms = slab((size_t)oc, (size_t)ld);
        for (int t = 0; t < tn; t++)
            output_transform_adjoint(b.m + (size_t)t * g.tpi, (size_t)ld, ms, dy + (i0 + t) * ys,
                                     oc, c, &g, b.scratch);
        if (dw) { /* dU_xi (=/+=) dM_xi V_xi^T */
            transform_inputs(b.v, b.xp, x + i0 * xs, tn, c, &g, b.scratch);
            for (int xi = 0; xi < 16; xi++)
                gemm(0, 1, oc, ch, p, b.m + xi * ms, ld, b.v + xi * vs, ld, i0 == 0 ? 0.0f : 1.0f,
                     b.du + xi * us, ch);
        }
        if (!dx)
            continue;
        for (int xi = 0; xi < 16; xi++) /* dV_xi = U_xi^T dM_xi, into V's room */
            gemm(1, 0, ch, p, oc, b.u + xi * us, ch, b.m + xi * ms, ld, 0.0f, b.v + xi * vs, ld);
        for (int t = 0; t < tn; t++) {
            memset(b.dxp, 0, sizeof(float) * ch * g.plane);
            input_transform_adjoint(b.dxp, b.v + (size_t)t * g.tpi, (size_t)ld, vs, ch, &g,
                                    b.scratch);
            dl_plane_rows_add(dx + (i0 + t) * xs, b.dxp, g.plane, g.wp, 1, 1, ch, c->in_h, c->in_w);
        }
    }
    if (dw)
        filter_transform_adjoint_add(dw, us, b.du, oc, ch);
}
