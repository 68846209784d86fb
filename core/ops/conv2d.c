/* conv2d: 2-D convolution (no groups, no dilation) as im2col + GEMM (dllab's own or OpenBLAS's,
 * see gemm()) over small tiles of images, or, for 3x3 stride-1 pad-1 convs where the per-pass
 * rule picks it (use_winograd), as Winograd F(2x2, 3x3) (winograd.c). Per tile, Y (OC, T*OH*OW) = W
 * (OC, C*KH*KW) x col (C*KH*KW, T*OH*OW). T is 1 when one image's output has >= DL_CONV_TILE_COLS
 * pixels; deeper layers with tiny outputs (resnet18@64's 2x2 layer4) put ceil(DL_CONV_TILE_COLS /
 * (OH*OW)) images side by side, because a GEMM only 4 columns wide runs at a fifth of the speed
 * (measured 34 vs 155 GFLOP/s). The tile depends only on the geometry, so the workspace does too:
 * it never grows with the batch. Special cases avoid copies: a 1x1 stride-1 unpadded conv with T =
 * 1 multiplies the image in place, a 1x1 strided conv (ResNet's downsample) gathers only the
 * sampled pixels, and a stride-1 KxK conv with T = 1 runs one GEMM per tap on a padded copy of the
 * image (SHIFT, below): no column matrix, no col2im; with dllab's gemm, dW of convs with up to 64
 * input channels reads its rows from padded planes in place too (ROWS, below). Backward per
 * tile otherwise: dW += dY col^T (beta = 1; with <= 64 output channels dW^T is gathered in the
 * workspace instead and added once per call;
 * skipped when dw is NULL, e.g. a frozen conv), then col = W^T dY and col2im adds it into dx
 * (skipped when dx is NULL); db by summation. Deterministic: no threads of its own, a fixed
 * summation order for a given geometry and batch. Refuses nothing at run time: dl_conv2d_cfg_init
 * validates the geometry and callers size ws with dl_conv2d_workspace_floats. Reference:
 * https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html */
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/blas_select.h"
#include "core/ops/gemm/gemm.h"
#include "core/ops/im2col.h"
#include "core/ops/ops.h"
#include "core/ops/vec.h"
#include "core/ops/winograd.h"

#define DL_CONV_TILE_COLS 256

/* im2col, 1x1 stride-1 (no copy), 1x1 strided (gather), stride-1 shifted GEMMs (see below) */
enum { PLAIN, DIRECT, GATHER, SHIFT };

/* Which algorithm 3x3 stride-1 pad-1 convs run: the per-shape rule (use_winograd), or one forced
 * for every such conv by DLLAB_CONV_ALGO=gemm|winograd (read once) or dl_conv2d_force_algo (a
 * test and bench hook). Process-wide like the gemm's ISA: the choice is a property of the
 * machine and of the run, and the workspace always has room for either algorithm. */
static dl_conv_algo forced_algo, env_algo;
static pthread_once_t algo_once = PTHREAD_ONCE_INIT;

static void read_algo_env(void)
{
    const char *e = getenv("DLLAB_CONV_ALGO");
    if (e && strcmp(e, "gemm") == 0)
        env_algo = DL_CONV_ALGO_GEMM;
    else if (e && strcmp(e, "winograd") == 0)
        env_algo = DL_CONV_ALGO_WINOGRAD;
    forced_algo = env_algo;
}

void dl_conv2d_force_algo(dl_conv_algo a)
{
    pthread_once(&algo_once, read_algo_env);
    forced_algo = a == DL_CONV_ALGO_AUTO ? env_algo : a;
}

