/*
 * server.c - putting the server together: data directory, journal and
 * recovery, sockets, rings, threads, and an orderly stop.
 *
 * Stopping (SIGTERM/SIGINT): the gateway stops reading, the engine applies
 * what is already in its ring and waits until the journal has it on disk,
 * then the gateway delivers every held report, sends End of Session and
 * closes.  So a clean stop acknowledges everything it accepted.
 */
#include "server/server.h"
#include "cluster/cluster.h"
#include "journal/journal.h"
#include "server/proto.h"
#include "server/stages.h"
#include "util/futex.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { IN_RING = 1 << 16, OUT_RING = 1 << 16, TEXT_RING = 1 << 12, AUTH_RING = 1 << 12 };
/* Descriptors a gateway's own table keeps besides its sessions (handoff.c). */
enum { GATE_FD_RESERVE = 64 };

void srv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(fmt, ap); /* src/util/log.h: one format for the server and the feed */
    va_end(ap);
}

int64_t srv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void srv_wake(atomic_int *sleeping, int fd)
{
    /* Only the first producer to see the flag pays for the system call. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(sleeping, memory_order_relaxed) && atomic_exchange(sleeping, 0)) {
        uint64_t one = 1;
        if (write(fd, &one, sizeof one) < 0) {
            /* the counter is full: the sleeper is awake already */
        }
    }
}

/* The engine thread sleeps on a futex (its `engine_sleeping` word) rather
 * than an eventfd: one system call to sleep and one to wake, instead of
 * poll + read + write, and no wait-queue bookkeeping. */
void srv_wake_engine(srv *s)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&s->engine_sleeping, memory_order_relaxed) &&
        atomic_exchange(&s->engine_sleeping, 0))
        futex_wake(&s->engine_sleeping, 1);
}

void srv_wake_gate(srv_gate *gate)
{
    srv_wake(&gate->sleeping, gate->wake_fd);
}

uint64_t srv_durable_seq(const srv *s)
{
    if (s->journal && !atomic_load_explicit(&s->engine_done, memory_order_acquire))
        return journal_durable_seq(s->journal);
    return atomic_load_explicit(&s->applied_seq, memory_order_acquire);
}

static int ring_init(srv_ring *r, unsigned size, size_t entry)
{
    void *slots = malloc((size_t)size * entry);
    if (!slots)
        return -1;
    memset(slots, 0, (size_t)size * entry); /* fault the pages in now, not mid-trading */
    /* The ring indexes slots with size - 1 as a mask: any other size would
     * overlap slots silently.  The sizes are constants and config values
     * rounded up to a power of two. */
    assert(size >= 2 && (size & (size - 1)) == 0);
    spsc_init(r, slots, size);
    return 0;
}

