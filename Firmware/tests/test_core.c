/* Unit, vector, stress and scenario tests of the portable core, run against the fake HAL with
 * a virtual clock. Usage: nx-tests V1_VECTORS_FILE V2_VECTORS_FILE [FUZZ_REGRESSION_DIR]
 *                     nx-tests --write-corpus VECTORS_FILE DIR [NAME_PREFIX]  (seeds for the fuzz target) */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hal_fake.h"
#include "nx_device.h"
#include "nx_frame.h"
#include "nx_proto.h"
#include "nx_robot.h"
#include "vectors.h"
#include "../ports/avr/nx_adc.h"

static vec_case cases[VEC_MAX_CASES];
static int case_count;
static vec_case cases_v2[VEC_MAX_CASES];
static int case_count_v2;
static const vec_case *current;
/** The protocol version of the vector file `current` comes from: its frames are checked as
 *  that version, and its host frames go to a device in a session of that version. */
static uint8_t current_version = 1;

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static const vec_case *find_case_in(const vec_case *set, int count, const char *name)
{
    for (int i = 0; i < count; i++) {
        if (strcmp(set[i].name, name) == 0) {
            return &set[i];
        }
    }
    return NULL;
}

/* The wire bytes of a named case of the version-1 file (fails the test when missing). */
static int case_wire(const char *name, uint8_t *out, size_t cap)
{
    const vec_case *c = find_case_in(cases, case_count, name);
    const char *w = c ? vec_get(c, "wire") : NULL;
    int n = w ? vec_hex(w, out, cap) : -1;
    CHECK(n > 0, "vector case %s with a wire line is missing from the vectors file", name);
    return n;
}

/* The wire bytes of a named case of the version-2 file. */
static int case_wire_v2(const char *name, uint8_t *out, size_t cap)
{
    const vec_case *c = find_case_in(cases_v2, case_count_v2, name);
    const char *w = c ? vec_get(c, "wire") : NULL;
    int n = w ? vec_hex(w, out, cap) : -1;
    CHECK(n > 0, "vector case %s with a wire line is missing from the vectors file", name);
    return n;
}

/* Builds and COBS-encodes a packet; returns the wire length including the delimiter. */
static uint16_t make_frame(uint8_t *wire, uint8_t type, uint8_t seq, const uint8_t *body, uint16_t n)
{
    uint8_t packet[NX_PACKET_MAX];
    uint8_t *b = nx_packet_begin(packet, type, seq);
    if (n > 0) {
        memcpy(b, body, n);
    }
    uint16_t len = nx_packet_finish(packet, n);
    uint16_t w = nx_cobs_encode(packet, len, wire);
    wire[w++] = 0;
    return w;
}

/* What a stream decodes to: one line per non-empty frame, as in the vectors file. */
typedef struct {
    uint8_t receiver; /* enum nx_receiver: who decodes the stream */
    char lines[16][1200];
    int count;
    uint8_t frame[512];
    int frame_len;
} results;

static void add_result(results *r, uint8_t *buf, uint16_t len, nx_dec_result x)
{
    if (r->count >= 16) {
        return;
    }
    char *line = r->lines[r->count++];
    if (x == NX_DEC_FRAME) {
        memcpy(r->frame, buf, len);
        r->frame_len = len;
        x = nx_packet_verify(buf, len);
    }
    if (x == NX_DEC_PACKET) {
        uint8_t e = nx_packet_check_version(buf, len, r->receiver, current_version);
        if (e != NX_OK) {
            snprintf(line, sizeof r->lines[0], "error %s", vec_error_code_name(e));
        } else {
            strcpy(line, "message ");
            vec_format_message(buf, len, line + 8, sizeof r->lines[0] - 8);
        }
    } else {
        snprintf(line, sizeof r->lines[0], "error %s", vec_decode_error_name(x));
    }
}

static void feed(results *r, nx_decoder *d, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nx_dec_result x = nx_decoder_push(d, bytes[i]);
        if (x != NX_DEC_PENDING) {
            add_result(r, d->buf, d->len, x);
        }
    }
}

/* Splits the device's output into decoded packets. Returns how many. */
static int device_frames(uint8_t packets[][NX_PACKET_MAX], uint16_t *lens, int max)
{
    static uint8_t buf[NX_PACKET_MAX];
    nx_decoder d;
    nx_decoder_init(&d, buf, sizeof buf);
    int n = 0;
    for (uint32_t i = 0; i < fake.tx_len; i++) {
        nx_dec_result x = nx_decoder_push(&d, fake.tx[i]);
        if (x == NX_DEC_FRAME && nx_packet_verify(buf, d.len) == NX_DEC_PACKET && n < max) {
            memcpy(packets[n], buf, d.len);
            lens[n++] = d.len;
        } else if (x != NX_DEC_PENDING) {
            CHECK(0, "the device sent a frame that does not decode (result %d)", (int)x);
        }
    }
    return n;
}

static nx_device dev;

static void device_start(void)
{
    fake_reset();
    nx_device_init(&dev, 0);
    CHECK(fake.tx_len == 1 && fake.tx[0] == 0, "a starting device sends one 0x00");
    fake.tx_len = 0;
}

static void device_feed(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nx_device_receive(&dev, bytes[i], (uint32_t)fake.now_us);
    }
}

static void device_send(uint8_t type, const uint8_t *body, uint16_t n)
{
    uint8_t wire[NX_FRAME_MAX];
    static uint8_t seq;
    uint16_t w = make_frame(wire, type, seq++, body, n);
    device_feed(wire, w);
}

static void send_command(int16_t left, int16_t right, int16_t servo)
{
    uint8_t b[6];
    nx_put_i16(b, left);
    nx_put_i16(b + 2, right);
    nx_put_i16(b + 4, servo);
    device_send(NX_COMMAND, b, 6);
}

static void send_config(uint16_t period, uint16_t timeout, uint16_t mask)
{
    uint8_t b[6];
    nx_put_u16(b, period);
    nx_put_u16(b + 2, timeout);
    nx_put_u16(b + 4, mask);
    device_send(NX_CONFIG, b, 6);
}

/* Advances the virtual clock to `until_us` in steps of `step_us`, polling at each step. */
static void run_until(uint64_t until_us, uint32_t step_us)
{
    while (fake.now_us + step_us <= until_us) {
        fake.now_us += step_us;
        nx_device_poll(&dev, (uint32_t)fake.now_us);
    }
}

/* ---------------------------------------------------------------- vectors */

static int hex_arg(const char *keyword, uint8_t *out, size_t cap)
{
    const char *t = vec_get(current, keyword);
    int n = t ? vec_hex(t, out, cap) : -1;
    CHECK(n >= 0, "bad or missing hex on the %s line", keyword);
    return n;
}

static uint32_t counter_by_name(const char *name)
{
    if (strcmp(name, "crc_errors") == 0) return dev.counters.crc_errors;
    if (strcmp(name, "malformed_frames") == 0) return dev.counters.malformed_frames;
    if (strcmp(name, "rejected_frames") == 0) return dev.counters.rejected_frames;
    if (strcmp(name, "dropped_frames") == 0) return dev.counters.dropped_frames;
    CHECK(0, "unknown counter %s in a reply line", name);
    return 0;
}

