/*
 * jweak.h - the journal's functions, referenced weakly.
 *
 * The server is built and tested while the journal is written alongside it:
 * with these declarations weak, a binary without the journal sources links
 * and runs without a journal (acknowledging on apply, durability `none`),
 * and one with it uses it.  srv_init() says which in the log.
 */
#ifndef BOURSE_SERVER_JWEAK_H
#define BOURSE_SERVER_JWEAK_H

#include "journal/journal.h"

/* Weak only while the journal's sources are absent: a weak reference alone
 * would not pull journal.o out of libbourse-shell.a. */
#if !__has_include("../journal/journal.c")
#pragma weak journal_open
#pragma weak journal_recovered
#pragma weak journal_append
#pragma weak journal_last_seq
#pragma weak journal_durable_seq
#pragma weak journal_notify_fd
#pragma weak journal_wait_durable
#pragma weak journal_snapshot
#pragma weak journal_snapshot_seq
#pragma weak journal_error
#pragma weak journal_close
#define SRV_JOURNAL_LINKED (journal_open != 0)
#else
#define SRV_JOURNAL_LINKED 1
#endif

#endif
