/* The firmware of a described robot on an AVR board (Arduino Uno or Mega 2560). */
#include "hal.h"
#include "hal_avr.h"
#include "nx_device.h"

static nx_device device;

int main(void)
{
    hal_avr_init();
    nx_device_init(&device, hal_micros());
    for (;;) {
        nx_device_step(&device);
        hal_avr_idle();
    }
}
