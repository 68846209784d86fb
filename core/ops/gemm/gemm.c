/* gemm: the blocked driver (BLIS's loop order) and the run-time choice of micro-kernel.
 * Loops: N in NC columns (a packed B block of KC x NC stays in L2) > K in KC steps > M in MC rows
 * (a packed A block) > NR-column micro-panels of B (one stays in L1 across the row loop) > MR-row
 * micro-panels of A. Edges are zero-padded in the packs and the partial tiles go through a small
 * buffer, so the micro-kernels only ever see full MR x NR tiles. */
#include "core/ops/gemm/gemm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/gemm/gemm_kernels.h"

/* KC x NR of B (48 x 160 floats = 30 KB) within a 48 KB L1 with A's panel beside it; KC x NC of
 * B (160 x 768 = 480 KB) and MC x KC of A within a 1 MB L2. */
#define KC_MAX 160
#define NC_MAX 768
#define MC_MAX 192
/* see b_in_place in dl_sgemm */
#define B_IN_PLACE_MAX_M 64

static const dl_gemm_kernel *const kernels[DL_GEMM_ISA_COUNT] = {
    &dl_gemm_kernel_portable, &dl_gemm_kernel_avx2, &dl_gemm_kernel_avx512};
static const char *const names[DL_GEMM_ISA_COUNT] = {"portable", "avx2", "avx512"};

/* Packing buffers, one pair per thread, grown on demand and kept: packing scratch is per call
 * and per thread, and allocating it on every call would cost more than small GEMMs themselves.
 * A thread-specific key frees them when the thread ends (the learner trains in its own thread). */
typedef struct packs {
    float *a, *b;
    size_t cap_a, cap_b;
} packs;

static pthread_key_t packs_key;
static bool packs_key_ok;

static void packs_free(void *p)
{
    packs *k = p;
    free(k->a);
    free(k->b);
    free(k);
}

static packs *thread_packs(void)
{
    if (!packs_key_ok)
        return NULL;
    packs *k = pthread_getspecific(packs_key);
    if (!k && (k = calloc(1, sizeof *k)) != NULL && pthread_setspecific(packs_key, k) != 0) {
        free(k);
        k = NULL;
    }
    return k;
}

/* The ISA in use: a process-wide choice made once from cpuid (a property of the machine), which
 * only the test hook changes; every thread uses the same kernels. */
static dl_gemm_isa active_isa;
/* Transposing packs (A stored by rows, B transposed) move one float at a time in C; with AVX2 they
 * move 8x8 blocks through registers (dW's products, whose operands are each used once or a few
 * times, spent as long packing as multiplying). Set once with the ISA. */
static bool transpose8_ok;

static bool forced;
static pthread_once_t once = PTHREAD_ONCE_INIT;

bool dl_gemm_isa_supported(dl_gemm_isa isa)
{
    __builtin_cpu_init();
    switch (isa) {
    case DL_GEMM_PORTABLE:
        return true;
    case DL_GEMM_AVX2: /* GCC's checks include the OS saving the registers (XGETBV) */
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case DL_GEMM_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    default:
        return false;
    }
}

static void choose(void)
{
    packs_key_ok = pthread_key_create(&packs_key, packs_free) == 0;
    transpose8_ok = dl_gemm_isa_supported(DL_GEMM_AVX2);
    active_isa = DL_GEMM_PORTABLE;
    for (int i = DL_GEMM_ISA_COUNT - 1; i > 0; i--)
        if (dl_gemm_isa_supported((dl_gemm_isa)i)) {
            active_isa = (dl_gemm_isa)i;
            break;
        }
    const char *want = getenv("DLLAB_GEMM_ISA");
    for (int i = 0; want && i < DL_GEMM_ISA_COUNT; i++)
        if (strcmp(want, names[i]) == 0 && dl_gemm_isa_supported((dl_gemm_isa)i)) {
            active_isa = (dl_gemm_isa)i;
            forced = true;
        }
}

bool dl_gemm_forced(void)
{
    pthread_once(&once, choose);
    return forced;
}

dl_gemm_isa dl_gemm_isa_active(void)
{
    pthread_once(&once, choose);
    return active_isa;
}

const char *dl_gemm_isa_name(dl_gemm_isa isa)
{
    return (unsigned)isa < DL_GEMM_ISA_COUNT ? names[isa] : "?";
}

bool dl_gemm_force_isa(dl_gemm_isa isa)
{
    pthread_once(&once, choose);
    if (!dl_gemm_isa_supported(isa))
        return false;
    active_isa = isa;
    forced = true;
    return true;
}

static float *room(float **buf, size_t *cap, size_t floats)
{
    if (floats > *cap) {
        free(*buf);
        *buf = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        *cap = *buf ? floats : 0;
    }
    return *buf;
}

