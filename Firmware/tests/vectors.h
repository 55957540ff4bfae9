/* Reads Tests/Vectors/protocol-v1.txt and protocol-v2.txt (format: Docs/PROTOCOL.md sections 9
 * and 11). */
#ifndef NX_VECTORS_H
#define NX_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX_CASES 512
#define VEC_MAX_LINES 16

typedef struct {
    const char *keyword;
    const char *rest; /* the line after the keyword and one space */
} vec_line;

typedef struct {
    const char *name;
    int line_count;
    vec_line lines[VEC_MAX_LINES];
} vec_case;

/** Loads the file; returns the number of cases, or -1 with a message on stderr. */
int vec_load(const char *path, vec_case *cases, int max_cases);
/** The rest of the first line with this keyword, or NULL. */
const char *vec_get(const vec_case *c, const char *keyword);
/** Parses "aa bb cc" into out; returns the byte count or -1. */
int vec_hex(const char *text, uint8_t *out, size_t cap);

/** Formats a checked packet the way `message` lines are written. Returns the length. */
int vec_format_message(const uint8_t *packet, uint16_t len, char *out, size_t cap);
/** The vector name of a decoder or packet-check failure. */
const char *vec_decode_error_name(int dec_result);
const char *vec_error_code_name(uint8_t code);

#endif
