/*
 * feed.c - the publisher thread: the engine's ring in, the history of
 * sequenced messages out, and the event loop that serves subscribers.
 *
 * The loop drains the ring in batches (publish.c turns records into
 * messages, which are framed once as SoupBinTCP sequenced packets into a
 * byte ring, the history, that every binary subscriber reads from at its
 * own cursor), then lets libwebsockets serve sockets: one turn of the event
 * loop (loop.c: libuv's epoll, so a turn costs the sockets that are ready,
 * not every one open, or libwebsockets' poll() when configured so) every
 * SERVE_US under load, and in every doze.
 *
 * Waking the feed must cost the engine thread (almost) nothing, since it
 * happens once per command.  So an idle feed first dozes: it sleeps DOZE_US
 * at a time and looks at the ring, for up to DOZE_MAX_US, and the engine
 * does nothing to wake it (a command waits at most one doze).  Only after
 * that does it set `sleeping` and block in the loop (loop_wait), and only
 * then does the engine wake it, with lws_cancel_service(), which writes
 * libwebsockets' pipe, one of the loop's descriptors: a system call, but only
 * after a gap of DOZE_MAX_US between commands, so never under load.
 * (Waking a feed that blocked after every batch cost the engine a system
 * call per batch: 15,000 per million commands when the feed kept up.)  The
 * price is the feed's CPU at moderate rates: each doze is a wake-up, about
 * 15% of a vCPU here at 2,000 commands/s; hence a short DOZE_MAX_US.
 *
 * `sleeping` is a Dekker handshake: the engine publishes its index, then
 * reads the flag; the feed sets the flag, then reads the index.  That needs
 * a full barrier on both sides, and on the engine's, one per command that
 * waits for the ring's stores to reach the cache was 5-8% of its
 * throughput.  With membarrier(2) the feed, about to block (rare), forces
 * that barrier onto the engine's CPU instead; the engine then needs only
 * program order.  Without membarrier the engine keeps its fence.
 */
#include "feed/feed_int.h"

#include "net/soup.h"
#include "util/clock.h"
#include "util/log.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 4096, SERVE_US = 100, DRAIN_US = 20000, DOZE_US = 50, DOZE_MAX_US = 200 };

void feed_log(const feed *f, const char *fmt, ...)
{
    if (f->cfg.quiet)
        return;
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_line("market data: %s", line); /* the server's format (util/log.h) */
}

/* libwebsockets' own lines (errors and warnings) in the server's format,
 * so that a log reader sees one format.  A port the library could not bind
 * is then said once more, last and plainly, by cannot_listen. */
static void lws_emit(int level, const char *line)
{
    log_line("libwebsockets %s: %s", level == LLL_ERR ? "error" : "warning", line);
}

/* One clear line for a port the feed could not listen on. */
static int cannot_listen(const feed *f, const char *iface, const char *what, int port, int err)
{
    log_line("market data: cannot listen on %s:%d (%s): %s", iface, port, what,
             err ? strerror(err) : "libwebsockets refused it");
    (void)f;
    return -1;
}

/* ---- engine thread ------------------------------------------------------ */

static __attribute__((noinline, cold)) void wake_up(feed *f)
{
    if (atomic_exchange_explicit(&f->sleeping, 0, memory_order_relaxed))
        lws_cancel_service(f->ctx);
}

/* After publishing: wake the feed if it blocked (see the top of the file). */
static inline void wake(feed *f)
{
    if (f->fence)
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst); /* the feed's membarrier does the rest */
    if (atomic_load_explicit(&f->sleeping, memory_order_relaxed))
        wake_up(f);
}

/* The ring is full: publish what there is and wait for the feed (see
 * feed.h: nothing is ever dropped).  Out of line, so that the per-event
 * path saves no registers for its calls. */
