#include "limit/limit.h"

double limit_rand01(uint64_t *state)
{
    /* splitmix64: tiny, full-period, good enough for jitter. */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0); /* 53 bits */
}

void limit_backoff_init(struct limit_backoff *b, uint64_t base_ms, uint64_t cap_ms, double jitter,
                        uint64_t seed)
{
    b->base_ms = base_ms;
    b->cap_ms = cap_ms < base_ms ? base_ms : cap_ms;
    b->jitter = jitter < 0 ? 0 : jitter > 1 ? 1 : jitter;
    b->attempt = 0;
    b->rng = seed;
}

uint64_t limit_backoff_next(struct limit_backoff *b)
{
    uint64_t d = b->base_ms;
    /* Double until the cap; stop early so the shift never overflows. */
    for (unsigned i = 0; i < b->attempt && d < b->cap_ms; i++)
        d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
    if (d > b->cap_ms)
        d = b->cap_ms;
    if (b->attempt < UINT32_MAX)
        b->attempt++;
    double r = limit_rand01(&b->rng);
    return d - (uint64_t)((double)d * b->jitter * r);
}

void limit_backoff_reset(struct limit_backoff *b)
{
    b->attempt = 0;
}