static void check_decoding(const uint8_t *wire, int n)
{
    /* the expected results, in order */
    const char *expected[16];
    int want = 0;
    for (int i = 0; i < current->line_count && want < 16; i++) {
        const vec_line *l = &current->lines[i];
        if (strcmp(l->keyword, "message") == 0 || strcmp(l->keyword, "error") == 0) {
            static char buf[16][1200];
            snprintf(buf[want], sizeof buf[0], "%s %s", l->keyword, l->rest);
            expected[want] = buf[want];
            want++;
        }
    }
    /* a host frame is decoded as the device receives it, a device frame as the host does */
    const char *from = vec_get(current, "from");
    uint8_t receiver = from == NULL ? NX_TO_ANY : strcmp(from, "host") == 0 ? NX_TO_DEVICE : NX_TO_HOST;
    static uint8_t buf[NX_PACKET_MAX];
    nx_decoder d;
    static results r;
    /* whole, then split at every point into two chunks; the same results each time */
    for (int split = -1; split <= n; split++) {
        memset(&r, 0, sizeof r);
        r.receiver = receiver;
        nx_decoder_init(&d, buf, sizeof buf);
        if (split < 0) {
            for (int i = 0; i < n; i++) {
                feed(&r, &d, wire + i, 1); /* one byte at a time */
            }
        } else {
            feed(&r, &d, wire, (size_t)split);
            feed(&r, &d, wire + split, (size_t)(n - split));
        }
        CHECK(r.count == want, "split %d: %d results, expected %d", split, r.count, want);
        for (int i = 0; i < want && i < r.count; i++) {
            CHECK(strcmp(r.lines[i], expected[i]) == 0, "split %d result %d:\n    got  %s\n    want %s",
                  split, i, r.lines[i], expected[i]);
        }
    }
    /* after noise and a delimiter the decoder has resynchronised */
    static const uint8_t noise[] = {0x5a, 0xa5, 0x13, 0x00};
    memset(&r, 0, sizeof r);
    r.receiver = receiver;
    nx_decoder_init(&d, buf, sizeof buf);
    feed(&r, &d, noise, sizeof noise);
    feed(&r, &d, wire, (size_t)n);
    CHECK(r.count == want + 1 && strcmp(r.lines[0], "error cobs") == 0, "noise before the frame");
    for (int i = 0; i < want && i + 1 < r.count; i++) {
        CHECK(strcmp(r.lines[i + 1], expected[i]) == 0, "after noise, result %d: %s", i, r.lines[i + 1]);
    }
    /* the packet line and, for good frames, encoding reproduces the wire */
    memset(&r, 0, sizeof r);
    r.receiver = receiver;
    nx_decoder_init(&d, buf, sizeof buf);
    feed(&r, &d, wire, (size_t)n);
    if (vec_get(current, "packet") != NULL) {
        uint8_t packet[NX_FRAME_MAX * 2];
        int p = hex_arg("packet", packet, sizeof packet);
        CHECK(p == r.frame_len && memcmp(packet, r.frame, (size_t)p) == 0, "decoded packet differs");
        if (want == 1 && strncmp(expected[0], "message", 7) == 0) {
            uint8_t again[NX_FRAME_MAX];
            uint16_t w = nx_cobs_encode(packet, (uint16_t)p, again);
            again[w++] = 0;
            CHECK(w == n && memcmp(again, wire, (size_t)n) == 0, "encoding the packet does not give the wire");
        }
    }
}

/* Starts a version-2 session: a version-2 HELLO, its DEVICE_INFO discarded and the device's
 * numbering restarted, so a case's replies are numbered from 0 as in version 1. */
static void start_v2_session(void)
{
    uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX];
    nx_packet_begin_version(packet, 2, NX_HELLO, 0);
    uint16_t len = nx_packet_finish(packet, 0);
    uint16_t w = nx_cobs_encode(packet, len, wire);
    wire[w++] = 0;
    device_feed(wire, w);
    CHECK(dev.version == 2 && fake.tx_len > 0, "a version-2 HELLO starts a version-2 session");
    fake.tx_len = 0;
    dev.tx_seq = 0;
}

static void check_device_reply(const uint8_t *wire, int n)
{
    device_start();
    if (current_version == 2) {
        start_v2_session();
    }
    device_feed(wire, (size_t)n);
    static uint8_t packets[8][NX_PACKET_MAX];
    uint16_t lens[8];
    int count = device_frames(packets, lens, 8);
    const char *reply = vec_get(current, "reply");
    if (reply == NULL) {
        for (int i = 0; i < count; i++) {
            CHECK(packets[i][1] != NX_ERROR, "a good frame was answered with ERROR code %d", packets[i][4]);
        }
        uint32_t errors = 0;
        for (int i = 0; i < current->line_count; i++) {
            errors += strcmp(current->lines[i].keyword, "error") == 0;
        }
        CHECK(dev.counters.crc_errors + dev.counters.malformed_frames == errors && dev.counters.rejected_frames == 0,
              "error counters do not match the case's error lines");
    } else if (strncmp(reply, "none counter=", 13) == 0) {
        CHECK(count == 0, "the device answered a frame it must drop silently");
        CHECK(counter_by_name(reply + 13) == 1, "counter %s is %u, expected 1", reply + 13,
              (unsigned)counter_by_name(reply + 13));
    } else {
        /* one reply line per frame the device sends, in order: ERROR in full, others by type */
        int replies = 0, errors = 0;
        for (int i = 0; i < current->line_count; i++) {
            const vec_line *l = &current->lines[i];
            if (strcmp(l->keyword, "reply") != 0) {
                continue;
            }
            if (replies < count) {
                char got[1200], want[1200];
                vec_format_message(packets[replies], lens[replies], got, sizeof got);
                if (strncmp(l->rest, "ERROR ", 6) == 0) {
                    snprintf(want, sizeof want, "ERROR seq=%d %s", replies, l->rest + 6);
                    errors++;
                } else {
                    snprintf(want, sizeof want, "%s seq=%d", l->rest, replies);
                    got[strlen(want) < sizeof got ? strlen(want) : sizeof got - 1] = '\0';
                }
                CHECK(strcmp(got, want) == 0, "reply %d\n    got  %s\n    want %s", replies, got, want);
            }
            replies++;
        }
        CHECK(count == replies, "%d frames in reply, expected %d", count, replies);
        CHECK(dev.counters.rejected_frames == (uint32_t)errors, "rejected_frames is %u, expected %d",
              (unsigned)dev.counters.rejected_frames, errors);
    }
}

static void run_vector_case(void)
{
    uint8_t data[1024], expect[1024];
    const char *crc = vec_get(current, "crc");
    const char *cobs = vec_get(current, "cobs");
    const char *wire_text = vec_get(current, "wire");
    CHECK(crc || cobs || wire_text, "case has no crc, cobs or wire line");
    if (crc != NULL) {
        int n = hex_arg("data", data, sizeof data);
        unsigned long want = strtoul(crc, NULL, 16);
        CHECK(nx_crc16(data, (uint16_t)n) == want, "crc %04x, expected %04lx", nx_crc16(data, (uint16_t)n), want);
    }
    if (cobs != NULL) {
        int n = hex_arg("data", data, sizeof data);
        int m = hex_arg("cobs", expect, sizeof expect);
        uint8_t enc[1100];
        uint16_t e = nx_cobs_encode(data, (uint16_t)n, enc);
        CHECK(e == m && memcmp(enc, expect, (size_t)m) == 0, "COBS encoding differs (%u bytes, expected %d)", e, m);
        uint8_t buf[600];
        nx_decoder d;
        nx_decoder_init(&d, buf, sizeof buf);
        nx_dec_result x = NX_DEC_PENDING;
        for (int i = 0; i < m; i++) {
            x = nx_decoder_push(&d, expect[i]);
            CHECK(x == NX_DEC_PENDING, "decoder finished early at byte %d", i);
        }
        x = nx_decoder_push(&d, 0);
        CHECK(x == NX_DEC_FRAME && d.len == n && memcmp(buf, data, (size_t)n) == 0, "COBS decoding differs");
    }
    if (wire_text != NULL) {
        int n = hex_arg("wire", data, sizeof data);
        CHECK(n > 0 && data[n - 1] == 0, "the wire must end with the 00 delimiter");
        check_decoding(data, n);
        const char *from = vec_get(current, "from");
        if (from != NULL && strcmp(from, "host") == 0) {
            check_device_reply(data, n);
        }
    }
}

/* Whether a set of cases has a message (or error) line starting with `what`. */
static int covered(const vec_case *set, int count, const char *keyword, const char *what)
{
    size_t len = strlen(what);
    for (int i = 0; i < count; i++) {
        const char *m = vec_get(&set[i], keyword);
        if (m != NULL && strncmp(m, what, len) == 0 && (m[len] == ' ' || m[len] == '\0')) {
            return 1;
        }
    }
    return 0;
}

static void test_vectors_cover_every_message(void)
{
    static const char *required[] = {"HELLO", "CONFIG", "COMMAND", "PING", "GET_STATUS", "STOP",
                                     "DEVICE_INFO", "CONFIG_ACK", "PONG", "STATUS", "SENSORS", "ERROR"};
    static const char *errors[] = {"cobs", "too_short", "too_long", "crc", "unsupported_version",
                                   "unknown_type", "bad_length"};
    static const char *v2_only[] = {"GET_CHANNEL", "CHANNEL_INFO", "SET_BAUD", "BAUD_ACK"};
    static const char *v2_errors[] = {"cobs", "crc", "unsupported_version", "unknown_type", "bad_length"};
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        CHECK(covered(cases, case_count, "message", required[k]), "no vector for message %s", required[k]);
        CHECK(covered(cases_v2, case_count_v2, "message", required[k]), "no version-2 vector for message %s",
              required[k]);
    }
    for (size_t k = 0; k < sizeof v2_only / sizeof v2_only[0]; k++) {
        CHECK(covered(cases_v2, case_count_v2, "message", v2_only[k]), "no version-2 vector for message %s",
              v2_only[k]);
    }
    for (size_t k = 0; k < sizeof errors / sizeof errors[0]; k++) {
        CHECK(covered(cases, case_count, "error", errors[k]), "no vector for error %s", errors[k]);
    }
    for (size_t k = 0; k < sizeof v2_errors / sizeof v2_errors[0]; k++) {
        CHECK(covered(cases_v2, case_count_v2, "error", v2_errors[k]), "no version-2 vector for error %s",
              v2_errors[k]);
    }
}

