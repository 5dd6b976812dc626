/*
 * serve.c - `bourse serve`: run the exchange server until SIGTERM/SIGINT.
 *
 * Configuration comes from the built-in defaults, then --config FILE, then
 * the flags.  Signals are blocked in every thread and taken here with
 * sigwait, so no thread is ever interrupted mid-command.
 */
#include "cli.h"
#include "cluster/cluster.h"
#include "feed/feed.h"
#include "http/http.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(FILE *f)
{
    fputs("usage: bourse serve [--config FILE] [--data DIR] [--order-port P] [--feed-port P]\n"
          "                    [--http-port P] [--listen ADDR] [--udp-feed ADDR:PORT]\n"
          "                    [--udp-request-port P] [--fix-port P] [--web-root DIR]\n"
          "                    [--first-steps] [--node N [--join]]\n\n"
          "Runs the exchange: the matching engine and its journal, the order-entry\n"
          "gateway, the admin socket DIR/admin.sock, market data and the web page.\n"
          "Without --config it runs on built-in defaults (docs/configuration.md);\n"
          "each flag overrides the file's key of the same name.  The log goes to\n"
          "standard error.  SIGTERM or SIGINT stops it cleanly: every accepted\n"
          "command is made durable and acknowledged first.\n\n"
          "  --config FILE          an INI file read over the defaults\n"
          "  --data DIR             data directory: journal, snapshots, passwords,\n"
          "                         admin.sock (default ./data; created when missing;\n"
          "                         one server per directory)\n"
          "  --order-port P         SoupBinTCP/OUCH order entry (default 9001)\n"
          "  --feed-port P          binary market data, SoupBinTCP/ITCH (default 9002)\n"
          "  --http-port P          WebSocket market data and the web page (default 9080)\n"
          "  --fix-port P           FIX 4.4 order entry and drop copy (default off; make\n"
          "                         run uses 9005; docs/fix.md)\n"
          "  --listen ADDR          IPv4 address of every port (default 127.0.0.1)\n"
          "  --udp-feed ADDR:PORT   also send market data as MoldUDP64 datagrams there\n"
          "                         (unicast or multicast; default off)\n"
          "  --udp-request-port P   UDP port answering retransmission requests (default\n"
          "                         0: any free one, the log says which)\n"
          "  --web-root DIR         the web page's files (default: web/ found beside the\n"
          "                         program; `none`: no page)\n"
          "  --first-steps          once ready, log the commands of a first session and\n"
          "                         the web page's URL (what `make run` does)\n"
          "  --node N               with a [cluster] section in FILE: run as node N of a\n"
          "                         Raft cluster (docs/replication.md)\n"
          "  --join                 with --node: a node new to a running cluster; it waits\n"
          "                         for the leader's `cluster add` instead of bootstrapping\n\n"
          "A port of 0 picks a free one (the log says which).  Protocols:\n"
          "docs/protocol.md; commands: docs/commands.md.\n",
          f);
}

static void raise_nofile(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return;
    struct rlimit want = {.rlim_cur = 1 << 20, .rlim_max = 1 << 20};
    if (r.rlim_max < want.rlim_max && setrlimit(RLIMIT_NOFILE, &want) == 0)
        return; /* root may raise the hard limit too */
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
}

static void feed_engine(void *ctx, const bourse_engine *e, uint64_t seq)
{
    feed_recover_begin(ctx, e, seq);
}

static void feed_command(void *ctx, const bourse_cmd *cmd)
{
    feed_recover_command(ctx, cmd);
}

static void feed_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed_recover_event(ctx, cmd, ev);
}

/* Market data (src/feed): made before the server so that journal recovery
 * can restore its history and replay into it (src/feed/persist.c), but it
 * opens its ports only after the server has locked the data directory and
 * opened its own (listen_later): a second server on the same directory is
 * told so, not that a feed port is taken. */
/* The HTTP API (src/http) on the feed's http_port: made before the feed,
 * which serves its protocols and mounts. */
static int acct_hash(void *ctx, const char *user, char *hash, size_t size)
{
    return srv_acct_hash_get(ctx, user, hash, size);
}

