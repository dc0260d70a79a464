/* ui_session.c - one browser tab: its WebSocket, the person behind it,
 * what that person may see and do, and the run changes sent to it.
 *
 * A session signs in with a bearer token (the first message, or the
 * upgrade request's Authorization header from an auth proxy). The token is
 * only ever used in a kube client of the session's own, built from the
 * operator's server and CA (struct ui.base) and nothing else, so a person
 * can never borrow the operator's rights: the API server authenticates the
 * person and RBAC decides. Sign-in is a SelfSubjectReview (who is this),
 * then SelfSubjectAccessReviews: may they list workflowruns everywhere,
 * else in which namespace of the cached runs. Answers are asked again every
 * auth_ttl (ui_refresh_all) and when a run shows up in a namespace not yet
 * asked about.
 *
 * Lifetime: the session lives from the WebSocket's open until both the
 * socket is closed and its client has called back closed (which comes
 * after every callback of its requests, each with -ECANCELED if cut): a
 * request's callback may therefore always read its session, and checks
 * s->ws before answering. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "log/log.h"
#include "ui/ui-internal.h"

static const struct kube_resource SSR = {"authentication.k8s.io", "v1", "selfsubjectreviews", 0};
static const struct kube_resource SSAR = {"authorization.k8s.io", "v1", "selfsubjectaccessreviews",
                                          0};

/* Core v1 Events: the field selector on involvedObject works on both
 * kinds of Event the cluster stores (events.k8s.io ones too). */
static const struct kube_resource CORE_EVENTS = {"", "v1", "events", 1};

/* A run page's Events come from a LIST with the person's token (RBAC
 * decides whether they may read them), at most once per this interval
 * while the run changes: an open page must not turn every status write
 * into a LIST. */
#define EVENTS_EVERY_MS 5000
#define EVENTS_MAX 50

/* What one session may hold, so that a signed-in tab (any valid token
 * will do) cannot grow the operator's memory or its queue of requests:
 * namespaces asked about, requests of the person's client in flight. */
#define PERMS_MAX 256
#define REQS_MAX 32
/* A tab that has not signed in by then is closed (it holds a slot). */
#define SIGNIN_WITHIN_MS 120000

enum { PERM_ASKING = -1, PERM_NO = 0, PERM_YES = 1 };

/* What the person may do in one namespace ("" : every namespace). */
struct perm {
    char ns[64];
    signed char list, patch;    /* PERM_*; PERM_ASKING also before the first ask */
    uint64_t list_at, patch_at; /* uv_now() of the answers: old ones count as no */
};

enum state { SS_NEW = 0, SS_AUTH, SS_READY };

struct ui_session {
    struct ui *u;
    struct ui_session *prev, *next;
    struct http_ws *ws; /* NULL once the socket is gone */
    enum state state;
    char *token; /* wiped on free */
    struct kube_client *kc;
    char user[256];
    struct perm *perms;
    size_t n_perms;
    unsigned pending_checks; /* access reviews sign-in waits for */
    int want_runs;
    int want_run;
    char run_ns[64], run_name[254];
    /* The watched run's Events as last listed (owned), when, and whether
     * a LIST is out or another is due. */
    struct json_object *events;
    uint64_t events_at;
    int events_out, events_due;
    unsigned out;       /* requests in flight (REQS_MAX) */
    uint64_t opened_at; /* uv_now() of the upgrade */
    uint64_t runs_at;   /* the last full runs list */
};

/* One request of a person's client in flight. */
struct req {
    struct ui_session *s;
    char verb[8]; /* access reviews: "list" or "patch" */
    char ns[64];
    char name[254];
    int64_t id;
};

static void wipe_free(char *p)
{
    if (!p)
        return;
    volatile char *v = p;
    while (*v)
        *v++ = '\0';
    free(p);
}

/* NULL past REQS_MAX in flight: the caller answers as on a failed send. */
static struct req *req_new(struct ui_session *s, const char *verb, const char *ns)
{
    struct req *q = s->out < REQS_MAX ? calloc(1, sizeof *q) : NULL;
    if (!q)
        return NULL;
    s->out++;
    q->s = s;
    snprintf(q->verb, sizeof q->verb, "%s", verb ? verb : "");
    snprintf(q->ns, sizeof q->ns, "%s", ns ? ns : "");
    return q;
}

