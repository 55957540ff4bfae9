/* neuraxon-firmware: the firmware core built for Linux, serving the protocol on a
 * pseudo-terminal. Usage and the stdin/stdout link: Docs/FIRMWARE.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "hal.h"
#include "hal_host.h"
#include "nx_device.h"
#include "nx_robot.h"

/* Virtual time moves in steps of this many µs during "advance", so the main loop runs at least
 * every 0.1 ms of virtual time, as on the board. */
#define ADVANCE_STEP_US 100u

static nx_device device;
static uint8_t reported_failsafe = 0xFF;
static uint32_t reported_sensors;
static unsigned line_number;

static const char *failsafe_name(uint8_t state)
{
    static const char *names[] = {"idle", "active", "timeout", "stopped"};
    return state < 4 ? names[state] : "?";
}

/* How long the main loop may sleep: until the next sample is due, and never more than 1 ms, so
 * the failsafe is checked at least every millisecond (Docs/PROTOCOL.md section 6). Sleeping a
 * fixed 1 ms instead would take each sample a little late until a whole period slipped. */
static struct timespec sleep_budget(void)
{
    int32_t us = 1000;
    if (device.streaming) {
        int32_t until_due = (int32_t)(device.next_sample_us - hal_micros());
        if (until_due < us) {
            us = until_due > 0 ? until_due : 0;
        }
    }
    struct timespec ts = {0, (long)us * 1000L};
    return ts;
}

/* One main-loop iteration, then everything it changed goes out. */
static void step(void)
{
    nx_device_step(&device);
    hal_host_flush();
    if (device.failsafe != reported_failsafe) {
        reported_failsafe = device.failsafe;
        printf("failsafe %s\n", failsafe_name(device.failsafe));
    }
    if (hal_host_virtual() && hal_host_sensors_sent() != reported_sensors) {
        reported_sensors = hal_host_sensors_sent();
        printf("sensors_sent %u t=%llu\n", (unsigned)reported_sensors, (unsigned long long)hal_host_now_us());
    }
}

/* Virtual clock: runs the loop through `us` µs in steps of ADVANCE_STEP_US, or until a SENSORS
 * frame has gone out when `to_sensors`. */
static void run_for(uint32_t us, bool to_sensors)
{
    uint32_t sent = hal_host_sensors_sent();
    step();
    while (us > 0 && !(to_sensors && hal_host_sensors_sent() != sent)) {
        uint32_t d = us < ADVANCE_STEP_US ? us : ADVANCE_STEP_US;
        hal_host_advance(d);
        us -= d;
        /* the pty is looked at on each whole millisecond: a read that finds nothing costs a
         * system call, and bytes that arrive during a run have no exact time anyway */
        hal_host_skip_pty(hal_host_now_us() % 1000u != 0);
        step();
    }
    hal_host_skip_pty(false);
}

/* Waits up to `wait_ms` of wall-clock time until `enough` bytes in all have come from the pty,
 * handling them as they come (or, with `enough` 0, until any new byte has come). Returns whether
 * they did. */