/* The rule, per pass, from bench_conv's side-by-side runs (each pass forced onto either algorithm,
 * thread CPU time, AMD EPYC with AVX-512, dllab's gemm, two runs at load 9-12; Winograd's speed-up
 * over im2col + GEMM):
 *   forward     64->64 @16x16 1.51/1.40, 128 @8x8 1.29/1.17, 256 @4x4 1.34/1.51, 64 @14x14
 *               1.30/1.39; level or slower at 32 @28x28 (0.97/0.99), 128 @7x7 (1.14/0.87),
 *               512 @2x2 (0.99/0.86)
 *   backward data   64 @16 1.67/1.17, 128 @8 1.07/1.24, 256 @4 1.06/1.34, 64 @14 1.00/1.44,
 *               512 @2 1.03/1.12; slower at 32 @28 (0.82/0.88) and 128 @7 (0.80/0.81)
 *   backward weights  256 @4 1.19/1.18, 512 @2 1.40/1.35; level or slower elsewhere (0.75-1.03):
 *               its 16 products are small (OC x C) sums over long rows of tiles whose operands
 *               both need transposing packs, while im2col's dW is one wide product
 * With 32 channels the 16 products (K = 32) run far below the GEMM's rate and the transforms
 * weigh as much as they do; odd sizes waste a third of the tiles (7x7 -> 4x4 tiles of 2x2). */
#define DL_WINO_MIN_C 64

static int use_winograd(const dl_conv2d_cfg *c, int pass)
{
    pthread_once(&algo_once, read_algo_env);
    if (!dl_wino_applies(c) || forced_algo == DL_CONV_ALGO_GEMM)
        return 0;
    if (forced_algo == DL_CONV_ALGO_WINOGRAD)
        return 1;
    const int pixels = c->out_h * c->out_w;
    if (c->in_c < DL_WINO_MIN_C || c->out_c < DL_WINO_MIN_C || c->out_h % 2 || c->out_w % 2)
        return 0;
    return pass == 0 ? pixels >= 16 : pass == 1 ? 1 : pixels <= 16;
}

int dl_conv2d_tile_images(const dl_conv2d_cfg *c)
{
    int ohw = c->out_h * c->out_w;
    return ohw >= DL_CONV_TILE_COLS ? 1 : (DL_CONV_TILE_COLS + ohw - 1) / ohw;
}

/* Which GEMM runs a conv's products: dllab's own (core/ops/gemm) where its micro-kernel beats
 * OpenBLAS, measured per shape with tests/bench/bench_gemm and bench_train on an AMD EPYC (Zen 5,
 * AVX-512). Against OpenBLAS's AVX2 kernels (the environment pins OPENBLAS_CORETYPE=Haswell there)
 * dllab's AVX-512 gemm wins every forward and backward-data shape of resnet-xs and resnet18
 * (110-150 vs 70-100 GFLOP/s, 50-67 % of the 221 GFLOP/s 1-core FMA peak) and the dW products in
 * (OC, K) form with OC >= 32 (resnet-xs step +25-30 % CPU img/s; OC = 32 since its transposing
 * packs move 8x8 blocks: stage 1's dW 104-117 vs OpenBLAS's (K, OC) product 68-80); OpenBLAS
 * keeps the dW of OC <= 16. Against OpenBLAS's own AVX-512 kernels
 * (SkylakeX/Cooperlake, OPENBLAS_CORETYPE unset) dllab's loses (resnet-xs step 186-192 vs 209-225
 * CPU img/s), and with only AVX2 dllab's 4x24 kernel loses too (40-70 vs 70-85), so OpenBLAS runs
 * everything there. A forced ISA (a test) runs dllab's gemm everywhere. */
static int openblas_avx512;

static void probe_openblas(void)
{
    static const char *const avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    const char *core = dl_blas_corename();
    for (size_t i = 0; core && i < sizeof avx512_cores / sizeof *avx512_cores; i++)
        openblas_avx512 |= strcasecmp(core, avx512_cores[i]) == 0;
}

static int own_gemm(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT; /* OpenBLAS's kernel is fixed at load time */
    pthread_once(&once, probe_openblas);
    return dl_gemm_forced() || (dl_gemm_isa_active() == DL_GEMM_AVX512 && !openblas_avx512);
}

