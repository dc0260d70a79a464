/* Fuzz target: the web UI's WebSocket messages (ui_msg_parse), and the
 * same bytes, when they are JSON, as a WorkflowRun turned into the runs
 * list's summary and the run page's detail (ui_run_summary/_detail).
 *
 * A browser message and a run are both written by people the operator
 * does not trust (any tab that reached the socket; anyone who may write a
 * run's status). Invariants abort:
 *  - parse gives 0 with a known type, or -EINVAL with a reason and
 *    nothing owned (the struct is zeroed);
 *  - an accepted auth holds a token that may go into a header (1..16 KiB,
 *    no space or control character); an accepted watch_run or cancel
 *    names a namespace and run that are DNS names;
 *  - the summary and detail are JSON objects that serialize, whose
 *    "phase" is a string, and whose steps each have a name and a phase;
 *  - canCancel is never true for a terminal run;
 *  - run again is a generateName'd run with the spec but never its cancel. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "kube/kube.h"
#include "ui/ui-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_ui_msg: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int dns(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '.'))
            return 0;
    return 1;
}

static void check_message(const char *p, size_t n)
{
    struct ui_msg m;
    char err[128] = "";
    int rc = ui_msg_parse(p, n, &m, err, sizeof err);
    REQUIRE(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc < 0) {
        REQUIRE(rc == -ENOMEM || err[0]);
        REQUIRE(m.type == UI_MSG_NONE && m.token == NULL);
        return;
    }
    REQUIRE(m.type >= UI_MSG_AUTH && m.type <= UI_MSG_LOGS_STOP);
    if (m.type == UI_MSG_AUTH)
        REQUIRE(m.token && ui_token_ok(m.token));
    else
        REQUIRE(m.token == NULL);
    if (m.type == UI_MSG_WATCH_RUN || m.type == UI_MSG_CANCEL || m.type == UI_MSG_RUN_AGAIN ||
        m.type == UI_MSG_WATCH_WORKFLOW || m.type == UI_MSG_START || m.type == UI_MSG_LOGS)
        REQUIRE(dns(m.ns) && dns(m.name));
    if (m.type == UI_MSG_LOGS)
        REQUIRE(m.step[0]);
    REQUIRE((m.type == UI_MSG_START) == (m.params != NULL));
    if (m.params) {
        REQUIRE(json_object_object_length(m.params) <= UI_PARAMS_MAX);
        json_object_object_foreach(m.params, k, v)
        {
            REQUIRE(k[0] && json_object_is_type(v, json_type_string));
        }
    }
    ui_msg_clear(&m);
}

static void check_run(const char *p, size_t n)
{
    struct json_object *run = kube_json_parse(p, n);
    if (!run)
        return;
    struct json_object *s = ui_run_summary(run);
    REQUIRE(json_object_is_type(s, json_type_object));
    REQUIRE(json_object_is_type(kj_get(s, "phase"), json_type_string));
    REQUIRE(json_object_to_json_string(s));
    for (int can = 0; can <= 1; can++) {
        struct json_object *d = ui_run_detail(run, can);
        REQUIRE(json_object_to_json_string(d));
        struct json_object *steps = kj_get(d, "steps");
        REQUIRE(json_object_is_type(steps, json_type_array));
        for (size_t i = 0; i < json_object_array_length(steps); i++) {
            struct json_object *e = json_object_array_get_idx(steps, i);
            REQUIRE(kj_get_str(e, "name") && kj_get_str(e, "phase"));
        }
        if (ui_run_terminal(run) || !can)
            REQUIRE(!kj_get_bool(d, "canCancel"));
        json_object_put(d);
    }
    json_object_put(s);
    struct json_object *again = ui_run_again(run);
    if (again) {
        REQUIRE(kj_path_str(again, "metadata", "generateName", NULL));
        REQUIRE(!kj_get(kj_get(again, "spec"), "cancel"));
        REQUIRE(json_object_to_json_string(again));
    }
    json_object_put(again);
    json_object_put(run);
}

/* The same bytes as a Workflow (its list entry, its page, a start with
 * its own defaults as params) and as a Trigger. */
static void check_workflow_trigger(const char *p, size_t n)
{
    struct json_object *o = kube_json_parse(p, n);
    if (!o)
        return;
    struct json_object *s = ui_workflow_summary(o), *d = ui_workflow_detail(o, 1);
    REQUIRE(json_object_to_json_string(s) && json_object_to_json_string(d));
    REQUIRE(json_object_is_type(kj_get(d, "params"), json_type_array));
    struct json_object *params = kj_obj();
    struct json_object *decl = kj_path(o, "spec", "params", NULL);
    size_t nd = json_object_is_type(decl, json_type_array) ? json_object_array_length(decl) : 0;
    for (size_t i = 0; i < nd; i++) {
        const char *name = kj_get_str(json_object_array_get_idx(decl, i), "name");
        if (name)
            kj_put(params, name, kj_str("v"));
    }
    char err[160] = "";
    struct json_object *run = ui_start_run("ns", o, params, err, sizeof err);
    if (run) {
        /* Every param in the run is one the Workflow declares. */
        struct json_object *ps = kj_path(run, "spec", "params", NULL);
        size_t np = json_object_is_type(ps, json_type_array) ? json_object_array_length(ps) : 0;
        for (size_t i = 0; i < np; i++)
            REQUIRE(kj_find(decl, "name", kj_get_str(json_object_array_get_idx(ps, i), "name")));
        REQUIRE(kj_path_str(run, "metadata", "generateName", NULL));
    } else {
        REQUIRE(err[0]);
    }
    json_object_put(run);
    json_object_put(params);
    json_object_put(s);
    json_object_put(d);
    struct json_object *t = ui_trigger_item(o);
    REQUIRE(json_object_to_json_string(t));
    REQUIRE(json_object_is_type(kj_get(t, "ready"), json_type_boolean));
    json_object_put(t);
    json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_message((const char *)data, size);
    check_run((const char *)data, size);
    check_workflow_trigger((const char *)data, size);
    return 0;
}
