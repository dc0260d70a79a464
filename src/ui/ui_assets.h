/* ui_assets.h - the web UI's files (ui/ at the top of the tree), embedded
 * into the binary at build time by cmake/embed_ui.cmake: nothing is read
 * from disk or fetched at run time. */
#ifndef RB_UI_ASSETS_H
#define RB_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
    const char *path; /* "/index.html", "/assets/app.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<16 hex of its sha256>\"" */
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_n_assets;

#endif