/* The device's own messages equal the vectors byte for byte. */
static void test_device_builds_vector_frames(void)
{
    uint8_t in[NX_FRAME_MAX], want[NX_FRAME_MAX];
    device_start();
    int n = case_wire("hello", in, sizeof in);
    int m = case_wire("device_info_reference_robot", want, sizeof want);
    device_feed(in, (size_t)n);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "DEVICE_INFO differs from its vector");

    fake.tx_len = 0;
    n = case_wire("config_default", in, sizeof in);
    m = case_wire("config_ack", want, sizeof want);
    device_feed(in, (size_t)n);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "CONFIG_ACK differs from its vector");

    fake.tx_len = 0;
    dev.tx_seq = 9;
    fake.now_us = 0xFFFFFFFFu;
    n = case_wire("ping", in, sizeof in);
    m = case_wire("pong", want, sizeof want);
    device_feed(in, (size_t)n);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "PONG differs from its vector");

    device_start();
    fake.now_us = 1234000u;
    dev.tx_seq = 2;
    dev.rx_expected = 9;
    n = case_wire("get_status", in, sizeof in);
    m = case_wire("status_fresh", want, sizeof want);
    device_feed(in, (size_t)n);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "STATUS differs from its vector");

    device_start();
    static const int16_t readings[7] = {3100, 400, 2500, 2499, 1, 32767, -32768};
    memcpy(fake.sensors, readings, sizeof readings);
    dev.streaming = true;
    dev.sensor_mask = 0x7F;
    dev.next_sample_us = 1000000u;
    dev.tx_seq = 17;
    nx_device_poll(&dev, 1000000u);
    m = case_wire("sensors_all", want, sizeof want);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "SENSORS differs from its vector");

    device_start();
    dev.tx_seq = 20;
    dev.rx_expected = 4;
    uint8_t body[6];
    nx_put_i16(body, 0);
    nx_put_i16(body + 2, 0);
    nx_put_i16(body + 4, 181);
    uint16_t w = make_frame(in, NX_COMMAND, 4, body, 6);
    device_feed(in, w);
    m = case_wire("error_out_of_range", want, sizeof want);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "ERROR differs from its vector");
}

/* ---------------------------------------------------------------- decoder */

static void test_decoder_round_trips_every_length_and_byte(void)
{
    uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX], buf[NX_PACKET_MAX];
    nx_decoder d;
    nx_decoder_init(&d, buf, sizeof buf);
    for (int iter = 0; iter < 20000; iter++) {
        uint16_t body = (uint16_t)(iter % (NX_BODY_MAX + 1));
        uint8_t *b = nx_packet_begin(packet, (uint8_t)rng(), (uint8_t)iter);
        for (uint16_t i = 0; i < body; i++) {
            /* many zeros and 0xFF so every COBS path is taken */
            uint32_t r = rng() % 4;
            b[i] = r == 0 ? 0 : r == 1 ? 0xFF : (uint8_t)rng();
        }
        uint16_t len = nx_packet_finish(packet, body);
        uint16_t w = nx_cobs_encode(packet, len, wire);
        CHECK(w <= len + 1u, "encoded length %u for a %u-byte packet", w, len);
        CHECK(memchr(wire, 0, w) == NULL, "the encoding contains a zero");
        wire[w++] = 0;
        nx_dec_result x = NX_DEC_PENDING;
        for (uint16_t i = 0; i < w; i++) {
            x = nx_decoder_push(&d, wire[i]);
        }
        CHECK(x == NX_DEC_FRAME && nx_packet_verify(buf, d.len) == NX_DEC_PACKET && d.len == len &&
              memcmp(buf, packet, len) == 0, "round trip of a %u-byte packet", len);
    }
}

static void test_decoder_overflow_then_resync(void)
{
    uint8_t buf[NX_PACKET_MAX], wire[NX_FRAME_MAX];
    nx_decoder d;
    nx_decoder_init(&d, buf, sizeof buf);
    for (int i = 0; i < 1000; i++) {
        CHECK(nx_decoder_push(&d, (uint8_t)(1 + i % 255)) == NX_DEC_PENDING, "pending inside a long frame");
    }
    CHECK(nx_decoder_push(&d, 0) == NX_DEC_ERR_TOO_LONG, "a 1000-byte frame is too long");
    CHECK(d.len == 0, "nothing kept of a too-long frame");
    uint16_t w = make_frame(wire, NX_PING, 1, (const uint8_t *)"\x01\x02\x03\x04", 4);
    nx_dec_result x = NX_DEC_PENDING;
    for (uint16_t i = 0; i < w; i++) {
        x = nx_decoder_push(&d, wire[i]);
    }
    CHECK(x == NX_DEC_FRAME && nx_packet_verify(buf, d.len) == NX_DEC_PACKET, "the next frame decodes");
    CHECK(nx_decoder_push(&d, 0) == NX_DEC_PENDING, "an empty frame reports nothing");
    /* exactly NX_PACKET_MAX bytes fit; one more does not */
    uint8_t packet[NX_PACKET_MAX + 1];
    memset(packet, 0x11, sizeof packet);
    uint8_t enc[NX_FRAME_MAX + 2];
    w = nx_cobs_encode(packet, NX_PACKET_MAX, enc);
    x = NX_DEC_PENDING;
    for (uint16_t i = 0; i < w; i++) nx_decoder_push(&d, enc[i]);
    CHECK(nx_decoder_push(&d, 0) == NX_DEC_FRAME && d.len == NX_PACKET_MAX, "a 128-byte frame fits");
    w = nx_cobs_encode(packet, NX_PACKET_MAX + 1, enc);
    for (uint16_t i = 0; i < w; i++) nx_decoder_push(&d, enc[i]);
    CHECK(nx_decoder_push(&d, 0) == NX_DEC_ERR_TOO_LONG, "a 129-byte frame is too long");
}

/* One million frames through noise: no corrupt frame accepted, resync within one frame. */
static void test_million_corrupted_frames(void)
{
    uint8_t buf[NX_PACKET_MAX], packet[NX_PACKET_MAX], enc[NX_FRAME_MAX], wire[NX_FRAME_MAX + 32];
    uint8_t previous[NX_PACKET_MAX];
    uint16_t previous_len = 0;
    nx_decoder d;
    nx_decoder_init(&d, buf, sizeof buf);
    uint32_t frames = 1000000, clean = 0, clean_accepted = 0, bad_accepted = 0, corrupted = 0,
             missed = 0;
    bool delimiter_kept = true;
    rng_state = 12345;
    for (uint32_t i = 0; i < frames; i++) {
        uint8_t body[6];
        uint8_t type = (i % 3 == 0) ? NX_PING : (i % 3 == 1) ? NX_COMMAND : NX_CONFIG;
        uint16_t n = type == NX_PING ? 4 : 6;
        nx_put_u32(body, i);
        nx_put_u16(body + 4, (uint16_t)rng());
        uint8_t *b = nx_packet_begin(packet, type, (uint8_t)i);
        memcpy(b, body, n);
        uint16_t len = nx_packet_finish(packet, n);
        uint16_t w = nx_cobs_encode(packet, len, enc);
        uint16_t k = rng() % w;
        uint32_t kind = rng() % 100;
        uint16_t out = 0;
        bool keep_delimiter = true;
        if (kind < 70) {
            memcpy(wire, enc, w);
            out = w;
        } else if (kind < 80) { /* 1 to 3 flipped bits */
            memcpy(wire, enc, w);
            out = w;
            int flips = 1 + (int)(rng() % 3);
            for (int f = 0; f < flips; f++) {
                wire[rng() % w] ^= (uint8_t)(1u << (rng() % 8));
            }
            if (memcmp(wire, enc, w) == 0) {
                wire[k] ^= 0x01; /* two flips of one bit cancelled: flip one for sure */
            }
        } else if (kind < 85) { /* a byte lost */
            memcpy(wire, enc, k);
            memcpy(wire + k, enc + k + 1, (size_t)(w - k - 1));
            out = (uint16_t)(w - 1);
        } else if (kind < 90) { /* a byte duplicated */
            memcpy(wire, enc, (size_t)k + 1);
            memcpy(wire + k + 1, enc + k, (size_t)(w - k));
            out = (uint16_t)(w + 1);
        } else if (kind < 95) { /* a burst of 1..8 garbage bytes inserted */
            uint16_t g = (uint16_t)(1 + rng() % 8);
            memcpy(wire, enc, k);
            for (uint16_t j = 0; j < g; j++) wire[k + j] = (uint8_t)rng();
            memcpy(wire + k + g, enc + k, (size_t)(w - k));
            out = (uint16_t)(w + g);
        } else if (kind < 98) { /* truncated */
            memcpy(wire, enc, k);
            out = k;
        } else { /* the delimiter lost: this frame runs into the next */
            memcpy(wire, enc, w);
            out = w;
            keep_delimiter = false;
        }
        bool is_clean = kind < 70;
        corrupted += !is_clean;
        if (keep_delimiter) {
            wire[out++] = 0;
        }
        bool accepted_this = false;
        for (uint16_t j = 0; j < out; j++) {
            nx_dec_result x = nx_decoder_push(&d, wire[j]);
            if (x == NX_DEC_FRAME && nx_packet_verify(buf, d.len) == NX_DEC_PACKET &&
                nx_packet_check(buf, d.len, NX_TO_DEVICE) == NX_OK) {
                if (d.len == len && memcmp(buf, packet, len) == 0 && is_clean) {
                    accepted_this = true;
                } else if (!(d.len == len && memcmp(buf, packet, len) == 0) &&
                           !(d.len == previous_len && memcmp(buf, previous, previous_len) == 0)) {
                    /* neither this frame intact after noise, nor the previous one whose
                     * delimiter came late: a corrupt frame got through */
                    bad_accepted++;
                }
            }
        }
        if (is_clean && delimiter_kept) {
            clean++;
            clean_accepted += accepted_this;
            missed += !accepted_this;
        }
        delimiter_kept = keep_delimiter;
        memcpy(previous, packet, len);
        previous_len = len;
    }
    CHECK(corrupted > 250000, "only %u frames corrupted", (unsigned)corrupted);
    CHECK(bad_accepted == 0, "%u corrupt frames accepted", (unsigned)bad_accepted);
    CHECK(missed == 0 && clean_accepted == clean,
          "%u clean frames after an intact delimiter were lost (no resync within one frame)", (unsigned)missed);
}

