#include "informer/inf_sm.h"

#include <errno.h>
#include <string.h>

/* client-go's "very short watch": closed this soon with no event. */
#define SHORT_WATCH_MS 1000
/* Honour a server's Retry-After up to this many seconds. */
#define RETRY_AFTER_CAP_S 60

void inf_sm_init(struct inf_sm *sm, uint64_t base_ms, uint64_t cap_ms, uint64_t healthy_ms)
{
    memset(sm, 0, sizeof *sm);
    sm->base_ms = base_ms ? base_ms : 1;
    sm->cap_ms = cap_ms > sm->base_ms ? cap_ms : sm->base_ms;
    sm->healthy_ms = healthy_ms;
}

static int set_rv(struct inf_sm *sm, const char *rv)
{
    size_t n = strlen(rv);
    if (n >= sizeof sm->rv)
        return -EINVAL;
    memcpy(sm->rv, rv, n + 1);
    return 0;
}

int inf_sm_listed(struct inf_sm *sm, const char *rv)
{
    if (!rv || !*rv)
        return -EINVAL;
    return set_rv(sm, rv);
}

int inf_sm_observe(struct inf_sm *sm, enum watch_event_type type, const char *rv)
{
    if (type == WATCH_ERROR || !rv || !*rv)
        return 0;
    return set_rv(sm, rv);
}

uint64_t inf_sm_backoff(struct inf_sm *sm, double rnd)
{
    if (sm->step_ms == 0)
        sm->step_ms = sm->base_ms;
    if (rnd < 0)
        rnd = 0;
    if (rnd >= 1)
        rnd = 0.999;
    uint64_t d = (uint64_t)((double)sm->step_ms * (0.75 + 0.5 * rnd));
    if (d > sm->cap_ms)
        d = sm->cap_ms;
    sm->step_ms = sm->step_ms >= sm->cap_ms / 2 ? sm->cap_ms : sm->step_ms * 2;
    return d;
}

static uint64_t at_least_retry_after(uint64_t d, const struct kstatus *st)
{
    if (st && st->retry_after_s > 0) {
        int s = st->retry_after_s < RETRY_AFTER_CAP_S ? st->retry_after_s : RETRY_AFTER_CAP_S;
        if ((uint64_t)s * 1000 > d)
            d = (uint64_t)s * 1000;
    }
    return d;
}

static struct inf_plan plan(enum inf_action a, uint64_t delay)
{
    struct inf_plan p = {a, delay};
    return p;
}

struct inf_plan inf_sm_watch_ended(struct inf_sm *sm, const struct inf_watch_end *e, double rnd)
{
    int healthy = e->events > 0 || (sm->healthy_ms && e->lived_ms >= sm->healthy_ms);
    if (healthy)
        sm->step_ms = 0;
    const struct kstatus *st = e->status;
    long code = e->http_status;
    if (e->error_event && st)
        code = st->code;

    /* 410 in either form: the saved version is useless; list. */
    if ((e->error_event || (e->err == 0 && code >= 300)) && st && kstatus_is_gone(st)) {
        sm->rv[0] = '\0';
        return plan(INF_ACT_LIST, healthy ? 0 : inf_sm_backoff(sm, rnd));
    }
    if (e->err == 0 && code == 410) {
        sm->rv[0] = '\0';
        return plan(INF_ACT_LIST, healthy ? 0 : inf_sm_backoff(sm, rnd));
    }
    if (st && kstatus_is_too_large_rv(st)) {
        sm->rv[0] = '\0';
        return plan(INF_ACT_LIST, inf_sm_backoff(sm, rnd));
    }
    if (e->malformed || e->err < 0)
        return plan(sm->rv[0] ? INF_ACT_WATCH : INF_ACT_LIST, inf_sm_backoff(sm, rnd));
    if (e->error_event || code >= 300) {
        /* Throttling and server trouble: the version is still good. */
        if (code == 429 || code >= 500)
            return plan(sm->rv[0] ? INF_ACT_WATCH : INF_ACT_LIST,
                        at_least_retry_after(inf_sm_backoff(sm, rnd), st));
        sm->rv[0] = '\0';
        return plan(INF_ACT_LIST, at_least_retry_after(inf_sm_backoff(sm, rnd), st));
    }
    /* A clean end of the stream. */
    if (!healthy && e->lived_ms < SHORT_WATCH_MS) {
        sm->rv[0] = '\0';
        return plan(INF_ACT_LIST, inf_sm_backoff(sm, rnd));
    }
    if (!sm->rv[0])
        return plan(INF_ACT_LIST, 0);
    return plan(INF_ACT_WATCH, 0);
}

struct inf_plan inf_sm_list_failed(struct inf_sm *sm, int err, long http_status,
                                   const struct kstatus *status, double rnd)
{
    (void)err;
    (void)http_status;
    return plan(INF_ACT_LIST, at_least_retry_after(inf_sm_backoff(sm, rnd), status));
}