static __attribute__((noinline, cold)) feed_rec *slot_wait(feed *f)
{
    feed_rec *r;
    while (!(r = spsc_slot(&f->q, sizeof *r))) {
        /* Publish all but the last record, whose `end` may still change. */
        if (f->pending) {
            f->q.head--;
            spsc_publish(&f->q);
            f->q.head++;
        }
        atomic_fetch_add_explicit(&f->engine_waits, 1, memory_order_relaxed);
        wake(f);
        sched_yield();
    }
    return r;
}

void feed_push_event(feed *f, const bourse_cmd *cmd, const bourse_event *ev)
{
    int kind = feed_rec_kind(cmd, ev);
    if (!kind)
        return;
    feed_rec *r = spsc_slot(&f->q, sizeof *r);
    if (!r)
        r = slot_wait(f);
    feed_rec_fill(r, kind, cmd, ev);
    f->last = r;
    spsc_push(&f->q);
    f->pending++;
}

void feed_push_end(feed *f, const bourse_cmd *cmd)
{
    if (!f->pending)
        return;
    /* Not yet published, so the feed has not seen it: mark it last, and
     * say which command it ends (the feed's position, consumer.h). */
    f->last->end = 1;
    f->marks[(f->q.head - 1) & f->q.mask] = cmd->seq;
    spsc_publish(&f->q);
    f->pending = 0;
    wake(f);
}

static void snapshot_rec(feed *f, uint64_t seq, int replica)
{
    feed_rec *r = spsc_slot(&f->q, sizeof *r);
    if (!r)
        r = slot_wait(f);
    memset(r, 0, sizeof *r);
    r->kind = REC_SNAPSHOT;
    r->side = (uint8_t)replica;
    r->price = (int64_t)seq;
    spsc_push(&f->q);
    spsc_publish(&f->q);
    wake(f);
}

void feed_snapshot(feed *f, uint64_t seq)
{
    snapshot_rec(f, seq, 0);
}

void feed_replica_snapshot(feed *f, uint64_t seq)
{
    snapshot_rec(f, seq, 1);
}

/* ---- the history -------------------------------------------------------- */

static void hist_put(feed *f, const uint8_t *p, size_t n)
{
    uint64_t at = f->hist_head & (f->hist_cap - 1);
    size_t first = n < f->hist_cap - at ? n : (size_t)(f->hist_cap - at);
    memcpy(f->hist + at, p, first);
    memcpy(f->hist, p + first, n - first);
    f->hist_head += n;
}

/* Every sequenced message: framed once, read by every binary subscriber.
 * Encoded in place when the history has room before its end (nearly
 * always), else through a copy that wraps. */
static void on_message(void *ctx, const itch_msg *m)
{
    feed *f = ctx;
    uint64_t at = f->hist_head & (f->hist_cap - 1);
    f->seq++;
    f->seq_off[f->seq & f->seq_mask] = f->hist_head;
    if (f->hist_cap - at >= SOUP_HEADER + ITCH_MAX) {
        uint8_t *pkt = f->hist + at;
        size_t n = itch_encode(m, pkt + SOUP_HEADER);
        soup_header(pkt, SOUP_SEQUENCED, n);
        f->hist_head += SOUP_HEADER + n;
    } else {
        uint8_t pkt[SOUP_HEADER + ITCH_MAX];
        size_t n = itch_encode(m, pkt + SOUP_HEADER);
        soup_header(pkt, SOUP_SEQUENCED, n);
        hist_put(f, pkt, SOUP_HEADER + n);
    }
    f->ts = (uint64_t)m->ts;
    if (f->ws_vh)
        ws_on_message(f, m);
}

/* ---- the loop ----------------------------------------------------------- */

/* Publish what the ring holds: all of it, unless that takes more than
 * DRAIN_US (then the sockets get their turn).  Serving many subscribers can
 * take a while, and the ring must never wait for it. */