/* Through the device: every lost frame shows up in dropped_frames by sequence gap. */
static void test_every_drop_counted(void)
{
    device_start();
    uint8_t packet[NX_PACKET_MAX], enc[NX_FRAME_MAX];
    uint32_t frames = 200000, pongs = 0, lost = 0;
    rng_state = 777;
    for (uint32_t i = 0; i < frames; i++) {
        uint8_t *b = nx_packet_begin(packet, NX_PING, (uint8_t)i);
        nx_put_u32(b, i);
        uint16_t len = nx_packet_finish(packet, 4);
        uint16_t w = nx_cobs_encode(packet, len, enc);
        bool last = (i == frames - 1);
        uint32_t kind = last ? 0 : rng() % 10;
        if (kind == 1) {
            enc[rng() % w] ^= (uint8_t)(1u << (rng() % 8));
        } else if (kind == 2) {
            w = (uint16_t)(1u + rng() % (w - 1u)); /* truncated, at least one byte left */
        }
        lost += (kind == 1 || kind == 2);
        fake.tx_len = 0;
        device_feed(enc, w);
        device_feed((const uint8_t *)"", 1);
        static uint8_t got[4][NX_PACKET_MAX];
        uint16_t lens[4];
        int n = device_frames(got, lens, 4);
        for (int j = 0; j < n; j++) {
            pongs += (got[j][1] == NX_PONG && nx_get_u32(got[j] + 3) == i);
        }
    }
    CHECK(lost > 30000, "too few frames lost to test anything: %u", (unsigned)lost);
    CHECK(pongs + lost == frames, "pongs %u + lost %u != %u", (unsigned)pongs, (unsigned)lost, (unsigned)frames);
    CHECK(dev.counters.dropped_frames == lost, "dropped_frames %u, lost %u",
          (unsigned)dev.counters.dropped_frames, (unsigned)lost);
    CHECK(dev.counters.crc_errors + dev.counters.malformed_frames >= lost,
          "crc_errors %u + malformed %u do not account for %u losses", (unsigned)dev.counters.crc_errors,
          (unsigned)dev.counters.malformed_frames, (unsigned)lost);
    CHECK(dev.counters.rejected_frames == 0, "rejected %u", (unsigned)dev.counters.rejected_frames);
}

/* ---------------------------------------------------------------- scenarios (virtual clock) */

static int collect_sensors(uint32_t *stamps, uint8_t *seqs, int max)
{
    static uint8_t got[2048][NX_PACKET_MAX];
    static uint16_t lens[2048];
    int n = device_frames(got, lens, 2048), k = 0;
    for (int i = 0; i < n && k < max; i++) {
        if (got[i][1] == NX_SENSORS) {
            stamps[k] = nx_get_u32(got[i] + 3);
            seqs[k++] = got[i][2];
        }
    }
    return k;
}

static void test_sampling_period_is_exact(void)
{
    static uint32_t stamps[2048];
    static uint8_t seqs[2048];
    device_start();
    device_send(NX_HELLO, NULL, 0);
    send_config(5, 100, 0x7F);
    fake.tx_len = 0;
    run_until(10000000u, 100); /* 10 s in 100 µs steps */
    int n = collect_sensors(stamps, seqs, 2048);
    CHECK(n == 2000, "%d samples in 10 s at 5 ms, expected 2000", n);
    for (int i = 0; i < n; i++) {
        CHECK(stamps[i] == 5000u * (uint32_t)(i + 1), "sample %d at %u µs, expected %u", i, stamps[i], 5000u * (i + 1));
        if (i > 0) {
            CHECK((uint8_t)(seqs[i] - seqs[i - 1]) == 1, "sequence gap at sample %d", i);
        }
    }
    CHECK(dev.counters.loop_overruns == 0, "overruns %u", (unsigned)dev.counters.loop_overruns);

    /* polling at 300 µs (not a divisor of the period): each sample within one poll of its due
     * time, and the schedule does not drift */
    device_start();
    send_config(7, 100, 0x01);
    fake.tx_len = 0;
    run_until(7000000u, 300);
    n = collect_sensors(stamps, seqs, 2048);
    CHECK(n == 999 || n == 1000, "%d samples in 7 s at 7 ms", n);
    for (int i = 0; i < n; i++) {
        uint32_t due = 7000u * (uint32_t)(i + 1);
        CHECK(stamps[i] >= due && stamps[i] < due + 300u, "sample %d at %u, due %u", i, stamps[i], due);
    }
}

static void test_overruns_counted(void)
{
    device_start();
    send_config(5, 100, 0x01);
    fake.now_us = 5000;
    nx_device_poll(&dev, 5000);
    fake.now_us = 23000;
    nx_device_poll(&dev, 23000);
    CHECK(dev.counters.loop_overruns == 2, "overruns %u, expected 2", (unsigned)dev.counters.loop_overruns);
    CHECK(dev.next_sample_us == 25000u, "next sample due at %u, expected 25000", (unsigned)dev.next_sample_us);
}

static void test_failsafe_timing(void)
{
    static const uint16_t timeouts[] = {10, 100, 250};
    for (size_t k = 0; k < 3; k++) {
        device_start();
        send_config(10, timeouts[k], 0);
        fake.now_us = 1000000;
        send_command(500, -500, 30);
        CHECK(fake.actuators[0] == 500 && fake.actuators[1] == -500 && fake.actuators[2] == 30, "command applied");
        CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE, "active after a command");
        uint64_t stopped_at = 0;
        while (fake.now_us < 2000000) {
            fake.now_us += 100;
            nx_device_poll(&dev, (uint32_t)fake.now_us);
            if (stopped_at == 0 && fake.actuators[0] == 0) {
                stopped_at = fake.now_us;
            }
        }
        uint64_t took = stopped_at - 1000000;
        CHECK(took == timeouts[k] * 1000u, "timeout %u ms: motors stopped after %llu µs", timeouts[k],
              (unsigned long long)took);
        CHECK(fake.actuators[1] == 0 && fake.actuators[2] == 90, "every actuator at its safe value");
        CHECK(dev.failsafe == NX_FAILSAFE_TIMEOUT && dev.counters.failsafe_trips == 1, "state timeout, one trip");
    }
}

static void test_ping_keeps_alive_and_rejected_command_does_not(void)
{
    device_start();
    send_command(300, 300, 90);
    for (int i = 0; i < 20; i++) { /* a heartbeat every 50 ms for 1 s */
        run_until(fake.now_us + 50000, 100);
        device_send(NX_PING, (const uint8_t *)"\0\0\0\0", 4);
    }
    CHECK(fake.actuators[0] == 300 && dev.failsafe == NX_FAILSAFE_ACTIVE, "pings keep the command alive");
    uint64_t last = fake.now_us;
    run_until(last + 50000, 100);
    send_command(2000, 0, 90); /* out of range: rejected, refreshes nothing */
    CHECK(fake.actuators[0] == 300, "a rejected command changes nothing");
    run_until(last + 99900, 100);
    CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE, "still active just before the deadline");
    run_until(last + 100000, 100);
    CHECK(dev.failsafe == NX_FAILSAFE_TIMEOUT && fake.actuators[0] == 0, "stopped at the deadline");
    device_send(NX_PING, (const uint8_t *)"\0\0\0\0", 4);
    CHECK(dev.failsafe == NX_FAILSAFE_TIMEOUT && fake.actuators[0] == 0, "a ping does not leave the safe state");
    send_command(-700, 700, 45);
    CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE && fake.actuators[0] == -700 && fake.actuators[2] == 45,
          "a valid command recovers");
}

