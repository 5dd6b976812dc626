/*
 * proto_fix.c - the FIX 4.4 adapter's session layer: order entry as
 * docs/fix.md describes it, on the same gateway, passwords, rate limits
 * and per-user and per-address caps as the SoupBinTCP/OUCH adapter.
 *
 * Logon (35=A) must be the first message.  Its SenderCompID must be its
 * Username (553) and its TargetCompID the venue's ([fix] comp_id), its
 * EncryptMethod 0 and its HeartBtInt 1..3600; then Username and Password
 * (554) go to gw_login, which checks the password off the gateway, finds
 * the user and moves the connection to the user's home gateway, where
 * on_live logs the session on: its sequence numbers are those the log
 * gives (proto_fix_mark.c), or start again at 1 when the Logon asks
 * (ResetSeqNumFlag=Y).  Every message the venue makes here (the Logon's
 * answer, Heartbeats, Rejects, a Logout...) is sent once its mark is back
 * from the log, which numbers it (fixs_send while fg->local is set).  A session is logged on at most once: a
 * second Logon of a user whose session is up is disconnected unanswered (an answer would use up a sequence
 * number of the session that is up).  A refused Logon (password, unknown user, locks, caps) is disconnected
 * unanswered too: the gateway's refusal knows no CompIDs to answer with.
 *
 * Every message after the Logon goes through the same checks, in FIX's
 * order: a message that does not frame (BodyLength, CheckSum) is garbled
 * and ignored, its sequence number not counted; MsgSeqNum above the next
 * expected one asks for a resend (ResendRequest from the next expected to
 * infinity, once per gap) and the message is dropped, as the client resends
 * it; below it without PossDupFlag=Y ends the session (Logout), with it the
 * duplicate is dropped; a message in sequence but with a bad field is
 * answered by Reject (3) with RefSeqNum, RefTagID, SessionRejectReason and
 * the sequence number counts; a wrong CompID is a Reject then a Logout.
 * Heartbeat (0) and TestRequest (1) keep the session alive: the venue sends
 * a Heartbeat after HeartBtInt seconds without output and a TestRequest
 * after a silence of 1.2 x HeartBtInt (or half the gateway's
 * heartbeat_timeout_ms, whichever is sooner, since the gateway cuts a
 * silent connection then), and logs out a client that does not answer
 * within another HeartBtInt.  ResendRequest (2) is answered with every
 * application message kept in the store, again, with PossDupFlag=Y and
 * OrigSendingTime, and SequenceReset-GapFill (4) over the session messages
 * in between.  Logout (5) is answered with a Logout, then the connection
 * closes; the venue logs out itself when the server stops.  A MsgType FIX
 * 4.4 defines that the venue does not take is a BusinessMessageReject (j);
 * one FIX 4.4 does not define is a Reject with reason 11.
 *
 * Application messages and the ExecutionReports are proto_fix_app.c's.
 */
#include "server/proto_fix.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FIX_IN_MAX = 8192 }; /* the longest message a client may send */

static fix_gw *fg_of(gateway *g, conn *c)
{
    return gw_proto_state(g, c);
}

fix_sess *fixs_get(fix_gw *fg, uint32_t user)
{
    return user < fg->nsess && fg->sess[user].open ? &fg->sess[user] : NULL;
}

/* The user's session state here, numbered or not (a connection may be
 * logged on before its Logon's mark is back), or NULL. */
static fix_sess *sess_at(fix_gw *fg, uint32_t user)
{
    return user < fg->nsess ? &fg->sess[user] : NULL;
}

/* s's store has something to write: list it for this turn's flush. */
void fixs_touched(fix_gw *fg, fix_sess *s)
{
    s->st.dirty = 1;
    if (!s->listed) {
        s->listed = 1;
        fg->dirty[fg->ndirty++] = (uint32_t)(s - fg->sess);
    }
}

/* Before the gateway writes this turn's output: every session's store
 * (proto_fix_store.c), so no client sees a message that is not kept. */
static void fix_flush(gateway *g, void *st)
{
    (void)g;
    fix_gw *fg = st;
    for (uint32_t i = 0; i < fg->ndirty; i++) {
        fix_sess *s = &fg->sess[fg->dirty[i]];
        s->listed = 0;
        if (fix_store_flush(&s->st) != 0)
            srv_log("FIX session %s: the store was not written (%s): its messages of this moment will be "
                    "gap-filled on a resend",
                    s->name, strerror(errno));
    }
    fg->ndirty = 0;
}

