/*
 * loop.c - the event loop under libwebsockets: libuv (epoll) when it can be
 * had, else libwebsockets' own poll().
 *
 * Why: every socket the feed thread serves (the HTTP API, private and
 * market-data WebSockets, binary subscribers, the UDP request port, the
 * link carrier's eventfd) sits in one libwebsockets context, and the feed
 * thread turns it often: every SERVE_US under load and in every doze
 * (feed.c).  With poll() a turn costs what is open: the kernel walks every
 * descriptor (with 10,000 users holding a private WebSocket, 65% of the
 * server's samples were in poll(), sock_poll and tcp_poll, and trades ran at
 * 9/s).  With epoll a turn costs what is ready.
 *
 * Debian's libwebsockets loads its libuv support as a plugin
 * (libwebsockets-evlib_uv.so) when the context asks for it.  The loop is
 * ours ("foreign" to libwebsockets): made here, turned by the feed thread
 * with UV_RUN_NOWAIT where it served without waiting and UV_RUN_ONCE where
 * it blocks, so that feed.c's design (drain the ring in batches, doze, then
 * block until the engine's lws_cancel_service) stays as it was:
 * lws_cancel_service writes libwebsockets' own pipe, which is one of the
 * loop's descriptors, and lws_sul timers are a uv timer.  lws_service() is
 * never called on a libuv context (it would run the loop until stopped).
 *
 * When the plugin cannot be loaded (libwebsockets17 without
 * libwebsockets-evlib-uv), or [server] event_loop = poll, the context runs
 * on poll() as before, and one log line says so.  Closing: libuv closes
 * handles asynchronously, so after lws_context_destroy the loop runs until
 * libwebsockets' handles are closed, lws_context_destroy is called again
 * (on a foreign loop the first call only starts the close), and only then
 * is the loop closed and freed.
 *
 * One library quirk shows on libuv only: Debian's libwebsockets is built
 * with _DEBUG, and then a connection whose callback returned -1 is closed a
 * second time at once, which drops a WebSocket close frame queued by the
 * first (src/http/userws.c closes from a timer instead).
 */
#include "feed/feed_int.h"

#include <stdlib.h>
#include <uv.h>

/* The context on a libuv loop of ours; NULL (quietly) when it cannot be. */
static struct lws_context *on_libuv(feed *f, const struct lws_context_creation_info *ci)
{
    uv_loop_t *uv = malloc(sizeof *uv);
    if (!uv || uv_loop_init(uv) != 0) {
        free(uv);
        return NULL;
    }
    void *loops[1] = {uv};
    struct lws_context_creation_info li = *ci;
    li.options |= LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    li.foreign_loops = loops;
    lws_set_log_level(0, NULL); /* a missing plugin is said once, below */
    struct lws_context *ctx = lws_create_context(&li);
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL); /* as feed_new set it */
    if (ctx)
        f->uv = uv;
    else if (uv_loop_close(uv) == 0)
        free(uv);
    return ctx;
}

struct lws_context *loop_context(feed *f, struct lws_context_creation_info *ci)
{
    struct lws_context *ctx = f->cfg.poll_loop ? NULL : on_libuv(f, ci);
    if (ctx)
        return ctx;
    /* If poll() works where libuv did not, the plugin was what failed;
     * if neither does, libwebsockets says why (a certificate, say). */
    ctx = lws_create_context(ci);
    if (ctx && !f->cfg.poll_loop)
        feed_log(f, "libwebsockets cannot run on libuv (is libwebsockets-evlib_uv.so, Debian "
                    "package libwebsockets-evlib-uv, installed?): serving sockets with poll(), whose cost "
                    "grows with every open connection");
    return ctx;
}

void loop_serve(feed *f)
{
    if (f->uv)
        uv_run(f->uv, UV_RUN_NOWAIT);
    else
        lws_service(f->ctx, -1);
}

void loop_wait(feed *f)
{
    if (f->uv)
        uv_run(f->uv, UV_RUN_ONCE);
    else
        lws_service(f->ctx, 0);
}

const char *feed_event_loop(const feed *f)
{
    return f->uv ? "libuv" : "poll";
}

void loop_free(feed *f)
{
    if (f->ctx)
        lws_context_destroy(f->ctx);
    if (!f->uv) {
        f->ctx = NULL;
        return;
    }
    /* libwebsockets' handles close through the loop (a few turns); never
     * UV_RUN_DEFAULT, which a handle left open would make wait for ever */
    for (int i = 0; i < 1000 && uv_run(f->uv, UV_RUN_NOWAIT); i++)
        ;
    /* On a foreign loop libwebsockets 4.1 frees the context only when
     * called again, once its handles have closed (LeakSanitizer sees it) */
    if (f->ctx)
        lws_context_destroy(f->ctx);
    f->ctx = NULL;
    if (uv_loop_close(f->uv) != 0) /* a handle still open points into it: leave it */
        feed_log(f, "the event loop still had handles open at exit");
    else
        free(f->uv);
    f->uv = NULL;
}
