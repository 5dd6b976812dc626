/*
 * config.h - the server's configuration: built-in defaults, an optional INI
 * file (libinih) and command-line flags, in that order of precedence.
 *
 * Every setting is documented in docs/configuration.md.  The struct is plain
 * data read once at start; threads get a const pointer to it.
 */
#ifndef BOURSE_SERVER_CONFIG_H
#define BOURSE_SERVER_CONFIG_H

#include "bourse/bourse.h"

#include <stdint.h>

#define SRV_PATH_MAX 512

typedef struct srv_config {
    /* [server] */
    char listen[64];
    uint16_t order_port, feed_port, http_port;
    char data_dir[SRV_PATH_MAX];
    int engine_cpu;                   /* CPU the engine thread is pinned to; -1 = none */
    int gateway_cpu;                  /* the gateway thread's; -1 = none, -2 = the engine's */
    int priority;                     /* nice value of all the server's threads; 0 = unchanged */
    uint32_t spin_us;                 /* how long an idle engine, gateway or syncer polls before sleeping */
    uint32_t busy_poll_us;            /* SO_BUSY_POLL of order-entry sockets; 0 = off */
    char event_loop[8];               /* the feed thread's sockets: "libuv" (epoll) or "poll" */
    char udp_feed[32];                /* MoldUDP64 feed to "A.B.C.D:PORT"; "" = off */
    uint16_t udp_request_port;        /* its retransmission requests; 0 = any free port */
    uint32_t feed_subscribers_per_ip; /* binary + WebSocket subscribers from one address */
    uint32_t feed_snapshot_s;         /* a binary subscriber not done reading its snapshot by then is cut */
    uint32_t udp_payload;             /* most bytes per datagram */
    char web_root[SRV_PATH_MAX];      /* the web page's directory; "" = beside the program, "none" */
    /* [journal] */
    char durability[16];
    uint32_t snapshot_every; /* commands between snapshots; 0 = never */
    uint32_t segment_mb;     /* size of new journal segments; 0 = the journal's default (256) */
    uint32_t batch_us;       /* durability batch: at most one group commit per this many µs */
    uint32_t prefill;        /* new segments' blocks written with zeros ahead of use (journal.c) */
    /* [limits]: the engine's fixed capacities */
    bourse_limits limits;
    uint32_t prefault; /* page the whole capacity in before ready (no first-touch stalls) */
    /* [market] */
    char *symbols;       /* space-separated list, listed at start if missing */
    int schedule;        /* 0 = always open */
    int open_s, close_s; /* local seconds after midnight */
    int day_end_s;       /* no schedule: the trading day ends here; -1 = never */
    char rules[160];     /* default `rules` settings of a symbol listed at start ("" = none) */
    char fees[48];       /* default `fees` settings of a symbol listed at start ("" = none) */
    /* [gateway] */
    uint32_t gateway_threads;      /* gateway threads; 0 = as many as max_sessions needs */
    uint32_t held_max;             /* reports a gateway holds in memory for the disk beyond its ring */
    uint32_t max_sessions;         /* order-entry connections at once */
    uint32_t sessions_per_user;    /* logged-in sessions of one user */
    uint32_t sessions_per_ip;      /* connections from one address */
    uint32_t logins_per_ip;        /* logins from one address being checked at once */
    uint32_t auth_threads;         /* threads checking passwords (argon2id) */
    uint32_t login_fail_ms;        /* least time before any failed login is answered */
    uint32_t login_throttle_after; /* failures of a user name before each next waits longer */
    uint32_t login_lock_after;     /* failures of a user name that lock it (0 = never) */
    uint32_t login_lock_after_ip;  /* failures from one address that lock it (0 = never) */
    uint32_t login_lock_s;         /* a lock lasts (and failures count) this long; 0 = until unlocked */
    uint32_t login_timeout_ms;     /* from connect to Login Request */
    uint32_t heartbeat_timeout_ms; /* silence after which a client is gone */
    uint32_t max_frame;            /* largest packet accepted, length field */
    uint32_t max_output;           /* bytes queued for a client before it is dropped */
    uint32_t sndbuf;               /* socket send buffer, 0 = the kernel's */
    uint32_t rate;                 /* orders per second per session */
    uint32_t burst;                /* orders a session may send at once */
    uint32_t replay_bytes;         /* recent messages kept per user for re-login */
    /* [fix] (docs/fix.md) */
    int fix_port;         /* FIX 4.4 order entry; -1 = off, 0 = any free port */
    char fix_comp_id[32]; /* the venue's CompID (SenderCompID of what it sends) */
    char fix_cod[160];    /* users whose open orders are canceled when their FIX session drops; "*" = all */
    char fix_dropcopy[1024]; /* drop copy sessions and whom each covers ("" = none; dropcopy.h) */
    /* [http] (docs/http.md): the HTTP API on http_port */
    char http_tls_cert[SRV_PATH_MAX]; /* PEM certificate: http_port speaks TLS; "" = plain */
    char http_tls_key[SRV_PATH_MAX];
    uint32_t http_body_max;    /* JSON request bodies, bytes */
    uint32_t http_upload_max;  /* uploads (KYC documents), bytes */
    uint32_t http_rate_ip;     /* requests per second per address */
    uint32_t http_rate_key;    /* requests per second per API key or session */
    uint32_t http_login_fails; /* failed logins per account or address before a lock */
    uint32_t http_login_lock_s;
    uint32_t http_session_s;  /* a browser session ends after this long idle */
    uint32_t http_workers;    /* threads for argon2id and documents' fsync */
    uint32_t http_work_queue; /* such jobs at once before 503 */
    uint32_t http_nonces;     /* signed requests' nonces remembered (0 = 65,536) */
    /* [accounts] (docs/accounts.md) */
    int accounts_dev_mode;        /* deposits approved at once; an operator `admin` made at start */
    char accounts_operators[256]; /* accounts given the operator role at start */
    /* [cluster] (read by src/cluster, not here): NULL = a single server */
    const struct cluster_config *cluster;
} srv_config;

/* Fill in the built-in defaults (no file needed). */
void srv_config_defaults(srv_config *c);
/* Read an INI file over *c; 0 on success, else prints why and returns -1. */
int srv_config_load(srv_config *c, const char *path);
/* Set one key of one section (as the file would); 0 on success. */
int srv_config_set(srv_config *c, const char *section, const char *key, const char *value, char *err,
                   size_t errlen);
void srv_config_free(srv_config *c);
/* The default symbol list: 100 US tickers. */
extern const char srv_default_symbols[];

#endif
