/* ui_access.c - who the person is and what they may do.
 *
 * A session signs in with a bearer token (the first message, or the
 * upgrade request's Authorization header from an auth proxy). The token is
 * only ever used in a kube client of the session's own, built from the
 * operator's server and CA (struct ui.base) and nothing else, so a person
 * can never borrow the operator's rights: the API server authenticates the
 * person and RBAC decides. Sign-in is a SelfSubjectReview (who is this),
 * then SelfSubjectAccessReviews: may they list workflowruns everywhere,
 * else in which namespace of the cached runs. Other rights (patch and
 * create runs, list Workflows and Triggers) are asked when a page needs
 * them. Every answer is asked again every auth_ttl (ui_refresh_all), and a
 * "yes" not renewed within two periods counts as "no" (fails closed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "log/log.h"
#include "trigd/trigd.h"
#include "ui/ui-internal.h"

static const struct kube_resource SSR = {"authentication.k8s.io", "v1", "selfsubjectreviews", 0};
static const struct kube_resource SSAR = {"authorization.k8s.io", "v1", "selfsubjectaccessreviews",
                                          0};

/* At most this many namespaces asked about per tab, so that any valid
 * token cannot grow the operator's memory. */
#define PERMS_MAX 256

/* The SelfSubjectAccessReview of each right. */
static const struct {
    const char *resource, *verb;
} rights[UI_RIGHTS] = {
    [UI_LIST_RUNS] = {"workflowruns", "list"},     [UI_PATCH_RUNS] = {"workflowruns", "patch"},
    [UI_CREATE_RUNS] = {"workflowruns", "create"}, [UI_LIST_WORKFLOWS] = {"workflows", "list"},
    [UI_LIST_TRIGGERS] = {"triggers", "list"},
};

static int is_list(enum ui_right r)
{
    return r == UI_LIST_RUNS || r == UI_LIST_WORKFLOWS || r == UI_LIST_TRIGGERS;
}

struct ui_perm *ui_perm_of(struct ui_session *s, const char *ns)
{
    for (size_t i = 0; i < s->n_perms; i++)
        if (strcmp(s->perms[i].ns, ns) == 0)
            return &s->perms[i];
    return NULL;
}

static struct ui_perm *perm_add(struct ui_session *s, const char *ns)
{
    struct ui_perm *p = ui_perm_of(s, ns);
    if (p)
        return p;
    if (s->n_perms >= PERMS_MAX)
        return NULL; /* then nothing more is asked: unknown counts as no */
    p = realloc(s->perms, (s->n_perms + 1) * sizeof *p);
    if (!p)
        return NULL;
    s->perms = p;
    p = &s->perms[s->n_perms++];
    memset(p, 0, sizeof *p);
    snprintf(p->ns, sizeof p->ns, "%s", ns);
    for (int r = 0; r < UI_RIGHTS; r++)
        p->v[r] = UI_PERM_ASKING;
    return p;
}

/* A yes is trusted for two refresh periods: if the re-asks do not come
 * back (the API server is down), access fails closed. */
static int fresh_yes(const struct ui_session *s, const struct ui_perm *p, enum ui_right r)
{
    return p && p->v[r] == UI_PERM_YES &&
           uv_now(s->u->loop) <= p->at[r] + 2 * (uint64_t)s->u->auth_ttl_ms;
}

int ui_may(struct ui_session *s, enum ui_right r, const char *ns)
{
    if (s->anonymous)
        return is_list(r); /* --ui-anonymous-read: anyone reads, nobody writes */
    if (is_list(r) && fresh_yes(s, ui_perm_of(s, ""), r))
        return 1;
    return ns[0] && fresh_yes(s, ui_perm_of(s, ns), r);
}

static void ask_cb(void *ud, const struct kube_result *r);

/* Sends a SelfSubjectAccessReview with the person's token: may they
 * `right` in ns ("" : in every namespace)? cb gets a struct ui_req. 0 or
 * < 0 (nothing sent). */
static int send_review(struct ui_session *s, enum ui_right right, const char *ns, kube_cb cb)
{
    struct ui_req *q = ui_req_new(s, NULL, ns);
    struct json_object *body = kj_obj(), *spec = kj_obj(), *ra = kj_obj();
    kj_put(body, "apiVersion", kj_str("authorization.k8s.io/v1"));
    kj_put(body, "kind", kj_str("SelfSubjectAccessReview"));
    kj_put(ra, "group", kj_str("runbook.dev"));
    kj_put(ra, "resource", kj_str(rights[right].resource));
    kj_put(ra, "verb", kj_str(rights[right].verb));
    if (ns[0])
        kj_put(ra, "namespace", kj_str(ns));
    kj_put(spec, "resourceAttributes", ra);
    kj_put(body, "spec", spec);
    int rc = -ENOMEM;
    if (q) {
        q->right = right;
        rc = s->kc ? kube_create(s->kc, &SSAR, NULL, body, cb, q) : -ENOTCONN;
    }
    if (rc < 0)
        ui_req_free(q);
    json_object_put(body);
    return rc;
}