/* Whether name is one of the words of list (spaces or commas between). */
static int is_dropcopy(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t k = strcspn(p, " ,");
        if (k == n && !memcmp(p, name, n))
            return 1;
        p += k;
    }
    return 0;
}

/* The connection logged on to s now, or NULL. */
conn *fixs_live_conn(fix_gw *fg, const fix_sess *s)
{
    if (s->conn == NO_CONN || s->conn >= fg->g->nconns)
        return NULL;
    conn *c = &fg->g->conns[s->conn];
    return c->gen == s->gen && c->state == C_LIVE && !c->closing ? c : NULL;
}

void fixs_header(fix_gw *fg, fix_sess *s, fix_writer *w, char *buf, const char *type, uint64_t seq)
{
    fix_begin(w, buf, FIX_OUT_MAX, type);
    fix_puts(w, 49, fg->g->cfg->fix_comp_id);
    fix_puts(w, 56, s->name);
    fix_put_int(w, 34, (int64_t)seq);
}

void fixs_begin(fix_gw *fg, fix_sess *s, fix_writer *w, char *buf, const char *type)
{
    fixs_header(fg, s, w, buf, type, s->st.next_out);
    fix_put_time(w, 52, fg->g->now);
}

/* The fields of m after the standard header, into w (a resend, a message
 * numbered when its mark is back). */
void fixs_copy_body(fix_writer *w, const fix_msg *m)
{
    for (uint32_t i = 0; i < m->n; i++) {
        uint32_t tag = m->f[i].tag;
        if (tag == 8 || tag == 9 || tag == 35 || tag == 49 || tag == 56 || tag == 34 || tag == 52 ||
            tag == 43 || tag == 122 || tag == 10)
            continue;
        fix_put(w, tag, m->buf + m->f[i].off, m->f[i].len);
    }
}

void fixs_send(fix_gw *fg, fix_sess *s, fix_writer *w, int app)
{
    const char *m;
    size_t n = fix_end(w, &m);
    if (!n) {
        srv_log("FIX session %s: a message did not fit %d bytes and was not sent", s->name, FIX_OUT_MAX);
        return;
    }
    if (fg->local) {
        fixs_defer(fg, s, m, n, app ? FIX_Q_APP : 0, BOURSE_FIXSESS_MSG);
        return;
    }
    if (app && fix_store_put(&s->st, s->st.next_out, m, n) != 0)
        srv_log("FIX session %s: message %llu not kept (disk): it will be gap-filled on resend", s->name,
                (unsigned long long)s->st.next_out);
    s->st.next_out++;
    fixs_touched(fg, s);
    conn *c = fixs_live_conn(fg, s);
    if (c)
        conn_put(fg->g, c, m, n);
}

/* A Logout with text; the connection closes after it has gone out (its
 * mark back), and reads nothing more meanwhile. */
static void logout(fix_gw *fg, fix_sess *s, conn *c, const char *why)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "5");
    if (why)
        fix_puts(&w, 58, why);
    const char *m;
    size_t n = fix_end(&w, &m);
    gw_log_conn(fg->g, c, "FIX logout: %s", why ? why : "answered");
    fix_of(c)->logout = 1;
    s->closing = 1;
    fixs_defer(fg, s, m, n, FIX_Q_CLOSE, BOURSE_FIXSESS_MSG);
}

static void session_reject(fix_gw *fg, fix_sess *s, uint64_t ref_seq, const fix_msg *m, int reason,
                           uint32_t tag, const char *text)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "3");
    fix_put_int(&w, 45, (int64_t)ref_seq);
    if (tag)
        fix_put_int(&w, 371, tag);
    size_t tl;
    const char *t = m ? fix_get(m, 35, &tl) : NULL;
    if (t && tl <= 2)
        fix_put(&w, 372, t, tl);
    fix_put_int(&w, 373, reason);
    fix_puts(&w, 58, text);
    fixs_send(fg, s, &w, 0);
}

static void heartbeat(fix_gw *fg, fix_sess *s, const char *id, size_t idlen)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "0");
    if (id)
        fix_put(&w, 112, id, idlen);
    fixs_send(fg, s, &w, 0);
}

