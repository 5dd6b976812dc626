/*
 * proto_admin.c - the admin socket's adapter: replay-format text lines
 * (docs/protocol.md, `bourse admin`).
 *
 * Each line is one command (src/core/text.c parses it) sent to the engine
 * as IN_ADMIN; the engine answers with the command's events as lines, which
 * the gateway holds until the command is durable like any report, and then
 * "." ends the answer.  A line that does not parse gets "! why" and "."; a
 * blank or comment line gets ".".  Admin connections never log in (the
 * socket is the data directory owner's, mode 0600), so they stay with the
 * acceptor, count in no cap and have no timeouts.
 */
#include "server/gateway.h"

#include <stdio.h>
#include <string.h>

enum { ADMIN_LINE = 1024, ADMIN_MAX_OUTPUT = 64 << 20 };

static size_t admin_bytes(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        const uint8_t *nl = memchr(buf + off, '\n', n - off);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (buf + off));
        bourse_cmd cmd;
        char err[160];
        int r = bourse_text_parse((const char *)buf + off, len, &cmd, err, sizeof err);
        off += len + 1;
        if (r == BOURSE_TEXT_CMD) {
            gw_submit(g, c, IN_ADMIN, &cmd);
        } else if (r == BOURSE_TEXT_BAD) {
            char line[200];
            int k = snprintf(line, sizeof line, "! %s\n.\n", err);
            conn_put(g, c, line, (size_t)k);
        } else {
            conn_put(g, c, ".\n", 2);
        }
    }
    if (n - off >= ADMIN_LINE)
        conn_close(g, c, "admin line too long");
    return off;
}

static void admin_reply(gateway *g, conn *c, const srv_text *t)
{
    if (t->done)
        conn_put(g, c, ".\n", 2);
    else
        conn_put(g, c, t->line, t->len);
}

static uint32_t admin_part_max(const srv_config *cfg)
{
    (void)cfg;
    return ADMIN_LINE;
}

static uint32_t admin_output_max(const srv_config *cfg)
{
    (void)cfg;
    return ADMIN_MAX_OUTPUT; /* a big query's answer, read by our own tool */
}

const gw_proto proto_admin = {
    .name = "admin",
    .part_max = admin_part_max,
    .output_max = admin_output_max,
    .on_bytes = admin_bytes,
    .on_reply = admin_reply,
};
