/* The exposition format: exact lines, and a validator run over a full render. */
#include "check.h"
#include "ctrl/ctrl.h"
#include "informer/inf.h"
#include "kube/kube.h"
#include "metrics/metrics.h"
#include "operator/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- a small validator of the text format (version 0.0.4) --------------- */

#define V_MAX 512

struct v_family {
    char name[128];
    char type[64];
    int closed; /* another family's samples came after this one's */
};

struct v_hist { /* one histogram series (labels without le) */
    char key[512];
    double last_le;
    double last_count;
    double inf;
    int has_inf;
    double count;
    int has_count;
};

struct validator {
    struct v_family fam[V_MAX];
    int n_fam;
    int current; /* family of the previous sample, -1 */
    char series[V_MAX * 4][800];
    int n_series;
    struct v_hist hist[V_MAX];
    int n_hist;
    char why[256];
};

static int v_fail(struct validator *v, int line, const char *what)
{
    snprintf(v->why, sizeof v->why, "line %d: %s", line, what);
    return -1;
}

static int is_name(const char *s, size_t n, int colon_ok)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colon_ok && c == ':') || (i > 0 && c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

static int find_family(struct validator *v, const char *name)
{
    for (int i = 0; i < v->n_fam; i++)
        if (strcmp(v->fam[i].name, name) == 0)
            return i;
    return -1;
}

static int parse_value(const char *s, double *out)
{
    if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(s, "-Inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    char *end;
    *out = strtod(s, &end);
    return (*s && *end == '\0') ? 0 : -1;
}

static struct v_hist *hist_series(struct validator *v, const char *key)
{
    for (int i = 0; i < v->n_hist; i++)
        if (strcmp(v->hist[i].key, key) == 0)
            return &v->hist[i];
    if (v->n_hist == V_MAX)
        return NULL;
    struct v_hist *h = &v->hist[v->n_hist++];
    memset(h, 0, sizeof *h);
    snprintf(h->key, sizeof h->key, "%s", key);
    h->last_le = -INFINITY;
    return h;
}

/* One sample line. */
static int v_sample(struct validator *v, int ln, const char *line)
{
    const char *p = line;
    while (*p && *p != '{' && *p != ' ')
        p++;
    char name[128];
    if (!is_name(line, (size_t)(p - line), 1) || (size_t)(p - line) >= sizeof name)
        return v_fail(v, ln, "bad metric name");
    memcpy(name, line, (size_t)(p - line));
    name[p - line] = '\0';

    /* Labels: the series key keeps all but le, which is kept apart. */
    char key[512], le[256] = "";
    int k = snprintf(key, sizeof key, "%s", name);
    if (*p == '{') {
        p++;
        while (*p != '}') {
            const char *ls = p;
            while (*p && *p != '=')
                p++;
            if (!is_name(ls, (size_t)(p - ls), 0) || p[0] != '=' || p[1] != '"')
                return v_fail(v, ln, "bad label name");
            char lname[64], val[256];
            snprintf(lname, sizeof lname, "%.*s", (int)(p - ls), ls);
            p += 2;
            size_t n = 0;
            for (; *p && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                    if (*p != '\\' && *p != '"' && *p != 'n')
                        return v_fail(v, ln, "bad escape in label value");
                } else if (*p == '\n') {
                    return v_fail(v, ln, "raw newline in label value");
                }
                if (n + 1 < sizeof val)
                    val[n++] = *p;
            }
            val[n] = '\0';
            if (*p != '"')
                return v_fail(v, ln, "unterminated label value");
            p++;
            if (strcmp(lname, "le") == 0)
                snprintf(le, sizeof le, "%s", val);
            else
                k += snprintf(key + k, sizeof key - (size_t)k, ",%s=%s", lname, val);
            if (*p == ',')
                p++;
            else if (*p != '}')
                return v_fail(v, ln, "expected , or }");
        }
        p++;
    }
    if (*p != ' ')
        return v_fail(v, ln, "expected a space before the value");
    double value;
    if (parse_value(p + 1, &value) < 0)
        return v_fail(v, ln, "bad value");

    /* Its family: the exact name, or a histogram's base name. */
    int f = find_family(v, name);
    const char *suffix = NULL;
    if (f < 0) {
        static const char *const sfx[] = {"_bucket", "_sum", "_count"};
        for (int i = 0; i < 3 && f < 0; i++) {
            size_t nl = strlen(name), sl = strlen(sfx[i]);
            if (nl > sl && strcmp(name + nl - sl, sfx[i]) == 0) {
                char base[128];
                snprintf(base, sizeof base, "%.*s", (int)(nl - sl), name);
                f = find_family(v, base);
                if (f >= 0 && strcmp(v->fam[f].type, "histogram") != 0)
                    f = -1;
                suffix = sfx[i];
            }
        }
    }
    if (f < 0)
        return v_fail(v, ln, "sample before its TYPE line");
    if (v->fam[f].closed)
        return v_fail(v, ln, "family's samples are not contiguous");
    if (v->current >= 0 && v->current != f)
        v->fam[v->current].closed = 1;
    v->current = f;

    char full[800];
    snprintf(full, sizeof full, "%s|%s", key, le);
    for (int i = 0; i < v->n_series; i++)
        if (strcmp(v->series[i], full) == 0)
            return v_fail(v, ln, "duplicate series");
    if (v->n_series < V_MAX * 4)
        snprintf(v->series[v->n_series++], sizeof v->series[0], "%s", full);

    if (strcmp(v->fam[f].type, "histogram") != 0)
        return 0;
    if (!suffix)
        return v_fail(v, ln, "histogram sample without _bucket/_sum/_count");
    /* Key the series by family and labels, without the suffix. */
    char hkey[512];
    snprintf(hkey, sizeof hkey, "%s%s", v->fam[f].name, key + strlen(name));
    struct v_hist *h = hist_series(v, hkey);
    if (!h)
        return v_fail(v, ln, "too many histograms");
    if (strcmp(suffix, "_bucket") == 0) {
        double bound;
        if (!*le || parse_value(le, &bound) < 0)
            return v_fail(v, ln, "bucket without a valid le");
        if (h->has_inf || bound <= h->last_le)
            return v_fail(v, ln, "le not increasing");
        if (value < h->last_count)
            return v_fail(v, ln, "bucket counts not cumulative");
        h->last_le = bound;
        h->last_count = value;
        if (isinf(bound)) {
            h->has_inf = 1;
            h->inf = value;
        }
    } else if (strcmp(suffix, "_count") == 0) {
        h->has_count = 1;
        h->count = value;
    }
    return 0;
}

/* 0 if text is valid; else -1 with v->why set. */
static int validate(struct validator *v, const char *text)
{
    memset(v, 0, sizeof *v);
    v->current = -1;
    if (!text || !*text || text[strlen(text) - 1] != '\n')
        return v_fail(v, 0, "empty or no final newline");
    char *copy = strdup(text), *save = NULL;
    int ln = 0, rc = 0;
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        ln++;
        if (strncmp(line, "# TYPE ", 7) == 0 || strncmp(line, "# HELP ", 7) == 0) {
            char name[128], rest[64] = "";
            if (sscanf(line + 7, "%127s %63s", name, rest) < 1 || !is_name(name, strlen(name), 1))
                rc = v_fail(v, ln, "bad HELP/TYPE line");
            else if (line[2] == 'T') {
                if (find_family(v, name) >= 0)
                    rc = v_fail(v, ln, "second TYPE for a name");
                else if (strcmp(rest, "counter") != 0 && strcmp(rest, "gauge") != 0 &&
                         strcmp(rest, "histogram") != 0 && strcmp(rest, "summary") != 0 &&
                         strcmp(rest, "untyped") != 0)
                    rc = v_fail(v, ln, "unknown type");
                else if (v->n_fam < V_MAX) {
                    snprintf(v->fam[v->n_fam].name, sizeof v->fam[0].name, "%s", name);
                    snprintf(v->fam[v->n_fam].type, sizeof v->fam[0].type, "%s", rest);
                    v->n_fam++;
                }
            }
        } else if (line[0] != '#') {
            rc = v_sample(v, ln, line);
        }
    }
    free(copy);
    for (int i = 0; rc == 0 && i < v->n_hist; i++) {
        struct v_hist *h = &v->hist[i];
        if (!h->has_inf || !h->has_count || h->inf != h->count)
            rc = v_fail(v, 0, "histogram without +Inf, or +Inf != _count");
    }
    return rc;
}

