/* cron_tz.c - TZif zones (RFC 8536) and local <-> UTC, as Go's time
 * package reads them: CronJob's timeZone is a time.Location, and a
 * schedule must fire at the same instants here as there. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cron-internal.h"

#define TZ_MAX_FILE (INT64_C(1024) * 1024)

/* --- civil calendar (Howard Hinnant's algorithms) ----------------------- */

int64_t cron_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = cron_floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void cron_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = cron_floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

bool cron_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cron_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && cron_is_leap(y) ? 29 : dim[m - 1];
}

/* --- TZif --------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -EBADMSG;
    h->version = (char)p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '9'))
        return -EBADMSG;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    /* RFC 8536 3.1; the caps keep the size arithmetic below far from
     * overflow (a 1 MiB file cannot hold more anyway). */
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || h->timecnt > TZ_MAX_FILE ||
        h->leapcnt > TZ_MAX_FILE || h->charcnt > TZ_MAX_FILE)
        return -EBADMSG;
    return 0;
}

static size_t block_len(const struct tzif_hdr *h, size_t tsize)
{
    return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Go's lookupFirstZone: the type for times before the first transition. */
static size_t first_type(const struct cron_tz *tz)
{
    bool used = false;
    for (size_t i = 0; i < tz->n_trans; i++)
        used |= tz->idx[i] == 0;
    if (!used)
        return 0;
    if (tz->n_trans > 0 && tz->types[tz->idx[0]].isdst) {
        for (size_t zi = tz->idx[0]; zi-- > 0;)
            if (!tz->types[zi].isdst)
                return zi;
    }
    for (size_t zi = 0; zi < tz->n_types; zi++)
        if (!tz->types[zi].isdst)
            return zi;
    return 0;
}

static int read_block(const unsigned char *p, const struct tzif_hdr *h, size_t tsize,
                      struct cron_tz *tz)
{
    tz->n_trans = h->timecnt;
    tz->n_types = h->typecnt;
    tz->trans = malloc((h->timecnt ? h->timecnt : 1) * sizeof *tz->trans);
    tz->idx = malloc(h->timecnt ? h->timecnt : 1);
    tz->types = calloc(h->typecnt, sizeof *tz->types);
    if (!tz->trans || !tz->idx || !tz->types)
        return -ENOMEM;
    for (size_t i = 0; i < h->timecnt; i++) {
        tz->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return -EBADMSG;
    }
    p += (size_t)h->timecnt * tsize;
    for (size_t i = 0; i < h->timecnt; i++) {
        if (p[i] >= h->typecnt)
            return -EBADMSG;
        tz->idx[i] = p[i];
    }
    p += h->timecnt;
    for (size_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        /* RFC 8536: -2^31 is invalid; real offsets are within a day. */
        if (off <= -25 * 3600 || off >= 26 * 3600 || p[4] > 1 || p[5] >= h->charcnt)
            return -EBADMSG;
        tz->types[i].off = off;
        tz->types[i].isdst = p[4] != 0;
    }
    tz->first = first_type(tz);
    return 0;
}

int cron_tz_parse(const void *buf, size_t len, struct cron_tz **out)
{
    const unsigned char *p = buf;
    struct tzif_hdr h;
    int r = read_hdr(p, len, &h);
    if (r < 0)
        return r;
    size_t n = block_len(&h, 4);
    if (len - 44 < n)
        return -EBADMSG;
    size_t tsize = 4;
    const unsigned char *data = p + 44;
    const unsigned char *footer = NULL, *end = p + len;
    if (h.version != 0) {
        /* v2+: skip the 32-bit data, use the 64-bit block and the footer. */
        const unsigned char *h2 = p + 44 + n;
        if (read_hdr(h2, (size_t)(end - h2), &h) < 0)
            return -EBADMSG;
        tsize = 8;
        n = block_len(&h, 8);
        if ((size_t)(end - h2) - 44 < n)
            return -EBADMSG;
        data = h2 + 44;
        footer = data + n;
    }
    struct cron_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return -ENOMEM;
    r = read_block(data, &h, tsize, tz);
    if (r == 0 && footer) {
        /* "\n" TZ-string "\n"; an empty string means no rule. */
        const unsigned char *nl = NULL;
        if (end - footer >= 2 && footer[0] == '\n')
            nl = memchr(footer + 1, '\n', (size_t)(end - footer - 1));
        if (!nl)
            r = -EBADMSG;
        else if (nl > footer + 1) {
            r = cron_posix_parse((const char *)footer + 1, (size_t)(nl - footer - 1), &tz->posix);
            tz->has_posix = r == 0;
        }
    }
    if (r < 0) {
        cron_tz_free(tz);
        return r;
    }
    *out = tz;
    return 0;
}

void cron_tz_free(struct cron_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->idx);
    free(tz->types);
    free(tz);
}