static void req_free(struct req *q)
{
    if (!q)
        return;
    q->s->out--;
    free(q);
}

/* --- sending ----------------------------------------------------------------- */

static void send_json(struct ui_session *s, struct json_object *o)
{
    size_t len = 0;
    const char *txt = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    if (!s->ws || !txt)
        return;
    int rc = http_ws_send(s->ws, txt, len);
    if (rc == 0) {
        s->u->st.messages_out++;
    } else if (rc == -ENOBUFS) {
        /* It does not read what it is sent: a tab left in the background
         * on a busy cluster. Closing bounds the memory it costs; the page
         * reconnects and starts from a fresh list. */
        s->u->st.slow_closed++;
        http_ws_close(s->ws, 1013, "too slow to read");
    }
}

static void send_put(struct ui_session *s, struct json_object *o)
{
    send_json(s, o);
    json_object_put(o);
}

static struct json_object *msg(const char *type)
{
    struct json_object *o = kj_obj();
    kj_put(o, "type", kj_str(type));
    return o;
}

static void send_error(struct ui_session *s, const char *text)
{
    struct json_object *o = msg("error");
    kj_put(o, "message", kj_str(text));
    send_put(s, o);
}

/* --- what the person may do ------------------------------------------------------ */

static struct perm *perm_of(struct ui_session *s, const char *ns)
{
    for (size_t i = 0; i < s->n_perms; i++)
        if (strcmp(s->perms[i].ns, ns) == 0)
            return &s->perms[i];
    return NULL;
}

static struct perm *perm_add(struct ui_session *s, const char *ns)
{
    struct perm *p = perm_of(s, ns);
    if (p)
        return p;
    if (s->n_perms >= PERMS_MAX)
        return NULL; /* then nothing more is asked: unknown counts as no */
    p = realloc(s->perms, (s->n_perms + 1) * sizeof *p);
    if (!p)
        return NULL;
    s->perms = p;
    p = &s->perms[s->n_perms++];
    snprintf(p->ns, sizeof p->ns, "%s", ns);
    p->list = p->patch = PERM_ASKING;
    p->list_at = p->patch_at = 0;
    return p;
}

/* A yes is trusted for two refresh periods: if the re-asks do not come
 * back (the API server is down), access fails closed. */
static int fresh_yes(const struct ui_session *s, signed char v, uint64_t at)
{
    return v == PERM_YES && uv_now(s->u->loop) <= at + 2 * (uint64_t)s->u->auth_ttl_ms;
}

static int visible(struct ui_session *s, const char *ns)
{
    struct perm *all = perm_of(s, ""), *p = perm_of(s, ns);
    return (all && fresh_yes(s, all->list, all->list_at)) ||
           (p && fresh_yes(s, p->list, p->list_at));
}

static int can_patch(struct ui_session *s, const char *ns)
{
    struct perm *p = perm_of(s, ns);
    return p && fresh_yes(s, p->patch, p->patch_at);
}

static void ask(struct ui_session *s, const char *verb, const char *ns);

/* --- runs as the person sees them ------------------------------------------------ */

struct collect {
    struct ui_session *s;
    const char *only_ns; /* NULL: every visible namespace */
    struct json_object *items;
    struct json_object **runs; /* for sorting */
    size_t n, cap;
    int oom;
};

static void collect_one(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    struct collect *c = ud;
    if (c->oom || !visible(c->s, ns) || (c->only_ns && strcmp(ns, c->only_ns) != 0))
        return;
    struct json_object *run = kube_json_parse(json, len);
    if (!run)
        return;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 64;
        struct json_object **p = realloc(c->runs, ncap * sizeof(struct json_object *));
        if (!p) {
            c->oom = 1;
            json_object_put(run);
            return;
        }
        c->runs = p;
        c->cap = ncap;
    }
    c->runs[c->n++] = ui_run_summary(run);
    json_object_put(run);
}

/* Newest first: RFC 3339 times in UTC sort as strings; names break ties. */
static int newest_first(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
    const char *ca = kj_get_str(a, "created"), *cb = kj_get_str(b, "created");
    int c = strcmp(cb ? cb : "", ca ? ca : "");
    if (c)
        return c;
    const char *na = kj_get_str(a, "name"), *nb = kj_get_str(b, "name");
    return strcmp(na ? na : "", nb ? nb : "");
}

