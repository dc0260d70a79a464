/* trigd's insides, shared by its files:
 *   trigd.c         lifecycle, the Trigger informer, per-Trigger state
 *   trigd_hook.c    the webhook endpoint
 *   trigd_secret.c  the Secret cache (get by name, never list)
 *   trigd_sched.c   schedules (leader only) and the clock
 *   trigd_status.c  status writes: Ready, lastDelivery, counters, slots */
#ifndef RB_TRIGD_INTERNAL_H
#define RB_TRIGD_INTERNAL_H

#include <json-c/json.h>
#include <json-c/linkhash.h>

#include "cron/cron.h"
#include "http/http.h"
#include "informer/inf.h"
#include "kube/kube.h"
#include "limit/limit.h"
#include "trigd/trigd.h"
#include "trigger/trigger.h"

#define TRIGD_FLUSH_MS 1000       /* status writes are coalesced this long */
#define TRIGD_SECRET_TTL_MS 10000 /* a Secret read serves deliveries this long */
#define TRIGD_SECRET_MISS_MS 2000 /* a missing Secret is asked again after this */
#define TRIGD_RETRY_AFTER "5"     /* seconds, on 503 */
#define TRIGD_MISSED_MAX 100      /* more missed slots: fire the latest, with an Event */
/* Deliveries held while the API answers, at most: past these, 503. A
 * bound on memory whatever senders do (bodies are up to --webhook-max-body). */
#define TRIGD_WAITING_MAX 512
#define TRIGD_WAITING_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* The cached record of one Trigger (the informer's projection). */
struct trigd_rec {
    struct json_object *obj; /* a private copy, less managedFields */
    struct trig_spec *spec;  /* NULL when invalid: err says why */
    char err_reason[32];
    char err[512];
    struct cron_expr cron; /* has_cron: spec.schedule parsed and its zone loaded */
    struct cron_tz *tz;
    int has_cron;
    const char *uid;   /* in obj */
    int64_t created_s; /* metadata.creationTimestamp */
    int64_t generation;
    int64_t last_sched_s; /* status.lastScheduleTime; -1 when none */
};

extern const struct inf_projection trigd_projection;

/* What this replica knows of one Trigger beyond its cached object. */
struct trigd_tr {
    char ns[64], name[64], uid[64];
    struct limit_bucket bucket;
    uint64_t counts[TRIGD_RESULT_MAX]; /* served here, for /metrics */
    /* a status write waiting (dirty) or in flight */
    int dirty, flushing;
    uint64_t delta[TRIGD_RESULT_MAX]; /* not yet added to status.deliveries */
    uint64_t sending[TRIGD_RESULT_MAX];
    char last_id[TRIG_DELIVERY_LEN], last_result[32], last_run[64];
    int last_code;
    int64_t last_ms, fired_ms; /* the last delivery; the last run created */
    /* Results this replica has to report (lastResult, lastFired), and how
     * many of them the write in flight carries. A replica writes those
     * fields only when it has something new: two replicas each putting
     * back their own last result would answer each other's writes forever. */
    unsigned news, news_sending;
    /* schedules */
    int64_t fired_slot;  /* the last slot created or found created; -1 */
    int64_t next_s;      /* the next slot, for status.nextScheduleTime; -1 */
    int sched_busy;      /* a create in flight */
    int64_t warned_slot; /* the slot an Event was sent about */
    int secret_missing;  /* the last Secret read found none */
};

struct trigd_dlv;

struct trigd {
    uv_loop_t *loop;
    struct kube_client *kc;
    struct trigd_options opt;
    char *ns, *addr, *tls_cert, *tls_key, *instance;
    struct inf *inf;
    struct http_server *http;
    struct lh_table *trs;          /* key "ns/name": struct trigd_tr */
    struct lh_table *secrets;      /* key "ns/name/key": struct trigd_secret */
    struct lh_table *reading;      /* key "ns/name/key": the read in flight */
    size_t waiting, waiting_bytes; /* deliveries held, and their bodies */
    struct trigd_dlv *dlvs;        /* deliveries waiting on the API */
    uv_timer_t sched_timer, flush_timer;
    int leading, started, closing, pending_closes;
    int api_calls; /* requests in flight: trigd frees itself after the last */
    void (*closed)(void *ud);
    void *closed_ud;
    struct trigd_stats stats;
    trigd_obj_fn observer; /* the UI's, or NULL */
    void *observer_ud;
    int64_t clock_ref_s; /* test builds: RUNBOOK_TEST_CLOCK */
    double clock_speed;
};

/* trigd.c */
struct trigd_tr *trigd_tr_get(struct trigd *t, const char *ns, const char *name, const char *uid);
const struct trigd_rec *trigd_rec_get(const struct trigd *t, const char *ns, const char *name);
void trigd_count(struct trigd *t, struct trigd_tr *tr, enum trigd_result r);
/* Around every API request: begin before sending, end as the LAST thing
 * its callback does (t may be gone after). While closing, callbacks only
 * clean up. */
void trigd_api_begin(struct trigd *t);
void trigd_api_end(struct trigd *t);

/* trigd_hook.c */
extern const struct http_route trigd_routes[];
extern const size_t trigd_n_routes;
void trigd_hook_close_all(struct trigd *t); /* answers 503 to every waiting delivery */

/* trigd_secret.c: the key's bytes, cached. */
struct trigd_secret;
void trigd_secret_free(struct lh_entry *e);
void trigd_reading_free(struct lh_entry *e);
/* 1 when cached: *val and *len, or val NULL when known missing, then *why
 * says why; 0 when it must be read (trigd_secret_read). */
int trigd_secret_cached(struct trigd *t, const char *ns, const char *name, const char *key,
                        const char **val, size_t *len, const char **why);
/* Reads the Secret, caches its key, then done(ud). 0 or -errno. */
int trigd_secret_read(struct trigd *t, const char *ns, const char *name, const char *key,
                      void (*done)(void *ud), void *ud);

/* trigd_sched.c */
int64_t trigd_now_s(const struct trigd *t); /* schedules' clock: the wall's, or the test clock */
int64_t trigd_wall_s(void);                 /* deliveries' clock (signature timestamps) */
void trigd_sched_kick(struct trigd *t);     /* recompute and arm the timer */

/* trigd_status.c */
void trigd_status_dirty(struct trigd *t, struct trigd_tr *tr);
void trigd_status_flush(uv_timer_t *timer);

#endif