static int listen_tcp(const srv_config *cfg, uint16_t port, const char *what)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, cfg->listen, &a.sin_addr) != 1) {
        srv_log("listen address '%s' is not an IPv4 address", cfg->listen);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0) {
        srv_log("cannot listen on %s:%u: %s", cfg->listen, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    srv_log("%s listening on %s:%u", what, cfg->listen, ntohs(a.sin_port));
    return fd;
}

/* DIR/NAME, a unix socket only its owner may use: the admin socket, and
 * the HTTP API's way into the gateway (api.sock, trusted: src/http). */
static int listen_unix(const char *dir, const char *name, const char *what)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, name) >= sizeof a.sun_path) {
        srv_log("data directory path too long for a unix socket: %s", dir);
        return -1;
    }
    unlink(a.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(077); /* owner-only from the start, not after a chmod */
    int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r != 0 || chmod(a.sun_path, 0600) != 0 || listen(fd, 64) != 0) {
        srv_log("cannot listen on %s: %s", a.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    srv_log("%s %s", what, a.sun_path);
    return fd;
}

static int lock_dir(const char *dir)
{
    char p[SRV_PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/server.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        srv_log("%s: %s", p,
                errno == EWOULDBLOCK ? "another server uses this data directory" : strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int durability_of(const char *name)
{
    if (!strcmp(name, "batch"))
        return JOURNAL_BATCH;
    if (!strcmp(name, "none"))
        return JOURNAL_NONE;
    if (!strcmp(name, "sync"))
        return JOURNAL_SYNC;
    return -1;
}

static int open_state(srv *s)
{
    const srv_config *cfg = s->cfg;
    int mode = durability_of(cfg->durability);
    if (mode < 0) {
        srv_log("durability '%s' is not one of batch, none, sync", cfg->durability);
        return -1;
    }
    journal_config jc = {.dir = cfg->data_dir,
                         .durability = mode,
                         .segment_bytes = (uint64_t)cfg->segment_mb << 20,
                         .batch_us = cfg->batch_us,
                         .spin_us = cfg->spin_us,
                         .prefill = (int)cfg->prefill,
                         .limits = cfg->limits,
                         .on_engine = s->hooks.on_engine,
                         .on_command = s->hooks.on_command,
                         .on_event = s->hooks.on_event,
                         .ctx = s->hooks.ctx};
    char err[512];
    if (journal_open(&jc, &s->journal, &s->engine, err, sizeof err) != 0) {
        srv_log("cannot open the journal: %s", err);
        return -1;
    }
    const journal_recovery *r = journal_recovered(s->journal);
    srv_log("journal %s (durability %s): recovered seq %llu (snapshot %llu + %llu replayed), state %016llx",
            cfg->data_dir, cfg->durability, (unsigned long long)r->last_seq,
            (unsigned long long)r->snapshot_seq, (unsigned long long)r->replayed,
            (unsigned long long)r->hash);
    atomic_store(&s->applied_seq, r->last_seq);
    return 0;
}

/* First touches of the engine's large tables zero whole (huge) pages; taken
 * while matching, they stalled the first second of load by up to 1 s.  Pay
 * for them before the server says it is ready. */
static void prefault_engine(srv *s)
{
    if (!s->cfg->prefault)
        return;
    bourse_engine_prefault(s->engine);
    srv_log("engine tables paged in ([limits] prefault = 1)");
}

/*
 * [server] priority, a nice value for the whole server: set on the main
 * thread before any other starts, so every thread inherits it.  The engine,
 * the gateway, the feed and the journal's helpers all sit on a round trip's
 * path (a lagging feed or keeper makes the engine wait), and when one of
 * them wakes it should run at once rather than wait out an unrelated
 * program's time slice.  Without the right (CAP_SYS_NICE) it says so and
 * goes on.
 */
static void set_priority(const srv_config *cfg)
{
    if (cfg->priority && setpriority(PRIO_PROCESS, (id_t)gettid(), cfg->priority) != 0)
        srv_log("cannot set the server's priority to nice %d (%s): [server] priority needs "
                "root or CAP_SYS_NICE; going on without",
                cfg->priority, strerror(errno));
}

/*
 * How many gateway threads, and how many connections each holds.  The
 * open-file limit applies to each descriptor table, and each gateway has a
 * table of its own (handoff.c), so `[gateway] threads = 0` takes as many
 * gateways as max_sessions needs under this process's limit: one on a
 * machine with a generous limit, several where it is low.
 */
static uint32_t gates_wanted(const srv_config *cfg, uint32_t *capacity)
{
    struct rlimit r;
    uint64_t limit = getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY ? 1u << 20 : r.rlim_cur;
    uint64_t room = limit > 4 * GATE_FD_RESERVE ? limit - GATE_FD_RESERVE : limit / 2;
    uint64_t want = (uint64_t)cfg->max_sessions + 64; /* a few for admin connections */
    uint64_t n = cfg->gateway_threads ? cfg->gateway_threads : (want + room - 1) / room;
    if (n > SRV_MAX_GATES)
        n = SRV_MAX_GATES;
    *capacity = (uint32_t)(want < room ? want : room);
    if (n * room < want)
        srv_log("%llu gateway threads hold at most %llu sessions (open-file limit %llu each), not [gateway] "
                "max_sessions = %u",
                (unsigned long long)n, (unsigned long long)(n * room - 64), (unsigned long long)limit,
                cfg->max_sessions);
    return (uint32_t)n;
}

static int gate_init(srv *s, srv_gate *gate, uint32_t idx, uint32_t capacity)
{
    gate->s = s;
    gate->idx = idx;
    gate->capacity = capacity;
    gate->handoff[0] = gate->handoff[1] = -1;
    unsigned closed = 1024;
    while (closed < capacity)
        closed *= 2;
    if (ring_init(&gate->in, IN_RING, sizeof(srv_in)) || ring_init(&gate->out, OUT_RING, sizeof(srv_out)) ||
        (idx && ring_init(&gate->closed, closed, sizeof(srv_ip)))) {
        srv_log("out of memory");
        return -1;
    }
    gate->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (gate->wake_fd < 0 ||
        (idx && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, gate->handoff) != 0)) {
        srv_log("cannot set up gateway %u: %s", idx, strerror(errno));
        return -1;
    }
    if (gateway_new(gate) != 0) {
        srv_log("cannot set up gateway %u: out of memory", idx);
        return -1;
    }
    return 0;
}

static int gates_init(srv *s)
{
    uint32_t capacity;
    s->ngates = gates_wanted(s->cfg, &capacity);
    for (uint32_t i = 0; i < s->ngates; i++)
        s->gates[i].wake_fd = s->gates[i].handoff[0] = s->gates[i].handoff[1] = -1;
    for (uint32_t i = 0; i < s->ngates; i++)
        if (gate_init(s, &s->gates[i], i, capacity) != 0)
            return -1;
    if (s->ngates > 1)
        srv_log("order entry: %u gateway threads, up to %u connections each", s->ngates, capacity);
    return 0;
}

int srv_init(srv *s, const srv_config *cfg, const srv_hooks *hooks)
{
    memset(s, 0, sizeof *s);
    metrics_init(&s->metrics);
    s->cfg = cfg;
    pthread_mutex_init(&s->acct_mu, NULL);
    if (hooks)
        s->hooks = *hooks;
    set_priority(cfg);
    s->listen_fd = s->admin_fd = s->api_fd = s->auth_fd = s->lock_fd = -1;
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        srv_log("cannot create %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    if ((s->lock_fd = lock_dir(cfg->data_dir)) < 0 ||
        (cfg->cluster ? srv_cluster_open(s) : open_state(s)) != 0)
        return -1;
    prefault_engine(s);
    char dcerr[160];
    if (dropcopy_parse(cfg->fix_dropcopy, &s->dc, dcerr, sizeof dcerr) != 0) { /* checked with the config */
        srv_log("[fix] %s", dcerr);
        return -1;
    }
    /* every id [limits] users allows (the data directory's limits may exceed
     * this run's): calloc maps it untouched, a page per 4,096 users used */
    if (dropcopy_alloc(&s->dc, 1u << 26) != 0) {
        srv_log("out of memory");
        return -1;
    }
    if (ring_init(&s->text, TEXT_RING, sizeof(srv_text)) ||
        ring_init(&s->auth_req, AUTH_RING, sizeof(srv_auth)) ||
        ring_init(&s->auth_res, AUTH_RING, sizeof(srv_auth)) || stages_init(s) != 0) {
        srv_log("out of memory");
        return -1;
    }
    s->auth_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->auth_fd < 0)
        return -1;
    if ((s->listen_fd = listen_tcp(cfg, cfg->order_port, "order entry (SoupBinTCP 3.00 + OUCH)")) < 0 ||
        (s->admin_fd = listen_unix(cfg->data_dir, "admin.sock", "admin socket")) < 0 ||
        (s->api_fd = listen_unix(cfg->data_dir, "api.sock", "HTTP API's order entry")) < 0)
        return -1;
    /* Each listener with its protocol (src/server/proto.h). */
    srv_add_port(s, s->listen_fd, &proto_soup, SRV_PORT_GUARDED);
    srv_add_port(s, s->admin_fd, &proto_admin, 0);
    srv_add_port(s, s->api_fd, &proto_soup, SRV_PORT_TRUSTED);
    if (cfg->fix_port >= 0) { /* FIX 4.4 order entry (docs/fix.md) */
        int fd = listen_tcp(cfg, (uint16_t)cfg->fix_port, "order entry (FIX 4.4)");
        if (fd < 0 || srv_add_port(s, fd, &proto_fix, SRV_PORT_GUARDED) != 0) {
            if (fd >= 0)
                close(fd);
            return -1;
        }
    }
    if (gates_init(s) != 0)
        return -1;
    s->auth_live =
        calloc(s->gates[SRV_ACCEPTOR].capacity, sizeof *s->auth_live); /* NULL: no checks dropped */
    return cfg->cluster ? srv_cluster_start(s) : 0;
}

int srv_add_consumer(srv *s, const consumer_ops *ops, void *ctx)
{
    return consumers_add(&s->consumers, ops, ctx);
}

static void pin(pthread_t t, int cpu, const char *what)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpu == -2)
        cpu = n > 1 ? (int)n - 1 : -1;
    if (cpu < 0 || cpu >= n)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(t, sizeof set, &set) != 0)
        srv_log("could not pin the %s thread to CPU %d", what, cpu);
}

