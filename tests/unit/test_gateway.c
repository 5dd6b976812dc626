/*
 * test_gateway.c - the protocol-neutral gateway with a protocol of the
 * test's own: a second adapter plugs in with one srv_add_port, and the
 * gateway does for it what it does for SoupBinTCP.
 *
 * The toy protocol is upper-case echo over newline-ended lines: "=CMD"
 * lines go to the engine as replay-format commands, and their answers come
 * back as "R:" lines; a market open or close (an engine event) comes to
 * every toy connection as "SYS c"; at shutdown each gets "BYE".  A real
 * server runs in this process (durability none, small limits); the checks
 * are on real sockets: an incomplete line is kept between reads by the
 * gateway, not the adapter; the per-address cap applies to a guarded
 * listener; engine replies and events reach the adapter; on_stop runs.
 */
#include "check.h"
#include "server/gateway.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* --- the toy adapter ------------------------------------------------------ */

typedef struct toy_gw {
    uint32_t idx;
} toy_gw;

static int toy_gw_made;

static void *toy_gw_new(gateway *g, uint32_t idx)
{
    (void)g;
    toy_gw *t = calloc(1, sizeof *t);
    if (t) {
        t->idx = idx;
        toy_gw_made++;
    }
    return t;
}

static void toy_gw_free(gateway *g, void *st)
{
    (void)g;
    free(st);
}

static size_t toy_bytes(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    const uint8_t *nl;
    while (off < n && (nl = memchr(buf + off, '\n', n - off))) {
        size_t len = (size_t)(nl - (buf + off)) + 1;
        if (buf[off] == '=') {
            bourse_cmd cmd;
            char err[160];
            if (bourse_text_parse((const char *)buf + off + 1, len - 2, &cmd, err, sizeof err) ==
                BOURSE_TEXT_CMD)
                gw_submit(g, c, IN_ADMIN, &cmd);
        } else {
            char up[256];
            for (size_t i = 0; i < len && i < sizeof up; i++)
                up[i] = (char)toupper(buf[off + i]);
            conn_put(g, c, up, len < sizeof up ? len : sizeof up);
        }
        off += len;
    }
    return off;
}

static void toy_reply(gateway *g, conn *c, const srv_text *t)
{
    conn_put(g, c, "R:", 2);
    conn_put(g, c, t->done ? ".\n" : t->line, t->done ? 2 : t->len);
}

static void toy_event(gateway *g, void *st, const srv_out *o)
{
    toy_gw *t = st;
    if (o->kind != OUT_SYSTEM)
        return;
    char msg[8] = {'S', 'Y', 'S', ' ', (char)o->code, '\n'};
    for (uint32_t i = 0; i < g->nconns; i++)
        if (g->conns[i].state != C_FREE && g->conns[i].proto == t->idx)
            conn_put(g, &g->conns[i], msg, 6);
}

static void toy_stop(gateway *g, conn *c)
{
    conn_put(g, c, "BYE\n", 4);
}

static uint32_t toy_part_max(const srv_config *cfg)
{
    (void)cfg;
    return 256;
}

static uint32_t toy_output_max(const srv_config *cfg)
{
    (void)cfg;
    return 1 << 16;
}

static const gw_proto proto_toy = {
    .name = "toy",
    .part_max = toy_part_max,
    .output_max = toy_output_max,
    .gw_new = toy_gw_new,
    .gw_free = toy_gw_free,
    .on_bytes = toy_bytes,
    .on_reply = toy_reply,
    .on_event = toy_event,
    .on_stop = toy_stop,
};

/* --- the server and clients -------------------------------------------- */

static srv server;
static srv_config cfg;
static int toy_port;
static char dir[] = "/tmp/bourse-test-gateway-XXXXXX";

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)toy_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read until `want` has arrived (1), the peer closed or reset (0) or 5 s
 * passed (-1); what came is in buf. */
static int read_until(int fd, const char *want, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    while (!strstr(buf, want)) {
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k <= 0)
            return k == 0 || errno == ECONNRESET ? 0 : -1;
        n += (size_t)k;
        buf[n] = 0;
    }
    return 1;
}