static void resend_request(fix_gw *fg, fix_sess *s, uint64_t upto)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "2");
    fix_put_int(&w, 7, (int64_t)s->st.next_in);
    fix_put_int(&w, 16, 0);
    fixs_send(fg, s, &w, 0);
    s->resend_until = upto;
}

static void gap_fill(fix_gw *fg, fix_sess *s, conn *c, uint64_t from, uint64_t to)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_header(fg, s, &w, buf, "4", from);
    fix_puts(&w, 43, "Y");
    fix_put_time(&w, 52, fg->g->now);
    fix_put_time(&w, 122, fg->g->now);
    fix_puts(&w, 123, "Y");
    fix_put_int(&w, 36, (int64_t)to);
    const char *m;
    size_t n = fix_end(&w, &m);
    conn_put(fg->g, c, m, n);
}

/* A kept message again, as a possible duplicate: the header rewritten
 * (PossDupFlag, OrigSendingTime = its first SendingTime), the body as it
 * was.  0, or -1 if it cannot be read back (then it is gap-filled). */
static int resend_one(fix_gw *fg, fix_sess *s, conn *c, uint64_t seq)
{
    char old[FIX_OUT_MAX], buf[FIX_OUT_MAX];
    size_t n = fix_store_get(&s->st, seq, old, sizeof old);
    fix_msg m;
    fix_error e;
    if (!n || fix_parse(old, n, &m, &e) != 0)
        return -1;
    size_t tl, sl;
    const char *t = fix_get(&m, 35, &tl), *sent = fix_get(&m, 52, &sl);
    char type[4] = {0};
    if (!t || tl > 2 || !sent)
        return -1;
    memcpy(type, t, tl);
    fix_writer w;
    fixs_header(fg, s, &w, buf, type, seq);
    fix_puts(&w, 43, "Y");
    fix_put_time(&w, 52, fg->g->now);
    fix_put(&w, 122, sent, sl);
    fixs_copy_body(&w, &m);
    const char *out;
    size_t k = fix_end(&w, &out);
    if (!k)
        return -1;
    conn_put(fg->g, c, out, k);
    return 0;
}

static void resend(fix_gw *fg, fix_sess *s, conn *c, uint64_t begin, uint64_t end)
{
    uint64_t last = s->st.next_out - 1;
    if (end == 0 || end > last)
        end = last;
    if (begin < 1)
        begin = 1;
    gw_log_conn(fg->g, c, "FIX resend %llu..%llu", (unsigned long long)begin, (unsigned long long)end);
    uint64_t gap = 0; /* first seq of a run of session messages, 0 = none */
    for (uint64_t q = begin; q <= end; q++) {
        int kept = q < s->st.off_cap && s->st.off[q];
        if (kept && gap) {
            gap_fill(fg, s, c, gap, q);
            gap = 0;
        }
        if (kept && resend_one(fg, s, c, q) == 0)
            continue;
        if (!gap)
            gap = q;
    }
    if (gap)
        gap_fill(fg, s, c, gap, end + 1);
}

static const char known_types[] =
    " 0 1 2 3 4 5 6 7 8 9 A B C D E F G H J K L M N P Q R S T V W X Y Z a b c d e f g h "
    "i j k l m n o p q r s t u v w x y z AA AB AC AD AE AF AG AH AI AJ AK AL AM AN AO "
    "AP AQ AR AS AT AU AV AW AX AY AZ BA BB BC BD BE BF BG BH ";

static int known_type(const char *t, size_t n)
{
    char k[6];
    if (n == 0 || n > 2)
        return 0;
    k[0] = ' ';
    memcpy(k + 1, t, n);
    k[n + 1] = ' ';
    k[n + 2] = 0;
    return strstr(known_types, k) != NULL;
}

static void business_reject(fix_gw *fg, fix_sess *s, uint64_t ref_seq, const char *t, size_t tl, int reason,
                            const char *text)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "j");
    fix_put_int(&w, 45, (int64_t)ref_seq);
    fix_put(&w, 372, t, tl);
    fix_put_int(&w, 380, reason);
    fix_puts(&w, 58, text);
    fixs_send(fg, s, &w, 1);
}

/* --- before the Logon is accepted ---------------------------------------- */

static void refuse_logon(gateway *g, conn *c, const char *why)
{
    gw_log_conn(g, c, "FIX logon refused: %s", why);
    c->closing = 1;
    conn_put(g, c, NULL, 0);
}

