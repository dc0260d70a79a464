#include "check.h"
#include "kubeconfig/kubeconfig.h"
#include "log/log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

/* Absolute path of a file under test/data/kubeconfig. */
static const char *dpath(const char *rel)
{
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    const char *dir = getenv("RB_TEST_DATA");
    snprintf(b, sizeof bufs[0], "%s/kubeconfig/%s", dir ? dir : "test/data", rel);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static struct kcfg *load_ok(const char *rel, const char *ctx)
{
    struct kcfg *c = NULL;
    char *err = NULL;
    int rc = kcfg_load_file(dpath(rel), ctx, &c, &err);
    CHECK_INT(rc, 0);
    CHECK(err == NULL);
    if (err)
        fprintf(stderr, "%s: %s\n", rel, err);
    free(err);
    return c;
}

static struct kcfg *parse_ok(const char *yaml)
{
    struct kcfg *c = NULL;
    char *err = NULL;
    int rc = kcfg_parse_buffer("kubeconfig", yaml, strlen(yaml), NULL, &c, &err);
    CHECK_INT(rc, 0);
    if (err)
        fprintf(stderr, "unexpected: %s\n", err);
    free(err);
    return c;
}

/* The message must be exactly "<path><suffix>". */
static void file_err(const char *rel, const char *ctx, int want_rc, const char *suffix)
{
    char want[8192];
    snprintf(want, sizeof want, "%s%s", dpath(rel), suffix);
    struct kcfg *c = (struct kcfg *)&want; /* must be reset to NULL */
    char *err = NULL;
    CHECK_INT(kcfg_load_file(dpath(rel), ctx, &c, &err), want_rc);
    CHECK(c == NULL);
    CHECK_STR(err, want);
    free(err);
}

static void buf_err(const char *yaml, int want_rc, const char *want)
{
    struct kcfg *c = NULL;
    char *err = NULL;
    CHECK_INT(kcfg_parse_buffer("kubeconfig", yaml, strlen(yaml), NULL, &c, &err), want_rc);
    CHECK(c == NULL);
    CHECK_STR(err, want);
    free(err);
}

static void test_minimal(void)
{
    struct kcfg *c = load_ok("minimal.yaml", NULL);
    if (!c)
        return;
    CHECK_STR(c->source, dpath("minimal.yaml"));
    CHECK_STR(c->context, "local");
    CHECK_STR(c->server, "https://127.0.0.1:6443");
    CHECK_STR(c->token, "abc.def.ghi");
    CHECK(c->token_file == NULL);
    CHECK(c->ca_file == NULL && c->ca_data == NULL);
    CHECK(c->cert_file == NULL && c->cert_data == NULL);
    CHECK(c->key_file == NULL && c->key_data == NULL);
    CHECK(c->tls_server_name == NULL);
    CHECK_INT(c->insecure_skip_tls_verify, 0);
    CHECK_STR(c->namespace, "default");
    char *tok, *err;
    CHECK_INT(kcfg_read_token(c, &tok, &err), 0);
    CHECK_STR(tok, "abc.def.ghi");
    CHECK(err == NULL);
    kcfg_token_free(tok);
    kcfg_free(c);
}

static void test_contexts(void)
{
    struct kcfg *c = load_ok("multi.yaml", NULL);
    if (c) {
        CHECK_STR(c->context, "dev");
        CHECK_STR(c->server, "https://dev.example.com:6443"); /* trailing '/' dropped */
        CHECK_STR(c->token, "dev-token");
        CHECK_STR(c->namespace, "runbook-dev");
        kcfg_free(c);
    }
    c = load_ok("multi.yaml", "prod");
    if (c) {
        CHECK_STR(c->context, "prod");
        CHECK_STR(c->server, "https://prod.example.com:443"); /* no scheme: https */
        CHECK_STR(c->tls_server_name, "kubernetes.prod");
        CHECK_STR(c->token, "prod-token");
        CHECK_STR(c->namespace, "runbook");
        kcfg_free(c);
    }
    /* "" means no override. */
    c = load_ok("multi.yaml", "");
    if (c) {
        CHECK_STR(c->context, "dev");
        kcfg_free(c);
    }
    file_err("multi.yaml", "qa", -EINVAL, ": context \"qa\" is not defined in contexts");
}

static void test_relative_paths(void)
{
    struct kcfg *c = load_ok("relative-ca.yaml", NULL);
    if (!c)
        return;
    CHECK_STR(c->ca_file, dpath("certs/ca.crt"));
    CHECK_STR(c->cert_file, dpath("certs/client.crt"));
    CHECK_STR(c->key_file, dpath("./certs/client.key"));
    CHECK(c->ca_data == NULL && c->cert_data == NULL && c->key_data == NULL);
    CHECK(c->token == NULL && c->token_file == NULL);
    kcfg_free(c);

    /* Relative to the working directory when the name has no directory. */
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    const char *y = "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: "
                    "/etc/hostname}}]\n"
                    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                    "users: [{name: u, user: {tokenFile: t/tok}}]\ncurrent-context: x\n";
    c = NULL;
    char *err = NULL;
    char want[4200];
    snprintf(want, sizeof want, "%s/t/tok", cwd);
    if (access("/etc/hostname", R_OK) == 0) {
        CHECK_INT(kcfg_parse_buffer("kubeconfig", y, strlen(y), NULL, &c, &err), 0);
        if (c) {
            CHECK_STR(c->token_file, want);
            CHECK_STR(c->ca_file, "/etc/hostname");
        }
        kcfg_free(c);
    }
    free(err);
}

static void test_data_fields(void)
{
    size_t n;
    struct kcfg *c = load_ok("data.yaml", NULL);
    if (!c)
        return;
    char *ca = check_read_data("kubeconfig/certs/ca.crt", &n);
    CHECK_INT(c->ca_len, n); /* no padding */
    CHECK(c->ca_data && memcmp(c->ca_data, ca, n) == 0);
    free(ca);
    char *crt = check_read_data("kubeconfig/certs/client.crt", &n);
    CHECK_INT(c->cert_len, n); /* one '=', wrapped over lines */
    CHECK(c->cert_data && memcmp(c->cert_data, crt, n) == 0);
    free(crt);
    char *key = check_read_data("kubeconfig/certs/client.key", &n);
    CHECK_INT(c->key_len, n); /* "==" */
    CHECK(c->key_data && memcmp(c->key_data, key, n) == 0);
    free(key);
    CHECK(c->ca_file == NULL && c->cert_file == NULL && c->key_file == NULL);
    CHECK(c->token == NULL);
    kcfg_free(c);
}

static void test_token_file(void)
{
    struct kcfg *c = load_ok("tokenfile.yaml", NULL);
    if (!c)
        return;
    CHECK_STR(c->token_file, dpath("token.txt"));
    CHECK(c->token == NULL);
    CHECK_STR(c->ca_file, dpath("certs/ca.crt"));
    char *tok = NULL, *err = NULL;
    CHECK_INT(kcfg_read_token(c, &tok, &err), 0);
    CHECK_STR(tok, "file.token.value"); /* trimmed */
    kcfg_token_free(tok);
    free(err);
    kcfg_free(c);
}

static void test_token_reread(void)
{
    char kc[128], tf[128];
    snprintf(kc, sizeof kc, "%s/config", tmpdir);
    snprintf(tf, sizeof tf, "%s/tok", tmpdir);
    write_file(kc, "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
                   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                   "users: [{name: u, user: {tokenFile: tok, token: static}}]\n"
                   "current-context: x\n");
    write_file(tf, "first\n");
    struct kcfg *c = NULL;
    char *err = NULL, *tok = NULL;
    CHECK_INT(kcfg_load_file(kc, NULL, &c, &err), 0);
    if (!c)
        return;
    CHECK_STR(c->token_file, tf);
    CHECK_STR(c->token, "static");
    CHECK_INT(kcfg_read_token(c, &tok, &err), 0);
    CHECK_STR(tok, "first"); /* the file wins over the static token */
    kcfg_token_free(tok);

    write_file(tf, "second-rotated\n");
    CHECK_INT(kcfg_read_token(c, &tok, &err), 0);
    CHECK_STR(tok, "second-rotated");
    kcfg_token_free(tok);

    write_file(tf, " \n");
    CHECK_INT(kcfg_read_token(c, &tok, &err), -EINVAL);
    CHECK(tok == NULL);
    char want[256];
    snprintf(want, sizeof want, "token file %s: is empty", tf);
    CHECK_STR(err, want);
    free(err);

    unlink(tf);
    CHECK_INT(kcfg_read_token(c, &tok, &err), -ENOENT);
    snprintf(want, sizeof want, "token file %s: cannot read: No such file or directory", tf);
    CHECK_STR(err, want);
    free(err);
    kcfg_free(c);
    unlink(kc);
}

static void test_insecure(void)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    log_setup(LOGL_INFO, LOG_FORMAT_LOGFMT, f);
    struct kcfg *c = load_ok("insecure.yaml", NULL);
    fclose(f);
    log_setup(LOGL_INFO, LOG_FORMAT_LOGFMT, NULL);
    if (c) {
        CHECK_INT(c->insecure_skip_tls_verify, 1);
        CHECK_STR(c->server, "https://192.168.1.10:6443");
        CHECK(c->token == NULL && c->cert_data == NULL); /* user: {} is anonymous */
    }
    kcfg_free(c);
    CHECK_CONTAINS(out, "level=warn msg=\"TLS VERIFICATION OF THE API SERVER IS DISABLED");
    CHECK_CONTAINS(out, dpath("insecure.yaml"));
    /* Exactly one line. */
    CHECK(out && strchr(out, '\n') == out + outlen - 1);
    free(out);

    buf_err("clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: "
            "true,\n  certificate-authority-data: "
            "'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K'}}]\n"
            "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
            "users: [{name: u}]\ncurrent-context: x\n",
            -EINVAL,
            "kubeconfig:1: clusters[0].cluster: insecure-skip-tls-verify cannot be combined with a "
            "certificate authority");
    buf_err("clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: "
            "maybe}}]\n",
            -EINVAL, "kubeconfig: current-context: missing, and no context was given");
    buf_err("current-context: x\nclusters: [{name: c, cluster: {server: 'https://h',\n"
            "  insecure-skip-tls-verify: maybe}}]\n"
            "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
            -EINVAL,
            "kubeconfig:3: clusters[0].cluster.insecure-skip-tls-verify: expected true or false, "
            "got \"maybe\"");
}

