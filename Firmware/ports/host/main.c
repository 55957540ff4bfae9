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
    } else if (strcmp(verb, "advance") == 0) {
        if (!hal_host_virtual()) {
            complain(text, "advance needs --virtual-clock; in real time the clock runs by itself");
        } else if (sscanf(text, "%*s %ld %c", &a, &extra) != 1 || a < 0 || a > 600000000L) {
            complain(text, "expected \"advance <microseconds 0..600000000>\"");
        } else {
            uint32_t left = (uint32_t)a;
            step();
            while (left > 0) {
                uint32_t d = left < ADVANCE_STEP_US ? left : ADVANCE_STEP_US;
                hal_host_advance(d);
                left -= d;
                step();
            }
            printf("time %llu\n", (unsigned long long)hal_host_now_us());
        }
    } else {
        complain(text, "unknown command; expected sensor, advance or quit");
    }
    return true;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "neuraxon-firmware: %s\n"
            "usage: neuraxon-firmware [--virtual-clock] [--id HEX16]\n"
            "  --virtual-clock  time moves only on \"advance <us>\" lines (for tests)\n"
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
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("pty %s\n", name);
    nx_device_init(&device, hal_micros());
    step();

    char line[256];
    size_t len = 0;
    for (;;) {
        struct pollfd fds[2] = {{hal_host_pty(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        struct timespec budget = sleep_budget();
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
