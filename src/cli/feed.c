/*
 * feed.c - `bourse feed`: follow the binary market-data feed.
 *
 *   --book SYM            join (snapshot + increments) and print the book as
 *                         replay LEVEL lines, exactly as `book SYM` does
 *   --candles SYM IVAL    print the symbol's candles of one interval
 *   --tail                print every message, one readable line each
 *
 * --book and --candles print once the feed says the subscriber has caught up
 * (its first heartbeat), then exit.  --tail runs until End of Session, or
 * --count messages, or --seconds, or with --caught-up until that same
 * first heartbeat (so a script reading "everything so far" waits on the
 * feed's word, never on a time window).
 *
 * With --udp the live messages come from the MoldUDP64 feed instead (udp.c,
 * udpclient.c), gaps filled through --udp-request.  The UDP socket is bound
 * first; then, with --feed-port, a snapshot is taken over TCP at some
 * sequence number S and UDP takes over after S (messages up to S that were
 * already queued on the socket are duplicates and dropped); without it the
 * book starts empty at 0 and every message so far is asked for, which works
 * while the server's history still holds message 1.  --drop-every N and
 * --no-gap-fill are for the tests: drop every Nth datagram received, as a
 * lossy network would, and never ask for missing messages.
 *
 * --connect HOST:PORT[,HOST:PORT...] (repeatable) names the feed's servers
 * instead of --host/--feed-port; with it, --tail does not end when the
 * server goes away: it goes round the addresses with a growing wait
 * (src/net/endpoints.c) and logs in again to the same session asking for
 * the next message it expects, which a restarted server still numbers the
 * same way (src/feed/persist.c), so the lines go on with no gap and no
 * duplicate; where the server no longer holds that message it sends a
 * snapshot, said on stderr.  --give-up S (default 30) bounds the search,
 * the first one too: a server that is not listening yet (a node starting,
 * a leader being elected) is waited for, not a reason to end.
 */
#include "bench/bench.h"
#include "bourse/text.h"
#include "cli.h"
#include "feed/client.h"
#include "feed/udpclient.h"
#include "net/endpoints.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void help(FILE *f)
{
    fputs("usage: bourse feed [--host H] [--feed-port P] --book SYM\n"
          "       bourse feed [--host H] [--feed-port P] --candles SYM INTERVAL\n"
          "       bourse feed [--host H] [--feed-port P] --tail [--snapshot] [--count N] [--seconds S]\n"
          "                   [--caught-up]\n"
          "       bourse feed --connect HOST:PORT[,HOST:PORT...] --tail [--give-up S] [...]\n"
          "       bourse feed --udp ADDR:PORT --udp-request ADDR:PORT [--feed-port P] --book SYM | --tail\n\n"
          "Follows the binary market-data feed of `bourse serve` (docs/protocol.md,\n"
          "\"Market data\"): joins with a snapshot, then applies the live messages.\n\n"
          "  --book SYM         print SYM's price levels as `LEVEL SYM BID|ASK PRICE QTY\n"
          "                     ORDERS` lines, bids best first, then asks best first\n"
          "  --candles SYM IVAL print `CANDLE SYM IVAL START OPEN HIGH LOW CLOSE VOLUME`\n"
          "                     lines, oldest first; IVAL is 1m 5m 1h 1d 1w or 1M and\n"
          "                     START is UTC, like 2024-05-06T13:05:00Z\n"
          "  --tail             print each live message as a line, `SEQ TIME WHAT`\n"
          "                     (snapshot lines have `-` for SEQ), until End of Session\n"
          "  --snapshot         with --tail: print the snapshot's lines too\n"
          "  --count N          with --tail: stop after N lines (the snapshot's count)\n"
          "  --seconds S        with --tail: stop after S seconds\n"
          "  --caught-up        with --tail: stop once the feed says every message so\n"
          "                     far was sent (its first heartbeat: a condition, not a\n"
          "                     time, for scripts)\n"
          "  --host H           the server (default 127.0.0.1)\n"
          "  --feed-port P      the server's binary feed port (default 9002; with --udp,\n"
          "                     only when given: the snapshot comes from there)\n"
          "  --connect H:P,...  the feed's servers, instead of --host/--feed-port: --tail\n"
          "                     then follows across their restarts and failovers,\n"
          "                     resuming at the next message (for --give-up S seconds)\n"
          "  --timeout S        give up joining after S seconds (default 10)\n"
          "  --udp ADDR:PORT    take the live messages from the MoldUDP64 feed sent to\n"
          "                     ADDR:PORT (this host's address, or a multicast group,\n"
          "                     joined on loopback), asking --udp-request ADDR:PORT for\n"
          "                     any missing; with --feed-port the book starts from a TCP\n"
          "                     snapshot, without it from message 1 (while the server\n"
          "                     still holds it)\n\n"
          "`bourse feed bench [--workload W] [--messages N] [--runs R]` measures the\n"
          "publisher and its cost to the engine; with --subscribers N,M... [--rate R]\n"
          "[--seconds S] the WebSocket fan-out (docs/benchmarks.md).\n",
          f);
}