static void test_ipv6(void)
{
    struct kcfg *c = load_ok("ipv6.yaml", NULL);
    if (!c)
        return;
    CHECK_STR(c->server, "https://[fd00::1]:6443");
    CHECK_INT(c->ca_len, 57);
    CHECK(c->ca_data && memcmp(c->ca_data, "-----BEGIN CERTIFICATE-----\nCA\n", 31) == 0);
    CHECK_STR(c->token, "t6");
    kcfg_free(c);
}

static void in_cluster_env(const char *host, const char *port)
{
    if (host)
        setenv("KUBERNETES_SERVICE_HOST", host, 1);
    else
        unsetenv("KUBERNETES_SERVICE_HOST");
    if (port)
        setenv("KUBERNETES_SERVICE_PORT", port, 1);
    else
        unsetenv("KUBERNETES_SERVICE_PORT");
}

static void test_in_cluster(void)
{
    struct kcfg *c = NULL;
    char *err = NULL, *tok = NULL;
    char sa[4096];
    snprintf(sa, sizeof sa, "%s", dpath("sa"));

    in_cluster_env("fd00::1", "443");
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), 0);
    CHECK(err == NULL);
    if (c) {
        CHECK_STR(c->source, "in-cluster");
        CHECK(c->context == NULL);
        CHECK_STR(c->server, "https://[fd00::1]:443");
        CHECK_STR(c->token, "eyJhbGciOiJSUzI1NiJ9.sa-token");
        CHECK_STR(c->token_file, dpath("sa/token"));
        CHECK_STR(c->ca_file, dpath("sa/ca.crt"));
        CHECK_STR(c->namespace, "runbook-system");
        CHECK(c->ca_data == NULL && c->cert_data == NULL && c->key_data == NULL);
        CHECK_INT(kcfg_read_token(c, &tok, &err), 0);
        CHECK_STR(tok, "eyJhbGciOiJSUzI1NiJ9.sa-token");
        kcfg_token_free(tok);
    }
    kcfg_free(c);

    in_cluster_env("10.96.0.1", "6443");
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), 0);
    if (c)
        CHECK_STR(c->server, "https://10.96.0.1:6443");
    kcfg_free(c);

    in_cluster_env("[fd00::2]", "443"); /* already bracketed: kept */
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), 0);
    if (c)
        CHECK_STR(c->server, "https://[fd00::2]:443");
    kcfg_free(c);

    /* No namespace file: "default"; no ca.crt: system roots (warned). */
    log_setup(LOGL_OFF, LOG_FORMAT_LOGFMT, NULL);
    in_cluster_env("10.96.0.1", "443");
    CHECK_INT(kcfg_in_cluster(dpath("sa-nons"), &c, &err), 0);
    log_setup(LOGL_INFO, LOG_FORMAT_LOGFMT, NULL);
    if (c) {
        CHECK_STR(c->namespace, "default");
        CHECK(c->ca_file == NULL);
        CHECK_STR(c->token, "eyJhbGciOiJSUzI1NiJ9.other");
    }
    kcfg_free(c);

    char want[4400];
    CHECK_INT(kcfg_in_cluster(dpath("no-such-dir"), &c, &err), -ENOENT);
    CHECK(c == NULL);
    snprintf(want, sizeof want, "token file %s/token: cannot read: No such file or directory",
             dpath("no-such-dir"));
    CHECK_STR(err, want);
    free(err);

    in_cluster_env("10.96.0.1", "https");
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), -EINVAL);
    CHECK_STR(err, "in-cluster: KUBERNETES_SERVICE_PORT=\"https\" is not a port");
    free(err);

    in_cluster_env("10.96.0.1", "70000");
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), -EINVAL);
    free(err);

    in_cluster_env("evil/path", "443");
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), -EINVAL);
    CHECK_STR(err, "in-cluster: KUBERNETES_SERVICE_HOST=\"evil/path\" is not a host");
    free(err);

    in_cluster_env(NULL, "443");
    CHECK_INT(kcfg_in_cluster(sa, &c, &err), -ENOENT);
    CHECK_STR(err, "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
                   "(not running in a pod?)");
    free(err);
    in_cluster_env(NULL, NULL);
}