/* A rows [i0, i0+mc) x cols [p0, p0+kc) into MR-row micro-panels: ap[blk][p][r] */
static void pack_a_block(float *ap, const float *a, int lda, bool trans, int i0, int mc, int p0,
                         int kc, int mr)
{
    for (int ib = 0; ib < mc; ib += mr, ap += (size_t)mr * kc) {
        const int rows = mc - ib < mr ? mc - ib : mr;
        if (!trans && transpose8_ok && mr == 8 && rows == 8 && kc >= 8) {
            const int kb = kc / 8;
            dl_gemm_transpose8(ap, 8, a + (size_t)(i0 + ib) * lda + p0, (size_t)lda, kb);
            for (int r = 0; r < 8; r++)
                for (int p = kb * 8; p < kc; p++)
                    ap[(size_t)p * mr + r] = a[(size_t)(i0 + ib + r) * lda + p0 + p];
            continue;
        }
        for (int r = 0; r < mr; r++) {
            if (r >= rows) {
                for (int p = 0; p < kc; p++)
                    ap[(size_t)p * mr + r] = 0.0f;
                continue;
            }
            const int i = i0 + ib + r;
            if (!trans)
                for (int p = 0; p < kc; p++)
                    ap[(size_t)p * mr + r] = a[(size_t)i * lda + p0 + p];
            else
                for (int p = 0; p < kc; p++)
                    ap[(size_t)p * mr + r] = a[(size_t)(p0 + p) * lda + i];
        }
    }
}

/* B rows [p0, p0+kc) x cols [j0, j0+nc) into NR-column micro-panels: bp[blk][p][j] */
/* B^T's row j (trans only): at rows[j] when a table is given, else at b + j*ldb */
static const float *bt_row(const float *b, int ldb, const float *const *rows, int j)
{
    return rows ? rows[j] : b + (size_t)j * ldb;
}

/* The 8 rows from j on, equally spaced (their stride in *sld)? Always with a fixed ldb. */
static bool bt_rows_strided(const float *b, int ldb, const float *const *rows, int j, size_t *sld)
{
    *sld = (size_t)ldb;
    if (!rows)
        return true;
    const ptrdiff_t d = rows[j + 1] - rows[j];
    for (int r = 1; r < 8; r++)
        if (rows[j + r] - rows[j + r - 1] != d || d <= 0)
            return false;
    *sld = (size_t)d;
    return true;
}

static void pack_b_block(float *bp, const float *b, int ldb, const float *const *rows, bool trans,
                         int p0, int kc, int j0, int nc, int nr)
{
    for (int jb = 0; jb < nc; jb += nr, bp += (size_t)nr * kc) {
        const int cols = nc - jb < nr ? nc - jb : nr;
        if (!trans) {
            for (int p = 0; p < kc; p++) {
                const float *src = b + (size_t)(p0 + p) * ldb + j0 + jb;
                float *dst = bp + (size_t)p * nr;
                memcpy(dst, src, sizeof(float) * (size_t)cols);
                for (int j = cols; j < nr; j++)
                    dst[j] = 0.0f;
            }
        } else if (transpose8_ok && cols >= 8 && kc >= 8) {
            const int kb = kc / 8;
            int j = 0;
            size_t sld;
            for (; j + 8 <= cols; j += 8) {
                if (bt_rows_strided(b, ldb, rows, j0 + jb + j, &sld))
                    dl_gemm_transpose8(bp + j, (size_t)nr, bt_row(b, ldb, rows, j0 + jb + j) + p0,
                                       sld, kb);
                else
                    for (int jj = j; jj < j + 8; jj++)
                        for (int p = 0; p < kb * 8; p++)
                            bp[(size_t)p * nr + jj] = bt_row(b, ldb, rows, j0 + jb + jj)[p0 + p];
                for (int jj = j; jj < j + 8; jj++)
                    for (int p = kb * 8; p < kc; p++)
                        bp[(size_t)p * nr + jj] = bt_row(b, ldb, rows, j0 + jb + jj)[p0 + p];
            }
            for (; j < nr; j++)
                for (int p = 0; p < kc; p++)
                    bp[(size_t)p * nr + j] =
                        j < cols ? bt_row(b, ldb, rows, j0 + jb + j)[p0 + p] : 0.0f;
        } else {
            for (int j = 0; j < nr; j++) {
                if (j >= cols) {
                    for (int p = 0; p < kc; p++)
                        bp[(size_t)p * nr + j] = 0.0f;
                    continue;
                }
                const float *src = bt_row(b, ldb, rows, j0 + jb + j) + p0;
                for (int p = 0; p < kc; p++)
                    bp[(size_t)p * nr + j] = src[p];
            }
        }
    }
}

/* Equal K steps of at most KC_MAX: 288 -> 2 x 144 rather than 160 + 128. */
static int k_step(int k)
{
    int parts = (k + KC_MAX - 1) / KC_MAX;
    return (k + parts - 1) / parts;
}