static void gemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b,
                 int ldb, float beta, float *c, int ldc)
{
    if (own_gemm())
        dl_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    else
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* Convs with few output channels accumulate dW transposed: OpenBLAS runs the (K, OC) product
 * 10-25 % faster than the (OC, K) one when OC <= 64 (measured: 110 vs 87 GFLOP/s for OC 32,
 * K 288), and one transpose-add per backward call is cheap. dllab's gemm prefers (OC, K) from
 * 32 channels on. The workspace always has the room (the ISA may be forced after planning). */
#define DL_CONV_DWT_MAX_OC 64
#define DL_CONV_DWT_MAX_OC_OWN 16

static int dw_room(const dl_conv2d_cfg *c) { return c->out_c <= DL_CONV_DWT_MAX_OC; }
static int dw_transposed(const dl_conv2d_cfg *c)
{
    /* with dllab's gemm, a dW (OC, K) narrower than a micro-kernel's 48 columns (a stem: K = 9)
     * wastes most of each tile: 13 vs 28 GFLOP/s for the transposed product on OpenBLAS */
    const int k = c->in_c * c->kh * c->kw;
    if (own_gemm())
        return c->out_c <= DL_CONV_DWT_MAX_OC_OWN || (k < 48 && c->out_c <= DL_CONV_DWT_MAX_OC);
    return c->out_c <= DL_CONV_DWT_MAX_OC;
}

const char *dl_conv2d_gemm_name(const dl_conv2d_cfg *c, int pass)
{
    static const char *const own[DL_GEMM_ISA_COUNT] = {"dllab-portable", "dllab-avx2",
                                                       "dllab-avx512"};
    if (!own_gemm() || (pass == 2 && dw_transposed(c) && !dl_gemm_forced() && !use_winograd(c, 2)))
        return "OpenBLAS";
    return own[dl_gemm_isa_active()];
}

/* SHIFT: a stride-1 conv without a column matrix. With the input copied into a zero-padded plane
 * of row width WP = W + 2p, output pixel q = oh*WP + ow of tap (ki, kj) reads padded pixel
 * q + ki*WP + kj: one constant offset per tap. So Y' (OC, OH*WP) = sum over taps of W_tap (OC, C)
 * x Xpad[:, off_tap ...], KH*KW GEMMs reading the padded plane in place (ld = its size), whose
 * WP - OW extra columns per row are cropped away. The backward data is the adjoint: dY' (zero in
 * those columns), dX' at each tap's offset += W_tap^T dY', then the inside of dX' is added to dx;
 * no column buffer to zero and no col2im. dW keeps im2col + one GEMM: per tap it is a tiny
 * (C, OC) product (resnet18's 64->64 layer1: 111 -> 83 GFLOP/s). Stage 1 of resnet-xs (32->32
 * @28x28), measured alone: forward 81 -> 94, backward data 91 -> 110 GFLOP/s. Per-tap GEMMs
 * have inner dimension C, so an input with one channel (a stem) keeps im2col; with 64 input
 * channels im2col's GEMM (K = 576) is already efficient and SHIFT loses at 16x16 (resnet18's
 * layer1: forward 122 -> 117, forward + backward 123 -> 112 GFLOP/s; level at 28x28-32x32), so
 * SHIFT takes 2-32 input channels (3->32 @32x32 level to +8 %, 16->16 @32x32 +30 %). An image
 * must fill a GEMM alone (tile 1), and the planes must fit the im2col workspace (so
 * dl_conv2d_workspace_floats does not change). */
#define DL_CONV_SHIFT_MIN_C 2
#define DL_CONV_SHIFT_MAX_C 32

typedef struct shift_geo {
    int wp, q;   /* padded row width, output columns per image (OH*WP) */
    size_t pp;   /* floats per padded plane (+ KW-1: the last tap reads past the last row) */
    size_t need; /* workspace: 2 padded images + repacked weights + one (OC, Q) buffer */
} shift_geo;

static void shift_geometry(const dl_conv2d_cfg *c, shift_geo *g)
{
    const size_t k = (size_t)c->in_c * c->kh * c->kw;
    g->wp = c->in_w + 2 * c->pad;
    g->q = c->out_h * g->wp;
    g->pp = (size_t)(c->in_h + 2 * c->pad) * g->wp + (size_t)c->kw - 1;
    g->need = 2 * (size_t)c->in_c * g->pp + k * c->out_c + (size_t)c->out_c * g->q;
}

static int shift_ok(const dl_conv2d_cfg *c)
{
    shift_geo g;
    if (c->stride != 1 || c->kh * c->kw == 1 || c->in_c < DL_CONV_SHIFT_MIN_C ||
        c->in_c > DL_CONV_SHIFT_MAX_C || dl_conv2d_tile_images(c) != 1)
        return 0;
    shift_geometry(c, &g);
    return g.need <= (size_t)c->in_c * c->kh * c->kw * c->out_h * c->out_w;
}

static int conv_kind(const dl_conv2d_cfg *c)
{
    if (c->kh == 1 && c->kw == 1 && c->pad == 0)
        return c->stride == 1 && dl_conv2d_tile_images(c) == 1 ? DIRECT : GATHER;
    return shift_ok(c) ? SHIFT : PLAIN;
}

int dl_conv2d_cfg_init(dl_conv2d_cfg *c, int in_c, int in_h, int in_w, int out_c, int kh, int kw,
                       int stride, int pad)
{
    memset(c, 0, sizeof *c);
    if (in_c < 1 || in_h < 1 || in_w < 1 || out_c < 1 || kh < 1 || kw < 1 || stride < 1 || pad < 0)
        return -1;
    c->in_c = in_c;
    c->in_h = in_h;
    c->in_w = in_w;
    c->out_c = out_c;
    c->kh = kh;
    c->kw = kw;
    c->stride = stride;
    c->pad = pad;
    /* PyTorch: floor((H + 2p - (k-1) - 1) / s) + 1 */
    int nh = in_h + 2 * pad - kh, nw = in_w + 2 * pad - kw;
    if (nh < 0 || nw < 0)
        return -1;
    c->out_h = nh / stride + 1;
    c->out_w = nw / stride + 1;
    return 0;
}

/* Workspace layout: [columns: K x T*OHW][tile > 1: dY of the tile, OC x T*OHW][dW^T: K x OC].
 * SHIFT uses the columns' room as [padded x][W per tap: KH*KW x (OC, C)][(OC, Q)][padded dx]. */
static size_t ws_cols(const dl_conv2d_cfg *c)
{
    const size_t ohw = (size_t)c->out_h * c->out_w, t = (size_t)dl_conv2d_tile_images(c);
    const size_t k = (size_t)c->in_c * c->kh * c->kw;
    if (conv_kind(c) == DIRECT)
        return 0;
    return t == 1 ? k * ohw : (k + (size_t)c->out_c) * t * ohw;
}

size_t dl_conv2d_workspace_floats(const dl_conv2d_cfg *c)
{
    const size_t k = (size_t)c->in_c * c->kh * c->kw;
    const size_t gemm_ws = ws_cols(c) + (dw_room(c) ? k * (size_t)c->out_c : 0);
    if (!dl_wino_applies(c)) /* below: room for either algorithm, whatever is forced later */
        return gemm_ws;
    const size_t wino_ws = dl_wino_workspace_floats(c);
    return wino_ws > gemm_ws ? wino_ws : gemm_ws;
}

static int dw_rows_ok(const dl_conv2d_cfg *c); /* below, with the ROWS dW */

const char *dl_conv2d_algo_name(const dl_conv2d_cfg *c, int pass)
{
    static const char *const kinds[] = {"im2col", "1x1", "gather", "shift"};
    if (use_winograd(c, pass))
        return "winograd";
    return pass == 2 && dw_rows_ok(c) ? "rows" : kinds[conv_kind(c)];
}

/* Columns of images x[0..tn) side by side (row stride ld) into ws, or x itself when no copy is
 * needed. */
static const float *columns(const float *x, int tn, size_t ld, const dl_conv2d_cfg *c, int kind,
                            float *ws)
{
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ohw = (size_t)c->out_h * c->out_w;
    if (kind == DIRECT)
        return x;
    for (int t = 0; t < tn; t++) {
        if (kind == GATHER)
            dl_strided_gather(ws + t * ohw, ld, x + t * xs, c);
        else
            dl_im2col(ws + t * ohw, ld, x + t * xs, c);
    }
    return ws;
}

/* w (OC, C, KH, KW) -> wt (KH*KW, OC, C) */
static void repack_taps(float *wt, const float *w, const dl_conv2d_cfg *c)
{
    const int taps = c->kh * c->kw, m = c->out_c, ch = c->in_c;
    for (int o = 0; o < m; o++)
        for (int i = 0; i < ch; i++)
            for (int t = 0; t < taps; t++)
                wt[((size_t)t * m + o) * ch + i] = w[((size_t)o * ch + i) * taps + t];
}

static size_t tap_offset(int t, const dl_conv2d_cfg *c, int wp)
{
    return (size_t)(t / c->kw) * wp + t % c->kw;
}

static void shift_forward(float *y, const float *x, const float *w, const dl_conv2d_cfg *c, int n,
                          float *ws)
{
    shift_geo g;
    shift_geometry(c, &g);
    const int m = c->out_c, ch = c->in_c, taps = c->kh * c->kw;
    const size_t xs = (size_t)ch * c->in_h * c->in_w, ys = (size_t)m * c->out_h * c->out_w;
    float *xp = ws, *wt = xp + ch * g.pp, *yb = wt + (size_t)taps * m * ch;
    memset(xp, 0, sizeof(float) * ch * g.pp); /* the padding; image copies write only the inside */
    repack_taps(wt, w, c);
    for (int i = 0; i < n; i++) {
        dl_plane_rows_copy(xp, g.pp, g.wp, c->pad, c->pad, x + i * xs, ch, c->in_h, c->in_w);
        for (int t = 0; t < taps; t++)
            gemm(0, 0, m, g.q, ch, wt + (size_t)t * m * ch, ch, xp + tap_offset(t, c, g.wp),
                 (int)g.pp, t ? 1.0f : 0.0f, yb, g.q);
        dl_plane_rows_crop(y + i * ys, yb, (size_t)g.q, g.wp, 0, 0, m, c->out_h, c->out_w);
    }
}

/* dx (C, H, W) += conv input gradient of one image's dy (OC, OH, OW). fresh: ws does not hold
 * the repacked weights and the zeroed dY' padding from the previous image (dW's im2col shares
 * the room and ran in between). */
static void shift_backward_data(float *dx, const float *dy, const float *w, const dl_conv2d_cfg *c,
                                float *ws, int fresh)
{
    shift_geo g;
    shift_geometry(c, &g);
    const int m = c->out_c, ch = c->in_c, taps = c->kh * c->kw;
    float *wt = ws + ch * g.pp, *dyp = wt + (size_t)taps * m * ch, *dxp = dyp + (size_t)m * g.q;
    if (fresh) {
        repack_taps(wt, w, c);
        memset(dyp, 0, sizeof(float) * m * (size_t)g.q); /* the WP - OW columns stay zero */
    }
    dl_plane_rows_copy(dyp, (size_t)g.q, g.wp, 0, 0, dy, m, c->out_h, c->out_w);
    /* tap 0 (offset 0) writes [0, Q) of each plane; the tail beyond it is zeroed */
    for (int p = 0; p < ch; p++)
        memset(dxp + p * g.pp + g.q, 0, sizeof(float) * (g.pp - (size_t)g.q));
    for (int t = 0; t < taps;
         t++) /* dX' (C, Q) at the tap's offset (+)= W_tap^T (C, OC) x dY' (OC, Q) */
        gemm(1, 0, ch, g.q, m, wt + (size_t)t * m * ch, ch, dyp, g.q, t ? 1.0f : 0.0f,
             dxp + tap_offset(t, c, g.wp), (int)g.pp);
    dl_plane_rows_add(dx, dxp, g.pp, g.wp, c->pad, c->pad, ch, c->in_h, c->in_w);
}

/* dW without a column matrix (ROWS): with the taps' order outside the channels', the column
 * matrix's row (t, i) is padded plane i at tap t's offset, the SHIFT trick, so per image dW'
 * (OC, KH*KW*C) += dY' (OC, Q) x those rows^T, read in place by dllab's gemm (dl_sgemm_bt_rows);
 * dY' is zero in the WP - OW extra columns, so they add nothing. It saves im2col's write and
 * re-read of the column matrix (288 x 784 floats per image of resnet-xs's stage 1: its dW
 * 118-123 -> 138-141 GFLOP/s). Stride s > 1 splits the padded image into s*s phase planes by row
 * and column residue (dl_phase_planes_copy): tap (ki, kj) reads plane (ki % s, kj % s) at offset
 * (ki / s) * WP + kj / s, WP = ceil((W + 2p) / s). Needs dllab's gemm, a dW in (OC, K) form, at
 * most 9 taps and 64 input channels (the row table is on the stack), s <= the kernel, an image
 * per GEMM at least DL_CONV_ROWS_MIN_Q columns wide (7x7 outputs would give 63) and room in the
 * column matrix's place for [planes][dY'][dW']. */
#define DL_CONV_ROWS_MAX_TAPS 9
#define DL_CONV_ROWS_MAX_C 64
#define DL_CONV_ROWS_MIN_Q 192

typedef struct rows_geo {
    int s, wp, q; /* stride, (phase) plane row width, output columns per image (OH*WP) */
    size_t pp;    /* floats per plane (+ (KW-1)/s: the last tap reads past the last row) */
    size_t need;  /* workspace floats: s*s*C planes, dY' (OC, Q), dW' (OC, K) */
} rows_geo;

static void rows_geometry(const dl_conv2d_cfg *c, rows_geo *g)
{
    const int s = c->stride, hs = (c->in_h + 2 * c->pad + s - 1) / s;
    g->s = s;
    g->wp = (c->in_w + 2 * c->pad + s - 1) / s;
    g->q = c->out_h * g->wp;
    g->pp = (size_t)hs * g->wp + (size_t)(c->kw - 1) / s;
    g->need = (size_t)s * s * c->in_c * g->pp + (size_t)c->out_c * g->q +
              (size_t)c->in_c * c->kh * c->kw * c->out_c;
}

static int dw_rows_ok(const dl_conv2d_cfg *c)
{
    rows_geo g;
    if (!own_gemm() || dw_transposed(c) || c->stride > c->kh || c->stride > c->kw ||
        c->kh * c->kw == 1 || c->kh * c->kw > DL_CONV_ROWS_MAX_TAPS || c->in_c > DL_CONV_ROWS_MAX_C)
        return 0;
    rows_geometry(c, &g);
    return g.q >= DL_CONV_ROWS_MIN_Q && g.need <= ws_cols(c);
}

/* dw += dL/dw over n images, ROWS (above); ws: [planes][dY'][dW'] */
static void rows_backward_weights(float *dw, const float *dy, const float *x,
                                  const dl_conv2d_cfg *c, int n, float *ws)
{
    rows_geo g;
    rows_geometry(c, &g);
    const int m = c->out_c, ch = c->in_c, taps = c->kh * c->kw, k = ch * taps, s = g.s;
    const size_t xs = (size_t)ch * c->in_h * c->in_w, ys = (size_t)m * c->out_h * c->out_w;
    const size_t planes = (size_t)s * s * ch * g.pp;
    float *xp = ws, *dyp = xp + planes, *dwp = dyp + (size_t)m * g.q;
    const float *rows[DL_CONV_ROWS_MAX_C * DL_CONV_ROWS_MAX_TAPS];
    memset(xp, 0, sizeof(float) * planes);           /* the padding, never written after */
    memset(dyp, 0, sizeof(float) * m * (size_t)g.q); /* the WP - OW columns: zero products */
    for (int t = 0; t < taps; t++) {
        const int ki = t / c->kw, kj = t % c->kw;
        const size_t at = ((size_t)(ki % s) * s + kj % s) * ch * g.pp + (size_t)(ki / s) * g.wp +
                          (size_t)(kj / s);
        for (int i = 0; i < ch; i++)
            rows[t * ch + i] = xp + at + (size_t)i * g.pp;
    }
    for (int i = 0; i < n; i++) {
        dl_plane_rows_copy(dyp, (size_t)g.q, g.wp, 0, 0, dy + i * ys, m, c->out_h, c->out_w);
        if (s == 1)
            dl_plane_rows_copy(xp, g.pp, g.wp, c->pad, c->pad, x + i * xs, ch, c->in_h, c->in_w);
        else
            dl_phase_planes_copy(xp, g.pp, g.wp, s, c->pad, x + i * xs, ch, c->in_h, c->in_w);
        dl_sgemm_bt_rows(m, k, g.q, dyp, g.q, rows, i ? 1.0f : 0.0f, dwp, k);
    }
    for (int o = 0; o < m && n > 0; o++)
        for (int i = 0; i < ch; i++)
            for (int t = 0; t < taps; t++)
                dw[((size_t)o * ch + i) * taps + t] += dwp[(size_t)o * k + (size_t)t * ch + i];
}

void dl_conv2d_forward(float *y, const float *x, const float *w, const float *b,
                       const dl_conv2d_cfg *c, int n, float *ws)
{
    const int kind = use_winograd(c, 0) ? -1 : conv_kind(c), tile = dl_conv2d_tile_images(c);
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ys = (size_t)m * ohw;
    float *out = ws + (size_t)k * tile * ohw; /* tile > 1 only */
    if (kind < 0)
        dl_wino_forward(y, x, w, c, n, ws, gemm);
    else if (kind == SHIFT)
        shift_forward(y, x, w, c, n, ws);
    for (int i0 = 0; kind >= 0 && kind != SHIFT && i0 < n; i0 += tile) {
        const int tn = n - i0 < tile ? n - i0 : tile, ld = tn * ohw;
        const float *col = columns(x + i0 * xs, tn, (size_t)ld, c, kind, ws);
        if (tile == 1) {
            gemm(0, 0, m, ohw, k, w, k, col, ohw, 0.0f, y + i0 * ys, ohw);
        } else {
            gemm(0, 0, m, ld, k, w, k, col, ld, 0.0f, out, ld);
            for (int t = 0; t < tn; t++)
                for (int o = 0; o < m; o++)
                    memcpy(y + (i0 + t) * ys + (size_t)o * ohw,
                           out + (size_t)o * ld + (size_t)t * ohw, sizeof(float) * (size_t)ohw);
        }
    }
    if (b) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < m; o++)
                dl_vec_add_scalar(y + i * ys + (size_t)o * ohw, (size_t)ohw, b[o]);
    }
}

