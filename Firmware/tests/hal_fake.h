/* A real implementation of hal.h for in-process tests: a virtual clock, settable sensors,
 * recorded actuators, and byte queues in place of the UART. */
#ifndef NX_HAL_FAKE_H
#define NX_HAL_FAKE_H

#include <stdint.h>

#define FAKE_TX_CAPACITY 65536u

typedef struct {
    uint64_t now_us;                  /**< the virtual clock */
    int16_t sensors[16];
    int16_t actuators[16];
    uint32_t actuator_writes;
    uint8_t tx[FAKE_TX_CAPACITY];     /**< bytes the device sent */
    uint32_t tx_len;
    const uint8_t *rx;                /**< bytes waiting for the device */
    uint32_t rx_len;
    uint32_t rx_overflows;
    uint8_t reset_cause;
    uint8_t unique_id[8];
    const char *board_name;
    uint32_t watchdog_kicks;
    uint32_t baud;                    /**< the line speed set last (115200 after fake_reset) */
    uint32_t baud_changes;            /**< calls of hal_uart_set_baud */
    uint32_t tx_len_at_baud_change;   /**< tx_len when the speed last changed */
} fake_hal;

/** The one fake board; fake_reset() gives the reference values of the test vectors
 *  (board "neuraxon-uno", id 1e950f004e580001; period_min_ms is the reference robot's, 4). */
extern fake_hal fake;
void fake_reset(void);

#endif
