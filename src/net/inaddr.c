/*
 * inaddr.c - "A.B.C.D:PORT" to a sockaddr_in (inaddr.h).
 *
 * inet_pton() takes the address (it refuses names: a configuration is
 * never resolved through DNS behind the operator's back), and the port is
 * read digit by digit, since strtoul() would take a sign, spaces or a
 * hexadecimal prefix.
 */
#include "net/inaddr.h"

#include <arpa/inet.h>
#include <string.h>

int mold_addr_parse(const char *s, struct sockaddr_in *out, const char **why)
{
    const char *colon = strrchr(s, ':');
    char host[INET_ADDRSTRLEN];
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
        return (*why = "not ADDR:PORT", -1);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
        return (*why = "not an IPv4 address", -1);
    unsigned long port = 0;
    const char *d = colon + 1;
    if (!*d || strlen(d) > 5)
        return (*why = "port not 1-65535", -1);
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return (*why = "port not 1-65535", -1);
        port = port * 10 + (unsigned long)(*d - '0');
    }
    if (port < 1 || port > 65535)
        return (*why = "port not 1-65535", -1);
    out->sin_port = htons((uint16_t)port);
    return 0;
}
