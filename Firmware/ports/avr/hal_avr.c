/* The ATmega328P port at 16 MHz on an Arduino Uno pin map (wiring: Docs/HARDWARE.md).
 *
 *   UART0    115200 8N1 (U2X, UBRR 16), interrupt-driven ring buffers
 *   Timer2   CTC at 1 kHz: the millisecond tick; micros = ms * 1000 + TCNT2 * 4
 *   Timer0   fast PWM, 976 Hz: OC0A (D6) left motor, OC0B (D5) right motor
 *   Timer1   fast PWM mode 14, 50 Hz (ICR1 = 39999, 0.5 µs ticks): OC1A (D9) servo
 *   ADC      AVcc reference, A0..A3 for sensors 0..3
 *   INT0/1   D2/D3 wheel encoders, rising edges
 *   D10      bumper to ground, internal pull-up (low = pressed)
 *   WDT      WDTO_120MS (16k cycles of the 128 kHz oscillator, 125 ms nominal)
 * The interrupt handlers only move bytes and count edges; the main loop does the work. */
#include "hal_avr.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <util/atomic.h>

#include "hal.h"
#include "nx_proto.h"
#include "nx_robot.h"

#define RX_SIZE 64u /* powers of two */
#define TX_SIZE 64u

static volatile uint8_t rx_buf[RX_SIZE], tx_buf[TX_SIZE];
static volatile uint8_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint32_t rx_overflows;
static volatile uint32_t millis_count;
static volatile int16_t wheel[2];
static volatile int8_t wheel_direction[2] = {1, 1};
/* MCUSR as it was at reset; .noinit because .bss is cleared after .init3 runs */
static uint8_t reset_flags __attribute__((section(".noinit")));

/* Runs before main: keep the reset flags, and stop a watchdog left running by the reset. */
void nx_avr_early(void) __attribute__((naked, used, section(".init3")));
void nx_avr_early(void)
{
    reset_flags = MCUSR;
    MCUSR = 0;
    wdt_disable();
}

ISR(USART_RX_vect)
{
    bool lost = (UCSR0A & _BV(DOR0)) != 0;
    uint8_t byte = UDR0;
    uint8_t next = (uint8_t)((rx_head + 1u) & (RX_SIZE - 1u));
    if (lost) {
        rx_overflows++;
    }
    if (next == rx_tail) {
        rx_overflows++;
    } else {
        rx_buf[rx_head] = byte;
        rx_head = next;
    }
}

ISR(USART_UDRE_vect)
{
    if (tx_head == tx_tail) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
    } else {
        UDR0 = tx_buf[tx_tail];
        tx_tail = (uint8_t)((tx_tail + 1u) & (TX_SIZE - 1u));
    }
}

ISR(TIMER2_COMPA_vect) { millis_count++; }
ISR(INT0_vect) { wheel[0] = (int16_t)(wheel[0] + wheel_direction[0]); }
ISR(INT1_vect) { wheel[1] = (int16_t)(wheel[1] + wheel_direction[1]); }

void hal_avr_init(void)
{
    /* UART0: 115200 baud with U2X: UBRR = 16 MHz / (8 * 115200) - 1 = 16 (error 2.1 %) */
    UCSR0A = _BV(U2X0);
    UBRR0 = 16;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);

    /* Timer2: CTC, prescaler 64, OCR2A 249: 250 kHz / 250 = 1 kHz */
    TCCR2A = _BV(WGM21);
    TCCR2B = _BV(CS22);
    OCR2A = 249;
    TIMSK2 = _BV(OCIE2A);

    /* motors: direction pins D4, D7 (PD4, PD7), D8, D12 (PB0, PB4); PWM D6, D5 (PD6, PD5) */
    DDRD |= _BV(PD4) | _BV(PD7) | _BV(PD6) | _BV(PD5);
    DDRB |= _BV(PB0) | _BV(PB4) | _BV(PB1);
    TCCR0A = _BV(WGM01) | _BV(WGM00); /* fast PWM; outputs connected only while duty > 0 */
    TCCR0B = _BV(CS01) | _BV(CS00);   /* prescaler 64: 976 Hz */

    /* servo: Timer1 mode 14 (fast PWM, TOP = ICR1), prescaler 8, 20 ms period on D9 */
    ICR1 = 39999;
    TCCR1A = _BV(COM1A1) | _BV(WGM11);
    TCCR1B = _BV(WGM13) | _BV(WGM12) | _BV(CS11);

    /* bumper on D10 (PB2): input with pull-up */
    DDRB &= (uint8_t)~_BV(PB2);
    PORTB |= _BV(PB2);

    /* encoders on D2, D3: INT0, INT1 on rising edges */
    EICRA = _BV(ISC01) | _BV(ISC00) | _BV(ISC11) | _BV(ISC10);
    EIMSK = _BV(INT0) | _BV(INT1);

    /* ADC: AVcc reference, prescaler 128 (125 kHz) */
    ADMUX = _BV(REFS0);
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);

    wdt_enable(WDTO_120MS);
    sei();
}

void hal_avr_idle(void)
{
    set_sleep_mode(SLEEP_MODE_IDLE);
    cli();
    if (rx_head == rx_tail) {
        sleep_enable();
        sei(); /* the instruction after sei runs before any interrupt: no lost wake-up */
        sleep_cpu();
        sleep_disable();
    } else {
        sei();
    }
}

