/* The host port: the firmware core on Linux. Its UART is a pseudo-terminal; its sensors and
 * actuators are served as text lines on stdin and stdout (Docs/FIRMWARE.md). */
#define _DEFAULT_SOURCE
#include "hal_host.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hal.h"
#include "nx_frame.h"
#include "nx_proto.h"
#include "nx_robot.h"

static bool virtual_clock;
static uint64_t virtual_now_us;
static struct timespec start;
static int master = -1, slave = -1;
static uint8_t rx_buf[4096], tx_buf[4096];
static size_t rx_pos, rx_len, tx_len;
static uint32_t tx_dropped; /* whole frames */
static int16_t sensors[NX_SENSOR_COUNT];
static int16_t actuators[NX_ACTUATOR_COUNT];
static bool actuator_reported[NX_ACTUATOR_COUNT];
static uint8_t unique_id[8];
static uint64_t rx_total; /* bytes read from the pty in all */
/* the frames going out, decoded to count the SENSORS frames among them */
static uint8_t tx_packet[NX_PACKET_MAX];
static nx_decoder tx_decoder;
static uint32_t sensors_sent;

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
    nx_decoder_init(&tx_decoder, tx_packet, sizeof tx_packet);
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

/* Writes as much of bytes[0..len) as the pty takes now, without waiting; returns the count or -1
 * when nothing could be written for lack of room. */
static ssize_t write_now(const uint8_t *bytes, size_t len)
{
    for (;;) {
        ssize_t n = write(master, bytes, len);
        if (n >= 0 || errno != EINTR) {
            return n < 0 ? -1 : n;
        }
    }
}

/* Frames go out whole or not at all, and the main loop never waits for the pty: a frame the pty
 * takes only in part is finished from `rest` before any later frame, and a frame that finds the
 * pty full (nobody reads) is dropped and counted, like bytes on a line nobody listens to. */
static uint8_t rest[NX_FRAME_MAX];
static size_t rest_len;
static bool dropping;

void hal_host_flush(void)
{
    if (rest_len > 0) {
        ssize_t n = write_now(rest, rest_len);
        if (n > 0) {
            memmove(rest, rest + n, rest_len - (size_t)n);
            rest_len -= (size_t)n;
        }
    }
    size_t start = 0;
    for (size_t i = 0; i < tx_len; i++) {
        if (tx_buf[i] != 0x00) {
            continue;
        }
        const uint8_t *frame = tx_buf + start;
        size_t len = i + 1 - start;
        start = i + 1;
        ssize_t n = rest_len > 0 ? -1 : write_now(frame, len);
        if (n < 0) {
            tx_dropped++;
            if (!dropping) {
                dropping = true;
                printf("tx full: dropping frames\n");
            }
            continue;
        }
        if ((size_t)n < len) {
            memcpy(rest, frame + n, len - (size_t)n);
            rest_len = len - (size_t)n;
        }
        if (dropping) {
            dropping = false;
            printf("tx resumed: %u frames dropped so far\n", (unsigned)tx_dropped);
        }
    }
    /* a frame still being queued (no delimiter yet) stays for the next flush */
    memmove(tx_buf, tx_buf + start, tx_len - start);
    tx_len -= start;
}

uint32_t hal_host_tx_dropped(void) { return tx_dropped; }

uint32_t hal_micros(void) { return (uint32_t)hal_host_now_us(); }
uint32_t hal_millis(void) { return (uint32_t)(hal_host_now_us() / 1000u); }

static bool skip_pty;
void hal_host_skip_pty(bool skip) { skip_pty = skip; }

bool hal_uart_read(uint8_t *byte)
{
    if (rx_pos == rx_len) {
        if (skip_pty) {
            return false;
        }
        ssize_t n = read(master, rx_buf, sizeof rx_buf);
        if (n <= 0) {
            return false;
        }
        rx_pos = 0;
        rx_len = (size_t)n;
        rx_total += (uint64_t)n;
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
    if (nx_decoder_push(&tx_decoder, byte) == NX_DEC_FRAME &&
        nx_packet_verify(tx_packet, tx_decoder.len) == NX_DEC_PACKET && tx_packet[1] == NX_SENSORS) {
        sensors_sent++;
    }
}

uint64_t hal_host_rx_total(void) { return rx_total; }
uint32_t hal_host_sensors_sent(void) { return sensors_sent; }

/* The kernel's pty buffer never drops received bytes: they wait until read. */
uint32_t hal_uart_rx_overflows(void) { return 0; }

/* A pseudo-terminal has no line speed: the speeds of the AVR board are accepted, and changing
 * them only sends what is queued. */
bool hal_uart_baud_supported(uint32_t baud)
{
    return baud == 115200u || baud == 250000u || baud == 500000u || baud == 1000000u;
}

void hal_uart_set_baud(uint32_t baud)
{
    (void)baud;
    hal_host_flush();
}

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
