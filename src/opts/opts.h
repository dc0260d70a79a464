/* opts - the operator's command line, with environment-variable
 * equivalents (RUNBOOK_<FLAG>, e.g. RUNBOOK_LOG_LEVEL=debug). Flags win over
 * the environment. Pure: parsing touches no file and no network. */
#ifndef RB_OPTS_H
#define RB_OPTS_H

#include <stddef.h>

#include "log/log.h"

#define OPTS_MAX_NAMESPACES 64

struct opts {
    const char *kubeconfig; /* NULL: $KUBECONFIG, in-cluster, ~/.kube/config */
    const char *context;
    const char *namespaces[OPTS_MAX_NAMESPACES]; /* none: all namespaces */
    size_t n_namespaces;
    enum log_level log_level;
    enum log_format log_format;
    double qps;
    int burst;
    int workers;
    int leader_elect;
    const char *lease_name;      /* default "runbook-operator" */
    const char *lease_namespace; /* NULL: the configuration's namespace */
    long lease_duration_ms, renew_deadline_ms, retry_period_ms; /* 15 s, 10 s, 2 s */
    const char *health_addr;                        /* default ":8081"; "" or "0" disables */
    const char *metrics_addr;                       /* default ":8080" */
    const char *webhook_addr;                       /* default ":8082" */
    const char *webhook_tls_cert, *webhook_tls_key; /* both or neither */
    size_t webhook_max_body;                        /* bytes; default 1 MiB */
    double webhook_rate;                            /* deliveries/s per Trigger; default 10 */
    double webhook_qps;                   /* the Triggers' API client, requests/s; default 1000 */
    const char *ui_addr;                  /* the web UI; default ":8083"; "" or "0" disables */
    const char *ui_tls_cert, *ui_tls_key; /* both or neither */
    int ui_anonymous_read;                /* tabs without a token read (never write) */
    int events_all; /* --events=all: each step's StepStarted, StepSucceeded too; default news */
    int help, version;
};

/* Parses argv (and the environment) into *o. Returns 0, or -EINVAL with a
 * one-line message in err (e.g. "--qps: not a positive number: \"x\""). */
int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen);

/* The --help text. */
const char *opts_usage(void);

#endif
