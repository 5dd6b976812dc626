/*
 * json.h - just enough JSON to read a WebSocket subscriber's requests: one
 * flat object of string, number, true/false/null values.  Everything else
 * (nesting, long values, bad escapes, trailing bytes) is refused with a
 * short reason.  The input is hostile: no recursion, no allocation.
 */
#ifndef BOURSE_FEED_JSON_H
#define BOURSE_FEED_JSON_H

#include <stddef.h>

#define JSON_KEY 24
#define JSON_VAL 40
#define JSON_PAIRS 8

typedef struct json_pair {
    char key[JSON_KEY];
    char val[JSON_VAL]; /* strings unescaped; other values as written */
    int is_string;
} json_pair;

/* Returns the number of pairs, or -1 with *why set. */
int json_flat(const char *s, size_t n, json_pair *out, int max, const char **why);

/* The value of key, or NULL. */
const json_pair *json_get(const json_pair *p, int n, const char *key);

/* Write s as a JSON string body (no quotes) into out; returns its length. */
size_t json_escape(const char *s, size_t n, char *out, size_t cap);

#endif