typedef struct tail_ctx {
    const follower *fw;
    int snapshot;
    uint64_t count, seen;
} tail_ctx;

static void ts_format(int64_t ts, char *out)
{
    char s[32];
    candle_time_format(ts, s);
    s[19] = 0; /* drop the Z */
    int64_t ns = ts % 1000000000LL;
    sprintf(out, "%s.%09lldZ", s, (long long)(ns < 0 ? ns + 1000000000LL : ns));
}

static const char *dec(int64_t v, char *buf)
{
    buf[bourse_text_decimal(v, buf)] = 0;
    return buf;
}

static void on_tail(void *ctx, const itch_msg *m, int sequenced, uint64_t seq)
{
    tail_ctx *t = ctx;
    if ((!sequenced && !t->snapshot) || (t->count && t->seen >= t->count))
        return; /* --count N: N lines, the snapshot's included when they are printed */
    const fbook *b = &t->fw->book;
    char ts[48], p[32], line[256];
    ts_format(m->ts, ts);
    const char *sym = m->locate && m->locate <= b->nsyms ? b->syms[m->locate - 1].name : "";
    uint32_t o = m->ref ? fbook_find(b, m->ref) : FB_NIL;
    const fb_order *ord = o == FB_NIL ? NULL : &b->orders[o];
    switch (m->type) {
    case ITCH_SYSTEM:
        snprintf(line, sizeof line, "SYSTEM %s",
                 m->event == 'Q'   ? "OPEN"
                 : m->event == 'M' ? "CLOSE"
                 : m->event == 'C' ? "END"
                                   : "START");
        break;
    case ITCH_DIRECTORY: snprintf(line, sizeof line, "SYMBOL %s", m->stock); break;
    case ITCH_ADD:
        snprintf(line, sizeof line, "ADD %s #%llu %s %u %s", sym, (unsigned long long)m->ref,
                 m->side == 'B' ? "BID" : "ASK", m->qty, dec(m->price, p));
        break;
    case ITCH_EXECUTED:
        snprintf(line, sizeof line, "EXECUTED %s #%llu %u %s match %llu", sym, (unsigned long long)m->ref,
                 m->qty, ord ? dec(ord->price, p) : "?", (unsigned long long)m->match);
        break;
    case ITCH_CANCEL:
        snprintf(line, sizeof line, "CANCEL %s #%llu %u", sym, (unsigned long long)m->ref, m->qty);
        break;
    case ITCH_DELETE: snprintf(line, sizeof line, "DELETE %s #%llu", sym, (unsigned long long)m->ref); break;
    case ITCH_REPLACE:
        snprintf(line, sizeof line, "REPLACE %s #%llu #%llu %u %s", sym, (unsigned long long)m->ref,
                 (unsigned long long)m->ref2, m->qty, dec(m->price, p));
        break;
    case ITCH_STATS:
        snprintf(line, sizeof line, "STATS %s last %s %u volume %lld trades %llu", sym, dec(m->price, p),
                 m->qty, (long long)m->volume, (unsigned long long)m->trades);
        break;
    case ITCH_CANDLE: {
        char st[32], op[32], h[32], l[32];
        candle_time_format(m->c.start, st);
        snprintf(line, sizeof line, "CANDLE %s %s %s %s %s %s %s %lld", sym,
                 candle_interval_name(m->interval), st, dec(m->c.open, op), dec(m->c.high, h),
                 dec(m->c.low, l), dec(m->c.close, p), (long long)m->c.volume);
        break;
    }
    case ITCH_TRADING_ACTION:
        snprintf(line, sizeof line, "%s %s%s", m->state == 'H' ? "HALT" : "RESUME", sym,
                 m->reason == 'M' ? " market-wide" : "");
        break;
    case ITCH_SNAPSHOT_END: /* one timestamp per line, the one in front */
        snprintf(line, sizeof line, "SNAPSHOT_END seq %llu", (unsigned long long)m->seq);
        break;
    case ITCH_PRICE_BAND: {
        char lo[32], hi[32];
        snprintf(line, sizeof line, "BAND %s ref %s %s %s", sym, dec(m->price, p), dec(m->lower, lo),
                 dec(m->upper, hi));
        break;
    }
    default: itch_format(m, line, sizeof line); break;
    }
    if (sequenced)
        printf("%llu %s %s\n", (unsigned long long)seq, ts, line);
    else
        printf("- %s %s\n", ts, line);
    t->seen++;
}

