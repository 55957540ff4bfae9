/* End-to-end tests through real pseudo-terminals: the host port executable (virtual clock and
 * real time), and the real AVR build running under the simavr harness.
 * Usage: nx-e2e host FIRMWARE_EXECUTABLE
 *        nx-e2e avr HARNESS FIRMWARE.elf */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "link.h"
#include "nx_proto.h"
#include "nx_robot.h"

static link_t link_;
static link_t *L = &link_;
static uint8_t pkt[NX_PACKET_MAX];

static void config(uint16_t period, uint16_t timeout, uint16_t mask)
{
    uint8_t b[6];
    nx_put_u16(b, period);
    nx_put_u16(b + 2, timeout);
    nx_put_u16(b + 4, mask);
    link_send(L, NX_CONFIG, b, 6);
    int n = link_recv(L, NX_CONFIG_ACK, pkt, 3000);
    CHECK(n == 11 && memcmp(pkt + 3, b, 6) == 0, "CONFIG_ACK with the values sent");
}

static void command(int16_t left, int16_t right, int16_t servo)
{
    uint8_t b[6];
    nx_put_i16(b, left);
    nx_put_i16(b + 2, right);
    nx_put_i16(b + 4, servo);
    link_send(L, NX_COMMAND, b, 6);
}

/* PING and wait for its PONG: everything sent before has been handled. Returns the device
 * timestamp of the PONG, µs. */
static uint32_t barrier(void)
{
    static uint32_t token = 1000;
    uint8_t b[4];
    nx_put_u32(b, ++token);
    link_send(L, NX_PING, b, 4);
    for (int tries = 0; tries < 20; tries++) {
        int n = link_recv(L, NX_PONG, pkt, 3000);
        CHECK(n == 13, "PONG received");
        if (n != 13) {
            return 0;
        }
        if (nx_get_u32(pkt + 3) == token) {
            return nx_get_u32(pkt + 7);
        }
    }
    return 0;
}

/* A PING whose CRC is wrong in one bit. */
static void send_bad_crc(void)
{
    uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX];
    uint8_t *b = nx_packet_begin(packet, NX_PING, 200);
    nx_put_u32(b, 0x01020304u);
    uint16_t len = nx_packet_finish(packet, 4);
    packet[len - 1] ^= 0x01;
    uint16_t w = nx_cobs_encode(packet, len, wire);
    wire[w++] = 0;
    link_write(L, wire, w);
}

static void get_status(uint8_t *failsafe, uint32_t *trips, uint32_t *crc_errors, uint32_t *rejected)
{
    link_send(L, NX_GET_STATUS, NULL, 0);
    int n = link_recv(L, NX_STATUS, pkt, 3000);
    CHECK(n == 39, "STATUS received");
    const uint8_t *b = pkt + 3;
    *failsafe = b[0];
    *crc_errors = nx_get_u32(b + 6);
    *rejected = nx_get_u32(b + 14);
    *trips = nx_get_u32(b + 26);
}

static void hello(const char *board)
{
    int n = -1;
    for (int tries = 0; tries < 12 && n < 0; tries++) { /* retry every 250 ms, as a host does */
        link_send(L, NX_HELLO, NULL, 0);
        n = link_recv(L, NX_DEVICE_INFO, pkt, 250);
    }
    CHECK(n > 0, "DEVICE_INFO answers HELLO");
    if (n <= 0) {
        return;
    }
    const uint8_t *b = pkt + 3;
    CHECK(b[0] == NX_FIRMWARE_MAJOR && b[19] == NX_SENSOR_COUNT && b[20] == NX_ACTUATOR_COUNT,
          "versions and channel counts");
    CHECK(b[21] == strlen(board) && memcmp(b + 22, board, b[21]) == 0, "board name %s", board);
    const uint8_t *d = b + 22 + b[21];
    for (int i = 0; i < NX_SENSOR_COUNT + NX_ACTUATOR_COUNT; i++, d += NX_DESCRIPTOR_SIZE) {
        const nx_channel *c = i < NX_SENSOR_COUNT ? &nx_sensor_channels[i] : &nx_actuator_channels[i - NX_SENSOR_COUNT];
        CHECK(d[0] == c->kind && d[1] == c->unit && nx_get_i16(d + 2) == c->min && nx_get_i16(d + 4) == c->max &&
              nx_get_i16(d + 6) == c->safe, "descriptor %d", i);
    }
}