static int acct_status(void *ctx, const char *user, http_acct_status *out)
{
    srv_acct_status st;
    if (!srv_acct_status_get(ctx, user, &st))
        return 0;
    *out = (http_acct_status){.state = st.state, .operator_role = st.operator_role, .version = st.version};
    snprintf(out->reason, sizeof out->reason, "%s", st.reason);
    return 1;
}

static uint64_t acct_gen(void *ctx)
{
    return srv_acct_gen(ctx);
}

static http_server *new_api(const srv_config *cfg, const char *web_root)
{
    static char openapi[SRV_PATH_MAX + 32], sock[SRV_PATH_MAX + 16];
    snprintf(openapi, sizeof openapi, "%s/../docs/openapi.yaml", web_root ? web_root : ".");
    if (access(openapi, R_OK) != 0)
        snprintf(openapi, sizeof openapi, "docs/openapi.yaml");
    snprintf(sock, sizeof sock, "%s/api.sock", cfg->data_dir);
    http_config hc = {.data_dir = cfg->data_dir,
                      .order_sock = sock,
                      .openapi = openapi,
                      .tls = cfg->http_tls_cert[0] && cfg->http_tls_key[0],
                      .body_max = cfg->http_body_max,
                      .upload_max = cfg->http_upload_max,
                      .rate_ip = cfg->http_rate_ip,
                      .rate_key = cfg->http_rate_key,
                      .login_fails = cfg->http_login_fails,
                      .login_lock_s = cfg->http_login_lock_s,
                      .session_s = cfg->http_session_s,
                      .workers = cfg->http_workers,
                      .work_queue = cfg->http_work_queue,
                      .nonces = cfg->http_nonces};
    http_server *h = http_new(&hc);
    if (!h)
        srv_log("cannot start the HTTP API");
    return h;
}

static feed *new_feed(const srv_config *cfg, const char *web_root, http_server *api)
{
    feed_config fc = {.listen = cfg->listen,
                      .feed_port = cfg->feed_port,
                      .http_port = cfg->http_port,
                      .spin_us = cfg->spin_us,
                      .poll_loop = !strcmp(cfg->event_loop, "poll"),
                      .subscribers_per_ip = cfg->feed_subscribers_per_ip,
                      .snapshot_s = cfg->feed_snapshot_s,
                      .udp_feed = cfg->udp_feed[0] ? cfg->udp_feed : NULL,
                      .udp_request_port = cfg->udp_request_port,
                      .udp_payload = cfg->udp_payload,
                      .data_dir = cfg->data_dir,
                      .web_root = web_root,
                      .http_protocols = api ? http_protocols(api) : NULL,
                      .http_mounts = api ? http_mounts(api) : NULL,
                      .http_headers = api ? http_headers(api) : NULL,
                      .tls_cert = cfg->http_tls_cert[0] ? cfg->http_tls_cert : NULL,
                      .tls_key = cfg->http_tls_key[0] ? cfg->http_tls_key : NULL,
                      .listen_later = 1,
                      .refuse_ahead = cfg->cluster != NULL};
    feed *f = feed_new(&fc);
    if (f && api)
        http_set_feed(api, f);
    return f;
}

/* The feed's figures for the server's metrics (docs/metrics.md): the
 * server never includes the feed, so the two meet here. */
static void feed_figures(void *ctx, metrics_feed *out)
{
    feed_stats st;
    feed_get_stats(ctx, &st);
    *out = (metrics_feed){.bin_subscribers = st.bin_subscribers,
                          .ws_subscribers = st.ws_subscribers,
                          .messages = st.messages,
                          .ring_depth = st.pushed > st.records ? st.pushed - st.records : 0,
                          .engine_waits = st.engine_waits,
                          .cut = st.cut,
                          .udp_dropped = st.udp_dropped};
}

