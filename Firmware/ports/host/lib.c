/* The host port as a shared library: the hardware interface with the UART as two byte queues and
 * a virtual clock, and the lockstep interface of nx_firmware_lib.h. */
#include "nx_firmware_lib.h"

#include <string.h>

#include "hal.h"
#include "nx_device.h"
#include "nx_frame.h"
#include "nx_proto.h"
#include "nx_robot.h"

/* The main loop runs at least every 0.1 ms of virtual time, as on the board (main.c's step). */
#define STEP_US 100u

static nx_device device;
static uint64_t now_us;
static uint8_t unique_id[8];
static int16_t sensors[NX_SENSOR_COUNT];
static int16_t actuators[NX_ACTUATOR_COUNT];

/* bytes received, waiting for the core: rx[rx_pos..rx_len) */
static uint8_t rx[4096];
static size_t rx_pos, rx_len;
/* bytes sent, waiting for the caller: tx[0..tx_len) */
static uint8_t tx[4096];
static size_t tx_len;
static uint32_t tx_dropped;
/* the frames going out, decoded to count the SENSORS frames among them */
static uint8_t tx_packet[NX_PACKET_MAX];
static nx_decoder tx_decoder;
static uint32_t sensors_sent;

uint32_t nx_lib_api_version(void) { return NX_LIB_API_VERSION; }

void nx_lib_start(const uint8_t id[8])
{
    memcpy(unique_id, id, sizeof unique_id);
    now_us = 0;
    memset(sensors, 0, sizeof sensors);
    memset(actuators, 0, sizeof actuators);
    rx_pos = rx_len = tx_len = 0;
    tx_dropped = 0;
    sensors_sent = 0;
    nx_decoder_init(&tx_decoder, tx_packet, sizeof tx_packet);
    nx_device_init(&device, hal_micros());
    nx_device_step(&device);
}

uint8_t nx_lib_sensor_count(void) { return NX_SENSOR_COUNT; }
uint8_t nx_lib_actuator_count(void) { return NX_ACTUATOR_COUNT; }

bool nx_lib_set_sensor(uint8_t channel, int16_t value)
{
    if (channel >= NX_SENSOR_COUNT || value < nx_sensor_channels[channel].min || value > nx_sensor_channels[channel].max) {
        return false;
    }
    sensors[channel] = value;
    return true;
}

size_t nx_lib_receive(const uint8_t *bytes, size_t len)
{
    if (rx_pos == rx_len) {
        rx_pos = rx_len = 0;
    } else if (rx_pos > 0) {
        memmove(rx, rx + rx_pos, rx_len - rx_pos);
        rx_len -= rx_pos;
        rx_pos = 0;
    }
    size_t n = len < sizeof rx - rx_len ? len : sizeof rx - rx_len;
    memcpy(rx + rx_len, bytes, n);
    rx_len += n;
    return n;
}

uint64_t nx_lib_run(uint32_t us, bool to_sensors)
{
    uint32_t sent = sensors_sent;
    nx_device_step(&device);
    while (us > 0 && !(to_sensors && sensors_sent != sent)) {
        uint32_t d = us < STEP_US ? us : STEP_US;
        now_us += d;
        us -= d;
        nx_device_step(&device);
    }
    return now_us;
}

uint64_t nx_lib_now_us(void) { return now_us; }

size_t nx_lib_take_sent(uint8_t *out, size_t cap)
{
    size_t n = tx_len < cap ? tx_len : cap;
    memcpy(out, tx, n);
    memmove(tx, tx + n, tx_len - n);
    tx_len -= n;
    return n;
}

uint32_t nx_lib_sensors_sent(void) { return sensors_sent; }
uint32_t nx_lib_sent_dropped(void) { return tx_dropped; }
int16_t nx_lib_actuator(uint8_t channel) { return channel < NX_ACTUATOR_COUNT ? actuators[channel] : 0; }

/* --- the hardware interface ----------------------------------------------------------------- */

uint32_t hal_micros(void) { return (uint32_t)now_us; }
uint32_t hal_millis(void) { return (uint32_t)(now_us / 1000u); }

bool hal_uart_read(uint8_t *byte)
{
    if (rx_pos == rx_len) {
        return false;
    }
    *byte = rx[rx_pos++];
    return true;
}

void hal_uart_write(uint8_t byte)
{
    if (tx_len == sizeof tx) {
        tx_dropped++;
        return;
    }
    tx[tx_len++] = byte;
    if (nx_decoder_push(&tx_decoder, byte) == NX_DEC_FRAME &&
        nx_packet_verify(tx_packet, tx_decoder.len) == NX_DEC_PACKET && tx_packet[1] == NX_SENSORS) {
        sensors_sent++;
    }
}

/* The receive queue never overflows silently: nx_lib_receive says what it took. */
uint32_t hal_uart_rx_overflows(void) { return 0; }

/* No line: the AVR board's speeds are accepted, and changing them changes nothing. */
bool hal_uart_baud_supported(uint32_t baud)
{
    return baud == 115200u || baud == 250000u || baud == 500000u || baud == 1000000u;
}

void hal_uart_set_baud(uint32_t baud) { (void)baud; }

int16_t hal_sensor_read(uint8_t channel) { return sensors[channel]; }
void hal_actuator_write(uint8_t channel, int16_t value) { actuators[channel] = value; }

void hal_watchdog_kick(void) {}
uint8_t hal_reset_cause(void) { return NX_RESET_POWER_ON; }
void hal_unique_id(uint8_t id[8]) { memcpy(id, unique_id, 8); }
const char *hal_board_name(void) { return "neuraxon-host"; }