static void test_load_default(void)
{
    struct kcfg *c = NULL;
    char *err = NULL;
    char list[8192];
    in_cluster_env(NULL, NULL);

    snprintf(list, sizeof list, "/nonexistent/a::%s:%s", dpath("multi.yaml"),
             dpath("minimal.yaml"));
    setenv("KUBECONFIG", list, 1);
    CHECK_INT(kcfg_load_default(NULL, &c, &err), 0);
    if (c)
        CHECK_STR(c->source, dpath("multi.yaml")); /* the first existing one, alone */
    kcfg_free(c);
    CHECK_INT(kcfg_load(NULL, "prod", &c, &err), 0);
    if (c)
        CHECK_STR(c->context, "prod");
    kcfg_free(c);

    setenv("KUBECONFIG", "/nonexistent/a:/nonexistent/b", 1);
    CHECK_INT(kcfg_load_default(NULL, &c, &err), -ENOENT);
    CHECK_STR(err, "KUBECONFIG=/nonexistent/a:/nonexistent/b: none of the listed files exists");
    free(err);

    /* An explicit path wins over everything. */
    CHECK_INT(kcfg_load(dpath("minimal.yaml"), NULL, &c, &err), 0);
    if (c)
        CHECK_STR(c->context, "local");
    kcfg_free(c);

    unsetenv("KUBECONFIG");
    char home[128], kube[160], cfg[192];
    snprintf(home, sizeof home, "%s/home", tmpdir);
    snprintf(kube, sizeof kube, "%s/.kube", home);
    snprintf(cfg, sizeof cfg, "%s/config", kube);
    mkdir(home, 0700);
    mkdir(kube, 0700);
    write_file(cfg, "clusters: [{name: c, cluster: {server: 'https://home:1'}}]\n"
                    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                    "users: [{name: u}]\ncurrent-context: x\n");
    const char *home_env = getenv("HOME");
    char *oldhome = home_env ? strdup(home_env) : NULL;
    setenv("HOME", home, 1);
    CHECK_INT(kcfg_load_default(NULL, &c, &err), 0);
    if (c) {
        CHECK_STR(c->source, cfg);
        CHECK_STR(c->server, "https://home:1");
    }
    kcfg_free(c);
    CHECK_INT(kcfg_load(NULL, NULL, &c, &err), 0); /* not in a pod: home config */
    kcfg_free(c);

    /* In a pod, kcfg_load goes in-cluster before ~/.kube/config. */
    in_cluster_env("10.0.0.1", "443");
    if (access("/var/run/secrets/kubernetes.io/serviceaccount/token", F_OK) != 0) {
        CHECK_INT(kcfg_load(NULL, NULL, &c, &err), -ENOENT);
        CHECK_STR(err, "token file /var/run/secrets/kubernetes.io/serviceaccount/token: cannot "
                       "read: No such file or directory");
        free(err);
    }
    in_cluster_env(NULL, NULL);

    unlink(cfg);
    CHECK_INT(kcfg_load_default(NULL, &c, &err), -ENOENT);
    char want[300];
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", cfg);
    CHECK_STR(err, want);
    free(err);
    rmdir(kube);
    rmdir(home);

    unsetenv("HOME");
    CHECK_INT(kcfg_load_default(NULL, &c, &err), -ENOENT);
    CHECK_STR(err, "HOME is not set, so there is no ~/.kube/config; set KUBECONFIG or pass a "
                   "kubeconfig path");
    free(err);
    if (oldhome)
        setenv("HOME", oldhome, 1);
    free(oldhome);
}

