/*
 * adminsock.h - the client end of a running server's admin socket,
 * DIR/admin.sock (a Unix stream socket; the server's end is in
 * src/server/server.c).  `bourse admin` and the load generator both set up
 * users and money through it, so the connecting lives here, once.
 */
#ifndef BOURSE_NET_ADMINSOCK_H
#define BOURSE_NET_ADMINSOCK_H

#include <stddef.h>

/* Connect to DIR/admin.sock: the descriptor, or -1 after printing why
 * ("bourse: admin: cannot connect ...") on stderr (quiet: nothing). */
int admin_connect(const char *dir);
int admin_connect_quiet(const char *dir);

/*
 * The admin socket's questions, lines that are no command of the replay
 * format: `symbols`, `users`, `sessions`, `orders USER`, `account USER`, `metrics` (the
 * Prometheus text of docs/metrics.md, as GET /metrics serves it).
 * The server answers them from its state without journaling them; the
 * client must know them too, since it checks every line before sending.
 * Returns the question (its user, NUL-terminated, in user) or 0 when the
 * line is none.
 */
enum admin_question {
    ADMIN_Q_SYMBOLS = 1,
    ADMIN_Q_USERS,
    ADMIN_Q_SESSIONS,
    ADMIN_Q_ORDERS,
    ADMIN_Q_ACCOUNT,
    ADMIN_Q_METRICS
};
int admin_question(const char *line, size_t len, char user[17]);

#endif