static void test_stop_and_hello(void)
{
    device_start();
    send_config(10, 100, 0x7F);
    send_command(100, 100, 10);
    fake.tx_len = 0;
    device_send(NX_STOP, NULL, 0);
    static uint8_t got[4][NX_PACKET_MAX];
    uint16_t lens[4];
    int n = device_frames(got, lens, 4);
    CHECK(n == 1 && got[0][1] == NX_STATUS && got[0][3] == NX_FAILSAFE_STOPPED, "STOP answered with STATUS stopped");
    CHECK(fake.actuators[0] == 0 && fake.actuators[2] == 90, "STOP makes every actuator safe");
    send_command(100, 100, 10);
    CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE, "a command after STOP is applied");
    device_send(NX_HELLO, NULL, 0);
    CHECK(dev.failsafe == NX_FAILSAFE_IDLE && !dev.streaming && fake.actuators[0] == 0, "HELLO: idle, safe, silent");
    CHECK(dev.period_ms == 10 && dev.failsafe_ms == 100 && dev.sensor_mask == 0x7F, "HELLO restores defaults");
    send_config(10, 100, 0);
    CHECK(!dev.streaming, "mask 0 does not stream");
    fake.tx_len = 0;
    run_until(fake.now_us + 100000, 1000);
    CHECK(fake.tx_len == 0, "nothing sent while not streaming");
}

static void test_status_counters(void)
{
    device_start();
    uint8_t wire[NX_FRAME_MAX * 4];
    fake.rx_overflows = 5;
    uint16_t w = make_frame(wire, NX_PING, 0, (const uint8_t *)"abcd", 4);
    wire[2] ^= 0x40;
    device_feed(wire, w);                                   /* crc error */
    device_feed((const uint8_t *)"\x05\x01\x00", 3);        /* cobs error */
    device_feed((const uint8_t *)"\x02\x01\x00", 3);        /* too short */
    memset(wire, 0x22, 300);
    wire[300] = 0;
    device_feed(wire, 301);                                 /* too long */
    w = make_frame(wire, 0x42, 0, NULL, 0);                 /* unknown type: rejected */
    device_feed(wire, w);
    w = make_frame(wire, NX_GET_STATUS, 4, NULL, 0);        /* seq 1..3 missing: 3 dropped */
    fake.tx_len = 0;
    fake.now_us = 42000;
    device_feed(wire, w);
    static uint8_t got[4][NX_PACKET_MAX];
    uint16_t lens[4];
    int n = device_frames(got, lens, 4);
    CHECK(n == 1 && got[0][1] == NX_STATUS, "GET_STATUS answered");
    char text[512];
    vec_format_message(got[0], lens[0], text, sizeof text);
    const char *want = "STATUS seq=1 failsafe=0 reset_cause=0 uptime_ms=42 crc_errors=1 malformed_frames=3 "
                       "rejected_frames=1 dropped_frames=3 rx_overflows=5 failsafe_trips=0 loop_overruns=0";
    CHECK(strcmp(text, want) == 0, "status\n    got  %s\n    want %s", text, want);
}

/* ---------------------------------------------------------------- the answers of PROTOCOL.md */

/* Sends a frame with an explicit sequence number and version. */
static void send_raw(uint8_t version, uint8_t type, uint8_t seq, const uint8_t *body, uint16_t n)
{
    uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX];
    uint8_t *b = nx_packet_begin(packet, type, seq);
    packet[0] = version;
    if (n > 0) {
        memcpy(b, body, n);
    }
    uint16_t len = nx_packet_finish(packet, n);
    uint16_t w = nx_cobs_encode(packet, len, wire);
    wire[w++] = 0;
    device_feed(wire, w);
}

/* The last frame the device sent, decoded into packet; returns its type or 0 when none. */
static uint8_t last_reply(uint8_t *packet)
{
    static uint8_t got[64][NX_PACKET_MAX];
    uint16_t lens[64];
    int n = device_frames(got, lens, 64);
    if (n == 0) {
        return 0;
    }
    memcpy(packet, got[n - 1], lens[n - 1]);
    return got[n - 1][1];
}

/* Section 4: at start the device expects nothing; the first frame with a good CRC only sets
 * the expected seq, whatever its seq and type. */
static void test_sequence_at_start(void)
{
    device_start();
    send_raw(1, NX_GET_STATUS, 57, NULL, 0);
    CHECK(dev.counters.dropped_frames == 0, "the first frame after start counts %u drops",
          (unsigned)dev.counters.dropped_frames);
    send_raw(1, NX_GET_STATUS, 60, NULL, 0);
    CHECK(dev.counters.dropped_frames == 2, "seq 58 and 59 missing: %u drops", (unsigned)dev.counters.dropped_frames);
    device_start();
    send_raw(1, 0x42, 200, NULL, 0); /* rejected, but its CRC is good: it sets the expectation */
    send_raw(1, NX_PING, 201, (const uint8_t *)"\0\0\0\0", 4);
    CHECK(dev.counters.dropped_frames == 0 && dev.counters.rejected_frames == 1, "a rejected first frame syncs too");
}

/* Only a HELLO that passes every check is a HELLO: a rejected frame of type 0x01 restarts
 * nothing and is tracked like any other frame. */
static void test_rejected_hello_is_not_a_hello(void)
{
    uint8_t packet[NX_PACKET_MAX];
    device_start();
    send_raw(1, NX_HELLO, 10, NULL, 0);
    send_config(10, 100, 0x7F); /* seq from device_send's own counter: resync with a frame */
    send_raw(1, NX_GET_STATUS, 20, NULL, 0);
    uint32_t dropped = dev.counters.dropped_frames;
    send_raw(1, NX_COMMAND, 21, (const uint8_t *)"\x64\x00\x64\x00\x5a\x00", 6);
    CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE && dev.streaming, "active and streaming");
    fake.tx_len = 0;
    send_raw(1, NX_HELLO, 0, (const uint8_t *)"\x01", 1); /* bad length */
    CHECK(last_reply(packet) == NX_ERROR && packet[3] == NX_ERR_BAD_LENGTH && packet[6] == 0,
          "a HELLO with a body is answered bad_length, detail 0");
    CHECK(fake.tx_len > 0 && dev.failsafe == NX_FAILSAFE_ACTIVE && dev.streaming && fake.actuators[0] == 100,
          "a rejected HELLO restarts nothing");
    CHECK(dev.counters.dropped_frames == dropped + 234, "seq 22 expected, 0 came: 234 counted, got %u",
          (unsigned)(dev.counters.dropped_frames - dropped));
    fake.tx_len = 0;
    send_raw(3, NX_HELLO, 5, NULL, 0); /* a version the device does not speak */
    CHECK(last_reply(packet) == NX_ERROR && packet[3] == NX_ERR_UNSUPPORTED_VERSION && packet[6] == 1,
          "a version 3 HELLO is answered unsupported_version, detail 1");
    CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE && dev.counters.dropped_frames == dropped + 234 + 4,
          "and counts the gap from seq 1 to 5 like any frame");
    send_raw(1, NX_HELLO, 99, NULL, 0); /* an accepted HELLO counts nothing */
    CHECK(dev.failsafe == NX_FAILSAFE_IDLE && dev.counters.dropped_frames == dropped + 238, "an accepted HELLO");
}

/* Section 11: the device's version-2 frames equal the version-2 vectors byte for byte: the
 * DEVICE_INFO after a version-2 HELLO and the CHANNEL_INFO of every channel, names included. */
static void test_device_builds_v2_vector_frames(void)
{
    uint8_t in[NX_FRAME_MAX], want[NX_FRAME_MAX];
    device_start();
    int n = case_wire_v2("hello", in, sizeof in);
    int m = case_wire_v2("device_info_reference_robot", want, sizeof want);
    device_feed(in, (size_t)n);
    CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "version-2 DEVICE_INFO differs from its vector");
    static const char *groups[2] = {"sensor", "actuator"};
    const uint8_t counts[2] = {NX_SENSOR_COUNT, NX_ACTUATOR_COUNT};
    for (int g = 0; g < 2; g++) {
        for (int i = 0; i < counts[g]; i++) {
            char name[64];
            fake.tx_len = 0;
            snprintf(name, sizeof name, "get_channel_%s_%d", groups[g], i);
            n = case_wire_v2(name, in, sizeof in);
            snprintf(name, sizeof name, "channel_info_%s_%d", groups[g], i);
            m = case_wire_v2(name, want, sizeof want);
            device_feed(in, (size_t)n);
            CHECK(fake.tx_len == (uint32_t)m && memcmp(fake.tx, want, (size_t)m) == 0, "%s differs from its vector", name);
        }
    }
}

