/*
 * accounts.c - the account life cycle over HTTP (docs/accounts.md, API.md):
 * sign-up, the accounts-aware login, /me, KYC and its document, funding,
 * and the operators' endpoints (KYC review, accounts, funding, halts).
 *
 * Transport.  Every account command and question goes to the server's
 * admin socket (DATA/admin.sock) as the text verb an operator would type
 * (`account signup U EMAIL HASH`, `kyc approve U`, `funding list`, ...,
 * src/accounts/adminline.c), one short-lived unix connection per request,
 * adopted into the feed's lws loop like the order-entry links (oelink.c):
 * nothing blocks the loop on the engine, and the admin socket answers a
 * command only once it is durable and applied, so the HTTP answer is too.
 * The admin socket is the data directory owner's (mode 0600): this process
 * is that owner, and every value put in a line is checked first (names,
 * ids, reasons: no spaces or line ends where a word is expected), since a
 * line is a command.  The server checks each line again.
 *
 * Logins.  A user made by sign-up has an argon2id hash in the journal;
 * the server hands a lookup (srv_acct_hash_get, any thread) through
 * http_set_accounts, so a kyc_required or kyc_pending user can log in to
 * the web page (the order-entry path refuses accounts that are not
 * active); users of DATA/passwords keep the gateway's check (orders.c).
 *
 * Slow work: argon2id (a sign-up's hash, a login's check) and a
 * document's write and fsync run on the worker pool (accounts_work.c).
 */
#include "accounts/accounts.h"
#include "http/accounts_int.h"
#include "http/http_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { ANS_MAX = 1 << 20, DOCS = 256 };

typedef struct call {
    http_server *h;
    http_ticket t;
    int kind, status; /* status: of a K_CMD's success (200, 201) */
    char user[AUTH_USER + 1], arg[32];
    char *out;
    size_t outlen;
    char *in;
    size_t inlen, incap;
    int done;
} call;

/* the last document each user uploaded, for their next POST /kyc (a
 * restart forgets this; doc_of then finds the newest file on disk) */
static struct {
    char user[AUTH_USER + 1];
    acct_doc doc;
} docs[DOCS];
static unsigned ndocs;

void hacct_doc_remember(const char *user, const acct_doc *d)
{
    unsigned i = 0;
    while (i < ndocs && strcmp(docs[i].user, user) != 0)
        i++;
    if (i == ndocs)
        i = ndocs < DOCS ? ndocs++ : (unsigned)(randombytes_random() % DOCS);
    snprintf(docs[i].user, sizeof docs[i].user, "%.*s", AUTH_USER, user);
    docs[i].doc = *d;
}

/* The user's last document: remembered, else the newest DATA/kyc/USER/
 * SHA256.EXT (stored durably before it was acknowledged, so a restart
 * between the upload and POST /kyc loses nothing).  1 with *out, else 0. */
static int doc_of(http_server *h, const char *user, acct_doc *out)
{
    for (unsigned i = 0; i < ndocs; i++)
        if (!strcmp(docs[i].user, user)) {
            *out = docs[i].doc;
            return 1;
        }
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/kyc/%s", h->cfg.data_dir ? h->cfg.data_dir : ".", user);
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    struct dirent *de;
    int found = 0;
    struct timespec best = {0};
    while ((de = readdir(dp))) {
        const char *n = de->d_name, *dot = strchr(n, '.');
        struct stat st;
        int t = dot && dot - n == 64 ? acct_doc_type_of(dot + 1) : 0;
        if (!t || strspn(n, "0123456789abcdef") != 64 || fstatat(dirfd(dp), n, &st, 0) != 0 ||
            st.st_size <= 0 || st.st_size > (off_t)ACCT_DOC_MAX)
            continue;
        if (found && (st.st_mtim.tv_sec < best.tv_sec ||
                      (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec <= best.tv_nsec)))
            continue;
        found = 1;
        best = st.st_mtim;
        *out = (acct_doc){.type = t, .size = (uint32_t)st.st_size};
        memcpy(out->sha256, n, 64);
        out->sha256[64] = 0;
    }
    closedir(dp);
    return found;
}

/* ---- checks -------------------------------------------------------------------- */