static void send_runs(struct ui_session *s)
{
    struct collect c = {.s = s};
    s->runs_at = uv_now(s->u->loop);
    ctrl_runs_each(s->u->ctrl, collect_one, &c);
    if (c.n) /* runs is NULL then, which qsort may not take */
        qsort(c.runs, c.n, sizeof(struct json_object *), newest_first);
    struct json_object *o = msg("runs"), *items = kj_arr();
    for (size_t i = 0; i < c.n; i++)
        kj_push(items, c.runs[i]);
    free(c.runs);
    kj_put(o, "items", items);
    send_put(s, o);
}

/* The runs of one namespace that just became visible, one message each. */
static void send_runs_of(struct ui_session *s, const char *ns)
{
    struct collect c = {.s = s, .only_ns = ns};
    ctrl_runs_each(s->u->ctrl, collect_one, &c);
    for (size_t i = 0; i < c.n; i++) {
        struct json_object *o = msg("run");
        kj_put(o, "item", c.runs[i]);
        send_put(s, o);
    }
    free(c.runs);
}

static void send_gone(struct ui_session *s)
{
    struct json_object *o = msg("run_detail");
    kj_put(o, "namespace", kj_str(s->run_ns));
    kj_put(o, "name", kj_str(s->run_name));
    kj_put(o, "gone", kj_bool(1));
    send_put(s, o);
}

static void detail_of(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    struct ui_session *s = ud;
    struct json_object *run = kube_json_parse(json, len);
    if (!run)
        return;
    struct json_object *o = msg("run_detail"), *d = ui_run_detail(run, can_patch(s, ns));
    if (s->events)
        kj_put(d, "events", json_object_get(s->events));
    kj_put(o, "item", d);
    json_object_put(run);
    send_put(s, o);
}

/* The watched run's page, as far as the person may see it: a run in a
 * namespace they may not list is "gone" (its existence is not told). */
static void send_detail(struct ui_session *s)
{
    struct perm *p = perm_of(s, s->run_ns);
    if (!visible(s, s->run_ns) && p && p->list == PERM_ASKING)
        return; /* the answer sends it */
    if (!visible(s, s->run_ns) || !ctrl_run_get(s->u->ctrl, s->run_ns, s->run_name, detail_of, s))
        send_gone(s);
}

/* An Event as the page shows it; NULL for one not about uid. */
static struct json_object *event_item(struct json_object *ev, const char *uid)
{
    const char *about = kj_path_str(ev, "involvedObject", "uid", NULL);
    if (!about || !uid || strcmp(about, uid) != 0)
        return NULL;
    struct json_object *e = kj_obj();
    const char *t = kj_get_str(ev, "eventTime");
    if (!t)
        t = kj_get_str(ev, "lastTimestamp");
    if (!t)
        t = kj_path_str(ev, "metadata", "creationTimestamp", NULL);
    kj_put(e, "type", kj_str(kj_get_str(ev, "type") ? kj_get_str(ev, "type") : ""));
    kj_put(e, "reason", kj_str(kj_get_str(ev, "reason") ? kj_get_str(ev, "reason") : ""));
    kj_put(e, "message", kj_str(kj_get_str(ev, "message") ? kj_get_str(ev, "message") : ""));
    if (t)
        kj_put(e, "time", kj_str(t));
    return e;
}

static int oldest_first(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
    const char *ta = kj_get_str(a, "time"), *tb = kj_get_str(b, "time");
    return strcmp(ta ? ta : "", tb ? tb : "");
}

struct uid_of {
    char uid[64];
};

static void uid_of(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)ns;
    (void)name;
    struct json_object *run = kube_json_parse(json, len);
    snprintf(((struct uid_of *)ud)->uid, sizeof((struct uid_of *)ud)->uid, "%s",
             kj_path_str(run, "metadata", "uid", NULL) ? kj_path_str(run, "metadata", "uid", NULL)
                                                       : "");
    json_object_put(run);
}

static void fetch_events(struct ui_session *s);

