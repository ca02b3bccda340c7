/*  web_assets — the dashboard's static files (web/static/), embedded into
 *  the binary at build time by web/gen_assets.py into $(BUILD)/gen/web_assets.c
 *  (generated, never committed).  */
#ifndef WEB_ASSETS_H
#define WEB_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path;            /* URL path, "/index.html" */
    const char *mime;            /* Content-Type */
    const unsigned char *data;
    size_t len;
} web_asset_t;

extern const web_asset_t web_assets[];
extern const size_t web_assets_count;

#endif
