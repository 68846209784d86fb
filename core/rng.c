/* rng: xoshiro256** (Blackman & Vigna), seeded with splitmix64; see rng.h. */
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void dl_rng_seed(dl_rng *r, uint64_t seed, uint64_t key1, uint64_t key2)
{
    /* Mix the keys through splitmix so (seed, epoch, item) tuples give unrelated streams. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (key1 * 0xd1342543de82ef95ULL);
    h = splitmix64(&x);
    x = h ^ (key2 * 0xaf251af3b0f025b5ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t dl_rng_u64(dl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t dl_rng_u32(dl_rng *r) { return (uint32_t)(dl_rng_u64(r) >> 32); }

float dl_rng_uniform(dl_rng *r) { return (float)(dl_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double dl_rng_uniform_d(dl_rng *r)
{
    return (double)(dl_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t dl_rng_below(dl_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do
        x = dl_rng_u64(r);
    while (x >= limit);
    return x % n;
}

float dl_rng_normal(dl_rng *r)
{
    double u1 = dl_rng_uniform_d(r), u2 = dl_rng_uniform_d(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void dl_rng_shuffle_u32(dl_rng *r, uint32_t *idx, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)dl_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
