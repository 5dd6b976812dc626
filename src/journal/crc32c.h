/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of journal records and
 * snapshots.  It has hardware support on x86 (SSE4.2 `crc32`) and better
 * error detection than CRC-32 for short messages.
 */
#ifndef BOURSE_JOURNAL_CRC32C_H
#define BOURSE_JOURNAL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend `crc` (0 to start) over n bytes; crc32c(0, "123456789", 9) is
 * 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t n);

/* The portable table version, for tests against the hardware one. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t n);

#endif
