/* Port-specific start-up and idle of the ATmega328P port. */
#ifndef NX_HAL_AVR_H
#define NX_HAL_AVR_H

/** Configures the UART, timers, PWM, ADC, pins and the watchdog, then enables interrupts. */
void hal_avr_init(void);
/** Sleeps until the next interrupt (at most 1 ms: the tick) unless bytes are waiting. */
void hal_avr_idle(void);

#endif
