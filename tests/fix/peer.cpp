/*
 * tests/fix/peer.cpp - the FIX test initiator: a stock QuickFIX engine
 * (libquickfix, C++) with validation on against the FIX 4.4 dictionary,
 * driven by a script on stdin.  tests/sh/e2e_fix.sh runs it against a
 * server on free ports; docs/fix.md describes what each step checks.
 *
 *   usage: fix_peer PORT STOREDIR DICTIONARY < script
 *
 * Script lines (words split by spaces; '#' comments):
 *   logon U PW [reset] [target=ID]   log U on (SenderCompID and Username
 *                          U, TargetCompID BOURSE unless given); waits for
 *                          the Logon answer: "LOGON U" or "NOLOGON U"
 *   expect_logon U NAME / expect_nologon U NAME   the last logon's outcome
 *   logout U               Logout, wait for the disconnect
 *   order U ID SIDE SYM QTY PRICE|market TIF   NewOrderSingle (side 1/2,
 *                          TIF 0/1/3/4 or - for none)
 *   cancel U ID ORIG SIDE SYM                  OrderCancelRequest
 *   replace U ID ORIG SIDE SYM QTY PRICE       OrderCancelReplaceRequest
 *   status U ID SIDE SYM                       OrderStatusRequest
 *   raw U TYPE TAG=V...    an application message of any type and fields
 *   setseq U N             the next MsgSeqNum U sends (a gap, or too low)
 *   expect U NAME TAG=V... the next message U received (application or
 *                          session, skipping Heartbeats and TestRequests)
 *                          that has every TAG=V; "ok NAME" or "FAIL NAME"
 *                          after 5 s.  TAG~V: the value contains V.
 *   none U NAME            nothing but Heartbeats arrives for U in 1 s
 *   never U NAME TAG=V...  after 1 s, none of the messages U received and
 *                          no expect took yet has every TAG=V (kept)
 *   seqs U NAME IN OUT     U's next expected / next sent numbers are these
 *                          (a number, or >N), within 5 s
 *   sleep MS
 *   sh CMD...              run a shell command (an OUCH client, say)
 * Every message QuickFIX itself rejects (a Reject it sends because what
 * came fails validation) is a "FAIL validation" line.
 */
#include <quickfix/Application.h>
#include <quickfix/FileStore.h>
#include <quickfix/Log.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static std::mutex mu;
static std::condition_variable cv;

struct Peer {
    std::string user, pw;
    bool logged_on = false, disconnected = false, reset = false, last_logon_ok = false;
    std::deque<std::string> in; /* messages received, '|' for SOH */
    std::unique_ptr<FIX::SessionSettings> settings;
    std::unique_ptr<FIX::FileStoreFactory> store;
    std::unique_ptr<FIX::SocketInitiator> init;
};
static std::map<std::string, Peer> peers;
static int failures;

static std::string text(const FIX::Message &m)
{
    std::string s = m.toString();
    for (auto &c : s)
        if (c == '\001')
            c = '|';
    return s;
}

static Peer *of(const FIX::SessionID &id)
{
    auto it = peers.find(id.getSenderCompID().getValue());
    return it == peers.end() ? nullptr : &it->second;
}