static void events_cb(void *ud, const struct kube_result *r)
{
    struct req *q = ud;
    struct ui_session *s = q->s;
    s->events_out = 0;
    if (s->ws && s->want_run && strcmp(q->ns, s->run_ns) == 0 &&
        strcmp(q->name, s->run_name) == 0 && r->err == 0 && r->http_status == 200) {
        struct uid_of u = {{0}};
        (void)ctrl_run_get(s->u->ctrl, q->ns, q->name, uid_of, &u);
        struct json_object *items = kj_get(r->body, "items");
        size_t n =
            json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
        struct json_object **all = n ? calloc(n, sizeof(struct json_object *)) : NULL;
        size_t k = 0;
        for (size_t i = 0; all && i < n; i++) {
            struct json_object *e = event_item(json_object_array_get_idx(items, i), u.uid);
            if (e)
                all[k++] = e;
        }
        if (k)
            qsort(all, k, sizeof(struct json_object *), oldest_first);
        struct json_object *arr = kj_arr();
        for (size_t i = 0; i < k; i++) {
            if (i + EVENTS_MAX >= k)
                kj_push(arr, all[i]);
            else
                json_object_put(all[i]);
        }
        free(all);
        json_object_put(s->events);
        s->events = arr;
        send_detail(s);
    }
    /* A person who may not list Events sees none; nothing else changes. */
    req_free(q);
    if (s->ws && s->events_due)
        fetch_events(s);
}

/* Lists the watched run's Events with the person's token, now if the
 * last LIST is old enough, else marks one due (ui_events_tick). */
static void fetch_events(struct ui_session *s)
{
    uint64_t now = uv_now(s->u->loop);
    if (!s->want_run || s->state != SS_READY || !s->kc)
        return;
    if (s->events_out || (s->events_at && now < s->events_at + EVENTS_EVERY_MS)) {
        s->events_due = 1;
        return;
    }
    char sel[400];
    snprintf(sel, sizeof sel, "involvedObject.kind=WorkflowRun,involvedObject.name=%s",
             s->run_name);
    struct kube_list_opts lo = {.field_selector = sel};
    struct req *q = req_new(s, NULL, s->run_ns);
    if (!q)
        return;
    snprintf(q->name, sizeof q->name, "%s", s->run_name);
    s->events_due = 0;
    s->events_at = now;
    if (kube_list(s->kc, &CORE_EVENTS, s->run_ns, &lo, events_cb, q) < 0) {
        req_free(q);
        return;
    }
    s->events_out = 1;
}

void ui_events_tick(struct ui *u)
{
    uint64_t now = uv_now(u->loop);
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        if (s->ws && s->events_due && !s->events_out)
            fetch_events(s);
        if (s->ws && s->state == SS_NEW && now > s->opened_at + SIGNIN_WITHIN_MS)
            http_ws_close(s->ws, UI_CLOSE_AUTH, "no sign-in"); /* the page reconnects */
    }
}

/* The run page: may the person see that namespace, and patch there? */
static void exists(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)ud;
    (void)ns;
    (void)name;
    (void)json;
    (void)len;
}

static void watch_run(struct ui_session *s)
{
    struct perm *p = perm_of(s, s->run_ns);
    if (!ctrl_run_get(s->u->ctrl, s->run_ns, s->run_name, exists, NULL)) {
        send_gone(s); /* nothing to ask the API server about */
        return;
    }
    fetch_events(s);
    if (!visible(s, s->run_ns) && (!p || p->list == PERM_ASKING))
        ask(s, "list", s->run_ns);
    if (!p || p->patch == PERM_ASKING)
        ask(s, "patch", s->run_ns);
    send_detail(s);
}

static void ready(struct ui_session *s)
{
    s->state = SS_READY;
    s->u->st.signins++;
    struct json_object *o = msg("hello"), *nss = kj_arr();
    kj_put(o, "user", kj_str(s->user));
    for (size_t i = 0; i < s->n_perms; i++)
        if (s->perms[i].ns[0] && s->perms[i].list == PERM_YES)
            kj_push(nss, kj_str(s->perms[i].ns));
    kj_put(o, "namespaces", nss);
    kj_put(o, "allNamespaces", kj_bool(visible(s, "")));
    kj_put(o, "anonymous", kj_bool(0));
    send_put(s, o);
    if (s->want_runs)
        send_runs(s);
    if (s->want_run)
        watch_run(s);
}

struct ns_set {
    struct ui_session *s;
};