static int on_logon(gateway *g, conn *c, const fix_msg *m, int parsed, const fix_error *e)
{
    if (parsed != 0) {
        char why[96];
        snprintf(why, sizeof why, "Logon malformed: %s (tag %u)", e->text, e->ref_tag);
        refuse_logon(g, c, why);
        return -1;
    }
    if (!fix_is(m, 35, "A")) {
        refuse_logon(g, c, "the first message must be a Logon (35=A)");
        return -1;
    }
    size_t ul, pl, sl;
    const char *user = fix_get(m, 553, &ul), *pw = fix_get(m, 554, &pl), *sender = fix_get(m, 49, &sl);
    uint64_t seq, hb;
    if (!user || !pw || ul > BOURSE_NAME_LEN || pl >= 40) {
        refuse_logon(g, c, "Logon needs Username (553, 1-16 bytes) and Password (554, under 40 bytes)");
        return -1;
    }
    if (!sender || sl != ul || memcmp(sender, user, ul) != 0) {
        refuse_logon(g, c, "SenderCompID (49) must be the Username (553)");
        return -1;
    }
    if (!fix_is(m, 56, g->cfg->fix_comp_id)) {
        refuse_logon(g, c, "TargetCompID (56) is not the venue's CompID");
        return -1;
    }
    if (!fix_is(m, 98, "0")) {
        refuse_logon(g, c, "EncryptMethod (98) must be 0");
        return -1;
    }
    if (fix_get_u64(m, 108, &hb) != 0 || hb < 1 || hb > 3600) {
        refuse_logon(g, c, "HeartBtInt (108) must be 1 to 3600");
        return -1;
    }
    if (fix_get_u64(m, 34, &seq) != 0 || seq < 1 || seq > UINT32_MAX) {
        refuse_logon(g, c, "MsgSeqNum (34) missing or out of range");
        return -1;
    }
    if (!fix_get(m, 52, &sl)) {
        refuse_logon(g, c, "SendingTime (52) missing");
        return -1;
    }
    fix_conn *fc = fix_of(c);
    fc->logon_seq = (uint32_t)seq;
    fc->hb_s = (uint16_t)hb;
    fc->reset = fix_is(m, 141, "Y");
    char password[40];
    memcpy(password, pw, pl);
    password[pl] = 0;
    gw_login(g, c, user, ul, password);
    sodium_memzero(password, sizeof password);
    return -1; /* what follows waits for the login (conn.c) */
}

static int fix_live(gateway *g, conn *c)
{
    fix_gw *fg = fg_of(g, c);
    fix_conn *fc = fix_of(c);
    fix_sess *s = fixs_slot(fg, c->user);
    if (!s)
        return -1;
    if (fixs_live_conn(fg, s)) {
        gw_log_conn(g, c, "FIX logon refused: the session %s is already logged on", s->name);
        c->closing = 1;
        return 0;
    }
    s->conn = (uint32_t)(c - g->conns);
    s->gen = c->gen;
    s->resend_until = 0;
    s->closing = 0;
    s->qlen = 0; /* what an earlier connection left waiting goes out numbered to none */
    if (!s->open)
        snprintf(s->name, sizeof s->name, "%s", c->name);
    if (fc->reset)
        s->st.next_in = 1; /* and the outbound numbering starts again when the mark is back */
    fg->local = 1;
    if (fc->logon_seq < s->st.next_in) {
        char why[96];
        snprintf(why, sizeof why, "MsgSeqNum too low, expecting %llu but received %u",
                 (unsigned long long)s->st.next_in, fc->logon_seq);
        logout(fg, s, c, why);
        fg->local = 0;
        return 0;
    }
    int ahead = fc->logon_seq > s->st.next_in;
    if (!ahead)
        s->st.next_in++;
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "A");
    fix_puts(&w, 98, "0");
    fix_put_int(&w, 108, fc->hb_s);
    if (fc->reset)
        fix_puts(&w, 141, "Y");
    const char *m;
    size_t n = fix_end(&w, &m);
    fixs_defer(fg, s, m, n, 0, fc->reset ? BOURSE_FIXSESS_RESET : BOURSE_FIXSESS_LOGON);
    gw_log_conn(g, c, "FIX session %s logged on (in %u, out %llu)", s->name, fc->logon_seq,
                (unsigned long long)s->st.next_out - 1);
    if (ahead)
        resend_request(fg, s, fc->logon_seq);
    fg->local = 0;
    return 0;
}

