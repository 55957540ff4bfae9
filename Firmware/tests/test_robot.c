/* A described robot end to end under emulation: its AVR build under its harness (both built
 * from the same description), through a real pseudo-terminal. Built per robot with the robot's
 * generated tables, which are what the test expects: the handshake declares exactly these
 * channels; each sensor set on its emulated pins comes back in SENSORS; a COMMAND moves each
 * actuator's emulated pins; its host build (same description) accepts exactly the sampling
 * periods the AVR build does.
 * Usage: nx-robot-e2e HARNESS FIRMWARE.elf HOST_FIRMWARE */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "link.h"
#include "nx_pins.h"
#include "nx_proto.h"
#include "nx_robot.h"

static link_t link_;
static link_t *L = &link_;
static uint8_t pkt[NX_PACKET_MAX];
static const char *harness, *elf, *host_firmware;

/* Arduino name of a generated pin byte. */
static const char *pin_name(uint8_t pin)
{
    char port = "ABCDEFGHJKL"[NX_PIN_PORT(pin) < 11 ? NX_PIN_PORT(pin) : 0];
    for (unsigned i = 0; i < nx_board_pin_count; i++) {
        if (nx_board_pins[i].port == port && nx_board_pins[i].bit == NX_PIN_BIT(pin)) {
            return nx_board_pins[i].name;
        }
    }
    return "?";
}

static const char *sensor_kind(uint8_t drive)
{
    switch (drive) {
    case NX_DRIVE_ANALOG: return "analog";
    case NX_DRIVE_DIGITAL: return "digital";
    case NX_DRIVE_ENCODER: return "encoder";
    default: return "ultrasonic";
    }
}

static bool hello(void)
{
    int n = -1;
    for (int tries = 0; tries < 12 && n < 0; tries++) { /* retry every 250 ms, as a host does */
        link_send(L, NX_HELLO, NULL, 0);
        n = link_recv(L, NX_DEVICE_INFO, pkt, 250);
    }
    CHECK(n > 0, "DEVICE_INFO answers HELLO");
    if (n <= 0) {
        return false;
    }
    const uint8_t *b = pkt + 3;
    size_t name_len = strlen(NX_ROBOT_BOARD_NAME);
    CHECK(b[19] == NX_SENSOR_COUNT && b[20] == NX_ACTUATOR_COUNT, "%d sensors and %d actuators declared, "
          "the description has %d and %d", b[19], b[20], NX_SENSOR_COUNT, NX_ACTUATOR_COUNT);
    CHECK(b[21] == name_len && memcmp(b + 22, NX_ROBOT_BOARD_NAME, name_len) == 0, "board name %s",
          NX_ROBOT_BOARD_NAME);
    CHECK(nx_get_u16(b + 11) == NX_ROBOT_PERIOD_MIN_MS, "period_min_ms %u, the description says %u",
          nx_get_u16(b + 11), NX_ROBOT_PERIOD_MIN_MS);
    CHECK(nx_get_u16(b + 15) == NX_ROBOT_FAILSAFE_MIN_MS && nx_get_u16(b + 17) == NX_ROBOT_FAILSAFE_MAX_MS,
          "failsafe bounds");
    CHECK(n == (int)(3 + 22 + name_len + NX_DESCRIPTOR_SIZE * (NX_SENSOR_COUNT + NX_ACTUATOR_COUNT) + 2),
          "DEVICE_INFO of %d bytes", n);
    const uint8_t *d = b + 22 + b[21];
    uint8_t version = pkt[0];
    for (int i = 0; i < NX_SENSOR_COUNT + NX_ACTUATOR_COUNT; i++, d += NX_DESCRIPTOR_SIZE) {
        const nx_channel *c = i < NX_SENSOR_COUNT ? &nx_sensor_channels[i] : &nx_actuator_channels[i - NX_SENSOR_COUNT];
        uint8_t want[NX_DESCRIPTOR_SIZE]; /* as this version has it: millimetre is unit none in version 1 */
        nx_put_descriptor(want, c, version);
        CHECK(memcmp(d, want, NX_DESCRIPTOR_SIZE) == 0, "version %d descriptor %d: %d %d %d %d %d, declared %d %d %d %d %d",
              version, i, d[0], d[1], nx_get_i16(d + 2), nx_get_i16(d + 4), nx_get_i16(d + 6), c->kind, c->unit,
              c->min, c->max, c->safe);
    }
    return true;
}

