/*
 * config.c - defaults, the INI reader and validation of every setting.
 *
 * One table lists every key with its section, type, bounds and place in the
 * struct, so the file reader and the checks cannot drift apart.  Unknown
 * sections and keys are errors: a typo in a limit should not go unnoticed.
 */
#include "server/config.h"

#include "bourse/text.h"
#include "net/inaddr.h"
#include "server/dropcopy.h"

#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char srv_default_symbols[] =
    "AAPL MSFT AMZN GOOGL GOOG META NVDA TSLA BRK.B JPM JNJ V UNH XOM PG MA HD CVX LLY ABBV "
    "MRK PEP KO AVGO COST WMT MCD BAC CSCO TMO ABT CRM ACN ADBE DHR LIN NFLX DIS WFC TXN "
    "VZ CMCSA PM NKE NEE ORCL AMD RTX UPS BMY HON INTC QCOM T UNP LOW SBUX IBM AMGN CAT "
    "GS MS SPGI INTU BA BLK DE AMAT GE PLD ELV ISRG MDT NOW C AXP LMT GILD SYK ADP "
    "TJX BKNG MDLZ CVS MMC ADI VRTX CB REGN ZTS SCHW MO PYPL CI DUK SO TMUS BDX F GM";

void srv_config_defaults(srv_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->listen, "127.0.0.1");
    c->order_port = 9001;
    c->feed_port = 9002;
    c->http_port = 9080;
    c->http_body_max = 64 * 1024;
    c->http_upload_max = 5u << 20;
    c->http_rate_ip = 50;
    c->http_rate_key = 20;
    c->http_login_fails = 5;
    c->http_login_lock_s = 300;
    c->http_session_s = 3600;
    c->http_workers = 2;
    c->http_work_queue = 64;
    strcpy(c->data_dir, "data");
    c->engine_cpu = -2; /* -2: the last CPU when there are several */
    c->gateway_cpu = -1;
    c->priority = -10;
    c->spin_us = 0;
    strcpy(c->event_loop, "libuv");
    c->udp_payload = 1400; /* Ethernet-safe: 1,500 less IP and UDP headers, with room to spare */
    strcpy(c->durability, "batch");
    c->snapshot_every = 10000000;
    c->batch_us = 200;
    c->held_max = 1u << 20; /* 1M reports, 128 MiB at most: seconds of a slow disk at 200,000/s */
    /* Sized for a first run (issue #18): 1M ids (a day of 1M orders, 48 MiB
     * of id map), 256K open orders, 32 MiB journal segments: about 65 MB on
     * disk and 175 MiB resident when empty, against 513 MB and 613 MiB with
     * 8M ids, 1M orders and 256 MiB segments, which docs/configuration.md
     * ("Sizing") says a production venue sets.  ids per trading day. */
    c->limits = (bourse_limits){
        .symbols = 1024, .users = 65536, .orders = 1 << 18, .ids = 1 << 20, .flags = BOURSE_DAY_IDS};
    c->segment_mb = 32;
    c->day_end_s = 0;
    c->prefault = 1;
    c->symbols = strdup(srv_default_symbols);
    c->max_sessions = 60000;
    c->sessions_per_user = 100;
    c->sessions_per_ip = 1000;
    c->logins_per_ip = 4;
    c->auth_threads = 2;
    c->login_fail_ms = 300;
    c->login_throttle_after = 3;
    c->login_lock_after = 10;
    c->login_lock_after_ip = 200;
    c->login_lock_s = 900;
    c->feed_subscribers_per_ip = 64;
    c->feed_snapshot_s = 30;
    c->login_timeout_ms = 5000;
    c->heartbeat_timeout_ms = 15000;
    c->max_frame = 128;
    c->max_output = 4 << 20;
    c->sndbuf = 0;
    c->rate = 100000;
    c->burst = 10000;
    c->replay_bytes = 64 << 10;
    c->fix_port = -1;
    strcpy(c->fix_comp_id, "BOURSE");
}

void srv_config_free(srv_config *c)
{
    free(c->symbols);
    c->symbols = NULL;
}

/* K_TIME: a schedule time (open, close); K_TIME_OR_NONE: a time, or "none" (-1);
 * K_ADDR: "A.B.C.D:PORT", or "none" (empty). */
/* K_SETTINGS: the KEY=VALUE words of a `rules` or `fees` command (the key's name). */
enum kind { K_U32, K_U16, K_INT, K_STR, K_TIME, K_TIME_OR_NONE, K_SYMBOLS, K_ADDR, K_SETTINGS };