static size_t fix_refusal(uint8_t *buf)
{
    (void)buf;
    return 0; /* disconnected unanswered: see above */
}

/* --- a logged-on session -------------------------------------------------- */

static int on_session_msg(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m, int parsed, const fix_error *e)
{
    gateway *g = fg->g;
    uint64_t seq;
    int hs = fix_get_u64(m, 34, &seq);
    size_t tl;
    const char *t = fix_get(m, 35, &tl);
    if (hs != 0 || !t) {
        if (parsed != 0) {
            gw_log_conn(g, c, "FIX message ignored: %s (tag %u) before its MsgSeqNum", e->text, e->ref_tag);
            return 0;
        }
        logout(fg, s, c, "MsgSeqNum (34) missing or not a number");
        return -1;
    }
    char type[3] = {0};
    if (tl <= 2)
        memcpy(type, t, tl);
    int possdup = fix_is(m, 43, "Y");
    fix_of(c)->treq_ms = 0;                           /* anything from the client answers a TestRequest */
    if (!strcmp(type, "4") && !fix_is(m, 123, "Y")) { /* SequenceReset-Reset: seq ignored */
        uint64_t to;
        if (fix_get_u64(m, 36, &to) != 0 || to < s->st.next_in)
            session_reject(fg, s, seq, m, FIX_R_BAD_VALUE, 36, "NewSeqNo below the next expected MsgSeqNum");
        else
            s->st.next_in = to;
        fixs_touched(fg, s);
        return 0;
    }
    if (seq > s->st.next_in) {
        if (!strcmp(type, "5")) {
            logout(fg, s, c, NULL);
            return -1;
        }
        if (!strcmp(type, "2") && parsed == 0) {
            uint64_t b, en;
            if (fix_get_u64(m, 7, &b) == 0 && fix_get_u64(m, 16, &en) == 0)
                resend(fg, s, c, b, en);
        }
        if (!s->resend_until)
            resend_request(fg, s, seq);
        return 0;
    }
    if (seq < s->st.next_in) {
        if (possdup)
            return 0;
        char why[96];
        snprintf(why, sizeof why, "MsgSeqNum too low, expecting %llu but received %llu",
                 (unsigned long long)s->st.next_in, (unsigned long long)seq);
        logout(fg, s, c, why);
        return -1;
    }
    s->st.next_in++;
    if (s->resend_until && s->st.next_in > s->resend_until)
        s->resend_until = 0;
    fixs_touched(fg, s);
    if (parsed != 0) {
        session_reject(fg, s, seq, m, e->reason, e->ref_tag, e->text);
        return 0;
    }
    if (!fix_is(m, 49, s->name) || !fix_is(m, 56, g->cfg->fix_comp_id)) {
        session_reject(fg, s, seq, m, FIX_R_COMPID, fix_is(m, 49, s->name) ? 56 : 49, "CompID problem");
        logout(fg, s, c, "CompID problem");
        return -1;
    }
    size_t sl;
    if (!fix_get(m, 52, &sl)) {
        session_reject(fg, s, seq, m, FIX_R_REQUIRED_MISSING, 52, "Required tag missing");
        return 0;
    }
    if (possdup && !fix_get(m, 122, &sl)) {
        session_reject(fg, s, seq, m, FIX_R_REQUIRED_MISSING, 122, "Required tag missing");
        return 0;
    }
    if (!strcmp(type, "0"))
        return 0;
    if (!strcmp(type, "1")) {
        size_t il;
        const char *id = fix_get(m, 112, &il);
        if (!id)
            session_reject(fg, s, seq, m, FIX_R_REQUIRED_MISSING, 112, "Required tag missing");
        else
            heartbeat(fg, s, id, il);
        return 0;
    }
    if (!strcmp(type, "2")) {
        uint64_t b, en;
        if (fix_get_u64(m, 7, &b) != 0)
            session_reject(fg, s, seq, m, FIX_R_REQUIRED_MISSING, 7, "BeginSeqNo missing or not a number");
        else if (fix_get_u64(m, 16, &en) != 0)
            session_reject(fg, s, seq, m, FIX_R_REQUIRED_MISSING, 16, "EndSeqNo missing or not a number");
        else
            resend(fg, s, c, b, en);
        return 0;
    }
    if (!strcmp(type, "3"))
        return 0;
    if (!strcmp(type, "4")) {
        uint64_t to;
        if (fix_get_u64(m, 36, &to) != 0 || to <= seq)
            session_reject(fg, s, seq, m, FIX_R_BAD_VALUE, 36,
                           "NewSeqNo must be above the message's MsgSeqNum");
        else
            s->st.next_in = to;
        fixs_touched(fg, s);
        return 0;
    }
    if (!strcmp(type, "5")) {
        if (fix_of(c)->logout) {
            gw_log_conn(g, c, "FIX logout confirmed");
            c->closing = 1;
            conn_put(g, c, NULL, 0);
        } else {
            logout(fg, s, c, NULL);
        }
        return -1;
    }
    if (!strcmp(type, "A")) {
        logout(fg, s, c, "a second Logon on a logged-on session");
        return -1;
    }
    if (!strcmp(type, "D") || !strcmp(type, "F") || !strcmp(type, "G") || !strcmp(type, "H")) {
        fg->possdup = (uint8_t)possdup;
        fixa_message(fg, s, c, m, type);
        fg->possdup = 0;
        return c->closing ? -1 : 0;
    }
    if (known_type(t, tl))
        business_reject(fg, s, seq, t, tl, 3, "Unsupported Message Type");
    else
        session_reject(fg, s, seq, m, FIX_R_BAD_MSGTYPE, 35, "Invalid MsgType");
    return 0;
}