static int join(feed_client *c, int timeout_s, feed_client_fn fn, void *ctx)
{
    time_t end = time(NULL) + timeout_s;
    while (!(c->fw.live && c->heartbeats)) {
        if (time(NULL) > end) {
            cli_error("feed: no snapshot within %d seconds", timeout_s);
            return -1;
        }
        if (feed_client_poll(c, 100, fn, ctx) < 0) {
            cli_error("feed: the server closed the connection");
            return -1;
        }
    }
    if (c->bad || c->fw.errors) {
        cli_error("feed: %llu messages did not fit the book", (unsigned long long)(c->bad + c->fw.errors));
        return -1;
    }
    return 0;
}

static uint32_t symbol(const follower *fw, const char *name)
{
    uint32_t s = fbook_symbol_find(&fw->book, name);
    if (s == FB_NIL)
        cli_error("feed: unknown symbol '%s'", name);
    return s;
}

static int print_book(const follower *fw, const char *sym)
{
    uint32_t s = symbol(fw, sym);
    if (s == FB_NIL)
        return 1;
    size_t need = fbook_format_levels(&fw->book, s, NULL, 0) + 1;
    char *buf = malloc(need);
    if (!buf)
        return 1;
    fbook_format_levels(&fw->book, s, buf, need);
    fputs(buf, stdout);
    free(buf);
    return 0;
}

typedef struct udp_opts {
    const char *feed, *request;
    uint32_t drop_every;
    int no_fill;
} udp_opts;

static int udp_missing(const udp_client *u)
{
    cli_error("feed: UDP: messages %llu-%llu never arrived (%llu datagrams, %llu dropped on purpose, %llu "
              "requests)",
              (unsigned long long)u->next, (unsigned long long)u->known - 1, (unsigned long long)u->datagrams,
              (unsigned long long)u->dropped, (unsigned long long)u->requests);
    return 1;
}

/* --udp: bind, then the snapshot over TCP (or none), then the datagrams. */
static int feed_udp(const udp_opts *o, const char *host, int port, const char *book, tail_ctx *t,
                    uint64_t seconds, int timeout)
{
    static udp_client u;
    static feed_client c;
    static follower own;
    char err[256];
    if (udp_client_open(&u, o->feed, o->request, err, sizeof err) < 0) {
        cli_error("feed: UDP: %s", err);
        return 1;
    }
    u.drop_every = o->drop_every;
    u.no_fill = o->no_fill;
    follower *fw = &own;
    int rc = 0;
    if (t)
        setvbuf(stdout, NULL, _IOLBF, 0); /* the snapshot's lines too, as they come */
    if (port >= 0) {
        if (feed_client_open(&c, host, port, 0, err, sizeof err) < 0) {
            cli_error("feed: %s", err);
            udp_client_close(&u);
            return 1;
        }
        if (t)
            t->fw = &c.fw; /* on_tail looks orders up in the book being built */
        if (join(&c, timeout, t ? on_tail : NULL, t) < 0) {
            feed_client_close(&c);
            udp_client_close(&u);
            return 1;
        }
        close(c.fd); /* UDP from here on; the book stays */
        c.fd = -1;
        fw = &c.fw;
        udp_client_start(&u, fw, fw->seq, c.session);
    } else {
        follow_init(&own, 0);
        own.live = 1; /* an empty snapshot at 0 */
        udp_client_start(&u, fw, 0, NULL);
    }
    time_t end = time(NULL) + (t ? (seconds ? (time_t)seconds : 0) : timeout);
    if (t) {
        t->fw = fw;
        time_t ended_at = 0;
        while ((!t->count || t->seen < t->count) && (!seconds || time(NULL) < end)) {
            if (udp_client_poll(&u, 100, on_tail, t) < 0)
                break;
            if (u.ended && !ended_at)
                ended_at = time(NULL);
            if (ended_at && time(NULL) > ended_at + 1) { /* the server is gone: no more answers */
                rc = udp_missing(&u);
                break;
            }
        }
    } else {
        while (!u.caught_up || u.next < u.known) {
            if (time(NULL) > end) {
                rc = u.next < u.known ? udp_missing(&u) : 1;
                if (u.next >= u.known)
                    cli_error("feed: UDP: no answer from the request server %s within %d seconds", o->request,
                              timeout);
                break;
            }
            udp_client_poll(&u, 100, NULL, NULL);
        }
        if (!rc && (u.bad || fw->errors)) {
            cli_error("feed: %llu messages did not fit the book", (unsigned long long)(u.bad + fw->errors));
            rc = 1;
        }
        if (!rc)
            rc = print_book(fw, book);
    }
    if (o->drop_every)
        fprintf(stderr,
                "bourse feed: UDP: %llu datagrams, %llu dropped on purpose, %llu requests, %llu duplicates\n",
                (unsigned long long)u.datagrams, (unsigned long long)u.dropped,
                (unsigned long long)u.requests, (unsigned long long)u.dups);
    udp_client_close(&u);
    if (port >= 0)
        feed_client_close(&c);
    else
        follow_free(&own);
    return rc;
}