/* Its own thread, fed by the engine thread. */
static int start_feed(srv *s, const srv_config *cfg, feed *f, http_server *api, const char *web_root)
{
    feed_set_session(f, s->session);
    feed_recover_end(f, s->engine);
    metrics_set_feed(s, feed_figures, f); /* GET /metrics, and the feed's figures in it (docs/metrics.md) */
    http_set_metrics(api, srv_metrics_render, s);
    if (feed_listen(f) != 0 || srv_add_consumer(s, &feed_consumer, f) != 0 || feed_start(f) != 0)
        return -1;
    srv_log("market data: binary feed (SoupBinTCP + ITCH) on %s:%d, WebSocket on %s:%d", cfg->listen,
            feed_port(f, 'f'), cfg->listen, feed_port(f, 'h'));
    if (web_root)
        srv_log("web page: http://%s:%d/ (files from %s)", cfg->listen, feed_port(f, 'h'), web_root);
    else
        srv_log("web page: none ([server] web_root = none, or no web/index.html found beside the program)");
    if (cfg->udp_feed[0])
        srv_log(
            "market data: UDP feed (MoldUDP64) to %s, %u-byte datagrams, retransmission requests on %s:%d",
            cfg->udp_feed, cfg->udp_payload, cfg->listen, feed_port(f, 'u'));
    return 0;
}

/*
 * --first-steps (what `make run` starts): once ready, the commands of a
 * first trading session, with this server's real program path, data
 * directory and ports (port flags only where they are not the defaults the
 * tools assume), and the web page's URL.  README.md shows them with the
 * defaults; tests/sh/first_hour.sh runs them as printed.
 */
static void first_steps(const srv *s, const srv_config *cfg, feed *md)
{
    const char *b = program_invocation_name, *d = cfg->data_dir;
    char op[32] = "", fp[32] = "";
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int order_port = getsockname(s->listen_fd, (struct sockaddr *)&a, &al) == 0 ? ntohs(a.sin_port) : 0;
    if (order_port != 9001)
        snprintf(op, sizeof op, " --order-port %d", order_port);
    if (feed_port(md, 'f') != 9002)
        snprintf(fp, sizeof fp, " --feed-port %d", feed_port(md, 'f'));
    srv_log("first steps, in another terminal (docs/commands.md says what each line means):");
    srv_log("  $ %s admin --data %s user alice", b, d);
    srv_log("  $ %s admin --data %s deposit alice CASH 100000", b, d);
    srv_log("  $ echo secret-a | %s admin --data %s password alice", b, d);
    srv_log("  $ %s admin --data %s user bob", b, d);
    srv_log("  $ %s admin --data %s deposit bob AAPL 100", b, d);
    srv_log("  $ echo secret-b | %s admin --data %s password bob", b, d);
    srv_log("  $ echo 'buy alice a1 AAPL 10 150 gtc' | BOURSE_PASSWORD=secret-a %s client%s --user alice", b,
            op);
    srv_log("  $ echo 'sell bob b1 AAPL 4 149' | BOURSE_PASSWORD=secret-b %s client%s --user bob", b, op);
    srv_log("  $ %s feed%s --book AAPL", b, fp);
    srv_log("  $ echo 'balance alice' | BOURSE_PASSWORD=secret-a %s client%s --user alice", b, op);
    srv_log("  $ %s admin --data %s orders alice", b, d);
    if (feed_port(md, 'h') > 0)
        srv_log("  web page (book, trades, candles): http://%s:%d/", cfg->listen, feed_port(md, 'h'));
    srv_log("  simulated traders, on a scratch exchange of their own that is removed after (this one "
            "is not touched): make try-load");
}