struct App : FIX::Application {
    void onCreate(const FIX::SessionID &) override {}
    void onLogon(const FIX::SessionID &id) override
    {
        std::lock_guard<std::mutex> l(mu);
        if (Peer *p = of(id))
            p->logged_on = true;
        cv.notify_all();
    }
    void onLogout(const FIX::SessionID &id) override
    {
        std::lock_guard<std::mutex> l(mu);
        if (Peer *p = of(id)) {
            p->logged_on = false;
            p->disconnected = true;
        }
        cv.notify_all();
    }
    void toAdmin(FIX::Message &m, const FIX::SessionID &id) override
    {
        std::lock_guard<std::mutex> l(mu);
        Peer *p = of(id);
        if (m.getHeader().getField(35) == "A" && p) {
            m.setField(553, p->user);
            m.setField(554, p->pw);
        }
        if (m.getHeader().getField(35) == "3") {
            printf("FAIL validation: QuickFIX rejected a message of the venue: %s\n", text(m).c_str());
            failures++;
        }
    }
    void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
    void fromAdmin(const FIX::Message &m, const FIX::SessionID &id) throw(
        FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override
    {
        std::lock_guard<std::mutex> l(mu);
        if (Peer *p = of(id))
            p->in.push_back(text(m));
        cv.notify_all();
    }
    void fromApp(const FIX::Message &m, const FIX::SessionID &id) throw(
        FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override
    {
        std::lock_guard<std::mutex> l(mu);
        if (Peer *p = of(id))
            p->in.push_back(text(m));
        cv.notify_all();
    }
};

/* Only disconnects matter to the script; the rest goes to stderr when
 * FIX_PEER_LOG is set. */
struct EventLog : FIX::Log {
    std::string who;
    explicit EventLog(std::string w) : who(std::move(w)) {}
    void clear() override {}
    void backup() override {}
    void onIncoming(const std::string &s) override
    {
        if (getenv("FIX_PEER_LOG"))
            fprintf(stderr, "%s <- %s\n", who.c_str(), s.c_str());
    }
    void onOutgoing(const std::string &s) override
    {
        if (getenv("FIX_PEER_LOG"))
            fprintf(stderr, "%s -> %s\n", who.c_str(), s.c_str());
    }
    void onEvent(const std::string &s) override
    {
        if (getenv("FIX_PEER_LOG"))
            fprintf(stderr, "%s: %s\n", who.c_str(), s.c_str());
        if (s.find("Disconnecting") != std::string::npos || s.find("Connection failed") != std::string::npos ||
            s.find("Socket Error") != std::string::npos) {
            std::lock_guard<std::mutex> l(mu);
            auto it = peers.find(who);
            if (it != peers.end()) {
                it->second.disconnected = true;
                it->second.logged_on = false;
            }
            cv.notify_all();
        }
    }
};
struct EventLogFactory : FIX::LogFactory {
    FIX::Log *create() override { return new EventLog("-"); }
    FIX::Log *create(const FIX::SessionID &id) override { return new EventLog(id.getSenderCompID().getValue()); }
    void destroy(FIX::Log *l) override { delete l; }
};

static App app;
static EventLogFactory logs;
static std::string port, storedir, dict;

static std::map<std::string, std::string> targets;

static FIX::SessionID sid(const std::string &u)
{
    auto it = targets.find(u);
    return FIX::SessionID("FIX.4.4", u, it == targets.end() ? "BOURSE" : it->second);
}

static bool wait_for(std::unique_lock<std::mutex> &l, int ms, const std::function<bool()> &f)
{
    return cv.wait_for(l, std::chrono::milliseconds(ms), f);
}

static void logon(const std::string &u, const std::string &pw, bool reset, const std::string &target)
{
    Peer &p = peers[u];
    if (p.init) {
        p.init->stop(true);
        p.init.reset();
    }
    p.user = u;
    p.pw = pw;
    p.reset = reset;
    p.logged_on = p.disconnected = false;
    p.in.clear();
    FIX::Dictionary d;
    d.setString("ConnectionType", "initiator");
    d.setString("BeginString", "FIX.4.4");
    d.setString("SenderCompID", u);
    d.setString("TargetCompID", target);
    d.setString("SocketConnectHost", "127.0.0.1");
    d.setString("SocketConnectPort", port);
    d.setString("StartTime", "00:00:00");
    d.setString("EndTime", "00:00:00");
    d.setString("HeartBtInt", "30");
    d.setString("ReconnectInterval", "600");
    d.setString("FileStorePath", storedir);
    d.setString("UseDataDictionary", "Y");
    d.setString("DataDictionary", dict);
    d.setString("ValidateUserDefinedFields", "Y");
    d.setString("ResetOnLogon", reset ? "Y" : "N");
    p.settings.reset(new FIX::SessionSettings());
    p.settings->set(sid(u), d);
    p.store.reset(new FIX::FileStoreFactory(*p.settings));
    p.init.reset(new FIX::SocketInitiator(app, *p.store, *p.settings, logs));
    p.init->start();
    std::unique_lock<std::mutex> l(mu);
    wait_for(l, 8000, [&] { return p.logged_on || p.disconnected; });
    p.last_logon_ok = p.logged_on;
    printf("%s %s\n", p.logged_on ? "LOGON" : "NOLOGON", u.c_str());
}

static void stop(const std::string &u)
{
    Peer &p = peers[u];
    if (!p.init)
        return;
    p.init->stop(false); /* sends Logout, waits for the answer or its timeout */
    p.init.reset();
    std::lock_guard<std::mutex> l(mu);
    p.logged_on = false;
}

static bool send(const std::string &u, FIX::Message &m)
{
    try {
        return FIX::Session::sendToTarget(m, sid(u));
    } catch (std::exception &e) {
        printf("FAIL send: %s\n", e.what());
        failures++;
        return false;
    }
}

static FIX::Message app_msg(const std::string &type)
{
    FIX::Message m;
    m.getHeader().setField(8, "FIX.4.4");
    m.getHeader().setField(35, type);
    return m;
}

static bool matches(const std::string &msg, const std::vector<std::string> &want)
{
    for (auto &w : want) {
        size_t eq = w.find_first_of("=~");
        std::string tag = w.substr(0, eq), val = w.substr(eq + 1);
        std::string key = "|" + tag + "=";
        size_t at = ("|" + msg).find(key);
        if (at == std::string::npos)
            return false;
        size_t v0 = at + key.size() - 1, v1 = msg.find('|', v0);
        std::string got = msg.substr(v0, v1 - v0);
        if (w[eq] == '=' ? got != val : got.find(val) == std::string::npos)
            return false;
    }
    return true;
}

static bool chatter(const std::string &m)
{
    return matches(m, {"35=0"}) || matches(m, {"35=1"});
}

static void expect(const std::string &u, const std::string &name, const std::vector<std::string> &want)
{
    Peer &p = peers[u];
    std::unique_lock<std::mutex> l(mu);
    std::vector<std::string> skipped;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        while (!p.in.empty()) {
            std::string m = p.in.front();
            p.in.pop_front();
            if (matches(m, want)) {
                printf("ok fix_%s\n", name.c_str());
                return;
            }
            if (!chatter(m))
                skipped.push_back(m);
        }
        if (cv.wait_until(l, deadline) == std::cv_status::timeout && p.in.empty())
            break;
    }
    std::string w;
    for (auto &x : want)
        w += x + " ";
    printf("FAIL fix_%s: no message to %s with %s(got %zu others%s%s)\n", name.c_str(), u.c_str(), w.c_str(),
           skipped.size(), skipped.empty() ? "" : ", last: ", skipped.empty() ? "" : skipped.back().c_str());
    failures++;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fix_peer PORT STOREDIR DICTIONARY < script\n");
        return 2;
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);
    port = argv[1];
    storedir = argv[2];
    dict = argv[3];
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream ws(line);
        std::vector<std::string> w;
        std::string x;
        while (ws >> x)
            w.push_back(x);
        if (w.empty() || w[0][0] == '#')
            continue;
        const std::string &c = w[0];
        auto need = [&](size_t n) {
            if (w.size() < n) {
                printf("FAIL script: '%s' needs %zu words\n", line.c_str(), n);
                failures++;
                return false;
            }
            return true;
        };
        if (c == "logon" && need(3)) {
            bool reset = false;
            std::string target = "BOURSE";
            for (size_t i = 3; i < w.size(); i++)
                if (w[i] == "reset")
                    reset = true;
                else if (w[i].rfind("target=", 0) == 0)
                    target = w[i].substr(7);
            targets[w[1]] = target;
            logon(w[1], w[2], reset, target);
        } else if ((c == "expect_logon" || c == "expect_nologon") && need(3)) {
            bool want = c == "expect_logon";
            if (peers[w[1]].last_logon_ok == want) {
                printf("ok fix_%s\n", w[2].c_str());
            } else {
                printf("FAIL fix_%s: logon of %s %s\n", w[2].c_str(), w[1].c_str(),
                       want ? "failed" : "succeeded");
                failures++;
            }
        } else if (c == "logout" && need(2)) {
            stop(w[1]);
        } else if (c == "order" && need(8)) {
            FIX::Message m = app_msg("D");
            m.setField(11, w[2]);
            m.setField(55, w[4]);
            m.setField(54, w[3]);
            m.setField(FIX::TransactTime());
            m.setField(38, w[5]);
            if (w[6] == "market") {
                m.setField(40, "1");
            } else {
                m.setField(40, "2");
                m.setField(44, w[6]);
            }
            if (w[7] != "-")
                m.setField(59, w[7]);
            send(w[1], m);
        } else if (c == "cancel" && need(6)) {
            FIX::Message m = app_msg("F");
            m.setField(11, w[2]);
            m.setField(41, w[3]);
            m.setField(55, w[5]);
            m.setField(54, w[4]);
            m.setField(FIX::TransactTime());
            send(w[1], m);
        } else if (c == "replace" && need(8)) {
            FIX::Message m = app_msg("G");
            m.setField(11, w[2]);
            m.setField(41, w[3]);
            m.setField(55, w[5]);
            m.setField(54, w[4]);
            m.setField(FIX::TransactTime());
            m.setField(38, w[6]);
            m.setField(40, "2");
            m.setField(44, w[7]);
            send(w[1], m);
        } else if (c == "status" && need(5)) {
            FIX::Message m = app_msg("H");
            m.setField(11, w[2]);
            m.setField(55, w[4]);
            m.setField(54, w[3]);
            send(w[1], m);
        } else if (c == "raw" && need(3)) {
            FIX::Message m = app_msg(w[2]);
            for (size_t i = 3; i < w.size(); i++) {
                size_t eq = w[i].find('=');
                m.setField(atoi(w[i].substr(0, eq).c_str()), w[i].substr(eq + 1));
            }
            send(w[1], m);
        } else if (c == "setseq" && need(3)) {
            FIX::Session *s = FIX::Session::lookupSession(sid(w[1]));
            if (s)
                s->setNextSenderMsgSeqNum(atoi(w[2].c_str()));
        } else if (c == "expect" && need(4)) {
            expect(w[1], w[2], std::vector<std::string>(w.begin() + 3, w.end()));
        } else if (c == "none" && need(3)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1000));
            std::lock_guard<std::mutex> l(mu);
            Peer &p = peers[w[1]];
            std::string bad;
            for (auto &m : p.in)
                if (!chatter(m))
                    bad = m;
            p.in.clear();
            if (bad.empty()) {
                printf("ok fix_%s\n", w[2].c_str());
            } else {
                printf("FAIL fix_%s: %s got %s\n", w[2].c_str(), w[1].c_str(), bad.c_str());
                failures++;
            }
        } else if (c == "never" && need(4)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1000));
            std::lock_guard<std::mutex> l(mu);
            std::string bad;
            for (auto &m : peers[w[1]].in)
                if (matches(m, std::vector<std::string>(w.begin() + 3, w.end())))
                    bad = m;
            if (bad.empty()) {
                printf("ok fix_%s\n", w[2].c_str());
            } else {
                printf("FAIL fix_%s: %s got %s\n", w[2].c_str(), w[1].c_str(), bad.c_str());
                failures++;
            }
        } else if (c == "seqs" && need(5)) {
            /* QuickFIX counts a message in after the callback that queued it
             * returns: poll for up to 5 s. */
            auto ok = [](int v, const std::string &want) {
                return want[0] == '>' ? v > atoi(want.c_str() + 1) : v == atoi(want.c_str());
            };
            int in = -1, out = -1;
            for (int k = 0; k < 100; k++) {
                FIX::Session *s = FIX::Session::lookupSession(sid(w[1]));
                in = s ? s->getExpectedTargetNum() : -1, out = s ? s->getExpectedSenderNum() : -1;
                if (ok(in, w[3]) && ok(out, w[4]))
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            if (ok(in, w[3]) && ok(out, w[4])) {
                printf("ok fix_%s\n", w[2].c_str());
            } else {
                printf("FAIL fix_%s: %s expects %d, sends %d next\n", w[2].c_str(), w[1].c_str(), in, out);
                failures++;
            }
        } else if (c == "sh" && need(2)) {
            int rc = system(line.substr(line.find("sh") + 3).c_str());
            (void)rc;
        } else if (c == "sleep" && need(2)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(atoi(w[1].c_str())));
        } else if (c != "logon" && c != "expect_logon" && c != "expect_nologon") {
            printf("FAIL script: unknown or short line '%s'\n", line.c_str());
            failures++;
        }
    }
    for (auto &kv : peers)
        if (kv.second.init)
            kv.second.init->stop(true);
    return failures ? 1 : 0;
}