/* A user name, or a symbol ('.' too: BRK.B): one word of a line. */
int hacct_word_ok(const char *s, size_t n, size_t max)
{
    if (!n || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || (c == '.' && max == BOURSE_SYMBOL_LEN)))
            return 0;
    }
    return 1;
}

static int line_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ')
            return 0;
    return 1;
}

/* A JSON string field into buf: 1, or 0 after answering 400. */
int hacct_field(http_req *r, const hj_obj *j, const char *key, char *buf, size_t cap)
{
    const char *v;
    size_t n;
    int g = hj_str(j, key, &v, &n);
    if (g <= 0) {
        http_error(r, 400, g < 0 ? "BAD_FIELD" : "MISSING_FIELD", "%s (a string) is required", key);
        return 0;
    }
    if (n >= cap || memchr(v, 0, n)) {
        http_error(r, 400, "BAD_FIELD", "%s is too long", key);
        return 0;
    }
    memcpy(buf, v, n);
    buf[n] = 0;
    if (!line_ok(buf)) {
        http_error(r, 400, "BAD_FIELD", "%s has control characters", key);
        return 0;
    }
    return 1;
}

void hacct_refuse(http_req *r, const acct_err *e)
{
    http_error(r, acct_http_status(e->code), e->code ? e->code : "BAD_FIELD", "%s", e->message);
}

/* ---- the admin socket ---------------------------------------------------------- */

static void finish(call *c);

static int acct_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    call *c = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX:
        if (!c || c->done)
            return -1;
        if (c->inlen + len + 1 > c->incap) {
            size_t cap = c->incap ? c->incap * 2 : 4096;
            while (cap < c->inlen + len + 1)
                cap *= 2;
            char *b = cap <= ANS_MAX ? realloc(c->in, cap) : NULL;
            if (!b)
                return -1;
            c->in = b, c->incap = cap;
        }
        memcpy(c->in + c->inlen, in, len);
        c->inlen += len;
        c->in[c->inlen] = 0;
        if ((c->inlen == 2 && !memcmp(c->in, ".\n", 2)) ||
            (c->inlen >= 3 && !memcmp(c->in + c->inlen - 3, "\n.\n", 3))) {
            finish(c);
            c->done = 1;
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (!c || !c->outlen)
            return 0;
        if (lws_write(wsi, (unsigned char *)c->out + LWS_PRE, c->outlen, LWS_WRITE_RAW) != (int)c->outlen)
            return -1;
        c->outlen = 0;
        return 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (c) {
            lws_set_opaque_user_data(wsi, NULL);
            http_req *r = c->done ? NULL : http_ticket_req(c->h, c->t);
            if (r)
                http_error(r, 503, "UNAVAILABLE", "the accounts service did not answer; try again");
            free(c->out);
            free(c->in);
            free(c);
        }
        return 0;
    default: return 0;
    }
}

const struct lws_protocols acct_protocol = {"bourse-acct", acct_cb, 0, 0, 0, NULL, 0};

/* Send line (without its '\n') and answer r when the answer comes; status:
 * a command's on success (a halt's: 1 halt, 0 resume). */
int hacct_ask(http_server *h, http_req *r, int kind, int status, const char *line, const char *arg)
{
    if (!h->admin_sock[0] || !h->vh) {
        http_error(r, 503, "UNAVAILABLE", "accounts are not available in this server");
        return HTTP_DONE;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(h->admin_sock) >= sizeof a.sun_path) {
        http_error(r, 503, "UNAVAILABLE", "the admin socket's path is too long");
        return HTTP_DONE;
    }
    memcpy(a.sun_path, h->admin_sock, strlen(h->admin_sock) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)) {
        if (fd >= 0)
            close(fd);
        http_error(r, 503, "UNAVAILABLE", "the accounts service is not reachable");
        return HTTP_DONE;
    }
    size_t n = strlen(line);
    call *c = calloc(1, sizeof *c);
    char *out = malloc(LWS_PRE + n + 1);
    if (!c || !out) {
        free(c), free(out), close(fd);
        http_error(r, 503, "CAPACITY", "out of memory");
        return HTTP_DONE;
    }
    memcpy(out + LWS_PRE, line, n);
    out[LWS_PRE + n] = '\n';
    *c = (call){.h = h, .t = http_ticket_of(r), .kind = kind, .status = status, .out = out, .outlen = n + 1};
    snprintf(c->user, sizeof c->user, "%s", r->user);
    snprintf(c->arg, sizeof c->arg, "%s", arg ? arg : "");
    lws_sock_file_fd_type d = {.sockfd = fd};
    struct lws *wsi = lws_adopt_descriptor_vhost(h->vh, LWS_ADOPT_SOCKET, d, "bourse-acct", NULL);
    if (!wsi) {
        close(fd), free(out), free(c);
        http_error(r, 503, "UNAVAILABLE", "the accounts service is not reachable");
        return HTTP_DONE;
    }
    lws_set_opaque_user_data(wsi, c);
    lws_callback_on_writable(wsi);
    return HTTP_LATER;
}