/* Section 11: the session's version is the last accepted HELLO's. A version-1 HELLO after a
 * version-2 session makes the device speak version 1 exactly as before: version-2 types are
 * unknown again and every frame it sends carries version 1. */
static void test_version_follows_the_hello(void)
{
    uint8_t packet[NX_PACKET_MAX];
    device_start();
    CHECK(dev.version == 1, "a device starts speaking version 1");
    send_raw(1, NX_GET_CHANNEL, 0, (const uint8_t *)"\0\0", 2);
    CHECK(last_reply(packet) == NX_ERROR && packet[0] == 1 && packet[3] == NX_ERR_UNKNOWN_TYPE,
          "GET_CHANNEL in a version-1 session is unknown_type");
    fake.tx_len = 0;
    send_raw(2, NX_GET_STATUS, 1, NULL, 0);
    CHECK(last_reply(packet) == NX_ERROR && packet[0] == 1 && packet[3] == NX_ERR_UNSUPPORTED_VERSION &&
          packet[6] == 1, "before a version-2 HELLO only a HELLO may carry version 2");
    fake.tx_len = 0;
    send_raw(2, NX_HELLO, 2, NULL, 0);
    CHECK(last_reply(packet) == NX_DEVICE_INFO && packet[0] == 2 && dev.version == 2, "a version-2 HELLO: version 2");
    fake.tx_len = 0;
    send_raw(2, NX_GET_CHANNEL, 3, (const uint8_t *)"\x01\x02", 2);
    CHECK(last_reply(packet) == NX_CHANNEL_INFO && packet[0] == 2 && packet[5] == 5 && memcmp(packet + 6, "servo", 5) == 0,
          "actuator 2 is called servo");
    fake.tx_len = 0;
    send_raw(1, NX_PING, 4, (const uint8_t *)"\0\0\0\0", 4);
    CHECK(last_reply(packet) == NX_ERROR && packet[0] == 2 && packet[3] == NX_ERR_UNSUPPORTED_VERSION &&
          packet[6] == 2, "a version-1 PING in a version-2 session: unsupported_version, detail 2");
    fake.tx_len = 0;
    send_raw(1, NX_HELLO, 5, NULL, 0);
    CHECK(last_reply(packet) == NX_DEVICE_INFO && packet[0] == 1 && dev.version == 1, "a version-1 HELLO: version 1");
    fake.tx_len = 0;
    send_raw(1, NX_GET_CHANNEL, 6, (const uint8_t *)"\0\0", 2);
    CHECK(last_reply(packet) == NX_ERROR && packet[0] == 1 && packet[3] == NX_ERR_UNKNOWN_TYPE,
          "back in version 1, GET_CHANNEL is unknown_type again");
    CHECK(dev.counters.dropped_frames == 0, "no frame was lost: %u", (unsigned)dev.counters.dropped_frames);
}

/* Section 12: SET_BAUD is acknowledged at the old speed, then the line changes; a good frame at
 * the new speed confirms it; without one the board goes back within NX_BAUD_CONFIRM_MS; at a
 * raised speed a quiet line sends it back to the boot speed after NX_BAUD_QUIET_MS. */
static void test_baud_switch_and_fallback(void)
{
    uint8_t packet[NX_PACKET_MAX], body[4];
    device_start();
    send_raw(2, NX_HELLO, 0, NULL, 0);
    fake.tx_len = 0;
    nx_put_u32(body, 1000000u);
    send_raw(2, NX_SET_BAUD, 1, body, 4);
    CHECK(last_reply(packet) == NX_BAUD_ACK && nx_get_u32(packet + 3) == 1000000u, "BAUD_ACK with the speed");
    CHECK(fake.baud == 1000000u && fake.baud_changes == 1 && fake.tx_len_at_baud_change == fake.tx_len,
          "the line changes after the whole BAUD_ACK was queued at the old speed");
    /* confirmed by a PING at the new speed: the speed stays, even after the confirm window */
    fake.now_us += 100000u;
    send_raw(2, NX_PING, 2, (const uint8_t *)"\0\0\0\0", 4);
    CHECK(last_reply(packet) == NX_PONG, "PONG at the new speed");
    for (int i = 0; i < 8; i++) { /* PINGs every 100 ms keep the line busy for 800 ms */
        run_until(fake.now_us + 100000u, 1000u);
        send_raw(2, NX_PING, (uint8_t)(3 + i), (const uint8_t *)"\0\0\0\0", 4);
    }
    CHECK(fake.baud == 1000000u && fake.baud_changes == 1, "a confirmed speed stays while frames come");
    /* quiet for NX_BAUD_QUIET_MS: back to the boot speed */
    uint64_t quiet_from = fake.now_us;
    run_until(quiet_from + NX_BAUD_QUIET_MS * 1000u - 1000u, 1000u);
    CHECK(fake.baud == 1000000u, "not before %u ms of quiet", NX_BAUD_QUIET_MS);
    run_until(quiet_from + NX_BAUD_QUIET_MS * 1000u + 1000u, 1000u);
    CHECK(fake.baud == NX_BOOT_BAUD && fake.baud_changes == 2, "back at %u baud after a quiet second", NX_BOOT_BAUD);

    /* not confirmed: nothing valid at the new speed within NX_BAUD_CONFIRM_MS, so back to the old */
    nx_put_u32(body, 500000u);
    send_raw(2, NX_SET_BAUD, 20, body, 4);
    CHECK(fake.baud == 500000u && fake.baud_changes == 3, "switched to 500000");
    uint64_t switched = fake.now_us;
    static const uint8_t noise[] = {0x13, 0x37, 0x00, 0x55, 0x00}; /* what a wrong speed looks like */
    device_feed(noise, sizeof noise);
    run_until(switched + NX_BAUD_CONFIRM_MS * 1000u - 1000u, 1000u);
    CHECK(fake.baud == 500000u, "noise does not confirm, and the board waits %u ms", NX_BAUD_CONFIRM_MS);
    run_until(switched + NX_BAUD_CONFIRM_MS * 1000u + 1000u, 1000u);
    CHECK(fake.baud == NX_BOOT_BAUD && fake.baud_changes == 4, "unconfirmed: back to the speed before");
    fake.tx_len = 0;
    send_raw(2, NX_PING, 21, (const uint8_t *)"\0\0\0\0", 4);
    CHECK(last_reply(packet) == NX_PONG, "and the link works at the old speed");

    /* a speed the board does not run changes nothing */
    fake.tx_len = 0;
    nx_put_u32(body, 9600u);
    send_raw(2, NX_SET_BAUD, 22, body, 4);
    CHECK(last_reply(packet) == NX_ERROR && packet[3] == NX_ERR_OUT_OF_RANGE && packet[6] == 1 && fake.baud_changes == 4,
          "9600 baud: out_of_range, detail 1, no change");
    /* in a version-1 session SET_BAUD does not exist */
    send_raw(1, NX_HELLO, 23, NULL, 0);
    fake.tx_len = 0;
    nx_put_u32(body, 1000000u);
    send_raw(1, NX_SET_BAUD, 24, body, 4);
    CHECK(last_reply(packet) == NX_ERROR && packet[3] == NX_ERR_UNKNOWN_TYPE && fake.baud_changes == 4,
          "version 1: SET_BAUD is an unknown type");
}

/* A channel declared in millimetre goes to a version-1 peer as unit none with the same range,
 * and to a version-2 peer as millimetre (the unit version 1 does not list would make a
 * version-1 host refuse the board). */
static void test_millimetre_for_each_version(void)
{
    static const nx_channel ranger = {NX_KIND_ANALOG, NX_UNIT_MILLIMETRE, 0, 4000, 0};
    uint8_t v1[NX_DESCRIPTOR_SIZE], v2[NX_DESCRIPTOR_SIZE];
    nx_put_descriptor(v1, &ranger, 1);
    nx_put_descriptor(v2, &ranger, 2);
    CHECK(v1[0] == NX_KIND_ANALOG && v1[1] == NX_UNIT_NONE && nx_get_i16(v1 + 4) == 4000, "version 1: unit none");
    CHECK(v2[1] == NX_UNIT_MILLIMETRE && nx_get_i16(v2 + 4) == 4000, "version 2: millimetre");
}

/* Section 6: the deadline counts from the handling of the closing 0x00 of the last valid
 * COMMAND or PING, however long the frame took to arrive. */