#define CHECK_VALID(text)                                                                          \
    do {                                                                                           \
        struct validator *cv_ = calloc(1, sizeof *cv_);                                            \
        int cv_rc_ = validate(cv_, text);                                                          \
        if (cv_rc_ == 0)                                                                           \
            check_passes++;                                                                        \
        else                                                                                       \
            check_fail(__FILE__, __LINE__, "invalid exposition: %s", cv_->why);                    \
        free(cv_);                                                                                 \
    } while (0)

static int invalid(const char *text)
{
    struct validator *v = calloc(1, sizeof *v);
    int rc = validate(v, text);
    free(v);
    return rc < 0;
}

/* --- tests --------------------------------------------------------------- */

static void test_validator_rejects(void)
{
    CHECK(!invalid("# TYPE a counter\na 1\n"));
    CHECK(invalid("a 1\n"));                                             /* no TYPE */
    CHECK(invalid("# TYPE a counter\na 1"));                             /* no final newline */
    CHECK(invalid("# TYPE 1a counter\n1a 1\n"));                         /* bad name */
    CHECK(invalid("# TYPE a counter\na{x=\"1\"} one\n"));                /* bad value */
    CHECK(invalid("# TYPE a counter\na{x=\"\\t\"} 1\n"));                /* bad escape */
    CHECK(invalid("# TYPE a counter\n# TYPE b gauge\nb 1\na 1\nb 2\n")); /* not contiguous */
    CHECK(invalid("# TYPE a counter\na 1\na 2\n"));                      /* duplicate series */
    CHECK(invalid("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
                  "h_bucket{le=\"+Inf\"} 2\nh_count 2\n")); /* not cumulative */
    CHECK(invalid("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
                  "h_bucket{le=\"+Inf\"} 1\nh_count 1\n")); /* le decreasing */
    CHECK(invalid("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                  "h_count 3\n")); /* +Inf != count */
}

static void test_lines_and_escaping(void)
{
    struct metrics_buf b;
    metrics_buf_init(&b);
    metrics_family(&b, "rb_things_total", METRICS_COUNTER, "Things.\nWith a \\ in help \"q\".");
    metrics_sample_u64(&b, "rb_things_total", 18446744073709551615ull, NULL);
    metrics_sample_u64(&b, "rb_things_total", 3, "path", "C:\\dir", "msg", "say \"hi\"\nbye", NULL);
    metrics_family(&b, "rb_ratio", METRICS_GAUGE, NULL);
    metrics_sample(&b, "rb_ratio", 0.1, "k", "a", NULL);
    metrics_sample(&b, "rb_ratio", 2.5, "k", "b", NULL);
    metrics_sample(&b, "rb_ratio", 1e-3, "k", "c", NULL);
    metrics_sample(&b, "rb_ratio", 3, "k", "d", NULL);
    metrics_sample(&b, "rb_ratio", NAN, "k", "e", NULL);
    metrics_sample(&b, "rb_ratio", -INFINITY, "k", "f", NULL);
    metrics_sample(&b, "rb_ratio", 1.0 / 3, "k", "g", NULL);
    metrics_sample(&b, "rb_ratio", 1e-5, "k", "h", NULL);
    metrics_sample(&b, "rb_ratio", 1e21, "k", "i", NULL);
    metrics_sample(&b, "rb_ratio", 123456789, "k", "j", NULL);
    metrics_sample(&b, "rb_ratio", 0, "k", "l", NULL);
    CHECK_INT(b.err, 0);
    CHECK_STR(b.data, "# HELP rb_things_total Things.\\nWith a \\\\ in help \"q\".\n"
                      "# TYPE rb_things_total counter\n"
                      "rb_things_total 18446744073709551615\n"
                      "rb_things_total{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\nbye\"} 3\n"
                      "# HELP rb_ratio \n"
                      "# TYPE rb_ratio gauge\n"
                      "rb_ratio{k=\"a\"} 0.1\n"
                      "rb_ratio{k=\"b\"} 2.5\n"
                      "rb_ratio{k=\"c\"} 0.001\n"
                      "rb_ratio{k=\"d\"} 3\n"
                      "rb_ratio{k=\"e\"} NaN\n"
                      "rb_ratio{k=\"f\"} -Inf\n"
                      "rb_ratio{k=\"g\"} 0.3333333333333333\n"
                      "rb_ratio{k=\"h\"} 1e-05\n"
                      "rb_ratio{k=\"i\"} 1e+21\n"
                      "rb_ratio{k=\"j\"} 123456789\n"
                      "rb_ratio{k=\"l\"} 0\n");
    CHECK_VALID(b.data);

    /* reset keeps the memory and clears the error. */
    metrics_sample(&b, "bad-name", 1, NULL);
    CHECK_INT(b.err, -EINVAL);
    metrics_buf_reset(&b);
    CHECK_INT(b.err, 0);
    CHECK_INT(b.len, 0);
    CHECK_STR(b.data, "");
    metrics_family(&b, "ok", METRICS_GAUGE, "x");
    metrics_sample_u64(&b, "ok", 1, "__reserved", "x", NULL);
    CHECK_INT(b.err, -EINVAL);
    metrics_buf_reset(&b);
    metrics_sample_u64(&b, "ok", 1, "a:b", "x", NULL); /* ':' only in metric names */
    CHECK_INT(b.err, -EINVAL);
    metrics_buf_free(&b);
    CHECK(b.data == NULL);

    CHECK(metrics_name_valid("a:b_c9"));
    CHECK(!metrics_name_valid("9a"));
    CHECK(!metrics_name_valid(""));
    CHECK(metrics_label_name_valid("resource"));
    CHECK(!metrics_label_name_valid("a:b"));
}

static void test_histogram(void)
{
    static const double bounds[] = {0.005, 0.25, 1, 10};
    static const uint64_t buckets[] = {1, 4, 4, 6};
    struct metrics_hist h = {4, bounds, buckets, 7, 42.5};
    struct metrics_buf b;
    metrics_buf_init(&b);
    metrics_family(&b, "rb_wait_seconds", METRICS_HISTOGRAM, "Waits.");
    metrics_histogram(&b, "rb_wait_seconds", &h, "queue", "a", NULL);
    metrics_histogram(&b, "rb_wait_seconds", &h, NULL);
    CHECK_INT(b.err, 0);
    CHECK_STR(b.data, "# HELP rb_wait_seconds Waits.\n"
                      "# TYPE rb_wait_seconds histogram\n"
                      "rb_wait_seconds_bucket{queue=\"a\",le=\"0.005\"} 1\n"
                      "rb_wait_seconds_bucket{queue=\"a\",le=\"0.25\"} 4\n"
                      "rb_wait_seconds_bucket{queue=\"a\",le=\"1\"} 4\n"
                      "rb_wait_seconds_bucket{queue=\"a\",le=\"10\"} 6\n"
                      "rb_wait_seconds_bucket{queue=\"a\",le=\"+Inf\"} 7\n"
                      "rb_wait_seconds_sum{queue=\"a\"} 42.5\n"
                      "rb_wait_seconds_count{queue=\"a\"} 7\n"
                      "rb_wait_seconds_bucket{le=\"0.005\"} 1\n"
                      "rb_wait_seconds_bucket{le=\"0.25\"} 4\n"
                      "rb_wait_seconds_bucket{le=\"1\"} 4\n"
                      "rb_wait_seconds_bucket{le=\"10\"} 6\n"
                      "rb_wait_seconds_bucket{le=\"+Inf\"} 7\n"
                      "rb_wait_seconds_sum 42.5\n"
                      "rb_wait_seconds_count 7\n");
    CHECK_VALID(b.data);
    metrics_buf_free(&b);
}

/* Growth past the first block and past printf's stack buffer. */
static void test_growth(void)
{
    struct metrics_buf b;
    metrics_buf_init(&b);
    metrics_family(&b, "rb_many", METRICS_GAUGE, "Many series.");
    char label[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(label, sizeof label, "s%d", i);
        metrics_sample_u64(&b, "rb_many", (uint64_t)i, "id", label, NULL);
    }
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    metrics_buf_printf(&b, "# %s\n", big);
    CHECK_INT(b.err, 0);
    CHECK(b.len > 40000);
    CHECK_INT(strlen(b.data), b.len);
    CHECK_CONTAINS(b.data, "\nrb_many{id=\"s1999\"} 1999\n# xxx");
    CHECK_VALID(b.data);
    metrics_buf_free(&b);
}

static void fill_hist(struct ctrl_hist *h, const double *obs, size_t n)
{
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        h->count++;
        h->sum += obs[i];
        for (int j = 0; j < CTRL_HIST_BUCKETS; j++)
            if (obs[i] <= ctrl_hist_bounds[j])
                h->buckets[j]++;
    }
}

static void test_operator(void)
{
    struct ctrl_stats cs;
    memset(&cs, 0, sizeof cs);
    cs.reconciles = 120;
    cs.reconcile_errors = 3;
    cs.jobs_created = 40;
    cs.jobs_deleted = 38;
    cs.steps_succeeded = 35;
    cs.steps_failed = 5;
    cs.runs_by_phase[0] = 1; /* never written */
    cs.runs_by_phase[2] = 4; /* Running */
    cs.runs_by_phase[3] = 9; /* Succeeded */
    cs.queue_depth = 2;
    static const double rec[] = {0.0004, 0.003, 0.003, 0.2, 1.5, 30};
    fill_hist(&cs.reconcile_seconds, rec, 6);
    static const double td[] = {2, 4};
    fill_hist(&cs.teardown_seconds, td, 2);

    struct inf_stats jobs, pods;
    memset(&jobs, 0, sizeof jobs);
    memset(&pods, 0, sizeof pods);
    jobs.watch_restarts = 7;
    jobs.relists = 1;
    jobs.objects = 40;
    pods.objects = 80;
    struct metrics_informer infs[] = {{"jobs", &jobs}, {"pods", &pods}};

    struct kube_stats ks;
    memset(&ks, 0, sizeof ks);
    ks.by_class[KUBE_VERB_GET][2] = 10;
    ks.by_class[KUBE_VERB_GET][4] = 2;
    ks.by_class[KUBE_VERB_CREATE][0] = 1;
    ks.by_class[KUBE_VERB_CREATE][2] = 40;
    ks.by_code[200] = 10;
    ks.by_code[201] = 40;
    ks.by_code[404] = 2;
    ks.retries = 3;
    ks.in_flight = 5;
    ks.ratelimit_wait_ms = 1500;

    struct metrics_process proc = {.resident_bytes = 12345678, .cpu_seconds = 1.25};

    struct metrics_buf b;
    metrics_buf_init(&b);
    CHECK_INT(metrics_render_operator(&b, &cs, infs, 2, &ks, 1, &proc), 0);
    const char *t = b.data;
    CHECK_VALID(t);
    static const char *const want[] = {
        "# TYPE runbook_workflowruns gauge\n",
        "\nrunbook_workflowruns{phase=\"Unknown\"} 1\n",
        "\nrunbook_workflowruns{phase=\"Running\"} 4\n",
        "\nrunbook_workflowruns{phase=\"Succeeded\"} 9\n",
        "\nrunbook_workflowruns{phase=\"Cancelled\"} 0\n",
        "\nrunbook_step_outcomes_total{outcome=\"succeeded\"} 35\n",
        "\nrunbook_step_outcomes_total{outcome=\"failed\"} 5\n",
        "# TYPE runbook_reconcile_total counter\nrunbook_reconcile_total 120\n",
        "\nrunbook_reconcile_errors_total 3\n",
        "# TYPE runbook_reconcile_duration_seconds histogram\n",
        "\nrunbook_reconcile_duration_seconds_bucket{le=\"0.001\"} 1\n",
        "\nrunbook_reconcile_duration_seconds_bucket{le=\"0.005\"} 3\n",
        "\nrunbook_reconcile_duration_seconds_bucket{le=\"2.5\"} 5\n",
        "\nrunbook_reconcile_duration_seconds_bucket{le=\"10\"} 5\n",
        "\nrunbook_reconcile_duration_seconds_bucket{le=\"+Inf\"} 6\n",
        "\nrunbook_reconcile_duration_seconds_sum 31.7064\n",
        "\nrunbook_reconcile_duration_seconds_count 6\n",
        "# TYPE runbook_workqueue_depth gauge\nrunbook_workqueue_depth 2\n",
        "\nrunbook_teardown_duration_seconds_bucket{le=\"2.5\"} 1\n",
        "\nrunbook_teardown_duration_seconds_bucket{le=\"+Inf\"} 2\n",
        "\nrunbook_teardown_duration_seconds_sum 6\n",
        "\nrunbook_jobs_created_total 40\n",
        "\nrunbook_jobs_deleted_total 38\n",
        "\nrunbook_watch_restarts_total{resource=\"jobs\"} 7\n",
        "\nrunbook_watch_restarts_total{resource=\"pods\"} 0\n",
        "\nrunbook_relists_total{resource=\"jobs\"} 1\n",
        "# TYPE runbook_cache_objects gauge\n",
        "\nrunbook_cache_objects{resource=\"pods\"} 80\n",
        "\nrunbook_api_requests_total{verb=\"get\",code=\"2xx\"} 10\n",
        "\nrunbook_api_requests_total{verb=\"get\",code=\"4xx\"} 2\n",
        "\nrunbook_api_requests_total{verb=\"create\",code=\"<error>\"} 1\n",
        "\nrunbook_api_requests_total{verb=\"delete\",code=\"5xx\"} 0\n",
        "\nrunbook_api_responses_total{code=\"201\"} 40\n",
        "\nrunbook_api_responses_total{code=\"404\"} 2\n",
        "\nrunbook_api_retries_total 3\n",
        "\nrunbook_api_in_flight 5\n",
        "\nrunbook_api_ratelimit_wait_seconds_total 1.5\n",
        "# TYPE runbook_leader gauge\nrunbook_leader 1\n",
        "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 12345678\n",
        "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.25\n",
        "\nrunbook_build_info{version=\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_CONTAINS(t, want[i]);
    /* 1xx is only listed once seen; exact codes only when non-zero. */
    CHECK(strstr(t, "code=\"1xx\"") == NULL);
    CHECK(strstr(t, "runbook_api_responses_total{code=\"500\"}") == NULL);

    /* Only what is given is rendered, and it stays valid. */
    metrics_buf_reset(&b);
    CHECK_INT(metrics_render_operator(&b, NULL, NULL, 0, NULL, 0, NULL), 0);
    CHECK_VALID(b.data);
    CHECK_CONTAINS(b.data, "\nrunbook_leader 0\n");
    CHECK(strstr(b.data, "runbook_reconcile_total") == NULL);
    CHECK(strstr(b.data, "process_") == NULL);
    metrics_buf_free(&b);
}

static void test_process(void)
{
    struct metrics_process p;
    CHECK_INT(metrics_process_read(&p), 0);
    CHECK(p.resident_bytes > 1024 * 1024);
    CHECK(p.cpu_seconds >= 0 && p.cpu_seconds < 3600);
}

int main(void)
{
    RUN(test_validator_rejects);
    RUN(test_lines_and_escaping);
    RUN(test_histogram);
    RUN(test_growth);
    RUN(test_operator);
    RUN(test_process);
    return check_finish();
}