int cmd_serve(int argc, char **argv)
{
    srv_config cfg;
    srv_config_defaults(&cfg);
    const char *config = NULL, *node = NULL;
    int steps = 0, join = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--node") && i + 1 < argc)
            node = argv[++i];
    if (config && srv_config_load(&cfg, config) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char err[200];
        const char *key = !strcmp(a, "--data")               ? "data"
                          : !strcmp(a, "--order-port")       ? "order_port"
                          : !strcmp(a, "--feed-port")        ? "feed_port"
                          : !strcmp(a, "--http-port")        ? "http_port"
                          : !strcmp(a, "--fix-port")         ? "fix_port"
                          : !strcmp(a, "--listen")           ? "listen"
                          : !strcmp(a, "--udp-feed")         ? "udp_feed"
                          : !strcmp(a, "--udp-request-port") ? "udp_request_port"
                          : !strcmp(a, "--web-root")         ? "web_root"
                                                             : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (!strcmp(a, "--config") || !strcmp(a, "--node")) {
            i++;
            continue;
        }
        if (!strcmp(a, "--first-steps")) {
            steps = 1;
            continue;
        }
        if (!strcmp(a, "--join")) {
            join = 1;
            continue;
        }
        if (!key) {
            cli_error("serve: unknown option '%s'", a);
            help(stderr);
            return 2;
        }
        if (!v || srv_config_set(&cfg, "server", key, v, err, sizeof err) != 0) {
            cli_error("serve: %s", v ? err : "option needs a value");
            return 2;
        }
        i++;
    }
    /* A [cluster] section (or --node): a node of a Raft cluster
     * (docs/replication.md); the section is read by src/cluster. */
    static cluster_config cc;
    cluster_config_defaults(&cc);
    if (config || node) {
        char err[400];
        if ((config && cluster_config_load(&cc, config, err, sizeof err) != 0) ||
            (node && cluster_config_set(&cc, "node", node, err, sizeof err) != 0) ||
            ((cc.n || cc.id) && cluster_config_check(&cc, err, sizeof err) != 0)) {
            cli_error("serve: %s", err);
            return 2;
        }
        if (cc.n && !cc.id) {
            cli_error("serve: [cluster] lists nodes: say which one this is with --node N");
            return 2;
        }
        cc.join = join;
        if (cc.id)
            cfg.cluster = &cc;
    }
    raise_nofile();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    static srv s;
    char web[SRV_PATH_MAX], err[600];
    int wr = feed_web_root(cfg.web_root, web, sizeof web, err, sizeof err);
    if (wr < 0) {
        srv_log("%s", err);
        srv_config_free(&cfg);
        return 1;
    }
    http_server *api = new_api(&cfg, wr ? web : NULL);
    if (api) { /* accounts over HTTP: the admin socket, and sign-ups' hashes (used once serving) */
        static char adm[SRV_PATH_MAX + 16];
        snprintf(adm, sizeof adm, "%s/admin.sock", cfg.data_dir);
        http_set_accounts(api, adm, acct_hash, &s);
        http_set_account_status(api, acct_status, acct_gen, &s);
    }
    feed *md = api ? new_feed(&cfg, wr ? web : NULL, api) : NULL;
    srv_hooks hooks = {
        .on_engine = feed_engine, .on_command = feed_command, .on_event = feed_event, .ctx = md};
    /* A failed start (a port taken, the directory locked by another server)
     * has said why in one log line; it ends here with status 1.  srv_free
     * only after srv_init: before it there is nothing of the server to free. */
    int inited = 0;
    if (!md || (inited = 1, srv_init(&s, &cfg, &hooks) != 0) ||
        start_feed(&s, &cfg, md, api, wr ? web : NULL) != 0 || srv_start(&s) != 0) {
        feed_free(md);
        http_free(api);
        if (inited)
            srv_free(&s);
        srv_config_free(&cfg);
        return 1;
    }
    char pidfile[SRV_PATH_MAX + 16];
    snprintf(pidfile, sizeof pidfile, "%s/server.pid", cfg.data_dir);
    int pfd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); /* as every file of DIR */
    FILE *pf = pfd >= 0 ? fdopen(pfd, "w") : NULL;
    if (pf) {
        fprintf(pf, "%ld\n", (long)getpid());
        fclose(pf);
    }
    srv_log("ready (session %s); stop with SIGTERM or Ctrl-C", s.session);
    if (steps)
        first_steps(&s, &cfg, md);
    int sig = 0;
    sigwait(&set, &sig);
    srv_log("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_request_stop(&s);
    int rc = srv_join(&s);
    unlink(pidfile);
    feed_free(md); /* first: its event loop holds the API's sockets */
    http_free(api);
    srv_free(&s);
    srv_config_free(&cfg);
    srv_log("stopped");
    return rc;
}