static void scale_c(float *c, int ldc, int m, int n, float beta)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            c[(size_t)i * ldc + j] *= beta;
}

static void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float *a, int lda,
                  const float *b, int ldb, const float *const *rows, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    const dl_gemm_kernel *kr = kernels[dl_gemm_isa_active()];
    const int mr = kr->mr, nr = kr->nr;
    if (k <= 0 || (beta != 0.0f && beta != 1.0f)) { /* C = beta C first; the loops below add */
        if (beta == 0.0f)
            for (int i = 0; i < m; i++)
                memset(c + (size_t)i * ldc, 0, sizeof(float) * (size_t)n);
        else if (beta != 1.0f)
            scale_c(c, ldc, m, n, beta);
        if (k <= 0)
            return;
        beta = 1.0f;
    }
    const int kc_max = k_step(k), nc_max = NC_MAX / nr * nr, mc_max = MC_MAX / mr * mr;
    const int mc_cap = m < mc_max ? (m + mr - 1) / mr * mr : mc_max;
    const int nc_cap = n < nc_max ? (n + nr - 1) / nr * nr : nc_max;
    packs *pk = thread_packs();
    float *ap = pk ? room(&pk->a, &pk->cap_a, (size_t)mc_cap * kc_max) : NULL;
    float *bp = pk ? room(&pk->b, &pk->cap_b, (size_t)nc_cap * kc_max) : NULL;
    if (!ap || !bp) { /* no memory for the packs: the slow but exact triple loop */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float s = 0.0f;
                for (int p = 0; p < k; p++)
                    s += (trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) *
                         (trans_b ? bt_row(b, ldb, rows, j)[p] : b[(size_t)p * ldb + j]);
                c[(size_t)i * ldc + j] = beta == 0.0f ? s : c[(size_t)i * ldc + j] + s;
            }
        return;
    }
    float tile[16 * 64] __attribute__((aligned(64))); /* MR x NR of any kernel */
    /* Few rows of A: each B panel serves only m / MR micro-kernel calls, and copying it into the
     * panel layout costs about as much as they do (Winograd's 32 x 32 x P products: packing
     * 10 % of the time, the micro-kernel 12 %); the kernel reads full panels of B in place
     * instead, and only the narrower last panel is packed (zero-padded). */
    const bool b_in_place = !trans_b && m <= B_IN_PLACE_MAX_M;
    for (int j0 = 0; j0 < n; j0 += nc_max) {
        const int nc = n - j0 < nc_max ? n - j0 : nc_max, nfull = b_in_place ? nc / nr * nr : 0;
        for (int p0 = 0; p0 < k; p0 += kc_max) {
            const int kc = k - p0 < kc_max ? k - p0 : kc_max;
            const int acc = p0 > 0 || beta != 0.0f;
            if (nfull < nc) /* with B in place: only its last, partial panel */
                pack_b_block(bp + (size_t)nfull * kc, b, ldb, rows, trans_b, p0, kc, j0 + nfull,
                             nc - nfull, nr);
            for (int i0 = 0; i0 < m; i0 += mc_max) {
                const int mc = m - i0 < mc_max ? m - i0 : mc_max;
                pack_a_block(ap, a, lda, trans_a, i0, mc, p0, kc, mr);
                for (int jb = 0; jb < nc; jb += nr) {
                    const int cols = nc - jb < nr ? nc - jb : nr;
                    const int direct = jb < nfull;
                    const float *bpj =
                        direct ? b + (size_t)p0 * ldb + j0 + jb : bp + (size_t)jb * kc;
                    const size_t bst = direct ? (size_t)ldb : (size_t)nr;
                    for (int ib = 0; ib < mc; ib += mr) {
                        const int rows = mc - ib < mr ? mc - ib : mr;
                        const float *api = ap + (size_t)ib * kc;
                        float *cij = c + (size_t)(i0 + ib) * ldc + j0 + jb;
                        if (rows == mr && cols == nr) {
                            kr->run(kc, api, bpj, bst, cij, (size_t)ldc, acc);
                            continue;
                        }
                        kr->run(kc, api, bpj, bst, tile, (size_t)nr, 0);
                        for (int r = 0; r < rows; r++)
                            for (int j = 0; j < cols; j++)
                                cij[(size_t)r * ldc + j] =
                                    acc ? cij[(size_t)r * ldc + j] + tile[r * nr + j]
                                        : tile[r * nr + j];
                    }
                }
            }
        }
    }
}

void dl_sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
    sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, NULL, beta, c, ldc);
}

void dl_sgemm_bt_rows(int m, int n, int k, const float *a, int lda, const float *const *rows,
                      float beta, float *c, int ldc)
{
    sgemm(false, true, m, n, k, a, lda, NULL, 0, rows, beta, c, ldc);
}