uint32_t hal_millis(void)
{
    uint32_t ms;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { ms = millis_count; }
    return ms;
}

uint32_t hal_micros(void)
{
    uint32_t ms;
    uint8_t ticks;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        ms = millis_count;
        ticks = TCNT2;
        if ((TIFR2 & _BV(OCF2A)) && ticks < 249u) {
            ms++; /* the tick is pending: TCNT2 has already wrapped */
        }
    }
    return ms * 1000u + (uint32_t)ticks * 4u;
}

bool hal_uart_read(uint8_t *byte)
{
    if (rx_head == rx_tail) {
        return false;
    }
    *byte = rx_buf[rx_tail];
    rx_tail = (uint8_t)((rx_tail + 1u) & (RX_SIZE - 1u));
    return true;
}

void hal_uart_write(uint8_t byte)
{
    uint8_t next = (uint8_t)((tx_head + 1u) & (TX_SIZE - 1u));
    while (next == tx_tail) {
        /* full: the UDRE interrupt drains it within one byte time (87 µs) */
    }
    tx_buf[tx_head] = byte;
    tx_head = next;
    UCSR0B |= _BV(UDRIE0);
}

uint32_t hal_uart_rx_overflows(void)
{
    uint32_t n;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { n = rx_overflows; }
    return n;
}

/* One ADC conversion of channel 0..3 (A0..A3), 104 µs, in millivolts:
 * mV = round(raw * 5000 / 1023) with AVcc = 5 V. */
static int16_t read_millivolts(uint8_t channel)
{
    ADMUX = (uint8_t)(_BV(REFS0) | channel);
    ADCSRA |= _BV(ADSC);
    while (ADCSRA & _BV(ADSC)) {
    }
    uint16_t raw = ADC;
    return (int16_t)(((uint32_t)raw * 5000u + 511u) / 1023u);
}

int16_t hal_sensor_read(uint8_t channel)
{
    if (channel <= NX_LIGHT_RIGHT) {
        return read_millivolts(channel);
    }
    if (channel == NX_BUMPER) {
        return (PINB & _BV(PB2)) ? 0 : 1;
    }
    int16_t ticks;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { ticks = wheel[channel - NX_WHEEL_LEFT]; }
    return ticks;
}

/* Motor m (0 left, 1 right) at signed duty `permille`: direction pins IN1/IN2 and
 * OCR0x = |permille| * 255 / 1000. Zero duty disconnects the PWM output and holds it low. */
static void drive_motor(uint8_t m, int16_t permille)
{
    uint8_t duty = (uint8_t)(((uint32_t)(permille < 0 ? -permille : permille) * 255u + 500u) / 1000u);
    bool forward = permille > 0, reverse = permille < 0;
    if (permille != 0) {
        wheel_direction[m] = forward ? 1 : -1;
    }
    if (m == 0) {
        PORTD = (uint8_t)((PORTD & ~(_BV(PD4) | _BV(PD7))) | (forward ? _BV(PD4) : 0) | (reverse ? _BV(PD7) : 0));
        OCR0A = duty;
        if (duty == 0) {
            TCCR0A &= (uint8_t)~_BV(COM0A1);
            PORTD &= (uint8_t)~_BV(PD6);
        } else {
            TCCR0A |= _BV(COM0A1);
        }
    } else {
        PORTB = (uint8_t)((PORTB & ~(_BV(PB0) | _BV(PB4))) | (forward ? _BV(PB0) : 0) | (reverse ? _BV(PB4) : 0));
        OCR0B = duty;
        if (duty == 0) {
            TCCR0A &= (uint8_t)~_BV(COM0B1);
            PORTD &= (uint8_t)~_BV(PD5);
        } else {
            TCCR0A |= _BV(COM0B1);
        }
    }
}

void hal_actuator_write(uint8_t channel, int16_t value)
{
    if (channel <= NX_MOTOR_RIGHT) {
        drive_motor(channel, value);
    } else {
        /* servo pulse = 1000 µs + degrees * 1000 / 180 µs, in 0.5 µs ticks */
        uint16_t pulse_us = (uint16_t)(1000u + ((uint32_t)value * 1000u + 90u) / 180u);
        OCR1A = (uint16_t)(pulse_us * 2u);
    }
}

void hal_watchdog_kick(void) { wdt_reset(); }
uint8_t hal_reset_cause(void)
{
    return (reset_flags & _BV(WDRF))  ? NX_RESET_WATCHDOG
         : (reset_flags & _BV(BORF))  ? NX_RESET_BROWN_OUT
         : (reset_flags & _BV(EXTRF)) ? NX_RESET_EXTERNAL
         : (reset_flags & _BV(PORF))  ? NX_RESET_POWER_ON
                                      : NX_RESET_UNKNOWN;
}

void hal_unique_id(uint8_t id[8])
{
    eeprom_read_block(id, (const void *)0, 8); /* programmed per board, Docs/FIRMWARE.md */
}

const char *hal_board_name(void) { return "neuraxon-uno"; }
uint16_t hal_period_min_ms(void) { return 4; }