/* IANA names: components of [A-Za-z0-9_+-], separated by single '/'. As
 * '.' is not allowed, neither is "..". */
static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255 || name[0] == '/' || name[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '/';
        if (!ok || (c == '/' && name[i + 1] == '/'))
            return false;
    }
    return strcasecmp(name, "Local") != 0;
}

static int read_file(int dfd, const char *name, unsigned char **buf, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ENOTDIR ? -ENOENT : -errno;
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0)
        r = -errno;
    else if (!S_ISREG(st.st_mode))
        r = -ENOENT;
    else if (st.st_size > TZ_MAX_FILE)
        r = -EBADMSG;
    unsigned char *b = NULL;
    size_t got = 0;
    if (r == 0 && !(b = malloc((size_t)st.st_size + 1)))
        r = -ENOMEM;
    while (r == 0 && got < (size_t)st.st_size) {
        ssize_t k = read(fd, b + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            r = -errno;
        else if (k == 0)
            break;
        else
            got += (size_t)k;
    }
    close(fd);
    if (r < 0) {
        free(b);
        return r;
    }
    *buf = b;
    *len = got;
    return 0;
}

int cron_tz_load(const char *dir, const char *name, struct cron_tz **out)
{
    if (!name || name[0] == '\0' || strcmp(name, "UTC") == 0) {
        *out = NULL; /* UTC */
        return 0;
    }
    if (!valid_name(name))
        return -EINVAL;
    if (!dir) {
        dir = getenv("ZONEINFO");
        if (!dir || !dir[0])
            dir = "/usr/share/zoneinfo";
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOTDIR ? -ENOENT : -errno;
    unsigned char *buf = NULL;
    size_t len = 0;
    int r = read_file(dfd, name, &buf, &len);
    close(dfd);
    if (r < 0)
        return r;
    r = cron_tz_parse(buf, len, out);
    free(buf);
    return r;
}

/* --- lookups ------------------------------------------------------------- */

int32_t cron_tz_offset(const struct cron_tz *tz, int64_t t)
{
    if (!tz)
        return 0;
    /* No transitions: Go adds one at the dawn of time to type 0, so the
     * footer rule (when there is one) covers all of time. */
    if (tz->n_trans == 0)
        return tz->has_posix ? cron_posix_offset(&tz->posix, t) : tz->types[0].off;
    if (t < tz->trans[0])
        return tz->types[tz->first].off;
    /* The last transition at or before t. */
    size_t lo = 0, hi = tz->n_trans;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t < tz->trans[mid])
            hi = mid;
        else
            lo = mid;
    }
    if (lo == tz->n_trans - 1 && tz->has_posix)
        return cron_posix_offset(&tz->posix, t);
    return tz->types[tz->idx[lo]].off;
}

void cron_tz_local(const struct cron_tz *tz, int64_t t, struct cron_tm *out)
{
    int32_t off = cron_tz_offset(tz, t);
    int64_t l = t + off;
    int64_t days = cron_floordiv(l, 86400), sod = l - days * 86400;
    cron_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
    out->wday = (int)cron_mod(days + 4, 7);
    out->utcoff = off;
}

int64_t cron_tz_from_local(const struct cron_tz *tz, int64_t year, int month, int day, int hour,
                           int minute, int second)
{
    /* Normalize the month first (the day may then overflow freely). */
    int64_t m0 = (int64_t)month - 1;
    year += cron_floordiv(m0, 12);
    m0 = cron_mod(m0, 12);
    int64_t local = (cron_days_from_civil(year, (int)m0 + 1, 1) + day - 1) * 86400 +
                    (int64_t)hour * 3600 + (int64_t)minute * 60 + second;
    /* Go's time.Date: take the offset in effect at the wall time read as
     * UTC; if the instant that gives lies outside that offset's period,
     * take the offset in effect at that instant instead. Both reduce to
     * off(local - off(local)), as adjacent periods with equal offsets give
     * the same answer either way. */
    int32_t off = cron_tz_offset(tz, local);
    return local - cron_tz_offset(tz, local - off);
}
