/* The hardware interface: the short list of functions each port (avr, host) implements.
 * Everything above it (nx_device and the protocol) is portable C99. */
#ifndef NX_HAL_H
#define NX_HAL_H

#include <stdbool.h>
#include <stdint.h>

/** Microseconds since start, wrapping every 2^32 µs (71.6 min). */
uint32_t hal_micros(void);
/** Milliseconds since start, wrapping every 2^32 ms (49.7 days). */
uint32_t hal_millis(void);

/** Takes one received byte if there is one. */
bool hal_uart_read(uint8_t *byte);
/** Queues one byte for sending; waits while the transmit buffer is full. */
void hal_uart_write(uint8_t byte);
/** Bytes lost so far because the receive buffer was full. */
uint32_t hal_uart_rx_overflows(void);
/** Whether the UART can run at `baud` (Docs/PROTOCOL.md section 12: SET_BAUD). */
bool hal_uart_baud_supported(uint32_t baud);
/** Sends everything queued at the speed in force, then changes the line to `baud` (one the
 *  board supports). A port whose line has no speed (a pseudo-terminal) changes nothing. */
void hal_uart_set_baud(uint32_t baud);

/** Reads sensor `channel` in its unit (Docs/PROTOCOL.md, reference robot table). */
int16_t hal_sensor_read(uint8_t channel);
/** Drives actuator `channel` to `value` in its unit; the caller has checked the range. */
void hal_actuator_write(uint8_t channel, int16_t value);

/** Tells the watchdog the main loop is alive. */
void hal_watchdog_kick(void);
/** Why the board last started (enum nx_reset_cause). */
uint8_t hal_reset_cause(void);
/** The board's 8-byte unique id. */
void hal_unique_id(uint8_t id[8]);
/** The board name, 1..16 printable ASCII characters, NUL-terminated. */
const char *hal_board_name(void);

#endif