/* --tail's server went away: round the addresses until one takes the
 * session again at the next message (0), or give up (-1). */
static int resume(feed_client *c, endpoints *eps, int give_up_s, feed_client_fn fn, void *ctx)
{
    char where[ENDPOINT_HOST_MAX + 8], err[300];
    cli_error("feed: %s %s; reconnecting", endpoints_name(eps, where, sizeof where),
              c->ended ? "ended the session" : "went away");
    endpoints_next(eps);
    time_t until = time(NULL) + give_up_s;
    uint64_t snaps = c->resnapshots;
    while (time(NULL) < until) {
        struct timespec ts = {0, (long)endpoints_wait_ms(eps) * 1000000L};
        nanosleep(&ts, NULL);
        const endpoint *e = &eps->e[eps->at];
        if (feed_client_resume(c, e->host, e->port, err, sizeof err) != 0) {
            endpoints_next(eps);
            continue;
        }
        /* wait for the answer: a refusal or a dead server is the next one's turn */
        time_t answer = time(NULL) + 5;
        while (!c->logged_in && time(NULL) < answer)
            if (feed_client_poll(c, 100, fn, ctx) < 0) /* what follows the login is shown */
                break;
        if (!c->logged_in) {
            endpoints_next(eps);
            continue;
        }
        endpoints_ok(eps);
        fprintf(stderr, "bourse: feed resumed at %s (session %s, next message %llu%s)\n",
                endpoints_name(eps, where, sizeof where), c->session, (unsigned long long)c->next_seq,
                c->resnapshots > snaps ? ", after a snapshot: that message is no longer held" : "");
        return 0;
    }
    cli_error("feed: no server for %d seconds; giving up", give_up_s);
    return -1;
}

/* --tail with --connect: the first server may not listen yet; go round the
 * addresses as a resume does, for give_up_s at most. */
static int open_any(feed_client *c, endpoints *eps, int give_up_s, char *err, size_t errlen)
{
    time_t until = time(NULL) + give_up_s;
    while (time(NULL) < until) {
        endpoints_next(eps);
        struct timespec ts = {0, (long)endpoints_wait_ms(eps) * 1000000L};
        nanosleep(&ts, NULL);
        const endpoint *e = &eps->e[eps->at];
        if (feed_client_open(c, e->host, e->port, 0, err, errlen) == 0) {
            endpoints_ok(eps);
            return 0;
        }
    }
    return -1;
}

