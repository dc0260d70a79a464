/* utf8_valid.h - a strict UTF-8 check for the tests of src/ui/ui_utf8
 * (unit and fuzz): it decodes code points (RFC 3629: shortest form, no
 * surrogates, nothing past U+10FFFF), unlike the byte-range table the code
 * under test uses, so the two cannot share a mistake. Header-only. */
#ifndef RB_TEST_UTF8_VALID_H
#define RB_TEST_UTF8_VALID_H

#include <stddef.h>
#include <stdint.h>

static inline int valid_utf8(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = p[i];
        size_t n;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            n = 2, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            n = 3, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            n = 4, cp = b & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i < n)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

#endif