static void send_str(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        printf("FAIL short write\n");
}

static int start(void)
{
    if (!mkdtemp(dir))
        return -1;
    srv_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    cfg.order_port = 0;
    strcpy(cfg.durability, "none");
    cfg.limits = (bourse_limits){.symbols = 16, .users = 64, .orders = 1024, .ids = 4096};
    cfg.prefault = 0;
    cfg.priority = 0;
    cfg.engine_cpu = -1;
    cfg.gateway_threads = 2;
    cfg.max_sessions = 100;
    cfg.sessions_per_ip = 2;
    cfg.day_end_s = -1;
    free(cfg.symbols);
    cfg.symbols = strdup("AAPL");
    int fd;
    if (srv_init(&server, &cfg, NULL) != 0 || (fd = listen_any(&toy_port)) < 0 ||
        srv_add_port(&server, fd, &proto_toy, SRV_PORT_GUARDED) != 0 || srv_start(&server) != 0)
        return -1;
    return 0;
}

/* --- tests ---------------------------------------------------------------- */

static int conns[2];

static void gateway_second_protocol_registered(void)
{
    CHECK_EQ(toy_gw_made, 2);   /* its per-gateway state, at both gateways */
    CHECK_EQ(server.nports, 4); /* order entry, admin, the HTTP API's api.sock, the toy */
}

static void gateway_incomplete_frame_kept(void)
{
    char buf[256];
    conns[0] = dial();
    CHECK(conns[0] >= 0);
    send_str(conns[0], "hel");
    usleep(100000); /* two reads, the first without a whole line */
    send_str(conns[0], "lo\nwor");
    usleep(100000);
    send_str(conns[0], "ld\n");
    CHECK_EQ(read_until(conns[0], "WORLD\n", buf, sizeof buf), 1);
    CHECK(!strcmp(buf, "HELLO\nWORLD\n"));
}

static void gateway_cap_per_address_on_guarded_listener(void)
{
    char buf[256];
    conns[1] = dial();
    send_str(conns[1], "two\n");
    CHECK_EQ(read_until(conns[1], "TWO\n", buf, sizeof buf), 1);
    int third = dial(); /* sessions_per_ip = 2: accepted, then closed at once */
    CHECK(third >= 0);
    send_str(third, "three\n");
    CHECK_EQ(read_until(third, "THREE", buf, sizeof buf), 0);
    close(third);
}

static void gateway_replies_and_events_reach_the_adapter(void)
{
    char buf[1024];
    send_str(conns[0], "=open\n=close\n");
    /* two answers (each ending "R:."), and the close as an event */
    CHECK_EQ(read_until(conns[0], "SYS E\n", buf, sizeof buf), 1);
    if (!strstr(buf, "R:.\nR:"))
        CHECK_EQ(read_until(conns[0], "R:.\nR:", buf + strlen(buf), sizeof buf - strlen(buf)), 1);
    CHECK(strstr(buf, "R:.\n") != NULL);
}

static void gateway_last_words_at_stop(void)
{
    char buf[256];
    srv_request_stop(&server);
    CHECK_EQ(read_until(conns[1], "BYE\n", buf, sizeof buf), 1);
    CHECK_EQ(srv_join(&server), 0);
    close(conns[0]);
    close(conns[1]);
}

int main(void)
{
    if (start() != 0) {
        printf("FAIL gateway: the server did not start\n");
        return 1;
    }
    RUN(gateway_second_protocol_registered);
    RUN(gateway_incomplete_frame_kept);
    RUN(gateway_cap_per_address_on_guarded_listener);
    RUN(gateway_replies_and_events_reach_the_adapter);
    RUN(gateway_last_words_at_stop);
    int fd = server.ports[2].fd;
    srv_free(&server);
    close(fd);
    srv_config_free(&cfg);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("FAIL gateway: could not remove %s\n", dir);
    return check_failures != 0;
}
