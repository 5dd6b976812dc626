/*
 * test_httpresp.c - the strict HTTP response reader (net/httpresp.h) that
 * the HTTP load generator reads the server's answers with: whole
 * responses, responses in pieces (every split point), two on one
 * buffer, and each kind of hostile or broken input refused with a reason
 * rather than guessed at (no length, two lengths, chunked, garbage, a
 * length past the buffer, endless headers, a length that would overflow).
 */
#include "check.h"
#include "net/httpresp.h"

#include <string.h>

static int parse(const char *s, size_t cap, httpresp *h, const char **why)
{
    return httpresp_parse(s, strlen(s), cap, h, why);
}

static void whole_and_split(void)
{
    const char *s = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 19\r\n\r\n"
                    "{\"order_id\":\"x1\"}\n\n";
    httpresp h;
    const char *why;
    CHECK_EQ(parse(s, 4096, &h, &why), 1);
    CHECK_EQ(h.status, 201);
    CHECK_EQ(h.blen, 19);
    CHECK_EQ(h.hlen + h.blen, strlen(s));
    CHECK(!memcmp(h.body, "{\"order_id\"", 11));
    size_t n;
    const char *ct = httpresp_header(s, &h, "Content-Type", &n);
    CHECK(ct && n == 16 && !memcmp(ct, "application/json", 16));
    CHECK(httpresp_header(s, &h, "X-None", &n) == NULL);
    int bad = 0;
    for (size_t k = 0; k < strlen(s); k++) /* every prefix: wait for more */
        if (httpresp_parse(s, k, 4096, &h, &why) != 0)
            bad++;
    CHECK_EQ(bad, 0);
    /* two answers back to back: the first ends where the second starts */
    char two[512];
    snprintf(two, sizeof two, "%s%s", "HTTP/1.1 204 No Content\r\n\r\n", s);
    CHECK_EQ(parse(two, sizeof two, &h, &why), 1);
    CHECK_EQ(h.status, 204);
    CHECK_EQ(h.hlen + h.blen, 27);
    CHECK_EQ(httpresp_parse(two + 27, strlen(two) - 27, 4096, &h, &why), 1);
    CHECK_EQ(h.status, 201);
}

static void error_code(void)
{
    const char *s = "HTTP/1.1 429 Too Many\r\nContent-Length: 61\r\n\r\n"
                    "{\"error\":{\"code\":\"RATE_LIMITED\",\"message\":\"slow down please\"}}";
    httpresp h;
    const char *why;
    CHECK_EQ(parse(s, 4096, &h, &why), 1);
    char code[32];
    httpresp_error_code(&h, code, sizeof code);
    CHECK(!strcmp(code, "RATE_LIMITED"));
    char small[5];
    httpresp_error_code(&h, small, sizeof small);
    CHECK(!strcmp(small, "RATE"));
    /* a code with hostile characters stops at the first one */
    const char *t = "HTTP/1.1 400 Bad\r\nContent-Length: 27\r\n\r\n{\"error\":{\"code\":\"AB\\\"<x\"}}";
    CHECK_EQ(parse(t, 4096, &h, &why), 1);
    httpresp_error_code(&h, code, sizeof code);
    CHECK(!strcmp(code, "AB"));
    const char *u = "HTTP/1.1 500 X\r\nContent-Length: 2\r\n\r\n{}";
    CHECK_EQ(parse(u, 4096, &h, &why), 1);
    httpresp_error_code(&h, code, sizeof code);
    CHECK(!strcmp(code, ""));
}

static void hostile_refused(void)
{
    static const char *const bad[] = {
        "garbage\r\n\r\n",
        "HTTX/1.1 200 OK\r\n",
        "HTTP/2 200\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 600 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",                                             /* no length */
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab", /* smuggling */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", /* past the buffer (4096) */
        "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n",
    };
    int wrong = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        httpresp h;
        const char *why = NULL;
        if (parse(bad[i], 4096, &h, &why) != -1 || !why || !*why) {
            printf("FAIL hostile_refused: #%zu taken\n", i);
            wrong++;
        }
    }
    CHECK_EQ(wrong, 0);
    /* a NUL inside a header name */
    static const char nul[] = "HTTP/1.1 200 OK\r\nX\0Y: 1\r\nContent-Length: 0\r\n\r\n";
    httpresp hn;
    const char *wn;
    CHECK_EQ(httpresp_parse(nul, sizeof nul - 1, 4096, &hn, &wn), -1);
    /* headers that never end: refused once past the limit, not waited for */
    static char big[HTTPRESP_HDR_MAX + 64];
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', sizeof big - 21);
    httpresp h;
    const char *why;
    CHECK_EQ(httpresp_parse(big, sizeof big - 1, sizeof big, &h, &why), -1);
    CHECK_EQ(httpresp_parse(big, 1000, sizeof big, &h, &why), 0); /* not yet */
    /* a short buffer that fills without a blank line */
    CHECK_EQ(httpresp_parse(big, 512, 512, &h, &why), -1);
}

int main(void)
{
    RUN(whole_and_split);
    RUN(error_code);
    RUN(hostile_refused);
    return CHECK_DONE();
}
