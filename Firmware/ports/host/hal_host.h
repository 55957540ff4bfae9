/* Port-specific parts of the host port. */
#ifndef NX_HAL_HOST_H
#define NX_HAL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Creates the pseudo-terminal (its slave path into pty_name) and starts the clock.
 *  Returns 0 or a negative errno. */
int hal_host_open(bool use_virtual_clock, const uint8_t id[8], char *pty_name, size_t cap);
/** Whether the clock is virtual. */
bool hal_host_virtual(void);
/** The pty master, to wait on. */
int hal_host_pty(void);
/** The clock, µs since start: virtual (moved only by hal_host_advance) or CLOCK_MONOTONIC. */
uint64_t hal_host_now_us(void);
void hal_host_advance(uint32_t us);
void hal_host_set_sensor(uint8_t channel, int16_t value);
/** Writes the frames queued by the core to the pty without waiting: each frame whole (one the
 *  pty took in part is finished first, from a small buffer) or, when the pty is full, dropped. */
void hal_host_flush(void);
/** While true, the core's UART reads take only bytes already read from the pty, and do not
 *  look at the pty itself. */
void hal_host_skip_pty(bool skip);
/** Bytes read from the pty in all. */
uint64_t hal_host_rx_total(void);
/** SENSORS frames the core has sent in all. */
uint32_t hal_host_sensors_sent(void);
/** Frames dropped so far because the pty was full. */
uint32_t hal_host_tx_dropped(void);

#endif
