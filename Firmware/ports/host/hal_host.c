/* The host port: the firmware core on Linux. Its UART is a pseudo-terminal; its sensors and
 * actuators are served as text lines on stdin and stdout (Docs/FIRMWARE.md). */
#define _DEFAULT_SOURCE
#include "hal_host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hal.h"
#include "nx_proto.h"
#include "nx_robot.h"

static bool virtual_clock;
static uint64_t virtual_now_us;
static struct timespec start;
static int master = -1, slave = -1;
static uint8_t rx_buf[4096], tx_buf[4096];
static size_t rx_pos, rx_len, tx_len;
static uint32_t tx_dropped;
static int16_t sensors[NX_SENSOR_COUNT];
static int16_t actuators[NX_ACTUATOR_COUNT];
static bool actuator_reported[NX_ACTUATOR_COUNT];
static uint8_t unique_id[8];

int hal_host_open(bool use_virtual_clock, const uint8_t id[8], char *pty_name, size_t cap)
{
    virtual_clock = use_virtual_clock;
    memcpy(unique_id, id, sizeof unique_id);
    clock_gettime(CLOCK_MONOTONIC, &start);
    char name[128];
    if (openpty(&master, &slave, name, NULL, NULL) != 0) {
        return -errno;
    }
    /* raw on our side too, so that no byte is translated before a client configures it */
    struct termios t;
    if (tcgetattr(slave, &t) != 0) {
        return -errno;
    }
    cfmakeraw(&t);
    if (tcsetattr(slave, TCSANOW, &t) != 0) {
        return -errno;
    }
    /* the slave stays open here: a client closing it does not hang the link up */
    int flags = fcntl(master, F_GETFL);
    if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) != 0) {
        return -errno;
    }
    snprintf(pty_name, cap, "%s", name);
    return 0;
}

int hal_host_pty(void) { return master; }
bool hal_host_virtual(void) { return virtual_clock; }
void hal_host_advance(uint32_t us) { virtual_now_us += us; }
uint64_t hal_host_now_us(void)
{
    if (virtual_clock) {
        return virtual_now_us;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - start.tv_sec) * 1000000u + (uint64_t)((now.tv_nsec - start.tv_nsec) / 1000);
}

void hal_host_set_sensor(uint8_t channel, int16_t value) { sensors[channel] = value; }

void hal_host_flush(void)
{
    size_t done = 0;
    while (done < tx_len) {
        ssize_t n = write(master, tx_buf + done, tx_len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        /* the pty buffer is full (no one reads): wait a little, then drop like a real line */
        struct pollfd p = {master, POLLOUT, 0};
        if (n < 0 && errno == EAGAIN && poll(&p, 1, 100) > 0) {
            continue;
        }
        tx_dropped += (uint32_t)(tx_len - done);
        break;
    }
    tx_len = 0;
}

uint32_t hal_micros(void) { return (uint32_t)hal_host_now_us(); }
uint32_t hal_millis(void) { return (uint32_t)(hal_host_now_us() / 1000u); }

bool hal_uart_read(uint8_t *byte)
{
    if (rx_pos == rx_len) {
        ssize_t n = read(master, rx_buf, sizeof rx_buf);
        if (n <= 0) {
            return false;
        }
        rx_pos = 0;
        rx_len = (size_t)n;
    }
    *byte = rx_buf[rx_pos++];
    return true;
}

void hal_uart_write(uint8_t byte)
{
    if (tx_len == sizeof tx_buf) {
        hal_host_flush();
    }
    tx_buf[tx_len++] = byte;
}

/* The kernel's pty buffer never drops received bytes: they wait until read. */
uint32_t hal_uart_rx_overflows(void) { return 0; }

int16_t hal_sensor_read(uint8_t channel) { return sensors[channel]; }

void hal_actuator_write(uint8_t channel, int16_t value)
{
    if (!actuator_reported[channel] || actuators[channel] != value) {
        actuators[channel] = value;
        actuator_reported[channel] = true;
        printf("actuator %u %d\n", channel, value);
    }
}

void hal_watchdog_kick(void) {}
uint8_t hal_reset_cause(void) { return NX_RESET_POWER_ON; }
void hal_unique_id(uint8_t id[8]) { memcpy(id, unique_id, 8); }
const char *hal_board_name(void) { return "neuraxon-host"; }
uint16_t hal_period_min_ms(void) { return 1; }