static unsigned drain(feed *f)
{
    feed_rec *r;
    unsigned n = 0;
    uint64_t until = 0;
    uint64_t pos = 0;
    while ((r = spsc_peek(&f->q, sizeof *r))) {
        if (r->kind == REC_SNAPSHOT) {
            persist_take(f, (uint64_t)r->price, r->side);
        } else {
            if (r->end)
                pos = f->marks[f->q.tail & f->q.mask];
            pub_apply(&f->p, r);
        }
        spsc_pop(&f->q);
        if (++n % BATCH == 0) {
            spsc_release(&f->q);
            uint64_t now = mono_us();
            if (!until)
                until = now + DRAIN_US;
            else if (now > until)
                break;
        }
    }
    if (pos)
        atomic_store_explicit(&f->position, pos, memory_order_release);
    if (n) {
        spsc_release(&f->q);
        atomic_fetch_add_explicit(&f->records, n, memory_order_relaxed);
        atomic_store_explicit(&f->messages, f->seq, memory_order_relaxed);
    }
    return n;
}

static void notify(feed *f)
{
    if (f->bin_vh)
        bin_notify(f);
    if (f->ws_vh)
        ws_notify(f);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    feed *f = lws_container_of(sul, feed, tick);
    bin_tick(f);
    udp_tick(f);
    lws_sul_schedule(f->ctx, 0, &f->tick, on_tick, LWS_US_PER_SEC);
}

/* Is anything coming?  Spin a little before going to sleep: waking the feed
 * costs the engine a system call, and under load the next command is only
 * microseconds away. */
/* Polling costs a CPU: on a machine with few cores it slows the engine and
 * gateway more than the wake-up it saves (at 215k orders/s on 2 vCPUs, a
 * 50 us spin doubled the order round trip's p50), so it is off unless
 * configured (the server passes its [server] spin_us). */
static int spin_for_work(feed *f)
{
    if (!f->cfg.spin_us)
        return 0;
    int64_t until = mono_us() + f->cfg.spin_us;
    do {
        for (int i = 0; i < 64; i++) {
            if (spsc_waiting(&f->q))
                return 1;
            __builtin_ia32_pause();
        }
    } while (mono_us() < until);
    return 0;
}

static int work_or_stop(feed *f)
{
    return spsc_waiting(&f->q) || atomic_load_explicit(&f->stop, memory_order_relaxed);
}

/* Sleep a little at a time, serving sockets in between, while the engine
 * may be about to send more: 1 when something came within DOZE_MAX_US. */
static int doze(feed *f)
{
    int64_t until = mono_us() + DOZE_MAX_US;
    do {
        nanosleep(&(struct timespec){.tv_nsec = DOZE_US * 1000}, NULL);
        if (work_or_stop(f))
            return 1;
        loop_serve(f);
    } while (mono_us() < until);
    return 0;
}

/* Block until the engine or a socket wakes us (see the top of the file). */
static void block(feed *f)
{
    atomic_store(&f->sleeping, 1);
    if (f->fence || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
        atomic_thread_fence(memory_order_seq_cst);
    if (!work_or_stop(f))
        loop_wait(f);
    atomic_store(&f->sleeping, 0);
}

static void *feed_main(void *arg)
{
    feed *f = arg;
    /* Dozes of DOZE_US, not DOZE_US plus the default 50 us of slack. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    uint64_t served = 0;
    int dirty = 0;
    lws_sul_schedule(f->ctx, 0, &f->tick, on_tick, LWS_US_PER_SEC);
    udp_begin(f);
    while (!atomic_load(&f->stop)) {
        if (drain(f)) {
            dirty = 1;
            udp_flush(f); /* every turn: a datagram is one system call, not one per subscriber */
            /* Under load, serve the sockets every SERVE_US, not per batch. */
            uint64_t now = mono_us();
            if (now - served >= SERVE_US) {
                notify(f);
                dirty = 0;
                loop_serve(f);
                served = now;
            }
            continue;
        }
        if (dirty) {
            notify(f);
            dirty = 0;
        }
        loop_serve(f);
        served = mono_us();
        if (spin_for_work(f) || doze(f))
            continue;
        block(f);
    }
    /* Publish what is left, then say goodbye and flush for a moment. */
    while (drain(f))
        ;
    pub_apply(&f->p, &(feed_rec){.kind = REC_COMMIT});
    notify(f);
    bin_goodbye(f);
    udp_goodbye(f);
    for (int i = 0; i < 20; i++)
        loop_serve(f);
    lws_sul_cancel(&f->tick);
    return NULL;
}

