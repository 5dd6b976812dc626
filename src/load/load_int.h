/*
 * load_int.h - the load generator's state, shared by its two files: load.c
 * (sessions, orders, the run) and report.c (options help, the report).
 */
#ifndef BOURSE_LOAD_INT_H
#define BOURSE_LOAD_INT_H

#include "bench/hist.h"
#include "load/hold.h"
#include "net/endpoints.h"
#include "net/soup.h"

#include <stdint.h>
#include <stdio.h>

enum { K_PASSIVE = 1, K_IOC, K_REPLACE, K_CANCEL };
enum {
    F_ACKED = 1,
    F_EXEC = 2,
    F_DURABLE = 4 /* Accepted or Replaced */,
    F_UNSENT = 8 /* no live session */
};
enum { REST = 64, OUTBUF = 1 << 16, INBUF = 1 << 16 };
enum { LOAD_MAX_PROCS = 64 };
/* The round trips over time: per 100 ms of due times, for 5 minutes. */
enum { LOAD_TL = 3000, LOAD_TL_NS = 100000000 };
typedef struct load_tl {
    uint64_t n, sum, max;
} load_tl;

typedef struct lsess {
    int fd;
    uint32_t user;
    int live;
    uint32_t rest[REST]; /* resting candidates: order numbers */
    uint32_t rest_head, rest_n;
    uint8_t *out;
    uint32_t out_len;
    uint8_t in[INBUF];
    uint32_t in_len;
    int dirty;
    uint64_t next_seq; /* of the next sequenced report */
    char session[SOUP_SESSION_LEN + 1];
    int64_t retry_ns; /* down: the next try at logging in again */
    int resumed;      /* has logged in again at least once */
    int backoff_ms;
    int tried;          /* logins failed since the last wait: a round is the endpoints' count */
    int answered, fast; /* a server refused in this round; short waits taken (net/endpoints.h) */
} lsess;

typedef struct load {
    const char *dir, *host, *acked_path;
    uint16_t port;
    uint32_t users, sessions, nsyms;
    uint32_t nmain;        /* sessions in the main loop: s[0..nmain), the ones that send orders */
    uint32_t main_cap;     /* --main-sessions: at most this many there (0: as many as fit) */
    uint32_t hold_threads; /* --hold-threads: at least this many holder threads */
    int hold_hb_ms;        /* --hold-heartbeat-ms */
    uint64_t rate;
    double seconds;
    int json;
    char prefix[8];
    char syms[16][9];
    lsess *s;
    int ep;
    uint64_t total;
    int64_t *due;   /* intended send time per order number */
    uint8_t *kind;  /* K_* */
    uint8_t *flags; /* F_* */
    uint64_t sent, acked, rejected, errors, execs, canceled, disconnects, unanswered;
    uint64_t reasons[256]; /* rejects counted as errors, by reason */
    hist rtt_ack, rtt_exec, echo, echo_open;
    hist lag; /* how late the generator wrote each batch's first order */
    uint64_t rng;
    uint32_t *dirty;
    uint32_t ndirty;
    holders *hold; /* sessions nmain..sessions-1, if any */
    hold_stats hs;
    double login_secs;
    endpoints eps;                         /* --connect: sessions log in again */
    uint64_t reconnects, gaps, duplicates; /* with --connect */
    uint64_t sent_resumed;                 /* over a session after it logged in again */
    uint64_t unsent;                       /* due while its session was down */
    /* --procs: the sessions are spread over this many processes (procs.c);
     * in one of them, part is its number: its sessions are every procs-th
     * of the whole run's, from the part-th.  --cpu: the CPUs to pin them to. */
    uint32_t procs, part;
    int64_t run_start; /* the open loop's t0 */
    load_tl tl[LOAD_TL];
    uint32_t ncpus;
    int cpus[LOAD_MAX_PROCS];
    /* the server's stage clocks over the run (stages.c, src/server/stages.h) */
    uint32_t nstages;
    struct {
        char name[16];
        unsigned long long count, mean, p50, p90, p99, p999, max;
    } stage[16];
} load;

/* load.c: log in the sessions s[0..nmain); the open-loop run */
int load_connect_all(load *l);
void load_run(load *l);

/* The number, among every process's sessions, of this process's i-th. */
static inline uint32_t load_session_at(const load *l, uint32_t i)
{
    return l->part + i * (l->procs > 1 ? l->procs : 1);
}

/* procs.c: --cpu's list into l (0, or -1 when it is not one); pin this
 * process (the k-th of the run) to its CPU, when --cpu was given; the run
 * over l->procs processes, report included (load_main's exit status). */
int load_cpus_parse(load *l, const char *v);
void load_pin(const load *l, uint32_t k);
int load_procs(load *l, long rss0);

/* stages.c: the server's stage clocks, through the admin socket: started
 * over before the run, read after it (0, or -1: a server without them,
 * which the report then leaves out). */
int load_stages_reset(load *l);
int load_stages_read(load *l);
void load_stages_report(const load *l, FILE *f, int json);

/* report.c */
void load_help(FILE *f);
long load_server_rss_kb(const char *dir);
void load_report(load *l, double secs, long rss0, long rss1, long rss2);

#endif