/* After HELLO, the 7 bytes 06 01 82 01 77 96 00 (a CONFIG_ACK with no body, seq 1), then every
 * device -> host type with several body lengths: each is answered ERROR unknown_type with the
 * frame's type and seq and detail 0, never bad_length. */
static void check_device_types_rejected(void)
{
    static const uint8_t issue[] = {0x06, 0x01, 0x82, 0x01, 0x77, 0x96, 0x00};
    link_drain(L);
    link_write(L, issue, sizeof issue);
    int n = link_recv(L, NX_ERROR, pkt, 3000);
    CHECK(n == 9 && pkt[3] == NX_ERR_UNKNOWN_TYPE && pkt[4] == 0x82 && pkt[5] == 1 && pkt[6] == 0,
          "06 01 82 01 77 96 00 answered ERROR code %d ref_type 0x%02x ref_seq %d detail %d, expected "
          "unknown_type for 0x82 seq 1 detail 0", n == 9 ? pkt[3] : -1, pkt[4], pkt[5], pkt[6]);
    static const uint8_t types[] = {NX_DEVICE_INFO, NX_CONFIG_ACK, NX_PONG, NX_STATUS, NX_SENSORS, NX_ERROR, 0x00, 0x07, 0x80};
    static const uint16_t lengths[] = {0, 4, 6, 8, 34, 102};
    uint8_t body[NX_BODY_MAX];
    memset(body, 0x11, sizeof body);
    int answered = 0;
    for (size_t t = 0; t < sizeof types; t++) {
        for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
            uint8_t seq = L->seq;
            link_send(L, types[t], body, lengths[k]);
            n = link_recv(L, NX_ERROR, pkt, 3000);
            bool ok = n == 9 && pkt[3] == NX_ERR_UNKNOWN_TYPE && pkt[4] == types[t] && pkt[5] == seq && pkt[6] == 0;
            CHECK(ok, "type 0x%02x with %u body bytes: ERROR code %d detail %d", types[t], lengths[k],
                  n == 9 ? pkt[3] : -1, n == 9 ? pkt[6] : -1);
            answered += ok;
        }
    }
    uint8_t failsafe;
    uint32_t trips, crc, rejected;
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(rejected == (uint32_t)answered + 1, "rejected_frames %u, expected %d", rejected, answered + 1);
}

/* ------------------------------------------------------------------ host port */

static const char *host_exe;

static bool start_host(bool virtual_clock)
{
    char *argv[] = {(char *)host_exe, virtual_clock ? "--virtual-clock" : "--id",
                    virtual_clock ? NULL : "0102030405060708", NULL};
    bool ok = link_start(L, argv);
    CHECK(ok, "%s starts and prints its pty", host_exe);
    return ok;
}

static bool expect_line(const char *prefix, int timeout_ms)
{
    char line[256];
    bool ok = link_line(L, prefix, line, sizeof line, timeout_ms, NULL, NULL);
    CHECK(ok, "no line \"%s\"", prefix);
    return ok;
}

static void collect(const char *line, void *context)
{
    char *seen = context;
    if (strlen(seen) + strlen(line) + 2 < 8192) {
        strcat(seen, line);
        strcat(seen, "\n");
    }
}

/* Waits for `until` and returns every line before it (in a static buffer). */
static const char *lines_until(const char *until)
{
    static char seen[8192];
    seen[0] = '\0';
    char line[256];
    bool ok = link_line(L, until, line, sizeof line, 5000, collect, seen);
    CHECK(ok, "no line \"%s\"", until);
    return seen;
}