/* ---- setup -------------------------------------------------------------- */

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p *= 2;
    return p;
}

/* Each vhost is one listening socket; lws binds it in lws_create_vhost and
 * leaves errno as bind(2) set it when that fails. */
static struct lws_vhost *vhost(feed *f, struct lws_context_creation_info *vi, const char *what)
{
    errno = 0;
    struct lws_vhost *vh = lws_create_vhost(f->ctx, vi);
    int err = errno;
    if (!vh)
        cannot_listen(f, vi->iface, what, vi->port, err);
    return vh;
}

/* The HTTP vhost's protocols: the market-data WebSocket first (a client
 * that names no subprotocol gets it, as before the API), then the API's. */
static const struct lws_protocols *http_protocol_list(feed *f)
{
    const struct lws_protocols *extra = f->cfg.http_protocols;
    if (!extra)
        return feed_ws_protocols;
    size_t n = 0;
    while (extra[n].name && n + 2 < sizeof f->http_protos / sizeof *f->http_protos)
        n++;
    f->http_protos[0] = feed_ws_protocols[0];
    memcpy(&f->http_protos[1], extra, n * sizeof *extra);
    memset(&f->http_protos[n + 1], 0, sizeof f->http_protos[0]);
    return f->http_protos;
}

int feed_listen(feed *f)
{
    if (f->listening)
        return 0;
    const char *iface = f->cfg.listen ? f->cfg.listen : "127.0.0.1";
    if (f->cfg.feed_port >= 0) {
        struct lws_context_creation_info vi = {0};
        vi.vhost_name = "feed";
        vi.port = f->cfg.feed_port;
        vi.iface = iface;
        vi.protocols = feed_bin_protocols;
        vi.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
        vi.listen_accept_role = "raw-skt";
        vi.listen_accept_protocol = feed_bin_protocols[0].name;
        vi.user = f;
        if (!(f->bin_vh = vhost(f, &vi, "binary feed")))
            return -1;
    }
    if (f->cfg.http_port >= 0) {
        struct lws_context_creation_info vi = {0};
        vi.vhost_name = "http";
        vi.port = f->cfg.http_port;
        vi.iface = iface;
        vi.protocols = http_protocol_list(f);
        vi.user = f;
        vi.headers = f->cfg.http_headers;
        if (f->cfg.tls_cert && f->cfg.tls_key) {
            vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
            vi.ssl_cert_filepath = f->cfg.tls_cert;
            vi.ssl_private_key_filepath = f->cfg.tls_key;
        }
        /* the API's mounts first, then the web page at / */
        const struct lws_http_mount *api = f->cfg.http_mounts, **tail = &vi.mounts;
        if (api) {
            vi.mounts = api;
            while (api->mount_next)
                api = api->mount_next;
            tail = (const struct lws_http_mount **)&((struct lws_http_mount *)api)->mount_next;
        }
        if (f->cfg.web_root) {
            f->web_mount = (struct lws_http_mount){.mountpoint = "/",
                                                   .mountpoint_len = 1,
                                                   .origin = f->cfg.web_root,
                                                   .def = "index.html",
                                                   .origin_protocol = LWSMPRO_FILE};
            *tail = &f->web_mount;
        }
        if (!(f->ws_vh = vhost(f, &vi, "WebSocket and web page")))
            return -1;
    }
    if (f->cfg.udp_feed && udp_open(f) < 0)
        return -1;
    f->listening = 1;
    return 0;
}

