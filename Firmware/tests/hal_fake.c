#include "hal_fake.h"

#include <string.h>

#include "hal.h"

fake_hal fake;

void fake_reset(void)
{
    static const uint8_t id[8] = {0x1e, 0x95, 0x0f, 0x00, 0x4e, 0x58, 0x00, 0x01};
    memset(&fake, 0, sizeof fake);
    memcpy(fake.unique_id, id, sizeof id);
    fake.board_name = "neuraxon-uno";
    fake.baud = 115200u;
}

/* The AVR board's speeds: 0 % error at 16 MHz with U2X, and the boot speed. */
bool hal_uart_baud_supported(uint32_t baud)
{
    return baud == 115200u || baud == 250000u || baud == 500000u || baud == 1000000u;
}

void hal_uart_set_baud(uint32_t baud)
{
    fake.baud = baud;
    fake.baud_changes++;
    fake.tx_len_at_baud_change = fake.tx_len;
}

uint32_t hal_micros(void) { return (uint32_t)fake.now_us; }
uint32_t hal_millis(void) { return (uint32_t)(fake.now_us / 1000u); }

bool hal_uart_read(uint8_t *byte)
{
    if (fake.rx_len == 0) {
        return false;
    }
    *byte = *fake.rx++;
    fake.rx_len--;
    return true;
}

void hal_uart_write(uint8_t byte)
{
    if (fake.tx_len < FAKE_TX_CAPACITY) {
        fake.tx[fake.tx_len++] = byte;
    }
}

uint32_t hal_uart_rx_overflows(void) { return fake.rx_overflows; }
int16_t hal_sensor_read(uint8_t channel) { return fake.sensors[channel]; }

void hal_actuator_write(uint8_t channel, int16_t value)
{
    fake.actuators[channel] = value;
    fake.actuator_writes++;
}

void hal_watchdog_kick(void) { fake.watchdog_kicks++; }
uint8_t hal_reset_cause(void) { return fake.reset_cause; }
void hal_unique_id(uint8_t id[8]) { memcpy(id, fake.unique_id, 8); }
const char *hal_board_name(void) { return fake.board_name; }
