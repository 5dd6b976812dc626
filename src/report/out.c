/*
 * out.c - a report's rows as an aligned table, CSV or JSON.
 *
 * A report is one or more sections (a title and typed columns); cells are
 * kept as text until the end, since a table's column widths are known only
 * then.  Types decide the spelling: integers as they are, amounts in
 * 1/10,000 units as shortest decimals (10.5; a JSON number), times as
 * ISO 8601 UTC with nanoseconds (a JSON string), empty cells as nothing,
 * "" in CSV and null in JSON.  CSV sections are separated by a blank line
 * and a "# title" line; JSON is one object whose keys are the sections.
 */
#include "bourse/text.h"
#include "report_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAXCOL = 24 };

typedef struct section {
    char title[64];
    int ncol;
    char names[MAXCOL][32];
    char kinds[MAXCOL];
    char **cells; /* NULL entries: null */
    size_t ncells, cap;
} section;

struct rout {
    FILE *f;
    int format;
    section *s;
    int n, cap;
    int oom;
};

rout *rout_new(FILE *f, int format)
{
    rout *o = calloc(1, sizeof *o);
    if (o) {
        o->f = f;
        o->format = format;
    }
    return o;
}

void rout_section(rout *o, const char *title, const char *cols)
{
    if (o->n == o->cap) {
        int n = o->cap ? o->cap * 2 : 4;
        section *s = realloc(o->s, (size_t)n * sizeof *s);
        if (!s) {
            o->oom = 1;
            return;
        }
        o->s = s;
        o->cap = n;
    }
    section *s = &o->s[o->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->title, sizeof s->title, "%s", title);
    const char *p = cols;
    while (*p && s->ncol < MAXCOL) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        size_t nl = colon ? (size_t)(colon - p) : len;
        snprintf(s->names[s->ncol], sizeof s->names[0], "%.*s", (int)nl, p);
        s->kinds[s->ncol] = colon ? colon[1] : 't';
        s->ncol++;
        p = end ? end + 1 : p + len;
    }
}

static void push(rout *o, char *cell)
{
    section *s = &o->s[o->n - 1];
    if (s->ncells == s->cap) {
        size_t n = s->cap ? s->cap * 2 : 64;
        char **c = realloc(s->cells, n * sizeof *c);
        if (!c) {
            free(cell);
            o->oom = 1;
            return;
        }
        s->cells = c;
        s->cap = n;
    }
    s->cells[s->ncells++] = cell;
}

void rout_text(rout *o, const char *t)
{
    push(o, t ? strdup(t) : NULL);
}

void rout_null(rout *o)
{
    push(o, NULL);
}

void rout_int(rout *o, int64_t v)
{
    section *s = &o->s[o->n - 1];
    char buf[64];
    char kind = s->kinds[s->ncells % (size_t)s->ncol];
    if (kind == 'd') {
        buf[bourse_text_decimal(v, buf)] = 0;
    } else if (kind == 's') {
        time_t t = (time_t)(v / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, sizeof buf - n, ".%09lldZ", (long long)(v % 1000000000));
    } else {
        snprintf(buf, sizeof buf, "%lld", (long long)v);
    }
    push(o, strdup(buf));
}

void rout_end_row(rout *o)
{
    (void)o;
}

int rout_stmt(rout *o, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        for (int i = 0; i < n; i++) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                rout_null(o);
            else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
                rout_int(o, sqlite3_column_int64(st, i));
            else
                rout_text(o, (const char *)sqlite3_column_text(st, i));
        }
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

static int numeric(char kind)
{
    return kind == 'i' || kind == 'd';
}

static void csv_cell(FILE *f, const char *c)
{
    if (!c)
        return;
    if (!strpbrk(c, ",\"\n\r")) {
        fputs(c, f);
        return;
    }
    fputc('"', f);
    for (; *c; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    fputc('"', f);
}

static void json_str(FILE *f, const char *c)
{
    fputc('"', f);
    for (; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void print_table(rout *o, const section *s)
{
    size_t w[MAXCOL];
    for (int c = 0; c < s->ncol; c++)
        w[c] = strlen(s->names[c]);
    for (size_t i = 0; i < s->ncells; i++) {
        size_t len = s->cells[i] ? strlen(s->cells[i]) : 0;
        if (len > w[i % (size_t)s->ncol])
            w[i % (size_t)s->ncol] = len;
    }
    fprintf(o->f, "%s\n", s->title);
    for (int c = 0; c < s->ncol; c++)
        fprintf(o->f, c + 1 < s->ncol ? "%-*s  " : "%-*s",
                (int)(c + 1 < s->ncol || numeric(s->kinds[c]) ? w[c] : 0), s->names[c]);
    fputc('\n', o->f);
    for (size_t i = 0; i < s->ncells; i++) {
        int c = (int)(i % (size_t)s->ncol);
        const char *v = s->cells[i] ? s->cells[i] : "";
        int last = c + 1 == s->ncol;
        if (numeric(s->kinds[c]))
            fprintf(o->f, "%*s", (int)w[c], v);
        else
            fprintf(o->f, "%-*s", last ? 0 : (int)w[c], v);
        fputs(last ? "\n" : "  ", o->f);
    }
    if (!s->ncells)
        fputs("(none)\n", o->f);
}

int rout_finish(rout *o)
{
    if (o->format == REPORT_JSON)
        fputs("{", o->f);
    for (int k = 0; k < o->n; k++) {
        const section *s = &o->s[k];
        if (o->format == REPORT_TABLE) {
            if (k)
                fputc('\n', o->f);
            print_table(o, s);
        } else if (o->format == REPORT_CSV) {
            if (o->n > 1)
                fprintf(o->f, "%s# %s\n", k ? "\n" : "", s->title);
            for (int c = 0; c < s->ncol; c++)
                fprintf(o->f, "%s%s", c ? "," : "", s->names[c]);
            fputc('\n', o->f);
            for (size_t i = 0; i < s->ncells; i++) {
                csv_cell(o->f, s->cells[i]);
                fputc((i + 1) % (size_t)s->ncol ? ',' : '\n', o->f);
            }
        } else {
            fprintf(o->f, "%s\n  ", k ? "," : "");
            json_str(o->f, s->title);
            fputs(": [", o->f);
            for (size_t i = 0; i < s->ncells; i++) {
                int c = (int)(i % (size_t)s->ncol);
                if (c == 0)
                    fprintf(o->f, "%s\n    {", i ? "," : "");
                else
                    fputs(", ", o->f);
                json_str(o->f, s->names[c]);
                fputs(": ", o->f);
                const char *v = s->cells[i];
                if (!v)
                    fputs("null", o->f);
                else if (numeric(s->kinds[c]))
                    fputs(v, o->f);
                else
                    json_str(o->f, v);
                if (c + 1 == s->ncol)
                    fputc('}', o->f);
            }
            fputs(s->ncells ? "\n  ]" : "]", o->f);
        }
    }
    if (o->format == REPORT_JSON)
        fputs("\n}\n", o->f);
    int bad = o->oom || ferror(o->f);
    for (int k = 0; k < o->n; k++) {
        for (size_t i = 0; i < o->s[k].ncells; i++)
            free(o->s[k].cells[i]);
        free(o->s[k].cells);
    }
    free(o->s);
    free(o);
    return bad ? -1 : 0;
}