feed *feed_new(const feed_config *cfg)
{
    feed *f = aligned_alloc(64, sizeof *f);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->replica_mu, NULL);
    f->cfg = *cfg;
    if (!f->cfg.ring)
        f->cfg.ring = 1 << 18;
    f->cfg.ring = (uint32_t)pow2_at_least(f->cfg.ring < 4 ? 4 : f->cfg.ring);
    if (!f->cfg.history_mb)
        f->cfg.history_mb = 64;
    if (!f->cfg.ws_queue)
        f->cfg.ws_queue = 256;
    if (!f->cfg.max_subscribers)
        f->cfg.max_subscribers = 20000;
    if (!f->cfg.snapshot_s)
        f->cfg.snapshot_s = 30;
    snprintf(f->session, sizeof f->session, "%s", cfg->session ? cfg->session : "BOURSE");
    f->hist_cap = pow2_at_least((uint64_t)f->cfg.history_mb << 20);
    f->seq_mask = f->hist_cap / 16 - 1; /* messages are at least 16 bytes framed */
    f->q.mask = f->cfg.ring - 1;
    f->q.slots = aligned_alloc(64, (size_t)f->cfg.ring * sizeof(feed_rec));
    f->marks = calloc(f->cfg.ring, sizeof *f->marks);
    f->hist = malloc(f->hist_cap);
    f->seq_off = calloc(f->seq_mask + 1, sizeof *f->seq_off);
    f->scratch = malloc(LWS_PRE + FEED_CHUNK + 16); /* + a heartbeat (bin.c) */
    if (!f->q.slots || !f->marks || !f->hist || !f->seq_off || !f->scratch ||
        pub_init(&f->p, cfg->candle_depth, on_message, f) < 0) {
        log_line("market data: out of memory");
        feed_free(f);
        return NULL;
    }
    memset(f->q.slots, 0, (size_t)f->cfg.ring * sizeof(feed_rec));
    f->q.limit = f->q.mask + 1;
    /* Registering is once per process; the engine keeps its fence without it. */
    f->fence = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0;

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    struct lws_context_creation_info ci = {0};
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    if (cfg->tls_cert && cfg->tls_key)
        ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ci.user = f;
    ci.fd_limit_per_thread = 0;
    if (!(f->ctx = loop_context(f, &ci)) || (!cfg->listen_later && feed_listen(f) < 0)) {
        if (!f->ctx)
            log_line("market data: cannot start libwebsockets");
        feed_free(f);
        return NULL;
    }
    return f;
}

/* Each resting order of a recovered engine, booked as if just accepted. */
static void seed_order(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed *f = ctx;
    feed_rec r;
    if (feed_rec_make(&r, cmd, ev)) {
        r.end = 1;
        pub_apply(&f->p, &r);
    }
}

void feed_seed(feed *f, const bourse_engine *e)
{
    bourse_stats st;
    bourse_engine_stats(e, &st);
    for (uint32_t i = 0; i < st.symbols; i++) {
        feed_rec r = {.kind = REC_SYMBOL};
        memcpy(r.name, bourse_symbol_name_of(e, i)->s, BOURSE_SYMBOL_LEN);
        pub_apply(&f->p, &r);
    }
    if (!st.is_open)
        pub_apply(&f->p, &(feed_rec){.kind = REC_CLOSE});
    for (uint32_t i = 0; i < st.symbols; i++) { /* halts and bands (replay v2) */
        bourse_symbol_state ss;
        bourse_symbol_state_of(e, i, &ss);
        if (i == 0 && ss.halted_all)
            pub_apply(&f->p, &(feed_rec){.kind = REC_HALTALL, .qty = 1});
        if (ss.halted)
            pub_apply(&f->p, &(feed_rec){.kind = REC_HALT, .symbol = i, .side = 1});
        if (ss.ref || ss.band)
            pub_apply(&f->p,
                      &(feed_rec){.kind = REC_BAND, .symbol = i, .price = ss.ref, .qty = (uint32_t)ss.band});
    }
    bourse_engine_each_order(e, seed_order, f);
    atomic_store(&f->messages, f->seq);
}

