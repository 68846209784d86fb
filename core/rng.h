/* rng: small seeded random streams (xoshiro256**, seeded through splitmix64).
 * Every consumer owns its stream (no hidden global RNG), so results never depend on thread timing:
 * a loader derives one stream per (seed, epoch, item), the model initialiser one per seed.
 * The state is four words and can be saved in a checkpoint and restored exactly. */
#ifndef DL_RNG_H
#define DL_RNG_H

#include <stdint.h>

typedef struct dl_rng {
    uint64_t s[4];
} dl_rng;

/* Seeds a stream from a seed and up to two further keys (e.g. epoch, item index). */
void dl_rng_seed(dl_rng *r, uint64_t seed, uint64_t key1, uint64_t key2);
uint64_t dl_rng_u64(dl_rng *r);
uint32_t dl_rng_u32(dl_rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float dl_rng_uniform(dl_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double dl_rng_uniform_d(dl_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t dl_rng_below(dl_rng *r, uint64_t n);
/* Standard normal (Box-Muller; consumes two uniforms per call, keeps no spare). */
float dl_rng_normal(dl_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void dl_rng_shuffle_u32(dl_rng *r, uint32_t *idx, uint32_t n);

#endif
