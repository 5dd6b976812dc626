/*
 * ouchclient.h - the client side of order entry, once: framing a command
 * as a SoupBinTCP Unsequenced Data packet, and cutting the server's packets
 * out of what has been read into OUCH reports.
 *
 * `bourse client` (one trader, text in, text out) and the load generator
 * (src/load: thousands of sessions, numbers out) are both built on these,
 * so a change of the wire format is made in one place and both follow.  No
 * I/O here: the callers own their sockets, buffers and timing (the load
 * generator batches many commands into one write; the client writes each).
 */
#ifndef BOURSE_NET_OUCHCLIENT_H
#define BOURSE_NET_OUCHCLIENT_H

#include "bourse/bourse.h"
#include "net/ouch.h"
#include "net/soup.h"

#include <stddef.h>
#include <stdint.h>

/* The most bytes one framed command takes. */
#define OUCH_CLIENT_FRAME_MAX (SOUP_HEADER + OUCH_MAX_LEN)

/* Write one order, cancel or replace as a whole Unsequenced Data packet
 * into buf (room for OUCH_CLIENT_FRAME_MAX); returns its length. */
size_t ouch_client_frame(uint8_t *buf, const bourse_cmd *c);

/* Called for each Sequenced Data packet, in order: r is the decoded report,
 * or NULL when the payload is not a report this client understands (the
 * packet still counts in the session's sequence).  Also for each
 * Unsequenced Data packet (p->type SOUP_UNSEQUENCED): a report outside the
 * stream (the gateway's own refusals, the market's open and close), which
 * takes no sequence number and is never replayed, or an answer to an
 * Account Query (types OUCH_BALANCE, OUCH_OPEN_ORDER, OUCH_ACCOUNT_END,
 * decoded by ouch_account_read).  And for each Server Heartbeat (r NULL,
 * p->type SOUP_SERVER_HEARTBEAT): the server had nothing to send for a
 * second, so a replay asked for at login is over. */
typedef void (*ouch_client_fn)(void *ctx, const ouch_report *r, const soup_packet *p);

/* Take every whole packet out of in[0..*have), calling fn for the
 * sequenced ones, and move what is left (a partial packet) to the front.
 * Returns 1 once an End of Session packet was seen (the packets before it
 * are delivered), -1 on a malformed length (the stream cannot be resynced),
 * else 0. */
int ouch_client_take(uint8_t *in, size_t *have, ouch_client_fn fn, void *ctx);

#endif
