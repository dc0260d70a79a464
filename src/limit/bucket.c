#include "limit/limit.h"

#include <math.h>

void limit_bucket_init(struct limit_bucket *b, double qps, int burst, uint64_t now_ms)
{
    b->qps = qps;
    b->burst = burst < 1 ? 1.0 : (double)burst;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

static void refill(struct limit_bucket *b, uint64_t now_ms)
{
    if (now_ms <= b->last_ms)
        return; /* a clock that went back adds nothing */
    b->tokens += (double)(now_ms - b->last_ms) * b->qps / 1000.0;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    b->last_ms = now_ms;
}

double limit_bucket_tokens(struct limit_bucket *b, uint64_t now_ms)
{
    if (b->qps <= 0)
        return b->burst;
    refill(b, now_ms);
    return b->tokens;
}

uint64_t limit_bucket_take(struct limit_bucket *b, uint64_t now_ms)
{
    if (b->qps <= 0)
        return 0;
    refill(b, now_ms);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    /* Round up so the caller, waking after the delay, finds a whole token;
     * the epsilon keeps float noise from adding a millisecond. */
    double ms = ceil((1.0 - b->tokens) * 1000.0 / b->qps - 1e-6);
    return ms < 1 ? 1 : (uint64_t)ms;
}