static void ask_ns(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    (void)json;
    (void)len;
    struct ui_session *s = ((struct ns_set *)ud)->s;
    if (!perm_of(s, ns))
        ask(s, "list", ns);
}

/* An access review answered (or not: then it counts as no). */
static void perm_set(struct ui_session *s, const char *verb, const char *ns, int allowed)
{
    struct perm *p = perm_add(s, ns);
    if (!p)
        return;
    int list = strcmp(verb, "list") == 0;
    signed char *v = list ? &p->list : &p->patch;
    int changed = *v != (allowed ? PERM_YES : PERM_NO);
    *v = allowed ? PERM_YES : PERM_NO;
    *(list ? &p->list_at : &p->patch_at) = uv_now(s->u->loop);
    if (s->state == SS_AUTH) {
        if (--s->pending_checks == 0)
            ready(s);
        return;
    }
    if (s->state != SS_READY || !changed)
        return;
    if (list && ns[0] == '\0' && !allowed) {
        /* No longer everywhere: namespace by namespace, as at sign-in. */
        struct ns_set set = {s};
        ctrl_runs_each(s->u->ctrl, ask_ns, &set);
    }
    if (list && s->want_runs && (ns[0] == '\0' || !allowed))
        send_runs(s); /* a namespace went away, or all of them changed */
    else if (list && s->want_runs)
        send_runs_of(s, ns);
    if (s->want_run && (ns[0] == '\0' || strcmp(ns, s->run_ns) == 0))
        send_detail(s);
}

static void ask_cb(void *ud, const struct kube_result *r)
{
    struct req *q = ud;
    struct ui_session *s = q->s;
    if (s->ws) {
        int allowed = r->err == 0 && r->http_status / 100 == 2 &&
                      kj_get_bool(kj_get(r->body, "status"), "allowed");
        if (r->err || r->http_status / 100 != 2)
            log_kv(LOGL_WARN, "ui: access review failed", "user", s->user, "namespace",
                   q->ns[0] ? q->ns : NULL, "error",
                   r->status.message[0] ? r->status.message : strerror(-r->err), NULL);
        perm_set(s, q->verb, q->ns, allowed);
    }
    req_free(q);
}

/* Sends a SelfSubjectAccessReview with the person's token: may they
 * `verb` workflowruns in ns ("" : in every namespace)? cb gets a struct
 * req. 0 or < 0 (nothing sent). */
static int send_review(struct ui_session *s, const char *verb, const char *ns, kube_cb cb)
{
    struct req *q = req_new(s, verb, ns);
    struct json_object *body = kj_obj(), *spec = kj_obj(), *ra = kj_obj();
    kj_put(body, "apiVersion", kj_str("authorization.k8s.io/v1"));
    kj_put(body, "kind", kj_str("SelfSubjectAccessReview"));
    kj_put(ra, "group", kj_str("runbook.dev"));
    kj_put(ra, "resource", kj_str("workflowruns"));
    kj_put(ra, "verb", kj_str(verb));
    if (ns[0])
        kj_put(ra, "namespace", kj_str(ns));
    kj_put(spec, "resourceAttributes", ra);
    kj_put(body, "spec", spec);
    int rc = q ? kube_create(s->kc, &SSAR, NULL, body, cb, q) : -ENOMEM;
    if (rc < 0)
        req_free(q);
    json_object_put(body);
    return rc;
}

static void ask(struct ui_session *s, const char *verb, const char *ns)
{
    if (!perm_add(s, ns))
        return; /* PERMS_MAX: not asked, so not allowed */
    if (s->state == SS_AUTH)
        s->pending_checks++;
    if (send_review(s, verb, ns, ask_cb) < 0 && s->state == SS_AUTH)
        s->pending_checks--;
}

static void auth_failed(struct ui_session *s, const char *why)
{
    s->u->st.signins_failed++;
    struct json_object *o = msg("auth_failed");
    kj_put(o, "message", kj_str(why));
    send_put(s, o);
    if (s->ws)
        http_ws_close(s->ws, UI_CLOSE_AUTH, "sign-in refused");
}

