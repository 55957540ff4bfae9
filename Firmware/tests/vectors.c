#include "vectors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nx_frame.h"
#include "nx_proto.h"

/* The texts of the files loaded last (one per vector file in use); cases point into them. */
#define VEC_TEXTS 4
static char *vec_texts[VEC_TEXTS];
static int vec_next_text;

int vec_load(const char *path, vec_case *cases, int max_cases)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open test vectors %s: run from Firmware/ or pass the path\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char **slot = &vec_texts[vec_next_text];
    vec_next_text = (vec_next_text + 1) % VEC_TEXTS;
    free(*slot);
    char *vec_text = *slot = malloc((size_t)size + 1);
    if (vec_text == NULL || fread(vec_text, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    fclose(f);
    vec_text[size] = '\0';
    int n = 0, lineno = 0;
    vec_case *cur = NULL;
    for (char *line = vec_text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        lineno++;
        if (line[0] != '#' && line[0] != '\0') {
            char *space = strchr(line, ' ');
            const char *rest = "";
            if (space != NULL) {
                *space = '\0';
                rest = space + 1;
            }
            if (strcmp(line, "case") == 0) {
                if (cur != NULL || n >= max_cases) {
                    fprintf(stderr, "%s:%d: case inside a case, or too many cases\n", path, lineno);
                    return -1;
                }
                cur = &cases[n++];
                cur->name = rest;
                cur->line_count = 0;
            } else if (strcmp(line, "end") == 0) {
                if (cur == NULL) {
                    fprintf(stderr, "%s:%d: end without case\n", path, lineno);
                    return -1;
                }
                cur = NULL;
            } else {
                if (cur == NULL || cur->line_count >= VEC_MAX_LINES) {
                    fprintf(stderr, "%s:%d: line outside a case, or too many lines\n", path, lineno);
                    return -1;
                }
                cur->lines[cur->line_count].keyword = line;
                cur->lines[cur->line_count].rest = rest;
                cur->line_count++;
            }
        }
        line = next;
    }
    if (cur != NULL) {
        fprintf(stderr, "%s: case %s has no end\n", path, cur->name);
        return -1;
    }
    return n;
}

const char *vec_get(const vec_case *c, const char *keyword)
{
    for (int i = 0; i < c->line_count; i++) {
        if (strcmp(c->lines[i].keyword, keyword) == 0) {
            return c->lines[i].rest;
        }
    }
    return NULL;
}

int vec_hex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*text != '\0') {
        if (*text == ' ') {
            text++;
            continue;
        }
        char *end;
        char pair[3] = {text[0], text[1], '\0'};
        if (text[1] == '\0' || n >= cap) {
            return -1;
        }
        unsigned long v = strtoul(pair, &end, 16);
        if (*end != '\0') {
            return -1;
        }
        out[n++] = (uint8_t)v;
        text += 2;
    }
    return (int)n;
}

const char *vec_decode_error_name(int r)
{
    switch (r) {
    case NX_DEC_ERR_COBS: return "cobs";
    case NX_DEC_ERR_TOO_SHORT: return "too_short";
    case NX_DEC_ERR_TOO_LONG: return "too_long";
    case NX_DEC_ERR_CRC: return "crc";
    default: return "?";
    }
}

const char *vec_error_code_name(uint8_t code)
{
    static const char *names[] = {"ok", "unsupported_version", "unknown_type", "bad_length",
                                  "out_of_range", "config_unsupported"};
    return code < sizeof names / sizeof names[0] ? names[code] : "?";
}

typedef struct {
    char *p;
    size_t left;
} vec_out;

/* Appends printf-style text, truncating at the buffer's end. */
static void put(vec_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p, o->left, fmt, ap);
    va_end(ap);
    if (n > 0) {
        size_t k = (size_t)n < o->left ? (size_t)n : o->left - 1;
        o->p += k;
        o->left -= k;
    }
}

static void put_list(vec_out *o, const char *key, const uint8_t *p, int count)
{
    put(o, " %s=", key);
    for (int i = 0; i < count; i++) {
        put(o, i == 0 ? "%d" : ",%d", nx_get_i16(p + 2 * i));
    }
}

static void put_channel(vec_out *o, const char *key, const uint8_t *p)
{
    put(o, " %s=%d,%d,%d,%d,%d", key, p[0], p[1], nx_get_i16(p + 2), nx_get_i16(p + 4),
        nx_get_i16(p + 6));
}

static void put_field(vec_out *o, const char *key, unsigned long v)
{
    put(o, " %s=%lu", key, v);
}