static bool await_pty(uint64_t enough, long wait_ms)
{
    if (enough == 0) {
        enough = hal_host_rx_total() + 1;
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        step();
        if (hal_host_rx_total() >= enough) {
            return true;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited = (long)(now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
        struct pollfd fd = {hal_host_pty(), POLLIN, 0};
        fflush(stdout);
        if (waited >= wait_ms || poll(&fd, 1, (int)(wait_ms - waited)) == 0) {
            step();
            return hal_host_rx_total() >= enough;
        }
    }
}

static void complain(const char *text, const char *why)
{
    fprintf(stderr, "neuraxon-firmware: stdin line %u: \"%s\": %s\n", line_number, text, why);
}

/* Handles one stdin line; returns false on "quit". */
static bool command(char *text)
{
    char verb[32];
    long a, b;
    char extra;
    line_number++;
    if (sscanf(text, "%31s", verb) != 1) {
        return true;
    }
    if (strcmp(verb, "quit") == 0) {
        return false;
    }
    if (strcmp(verb, "sensor") == 0) {
        if (sscanf(text, "%*s %ld %ld %c", &a, &b, &extra) != 2 || a < 0 || a >= NX_SENSOR_COUNT) {
            char why[64];
            snprintf(why, sizeof why, "expected \"sensor <index 0..%d> <value>\"", NX_SENSOR_COUNT - 1);
            complain(text, why);
        } else if (b < nx_sensor_channels[a].min || b > nx_sensor_channels[a].max) {
            complain(text, "value outside the channel's range (the robot's description, Docs/ROBOTS.md)");
        } else {
            hal_host_set_sensor((uint8_t)a, (int16_t)b);
        }
    } else if (strcmp(verb, "advance") == 0 || strcmp(verb, "sensors") == 0) {
        if (!hal_host_virtual()) {
            complain(text, "advance and sensors need --virtual-clock; in real time the clock runs by itself");
        } else if (sscanf(text, "%*s %ld %c", &a, &extra) != 1 || a < 0 || a > 600000000L) {
            complain(text, verb[0] == 'a' ? "expected \"advance <microseconds 0..600000000>\""
                                          : "expected \"sensors <at most microseconds 0..600000000>\"");
        } else {
            run_for((uint32_t)a, verb[0] == 's');
            printf("time %llu\n", (unsigned long long)hal_host_now_us());
        }
    } else if (strcmp(verb, "deliver") == 0) {
        if (!hal_host_virtual()) {
            complain(text, "deliver needs --virtual-clock");
        } else if (sscanf(text, "%*s %ld %ld %c", &a, &b, &extra) != 2 || a < 0 || b < 0 || b > 600000000L) {
            complain(text, "expected \"deliver <bytes from the pty in all> <microseconds 0..600000000>\"");
        } else {
            if (!await_pty((uint64_t)a, 2000)) {
                fprintf(stderr, "neuraxon-firmware: deliver: %llu bytes came from the pty, the host counted %ld\n",
                        (unsigned long long)hal_host_rx_total(), a);
            }
            run_for((uint32_t)b, false);
            printf("time %llu\n", (unsigned long long)hal_host_now_us());
        }
    } else if (strcmp(verb, "settle") == 0) {
        if (!hal_host_virtual()) {
            complain(text, "settle needs --virtual-clock");
        } else if (sscanf(text, "%*s %ld %c", &a, &extra) != 1 || a < 0 || a > 60000L) {
            complain(text, "expected \"settle <wait milliseconds 0..60000>\"");
        } else {
            await_pty(0, a);
            printf("time %llu\n", (unsigned long long)hal_host_now_us());
        }
    } else {
        complain(text, "unknown command; expected sensor, advance, sensors, deliver, settle or quit");
    }
    return true;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "neuraxon-firmware: %s\n"
            "usage: neuraxon-firmware [--virtual-clock] [--id HEX16]\n"
            "  --virtual-clock  time moves only on advance, sensors and deliver lines (tests, lockstep)\n"
            "  --id HEX16       the 8-byte unique id in DEVICE_INFO, 16 hex digits\n",
            why);
    return 2;
}

int main(int argc, char **argv)
{
    bool virtual_clock = false;
    uint8_t id[8] = {'n', 'x', 'h', 'o', 's', 't', 0, 1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--virtual-clock") == 0) {
            virtual_clock = true;
        } else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc && strlen(argv[i + 1]) == 16) {
            for (int k = 0; k < 8; k++) {
                char pair[3] = {argv[i + 1][2 * k], argv[i + 1][2 * k + 1], 0};
                char *end;
                id[k] = (uint8_t)strtoul(pair, &end, 16);
                if (*end != '\0') {
                    return usage("--id needs 16 hex digits");
                }
            }
            i++;
        } else {
            return usage(strcmp(argv[i], "--help") == 0 ? "help" : "unknown argument");
        }
    }
    char name[128];
    int err = hal_host_open(virtual_clock, id, name, sizeof name);
    if (err != 0) {
        fprintf(stderr, "neuraxon-firmware: cannot create a pseudo-terminal: %s\n", strerror(-err));
        return 1;
    }
    /* stdout goes out whenever the loop is about to wait, so the lines one stdin line caused
     * arrive together (one write, one wake-up of the reader) */
    static char out[16384];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    printf("pty %s\n", name);
    nx_device_init(&device, hal_micros());
    step();

    char line[256];
    size_t len = 0;
    for (;;) {
        struct pollfd fds[2] = {{hal_host_pty(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        struct timespec budget = sleep_budget();
        fflush(stdout);
        int n = ppoll(fds, 2, virtual_clock ? NULL : &budget, NULL);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "neuraxon-firmware: poll failed: %s\n", strerror(errno));
            return 1;
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            char buf[512];
            ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
            if (got <= 0) {
                return 0; /* the link closed */
            }
            for (ssize_t i = 0; i < got; i++) {
                if (buf[i] != '\n') {
                    if (len < sizeof line - 1) {
                        line[len++] = buf[i];
                    }
                    continue;
                }
                line[len] = '\0';
                len = 0;
                if (!command(line)) {
                    return 0;
                }
            }
        }
        step();
    }
}