/* One framed message; 0 to go on, -1 when c stopped taking input. */
static int on_message(gateway *g, conn *c, const char *p, size_t n)
{
    fix_msg m;
    fix_error e;
    int parsed = fix_parse(p, n, &m, &e);
    if (c->state == C_OPEN)
        return on_logon(g, c, &m, parsed, &e);
    fix_gw *fg = fg_of(g, c);
    fix_sess *s = sess_at(fg, c->user);
    if (!s || fixs_live_conn(fg, s) != c) {
        conn_close(g, c, "FIX message on a connection that is not the session's");
        return -1;
    }
    if (s->closing)
        return 0; /* our Logout waits for its mark: nothing more is read */
    fg->local = 1;
    on_session_msg(fg, s, c, &m, parsed, &e);
    fg->local = 0;
    return c->state == C_LIVE && !c->closing ? 0 : -1;
}

static size_t fix_bytes(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t skip;
        const char *why;
        long r = fix_frame((const char *)buf + off, n - off, FIX_IN_MAX, &skip, &why);
        if (r == FIX_MORE)
            break;
        if (r == FIX_FATAL) {
            gw_log_conn(g, c, "FIX stream unreadable: %s", why);
            conn_close(g, c, why);
            return n;
        }
        if (r == FIX_GARBLED) {
            gw_log_conn(g, c, "FIX message ignored: %s", why);
            off += skip;
            continue;
        }
        const char *p = (const char *)buf + off;
        off += (size_t)r;
        if (on_message(g, c, p, (size_t)r) != 0)
            break;
    }
    return off;
}

static void fix_tick(gateway *g, conn *c)
{
    if (c->state != C_LIVE || c->closing)
        return;
    fix_gw *fg = fg_of(g, c);
    fix_sess *s = sess_at(fg, c->user);
    if (!s || fixs_live_conn(fg, s) != c)
        return;
    fix_conn *fc = fix_of(c);
    int64_t hb = (int64_t)fc->hb_s * 1000000000LL;
    if (s->qlen && g->now - s->mark_ns > 10000000000LL) {
        /* a mark not back in 10 s (a log that refuses): the session cannot number what it sends */
        conn_close(g, c, "FIX: the log did not take the session's messages");
        return;
    }
    if (s->closing)
        return;
    fg->local = 1;
    if (!s->qlen && g->now - c->last_send_ns >= hb)
        heartbeat(fg, s, NULL, 0);
    int64_t quiet = hb + hb / 5, cap = (int64_t)g->cfg->heartbeat_timeout_ms * 500000LL;
    if (quiet > cap)
        quiet = cap;
    int64_t since_open_ms = (g->now - c->opened_ns) / 1000000 + 1;
    if (!fc->treq_ms && g->now - c->last_recv_ns > quiet) {
        char buf[FIX_OUT_MAX], id[24];
        fix_writer w;
        fixs_begin(fg, s, &w, buf, "1");
        int k = snprintf(id, sizeof id, "T%lld", (long long)since_open_ms);
        fix_put(&w, 112, id, (size_t)k);
        fixs_send(fg, s, &w, 0);
        fc->treq_ms = (uint32_t)since_open_ms;
    } else if (fc->treq_ms && (since_open_ms - fc->treq_ms) * 1000000LL > hb) {
        logout(fg, s, c, "TestRequest not answered");
    }
    /* The inbound number in the log at most once a HeartBtInt, so that a
     * node taking over asks for a resend of no more than that (fixsess in). */
    if (s->open && !s->closing && s->st.next_in != s->in_marked && g->now - s->mark_ns >= hb)
        fixs_submit_mark(fg, s, c, BOURSE_FIXSESS_IN, 0);
    fg->local = 0;
}