/* ---- answers ------------------------------------------------------------------- */

enum { WORDS = 12 };
typedef struct words {
    const char *w[WORDS];
    size_t n[WORDS];
    int count;
    const char *rest[WORDS];
    size_t restn[WORDS];
} words;

static void split(const char *s, size_t len, words *o)
{
    const char *p = s, *end = s + len;
    o->count = 0;
    while (p < end && o->count < WORDS) {
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            break;
        const char *b = p;
        while (p < end && *p != ' ')
            p++;
        o->w[o->count] = o->rest[o->count] = b;
        o->n[o->count] = (size_t)(p - b);
        o->restn[o->count++] = (size_t)(end - b);
    }
}

static int weq(const words *w, int i, const char *lit)
{
    return i < w->count && w->n[i] == strlen(lit) && !memcmp(w->w[i], lit, w->n[i]);
}

static void wstr(hj_w *j, const words *w, int i)
{
    if (i < w->count)
        hj_string(j, w->w[i], w->n[i]);
    else
        hj_printf(j, "null");
}

/* `,"key":` and word i as wstr writes it: one field after the first. */
static void wkey(hj_w *j, const char *key, const words *w, int i)
{
    hj_printf(j, ",\"%s\":", key);
    wstr(j, w, i);
}

/* Walk the answer's lines: fn(line, len, ctx). */
static void lines(const call *c, void (*fn)(const char *, size_t, void *), void *ctx)
{
    const char *p = c->in, *end = c->in + c->inlen;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!(n == 1 && *p == '.'))
            fn(p, n, ctx);
        p += n + 1;
    }
}

typedef struct scan {
    const char *bang, *acct, *kyc, *reason;
    size_t bangn, acctn, kycn, reasonn;
} scan;

static void scan_line(const char *s, size_t n, void *ctx)
{
    scan *sc = ctx;
    if (n && s[0] == '!')
        sc->bang = s, sc->bangn = n;
    else if (n > 8 && !memcmp(s, "ACCOUNT ", 8))
        sc->acct = s, sc->acctn = n;
    else if (n > 4 && !memcmp(s, "KYC ", 4))
        sc->kyc = s, sc->kycn = n;
    else if (n > 7 && !memcmp(s, "REASON ", 7))
        sc->reason = s, sc->reasonn = n;
}

/* `ACCOUNT USER OP [ID] STATE` or `... ERROR CODE` */
static void answer_cmd(call *c, http_req *r, const scan *sc)
{
    words w;
    split(sc->acct, sc->acctn, &w);
    int i = 3;
    const char *id = NULL;
    size_t idn = 0;
    if (i < w.count && w.w[i][0] >= '0' && w.w[i][0] <= '9')
        id = w.w[i], idn = w.n[i], i++;
    if (weq(&w, i, "ERROR")) {
        char code[40];
        snprintf(code, sizeof code, "%.*s", i + 1 < w.count ? (int)w.n[i + 1] : 0, w.w[i + 1]);
        if (!strcmp(code, "WRONG_STATE"))
            snprintf(code, sizeof code, "CONFLICT");
        http_error(r, acct_http_status(code), code, "refused: %s", code);
        return;
    }
    hj_w *j = http_json(r);
    if (id)
        hj_printf(j, "{\"id\":%.*s", (int)idn, id);
    else {
        hj_printf(j, "{\"username\":");
        wstr(j, &w, 1);
    }
    wkey(j, "state", &w, i);
    hj_printf(j, "}");
    http_json_send(r, c->status);
}