void feed_set_session(feed *f, const char *session)
{
    snprintf(f->session, sizeof f->session, "%s", session);
}

int feed_start(feed *f)
{
    if (f->started)
        return 0;
    if (feed_listen(f) < 0 || pthread_create(&f->thread, NULL, feed_main, f) != 0)
        return -1;
    feed_log(f, "sockets served by %s", f->uv ? "libuv (epoll)" : "poll()");
    f->started = 1;
    return 0;
}

void feed_stop(feed *f)
{
    if (!f->started || f->stopped)
        return;
    atomic_store(&f->stop, 1);
    lws_cancel_service(f->ctx);
    pthread_join(f->thread, NULL);
    f->stopped = 1;
}

void feed_free(feed *f)
{
    if (!f)
        return;
    feed_stop(f);
    persist_join(f);
    loop_free(f);
    udp_free(f);
    ws_free(f);
    bin_free(f);
    peers_free(f);
    pub_free(&f->p);
    free(f->q.slots);
    free(f->marks);
    free(f->hist);
    free(f->seq_off);
    free(f->scratch);
    free(f->replica_buf);
    pthread_mutex_destroy(&f->replica_mu);
    free(f);
}

int feed_port(const feed *f, int which)
{
    if (which == 'u')
        return udp_port(f);
    struct lws_vhost *vh = which == 'f' ? f->bin_vh : which == 'h' ? f->ws_vh : NULL;
    return vh ? lws_get_vhost_listen_port(vh) : -1;
}

uint64_t feed_position(const feed *f)
{
    return atomic_load_explicit(&((feed *)f)->position, memory_order_acquire);
}

static void consumer_publish(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed_push(ctx, cmd, ev);
}

static void consumer_snapshot(void *ctx, uint64_t seq)
{
    feed_snapshot(ctx, seq);
}

static uint64_t consumer_position(const void *ctx)
{
    return feed_position(ctx);
}

static void consumer_replica_snapshot(void *ctx, uint64_t seq)
{
    feed_replica_snapshot(ctx, seq);
}

static int consumer_replica_state(void *ctx, uint64_t seq, int wait_ms, void **buf, size_t *len)
{
    return feed_replica_state(ctx, seq, wait_ms, (uint8_t **)buf, len);
}

static int consumer_replica_install(void *ctx, const char *dir, uint64_t seq, const void *buf, size_t len,
                                    char *err, size_t errlen)
{
    (void)ctx;
    return feed_replica_install(dir, seq, buf, len, err, errlen);
}

const consumer_ops feed_consumer = {.name = "market data",
                                    .publish = consumer_publish,
                                    .snapshot = consumer_snapshot,
                                    .position = consumer_position,
                                    .replica_snapshot = consumer_replica_snapshot,
                                    .replica_state = consumer_replica_state,
                                    .replica_install = consumer_replica_install};

void feed_get_stats(const feed *f, feed_stats *out)
{
    feed *m = (feed *)f;
    out->pushed = atomic_load(&m->q.pub_head); /* the ring's index counts them */
    out->records = atomic_load(&m->records);
    out->engine_waits = atomic_load(&m->engine_waits);
    out->messages = atomic_load(&m->messages);
    out->errors = f->p.errors;
    out->bin_subscribers = atomic_load(&m->nbin);
    out->ws_subscribers = atomic_load(&m->nws);
    out->snapshots = atomic_load(&m->snapshots);
    out->cut = atomic_load(&m->cut);
    out->refused = atomic_load(&m->refused);
    udp_stats(f, out);
}