int srv_start(srv *s)
{
    /* Every adapter is registered now: the streams, and the SoupBinTCP
     * session name, from the log (streams.c). */
    if (srv_streams_rebuild(s) != 0)
        return -1;
    if (pthread_create(&s->engine_thread, NULL, srv_engine_main, s) != 0)
        return -1;
    pin(s->engine_thread, s->cfg->engine_cpu, "engine");
    pthread_setname_np(s->engine_thread, "bourse-engine");
    if (pthread_create(&s->auth_thread, NULL, srv_auth_main, s) != 0) {
        srv_log("cannot start threads");
        return -1;
    }
    pthread_setname_np(s->auth_thread, "bourse-auth");
    for (uint32_t i = 0; i < s->ngates; i++) {
        srv_gate *gate = &s->gates[i];
        if (pthread_create(&gate->thread, NULL, srv_gateway_main, gate) != 0) {
            srv_log("cannot start threads");
            return -1;
        }
        /* -2: beside the engine.  On a small machine (or a VM, where waking
         * a thread on another, idle vCPU costs tens of microseconds) the
         * hand-offs of a round trip are cheaper on one CPU than across two. */
        pin(gate->thread, s->cfg->gateway_cpu == -2 ? s->cfg->engine_cpu : s->cfg->gateway_cpu, "gateway");
        char name[16];
        snprintf(name, sizeof name, i ? "bourse-gate%u" : "bourse-gateway", i);
        pthread_setname_np(gate->thread, name);
    }
    atomic_store_explicit(&s->metrics.ready, 1, memory_order_release);
    return 0;
}