static void test_failsafe_counts_from_the_closing_delimiter(void)
{
    static const uint8_t kinds[2] = {NX_COMMAND, NX_PING};
    for (int k = 0; k < 2; k++) {
        device_start();
        send_config(10, 50, 0);
        send_command(500, 500, 90);
        uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX];
        uint8_t *b = nx_packet_begin(packet, kinds[k], 100);
        memcpy(b, "\xf4\x01\xf4\x01\x5a\x00", 6);
        uint16_t len = nx_packet_finish(packet, kinds[k] == NX_COMMAND ? 6 : 4);
        uint16_t w = nx_cobs_encode(packet, len, wire);
        wire[w++] = 0;
        fake.now_us = 10000; /* the earlier command's deadline is at 50 ms: the frame ends first */
        for (uint16_t i = 0; i < w; i++) { /* one byte every 3 ms, polling every 100 µs */
            device_feed(wire + i, 1);
            if (i + 1 < w) {
                run_until(fake.now_us + 3000, 100);
            }
        }
        uint64_t delimiter = fake.now_us;
        CHECK(dev.last_valid_us == delimiter, "%s: deadline from %u µs, the delimiter came at %llu µs",
              kinds[k] == NX_COMMAND ? "COMMAND" : "PING", (unsigned)dev.last_valid_us,
              (unsigned long long)delimiter);
        run_until(delimiter + 49900, 100);
        CHECK(dev.failsafe == NX_FAILSAFE_ACTIVE, "still active 49.9 ms after the delimiter");
        run_until(delimiter + 50000, 100);
        CHECK(dev.failsafe == NX_FAILSAFE_TIMEOUT, "tripped 50 ms after the delimiter");
    }
    /* frames other than a valid COMMAND or PING do not refresh the deadline */
    device_start();
    send_config(10, 50, 0);
    send_command(500, 500, 90);
    uint64_t start = fake.now_us;
    run_until(start + 40000, 100);
    send_config(10, 50, 0);
    device_send(NX_GET_STATUS, NULL, 0);
    device_send(NX_PING, (const uint8_t *)"\0\0\0", 3); /* bad length */
    device_send(0x42, NULL, 0);
    run_until(start + 50000, 100);
    CHECK(dev.failsafe == NX_FAILSAFE_TIMEOUT, "CONFIG, GET_STATUS and rejected frames do not refresh it");
}

/* Section 5, SENSORS: a sample is stamped when it is taken; with the loop running at least
 * every 1 ms it is taken less than 1 ms after its due time; after a stall it is less than one
 * period late and the whole periods missed are counted. */
static void test_sample_lateness_bound(void)
{
    static uint32_t stamps[4096];
    static uint8_t seqs[4096];
    device_start();
    send_config(5, 100, 0x7F);
    uint32_t t0 = (uint32_t)fake.now_us;
    fake.tx_len = 0;
    rng_state = 4242;
    uint32_t worst = 0;
    while (fake.now_us < 10000000u) { /* 10 s, the loop coming round every 1..1000 µs */
        fake.now_us += 1 + rng() % 1000;
        nx_device_poll(&dev, (uint32_t)fake.now_us);
    }
    int n = collect_sensors(stamps, seqs, 4096);
    CHECK(n >= 1999 && n <= 2000, "%d samples in 10 s at 5 ms", n);
    for (int i = 0; i < n; i++) {
        uint32_t due = t0 + 5000u * (uint32_t)(i + 1);
        uint32_t late = stamps[i] - due;
        worst = late > worst ? late : worst;
        CHECK(late < 1000u, "sample %d stamped %u µs after its due time", i, late);
    }
    printf("  info: sample lateness with the loop every <= 1 ms: worst %u µs (bound 1000 µs)\n", worst);
    CHECK(dev.counters.loop_overruns == 0, "no overruns");
    /* a stall of 23.7 ms at 5 ms: 4 samples missed, the late one < 5 ms after the last due */
    fake.tx_len = 0;
    uint32_t due = dev.next_sample_us;
    fake.now_us = due + 23700u;
    nx_device_poll(&dev, (uint32_t)fake.now_us);
    n = collect_sensors(stamps, seqs, 4);
    CHECK(n == 1 && dev.counters.loop_overruns == 4, "one sample, 4 overruns (got %d, %u)", n,
          (unsigned)dev.counters.loop_overruns);
    CHECK(n == 1 && stamps[0] - (due + 4u * 5000u) < 5000u, "less than one period after the last due time");
    CHECK(dev.next_sample_us == due + 5u * 5000u, "the schedule does not drift");
}

/* STOP makes the actuators safe but sampling goes on, on the same schedule. */
static void test_stop_keeps_streaming(void)
{
    static uint32_t stamps[256];
    static uint8_t seqs[256];
    device_start();
    send_config(10, 20, 0x01);
    uint32_t t0 = (uint32_t)fake.now_us;
    send_command(300, 300, 10);
    run_until(fake.now_us + 45000, 100);
    device_send(NX_STOP, NULL, 0);
    CHECK(dev.failsafe == NX_FAILSAFE_STOPPED && fake.actuators[0] == 0, "stopped and safe");
    fake.tx_len = 0;
    uint32_t trips = dev.counters.failsafe_trips;
    run_until(fake.now_us + 500000, 100);
    int n = collect_sensors(stamps, seqs, 256);
    CHECK(n == 50, "%d samples in the 500 ms after STOP, expected 50", n);
    for (int i = 0; i < n; i++) {
        uint32_t due = t0 + 10000u * (uint32_t)(i + 5);
        CHECK(stamps[i] == due, "sample %d at %u µs, due %u (the schedule of CONFIG)", i, stamps[i], due);
    }
    CHECK(dev.failsafe == NX_FAILSAFE_STOPPED && dev.counters.failsafe_trips == trips,
          "the failsafe does not trip while stopped");
    send_config(10, 20, 0);
    fake.tx_len = 0;
    run_until(fake.now_us + 100000, 100);
    CHECK(fake.tx_len == 0, "CONFIG with mask 0 ends streaming");
}

/* A full receive buffer (the AVR's ring keeps 63 bytes) loses bytes while the main loop is
 * held up. The damaged frame mostly fails its COBS framing, sometimes its CRC; every frame lost
 * shows in dropped_frames by its seq gap, and none is accepted damaged. */
static void test_full_receive_buffer(void)
{
    enum { ROOM = 63, FRAMES = 24, ROUNDS = 2000 };
    uint8_t stream[FRAMES * 16], packet[NX_PACKET_MAX], buf[NX_PACKET_MAX];
    uint16_t starts[FRAMES + 1];
    uint32_t cobs = 0, crc = 0, other = 0, damaged_frames = 0;
    rng_state = 99;
    for (int round = 0; round < ROUNDS; round++) {
        device_start();
        uint16_t n = 0;
        for (int f = 0; f < FRAMES; f++) { /* PINGs with random tokens, seq 0.. */
            uint8_t *b = nx_packet_begin(packet, NX_PING, (uint8_t)f);
            nx_put_u32(b, rng());
            uint16_t len = nx_packet_finish(packet, 4);
            starts[f] = n;
            n = (uint16_t)(n + nx_cobs_encode(packet, len, stream + n));
            stream[n++] = 0;
        }
        starts[FRAMES] = n;
        /* the loop is held up from the start until `resume`: bytes ROOM.. up to it are lost */
        uint16_t resume = (uint16_t)(ROOM + 1 + rng() % (uint32_t)(n - ROOM - 40));
        uint16_t lost = (uint16_t)(resume - ROOM);
        fake.rx_overflows += lost;
        uint8_t survived[FRAMES * 16];
        memcpy(survived, stream, ROOM);
        memcpy(survived + ROOM, stream + resume, (size_t)(n - resume));
        uint16_t m = (uint16_t)(n - lost);
        fake.tx_len = 0;
        device_feed(survived, m);
        /* what reached the device: whole frames before the loss and after it */
        int intact = 0;
        for (int f = 0; f < FRAMES; f++) { /* a frame after the loss is whole if a delimiter came before it */
            intact += (starts[f + 1] <= ROOM) || (starts[f] > resume) || (starts[f] == resume && stream[ROOM - 1] == 0);
        }
        static uint8_t got[64][NX_PACKET_MAX];
        uint16_t lens[64];
        int pongs = device_frames(got, lens, 64);
        CHECK(pongs == intact, "round %d: %d PONGs, %d frames arrived whole", round, pongs, intact);
        CHECK(dev.counters.dropped_frames == (uint32_t)(FRAMES - pongs), "round %d: dropped_frames %u, lost %d",
              round, (unsigned)dev.counters.dropped_frames, FRAMES - pongs);
        damaged_frames += dev.counters.malformed_frames + dev.counters.crc_errors;
        CHECK(dev.counters.malformed_frames + dev.counters.crc_errors >= 1, "round %d: the damage is seen", round);
        /* classify the damaged frames as the decoder reports them */
        nx_decoder d;
        nx_decoder_init(&d, buf, sizeof buf);
        for (uint16_t i = 0; i < m; i++) {
            nx_dec_result x = nx_decoder_push(&d, survived[i]);
            if (x == NX_DEC_FRAME) {
                x = nx_packet_verify(buf, d.len);
            }
            cobs += x == NX_DEC_ERR_COBS;
            crc += x == NX_DEC_ERR_CRC;
            other += x == NX_DEC_ERR_TOO_SHORT || x == NX_DEC_ERR_TOO_LONG;
        }
        if (t_failures_in_test() > 0) {
            break;
        }
    }
    CHECK(cobs > crc && crc > 0, "cobs %u, crc %u", (unsigned)cobs, (unsigned)crc);
    printf("  info: full receive buffer, %u damaged frames in %d stalls: %u cobs, %u crc, %u too_short/too_long\n",
           (unsigned)damaged_frames, ROUNDS, (unsigned)cobs, (unsigned)crc, (unsigned)other);
}