/* /me and login: state, role (and KYC) from `account show` */
static void answer_me(call *c, http_req *r, const scan *sc)
{
    words w = {0};
    if (sc->acct)
        split(sc->acct, sc->acctn, &w);
    int op = sc->acct ? weq(&w, 3, "operator") : r->op;
    if (c->kind == K_LOGIN && sc->acct && weq(&w, 2, "closed")) {
        http_error(r, 403, "NOT_ACTIVE", "this account is closed");
        return;
    }
    if (c->kind == K_LOGIN) {
        if (http_session_start(c->h, r, c->user, op) != 0) {
            http_error(r, 503, "CAPACITY", "too many sessions");
            return;
        }
        auth_login_ok(c->h->auth, c->user, r->ip);
    }
    hj_w *j = http_json(r);
    hj_printf(j, "{\"username\":");
    hj_string(j, c->user, strlen(c->user));
    hj_printf(j, ",\"role\":\"%s\",\"state\":", op ? "operator" : "user");
    if (sc->acct)
        wstr(j, &w, 2);
    else
        hj_printf(j, "\"active\"");
    if (c->kind == K_ME) {
        hj_printf(j, ",\"email\":");
        if (sc->acct)
            wstr(j, &w, 4);
        else
            hj_printf(j, "null");
        hj_printf(j, ",\"kyc\":{\"state\":");
        const char *ks = "none";
        if (sc->acct) {
            if (weq(&w, 2, "active") || weq(&w, 2, "suspended") || weq(&w, 2, "closed"))
                ks = "approved";
            else if (weq(&w, 2, "kyc_pending"))
                ks = "pending";
            else if (weq(&w, 2, "kyc_rejected"))
                ks = "rejected";
            else
                ks = "required";
        } else
            ks = "approved";
        hj_printf(j, "\"%s\",\"reason\":", ks);
        if (sc->reason) {
            words rw;
            split(sc->reason, sc->reasonn, &rw);
            if (rw.count > 2)
                hj_string(j, rw.rest[2], rw.restn[2]);
            else
                hj_printf(j, "null");
        } else
            hj_printf(j, "null");
        hj_printf(j, "},\"auth\":\"%s\"", r->auth == AUTH_KEY ? "key" : "session");
    }
    hj_printf(j, "}");
    http_json_send(r, 200);
}

typedef struct lst {
    call *c;
    hj_w *j;
    int n;
} lst;

static void doc_json(hj_w *j, const words *w, int i)
{
    /* sha256:HEX:TYPE:SIZE */
    const char *s = w->w[i];
    size_t n = w->n[i];
    if (n < 7 + 64 + 3) {
        hj_printf(j, "null");
        return;
    }
    const char *t = s + 7 + 65, *colon = memchr(t, ':', (size_t)(s + n - t));
    if (!colon) {
        hj_printf(j, "null");
        return;
    }
    hj_printf(j, "{\"sha256\":\"%.64s\",\"type\":", s + 7);
    char ty[16];
    snprintf(ty, sizeof ty, "%.*s", (int)(colon - t), t);
    int dt = acct_doc_type_of(ty);
    hj_printf(j, "\"%s\",\"size\":%.*s}", dt ? acct_doc_mime(dt) : ty, (int)(s + n - colon - 1), colon + 1);
}