static void send_ask(struct ui_session *s, enum ui_right right, const char *ns)
{
    if (s->state == UI_SS_AUTH)
        s->pending_checks++;
    if (send_review(s, right, ns, ask_cb) < 0 && s->state == UI_SS_AUTH)
        s->pending_checks--;
}

void ui_ask(struct ui_session *s, enum ui_right right, const char *ns)
{
    if (s->anonymous || !s->kc)
        return;
    struct ui_perm *p = perm_add(s, ns);
    if (!p || (p->asked & (1u << right)))
        return; /* PERMS_MAX: not asked, so not allowed; or asked already */
    p->asked |= 1u << right;
    send_ask(s, right, ns);
}

void ui_ask_list(struct ui_session *s, enum ui_right right, const char *ns)
{
    if (s->anonymous || ui_may(s, right, ns))
        return;
    struct ui_perm *all = ui_perm_of(s, "");
    if (!all || all->v[right] == UI_PERM_ASKING)
        return; /* everywhere is being asked; its answer asks the rest */
    ui_ask(s, right, ns);
}

static void hello(struct ui_session *s)
{
    struct json_object *o = ui_msg_new("hello"), *nss = kj_arr();
    kj_put(o, "user", kj_str(s->user));
    for (size_t i = 0; i < s->n_perms; i++)
        if (s->perms[i].ns[0] && s->perms[i].v[UI_LIST_RUNS] == UI_PERM_YES)
            kj_push(nss, kj_str(s->perms[i].ns));
    kj_put(o, "namespaces", nss);
    kj_put(o, "allNamespaces", kj_bool(ui_may(s, UI_LIST_RUNS, "")));
    kj_put(o, "anonymous", kj_bool(s->anonymous));
    kj_put(o, "triggers", kj_bool(s->u->trigd != NULL));
    ui_send_put(s, o);
}

/* Signed in (or anonymous): hello, then whatever the page asked to watch
 * before (the page need not ask again). */
static void ready(struct ui_session *s)
{
    s->state = UI_SS_READY;
    if (!s->anonymous)
        s->u->st.signins++;
    hello(s);
    if (s->want_runs)
        ui_send_runs(s);
    if (s->want_run)
        ui_watch_run(s);
    if (s->want_workflows)
        ui_watch_workflows(s);
    if (s->want_workflow)
        ui_watch_workflow(s);
    if (s->want_triggers)
        ui_watch_triggers(s);
}

void ui_ready_anonymous(struct ui_session *s)
{
    s->anonymous = 1;
    snprintf(s->user, sizeof s->user, "%s", "");
    ready(s);
}

/* The namespaces of cached objects, for asking a list right namespace by
 * namespace once it was refused everywhere. */
struct ns_ask {
    struct ui_session *s;
    enum ui_right right;
};

static void ask_run_ns(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    (void)json;
    (void)len;
    struct ns_ask *a = ud;
    ui_ask(a->s, a->right, ns);
}

static void ask_obj_ns(void *ud, const char *ns, const char *name, struct json_object *obj)
{
    (void)name;
    (void)obj;
    struct ns_ask *a = ud;
    ui_ask(a->s, a->right, ns);
}

static void ask_each_ns(struct ui_session *s, enum ui_right right)
{
    struct ns_ask a = {s, right};
    if (right == UI_LIST_RUNS)
        ctrl_runs_each(s->u->ctrl, ask_run_ns, &a);
    else if (right == UI_LIST_WORKFLOWS)
        ctrl_workflows_each(s->u->ctrl, ask_obj_ns, &a);
    else if (right == UI_LIST_TRIGGERS && s->u->trigd)
        trigd_each(s->u->trigd, ask_obj_ns, &a);
}

/* What changes on the page when an answer changed. */
static void changed(struct ui_session *s, enum ui_right right, const char *ns, int allowed)
{
    int here = ns[0] == '\0';
    if (is_list(right) && here && !allowed)
        ask_each_ns(s, right); /* no longer everywhere: namespace by namespace */
    switch (right) {
    case UI_LIST_RUNS:
        if (s->want_runs && (here || !allowed))
            ui_send_runs(s); /* a namespace went away, or all of them changed */
        else if (s->want_runs)
            ui_send_runs_of(s, ns);
        if (s->want_run && (here || strcmp(ns, s->run_ns) == 0))
            ui_send_detail(s);
        break;
    case UI_PATCH_RUNS:
        if (s->want_run && strcmp(ns, s->run_ns) == 0)
            ui_send_detail(s);
        break;
    case UI_CREATE_RUNS:
        if (s->want_workflow && strcmp(ns, s->wf_ns) == 0)
            ui_send_workflow(s);
        break;
    case UI_LIST_WORKFLOWS:
        if (s->want_workflows)
            ui_send_workflows(s, here || !allowed ? NULL : ns);
        if (s->want_workflow && (here || strcmp(ns, s->wf_ns) == 0))
            ui_send_workflow(s);
        break;
    case UI_LIST_TRIGGERS:
        if (s->want_triggers)
            ui_send_triggers(s, here || !allowed ? NULL : ns);
        break;
    case UI_RIGHTS:
        break;
    }
}