void dl_conv2d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, const dl_conv2d_cfg *c, int n, float *ws)
{
    const int kind = conv_kind(c), tile = dl_conv2d_tile_images(c);
    const int m = c->out_c, k = c->in_c * c->kh * c->kw, ohw = c->out_h * c->out_w;
    const size_t xs = (size_t)c->in_c * c->in_h * c->in_w, ys = (size_t)m * ohw;
    float *dyt = ws + (size_t)k * tile * ohw; /* tile > 1 only: dY of the tile as (OC, T*OHW) */
    if (db) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < m; o++)
                db[o] += dl_vec_sum(dy + i * ys + (size_t)o * ohw, (size_t)ohw);
    }
    /* the rule chooses per pass: Winograd first (it uses the whole workspace), then the other
     * pass, if any, on im2col + GEMM below */
    const int wdx = dx && use_winograd(c, 1), wdw = dw && use_winograd(c, 2);
    if (wdx || wdw)
        dl_wino_backward(wdx ? dx : NULL, wdw ? dw : NULL, dy, x, w, c, n, ws, gemm);
    if (wdx)
        dx = NULL;
    if (wdw)
        dw = NULL;
    if (!dx && !dw)
        return;
    if (dw && dw_rows_ok(c)) { /* before the data pass: both use the columns' room */
        rows_backward_weights(dw, dy, x, c, n, ws);
        dw = NULL;
        if (!dx)
            return;
    }
    float *dwt = dw && dw_transposed(c) ? ws + ws_cols(c) : NULL; /* dW^T (K, OC) of this call */
    for (int i0 = 0; i0 < n; i0 += tile) {
        const int tn = n - i0 < tile ? n - i0 : tile, ld = tn * ohw;
        const float *g = dy + i0 * ys;
        if (tile > 1) {
            for (int t = 0; t < tn; t++)
                for (int o = 0; o < m; o++)
                    memcpy(dyt + (size_t)o * ld + (size_t)t * ohw,
                           dy + (i0 + t) * ys + (size_t)o * ohw, sizeof(float) * (size_t)ohw);
            g = dyt;
        }
        if (dw) {
            const float *col = columns(x + i0 * xs, tn, (size_t)ld, c, kind, ws);
            if (dwt && dl_gemm_forced()) /* dW^T as below, on the forced kernels */
                gemm(0, 1, k, m, ld, col, ld, g, ld, i0 == 0 ? 0.0f : 1.0f, dwt, m);
            else if (dwt) /* dW^T (K, OC) (=/+=) col (K, T*OHW) x dY^T (T*OHW, OC) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, m, ld, 1.0f, col, ld, g, ld,
                            i0 == 0 ? 0.0f : 1.0f, dwt, m);
            else /* dW (OC, K) += dY (OC, T*OHW) x col^T (T*OHW, K) */
                gemm(0, 1, m, k, ld, g, ld, col, ld, 1.0f, dw, k);
        }
        if (dx) {
            float *dxi = dx + i0 * xs;
            /* col (K, T*OHW) = W^T (K, OC) x dY (OC, T*OHW); 1x1 stride 1 lands straight in dx */
            if (kind == DIRECT) {
                gemm(1, 0, k, ohw, m, w, k, g, ohw, 1.0f, dxi, ohw);
                continue;
            }
            if (kind == SHIFT) { /* tile 1 */
                shift_backward_data(dxi, g, w, c, ws, dw || i0 == 0);
                continue;
            }
            gemm(1, 0, k, ld, m, w, k, g, ld, 0.0f, ws, ld);
            for (int t = 0; t < tn; t++) {
                if (kind == GATHER)
                    dl_strided_scatter_add(dxi + t * xs, ws + (size_t)t * ohw, (size_t)ld, c);
                else
                    dl_col2im_add(dxi + t * xs, ws + (size_t)t * ohw, (size_t)ld, c);
            }
        }
    }
    if (dwt && n > 0)
        for (int o = 0; o < m; o++)
            for (int j = 0; j < k; j++)
                dw[(size_t)o * k + j] += dwt[(size_t)j * m + o];
}
