/* trig_sig.c - webhook signatures: GitHub's HMAC of the body, GitLab's
 * shared token, and ours, an HMAC over "<timestamp>.<body>" that also
 * bounds replays to TRIG_SKEW_SECONDS either way.
 *
 * Every comparison is CRYPTO_memcmp over equal lengths: what we compare is
 * always a fixed-size value derived from the secret (the expected header
 * text, or a hash), so neither the bytes nor the length of the secret leak
 * through timing. Callers learn only yes or no. */
#include "trigger/trig-internal.h"
#include "trigger/trigger.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define SIG_PREFIX "sha256="
#define SIG_PREFIX_LEN (sizeof SIG_PREFIX - 1)
#define SIG_LEN 71 /* "sha256=" + 64 hex */
_Static_assert(SIG_LEN == SIG_PREFIX_LEN + (size_t)2 * TRIG_SHA256_LEN, "SIG_LEN");

/* HMAC-SHA256(secret, a || b) as "sha256=<lowercase hex>". */
static void expected_sig(const void *secret, size_t secret_len, const void *a, size_t alen,
                         const void *b, size_t blen, char out[SIG_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    /* EVP_MAC (OpenSSL 3's HMAC), streamed: the signed text of the generic
     * kind is two pieces and we do not copy the body to join them. */
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    char digest[] = "SHA256"; /* OSSL_PARAM takes a non-const pointer */
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    size_t outl = 0;
    if (!c || EVP_MAC_init(c, secret, secret_len, params) != 1 ||
        (alen && EVP_MAC_update(c, a, alen) != 1) || (blen && EVP_MAC_update(c, b, blen) != 1) ||
        EVP_MAC_final(c, mac, &outl, sizeof mac) != 1 || outl != TRIG_SHA256_LEN)
        abort(); /* allocation, or a libcrypto without HMAC-SHA256 */
    n = (unsigned int)outl;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    memcpy(out, SIG_PREFIX, SIG_PREFIX_LEN);
    trig_hex(mac, n, out + SIG_PREFIX_LEN);
}

/* got (a header value) against want (SIG_LEN chars): the prefix and hex
 * digits of got are lowercased first, so "SHA256=AB.." also passes. */
static int sig_equal(const char *got, const char *want)
{
    if (!got || strlen(got) != SIG_LEN)
        return 0;
    char low[SIG_LEN];
    for (size_t i = 0; i < SIG_LEN; i++) {
        char ch = got[i];
        low[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    return CRYPTO_memcmp(low, want, SIG_LEN) == 0;
}

/* Unix seconds: 1 to 18 decimal digits, nothing else. -1 when malformed. */
static int64_t parse_ts(const char *s)
{
    int64_t v = 0;
    size_t n = 0;
    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n == 18)
            return -1;
        v = v * 10 + (s[n] - '0');
    }
    return (n == 0 || s[n]) ? -1 : v;
}

int trig_sig_check(enum trig_sig kind, const void *secret, size_t secret_len,
                   const struct trig_request *req, int64_t now_unix)
{
    /* An empty secret is no secret: everyone could sign. */
    if (!secret || secret_len == 0)
        return -EACCES;
    const struct trig_header *h = req->headers;
    size_t nh = req->n_headers;
    const char *body = req->body ? req->body : "";
    char want[SIG_LEN + 1];
    switch (kind) {
    case TRIG_SIG_GITHUB:
        expected_sig(secret, secret_len, body, req->body_len, NULL, 0, want);
        return sig_equal(trig_header_get(h, nh, TRIG_H_GITHUB_SIG), want) ? 0 : -EACCES;
    case TRIG_SIG_GITLAB: {
        /* Hash both sides: equal lengths whatever the token's length. */
        const char *tok = trig_header_get(h, nh, TRIG_H_GITLAB_TOKEN);
        unsigned char a[TRIG_SHA256_LEN], b[TRIG_SHA256_LEN];
        trig_sha256(secret, secret_len, NULL, 0, a);
        trig_sha256(tok ? tok : "", tok ? strlen(tok) : 0, NULL, 0, b);
        int eq = CRYPTO_memcmp(a, b, sizeof a) == 0;
        return tok && eq ? 0 : -EACCES;
    }
    case TRIG_SIG_GENERIC: {
        const char *ts = trig_header_get(h, nh, TRIG_H_TIMESTAMP);
        const char *sig = trig_header_get(h, nh, TRIG_H_SIG);
        int64_t t = ts ? parse_ts(ts) : -1;
        if (t < 0 || !sig || now_unix < 0) /* now >= 0: the skew cannot overflow */
            return -EACCES;
        /* Signed text: the timestamp header exactly as sent, '.', the body. */
        char pre[24]; /* parse_ts allows at most 18 digits */
        snprintf(pre, sizeof pre, "%s.", ts);
        expected_sig(secret, secret_len, pre, strlen(pre), body, req->body_len, want);
        int ok = sig_equal(sig, want);
        int64_t skew = now_unix > t ? now_unix - t : t - now_unix;
        return ok && skew <= TRIG_SKEW_SECONDS ? 0 : -EACCES;
    }
    }
    return -EACCES;
}
