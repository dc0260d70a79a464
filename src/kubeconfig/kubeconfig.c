#include "kubeconfig/kubeconfig.h"

#include "kubeconfig/kcfg_tree.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* Projected JWTs are a few KiB; a fixed 1 KiB buffer (as in the C client)
 * silently truncates them. */
#define TOKEN_MAX ((size_t)64 * 1024)
#define NAMESPACE_MAX 4096

/* ---- small helpers ------------------------------------------------------ */

static void set_err(char **errmsg, char *msg)
{
    if (errmsg && !*errmsg)
        *errmsg = msg;
    else
        free(msg);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims ASCII whitespace in place; returns the new length. */
static size_t trim(char *s, size_t n)
{
    size_t a = 0;
    while (a < n && is_space((unsigned char)s[a]))
        a++;
    while (n > a && is_space((unsigned char)s[n - 1]))
        n--;
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
    return n - a;
}

static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

/* Reads at most max bytes of path into a NUL-terminated buffer. */
static int read_all(const char *path, size_t max, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        if (n > max) {
            rc = -EFBIG;
            break;
        }
        if (n == cap) {
            char *nb = malloc(cap * 2 + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            /* Copy rather than realloc so the old buffer can be wiped. */
            memcpy(nb, buf, n);
            OPENSSL_cleanse(buf, n);
            free(buf);
            buf = nb;
            cap *= 2;
        }
        /* Never more than max + 1 bytes: enough to see the file is too big. */
        size_t want = cap - n < max + 1 - n ? cap - n : max + 1 - n;
        ssize_t r = read(fd, buf + n, want);
        if (r < 0) {
            if (errno != EINTR)
                rc = -errno;
            continue;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc < 0) {
        if (buf)
            OPENSSL_cleanse(buf, n);
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

static void wipe_free(void *p, size_t n)
{
    if (p)
        OPENSSL_cleanse(p, n);
    free(p);
}

void kcfg_token_free(char *token)
{
    if (token)
        wipe_free(token, strlen(token));
}

void kcfg_free(struct kcfg *c)
{
    if (!c)
        return;
    free(c->source);
    free(c->context);
    free(c->server);
    free(c->tls_server_name);
    free(c->ca_file);
    free(c->ca_data);
    free(c->cert_data);
    free(c->cert_file);
    wipe_free(c->key_data, c->key_len);
    free(c->key_file);
    kcfg_token_free(c->token);
    free(c->token_file);
    free(c->namespace);
    free(c);
}

/* Strict standard base64 (the encoding Go uses for []byte in JSON): line
 * breaks and spaces are skipped, padding is required and only at the end. */
static int b64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    char *clean = malloc(len + 1);
    if (!clean)
        return -ENOMEM;
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        char ch = in[i];
        if (is_space((unsigned char)ch))
            continue;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/' || ch == '='))
            rc = -EINVAL;
        clean[n++] = ch;
    }
    size_t pad = 0;
    while (rc == 0 && pad < n && clean[n - 1 - pad] == '=')
        pad++;
    if (rc == 0 && (n % 4 != 0 || pad > 2 || memchr(clean, '=', n - pad) || n > INT_MAX))
        rc = -EINVAL;
    if (rc == 0 && n > 0) {
        unsigned char *buf = malloc(n / 4 * 3 + 1);
        if (!buf) {
            rc = -ENOMEM;
        } else {
            int r = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
            /* EVP_DecodeBlock counts the padding as zero bytes. */
            if (r < 0 || (size_t)r < pad) {
                free(buf);
                rc = -EINVAL;
            } else {
                *out = buf;
                *outlen = (size_t)r - pad;
            }
        }
    }
    wipe_free(clean, len + 1);
    return rc;
}

static int is_pem(const unsigned char *d, size_t n)
{
    static const char tag[] = "-----BEGIN ";
    size_t t = sizeof tag - 1;
    for (size_t i = 0; i + t <= n; i++)
        if (memcmp(d + i, tag, t) == 0)
            return 1;
    return 0;
}

/* ---- one parse ---------------------------------------------------------- */

struct pctx {
    const char *name; /* for messages */
    char *base_dir;   /* absolute directory of name, for relative paths */
    char **errmsg;
};

/* Records the first error as "name:line: msg" (no line when line is 0). */
__attribute__((format(printf, 4, 5))) static int perr(struct pctx *x, int rc, unsigned line,
                                                      const char *fmt, ...)
{
    if (!x->errmsg || *x->errmsg)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    char *msg = kcfg_vstrf(fmt, ap);
    va_end(ap);
    if (!msg)
        return rc;
    if (line)
        *x->errmsg = kcfg_strf("%s:%u: %s", x->name, line, msg);
    else
        *x->errmsg = kcfg_strf("%s: %s", x->name, msg);
    free(msg);
    return rc;
}

static const char *type_name(const struct kcfg_node *n)
{
    switch (n->type) {
    case KCFG_SEQ:
        return "a sequence";
    case KCFG_MAP:
        return "a mapping";
    case KCFG_SCALAR:
        break;
    }
    return "a scalar";
}

static int is_null(const struct kcfg_node *n)
{
    if (!n)
        return 1;
    if (n->type != KCFG_SCALAR || !n->plain)
        return 0;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

static int scalar_is(const struct kcfg_node *n, const char *s)
{
    return n->type == KCFG_SCALAR && n->len == strlen(s) && memcmp(n->str, s, n->len) == 0;
}

/* A field of a mapping: key and value nodes, both NULL when absent. path is
 * the mapping's path ("" at the top), kept for messages. */
struct field {
    const struct kcfg_node *key, *val;
    char path[160];
};

static int get_field(struct pctx *x, const struct kcfg_node *map, const char *path, const char *key,
                     struct field *f)
{
    f->key = f->val = NULL;
    snprintf(f->path, sizeof f->path, "%s%s%s", path, *path ? "." : "", key);
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        if (!scalar_is(map->kids[i], key))
            continue;
        if (f->key)
            return perr(x, -EINVAL, map->kids[i]->line, "%s: defined twice (also at line %u)",
                        f->path, f->key->line);
        f->key = map->kids[i];
        f->val = map->kids[i + 1];
    }
    if (is_null(f->val))
        f->val = NULL;
    return 0;
}

/* A field that must be a string; f->val is NULL when absent, null or "". */
static int get_scalar(struct pctx *x, const struct kcfg_node *map, const char *path,
                      const char *key, struct field *f)
{
    int rc = get_field(x, map, path, key, f);
    if (rc < 0 || !f->val)
        return rc;
    if (f->val->type != KCFG_SCALAR)
        return perr(x, -EINVAL, f->key->line, "%s: expected a string, got %s", f->path,
                    type_name(f->val));
    if (memchr(f->val->str, '\0', f->val->len))
        return perr(x, -EINVAL, f->key->line, "%s: contains a NUL byte", f->path);
    if (f->val->len == 0)
        f->val = NULL;
    return 0;
}

static int get_str(struct pctx *x, const struct kcfg_node *map, const char *path, const char *key,
                   struct field *f, char **out)
{
    int rc = get_scalar(x, map, path, key, f);
    if (rc < 0 || !f->val)
        return rc;
    *out = strdup(f->val->str);
    return *out ? 0 : -ENOMEM;
}

static int get_bool(struct pctx *x, const struct kcfg_node *map, const char *path, const char *key,
                    struct field *f, int *out)
{
    *out = 0;
    int rc = get_scalar(x, map, path, key, f);
    if (rc < 0 || !f->val)
        return rc;
    const char *s = f->val->str;
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        *out = 1;
    else if (strcmp(s, "false") != 0 && strcmp(s, "False") != 0 && strcmp(s, "FALSE") != 0)
        return perr(x, -EINVAL, f->key->line, "%s: expected true or false, got \"%.100s\"", f->path,
                    s);
    return 0;
}

/* A base64 *-data field holding PEM. */
static int get_pem(struct pctx *x, const struct kcfg_node *map, const char *path, const char *key,
                   struct field *f, unsigned char **out, size_t *outlen)
{
    int rc = get_scalar(x, map, path, key, f);
    if (rc < 0 || !f->val)
        return rc;
    rc = b64_decode(f->val->str, f->val->len, out, outlen);
    if (rc == -EINVAL)
        return perr(x, rc, f->key->line, "%s: invalid base64", f->path);
    if (rc < 0)
        return rc;
    if (!*out) { /* only whitespace: same as absent */
        f->val = NULL;
        return 0;
    }
    if (!is_pem(*out, *outlen))
        return perr(x, -EINVAL, f->key->line,
                    "%s: decoded data is not PEM (no \"-----BEGIN\" line)", f->path);
    return 0;
}

/* A path field: made absolute against the kubeconfig's directory, as kubectl
 * does. check: the file must be readable now. */
static int get_path(struct pctx *x, const struct kcfg_node *map, const char *path, const char *key,
                    struct field *f, int check, char **out)
{
    int rc = get_scalar(x, map, path, key, f);
    if (rc < 0 || !f->val)
        return rc;
    const char *p = f->val->str;
    if (p[0] == '/') {
        *out = strdup(p);
    } else {
        size_t bl = strlen(x->base_dir);
        *out = kcfg_strf("%s%s%s", x->base_dir, bl && x->base_dir[bl - 1] == '/' ? "" : "/", p);
    }
    if (!*out)
        return -ENOMEM;
    if (check && access(*out, R_OK) != 0)
        return perr(x, -errno, f->key->line, "%s: cannot read %.300s: %s", f->path, *out,
                    strerror(errno));
    return 0;
}

static char *base_dir_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else
        dir = strndup(name, slash == name ? 1 : (size_t)(slash - name));
    if (!dir || dir[0] == '/')
        return dir;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return dir; /* stays relative; still usable */
    char *abs = strcmp(dir, ".") == 0 ? strdup(cwd) : kcfg_strf("%s/%s", cwd, dir);
    free(dir);
    return abs;
}

/* An entry of clusters, contexts or users, found by name. */
struct named {
    size_t idx;
    const struct kcfg_node *item;
    struct field body; /* item[kind]: cluster, context or user */
    char path[64];     /* "clusters[3]" */
};

static int find_named(struct pctx *x, const struct kcfg_node *top, const char *list,
                      const char *kind, const char *want, struct named *out, int *found)
{
    *found = 0;
    struct field f;
    int rc = get_field(x, top, "", list, &f);
    if (rc < 0 || !f.val)
        return rc;
    if (f.val->type != KCFG_SEQ)
        return perr(x, -EINVAL, f.key->line, "%s: expected a sequence, got %s", list,
                    type_name(f.val));
    size_t wl = strlen(want);
    for (size_t i = 0; i < f.val->n; i++) {
        const struct kcfg_node *it = f.val->kids[i];
        char p[64];
        snprintf(p, sizeof p, "%s[%zu]", list, i);
        if (it->type != KCFG_MAP)
            return perr(x, -EINVAL, it->line, "%s: expected a mapping, got %s", p, type_name(it));
        struct field nf;
        rc = get_scalar(x, it, p, "name", &nf);
        if (rc < 0)
            return rc;
        if (!nf.val)
            return perr(x, -EINVAL, it->line, "%s.name: missing", p);
        if (nf.val->len != wl || memcmp(nf.val->str, want, wl) != 0)
            continue;
        if (*found)
            return perr(x, -EINVAL, nf.key->line,
                        "%s \"%.200s\" is defined twice (also at line %u)", kind, want,
                        out->item->line);
        *found = 1;
        out->idx = i;
        out->item = it;
        memcpy(out->path, p, sizeof p);
    }
    if (!*found)
        return 0;
    rc = get_field(x, out->item, out->path, kind, &out->body);
    if (rc < 0)
        return rc;
    if (out->body.val && out->body.val->type != KCFG_MAP)
        return perr(x, -EINVAL, out->body.key->line, "%s: expected a mapping, got %s",
                    out->body.path, type_name(out->body.val));
    return 0;
}

/* "host:6443" gets https:// as with kubectl; a trailing '/' is dropped so
 * the transport can append "/api/...". */
static int set_server(struct pctx *x, const struct field *f, struct kcfg *c)
{
    const char *raw = f->val->str;
    unsigned line = f->key->line;
    for (const char *s = raw; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return perr(x, -EINVAL, line, "%s: contains a space or control character", f->path);
    const char *sep = strstr(raw, "://");
    const char *rest = raw;
    const char *scheme = "https";
    size_t slen = 5;
    if (sep) {
        scheme = raw;
        slen = (size_t)(sep - raw);
        rest = sep + 3;
        if (!((slen == 5 && strncasecmp(raw, "https", 5) == 0) ||
              (slen == 4 && strncasecmp(raw, "http", 4) == 0)))
            return perr(x, -EINVAL, line, "%s: \"%.200s\": scheme must be https:// or http://",
                        f->path, raw);
    }
    size_t rl = strlen(rest);
    while (rl > 0 && rest[rl - 1] == '/')
        rl--;
    if (rl == 0 || rest[0] == '/' || rest[0] == '?' || rest[0] == '#')
        return perr(x, -EINVAL, line, "%s: \"%.200s\" has no host", f->path, raw);
    c->server = kcfg_strf("%.*s://%.*s", (int)slen, scheme, (int)rl, rest);
    if (!c->server)
        return -ENOMEM;
    for (size_t i = 0; i < slen; i++) /* "HTTPS://" -> "https://" */
        c->server[i] = (char)(c->server[i] | 0x20);
    return 0;
}

static int parse_cluster(struct pctx *x, const struct named *cl, struct kcfg *c)
{
    const struct kcfg_node *m = cl->body.val;
    const char *p = cl->body.path;
    if (!m)
        return perr(x, -EINVAL, cl->item->line, "%s: missing", p);
    struct field f, caf, insf;
    int rc = get_scalar(x, m, p, "server", &f);
    if (rc < 0)
        return rc;
    if (!f.val)
        return perr(x, -EINVAL, cl->body.key->line, "%s: missing", f.path);
    if ((rc = set_server(x, &f, c)) < 0)
        return rc;
    if ((rc = get_str(x, m, p, "tls-server-name", &f, &c->tls_server_name)) < 0)
        return rc;
    if ((rc = get_path(x, m, p, "certificate-authority", &caf, 1, &c->ca_file)) < 0)
        return rc;
    if ((rc = get_pem(x, m, p, "certificate-authority-data", &f, &c->ca_data, &c->ca_len)) < 0)
        return rc;
    /* kubectl refuses both as well: which one wins is not obvious. */
    if (c->ca_file && c->ca_data)
        return perr(x, -EINVAL, f.key->line,
                    "%s: certificate-authority and certificate-authority-data are both set; "
                    "keep one",
                    p);
    if ((rc = get_bool(x, m, p, "insecure-skip-tls-verify", &insf, &c->insecure_skip_tls_verify)) <
        0)
        return rc;
    /* client-go: "specifying a root certificates file with the insecure flag
     * is not allowed". */
    if (c->insecure_skip_tls_verify && (c->ca_file || c->ca_data))
        return perr(x, -EINVAL, insf.key->line,
                    "%s: insecure-skip-tls-verify cannot be combined with a certificate "
                    "authority",
                    p);
    return 0;
}

/* Refused rather than ignored: dropping them would connect with other
 * credentials (or none) than the user asked for. */
static const struct {
    const char *key, *what;
} unsupported[] = {
    {"exec", "exec credential plugins are"},
    {"auth-provider", "auth-provider plugins are"},
    {"username", "basic authentication (username/password) is"},
    {"password", "basic authentication (username/password) is"},
    {"as", "impersonation (as) is"},
    {"as-uid", "impersonation (as-uid) is"},
    {"as-groups", "impersonation (as-groups) is"},
    {"as-user-extra", "impersonation (as-user-extra) is"},
};

static int parse_user(struct pctx *x, const struct named *us, const char *uname, struct kcfg *c)
{
    const struct kcfg_node *m = us->body.val;
    const char *p = us->body.path;
    if (!m) /* "user: {}" or null: anonymous */
        return 0;
    struct field f, cf, kf;
    int rc;
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        if ((rc = get_field(x, m, p, unsupported[i].key, &f)) < 0)
            return rc;
        if (f.val)
            return perr(x, -ENOTSUP, f.key->line,
                        "user \"%.200s\": %s not supported (use token, tokenFile or a client "
                        "certificate)",
                        uname, unsupported[i].what);
    }
    if ((rc = get_str(x, m, p, "token", &f, &c->token)) < 0)
        return rc;
    if (c->token && has_ctl(c->token, strlen(c->token)))
        return perr(x, -EINVAL, f.key->line, "%s: contains a control character", f.path);
    if ((rc = get_path(x, m, p, "tokenFile", &f, 0, &c->token_file)) < 0)
        return rc;
    if ((rc = get_path(x, m, p, "client-certificate", &cf, 1, &c->cert_file)) < 0)
        return rc;
    if ((rc = get_pem(x, m, p, "client-certificate-data", &f, &c->cert_data, &c->cert_len)) < 0)
        return rc;
    if (c->cert_file && c->cert_data)
        return perr(x, -EINVAL, f.key->line,
                    "%s: client-certificate and client-certificate-data are both set; keep one", p);
    if ((rc = get_path(x, m, p, "client-key", &kf, 1, &c->key_file)) < 0)
        return rc;
    if ((rc = get_pem(x, m, p, "client-key-data", &f, &c->key_data, &c->key_len)) < 0)
        return rc;
    if (c->key_file && c->key_data)
        return perr(x, -EINVAL, f.key->line,
                    "%s: client-key and client-key-data are both set; keep one", p);
    int has_cert = c->cert_file || c->cert_data, has_key = c->key_file || c->key_data;
    if (has_cert != has_key)
        return perr(x, -EINVAL, us->body.key->line, "user \"%.200s\": %s without %s", uname,
                    has_cert ? "a client certificate" : "a client key",
                    has_cert ? "client-key or client-key-data"
                             : "client-certificate or client-certificate-data");
    return 0;
}

static int resolve(struct pctx *x, const struct kcfg_tree *t, const char *want, struct kcfg *c)
{
    const struct kcfg_node *top = t->root;
    if (is_null(top))
        return perr(x, -EINVAL, 0, "file is empty");
    if (top->type != KCFG_MAP)
        return perr(x, -EINVAL, top->line, "top level: expected a mapping, got %s", type_name(top));

    struct field cc = {0};
    int rc;
    if (want && *want) {
        c->context = strdup(want);
        if (!c->context)
            return -ENOMEM;
    } else {
        if ((rc = get_str(x, top, "", "current-context", &cc, &c->context)) < 0)
            return rc;
        if (!c->context)
            return perr(x, -EINVAL, 0, "current-context: missing, and no context was given");
    }

    struct named ctx = {0}, cl = {0}, us = {0};
    int found;
    if ((rc = find_named(x, top, "contexts", "context", c->context, &ctx, &found)) < 0)
        return rc;
    if (!found && cc.key)
        return perr(x, -EINVAL, cc.key->line,
                    "current-context \"%.200s\" is not defined in contexts", c->context);
    if (!found)
        return perr(x, -EINVAL, 0, "context \"%.200s\" is not defined in contexts", c->context);
    const struct kcfg_node *cm = ctx.body.val;
    if (!cm)
        return perr(x, -EINVAL, ctx.item->line, "%s: missing", ctx.body.path);

    struct field clf, usf, nsf;
    char *clname = NULL, *uname = NULL;
    if ((rc = get_str(x, cm, ctx.body.path, "cluster", &clf, &clname)) < 0 ||
        (rc = get_str(x, cm, ctx.body.path, "user", &usf, &uname)) < 0 ||
        (rc = get_str(x, cm, ctx.body.path, "namespace", &nsf, &c->namespace)) < 0)
        goto out;
    if (!clname) {
        rc = perr(x, -EINVAL, ctx.body.key->line, "%s: missing", clf.path);
        goto out;
    }
    if (!uname) {
        rc = perr(x, -EINVAL, ctx.body.key->line, "%s: missing", usf.path);
        goto out;
    }
    if (!c->namespace && !(c->namespace = strdup("default"))) {
        rc = -ENOMEM;
        goto out;
    }

    if ((rc = find_named(x, top, "clusters", "cluster", clname, &cl, &found)) < 0)
        goto out;
    if (!found) {
        rc = perr(x, -EINVAL, clf.key->line,
                  "context \"%.200s\" names cluster \"%.200s\", which is not defined", c->context,
                  clname);
        goto out;
    }
    if ((rc = parse_cluster(x, &cl, c)) < 0)
        goto out;

    if ((rc = find_named(x, top, "users", "user", uname, &us, &found)) < 0)
        goto out;
    if (!found) {
        rc = perr(x, -EINVAL, usf.key->line,
                  "context \"%.200s\" names user \"%.200s\", which is not defined", c->context,
                  uname);
        goto out;
    }
    rc = parse_user(x, &us, uname, c);
    if (rc == 0 && c->insecure_skip_tls_verify)
        log_kv(LOGL_WARN,
               "TLS VERIFICATION OF THE API SERVER IS DISABLED (insecure-skip-tls-verify: "
               "true): anyone on the network path can impersonate it and read the credentials",
               "kubeconfig", x->name, "context", c->context, "cluster", clname, NULL);
out:
    free(clname);
    free(uname);
    return rc;
}

int kcfg_parse_buffer(const char *name, const char *yaml, size_t len, const char *context,
                      struct kcfg **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (!name)
        name = "kubeconfig";
    struct pctx x = {name, NULL, errmsg};
    if (len > KCFG_MAX_BYTES)
        return perr(&x, -EFBIG, 0, "larger than 16 MiB; refusing to parse it");
    struct kcfg_tree *t = NULL;
    struct kcfg *c = NULL;
    int rc = kcfg_tree_parse(name, yaml ? yaml : "", yaml ? len : 0, &t, errmsg);
    if (rc < 0)
        goto out;
    rc = -ENOMEM;
    x.base_dir = base_dir_of(name);
    c = calloc(1, sizeof *c);
    if (!x.base_dir || !c || !(c->source = strdup(name)))
        goto out;
    rc = resolve(&x, t, context, c);
out:
    if (rc == -ENOMEM)
        perr(&x, rc, 0, "out of memory");
    kcfg_tree_free(t);
    free(x.base_dir);
    if (rc < 0) {
        kcfg_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int kcfg_load_file(const char *path, const char *context, struct kcfg **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    char *buf;
    size_t len;
    int rc = read_all(path, KCFG_MAX_BYTES, &buf, &len);
    if (rc == -EFBIG) {
        set_err(errmsg, kcfg_strf("%s: larger than 16 MiB; refusing to parse it", path));
        return rc;
    }
    if (rc < 0) {
        set_err(errmsg, kcfg_strf("%s: cannot read: %s", path, strerror(-rc)));
        return rc;
    }
    rc = kcfg_parse_buffer(path, buf, len, context, out, errmsg);
    wipe_free(buf, len);
    return rc;
}

int kcfg_load_default(const char *context, struct kcfg **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    const char *kc = getenv("KUBECONFIG");
    if (kc && *kc) {
        /* kubectl merges the list; we take the first file that exists. */
        const char *s = kc;
        while (*s) {
            const char *e = strchr(s, ':');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n > 0) {
                char *p = strndup(s, n);
                if (!p)
                    return -ENOMEM;
                struct stat st;
                if (stat(p, &st) == 0) {
                    int rc = kcfg_load_file(p, context, out, errmsg);
                    free(p);
                    return rc;
                }
                free(p);
            }
            s += n;
            if (*s == ':')
                s++;
        }
        set_err(errmsg, kcfg_strf("KUBECONFIG=%s: none of the listed files exists", kc));
        return -ENOENT;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        set_err(errmsg, kcfg_strf("HOME is not set, so there is no ~/.kube/config; set "
                                  "KUBECONFIG or pass a kubeconfig path"));
        return -ENOENT;
    }
    char *p = kcfg_strf("%s/.kube/config", home);
    if (!p)
        return -ENOMEM;
    int rc = kcfg_load_file(p, context, out, errmsg);
    free(p);
    return rc;
}

/* Reads a small service-account file, trimmed. */
static int read_trimmed(const char *path, size_t max, char **out, size_t *len)
{
    int rc = read_all(path, max, out, len);
    if (rc == 0 && *out) /* always set at 0; clang 14 cannot tell */
        *len = trim(*out, *len);
    return rc;
}

static int read_token_file(const char *path, char **token, char **errmsg)
{
    char *buf;
    size_t n;
    int rc = read_trimmed(path, TOKEN_MAX, &buf, &n);
    if (rc == -EFBIG) {
        set_err(errmsg, kcfg_strf("token file %s: larger than 64 KiB", path));
        return rc;
    }
    if (rc < 0) {
        set_err(errmsg, kcfg_strf("token file %s: cannot read: %s", path, strerror(-rc)));
        return rc;
    }
    if (n == 0 || has_ctl(buf, n)) {
        set_err(errmsg, kcfg_strf("token file %s: %s", path,
                                  n ? "contains a control character" : "is empty"));
        wipe_free(buf, n);
        return -EINVAL;
    }
    *token = buf;
    return 0;
}

int kcfg_read_token(const struct kcfg *c, char **token, char **errmsg)
{
    *token = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (c->token_file)
        return read_token_file(c->token_file, token, errmsg);
    if (c->token && !(*token = strdup(c->token)))
        return -ENOMEM;
    return 0;
}

static int valid_port(const char *s)
{
    long v = 0;
    size_t i = 0;
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 5)
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return i > 0 && v >= 1 && v <= 65535;
}

static int valid_host(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("/?#@", *s))
            return 0;
    return 1;
}