static void test_file_errors(void)
{
    file_err("err-no-current-context.yaml", NULL, -EINVAL,
             ": current-context: missing, and no context was given");
    file_err("err-unknown-context.yaml", NULL, -EINVAL,
             ":3: current-context \"staging\" is not defined in contexts");
    file_err("err-unknown-context.yaml", "prod", -EINVAL,
             ": context \"prod\" is not defined in contexts");
    file_err("err-unknown-cluster.yaml", NULL, -EINVAL,
             ":11: context \"dev\" names cluster \"c2\", which is not defined");
    file_err("err-unknown-user.yaml", NULL, -EINVAL,
             ":12: context \"dev\" names user \"nobody\", which is not defined");
    file_err("err-missing-server.yaml", NULL, -EINVAL, ":6: clusters[0].cluster.server: missing");
    file_err("err-bad-base64.yaml", NULL, -EINVAL,
             ":17: users[0].user.client-key-data: invalid base64");
    file_err("err-syntax.yaml", NULL, -EINVAL,
             ":8:35: YAML syntax error: mapping values are not allowed in this context");
    file_err("err-exec.yaml", NULL, -ENOTSUP,
             ":14: user \"eks-user\": exec credential plugins are not supported (use token, "
             "tokenFile or a client certificate)");
    file_err("err-auth-provider.yaml", NULL, -ENOTSUP,
             ":14: user \"gke\": auth-provider plugins are not supported (use token, tokenFile "
             "or a client certificate)");
    file_err("err-empty.yaml", NULL, -EINVAL, ": file is empty");
    file_err("err-comments-only.yaml", NULL, -EINVAL, ": file is empty");
    file_err("err-not-a-mapping.yaml", NULL, -EINVAL,
             ":1: top level: expected a mapping, got a sequence");
    file_err("no-such-file.yaml", NULL, -ENOENT, ": cannot read: No such file or directory");
    file_err("certs", NULL, -EISDIR, ": cannot read: Is a directory");
}