static void list_line(const char *s, size_t n, void *ctx)
{
    lst *L = ctx;
    call *c = L->c;
    words w;
    split(s, n, &w);
    hj_w *j = L->j;
    if (c->kind == K_KYCQ && weq(&w, 0, "KYC") && w.count >= 10) {
        /* KYC USER DOB COUNTRY IDNUM DOC SUBMITTED-NS EMAIL LEGAL NAME */
        hj_printf(j, "%s{\"username\":", L->n++ ? "," : "");
        wstr(j, &w, 1);
        wkey(j, "email", &w, 7);
        hj_printf(j, ",\"legal_name\":");
        hj_string(j, w.rest[8], w.restn[8]);
        wkey(j, "date_of_birth", &w, 2);
        wkey(j, "country", &w, 3);
        wkey(j, "id_number", &w, 4);
        hj_printf(j, ",\"document\":");
        doc_json(j, &w, 5);
        hj_printf(j, ",\"submitted\":%.*s}", (int)(w.n[6] > 9 ? w.n[6] - 9 : 1), w.n[6] > 9 ? w.w[6] : "0");
    } else if (c->kind == K_ACCOUNTS && weq(&w, 0, "ACCOUNT") && w.count >= 5) {
        hj_printf(j, "%s{\"username\":", L->n++ ? "," : "");
        wstr(j, &w, 1);
        wkey(j, "email", &w, 4);
        wkey(j, "state", &w, 2);
        wkey(j, "role", &w, 3);
        hj_printf(j, "}");
    } else if ((c->kind == K_FUNDING || c->kind == K_ADMIN_FUNDING) && weq(&w, 0, "FUNDING") &&
               w.count >= 7) {
        /* FUNDING ID USER KIND ASSET AMOUNT STATE [REASON] */
        if (c->kind == K_FUNDING && !(w.n[2] == strlen(c->user) && !memcmp(w.w[2], c->user, w.n[2])))
            return;
        hj_printf(j, "%s{\"id\":%.*s", L->n++ ? "," : "", (int)w.n[1], w.w[1]);
        if (c->kind == K_ADMIN_FUNDING)
            wkey(j, "username", &w, 2);
        wkey(j, "kind", &w, 3);
        wkey(j, "asset", &w, 4);
        wkey(j, "amount", &w, 5);
        wkey(j, "state", &w, 6);
        hj_printf(j, ",\"reason\":");
        if (w.count > 7)
            hj_string(j, w.rest[7], w.restn[7]);
        else
            hj_printf(j, "null");
        hj_printf(j, "}");
    }
}

static void answer_doc(call *c, http_req *r, const scan *sc)
{
    words w;
    if (!sc->kyc || (split(sc->kyc, sc->kycn, &w), w.count < 6) || w.n[5] < 7 + 64 + 3) {
        http_error(r, 404, "NOT_FOUND", "no identity document for %s", c->arg);
        return;
    }
    char sha[65], type[16];
    snprintf(sha, sizeof sha, "%.64s", w.w[5] + 7);
    const char *t = w.w[5] + 7 + 65, *colon = memchr(t, ':', (size_t)(w.w[5] + w.n[5] - t));
    snprintf(type, sizeof type, "%.*s", colon ? (int)(colon - t) : 0, t);
    int dt = acct_doc_type_of(type);
    char path[1024];
    acct_doc_path(c->h->cfg.data_dir, c->arg, sha, type, path, sizeof path);
    int fd = dt ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > (off_t)ACCT_DOC_MAX) {
        if (fd >= 0)
            close(fd);
        http_error(r, 404, "NOT_FOUND", "the identity document of %s is not on this server", c->arg);
        return;
    }
    char *b = malloc((size_t)st.st_size + 1);
    ssize_t got = b ? read(fd, b, (size_t)st.st_size) : -1;
    close(fd);
    if (got != st.st_size)
        http_error(r, 500, "INTERNAL", "the document could not be read");
    else
        http_reply(r, 200, acct_doc_mime(dt), b, (size_t)got);
    free(b);
}

static void finish(call *c)
{
    http_req *r = http_ticket_req(c->h, c->t);
    if (!r)
        return;
    scan sc = {0};
    lines(c, scan_line, &sc);
    switch (c->kind) {
    case K_CMD:
        if (sc.acct)
            answer_cmd(c, r, &sc);
        else if (sc.bang)
            http_error(r, 400, "BAD_FIELD", "%.*s", (int)(sc.bangn > 2 ? sc.bangn - 2 : 0), sc.bang + 2);
        else
            http_error(r, 500, "INTERNAL", "no answer from the accounts service");
        return;
    case K_HALT:
        if (sc.bang) {
            http_error(r, 400, "UNKNOWN_SYMBOL", "%.*s", (int)(sc.bangn > 2 ? sc.bangn - 2 : 0), sc.bang + 2);
            return;
        }
        hj_w *j = http_json(r);
        hj_printf(j, "{\"symbol\":");
        hj_string(j, c->arg, strlen(c->arg));
        hj_printf(j, ",\"halted\":%s}", c->status == 1 ? "true" : "false");
        http_json_send(r, 200);
        return;
    case K_LOGIN:
    case K_ME: answer_me(c, r, &sc); return;
    case K_DOC: answer_doc(c, r, &sc); return;
    default: {
        lst L = {c, http_json(r), 0};
        hj_printf(L.j, "[");
        lines(c, list_line, &L);
        hj_printf(L.j, "]");
        http_json_send(r, 200);
    }
    }
}