static void fix_stop(gateway *g, conn *c)
{
    if (c->state != C_LIVE || c->closing)
        return;
    fix_gw *fg = fg_of(g, c);
    fix_sess *s = sess_at(fg, c->user);
    if (s && fixs_live_conn(fg, s) == c && !s->closing) {
        fg->local = 1;
        logout(fg, s, c, "the venue is closing");
        fg->local = 0;
    }
}

/* Cancel-on-disconnect ([fix] cancel_on_disconnect = USER... or *): when
 * the logged-on connection of such a user's session closes, for any reason
 * but the server stopping (orders outlive a restart), the adapter sends the
 * exchange a `cancelall` for the user; the cancels reach the session as
 * ExecutionReports kept for its next Logon. */
static void fix_close(gateway *g, conn *c)
{
    fix_gw *fg = fg_of(g, c);
    fix_sess *s = sess_at(fg, c->user);
    if (!s || s->conn != (uint32_t)(c - g->conns) || s->gen != c->gen)
        return;
    if (s->open && s->st.next_in != s->in_marked) /* where the client's numbers stopped, for the next node */
        fixs_submit_mark(fg, s, c, BOURSE_FIXSESS_IN, 0);
    s->conn = NO_CONN;
    s->closing = 0;
    const char *list = g->cfg->fix_cod;
    if (atomic_load(&g->s->stop) || !(is_dropcopy(list, "*") || is_dropcopy(list, c->name)))
        return;
    bourse_cmd cmd = {.type = BOURSE_CMD_CANCELALL, .user = c->user, .symbol = BOURSE_NONE};
    memcpy(cmd.user_name.s, c->name, BOURSE_NAME_LEN);
    gw_submit(g, c, IN_CMD, &cmd);
    gw_log_conn(g, c, "FIX cancel-on-disconnect: the open orders of %s are canceled", c->name);
}

static void fix_event(gateway *g, void *st, const srv_out *o)
{
    (void)g;
    if (o->kind == OUT_EVENT && o->ev.type == BOURSE_EV_OK)
        fixs_mark_event(st, o);
    else
        fixa_event(st, o);
}

static void *fix_gw_new(gateway *g, uint32_t idx)
{
    fix_gw *fg = calloc(1, sizeof *fg);
    if (fg) {
        fg->g = g;
        fg->proto = idx;
        randombytes_buf(&fg->nonce, sizeof fg->nonce);
        fg->nonce = (fg->nonce & ((1ULL << 30) - 1)) << 32; /* tags stay positive int64s */
    }
    return fg;
}

static void fix_gw_free(gateway *g, void *st)
{
    (void)g;
    fix_gw *fg = st;
    for (uint32_t i = 0; i < fg->nsess; i++) {
        if (fg->sess[i].open)
            fix_store_close(&fg->sess[i].st);
        free(fg->sess[i].q);
        free(fg->sess[i].ids);
    }
    free(fg->sess);
    free(fg->dirty);
    fixa_free(fg);
    free(fg);
}

static uint32_t fix_part_max(const srv_config *cfg)
{
    (void)cfg;
    return FIX_IN_MAX;
}

static uint32_t fix_output_max(const srv_config *cfg)
{
    return cfg->max_output;
}

const gw_proto proto_fix = {
    .name = "FIX",
    .logs_in = 1,
    .part_max = fix_part_max,
    .output_max = fix_output_max,
    .gw_new = fix_gw_new,
    .gw_free = fix_gw_free,
    .on_bytes = fix_bytes,
    .on_live = fix_live,
    .refusal = fix_refusal,
    .on_event = fix_event,
    .on_tick = fix_tick,
    .on_stop = fix_stop,
    .on_close = fix_close,
    .on_flush = fix_flush,
};