#define CTX_TAIL "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"

static void test_buffer_errors(void)
{
    /* Syntax and encoding. */
    buf_err("a: b\n\tc: d\n", -EINVAL,
            "kubeconfig:2:1: YAML syntax error: found a tab character that violates indentation "
            "(while scanning a plain scalar started at line 1)");
    buf_err("clusters:\n- name: c\n  cluster: [a\n", -EINVAL,
            "kubeconfig:4:1: YAML syntax error: did not find expected ',' or ']' (while parsing a "
            "flow sequence started at line 3)");
    buf_err("a: b\nc: \"\xff\"\n", -EINVAL,
            "kubeconfig:2:5: YAML syntax error: invalid leading UTF-8 octet");
    buf_err("a: 1\n---\nb: 2\n", -EINVAL,
            "kubeconfig:2:1: a second YAML document; a kubeconfig holds exactly one");
    buf_err("~\n", -EINVAL, "kubeconfig: file is empty");
    buf_err("just a string\n", -EINVAL,
            "kubeconfig:1: top level: expected a mapping, got a scalar");

    /* Structure. */
    buf_err("current-context: x\ncontexts: {x: y}\n", -EINVAL,
            "kubeconfig:2: contexts: expected a sequence, got a mapping");
    buf_err("current-context: x\ncontexts:\n- just-a-name\n", -EINVAL,
            "kubeconfig:3: contexts[0]: expected a mapping, got a scalar");
    buf_err("current-context: x\ncontexts:\n- context: {}\n", -EINVAL,
            "kubeconfig:3: contexts[0].name: missing");
    buf_err("current-context: x\ncontexts:\n- name: x\n", -EINVAL,
            "kubeconfig:3: contexts[0].context: missing");
    buf_err("current-context: x\ncontexts:\n- name: x\n  context:\n    user: u\n", -EINVAL,
            "kubeconfig:4: contexts[0].context.cluster: missing");
    buf_err("current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n", -EINVAL,
            "kubeconfig:4: contexts[0].context.user: missing");
    buf_err("current-context: [x]\n", -EINVAL,
            "kubeconfig:1: current-context: expected a string, got a sequence");
    buf_err("current-context: x\ncurrent-context: y\n", -EINVAL,
            "kubeconfig:2: current-context: defined twice (also at line 1)");
    buf_err("clusters: [{name: c, cluster: {server: 'https://a'}},\n"
            "  {name: c, cluster: {server: 'https://b'}}]\n" CTX_TAIL,
            -EINVAL, "kubeconfig:2: cluster \"c\" is defined twice (also at line 1)");
    buf_err("clusters: [{name: c, cluster: [1]}]\n" CTX_TAIL, -EINVAL,
            "kubeconfig:1: clusters[0].cluster: expected a mapping, got a sequence");
    buf_err("clusters: [{name: c, cluster: {server: {a: b}}}]\n" CTX_TAIL, -EINVAL,
            "kubeconfig:1: clusters[0].cluster.server: expected a string, got a mapping");

    /* Server URLs. */
    buf_err("clusters: [{name: c, cluster: {server: 'ftp://h'}}]\n" CTX_TAIL, -EINVAL,
            "kubeconfig:1: clusters[0].cluster.server: \"ftp://h\": scheme must be https:// or "
            "http://");
    buf_err("clusters: [{name: c, cluster: {server: 'https:///'}}]\n" CTX_TAIL, -EINVAL,
            "kubeconfig:1: clusters[0].cluster.server: \"https:///\" has no host");
    buf_err("clusters: [{name: c, cluster: {server: \"https://h\\0x\"}}]\n" CTX_TAIL, -EINVAL,
            "kubeconfig:1: clusters[0].cluster.server: contains a NUL byte");
    buf_err("clusters: [{name: c, cluster: {server: \"https://h\\nHost: x\"}}]\n" CTX_TAIL, -EINVAL,
            "kubeconfig:1: clusters[0].cluster.server: contains a space or control "
            "character");

    /* Credentials. */
    buf_err("clusters: [{name: c, cluster: {server: 'https://h'}}]\n" CTX_TAIL
            "users:\n- name: u\n  user:\n    client-certificate-data: "
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\n",
            -EINVAL,
            "kubeconfig:6: user \"u\": a client certificate without client-key or "
            "client-key-data");
    buf_err("clusters: [{name: c, cluster: {server: 'https://h'}}]\n" CTX_TAIL
            "users: [{name: u, user: {username: admin, password: secret}}]\n",
            -ENOTSUP,
            "kubeconfig:4: user \"u\": basic authentication (username/password) is not supported "
            "(use token, tokenFile or a client certificate)");
    buf_err("clusters: [{name: c, cluster: {server: 'https://h'}}]\n" CTX_TAIL
            "users: [{name: u, user: {token: t, as: system:admin}}]\n",
            -ENOTSUP,
            "kubeconfig:4: user \"u\": impersonation (as) is not supported (use token, tokenFile "
            "or a client certificate)");
    buf_err("clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: "
            "/nonexistent/ca.crt}}]\n" CTX_TAIL,
            -ENOENT,
            "kubeconfig:1: clusters[0].cluster.certificate-authority: cannot read "
            "/nonexistent/ca.crt: No such file or directory");
    buf_err(
        "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: "
        "/etc/hostname,\n  certificate-authority-data: "
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K}}]\n" CTX_TAIL
        "users: [{name: u}]\n",
        access("/etc/hostname", R_OK) == 0 ? -EINVAL : -ENOENT,
        access("/etc/hostname", R_OK) == 0
            ? "kubeconfig:2: clusters[0].cluster: certificate-authority and "
              "certificate-authority-data are both set; keep one"
            : "kubeconfig:1: clusters[0].cluster.certificate-authority: cannot read "
              "/etc/hostname: No such file or directory");
    buf_err("clusters: [{name: c, cluster: {server: 'https://h'}}]\n" CTX_TAIL
            "users: [{name: u, user: {token: \"a\\nb\"}}]\n",
            -EINVAL, "kubeconfig:4: users[0].user.token: contains a control character");
}