int cmd_feed(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "bench"))
        return bench_feed(argc - 1, argv + 1);
    const char *host = "127.0.0.1", *book = NULL, *csym = NULL, *civ = NULL;
    int port = -1, tail = 0, snapshot = 0, timeout = 10, caught_up = 0;
    uint64_t count = 0, seconds = 0;
    udp_opts uo = {0};
    static endpoints eps;
    const char *why;
    int give_up = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "--tail")) {
            tail = 1;
        } else if (!strcmp(a, "--snapshot")) {
            snapshot = 1;
        } else if (!strcmp(a, "--caught-up")) {
            caught_up = 1;
        } else if (!strcmp(a, "--no-gap-fill")) {
            uo.no_fill = 1;
        } else if (!v) {
            cli_error("feed: %s needs a value (see bourse feed --help)", a);
            return 2;
        } else if (!strcmp(a, "--host")) {
            host = argv[++i];
        } else if (!strcmp(a, "--feed-port")) {
            port = (int)cli_number(a, argv[++i], 65535);
        } else if (!strcmp(a, "--connect")) {
            if (endpoints_add(&eps, argv[++i], &why) != 0) {
                cli_error("feed: --connect %s: %s", argv[i], why);
                return 2;
            }
        } else if (!strcmp(a, "--give-up")) {
            give_up = (int)cli_number(a, argv[++i], 86400);
        } else if (!strcmp(a, "--book")) {
            book = argv[++i];
        } else if (!strcmp(a, "--candles") && i + 2 < argc) {
            csym = argv[++i];
            civ = argv[++i];
        } else if (!strcmp(a, "--count")) {
            count = cli_number(a, argv[++i], UINT64_MAX);
        } else if (!strcmp(a, "--seconds")) {
            seconds = cli_number(a, argv[++i], 1000000000);
        } else if (!strcmp(a, "--timeout")) {
            timeout = (int)cli_number(a, argv[++i], 86400);
        } else if (!strcmp(a, "--udp")) {
            uo.feed = argv[++i];
        } else if (!strcmp(a, "--udp-request")) {
            uo.request = argv[++i];
        } else if (!strcmp(a, "--drop-every")) {
            uo.drop_every = (uint32_t)cli_number(a, argv[++i], 1000000);
        } else {
            cli_error("feed: unknown option '%s' (see bourse feed --help)", a);
            return 2;
        }
    }
    if (uo.feed || uo.request) {
        if (!uo.feed || !uo.request || csym || (!!book + tail) != 1) {
            cli_error("feed: --udp needs --udp-request and one of --book, --tail (see bourse feed --help)");
            return 2;
        }
        tail_ctx t = {.snapshot = snapshot, .count = count};
        return feed_udp(&uo, host, port, book, tail ? &t : NULL, seconds, timeout);
    }
    if (eps.n && port < 0) {
        host = eps.e[0].host;
        port = eps.e[0].port;
    }
    if (port < 0)
        port = 9002; /* the server's default feed_port */
    if ((!!book + !!csym + tail) != 1) {
        cli_error("feed: give one of --book, --candles, --tail (see bourse feed --help)");
        return 2;
    }
    int interval = civ ? candle_interval_parse(civ) : 0;
    if (interval < 0) {
        cli_error("feed: unknown interval '%s' (1m 5m 1h 1d 1w 1M)", civ);
        return 2;
    }
    static feed_client c;
    char err[256];
    if (feed_client_open(&c, host, port, 0, err, sizeof err) < 0 &&
        (!eps.n || !tail || open_any(&c, &eps, give_up, err, sizeof err) != 0)) {
        cli_error("feed: %s", err);
        return 1;
    }
    int rc = 0;
    if (tail) {
        tail_ctx t = {.fw = &c.fw, .snapshot = snapshot, .count = count};
        time_t end = seconds ? time(NULL) + (time_t)seconds : 0;
        setvbuf(stdout, NULL, _IOLBF, 0);
        while ((!count || t.seen < count) && (!end || time(NULL) < end) &&
               !(caught_up && c.fw.live && c.heartbeats))
            if (feed_client_poll(&c, 100, on_tail, &t) < 0) {
                if (eps.n && resume(&c, &eps, give_up, on_tail, &t) == 0)
                    continue;
                if (!c.ended) {
                    cli_error("feed: the server closed the connection");
                    rc = 1;
                }
                break;
            }
    } else if (join(&c, timeout, NULL, NULL) < 0) {
        rc = 1;
    } else if (book) {
        rc = print_book(&c.fw, book);
    } else {
        uint32_t s = symbol(&c.fw, csym);
        if (s == FB_NIL) {
            rc = 1;
        } else {
            const candle_ring *r = &c.fw.book.syms[s].candles[interval];
            for (uint32_t i = r->n; i-- > 0;) {
                const candle *k = candle_ring_get(r, i);
                char start[32], o[32], h[32], l[32], cl[32];
                candle_time_format(k->start, start);
                printf("CANDLE %s %s %s %s %s %s %s %lld\n", csym, civ, start, dec(k->open, o),
                       dec(k->high, h), dec(k->low, l), dec(k->close, cl), (long long)k->volume);
            }
        }
    }
    feed_client_close(&c);
    return rc;
}