static void list_all_cb(void *ud, const struct kube_result *r)
{
    struct req *q = ud;
    struct ui_session *s = q->s;
    req_free(q);
    if (!s->ws)
        return;
    int allowed = r->err == 0 && r->http_status / 100 == 2 &&
                  kj_get_bool(kj_get(r->body, "status"), "allowed");
    struct perm *all = perm_add(s, "");
    if (all) {
        all->list = allowed ? PERM_YES : PERM_NO;
        all->list_at = uv_now(s->u->loop);
    }
    if (!allowed) {
        /* Namespace by namespace, those that hold runs now; a run in a
         * namespace not asked about yet asks when it shows up. */
        struct ns_set set = {s};
        s->pending_checks++; /* held while the asks go out */
        ctrl_runs_each(s->u->ctrl, ask_ns, &set);
        if (--s->pending_checks > 0)
            return;
    }
    ready(s);
}

static void whoami_cb(void *ud, const struct kube_result *r)
{
    struct req *q = ud;
    struct ui_session *s = q->s;
    req_free(q);
    if (!s->ws)
        return;
    if (r->err || r->http_status / 100 != 2) {
        char why[640];
        if (r->http_status == 401)
            snprintf(why, sizeof why,
                     "the API server did not accept this token (401 Unauthorized)");
        else
            snprintf(why, sizeof why, "sign-in failed: %s",
                     r->status.message[0] ? r->status.message : strerror(-r->err));
        auth_failed(s, why);
        return;
    }
    const char *user = kj_path_str(r->body, "status", "userInfo", "username", NULL);
    snprintf(s->user, sizeof s->user, "%s", user ? user : "");
    if (send_review(s, "list", "", list_all_cb) < 0)
        auth_failed(s, "sign-in failed: out of memory");
}

/* The person's client: the operator's server and CA, their token. */
static int start_auth(struct ui_session *s)
{
    struct ui *u = s->u;
    struct kcfg cfg = u->base;
    cfg.token = s->token;
    struct kube_options ko = {.qps = 5,
                              .burst = 20,
                              .timeout_ms = u->api_timeout_ms,
                              .max_tries = 2,
                              .user_agent = u->user_agent,
                              .max_host_connections = 4};
    int rc = kube_client_new(u->loop, &cfg, &ko, &s->kc);
    /* The client keeps its own copy: ours goes at once. */
    wipe_free(s->token);
    s->token = NULL;
    if (rc < 0)
        return rc;
    s->state = SS_AUTH;
    struct json_object *body = kj_obj();
    kj_put(body, "apiVersion", kj_str("authentication.k8s.io/v1"));
    kj_put(body, "kind", kj_str("SelfSubjectReview"));
    struct req *q = req_new(s, NULL, NULL);
    rc = q ? kube_create(s->kc, &SSR, NULL, body, whoami_cb, q) : -ENOMEM;
    if (rc < 0)
        req_free(q);
    json_object_put(body);
    return rc;
}

/* --- cancel and run again, with the person's token --------------------------------- */

/* The answer to a write: {"type":"result","id","ok"} and, refused, the
 * API server's code and its own words ("forbidden: User ... cannot
 * patch"); created, the new object's name. */
static void send_result(struct ui_session *s, int64_t id, long code, const char *message,
                        const char *name)
{
    struct json_object *o = msg("result");
    kj_put(o, "id", kj_int(id));
    kj_put(o, "ok", kj_bool(message == NULL));
    if (message) {
        kj_put(o, "code", kj_int(code));
        kj_put(o, "message", kj_str(message));
    } else if (name) {
        kj_put(o, "name", kj_str(name));
    }
    send_put(s, o);
}

/* A write answered: counted, told, logged. q->verb is "cancel" or "again". */
static void write_cb(void *ud, const struct kube_result *r)
{
    struct req *q = ud;
    struct ui_session *s = q->s;
    if (s->ws) {
        int ok = r->err == 0 && r->http_status / 100 == 2;
        if (ok)
            s->u->st.writes_ok++;
        else if (r->http_status >= 400 && r->http_status < 500)
            s->u->st.writes_refused++;
        else
            s->u->st.writes_failed++;
        int created = strcmp(q->verb, "again") == 0;
        send_result(s, q->id, r->http_status,
                    ok                     ? NULL
                    : r->status.message[0] ? r->status.message
                                           : strerror(-r->err),
                    created ? kj_path_str(r->body, "metadata", "name", NULL) : NULL);
        log_kv(LOGL_INFO, created ? "ui: run again" : "ui: cancel", "user", s->user, "namespace",
               q->ns, "run", q->name, "result", ok ? "ok" : "refused", NULL);
    }
    req_free(q);
}