static int in_cluster(const char *dir, struct kcfg *c, char **errmsg)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port) {
        set_err(errmsg, kcfg_strf("in-cluster: KUBERNETES_SERVICE_HOST and "
                                  "KUBERNETES_SERVICE_PORT must be set (not running in a pod?)"));
        return -ENOENT;
    }
    if (!valid_host(host)) {
        set_err(errmsg,
                kcfg_strf("in-cluster: KUBERNETES_SERVICE_HOST=\"%.200s\" is not a host", host));
        return -EINVAL;
    }
    if (!valid_port(port)) {
        set_err(errmsg,
                kcfg_strf("in-cluster: KUBERNETES_SERVICE_PORT=\"%.200s\" is not a port", port));
        return -EINVAL;
    }
    /* net.JoinHostPort: an IPv6 literal needs brackets. */
    int v6 = strchr(host, ':') && host[0] != '[';
    c->source = strdup("in-cluster");
    c->server = kcfg_strf("https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
    c->token_file = kcfg_strf("%s/token", dir);
    c->ca_file = kcfg_strf("%s/ca.crt", dir);
    char *nspath = kcfg_strf("%s/namespace", dir);
    if (!c->source || !c->server || !c->token_file || !c->ca_file || !nspath) {
        free(nspath);
        return -ENOMEM;
    }
    /* Read now so a pod without a token fails at start-up, as client-go. */
    int rc = read_token_file(c->token_file, &c->token, errmsg);
    if (rc < 0) {
        free(nspath);
        return rc;
    }
    if (access(c->ca_file, R_OK) != 0) {
        /* client-go logs and goes on with the system roots. */
        log_kv(LOGL_WARN,
               "in-cluster CA unreadable; verifying the API server with the system roots", "path",
               c->ca_file, "error", strerror(errno), NULL);
        free(c->ca_file);
        c->ca_file = NULL;
    }
    size_t n;
    rc = read_trimmed(nspath, NAMESPACE_MAX, &c->namespace, &n);
    free(nspath);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0 || n == 0 || has_ctl(c->namespace, n)) {
        free(c->namespace);
        if (!(c->namespace = strdup("default")))
            return -ENOMEM;
    }
    return 0;
}

int kcfg_in_cluster(const char *sa_dir, struct kcfg **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    struct kcfg *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = in_cluster(sa_dir ? sa_dir : SA_DIR, c, errmsg);
    if (rc < 0) {
        if (rc == -ENOMEM)
            set_err(errmsg, kcfg_strf("in-cluster: out of memory"));
        kcfg_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int kcfg_load(const char *path, const char *context, struct kcfg **out, char **errmsg)
{
    if (path && *path)
        return kcfg_load_file(path, context, out, errmsg);
    const char *kc = getenv("KUBECONFIG");
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if ((!kc || !*kc) && host && *host && port && *port)
        return kcfg_in_cluster(NULL, out, errmsg);
    return kcfg_load_default(context, out, errmsg);
}