/* An access review answered (or not: then it counts as no). */
static void perm_set(struct ui_session *s, enum ui_right right, const char *ns, int allowed)
{
    struct ui_perm *p = perm_add(s, ns);
    if (!p)
        return;
    signed char v = allowed ? UI_PERM_YES : UI_PERM_NO;
    int diff = p->v[right] != v;
    p->v[right] = v;
    p->at[right] = uv_now(s->u->loop);
    if (s->state == UI_SS_AUTH) {
        if (--s->pending_checks == 0)
            ready(s);
        return;
    }
    if (s->state == UI_SS_READY && diff)
        changed(s, right, ns, allowed);
}

static int allowed_of(const struct kube_result *r)
{
    return r->err == 0 && r->http_status / 100 == 2 &&
           kj_get_bool(kj_get(r->body, "status"), "allowed");
}

static void ask_cb(void *ud, const struct kube_result *r)
{
    struct ui_req *q = ud;
    struct ui_session *s = q->s;
    if (s->ws) {
        if (r->err || r->http_status / 100 != 2)
            log_kv(LOGL_WARN, "ui: access review failed", "user", s->user, "namespace",
                   q->ns[0] ? q->ns : NULL, "error",
                   r->status.message[0] ? r->status.message : strerror(-r->err), NULL);
        perm_set(s, q->right, q->ns, allowed_of(r));
    }
    ui_req_free(q);
}

void ui_auth_failed(struct ui_session *s, const char *why)
{
    s->u->st.signins_failed++;
    struct json_object *o = ui_msg_new("auth_failed");
    kj_put(o, "message", kj_str(why));
    ui_send_put(s, o);
    if (s->ws)
        http_ws_close(s->ws, UI_CLOSE_AUTH, "sign-in refused");
}

/* May the person list runs everywhere? Else ask namespace by namespace,
 * those that hold runs now; a run in a namespace not asked about yet asks
 * when it shows up. */
static void list_all_cb(void *ud, const struct kube_result *r)
{
    struct ui_req *q = ud;
    struct ui_session *s = q->s;
    ui_req_free(q);
    if (!s->ws)
        return;
    int allowed = allowed_of(r);
    struct ui_perm *all = perm_add(s, "");
    if (all) {
        all->v[UI_LIST_RUNS] = allowed ? UI_PERM_YES : UI_PERM_NO;
        all->at[UI_LIST_RUNS] = uv_now(s->u->loop);
        all->asked |= 1u << UI_LIST_RUNS;
    }
    if (!allowed) {
        s->pending_checks++; /* held while the asks go out */
        ask_each_ns(s, UI_LIST_RUNS);
        if (--s->pending_checks > 0)
            return;
    }
    ready(s);
}

static void whoami_cb(void *ud, const struct kube_result *r)
{
    struct ui_req *q = ud;
    struct ui_session *s = q->s;
    ui_req_free(q);
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
        ui_auth_failed(s, why);
        return;
    }
    const char *user = kj_path_str(r->body, "status", "userInfo", "username", NULL);
    snprintf(s->user, sizeof s->user, "%s", user ? user : "");
    /* What an anonymous reader was shown is asked anew for the person. */
    s->anonymous = 0;
    if (send_review(s, UI_LIST_RUNS, "", list_all_cb) < 0)
        ui_auth_failed(s, "sign-in failed: out of memory");
}

/* The person's client: the operator's server and CA, their token. */
int ui_start_auth(struct ui_session *s)
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
    ui_wipe_free(s->token);
    s->token = NULL;
    if (rc < 0)
        return rc;
    s->state = UI_SS_AUTH;
    struct json_object *body = kj_obj();
    kj_put(body, "apiVersion", kj_str("authentication.k8s.io/v1"));
    kj_put(body, "kind", kj_str("SelfSubjectReview"));
    struct ui_req *q = ui_req_new(s, NULL, NULL);
    rc = q ? kube_create(s->kc, &SSR, NULL, body, whoami_cb, q) : -ENOMEM;
    if (rc < 0)
        ui_req_free(q);
    json_object_put(body);
    return rc;
}

/* Access answers go stale (a RoleBinding removed): asked again. */
void ui_refresh_all(struct ui *u)
{
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        /* One round at a time: with the last one still out (many
         * namespaces, a slow API server) the queue would only grow. */
        if (!s->ws || s->state != UI_SS_READY || s->anonymous || s->out)
            continue;
        size_t n = s->n_perms;
        for (size_t i = 0; i < n && i < s->n_perms; i++) {
            char ns[64];
            unsigned asked = s->perms[i].asked;
            snprintf(ns, sizeof ns, "%s", s->perms[i].ns);
            for (int r = 0; r < UI_RIGHTS; r++)
                if (asked & (1u << r))
                    send_ask(s, (enum ui_right)r, ns);
        }
    }
}