static void cancel(struct ui_session *s, const struct ui_msg *m)
{
    static const char patch[] = "{\"spec\":{\"cancel\":true}}";
    struct req *q = req_new(s, "cancel", m->ns);
    int rc = -ENOMEM;
    if (q) {
        snprintf(q->name, sizeof q->name, "%s", m->name);
        q->id = m->id;
        rc = kube_patch(s->kc, &KUBE_WORKFLOWRUNS, m->ns, m->name, patch, sizeof patch - 1, NULL,
                        write_cb, q);
    }
    if (rc < 0) {
        req_free(q);
        send_result(s, m->id, 0, strerror(-rc), NULL);
    }
}

struct again {
    struct ui_session *s;
    const struct ui_msg *m;
    int rc;
};

static void again_of(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    struct again *a = ud;
    struct json_object *run = kube_json_parse(json, len), *body = run ? ui_run_again(run) : NULL;
    struct req *q = body ? req_new(a->s, "again", ns) : NULL;
    a->rc = -ENOMEM;
    if (q) {
        snprintf(q->name, sizeof q->name, "%s", a->m->name);
        q->id = a->m->id;
        a->rc = kube_create(a->s->kc, &KUBE_WORKFLOWRUNS, ns, body, write_cb, q);
        if (a->rc < 0)
            req_free(q);
    }
    json_object_put(body);
    json_object_put(run);
}

/* A new run like this one, created with the person's token: RBAC decides
 * whether they may create runs (and so run pods) there. A run the person
 * may not see is "not found", as on its page. */
static void run_again(struct ui_session *s, const struct ui_msg *m)
{
    struct again a = {s, m, -ENOENT};
    if (visible(s, m->ns))
        (void)ctrl_run_get(s->u->ctrl, m->ns, m->name, again_of, &a);
    if (a.rc < 0)
        send_result(s, m->id, a.rc == -ENOENT ? 404 : 0,
                    a.rc == -ENOENT ? "no such run" : strerror(-a.rc), NULL);
}

/* --- the WebSocket route ------------------------------------------------------------ */

/* A browser always sends Origin on a WebSocket; it must be this very
 * server (Host), or a page elsewhere could drive a signed-in person's
 * socket (cross-site WebSocket hijacking with an auth proxy's header).
 * Clients that are not browsers send none. */
static int origin_ok(const struct http_request *req)
{
    const char *origin = http_request_header(req, "origin");
    const char *host = http_request_header(req, "host");
    if (!origin)
        return 1;
    const char *sep = strstr(origin, "://");
    return host && sep && strcmp(sep + 3, host) == 0;
}

static void session_free(struct ui_session *s)
{
    struct ui *u = s->u;
    if (s->prev)
        s->prev->next = s->next;
    else
        u->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    u->n_sessions--;
    wipe_free(s->token);
    free(s->perms);
    json_object_put(s->events);
    free(s);
    ui_maybe_done(u);
}

int ui_ws_open(void *ud, struct http_ws *ws, const struct http_request *req)
{
    struct ui *u = ud;
    if (u->closing)
        return 503;
    if (!origin_ok(req))
        return 403;
    struct ui_session *s = calloc(1, sizeof *s);
    if (!s)
        return 503;
    s->u = u;
    s->ws = ws;
    s->next = u->sessions;
    if (s->next)
        s->next->prev = s;
    u->sessions = s;
    u->n_sessions++;
    u->st.sessions++;
    s->opened_at = uv_now(u->loop);
    http_ws_set_data(ws, s);
    /* An auth proxy in front (oauth2-proxy) puts the person's token here. */
    const char *auth = http_request_header(req, "authorization");
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && ui_token_ok(auth + 7)) {
        s->token = strdup(auth + 7);
        if (!s->token || start_auth(s) < 0)
            s->state = SS_NEW; /* the page may still send a token of its own */
    }
    return 0;
}