/* ---- user endpoints ------------------------------------------------------------ */

static int me(http_server *h, http_req *r)
{
    char line[64];
    snprintf(line, sizeof line, "account show %s", r->user);
    return hacct_ask(h, r, K_ME, 200, line, NULL);
}

static int kyc(http_server *h, http_req *r)
{
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    char name[BOURSE_ACCOUNT_LEGAL_MAX + 8], dob[16], cc[8], idn[64];
    if (!hacct_field(r, &j, "legal_name", name, sizeof name) ||
        !hacct_field(r, &j, "date_of_birth", dob, sizeof dob) ||
        !hacct_field(r, &j, "country", cc, sizeof cc) || !hacct_field(r, &j, "id_number", idn, sizeof idn))
        return HTTP_DONE;
    acct_doc doc;
    const acct_doc *d = doc_of(h, r->user, &doc) ? &doc : NULL;
    if (!d) {
        http_error(r, 400, "MISSING_FIELD", "send the identity document first (POST /api/v1/kyc/document)");
        return HTTP_DONE;
    }
    bourse_account_cmd c;
    acct_err e = {0};
    if (acct_kyc_cmd(r->user, name, dob, cc, idn, d, acct_today(), &c, &e) != 0) {
        hacct_refuse(r, &e);
        return HTTP_DONE;
    }
    if (strchr(idn, ' ') || strchr(dob, ' ') || strchr(cc, ' ')) {
        http_error(r, 400, "BAD_FIELD", "id_number, date_of_birth and country have no spaces");
        return HTTP_DONE;
    }
    char line[1024];
    snprintf(line, sizeof line, "account kyc %s %s %s %s sha256:%s:%s:%u %s", r->user, dob, cc, idn,
             d->sha256, acct_doc_type_name(d->type), d->size, name);
    return hacct_ask(h, r, K_CMD, 200, line, NULL);
}

static int funding_req(http_server *h, http_req *r, const char *verb)
{
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    char asset[16], amt[32];
    if (!hacct_field(r, &j, "asset", asset, sizeof asset) || !hacct_field(r, &j, "amount", amt, sizeof amt))
        return HTTP_DONE;
    int cash = !strcmp(asset, "CASH");
    int64_t v;
    acct_err e = {0};
    if (!hacct_word_ok(asset, strlen(asset), BOURSE_SYMBOL_LEN)) {
        http_error(r, 400, "BAD_FIELD", "asset is CASH or a symbol");
        return HTTP_DONE;
    }
    if (acct_parse_amount(amt, cash, &v, &e) != 0) {
        hacct_refuse(r, &e);
        return HTTP_DONE;
    }
    char line[128];
    snprintf(line, sizeof line, "funding %s %s %s %s", verb, r->user, asset, amt);
    return hacct_ask(h, r, K_CMD, 201, line, NULL);
}

static int deposit(http_server *h, http_req *r)
{
    return funding_req(h, r, "deposit");
}

static int withdraw(http_server *h, http_req *r)
{
    return funding_req(h, r, "withdraw");
}

static int funding(http_server *h, http_req *r)
{
    return hacct_ask(h, r, K_FUNDING, 200, "funding list", NULL);
}

int acct_routes(http_server *h)
{
    return http_route(h, "POST", "/api/v1/signup", HTTP_PUBLIC, hacct_signup) ||
           http_route(h, "GET", "/api/v1/me", HTTP_AUTH, me) ||
           http_route(h, "POST", "/api/v1/kyc", HTTP_AUTH, kyc) ||
           http_route(h, "POST", "/api/v1/kyc/document", HTTP_AUTH | HTTP_UPLOAD, hacct_kyc_document) ||
           http_route(h, "POST", "/api/v1/deposits", HTTP_AUTH, deposit) ||
           http_route(h, "POST", "/api/v1/withdrawals", HTTP_AUTH, withdraw) ||
           http_route(h, "GET", "/api/v1/funding", HTTP_AUTH, funding) || acct_admin_routes(h);
}