static const struct key {
    const char *section, *name;
    enum kind kind;
    size_t off, size;
    long long min, max;
} keys[] = {
#define U32(sec, name, field, lo, hi)                                                                        \
    {                                                                                                        \
        sec, name, K_U32, offsetof(srv_config, field), 0, lo, hi                                             \
    }
    {"server", "listen", K_STR, offsetof(srv_config, listen), sizeof(((srv_config *)0)->listen), 0, 0},
    {"server", "order_port", K_U16, offsetof(srv_config, order_port), 0, 0, 65535},
    {"server", "feed_port", K_U16, offsetof(srv_config, feed_port), 0, 0, 65535},
    {"server", "http_port", K_U16, offsetof(srv_config, http_port), 0, 0, 65535},
    {"server", "data", K_STR, offsetof(srv_config, data_dir), SRV_PATH_MAX, 0, 0},
    {"server", "web_root", K_STR, offsetof(srv_config, web_root), SRV_PATH_MAX, 0, 0},
    {"server", "engine_cpu", K_INT, offsetof(srv_config, engine_cpu), 0, -1, 4095},
    {"server", "gateway_cpu", K_INT, offsetof(srv_config, gateway_cpu), 0, -2, 4095},
    {"server", "priority", K_INT, offsetof(srv_config, priority), 0, -20, 19},
    U32("server", "spin_us", spin_us, 0, 1000000),
    U32("server", "busy_poll_us", busy_poll_us, 0, 1000000),
    {"server", "event_loop", K_STR, offsetof(srv_config, event_loop), sizeof(((srv_config *)0)->event_loop),
     0, 0},
    {"server", "udp_feed", K_ADDR, offsetof(srv_config, udp_feed), sizeof(((srv_config *)0)->udp_feed), 0, 0},
    {"server", "udp_request_port", K_U16, offsetof(srv_config, udp_request_port), 0, 0, 65535},
    U32("server", "feed_subscribers_per_ip", feed_subscribers_per_ip, 0, 1 << 22), /* 0 = no limit */
    U32("server", "feed_snapshot_s", feed_snapshot_s, 1, 3600),
    U32("server", "udp_payload", udp_payload, 86, 65507), /* a header and the longest message .. UDP's most */
    {"journal", "durability", K_STR, offsetof(srv_config, durability), 16, 0, 0},
    U32("journal", "snapshot_every", snapshot_every, 0, 4000000000u),
    U32("journal", "segment_mb", segment_mb, 0, 65536),
    U32("journal", "batch_us", batch_us, 1, 1000000),
    U32("journal", "prefill", prefill, 0, 1),
    U32("gateway", "held_max", held_max, 0, 1 << 28),
    U32("limits", "symbols", limits.symbols, 1, 1 << 20),
    U32("limits", "users", limits.users, 1, 1 << 26),
    U32("limits", "orders", limits.orders, 1, 1 << 28),
    U32("limits", "ids", limits.ids, 0, 1 << 30),
    U32("limits", "positions", limits.positions, 0, 1 << 30),
    U32("limits", "day_ids", limits.flags, 0, 1), /* the only flag: BOURSE_DAY_IDS */
    U32("limits", "prefault", prefault, 0, 1),
    {"market", "symbols", K_SYMBOLS, 0, 0, 0, 0},
    {"market", "open", K_TIME, offsetof(srv_config, open_s), 0, 0, 0},
    {"market", "close", K_TIME, offsetof(srv_config, close_s), 0, 0, 0},
    {"market", "day_end", K_TIME_OR_NONE, offsetof(srv_config, day_end_s), 0, 0, 0},
    {"market", "rules", K_SETTINGS, offsetof(srv_config, rules), sizeof(((srv_config *)0)->rules), 0, 0},
    {"market", "fees", K_SETTINGS, offsetof(srv_config, fees), sizeof(((srv_config *)0)->fees), 0, 0},
    U32("gateway", "threads", gateway_threads, 0, 16), /* SRV_MAX_GATES */
    U32("gateway", "max_sessions", max_sessions, 1, 1 << 22),
    U32("gateway", "sessions_per_user", sessions_per_user, 1, 1 << 22),
    U32("gateway", "sessions_per_ip", sessions_per_ip, 1, 1 << 22),
    U32("gateway", "logins_per_ip", logins_per_ip, 1, 1 << 22),
    U32("gateway", "login_timeout_ms", login_timeout_ms, 10, 3600000),
    U32("gateway", "auth_threads", auth_threads, 1, 64),
    U32("gateway", "login_fail_ms", login_fail_ms, 0, 60000),
    U32("gateway", "login_throttle_after", login_throttle_after, 0, 1 << 30),
    U32("gateway", "login_lock_after", login_lock_after, 0, 1 << 30),
    U32("gateway", "login_lock_after_ip", login_lock_after_ip, 0, 1 << 30),
    U32("gateway", "login_lock_s", login_lock_s, 0, 1 << 30),
    U32("gateway", "heartbeat_timeout_ms", heartbeat_timeout_ms, 100, 3600000),
    U32("gateway", "max_frame", max_frame, 80, 65535),
    U32("gateway", "max_output", max_output, 4096, 1 << 30),
    U32("gateway", "sndbuf", sndbuf, 0, 1 << 28),
    U32("gateway", "rate", rate, 1, 100000000),
    U32("gateway", "burst", burst, 1, 100000000),
    U32("gateway", "replay_bytes", replay_bytes, 0, 1 << 30),
    {"fix", "port", K_INT, offsetof(srv_config, fix_port), 0, -1, 65535},
    {"server", "fix_port", K_INT, offsetof(srv_config, fix_port), 0, -1, 65535}, /* --fix-port */
    {"fix", "cancel_on_disconnect", K_STR, offsetof(srv_config, fix_cod), sizeof(((srv_config *)0)->fix_cod),
     0, 0},
    {"fix", "dropcopy", K_STR, offsetof(srv_config, fix_dropcopy), sizeof(((srv_config *)0)->fix_dropcopy), 0,
     0},
    {"http", "tls_cert", K_STR, offsetof(srv_config, http_tls_cert), SRV_PATH_MAX, 0, 0},
    {"http", "tls_key", K_STR, offsetof(srv_config, http_tls_key), SRV_PATH_MAX, 0, 0},
    U32("http", "body_max", http_body_max, 1024, 1 << 24),
    U32("http", "upload_max", http_upload_max, 1024, 1 << 28),
    U32("http", "rate_ip", http_rate_ip, 1, 1000000),
    U32("http", "rate_key", http_rate_key, 1, 1000000),
    U32("http", "login_fails", http_login_fails, 1, 1000),
    U32("http", "login_lock_s", http_login_lock_s, 1, 86400 * 30),
    U32("http", "session_s", http_session_s, 60, 86400 * 30),
    U32("http", "workers", http_workers, 1, 64),
    U32("http", "work_queue", http_work_queue, 1, 100000),
    U32("http", "nonces", http_nonces, 1024, 1 << 26),
    {"fix", "comp_id", K_STR, offsetof(srv_config, fix_comp_id), sizeof(((srv_config *)0)->fix_comp_id), 0,
     0},
    {"accounts", "dev_mode", K_INT, offsetof(srv_config, accounts_dev_mode), 0, 0, 1},
    {"accounts", "operators", K_STR, offsetof(srv_config, accounts_operators),
     sizeof(((srv_config *)0)->accounts_operators), 0, 0},
#undef U32
};