void ui_ws_message(void *ud, struct http_ws *ws, const char *data, size_t len)
{
    struct ui *u = ud;
    struct ui_session *s = http_ws_data(ws);
    struct ui_msg m;
    char err[128];
    u->st.messages_in++;
    if (!s)
        return;
    if (ui_msg_parse(data, len, &m, err, sizeof err) < 0) {
        u->st.bad_messages++;
        send_error(s, err);
        return;
    }
    switch (m.type) {
    case UI_MSG_AUTH:
        if (s->state != SS_NEW || s->kc) {
            send_error(s, "already signed in: open a new connection to change the token");
            break;
        }
        s->token = m.token;
        m.token = NULL;
        if (start_auth(s) < 0)
            auth_failed(s, "sign-in failed: cannot reach the API server");
        break;
    case UI_MSG_WATCH_RUNS:
        s->want_runs = 1;
        /* A full list costs a parse of every visible run: one a second. */
        if (s->state == SS_READY && (!s->runs_at || uv_now(u->loop) >= s->runs_at + 1000))
            send_runs(s);
        break;
    case UI_MSG_WATCH_RUN:
        s->want_run = 1;
        snprintf(s->run_ns, sizeof s->run_ns, "%s", m.ns);
        snprintf(s->run_name, sizeof s->run_name, "%s", m.name);
        json_object_put(s->events); /* another run's; the 5 s spacing spans runs */
        s->events = NULL;
        if (s->state == SS_READY)
            watch_run(s);
        break;
    case UI_MSG_RUN_AGAIN:
    case UI_MSG_CANCEL:
        if (s->state != SS_READY) {
            send_result(s, m.id, 401, "sign in first", NULL);
            break;
        }
        if (m.type == UI_MSG_CANCEL)
            cancel(s, &m);
        else
            run_again(s, &m);
        break;
    case UI_MSG_NONE:
        break;
    }
    ui_msg_clear(&m);
}

static void kc_closed(void *ud)
{
    session_free(ud);
}

void ui_ws_close(void *ud, struct http_ws *ws)
{
    (void)ud;
    struct ui_session *s = http_ws_data(ws);
    if (!s)
        return;
    s->ws = NULL;
    if (s->kc)
        kube_client_close(s->kc, kc_closed, s); /* its callbacks first, then kc_closed */
    else
        session_free(s);
}

/* --- run changes, to every session that shows them ------------------------------------ */

void ui_run_changed(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    struct ui *u = ud;
    struct json_object *run = NULL, *summary = NULL;
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        if (!s->ws || s->state != SS_READY)
            continue;
        if (s->want_runs && !visible(s, ns) && !perm_of(s, ns) && json)
            ask(s, "list", ns); /* a namespace not asked about yet */
        if (s->want_runs && visible(s, ns)) {
            if (!json) {
                struct json_object *o = msg("run_deleted");
                kj_put(o, "namespace", kj_str(ns));
                kj_put(o, "name", kj_str(name));
                send_put(s, o);
            } else {
                if (!run)
                    run = kube_json_parse(json, len);
                if (run && !summary)
                    summary = ui_run_summary(run);
                if (summary) {
                    struct json_object *o = msg("run");
                    kj_put(o, "item", json_object_get(summary));
                    send_put(s, o);
                }
            }
        }
        /* Nothing about a run in a namespace the person may not list, not
         * even that it changed: its page says "gone" once, whatever comes. */
        if (s->want_run && strcmp(s->run_ns, ns) == 0 && strcmp(s->run_name, name) == 0) {
            if (visible(s, ns)) {
                send_detail(s);
                fetch_events(s); /* a change of the run often comes with an Event */
            } else if (json && !perm_of(s, ns)) {
                watch_run(s); /* it exists now: ask about its namespace */
            }
        }
    }
    json_object_put(summary);
    json_object_put(run);
}

/* Access answers go stale (a RoleBinding removed): asked again. */
void ui_refresh_all(struct ui *u)
{
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        /* One round at a time: with the last one still out (many
         * namespaces, a slow API server) the queue would only grow. */
        if (!s->ws || s->state != SS_READY || s->out)
            continue;
        size_t n = s->n_perms;
        for (size_t i = 0; i < n && i < s->n_perms; i++) {
            char ns[64];
            snprintf(ns, sizeof ns, "%s", s->perms[i].ns);
            ask(s, "list", ns);
            if (ns[0])
                ask(s, "patch", ns);
        }
    }
}
