/* libFuzzer target: kcfg_parse_buffer on arbitrary bytes. Besides the
 * sanitizers, it checks the API contract: success gives a complete config
 * and no message; failure gives no config and one message naming the input. */
#include "kubeconfig/kubeconfig.h"
#include "log/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const char *context)
{
    static const char name[] = "fuzz/kubeconfig";
    struct kcfg *c = NULL;
    char *err = NULL;
    int rc = kcfg_parse_buffer(name, (const char *)data, size, context, &c, &err);
    if (rc == 0) {
        if (!c || err || !c->server || !c->namespace || !c->context || !c->source)
            abort();
        if (strncmp(c->server, "https://", 8) != 0 && strncmp(c->server, "http://", 7) != 0)
            abort();
        if (c->insecure_skip_tls_verify && (c->ca_file || c->ca_data))
            abort();
        if ((c->ca_file && c->ca_data) || (c->cert_file && c->cert_data) ||
            (c->key_file && c->key_data))
            abort();
        if (!(c->cert_file || c->cert_data) != !(c->key_file || c->key_data))
            abort();
    } else {
        if (rc >= 0 || c)
            abort();
        if (rc != -ENOMEM && (!err || strncmp(err, name, sizeof name - 1) != 0))
            abort();
    }
    free(err);
    kcfg_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_setup(LOGL_OFF, LOG_FORMAT_LOGFMT, NULL); /* insecure-skip-tls-verify warnings */
        quiet = 1;
    }
    one(data, size, NULL);
    one(data, size, "dev");
    return 0;
}