int vec_format_message(const uint8_t *packet, uint16_t len, char *out, size_t cap)
{
    static const struct { uint8_t type; const char *name; } names[] = {
        {NX_HELLO, "HELLO"}, {NX_CONFIG, "CONFIG"}, {NX_COMMAND, "COMMAND"}, {NX_PING, "PING"},
        {NX_GET_STATUS, "GET_STATUS"}, {NX_STOP, "STOP"}, {NX_DEVICE_INFO, "DEVICE_INFO"},
        {NX_CONFIG_ACK, "CONFIG_ACK"}, {NX_PONG, "PONG"}, {NX_STATUS, "STATUS"},
        {NX_SENSORS, "SENSORS"}, {NX_ERROR, "ERROR"}, {NX_GET_CHANNEL, "GET_CHANNEL"},
        {NX_CHANNEL_INFO, "CHANNEL_INFO"}, {NX_SET_BAUD, "SET_BAUD"}, {NX_BAUD_ACK, "BAUD_ACK"}};
    const char *name = "?";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].type == packet[1]) {
            name = names[i].name;
        }
    }
    vec_out o = {out, cap};
    put(&o, "%s seq=%d", name, packet[2]);
    const uint8_t *b = packet + NX_HEADER_SIZE;
    uint16_t body = (uint16_t)(len - NX_HEADER_SIZE - NX_CRC_SIZE);
    switch (packet[1]) {
    case NX_CONFIG:
    case NX_CONFIG_ACK:
        put_field(&o, "period_ms", nx_get_u16(b));
        put_field(&o, "failsafe_ms", nx_get_u16(b + 2));
        put_field(&o, "sensor_mask", nx_get_u16(b + 4));
        break;
    case NX_COMMAND:
        put_list(&o, "setpoints", b, body / 2);
        break;
    case NX_PING:
        put_field(&o, "token", nx_get_u32(b));
        break;
    case NX_PONG:
        put_field(&o, "token", nx_get_u32(b));
        put_field(&o, "timestamp_us", nx_get_u32(b + 4));
        break;
    case NX_STATUS: {
        static const char *keys[] = {"crc_errors", "malformed_frames", "rejected_frames",
                                     "dropped_frames", "rx_overflows", "failsafe_trips",
                                     "loop_overruns"};
        put_field(&o, "failsafe", b[0]);
        put_field(&o, "reset_cause", b[1]);
        put_field(&o, "uptime_ms", nx_get_u32(b + 2));
        for (int i = 0; i < 7; i++) {
            put_field(&o, keys[i], nx_get_u32(b + 6 + 4 * i));
        }
        break;
    }
    case NX_SENSORS:
        put_field(&o, "timestamp_us", nx_get_u32(b));
        put_field(&o, "sensor_mask", nx_get_u16(b + 4));
        put_list(&o, "readings", b + NX_SENSORS_HEAD, nx_popcount16(nx_get_u16(b + 4)));
        break;
    case NX_ERROR: {
        if (b[0] >= NX_ERR_UNSUPPORTED_VERSION && b[0] <= NX_ERR_CONFIG_UNSUPPORTED) {
            put(&o, " code=%s", vec_error_code_name(b[0]));
        } else {
            put(&o, " code=%d", b[0]); /* a code section 7 does not name: its number */
        }
        put_field(&o, "ref_type", b[1]);
        put_field(&o, "ref_seq", b[2]);
        put_field(&o, "detail", b[3]);
        break;
    }
    case NX_SET_BAUD:
    case NX_BAUD_ACK:
        put_field(&o, "baud", nx_get_u32(b));
        break;
    case NX_GET_CHANNEL:
        put_field(&o, "group", b[0]);
        put_field(&o, "index", b[1]);
        break;
    case NX_CHANNEL_INFO:
        put_field(&o, "group", b[0]);
        put_field(&o, "index", b[1]);
        put(&o, " name=%.*s", (int)b[2], (const char *)b + NX_CHANNEL_INFO_HEAD);
        break;
    case NX_DEVICE_INFO: {
        put_field(&o, "fw_major", b[0]);
        put_field(&o, "fw_minor", b[1]);
        put_field(&o, "fw_patch", b[2]);
        put(&o, " unique_id=");
        for (int i = 0; i < 8; i++) {
            put(&o, "%02x", b[3 + i]);
        }
        put_field(&o, "period_min_ms", nx_get_u16(b + 11));
        put_field(&o, "period_max_ms", nx_get_u16(b + 13));
        put_field(&o, "failsafe_min_ms", nx_get_u16(b + 15));
        put_field(&o, "failsafe_max_ms", nx_get_u16(b + 17));
        put(&o, " board=%.*s", (int)b[21], (const char *)b + 22);
        const uint8_t *d = b + 22 + b[21];
        for (int i = 0; i < b[19]; i++, d += NX_DESCRIPTOR_SIZE) {
            put_channel(&o, "sensor", d);
        }
        for (int i = 0; i < b[20]; i++, d += NX_DESCRIPTOR_SIZE) {
            put_channel(&o, "actuator", d);
        }
        break;
    }
    default:
        break;
    }
    return (int)(o.p - out);
}