/* "HH:MM" or "HH:MM:SS" as seconds after midnight. */
static int parse_time(const char *v, int *out)
{
    int h, m, sec = 0, n = 0;
    size_t len = strlen(v);
    if (len == 5 ? sscanf(v, "%2d:%2d%n", &h, &m, &n) != 2
                 : len != 8 || sscanf(v, "%2d:%2d:%2d%n", &h, &m, &sec, &n) != 3)
        return -1;
    if ((size_t)n != len || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || v[2] != ':')
        return -1;
    *out = (h * 60 + m) * 60 + sec;
    return 0;
}

static int check_symbols(const char *v, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != ',') {
            char ch = p[n];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.')) {
                snprintf(err, errlen, "bad symbol character '%c' (symbols are A-Z 0-9 .)", ch);
                return -1;
            }
            n++;
        }
        if (n > BOURSE_SYMBOL_LEN || (n == 4 && !strncmp(p, "CASH", 4))) {
            snprintf(err, errlen, "bad symbol '%.*s'", (int)n, p);
            return -1;
        }
        p += n;
    }
    return 0;
}

int srv_config_set(srv_config *c, const char *section, const char *name, const char *v, char *err,
                   size_t errlen)
{
    const struct key *k = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
            k = &keys[i];
    if (!k) {
        snprintf(err, errlen, "unknown setting '%s' in section [%s]", name, section);
        return -1;
    }
    char *p = (char *)c + k->off;
    if (k->kind == K_STR) {
        if (strlen(v) >= k->size || !*v) {
            snprintf(err, errlen, "%s: value empty or too long", name);
            return -1;
        }
        if (!strcmp(section, "fix") && !strcmp(name, "dropcopy") && dropcopy_parse(v, NULL, err, errlen) != 0)
            return -1;
        if (!strcmp(name, "event_loop") && strcmp(v, "libuv") && strcmp(v, "poll")) {
            snprintf(err, errlen, "event_loop: '%s' is not libuv or poll", v);
            return -1;
        }
        strcpy(p, v);
        return 0;
    }
    if (k->kind == K_SETTINGS) { /* checked as the replay format would: `rules SYM ...` */
        char line[256];
        bourse_cmd cmd;
        char why[160];
        if (strlen(v) >= k->size) {
            snprintf(err, errlen, "%s: value too long", name);
            return -1;
        }
        snprintf(line, sizeof line, "%s X %s", name, v);
        if (*v && bourse_text_parse(line, strlen(line), &cmd, why, sizeof why) != BOURSE_TEXT_CMD) {
            snprintf(err, errlen, "%s: %s", name, why);
            return -1;
        }
        strcpy(p, v);
        return 0;
    }
    if (k->kind == K_ADDR) {
        struct sockaddr_in a;
        const char *why;
        if (!strcmp(v, "none")) {
            *p = 0;
            return 0;
        }
        if (strlen(v) >= k->size || mold_addr_parse(v, &a, &why) != 0) {
            snprintf(err, errlen, "%s: '%s' is not an IPv4 ADDR:PORT or none", name, v);
            return -1;
        }
        strcpy(p, v);
        return 0;
    }
    if (k->kind == K_TIME_OR_NONE) {
        if (!strcmp(v, "none")) {
            *(int *)p = -1;
            return 0;
        }
        if (parse_time(v, (int *)p) != 0) {
            snprintf(err, errlen, "%s: '%s' is not a time HH:MM, HH:MM:SS or none", name, v);
            return -1;
        }
        return 0;
    }
    if (k->kind == K_TIME) {
        if (!*v) {
            c->schedule = 0;
            return 0;
        }
        if (parse_time(v, (int *)p) != 0) {
            snprintf(err, errlen, "%s: '%s' is not a time HH:MM or HH:MM:SS", name, v);
            return -1;
        }
        c->schedule |= !strcmp(name, "open") ? 1 : 2;
        return 0;
    }
    if (k->kind == K_SYMBOLS) {
        if (check_symbols(v, err, errlen) != 0)
            return -1;
        free(c->symbols);
        c->symbols = strdup(v);
        return 0;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < k->min || n > k->max) {
        snprintf(err, errlen, "%s: '%s' is not a whole number from %lld to %lld", name, v, k->min, k->max);
        return -1;
    }
    if (k->kind == K_U32)
        *(uint32_t *)p = (uint32_t)n;
    else if (k->kind == K_U16)
        *(uint16_t *)p = (uint16_t)n;
    else
        *(int *)p = (int)n;
    return 0;
}

