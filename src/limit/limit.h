/* limit - a token bucket and a jittered exponential backoff.
 *
 * Pure arithmetic: time comes in as an argument (milliseconds on any
 * monotonic clock, e.g. uv_now()) and randomness from a seeded generator
 * held in the struct, so tests are exact. No allocation: the structs are
 * caller-owned and may be copied. */
#ifndef RB_LIMIT_H
#define RB_LIMIT_H

#include <stdint.h>

/* Token bucket: holds up to burst tokens, refilled at qps per second;
 * client-go's flowcontrol.NewTokenBucketRateLimiter without the blocking. */
struct limit_bucket {
    double qps;    /* <= 0: unlimited */
    double burst;  /* capacity, >= 1 */
    double tokens; /* current, fractional */
    uint64_t last_ms;
};

/* Starts full. burst < 1 is taken as 1. */
void limit_bucket_init(struct limit_bucket *b, double qps, int burst, uint64_t now_ms);

/* Takes one token when there is one and returns 0; otherwise takes nothing
 * and returns how many ms until one is available (>= 1). now_ms going
 * backwards is treated as no time passing. */
uint64_t limit_bucket_take(struct limit_bucket *b, uint64_t now_ms);

/* Tokens available at now_ms (refills, takes none). */
double limit_bucket_tokens(struct limit_bucket *b, uint64_t now_ms);

/* Exponential backoff: the n-th delay (n from 0) is min(cap, base * 2^n),
 * then jittered DOWN by up to jitter of itself: a uniform value in
 * [d * (1 - jitter), d]. Downward jitter keeps cap a hard bound while
 * spreading clients that failed together. */
struct limit_backoff {
    uint64_t base_ms;
    uint64_t cap_ms;
    double jitter;    /* 0..1 */
    unsigned attempt; /* delays handed out since the last reset */
    uint64_t rng;     /* generator state (splitmix64) */
};

/* jitter is clamped to [0, 1]; cap_ms < base_ms is raised to base_ms.
 * seed 0 is allowed (the generator mixes it). */
void limit_backoff_init(struct limit_backoff *b, uint64_t base_ms, uint64_t cap_ms, double jitter,
                        uint64_t seed);

/* The next delay; advances attempt. */
uint64_t limit_backoff_next(struct limit_backoff *b);

/* After a success: the next delay is base again. */
void limit_backoff_reset(struct limit_backoff *b);

/* Uniform double in [0, 1) from *state (splitmix64); for other jitter needs. */
double limit_rand01(uint64_t *state);

#endif
