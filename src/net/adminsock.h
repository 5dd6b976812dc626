/*
 * adminsock.h - the client end of a running server's admin socket,
 * DIR/admin.sock (a Unix stream socket; the server's end is in
 * src/server/server.c).  `bourse admin` and the load generator both set up
 * users and money through it, so the connecting lives here, once.
 */
#ifndef BOURSE_NET_ADMINSOCK_H
#define BOURSE_NET_ADMINSOCK_H

/* Connect to DIR/admin.sock: the descriptor, or -1 after printing why
 * ("bourse: admin: cannot connect ...") on stderr. */
int admin_connect(const char *dir);

#endif
