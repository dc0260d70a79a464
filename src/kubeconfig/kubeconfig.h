/* kubeconfig - where the API server is and how to authenticate to it.
 *
 * Reads a kubeconfig file (YAML, via libyaml) or the in-cluster service
 * account, and resolves it to ONE connection: the current (or given) context,
 * its cluster and its user. Nothing is merged across files.
 *
 *   struct kcfg *c;
 *   char *err;
 *   if (kcfg_load(flag_path, flag_context, &c, &err) < 0) {
 *       log_kv(LOGL_ERROR, "cannot load the cluster configuration", "error", err, NULL);
 *       free(err);
 *       ...
 *   }
 *
 * Errors: every function returns 0 or a negative errno, and on failure sets
 * *errmsg (when errmsg is not NULL) to ONE malloc'd, human-readable line that
 * names the file and, for parse errors, the line and field, e.g.
 *   /home/a/.kube/config:12: context "dev" names cluster "c2", which is not defined
 *   kubeconfig:3:5: YAML syntax error: mapping values are not allowed in this context
 * The caller frees it. On success *errmsg is set to NULL.
 *   -EINVAL   malformed or incomplete configuration
 *   -ENOTSUP  a feature this client does not implement (exec and auth-provider
 *             plugins, basic auth, impersonation)
 *   -EFBIG    input over KCFG_MAX_BYTES
 *   -ENOENT   file missing (kubeconfig, a file it names, or the in-cluster
 *             token); kcfg_in_cluster: KUBERNETES_SERVICE_HOST/_PORT unset
 *   -ENOMEM, or the -errno of a failed open/read.
 *
 * Hostile input is bounded: documents over 16 MiB, nesting over 64 levels,
 * more than 100000 nodes or 256 anchors are refused. Aliases are followed by
 * reference, never expanded, so "billion laughs" costs nothing. Merge keys
 * ("<<") are not supported. Only the first document of the file is allowed.
 *
 * Not thread-safe in one respect only: the loaders read the environment. */
#ifndef RB_KUBECONFIG_H
#define RB_KUBECONFIG_H

#include <stddef.h>

#define KCFG_MAX_BYTES ((size_t)16 * 1024 * 1024)

/* The resolved connection. Owns every pointer in it; free with kcfg_free.
 * A file and its *-data form are never both set (the file says which).
 * Relative paths in the kubeconfig are resolved against its directory, so
 * every path here is absolute. */
struct kcfg {
    char *source;  /* the kubeconfig path (as given), or "in-cluster" */
    char *context; /* context name used; NULL in-cluster */
    char *server;  /* "https://host:port[/prefix]" without a trailing '/'; IPv6 hosts in [] */
    char *tls_server_name; /* tls-server-name: the name to verify instead of the host, or NULL */

    char *ca_file;          /* certificate-authority / in-cluster ca.crt, or NULL */
    unsigned char *ca_data; /* decoded certificate-authority-data (PEM), or NULL */
    size_t ca_len;
    unsigned char *cert_data; /* decoded client-certificate-data (PEM), or NULL */
    size_t cert_len;
    char *cert_file;         /* client-certificate, or NULL */
    unsigned char *key_data; /* decoded client-key-data (PEM), or NULL; wiped on free */
    size_t key_len;
    char *key_file; /* client-key, or NULL */

    char *token; /* static token (in-cluster: as read at load), or NULL; wiped on free */
    /* tokenFile / in-cluster token path, or NULL. When set it wins over
     * token: the transport re-reads it with kcfg_read_token (client-go: once
     * a minute, and after any 401) because bound tokens rotate. */
    char *token_file;

    int insecure_skip_tls_verify; /* never set together with a CA */
    char *namespace;              /* context namespace, in-cluster namespace file, or "default" */
};

/* Parses kubeconfig text. name (NULL: "kubeconfig") is used in messages and
 * its directory (made absolute against the working directory) resolves
 * relative paths. yaml need not be NUL-terminated. context may be NULL or ""
 * for current-context.
 * Files named by certificate-authority, client-certificate and client-key
 * must be readable (checked with access(2); they are not read here). */
int kcfg_parse_buffer(const char *name, const char *yaml, size_t len, const char *context,
                      struct kcfg **out, char **errmsg);

/* Reads path (at most KCFG_MAX_BYTES) and parses it as above. */
int kcfg_load_file(const char *path, const char *context, struct kcfg **out, char **errmsg);

/* $KUBECONFIG, else $HOME/.kube/config. KUBECONFIG may be a ':'-separated
 * list as for kubectl, but the files are NOT merged: the first entry that
 * exists is loaded alone. -ENOENT when KUBECONFIG lists no existing file or
 * when HOME is unset. */
int kcfg_load_default(const char *context, struct kcfg **out, char **errmsg);

/* The service account of the pod we run in. sa_dir NULL means
 * /var/run/secrets/kubernetes.io/serviceaccount. Needs
 * KUBERNETES_SERVICE_HOST and _PORT (-ENOENT when unset: not in a pod).
 * The token must be readable now; a missing ca.crt only warns (the system
 * roots are used, as client-go does); a missing namespace file means
 * "default". */
int kcfg_in_cluster(const char *sa_dir, struct kcfg **out, char **errmsg);

/* controller-runtime's order: path (a --kubeconfig flag; may be NULL), then
 * $KUBECONFIG, then in-cluster, then $HOME/.kube/config. context applies to
 * the kubeconfig cases only. */
int kcfg_load(const char *path, const char *context, struct kcfg **out, char **errmsg);

/* The bearer token to send now: the token file read afresh (whitespace
 * trimmed, empty refused, like client-go) when token_file is set, else a copy
 * of the static token. *token is NULL (and 0 returned) when the user has no
 * token. On error the caller should keep using its previous token (at first:
 * c->token) and retry later. Free *token with kcfg_token_free. */
int kcfg_read_token(const struct kcfg *c, char **token, char **errmsg);

/* Wipes then frees a token. NULL is fine. */
void kcfg_token_free(char *token);

/* NULL is fine. Wipes the key and token before freeing. */
void kcfg_free(struct kcfg *c);

#endif
