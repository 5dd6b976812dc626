/*
 * inaddr.h - the one syntax of an IPv4 address with a port, "A.B.C.D:PORT",
 * as the configuration ([feed] udp addresses) and the UDP feed and its
 * client take it.  The server's config checks an address with the same
 * function that the feed later uses, so a value that passes the check
 * cannot fail at start-up.  (Named mold_addr_parse for its first user, the
 * MoldUDP64 feed; the name is kept so that other branches still merge.)
 */
#ifndef BOURSE_NET_INADDR_H
#define BOURSE_NET_INADDR_H

#include <netinet/in.h>

/* "A.B.C.D:PORT" (IPv4, port 1-65535): 0, or -1 with a reason. */
int mold_addr_parse(const char *s, struct sockaddr_in *out, const char **why);

#endif