static void test_host_virtual_clock(void)
{
    if (!start_host(true)) {
        return;
    }
    const char *boot = lines_until("failsafe idle");
    CHECK(strstr(boot, "actuator 0 0\n") && strstr(boot, "actuator 1 0\n") && strstr(boot, "actuator 2 90\n"),
          "every actuator reported at its safe value at start");
    hello("neuraxon-host");

    /* the stream follows the injected sensors, exactly on the period */
    static const int16_t values[7] = {3100, 400, 2500, 1200, 1, -5, 32000};
    for (int i = 0; i < 7; i++) {
        link_say(L, "sensor %d %d", i, values[i]);
    }
    config(5, 100, 0x7F);
    uint32_t t0 = barrier();
    link_say(L, "advance 50000");
    expect_line("time ", 5000);
    for (int k = 1; k <= 10; k++) {
        int n = link_recv(L, NX_SENSORS, pkt, 3000);
        CHECK(n == 25, "SENSORS %d", k);
        if (n != 25) {
            break;
        }
        CHECK(nx_get_u32(pkt + 3) == t0 + 5000u * (uint32_t)k, "sample %d at %u, expected %u", k,
              nx_get_u32(pkt + 3), t0 + 5000u * k);
        for (int i = 0; i < 7; i++) {
            CHECK(nx_get_i16(pkt + 9 + 2 * i) == values[i], "reading %d", i);
        }
    }
    config(5, 100, 0); /* quiet, for the failsafe part */

    /* commands reach the actuator lines; the failsafe fires exactly at the timeout */
    command(400, -400, 120);
    uint32_t tc = barrier();
    const char *seen = lines_until("failsafe active");
    CHECK(strstr(seen, "actuator 0 400\n") && strstr(seen, "actuator 1 -400\n") && strstr(seen, "actuator 2 120\n"),
          "command applied:\n%s", seen);
    link_say(L, "advance 99900");
    seen = lines_until("time ");
    CHECK(strstr(seen, "actuator 0 0") == NULL && strstr(seen, "failsafe") == NULL, "nothing before the deadline");
    link_say(L, "advance 100");
    char line[64];
    CHECK(link_line(L, "time ", line, sizeof line, 5000, NULL, NULL), "time line");
    CHECK(strtoul(line + 5, NULL, 10) == tc + 100000u, "deadline at %u + 100000: %s", tc, line);
    uint8_t failsafe;
    uint32_t trips, crc, rejected;
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(failsafe == NX_FAILSAFE_TIMEOUT && trips == 1, "STATUS: timeout, one trip");

    /* recovery */
    command(-1000, 1000, 0);
    barrier();
    seen = lines_until("failsafe active");
    CHECK(strstr(seen, "actuator 0 -1000\n") != NULL, "recovered:\n%s", seen);

    /* bad input: a corrupt frame is counted, an out-of-range setpoint answered with ERROR */
    send_bad_crc();
    command(0, 0, 181);
    int n = link_recv(L, NX_ERROR, pkt, 3000);
    CHECK(n == 9 && pkt[3] == NX_ERR_OUT_OF_RANGE && pkt[6] == 2, "ERROR out_of_range for the servo");
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(crc == 1 && rejected == 1, "crc_errors %u, rejected %u", crc, rejected);

    /* a bad stdin line is explained on stderr and the link carries on */
    link_say(L, "sensor 12 5");
    CHECK(link_stderr_has(L, "stdin line 11: \"sensor 12 5\": expected \"sensor <index 0..6> <value>\"", 3000),
          "the bad line explained on stderr, got: %s", L->err);
    link_say(L, "advance 1");
    expect_line("time ", 5000);
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

static void test_host_device_types(void)
{
    if (!start_host(false)) {
        return;
    }
    hello("neuraxon-host");
    check_device_types_rejected();
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

static void test_host_real_time(void)
{
    if (!start_host(false)) {
        return;
    }
    hello("neuraxon-host");
    config(10, 100, 0x03);
    uint32_t first = 0, last = 0;
    int frames = 0;
    for (; frames < 30; frames++) {
        int n = link_recv(L, NX_SENSORS, pkt, 2000);
        CHECK(n == 15, "SENSORS frame %d", frames);
        if (n != 15) {
            break;
        }
        last = nx_get_u32(pkt + 3);
        if (frames == 0) {
            first = last;
        }
    }
    double mean = frames > 1 ? (double)(last - first) / (frames - 1) : 0;
    CHECK(mean > 9000 && mean < 11000, "mean period %.0f µs at 10 ms", mean);
    command(100, 100, 90);
    lines_until("failsafe active");
    char line[64];
    CHECK(link_line(L, "failsafe timeout", line, sizeof line, 3000, NULL, NULL), "the failsafe stops a silent host");
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* ------------------------------------------------------------------ the AVR build */

static const char *harness, *elf;

typedef struct {
    unsigned long long last_delimiter;
} avr_ctx;

static void note_delimiter(const char *line, void *context)
{
    avr_ctx *c = context;
    if (strncmp(line, "rx_delimiter t=", 15) == 0) {
        c->last_delimiter = strtoull(line + 15, NULL, 10);
    }
}

/* Waits for "<what>" (e.g. "pwm D6 128") and returns its emulated time, µs. */
static unsigned long long avr_event(const char *what, avr_ctx *c)
{
    char line[256];
    bool ok = link_line(L, what, line, sizeof line, 5000, note_delimiter, c);
    CHECK(ok, "no event \"%s\"", what);
    const char *t = ok ? strstr(line, " t=") : NULL;
    return t ? strtoull(t + 3, NULL, 10) : 0;
}

/* Reading `index` of the next SENSORS frame (index counts the channels in the frame). */
static int16_t sensors_reading(int index)
{
    int n = link_recv(L, NX_SENSORS, pkt, 3000);
    CHECK(n >= 11 + 2 * index, "a SENSORS frame with reading %d", index);
    return n >= 11 + 2 * index ? nx_get_i16(pkt + 9 + 2 * index) : -32768;
}

static void test_avr_end_to_end(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    avr_ctx c = {0};
    link_say(L, "adc 0 3100");
    link_say(L, "adc 1 400");
    link_say(L, "pin D10 1"); /* bumper released (pulled up) */
    hello("neuraxon-uno");
    uint8_t failsafe;
    uint32_t trips, crc, rejected;
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(failsafe == NX_FAILSAFE_IDLE && trips == 0, "idle after HELLO");

    /* the stream follows injected voltages and inputs */
    config(10, 100, 0x7F);
    int16_t r0 = sensors_reading(0);
    CHECK(r0 >= 3090 && r0 <= 3110, "range_left %d mV for 3100 injected", r0);
    uint32_t t1 = nx_get_u32(pkt + 3);
    int16_t r1 = sensors_reading(1);
    CHECK(r1 >= 390 && r1 <= 410, "range_right %d mV for 400 injected", r1);
    uint32_t t2 = nx_get_u32(pkt + 3);
    CHECK(t2 - t1 >= 9000 && t2 - t1 <= 11000, "samples %u µs apart at 10 ms", t2 - t1);
    link_say(L, "adc 0 1500");
    link_say(L, "pin D10 0");
    bool followed = false;
    for (int i = 0; i < 50 && !followed; i++) {
        int16_t v = sensors_reading(0);
        followed = v >= 1490 && v <= 1510 && nx_get_i16(pkt + 9 + 2 * NX_SENSOR_BUMPER) == 1;
    }
    CHECK(followed, "range_left follows 1500 mV and the bumper reads pressed");

    /* commands move PWM duty and direction pins */
    config(10, 100, 0x20); /* wheel_left only */
    link_drain(L);
    command(500, -250, 180);
    avr_event("pwm D6 128", &c);
    avr_event("pwm D5 64", &c);
    avr_event("pwm D9 4000", &c);
    link_drain(L);
    int16_t w0 = sensors_reading(0), w1 = w0;
    link_say(L, "pulses D2 10");
    for (int i = 0; i < 20; i++) { /* 200 ms: the 10 pulses take 2 ms */
        w1 = sensors_reading(0);
        command(500, -250, 180);
    }
    CHECK(w1 - w0 == 10, "wheel_left counted %d of 10 pulses going forward", w1 - w0);
    command(-500, -250, 180); /* reverse: the same pulses count down */
    link_drain(L);
    w0 = sensors_reading(0);
    link_say(L, "pulses D2 7");
    for (int i = 0; i < 20; i++) {
        w1 = sensors_reading(0);
        command(-500, -250, 180);
    }
    CHECK(w1 - w0 == -7, "wheel_left counted %d of -7 pulses in reverse", w1 - w0);
    config(10, 100, 0);
    barrier();

    /* the failsafe stops the motors within the timeout after the host goes quiet */
    link_drain(L);
    c.last_delimiter = 0;
    command(500, -250, 180);
    unsigned long long stop = avr_event("pwm D6 0", &c);
    unsigned long long quiet = c.last_delimiter;
    CHECK(quiet > 0, "the last command's delimiter was seen");
    printf("  info: AVR failsafe (100 ms): motors stopped %llu µs after the last command\n", stop - quiet);
    CHECK(stop >= quiet + 100000ull && stop <= quiet + 102000ull,
          "motors stopped %llu µs after the last command (timeout 100 ms, bound 102 ms)", stop - quiet);
    avr_event("pwm D9 3000", &c); /* the servo back to 90 degrees */
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(failsafe == NX_FAILSAFE_TIMEOUT && trips == 1, "STATUS says timeout, one trip (state %u, %u trips)", failsafe, trips);

    /* recovery, then STOP */
    command(-1000, 1000, 0);
    avr_event("pwm D6 255", &c);
    avr_event("pwm D9 2000", &c);
    link_send(L, NX_STOP, NULL, 0);
    int n = link_recv(L, NX_STATUS, pkt, 3000);
    CHECK(n == 39 && pkt[3] == NX_FAILSAFE_STOPPED, "STOP answered with STATUS stopped");
    avr_event("pwm D6 0", &c);

    /* bad input on the real build */
    send_bad_crc();
    command(0, 1001, 90);
    n = link_recv(L, NX_ERROR, pkt, 3000);
    CHECK(n == 9 && pkt[3] == NX_ERR_OUT_OF_RANGE && pkt[6] == 1, "ERROR out_of_range for motor_right");
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(crc == 1 && rejected == 1, "crc_errors %u, rejected %u", crc, rejected);
    link_say(L, "adc 9 100");
    CHECK(link_stderr_has(L, "adc needs a channel 0..7 and 0..5000 mV", 3000), "a bad harness line is explained");
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* The real AVR build: device -> host types are unknown_type, and samples are stamped within
 * 1 ms of the schedule (Docs/PROTOCOL.md, SENSORS). */
static void test_avr_conformance(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    hello("neuraxon-uno");
    check_device_types_rejected();
    config(5, 250, 0x7F);
    int n = link_recv(L, NX_SENSORS, pkt, 3000);
    CHECK(n == 25, "a SENSORS frame");
    uint32_t first = nx_get_u32(pkt + 3);
    uint8_t seq0 = pkt[2];
    int32_t lo = 0, hi = 0;
    int samples = 0;
    for (int i = 0; i < 400 && n == 25; i++) { /* 2 s of emulated time */
        n = link_recv(L, NX_SENSORS, pkt, 3000);
        if (n != 25) {
            break;
        }
        uint32_t k = (uint32_t)i + 1u;
        CHECK(pkt[2] == (uint8_t)(seq0 + k), "consecutive samples (seq %d after %d)", pkt[2], seq0);
        int32_t off = (int32_t)(nx_get_u32(pkt + 3) - first - 5000u * k);
        lo = off < lo ? off : lo;
        hi = off > hi ? off : hi;
        samples++;
    }
    CHECK(samples == 400, "%d samples", samples);
    printf("  info: AVR sample stamps at 5 ms: %d samples within %d..%d µs of the exact schedule (spread %d µs)\n",
           samples, lo, hi, hi - lo);
    CHECK(hi - lo < 1000, "stamps spread %d µs around the schedule (bound 1 ms)", hi - lo);
    link_send(L, NX_GET_STATUS, NULL, 0);
    n = link_recv(L, NX_STATUS, pkt, 3000);
    CHECK(n == 39 && nx_get_u32(pkt + 3 + 30) == 0, "no loop overruns");
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* Sends PING, six GET_STATUS and PING at once and returns the time between the two PONG
 * stamps, µs. The six STATUS replies (246 bytes) overflow the board's 64-byte transmit buffer,
 * so the second PONG waits for the UART to send them: about 16 ms at 115200 baud, under 2 ms at
 * 1000000 baud. */
static long status_burst_us(void)
{
    uint8_t token[4] = {1, 2, 3, 4};
    link_send(L, NX_PING, token, 4);
    for (int i = 0; i < 6; i++) {
        link_send(L, NX_GET_STATUS, NULL, 0);
    }
    link_send(L, NX_PING, token, 4);
    uint32_t stamps[2] = {0, 0};
    int got = 0;
    for (int i = 0; i < 2; i++) {
        if (link_recv(L, NX_PONG, pkt, 3000) != 13) {
            break;
        }
        stamps[got++] = nx_get_u32(pkt + 7);
    }
    CHECK(got == 2, "two PONGs");
    return got == 2 ? (long)(stamps[1] - stamps[0]) : -1;
}

/* Section 12 on the emulated board: SET_BAUD 1000000 is acknowledged, the UART changes (the
 * board's replies leave about 8 times faster), PING/PONG and SENSORS work at the new speed;
 * after a quiet second the board is back at 115200; a switch nobody confirms goes back after
 * 500 ms. */
static void test_avr_baud_switch(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    L->version = 2;
    hello("neuraxon-uno");
    long slow = status_burst_us();
    CHECK(slow > 10000, "at 115200 baud the STATUS frames hold the second PONG back: %ld µs", slow);
    uint8_t body[4];
    nx_put_u32(body, 1000000u);
    link_send(L, NX_SET_BAUD, body, 4);
    CHECK(link_recv(L, NX_BAUD_ACK, pkt, 3000) == 9 && nx_get_u32(pkt + 3) == 1000000u, "BAUD_ACK 1000000");
    long fast = status_burst_us();
    printf("  info: AVR six STATUS frames queued behind a PING: %ld µs at 115200 baud, %ld µs at 1000000 baud\n",
           slow, fast);
    /* the frames the six STATUS replies hold back: about 180 bytes, 87 µs each at 115200 baud
     * and 10 µs each at 1000000 baud, so some 14 ms less; the rest is the PINGs arriving */
    CHECK(fast > 0 && slow - fast > 10000, "at 1000000 baud they leave over 10 ms sooner: %ld µs", fast);
    config(5, 250, 0x7F);
    int ok = 0;
    for (int i = 0; i < 100; i++) {
        ok += link_recv(L, NX_SENSORS, pkt, 3000) == 25;
    }
    CHECK(ok == 100, "SENSORS at 1 Mbaud: %d of 100", ok);
    uint8_t off[6] = {5, 0, 250, 0, 0, 0};
    link_send(L, NX_CONFIG, off, 6);
    CHECK(link_recv(L, NX_CONFIG_ACK, pkt, 3000) == 11, "streaming ends");
    usleep(2000000); /* quiet for more than a second (the emulator keeps real time or runs slower) */
    link_drain(L);
    long back = status_burst_us();
    CHECK(back - fast > 10000, "after a quiet second, 115200 baud again: %ld µs", back);
    /* unconfirmed: after SET_BAUD nothing valid arrives, so the board goes back after 500 ms */
    link_send(L, NX_SET_BAUD, body, 4);
    CHECK(link_recv(L, NX_BAUD_ACK, pkt, 3000) == 9, "BAUD_ACK");
    usleep(1500000); /* nothing for more than 500 ms */
    long unconfirmed = status_burst_us();
    CHECK(unconfirmed - fast > 10000, "unconfirmed after 500 ms: 115200 baud again: %ld µs", unconfirmed);
    L->version = 0;
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* The failsafe with its longest timeout, on the emulated board. */
static void test_avr_failsafe_250(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    avr_ctx c = {0};
    hello("neuraxon-uno");
    config(20, 250, 0);
    link_drain(L);
    command(1000, 1000, 90);
    unsigned long long stop = avr_event("pwm D5 0", &c);
    printf("  info: AVR failsafe (250 ms): motors stopped %llu µs after the last command\n", stop - c.last_delimiter);
    CHECK(stop >= c.last_delimiter + 250000ull && stop <= c.last_delimiter + 252000ull,
          "stopped %llu µs after the last command (timeout 250 ms)", stop - c.last_delimiter);
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* A hung board: the watchdog resets it, the motors stop, and STATUS says why. */
static void test_avr_watchdog_resets_a_hung_board(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    avr_ctx c = {0};
    hello("neuraxon-uno");
    config(10, 250, 0);
    command(800, 800, 90);
    avr_event("pwm D6 204", &c);
    link_say(L, "hang");
    unsigned long long hung = avr_event("hang t=", &c);
    unsigned long long stopped = avr_event("pwm D6 0", &c);
    printf("  info: AVR watchdog: motors stopped %llu µs after the hang\n", stopped - hung);
    CHECK(stopped > hung && stopped - hung <= 250000ull,
          "motors stopped %llu µs after the hang (watchdog 120 ms nominal)", stopped - hung);
    hello("neuraxon-uno");
    uint8_t failsafe;
    uint32_t trips, crc, rejected;
    link_send(L, NX_GET_STATUS, NULL, 0);
    int n = link_recv(L, NX_STATUS, pkt, 3000);
    CHECK(n == 39 && pkt[4] == NX_RESET_WATCHDOG, "STATUS reset_cause %d, expected 3 (watchdog)", n == 39 ? pkt[4] : -1);
    get_status(&failsafe, &trips, &crc, &rejected);
    CHECK(failsafe == NX_FAILSAFE_IDLE, "idle after the reset");
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* The emulated time a lockstep line stopped at ("time <us>"), after checking the lines before
 * it with `seen`. */
static unsigned long long lockstep(const char *line, void (*seen)(const char *, void *), void *context)
{
    char out[256];
    link_say(L, "%s", line);
    bool ok = link_line(L, "time ", out, sizeof out, 5000, seen, context);
    CHECK(ok, "\"%s\" answered with its time", line);
    return ok ? strtoull(out + 5, NULL, 10) : 0;
}

static void count_sensors(const char *line, void *context)
{
    if (strncmp(line, "sensors_sent ", 13) == 0) {
        *(unsigned long *)context = strtoul(line + 13, NULL, 10);
    }
}

static void note_pwm_d6(const char *line, void *context)
{
    if (strncmp(line, "pwm D6 ", 7) == 0) {
        *(int *)context = atoi(line + 7);
    }
}

static void test_avr_lockstep(void)
{
    char *argv[] = {(char *)harness, "--lockstep", (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    link_say(L, "pin D10 1");
    unsigned long long t0 = lockstep("advance 50000", NULL, NULL);
    CHECK(t0 >= 50000 && t0 < 51000, "advance 50000 ran 50 ms (stopped at %llu µs)", t0);
    usleep(200000);
    CHECK(lockstep("advance 0", NULL, NULL) == t0, "emulated time stood still while the host waited 200 ms");

    link_send(L, NX_HELLO, NULL, 0);
    unsigned long long t1 = lockstep("settle 2000", NULL, NULL);
    CHECK(link_recv(L, NX_DEVICE_INFO, pkt, 1000) > 0, "settle ran until HELLO was answered");
    CHECK(t1 > t0 + 5000 && t1 < t0 + 20000, "HELLO and its answer took %llu µs of emulated time", t1 - t0);

    uint8_t b[6];
    nx_put_u16(b, 5);
    nx_put_u16(b + 2, 100);
    nx_put_u16(b + 4, 0x7F);
    link_send(L, NX_CONFIG, b, 6);
    lockstep("settle 2000", NULL, NULL);
    CHECK(link_recv(L, NX_CONFIG_ACK, pkt, 1000) > 0, "settle ran until CONFIG was acknowledged");

    unsigned long sent = 0;
    link_say(L, "adc 0 1500");
    unsigned long long t2 = lockstep("sensors 20000", count_sensors, &sent);
    CHECK(sent == 1, "sensors ran until the first SENSORS frame (%lu sent)", sent);
    int16_t mv = sensors_reading(0);
    CHECK(mv >= 1495 && mv <= 1505, "it carries the 1500 mV set before it (%d)", mv);
    unsigned long long t3 = lockstep("sensors 20000", count_sensors, &sent);
    CHECK(sent == 2 && t3 - t2 >= 4000 && t3 - t2 <= 6000, "the next one a sampling period later (%llu µs)", t3 - t2);
    link_drain(L);

    int duty = -1;
    command(502, 0, 90);
    char line[64];
    snprintf(line, sizeof line, "deliver %llu 300", L->written);
    unsigned long long t4 = lockstep(line, note_pwm_d6, &duty);
    CHECK(t4 - t3 >= 1100 && t4 - t3 < 3000, "the 13-byte command took %llu µs to reach the CPU, plus 300", t4 - t3);
    if (duty == -1) { /* the firmware may still be busy: it acts within about 1 ms */
        lockstep("advance 1500", note_pwm_d6, &duty);
    }
    CHECK(duty == 128, "the command moved the left motor's PWM (duty %d)", duty);
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* "rx_delimiter t=<us>" and the first "pin D4 <level> t=<us>" after it. */
typedef struct {
    unsigned long long delimiter_us, pin_us;
    bool pin_seen;
} command_trace;

static void note_command_trace(const char *line, void *context)
{
    command_trace *t = context;
    const char *at = strstr(line, "t=");
    if (at == NULL) {
        return;
    }
    if (strncmp(line, "rx_delimiter ", 13) == 0) {
        t->delimiter_us = strtoull(at + 2, NULL, 10);
    } else if (strncmp(line, "pin D4 ", 7) == 0 && !t->pin_seen) {
        t->pin_us = strtoull(at + 2, NULL, 10);
        t->pin_seen = true;
    }
}

/* At 1,000,000 baud a byte lasts 10 µs, 160 cycles at 16 MHz: the firmware must take each
 * received byte in less, or the bytes queue up behind its main loop and a COMMAND is acted on
 * long after its last byte arrived. Measured in emulated time, from the COMMAND's closing 0x00
 * reaching the CPU to the left motor's direction pin (D4, IN1) changing: the frame's CRC and the
 * checks take about 70 µs, so 150 µs is the bound (a loop that read the clock for every byte
 * took 270 µs). */
static void test_avr_command_latency_at_1_mbaud(void)
{
    char *argv[] = {(char *)harness, "--lockstep", (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    lockstep("advance 20000", NULL, NULL);
    L->version = 2;
    link_send(L, NX_HELLO, NULL, 0);
    lockstep("settle 2000", NULL, NULL);
    CHECK(link_recv(L, NX_DEVICE_INFO, pkt, 1000) > 0, "DEVICE_INFO");
    uint8_t body[4];
    nx_put_u32(body, 1000000u);
    link_send(L, NX_SET_BAUD, body, 4);
    lockstep("settle 2000", NULL, NULL);
    CHECK(link_recv(L, NX_BAUD_ACK, pkt, 1000) == 9, "BAUD_ACK 1000000");
    lockstep("advance 1000", NULL, NULL); /* the board changes its line once the ACK has left */
    unsigned long long worst = 0;
    for (int i = 0; i < 6; i++) {
        command(i % 2 == 0 ? 500 : -500, 0, 90);
        command_trace t = {0, 0, false};
        char line[64];
        snprintf(line, sizeof line, "deliver %llu 1000", L->written);
        lockstep(line, note_command_trace, &t);
        CHECK(t.pin_seen && t.delimiter_us > 0, "COMMAND %d changed the direction pin", i);
        if (t.pin_seen && t.pin_us >= t.delimiter_us && t.pin_us - t.delimiter_us > worst) {
            worst = t.pin_us - t.delimiter_us;
        }
        lockstep("advance 2000", NULL, NULL);
    }
    printf("  info: AVR at 1000000 baud, COMMAND's last byte to the direction pin: at most %llu µs\n", worst);
    CHECK(worst > 0 && worst <= 150, "the firmware acts on a COMMAND within 150 µs of its last byte (%llu µs)", worst);
    L->version = 0;
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "host") == 0) {
        host_exe = argv[2];
        t_run("host port, virtual clock", test_host_virtual_clock);
        t_run("host port, real time", test_host_real_time);
        t_run("host port answers device-to-host types as unknown_type", test_host_device_types);
        return t_summary("end-to-end tests (host port)");
    }
    if (argc == 4 && strcmp(argv[1], "avr") == 0) {
        harness = argv[2];
        elf = argv[3];
        t_run("AVR build end to end", test_avr_end_to_end);
        t_run("AVR build answers by the protocol's check order; samples on schedule", test_avr_conformance);
        t_run("AVR build failsafe at 250 ms", test_avr_failsafe_250);
        t_run("AVR build watchdog resets a hung board", test_avr_watchdog_resets_a_hung_board);
        t_run("AVR build in lockstep", test_avr_lockstep);
        t_run("AVR build raises its line to 1 Mbaud and falls back", test_avr_baud_switch);
        t_run("AVR build acts on a COMMAND at 1 Mbaud within 150 µs", test_avr_command_latency_at_1_mbaud);
        return t_summary("end-to-end tests (emulated AVR)");
    }
    fprintf(stderr, "usage: %s host FIRMWARE_EXECUTABLE | avr HARNESS FIRMWARE.elf\n", argv[0]);
    return 2;
}