static void test_step_kicks_watchdog_and_reads_uart(void)
{
    device_start();
    uint8_t wire[NX_FRAME_MAX];
    uint16_t w = make_frame(wire, NX_PING, 0, (const uint8_t *)"\x01\x00\x00\x00", 4);
    fake.rx = wire;
    fake.rx_len = w;
    nx_device_step(&dev);
    CHECK(fake.watchdog_kicks == 1, "the watchdog is kicked every step");
    CHECK(fake.rx_len == 0 && fake.tx_len > 0, "every received byte is handled in one step");
}

/* Every kept fuzz crash still runs cleanly (under the sanitizers). */
static const char *regression_dir;
static void test_fuzz_regressions(void)
{
    DIR *dir = opendir(regression_dir);
    CHECK(dir != NULL, "cannot open %s", regression_dir);
    if (dir == NULL) {
        return;
    }
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", regression_dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            continue;
        }
        static uint8_t data[1 << 16];
        size_t n = fread(data, 1, sizeof data, f);
        fclose(f);
        device_start();
        device_feed(data, n);
        files++;
    }
    closedir(dir);
    CHECK(files >= 1, "no regression inputs in %s", regression_dir);
}

/* The reference robot's description (robots/reference.yaml) generates exactly the channel
 * table the firmware carried by hand before descriptions existed (protocol version 1, the
 * reference robot of Docs/PROTOCOL.md), in the same order. */
static void test_reference_description_generates_the_v1_table(void)
{
    static const nx_channel sensors[7] = {
        {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},   {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},
        {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},   {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},
        {NX_KIND_DIGITAL, NX_UNIT_NONE, 0, 1, 0},          {NX_KIND_ENCODER, NX_UNIT_TICK, -32768, 32767, 0},
        {NX_KIND_ENCODER, NX_UNIT_TICK, -32768, 32767, 0}};
    static const nx_channel actuators[3] = {
        {NX_KIND_MOTOR, NX_UNIT_PER_MILLE, -1000, 1000, 0}, {NX_KIND_MOTOR, NX_UNIT_PER_MILLE, -1000, 1000, 0},
        {NX_KIND_SERVO, NX_UNIT_DEGREE, 0, 180, 90}};
    CHECK(NX_SENSOR_COUNT == 7 && NX_ACTUATOR_COUNT == 3, "7 sensors and 3 actuators, got %d and %d",
          NX_SENSOR_COUNT, NX_ACTUATOR_COUNT);
    for (int i = 0; i < 7 && i < NX_SENSOR_COUNT; i++) {
        const nx_channel *a = &nx_sensor_channels[i], *b = &sensors[i];
        CHECK(a->kind == b->kind && a->unit == b->unit && a->min == b->min && a->max == b->max && a->safe == b->safe,
              "sensor %d: %d %d %d %d %d", i, a->kind, a->unit, a->min, a->max, a->safe);
    }
    for (int i = 0; i < 3 && i < NX_ACTUATOR_COUNT; i++) {
        const nx_channel *a = &nx_actuator_channels[i], *b = &actuators[i];
        CHECK(a->kind == b->kind && a->unit == b->unit && a->min == b->min && a->max == b->max && a->safe == b->safe,
              "actuator %d: %d %d %d %d %d", i, a->kind, a->unit, a->min, a->max, a->safe);
    }
    CHECK(NX_SENSOR_RANGE_LEFT == 0 && NX_SENSOR_BUMPER == 4 && NX_SENSOR_WHEEL_RIGHT == 6 &&
          NX_ACTUATOR_MOTOR_LEFT == 0 && NX_ACTUATOR_SERVO == 2, "channel indices by name");
    CHECK(strcmp(NX_ROBOT_BOARD_NAME, "neuraxon-uno") == 0 && NX_ROBOT_PERIOD_MIN_MS == 4u &&
          NX_FAILSAFE_MIN_MS == 10u && NX_FAILSAFE_MAX_MS == 250u && NX_DEFAULT_PERIOD_MS == 10u &&
          NX_DEFAULT_FAILSAFE_MS == 100u, "board name, period and failsafe limits as before");
}

static int write_corpus(const char *dir, const char *prefix)
{
    for (int i = 0; i < case_count; i++) {
        const char *w = vec_get(&cases[i], "wire");
        uint8_t data[1024];
        int n = w ? vec_hex(w, data, sizeof data) : -1;
        if (n <= 0) {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s%s", dir, prefix, cases[i].name);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(data, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
        fclose(f);
    }
    return 0;
}

/* The AVR port's millivolts from a raw ADC reading, without a division, for every raw value. */
static void test_adc_millivolts(void)
{
    int wrong = 0;
    for (uint32_t raw = 0; raw <= 1023u; raw++) {
        int16_t want = (int16_t)((raw * 5000u + 511u) / 1023u);
        if (nx_adc_millivolts((uint16_t)raw) != want) {
            wrong++;
        }
    }
    CHECK(wrong == 0, "%d of 1024 raw readings converted wrong", wrong);
    CHECK(nx_adc_millivolts(0) == 0 && nx_adc_millivolts(1023) == 5000 && nx_adc_millivolts(512) == 2502,
          "0, 5000 and 2502 mV at the ends and the middle");
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "--write-corpus") == 0) {
        case_count = vec_load(argv[2], cases, VEC_MAX_CASES);
        return case_count < 0 ? 1 : write_corpus(argv[3], argc == 5 ? argv[4] : "");
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s V1_VECTORS_FILE V2_VECTORS_FILE [FUZZ_REGRESSION_DIR]\n", argv[0]);
        return 2;
    }
    case_count = vec_load(argv[1], cases, VEC_MAX_CASES);
    case_count_v2 = vec_load(argv[2], cases_v2, VEC_MAX_CASES);
    if (case_count < 0 || case_count_v2 < 0) {
        return 1;
    }
    for (int i = 0; i < case_count; i++) {
        char name[300];
        snprintf(name, sizeof name, "vector %s", cases[i].name);
        current = &cases[i];
        current_version = 1;
        t_run(name, run_vector_case);
    }
    for (int i = 0; i < case_count_v2; i++) {
        char name[300];
        snprintf(name, sizeof name, "vector v2 %s", cases_v2[i].name);
        current = &cases_v2[i];
        current_version = 2;
        t_run(name, run_vector_case);
    }
    current_version = 1;
    t_run("the reference description generates the v1 reference table", test_reference_description_generates_the_v1_table);
    t_run("vectors cover every message and error", test_vectors_cover_every_message);
    t_run("device builds the vector frames", test_device_builds_vector_frames);
    t_run("device builds the version-2 vector frames", test_device_builds_v2_vector_frames);
    t_run("the session's version follows the HELLO", test_version_follows_the_hello);
    t_run("millimetre for each version", test_millimetre_for_each_version);
    t_run("baud switch, confirmation and fallback", test_baud_switch_and_fallback);
    t_run("decoder round trips every length and byte", test_decoder_round_trips_every_length_and_byte);
    t_run("decoder overflow then resync", test_decoder_overflow_then_resync);
    t_run("one million corrupted frames", test_million_corrupted_frames);
    t_run("every drop counted", test_every_drop_counted);
    t_run("sampling period is exact", test_sampling_period_is_exact);
    t_run("overruns counted", test_overruns_counted);
    t_run("failsafe timing", test_failsafe_timing);
    t_run("ping keeps alive, rejected command does not", test_ping_keeps_alive_and_rejected_command_does_not);
    t_run("stop and hello", test_stop_and_hello);
    t_run("status counters", test_status_counters);
    t_run("sequence tracking at start", test_sequence_at_start);
    t_run("a rejected HELLO is not a HELLO", test_rejected_hello_is_not_a_hello);
    t_run("failsafe counts from the closing delimiter", test_failsafe_counts_from_the_closing_delimiter);
    t_run("sample lateness bound", test_sample_lateness_bound);
    t_run("STOP keeps streaming", test_stop_keeps_streaming);
    t_run("full receive buffer shows as cobs errors", test_full_receive_buffer);
    t_run("step kicks the watchdog and reads the uart", test_step_kicks_watchdog_and_reads_uart);
    t_run("ADC millivolts without a division, every raw value", test_adc_millivolts);
    if (argc >= 4) {
        regression_dir = argv[3];
        t_run("fuzz regressions", test_fuzz_regressions);
    }
    return t_summary("host unit and scenario tests");
}
