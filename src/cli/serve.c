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
#include "server/server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(FILE *f)
{
    fputs("usage: bourse serve [--config FILE] [--data DIR] [--order-port P] [--feed-port P]\n"
          "                    [--http-port P] [--listen ADDR] [--udp-feed ADDR:PORT]\n"
          "                    [--udp-request-port P] [--node N]\n\n"
          "Runs the exchange: the matching engine, its journal in DIR (created when\n"
          "missing; default ./data), the SoupBinTCP/OUCH order-entry gateway and the\n"
          "admin socket DIR/admin.sock.  With a [cluster] section in FILE and --node N\n"
          "it is node N of a Raft cluster (docs/replication.md).  Without --config it runs on built-in\n"
          "defaults (docs/configuration.md); flags override the file.  A port of 0\n"
          "picks a free one (the log says which).  --udp-feed also sends the market\n"
          "data as MoldUDP64 datagrams to ADDR:PORT (unicast or multicast) and answers\n"
          "retransmission requests on --udp-request-port (docs/protocol.md).  SIGTERM\n"
          "or SIGINT stops it cleanly: every accepted command is made durable and\n"
          "acknowledged first.\n",
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
 * can restore its history and replay into it (src/feed/persist.c). */
static feed *new_feed(const srv_config *cfg)
{
    struct stat st;
    feed_config fc = {.listen = cfg->listen,
                      .feed_port = cfg->feed_port,
                      .http_port = cfg->http_port,
                      .spin_us = cfg->spin_us,
                      .subscribers_per_ip = cfg->feed_subscribers_per_ip,
                      .snapshot_s = cfg->feed_snapshot_s,
                      .udp_feed = cfg->udp_feed[0] ? cfg->udp_feed : NULL,
                      .udp_request_port = cfg->udp_request_port,
                      .udp_payload = cfg->udp_payload,
                      .data_dir = cfg->data_dir,
                      .web_root = stat("web/index.html", &st) == 0 ? "web" : NULL};
    return feed_new(&fc);
}

/* Its own thread, fed by the engine thread. */
static int start_feed(srv *s, const srv_config *cfg, feed *f)
{
    feed_set_session(f, s->session);
    feed_recover_end(f, s->engine);
    if (srv_add_consumer(s, &feed_consumer, f) != 0 || feed_start(f) != 0)
        return -1;
    srv_log("market data: binary feed (SoupBinTCP + ITCH) on %s:%d, WebSocket on %s:%d", cfg->listen,
            feed_port(f, 'f'), cfg->listen, feed_port(f, 'h'));
    if (cfg->udp_feed[0])
        srv_log(
            "market data: UDP feed (MoldUDP64) to %s, %u-byte datagrams, retransmission requests on %s:%d",
            cfg->udp_feed, cfg->udp_payload, cfg->listen, feed_port(f, 'u'));
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    srv_config cfg;
    srv_config_defaults(&cfg);
    const char *config = NULL, *node = NULL;
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
                          : !strcmp(a, "--listen")           ? "listen"
                          : !strcmp(a, "--udp-feed")         ? "udp_feed"
                          : !strcmp(a, "--udp-request-port") ? "udp_request_port"
                                                             : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (!strcmp(a, "--config") || !strcmp(a, "--node")) {
            i++;
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
    feed *md = new_feed(&cfg);
    srv_hooks hooks = {
        .on_engine = feed_engine, .on_command = feed_command, .on_event = feed_event, .ctx = md};
    if (!md || srv_init(&s, &cfg, &hooks) != 0 || start_feed(&s, &cfg, md) != 0 || srv_start(&s) != 0) {
        feed_free(md);
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
    int sig = 0;
    sigwait(&set, &sig);
    srv_log("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_request_stop(&s);
    int rc = srv_join(&s);
    unlink(pidfile);
    feed_free(md);
    srv_free(&s);
    srv_config_free(&cfg);
    srv_log("stopped");
    return rc;
}