static const char *b64_user(const char *data)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: "
             "'%s'}}]\n" CTX_TAIL "users: [{name: u}]\n",
             data);
    return buf;
}

static void test_base64(void)
{
    const char *bad[] = {
        "QQ=",       /* length not a multiple of 4 */
        "QQ==QQ==",  /* padding in the middle */
        "Q===",      /* three pads */
        "QQ-_",      /* base64url */
        "QUJD*RA==", /* not in the alphabet */
        "====",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        buf_err(b64_user(bad[i]), -EINVAL,
                "kubeconfig:1: clusters[0].cluster.certificate-authority-data: invalid base64");
    /* Valid base64 that is not PEM. */
    buf_err(b64_user("QUJD"), -EINVAL,
            "kubeconfig:1: clusters[0].cluster.certificate-authority-data: decoded data is not "
            "PEM (no \"-----BEGIN\" line)");
    /* Only whitespace: as if absent. */
    struct kcfg *c = parse_ok(b64_user("  "));
    if (c)
        CHECK(c->ca_data == NULL);
    kcfg_free(c);
    /* Spaces inside are skipped (a folded scalar turns line breaks into them). */
    c = parse_ok(b64_user("LS0tLS1CRUdJ TiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0t\n"
                          "RU5EIENFUlRJRklDQVRFLS0tLS0K"));
    if (c)
        CHECK_INT(c->ca_len, 57);
    kcfg_free(c);
}

static void test_yaml_features(void)
{
    /* Anchors and aliases are followed; quoted and flow styles work. */
    struct kcfg *c = parse_ok("clusters:\n- name: c\n  cluster: &cl {server: \"https://h:1\"}\n"
                              "- name: d\n  cluster: *cl\n"
                              "contexts:\n- {name: x, context: {cluster: d, user: 'u'}}\n"
                              "users:\n- name: u\n  user: &u\n    token: tok\n"
                              "current-context: x\n"
                              "extra: [*u, *u, *cl]\n");
    if (c) {
        CHECK_STR(c->server, "https://h:1");
        CHECK_STR(c->token, "tok");
    }
    kcfg_free(c);

    /* A null namespace and a null user mean the defaults. */
    c = parse_ok("clusters: [{name: c, cluster: {server: 'http://h'}}]\n"
                 "contexts: [{name: x, context: {cluster: c, user: u, namespace: ~}}]\n"
                 "users: [{name: u, user: null}]\ncurrent-context: x\n");
    if (c) {
        CHECK_STR(c->server, "http://h");
        CHECK_STR(c->namespace, "default");
    }
    kcfg_free(c);

    /* A recursive alias is refused, not looped on. */
    buf_err("a: &a [1, *a]\n", -EINVAL,
            "kubeconfig:1:11: alias *a has no complete anchor before it");
}

static void test_limits(void)
{
    /* Billion laughs: 10^9 nodes once expanded; refused at the limit. */
    char lol[2048];
    size_t n = (size_t)snprintf(lol, sizeof lol, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++)
        n += (size_t)snprintf(lol + n, sizeof lol - n,
                              "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                              "*a%d]\n",
                              i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1);
    struct kcfg *c = NULL;
    char *err = NULL;
    CHECK_INT(kcfg_parse_buffer("lol", lol, n, NULL, &c, &err), -EINVAL);
    CHECK_CONTAINS(err, "lol:6:");
    CHECK_CONTAINS(err, ": too many YAML nodes, aliases expanded (a kubeconfig needs far fewer)");
    free(err);

    /* Deep nesting. */
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = '\0';
    CHECK_INT(kcfg_parse_buffer("deep", deep, 200, NULL, &c, &err), -EINVAL);
    CHECK_STR(err, "deep:1:65: YAML nested deeper than 64 levels");
    free(err);

    /* Too many anchors. */
    char *many = malloc(300 * 16);
    size_t m = 0;
    for (int i = 0; i < 300; i++)
        m += (size_t)snprintf(many + m, 16, "k%d: &a%d v\n", i, i);
    CHECK_INT(kcfg_parse_buffer("anchors", many, m, NULL, &c, &err), -EINVAL);
    CHECK_STR(err, "anchors:257:7: too many YAML anchors");
    free(err);
    free(many);

    /* Over 16 MiB: refused before parsing. */
    size_t big = KCFG_MAX_BYTES + 1;
    char *huge = malloc(big);
    if (huge) {
        memset(huge, ' ', big);
        CHECK_INT(kcfg_parse_buffer("huge", huge, big, NULL, &c, &err), -EFBIG);
        CHECK_STR(err, "huge: larger than 16 MiB; refusing to parse it");
        free(err);
        char path[128];
        snprintf(path, sizeof path, "%s/huge", tmpdir);
        FILE *f = fopen(path, "w");
        if (f) {
            fwrite(huge, 1, big, f);
            fclose(f);
            char want[200];
            snprintf(want, sizeof want, "%s: larger than 16 MiB; refusing to parse it", path);
            CHECK_INT(kcfg_load_file(path, NULL, &c, &err), -EFBIG);
            CHECK_STR(err, want);
            free(err);
            unlink(path);
        }
        free(huge);
    }

    /* NULL errmsg is allowed. */
    CHECK_INT(kcfg_parse_buffer("x", "", 0, NULL, &c, NULL), -EINVAL);
    CHECK(c == NULL);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_kubeconfig.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    RUN(test_minimal);
    RUN(test_contexts);
    RUN(test_relative_paths);
    RUN(test_data_fields);
    RUN(test_token_file);
    RUN(test_token_reread);
    RUN(test_insecure);
    RUN(test_ipv6);
    RUN(test_in_cluster);
    RUN(test_load_default);
    RUN(test_file_errors);
    RUN(test_buffer_errors);
    RUN(test_base64);
    RUN(test_yaml_features);
    RUN(test_limits);
    rmdir(tmpdir);
    return check_finish();
}