void srv_request_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    uint64_t one = 1;
    for (uint32_t i = 0; i < s->ngates; i++)
        if (write(s->gates[i].wake_fd, &one, sizeof one) < 0) {
            /* already signalled */
        }
}

int srv_join(srv *s)
{
    srv_cluster_stop(s);
    for (uint32_t i = 0; i < s->ngates; i++)
        pthread_join(s->gates[i].thread, NULL);
    pthread_join(s->engine_thread, NULL);
    uint64_t one = 1;
    if (write(s->auth_fd, &one, sizeof one) < 0) {
        /* already signalled */
    }
    pthread_join(s->auth_thread, NULL);
    int rc = 0;
    if (s->journal) {
        char err[256];
        if (journal_close(s->journal, err, sizeof err) != 0) {
            srv_log("journal close: %s", err);
            rc = 1;
        }
        s->journal = NULL;
    }
    return rc;
}

static void gate_free(srv_gate *gate)
{
    gateway_free(gate);
    int fds[] = {gate->wake_fd, gate->handoff[0], gate->handoff[1]};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(gate->in.slots);
    free(gate->out.slots);
    free(gate->closed.slots);
}

void srv_free(srv *s)
{
    dropcopy_free(&s->dc);
    for (uint32_t i = 0; i < s->ngates; i++)
        gate_free(&s->gates[i]);
    if (s->journal) {
        char err[256];
        journal_close(s->journal, err, sizeof err);
    }
    if (s->admin_fd >= 0) {
        char p[SRV_PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/admin.sock", s->cfg->data_dir);
        unlink(p);
    }
    if (s->api_fd >= 0) {
        char p[SRV_PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/api.sock", s->cfg->data_dir);
        unlink(p);
    }
    for (uint32_t i = 0; i < s->nports; i++) /* the listeners beyond these two (FIX) */
        if (s->ports[i].fd != s->listen_fd && s->ports[i].fd != s->admin_fd)
            close(s->ports[i].fd);
    int fds[] = {s->listen_fd, s->admin_fd, s->auth_fd, s->lock_fd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    srv_cluster_stop(s); /* when srv_join was not reached */
    if (s->cl_state)
        cluster_state_close(s->cl_state); /* with its engine */
    else
        bourse_engine_free(s->engine);
    free(s->text.slots);
    free(s->auth_req.slots);
    free(s->auth_res.slots);
    consumers_free(&s->consumers);
    free(s->auth_live);
    stages_free(s);
    free(s->acct_hashes);
    free(s->acct_index);
    pthread_mutex_destroy(&s->acct_mu);
    memset(s, 0, sizeof *s);
}