/* Version 2: a version-2 HELLO is answered in version 2, with each channel's declared unit
 * (millimetre included), and GET_CHANNEL names every channel as its description does. */
static void test_names(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    L->version = 2;
    if (hello()) {
        CHECK(pkt[0] == 2, "DEVICE_INFO of version 2 answers a version-2 HELLO");
        for (int i = 0; i < NX_SENSOR_COUNT + NX_ACTUATOR_COUNT; i++) {
            uint8_t q[2] = {(uint8_t)(i < NX_SENSOR_COUNT ? NX_GROUP_SENSOR : NX_GROUP_ACTUATOR),
                            (uint8_t)(i < NX_SENSOR_COUNT ? i : i - NX_SENSOR_COUNT)};
            uint8_t want[NX_CHANNEL_NAME_MAX];
            uint8_t want_len = nx_channel_name(q[0], q[1], want);
            link_send(L, NX_GET_CHANNEL, q, 2);
            int n = link_recv(L, NX_CHANNEL_INFO, pkt, 3000);
            CHECK(n == 3 + 3 + want_len + 2 && pkt[0] == 2 && pkt[3] == q[0] && pkt[4] == q[1] && pkt[5] == want_len &&
                  memcmp(pkt + 6, want, want_len) == 0, "channel %d is called %.*s", i, (int)want_len, (const char *)want);
        }
    }
    L->version = 0;
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

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

/* Reading of sensor `k` in the next SENSORS frame (every sensor streamed). */
static bool next_reading(int k, int16_t *value)
{
    int n = link_recv(L, NX_SENSORS, pkt, 3000);
    if (n != (int)(3 + 6 + 2 * NX_SENSOR_COUNT + 2)) {
        return false;
    }
    *value = nx_get_i16(pkt + 9 + 2 * k);
    return true;
}

/* Waits up to 60 samples for sensor `k` to read within lo..hi; returns the last reading. */
static int16_t await_reading(int k, int lo, int hi, bool *ok)
{
    int16_t v = -32768;
    *ok = false;
    for (int i = 0; i < 60 && !*ok; i++) {
        if (!next_reading(k, &v)) {
            break;
        }
        *ok = v >= lo && v <= hi;
    }
    return v;
}

static void test_handshake(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    hello();
    printf("  info: %s (%s): %d sensors, %d actuators declared\n", NX_ROBOT_NAME, NX_ROBOT_BOARD_NAME,
           NX_SENSOR_COUNT, NX_ACTUATOR_COUNT);
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

static void test_sensors(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    if (!hello()) {
        link_stop(L);
        return;
    }
    uint16_t period = NX_ROBOT_PERIOD_MIN_MS > 10u ? NX_ROBOT_PERIOD_MIN_MS : 10u;
    config(period, 250, (uint16_t)((1u << NX_SENSOR_COUNT) - 1u));
    for (int k = 0; k < NX_SENSOR_COUNT; k++) {
        const nx_sensor_pins *s = &nx_sensor_pin_table[k];
        bool ok = false;
        int16_t v;
        switch (s->drive) {
        case NX_DRIVE_ANALOG: {
            int mv = 700 + 350 * k;
            link_say(L, "sensor %d %d", k, mv);
            v = await_reading(k, mv - 10, mv + 10, &ok);
            CHECK(ok, "analog sensor %d on %s reads %d mV for %d set", k, pin_name(s->pin), v, mv);
            break;
        }
        case NX_DRIVE_DIGITAL:
            for (int level = 1; level >= 0; level--) {
                link_say(L, "sensor %d %d", k, level);
                v = await_reading(k, level, level, &ok);
                CHECK(ok, "digital sensor %d on %s reads %d for %d set", k, pin_name(s->pin), v, level);
            }
            break;
        case NX_DRIVE_ENCODER: {
            int16_t before = 0;
            CHECK(next_reading(k, &before), "a SENSORS frame");
            link_say(L, "sensor %d 9", k); /* single-channel: counts up, the motor's direction after start */
            v = await_reading(k, before + 9, before + 9, &ok);
            CHECK(ok, "encoder %d on %s counted %d of 9 pulses", k, pin_name(s->pin), v - before);
            if (s->flags & NX_FLAG_QUADRATURE) {
                link_say(L, "sensor %d -4", k);
                v = await_reading(k, before + 5, before + 5, &ok);
                CHECK(ok, "quadrature encoder %d counted %d after 9 forward and 4 reverse pulses", k, v - before);
            }
            break;
        }
        default: { /* ultrasonic */
            int mm = 300 + 40 * k;
            int max = nx_sensor_channels[k].max;
            mm = mm > max ? max / 2 : mm;
            link_say(L, "sensor %d %d", k, mm);
            v = await_reading(k, mm - 3, mm + 3, &ok);
            CHECK(ok, "ultrasonic sensor %d (trigger %s, echo %s) reads %d mm for %d set", k, pin_name(s->pin2),
                  pin_name(s->pin), v, mm);
            link_say(L, "sensor %d -1", k); /* nothing answers: the ranger's maximum */
            v = await_reading(k, max, max, &ok);
            CHECK(ok, "ultrasonic sensor %d reads %d mm without an echo, expected its maximum %d", k, v, max);
            break;
        }
        }
        printf("  info: sensor %d (%s) read back through its emulated pins\n", k, sensor_kind(s->drive));
    }
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* Sampling every sensor at the robot's shortest period keeps the schedule: rangers pinging,
 * encoders counting and the ADC converting never hold the main loop up (Docs/PROTOCOL.md,
 * SENSORS: consecutive stamps period_ms ± 1 ms apart, no loop overruns). */
static void test_schedule(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    if (!hello()) {
        link_stop(L);
        return;
    }
    for (int k = 0; k < NX_SENSOR_COUNT; k++) {
        if (nx_sensor_pin_table[k].drive == NX_DRIVE_ULTRASONIC) {
            link_say(L, "sensor %d 1000", k); /* a 5.8 ms echo every ping */
        } else if (nx_sensor_pin_table[k].drive == NX_DRIVE_ENCODER) {
            link_say(L, "sensor %d 500", k);  /* edges all through the run */
        }
    }
    uint16_t period = NX_ROBOT_PERIOD_MIN_MS;
    config(period, 250, (uint16_t)((1u << NX_SENSOR_COUNT) - 1u));
    uint32_t last = 0;
    int32_t lo = 0, hi = 0;
    int samples = 0;
    for (int i = 0; i < 60; i++) {
        int n = link_recv(L, NX_SENSORS, pkt, 3000);
        if (n != (int)(3 + 6 + 2 * NX_SENSOR_COUNT + 2)) {
            break;
        }
        uint32_t t = nx_get_u32(pkt + 3);
        if (i > 0) {
            int32_t off = (int32_t)(t - last) - (int32_t)period * 1000;
            lo = off < lo ? off : lo;
            hi = off > hi ? off : hi;
        }
        last = t;
        samples++;
    }
    CHECK(samples == 60, "%d of 60 samples", samples);
    CHECK(lo > -1000 && hi < 1000, "consecutive stamps %d..%d µs off the %u ms period", lo, hi, period);
    link_send(L, NX_GET_STATUS, NULL, 0);
    int n = link_recv(L, NX_STATUS, pkt, 3000);
    CHECK(n == 39 && nx_get_u32(pkt + 3 + 30) == 0, "no loop overruns (%u)", n == 39 ? nx_get_u32(pkt + 3 + 30) : 0);
    printf("  info: %d samples at %u ms, stamps %d..%d µs off the period\n", samples, period, lo, hi);
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* The sampling periods a build accepts, through its pty: DEVICE_INFO's period_min_ms, and
 * CONFIG at one period under it (refused: ERROR config_unsupported, field 1) and at it
 * (acknowledged). Returns the period_min_ms it declared (0: no answer). */
static uint16_t accepted_period_min(char *const argv[])
{
    if (!link_start(L, argv)) {
        CHECK(0, "%s starts", argv[0]);
        return 0;
    }
    int n = -1;
    for (int tries = 0; tries < 12 && n < 0; tries++) {
        link_send(L, NX_HELLO, NULL, 0);
        n = link_recv(L, NX_DEVICE_INFO, pkt, 250);
    }
    CHECK(n > 0, "%s answers HELLO", argv[0]);
    if (n <= 0) {
        link_stop(L);
        return 0;
    }
    uint16_t declared = nx_get_u16(pkt + 3 + 11);
    uint8_t b[6];
    nx_put_u16(b + 2, 100);
    nx_put_u16(b + 4, 1);
    if (declared > 1u) {
        nx_put_u16(b, (uint16_t)(declared - 1u));
        link_send(L, NX_CONFIG, b, 6);
        n = link_recv(L, NX_ERROR, pkt, 3000);
        CHECK(n == 9 && pkt[3] == NX_ERR_CONFIG_UNSUPPORTED && pkt[4] == NX_CONFIG && pkt[6] == 1,
              "%s refuses a %u ms period with config_unsupported, field 1", argv[0], declared - 1u);
    }
    nx_put_u16(b, declared);
    link_send(L, NX_CONFIG, b, 6);
    n = link_recv(L, NX_CONFIG_ACK, pkt, 3000);
    CHECK(n == 11 && nx_get_u16(pkt + 3) == declared, "%s accepts its %u ms period_min_ms", argv[0], declared);
    CHECK(link_stop(L) == 0, "%s exits 0 on quit", argv[0]);
    return declared;
}

/* One source for the shortest sampling period: the description. The AVR build and the host
 * build declare it, refuse a period under it and accept it alike. */
static void test_period_parity(void)
{
    char *avr_argv[] = {(char *)harness, (char *)elf, NULL};
    char *host_argv[] = {(char *)host_firmware, "--id", "0102030405060708", NULL};
    uint16_t avr = accepted_period_min(avr_argv);
    uint16_t host = accepted_period_min(host_argv);
    printf("  info: period_min_ms: the description %u ms, the AVR build %u ms, the host build %u ms\n",
           NX_ROBOT_PERIOD_MIN_MS, avr, host);
    CHECK(avr == NX_ROBOT_PERIOD_MIN_MS && host == NX_ROBOT_PERIOD_MIN_MS,
          "both builds declare the description's period_min_ms %u ms (AVR %u, host %u)", NX_ROBOT_PERIOD_MIN_MS, avr, host);
}

/* The pin and PWM lines a setpoint must cause, e.g. "pwm D6 128 " and "pin D4 1 ". */
static int expected_lines(int a, int16_t value, char lines[][48])
{
    const nx_actuator_pins *p = &nx_actuator_pin_table[a];
    int n = 0;
    if (p->drive == NX_DRIVE_MOTOR) {
        unsigned duty = ((unsigned)(value < 0 ? -value : value) * 255u + 500u) / 1000u;
        snprintf(lines[n++], 48, "pwm %s %u ", pin_name(p->pin), duty);
        snprintf(lines[n++], 48, "pin %s 1 ", pin_name(value > 0 ? p->in1 : p->in2));
    } else if (p->drive == NX_DRIVE_SERVO) {
        unsigned span = (unsigned)(p->hi - p->lo);
        unsigned pulse = p->pulse_min_us + ((unsigned)(value - p->lo) * (unsigned)(p->pulse_max_us - p->pulse_min_us) + span / 2u) / span;
        snprintf(lines[n++], 48, "pwm %s %u ", pin_name(p->pin), pulse * 2u);
    } else {
        bool high = (value != 0) != ((p->flags & NX_FLAG_ACTIVE_LOW) != 0);
        snprintf(lines[n++], 48, "pin %s %d ", pin_name(p->pin), high ? 1 : 0);
    }
    return n;
}

static void test_actuators(void)
{
    char *argv[] = {(char *)harness, (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    if (!hello()) {
        link_stop(L);
        return;
    }
    for (int round = 0; round < 2; round++) {
        int16_t values[NX_ACTUATOR_COUNT];
        char want[2 * NX_ACTUATOR_COUNT][48];
        bool seen[2 * NX_ACTUATOR_COUNT];
        int count = 0;
        for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
            const nx_channel *c = &nx_actuator_channels[a];
            if (c->kind == NX_KIND_MOTOR) {
                values[a] = (int16_t)(round == 0 ? 300 + 100 * (a % 5) : -200 - 100 * (a % 5));
            } else if (c->kind == NX_KIND_SERVO) {
                /* each differs from the value before it (a PWM write of the same value shows nothing) */
                int16_t first = c->safe == c->max ? c->min : c->max;
                values[a] = (int16_t)(round == 0 ? first : c->min + (c->max - c->min) / 3);
            } else {
                values[a] = (int16_t)(round == 0 ? 1 - c->safe : c->safe);
            }
            if (round == 1 && c->kind == NX_KIND_DIGITAL) {
                continue; /* back at its safe value: its pin may not change */
            }
            count += expected_lines(a, values[a], want + count);
        }
        link_drain(L);
        uint8_t body[2 * NX_ACTUATOR_COUNT];
        for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
            nx_put_i16(body + 2 * a, values[a]);
        }
        link_send(L, NX_COMMAND, body, sizeof body);
        memset(seen, 0, sizeof seen);
        int left = count;
        char line[256];
        while (left > 0 && link_line(L, "", line, sizeof line, 3000, NULL, NULL)) {
            for (int i = 0; i < count; i++) {
                if (!seen[i] && strncmp(line, want[i], strlen(want[i])) == 0) {
                    seen[i] = true;
                    left--;
                }
            }
        }
        for (int i = 0; i < count; i++) {
            CHECK(seen[i], "round %d: the command moved no \"%s\"", round, want[i]);
        }
        printf("  info: command %d: %d actuator pin changes seen\n", round, count - left);
    }
    /* a command out of range is refused, as on every board */
    uint8_t body[2 * NX_ACTUATOR_COUNT];
    for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
        nx_put_i16(body + 2 * a, nx_actuator_channels[a].safe);
    }
    nx_put_i16(body + 2 * (NX_ACTUATOR_COUNT - 1), (int16_t)(nx_actuator_channels[NX_ACTUATOR_COUNT - 1].max + 1));
    link_send(L, NX_COMMAND, body, sizeof body);
    int n = link_recv(L, NX_ERROR, pkt, 3000);
    CHECK(n == 9 && pkt[3] == NX_ERR_OUT_OF_RANGE && pkt[6] == NX_ACTUATOR_COUNT - 1, "ERROR out_of_range");
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

/* The first "actuator <k> <value>" line of each actuator since `reported` was cleared. */
typedef struct {
    long values[NX_ACTUATOR_COUNT];
    bool reported[NX_ACTUATOR_COUNT];
    bool last; /* keep the last line of each instead */
} actuator_lines;

static void note_actuator_line(const char *line, void *context)
{
    actuator_lines *seen = context;
    unsigned k;
    long v;
    if (sscanf(line, "actuator %u %ld", &k, &v) == 2 && k < NX_ACTUATOR_COUNT && (seen->last || !seen->reported[k])) {
        seen->values[k] = v;
        seen->reported[k] = true;
    }
}

/* With --channels the harness turns the actuators' pins back into values in their units: the
 * safe values at start, then each COMMAND (a motor within the 8-bit duty's step of 4 ‰). */
static void test_actuator_lines(void)
{
    char *argv[] = {(char *)harness, "--channels", (char *)elf, NULL};
    if (!link_start(L, argv)) {
        CHECK(0, "the harness starts");
        return;
    }
    if (!hello()) {
        link_stop(L);
        return;
    }
    actuator_lines seen;
    memset(&seen, 0, sizeof seen);
    seen.last = true; /* where the boot left them */
    char line[256];
    link_send(L, NX_GET_STATUS, NULL, 0); /* the boot's lines have come by the time STATUS does */
    CHECK(link_recv(L, NX_STATUS, pkt, 3000) == 39, "STATUS");
    while (link_line(L, "\n", line, sizeof line, 300, note_actuator_line, &seen)) {
    }
    for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
        CHECK(seen.reported[a] && seen.values[a] == nx_actuator_channels[a].safe,
              "actuator %d reported %ld at start, safe is %d", a, seen.values[a], nx_actuator_channels[a].safe);
    }
    int16_t want[NX_ACTUATOR_COUNT];
    uint8_t body[2 * NX_ACTUATOR_COUNT];
    for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
        const nx_channel *c = &nx_actuator_channels[a];
        want[a] = (int16_t)(c->kind == NX_KIND_MOTOR ? -700 + 300 * (a % 5)
                            : c->kind == NX_KIND_SERVO ? c->min + (c->max - c->min) / 3 : 1 - c->safe);
        if (want[a] == c->safe) { /* the harness reports changes: command something else */
            want[a] = (int16_t)(c->kind == NX_KIND_MOTOR ? want[a] + 300 : c->min + 2 * (c->max - c->min) / 3);
        }
        nx_put_i16(body + 2 * a, want[a]);
    }
    memset(&seen, 0, sizeof seen); /* the first line of each: the failsafe brings the safe values back later */
    seen.last = false;
    link_send(L, NX_COMMAND, body, sizeof body);
    link_send(L, NX_GET_STATUS, NULL, 0);
    CHECK(link_recv(L, NX_STATUS, pkt, 3000) == 39, "STATUS");
    while (link_line(L, "\n", line, sizeof line, 300, note_actuator_line, &seen)) {
    }
    for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
        long slack = nx_actuator_channels[a].kind == NX_KIND_MOTOR ? 2 : 0;
        CHECK(seen.reported[a] && seen.values[a] >= want[a] - slack && seen.values[a] <= want[a] + slack,
              "actuator %d reported %ld for %d commanded", a, seen.values[a], want[a]);
    }
    CHECK(link_stop(L) == 0, "exits 0 on quit");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HARNESS FIRMWARE.elf HOST_FIRMWARE\n", argv[0]);
        return 2;
    }
    harness = argv[1];
    elf = argv[2];
    host_firmware = argv[3];
    char suite[96];
    snprintf(suite, sizeof suite, "robot %s end to end (emulated %s)", NX_ROBOT_NAME, nx_board_mcu);
    t_run("the handshake declares exactly the described channels", test_handshake);
    t_run("version 2 names every channel as described", test_names);
    t_run("each sensor set on its emulated pins comes back in SENSORS", test_sensors);
    t_run("a COMMAND moves each actuator's emulated pins", test_actuators);
    t_run("every sensor sampled at the shortest period keeps the schedule", test_schedule);
    t_run("--channels reports each actuator's value from its pins", test_actuator_lines);
    t_run("the AVR and host builds accept the same sampling periods", test_period_parity);
    return t_summary(suite);
}