typedef struct load_ctx {
    srv_config *c;
    const char *path;
    int failed;
    char last_section[32], last_name[32];
} load_ctx;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *l = user;
    char err[200];
    /* A continuation line of the symbol list appends to it. */
    if (!strcmp(section, "market") && !strcmp(name, "symbols") && !strcmp(l->last_section, section) &&
        !strcmp(l->last_name, name)) {
        if (check_symbols(value, err, sizeof err) != 0)
            goto bad;
        size_t a = strlen(l->c->symbols), b = strlen(value);
        char *s = realloc(l->c->symbols, a + b + 2);
        if (!s)
            return 0;
        s[a] = ' ';
        memcpy(s + a + 1, value, b + 1);
        l->c->symbols = s;
        return 1;
    }
    if (!strcmp(section, "cluster"))
        return 1; /* cluster_config_load reads it (bourse serve --node N) */
    if (!strcmp(section, "report"))
        return 1; /* the reporting follower's (bourse report follow --config, src/report/config.c) */
    snprintf(l->last_section, sizeof l->last_section, "%s", section);
    snprintf(l->last_name, sizeof l->last_name, "%s", name);
    if (srv_config_set(l->c, section, name, value, err, sizeof err) == 0)
        return 1;
bad:
    fprintf(stderr, "bourse: %s: %s\n", l->path, err);
    l->failed = 1;
    return 0;
}

int srv_config_load(srv_config *c, const char *path)
{
    load_ctx l = {.c = c, .path = path};
    int r = ini_parse(path, on_ini, &l);
    if (r < 0) {
        fprintf(stderr, "bourse: %s: cannot read the configuration file\n", path);
        return -1;
    }
    if (r > 0) {
        if (!l.failed)
            fprintf(stderr, "bourse: %s:%d: not a valid INI line\n", path, r);
        else
            fprintf(stderr, "bourse: %s:%d: (the line above)\n", path, r);
        return -1;
    }
    if (c->schedule && c->schedule != 3) {
        fprintf(stderr, "bourse: %s: [market] needs both open and close times, or neither\n", path);
        return -1;
    }
    if (c->schedule && c->open_s == c->close_s) {
        fprintf(stderr, "bourse: %s: [market] open and close are the same time\n", path);
        return -1;
    }
    return 0;
}
