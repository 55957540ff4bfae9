/* The AVR port at 16 MHz on an Arduino Uno (ATmega328P) or Mega 2560 (ATmega2560). The robot's
 * pins come from the tables generated from its description (nx_pins.h, Docs/ROBOTS.md); the
 * reference robot's wiring is in Docs/HARDWARE.md.
 *
 *   UART0    115200 8N1 (U2X, UBRR 16), interrupt-driven ring buffers
 *   Timer2   CTC at 1 kHz: the millisecond tick; micros = ms * 1000 + TCNT2 * 4
 *   Timer0   fast PWM, 976 Hz, for motors (OC0A, OC0B)
 *   Timer1, 3, 4, 5 (16-bit) either motors (fast PWM 8-bit, mode 5, 976 Hz) or servos (mode 14,
 *            50 Hz, ICR = 39999, 0.5 µs ticks), as the description assigns them
 *   ADC      AVcc reference, prescaler 128: one conversion per analog channel read (104 µs)
 *   INTn     encoders (rising edges) and ultrasonic echoes (both edges)
 *   WDT      WDTO_120MS (16k cycles of the 128 kHz oscillator, 125 ms nominal)
 * The interrupt handlers only move bytes, count edges and stamp echo edges; the main loop does the
 * work. Ultrasonic rangers are pinged one at a time from the idle routine, never blocking. */
#include "hal_avr.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stddef.h>
#include <util/atomic.h>
#include <util/delay.h>

#include "hal.h"
#include "nx_adc.h"
#include "nx_pins.h"
#include "nx_proto.h"
#include "nx_robot.h"

/* the ATmega2560 numbers its first UART */
#if defined(USART0_RX_vect)
#define NX_UART_RX_vect USART0_RX_vect
#define NX_UART_UDRE_vect USART0_UDRE_vect
#else
#define NX_UART_RX_vect USART_RX_vect
#define NX_UART_UDRE_vect USART_UDRE_vect
#endif

#define RX_SIZE 64u /* powers of two */
#define TX_SIZE 64u

static volatile uint8_t rx_buf[RX_SIZE], tx_buf[TX_SIZE];
static volatile uint8_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint32_t rx_overflows;
static volatile uint32_t millis_count;
/* encoder counts by sensor index; the direction of each motor's last non-zero command */
static volatile int16_t counts[NX_SENSOR_COUNT];
static volatile int8_t motor_direction[NX_ACTUATOR_COUNT];
/* the sensor each external interrupt serves (NX_NO_PIN: none) */
#define INTERRUPTS 8u
static uint8_t interrupt_sensor[INTERRUPTS];

/* Ultrasonic rangers, pinged one at a time: the one pinged, its state, and the echo's edges. */
enum ranger_state { RANGER_IDLE, RANGER_WAIT_RISE, RANGER_WAIT_FALL, RANGER_DONE };
static volatile uint8_t ranger_state;
static volatile uint32_t echo_rise_us, echo_us;
static uint8_t ranger_current = NX_NO_PIN;
static uint32_t ranger_since_us; /* the trigger, or the end of the last ping */
static int16_t ranger_mm[NX_SENSOR_COUNT];
static bool have_rangers;
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

ISR(NX_UART_RX_vect)
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

ISR(NX_UART_UDRE_vect)
{
    if (tx_head == tx_tail) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
    } else {
        UDR0 = tx_buf[tx_tail];
        tx_tail = (uint8_t)((tx_tail + 1u) & (TX_SIZE - 1u));
    }
}

ISR(TIMER2_COMPA_vect) { millis_count++; }

/* --- pins: PINx, DDRx and PORTx are consecutive; port A..G from 0x20, H..L from 0x100 ------ */
static volatile uint8_t *pin_registers(uint8_t pin)
{
    uint8_t port = NX_PIN_PORT(pin);
    uint16_t address = port < 7u ? (uint16_t)(0x20u + 3u * port) : (uint16_t)(0x100u + 3u * (port - 7u));
    return (volatile uint8_t *)address;
}

static bool pin_read(uint8_t pin) { return (pin_registers(pin)[0] & _BV(NX_PIN_BIT(pin))) != 0; }

static void pin_write(uint8_t pin, bool high)
{
    volatile uint8_t *r = pin_registers(pin);
    if (high) {
        r[2] |= _BV(NX_PIN_BIT(pin));
    } else {
        r[2] &= (uint8_t)~_BV(NX_PIN_BIT(pin));
    }
}

static void pin_output(uint8_t pin) { pin_registers(pin)[1] |= _BV(NX_PIN_BIT(pin)); }

static void pin_input(uint8_t pin, bool pull_up)
{
    pin_registers(pin)[1] &= (uint8_t)~_BV(NX_PIN_BIT(pin));
    if (pull_up) {
        pin_write(pin, true);
    }
}

/* --- timers: Timer0 (8-bit) and the 16-bit timers 1, 3, 4, 5 ----------------------------------
 * Timer0: TCCR0A, TCCR0B, TCNT0, OCR0A, OCR0B at consecutive addresses.
 * 16-bit timer n: TCCRnA +0, TCCRnB +1, ICRn +6, OCRnA +8, OCRnB +10 from TCCRnA. */
static volatile uint8_t *timer_registers(uint8_t timer)
{
    switch (timer) {
    case 0: return &TCCR0A;
    case 1: return &TCCR1A;
#if defined(TCCR3A)
    case 3: return &TCCR3A;
    case 4: return &TCCR4A;
    case 5: return &TCCR5A;
#endif
    default: return NULL;
    }
}

static void timer_write16(volatile uint8_t *low, uint16_t value)
{
    low[1] = (uint8_t)(value >> 8); /* the high byte first: the low byte's write commits both */
    low[0] = (uint8_t)value;
}

static void pwm_write(uint8_t pwm, uint16_t value)
{
    uint8_t timer = NX_PWM_TIMER(pwm), output = NX_PWM_OUTPUT(pwm);
    volatile uint8_t *r = timer_registers(timer);
    if (timer == 0) {
        r[3u + output] = (uint8_t)value;
    } else {
        timer_write16(r + 8u + 2u * output, value);
    }
}

/* COMnA1 (bit 7) or COMnB1 (bit 5): the output pin follows the compare unit (non-inverting). */
static void pwm_connect(uint8_t pwm, bool connected)
{
    volatile uint8_t *r = timer_registers(NX_PWM_TIMER(pwm));
    uint8_t bit = NX_PWM_OUTPUT(pwm) == 0 ? 7u : 5u;
    if (connected) {
        r[0] |= _BV(bit);
    } else {
        r[0] &= (uint8_t)~_BV(bit);
    }
}

static void timers_init(void)
{
    for (uint8_t t = 0; t < NX_TIMERS; t++) {
        volatile uint8_t *r = timer_registers(t);
        if (r == NULL || nx_timer_roles[t] == NX_TIMER_UNUSED) {
            continue;
        }
        if (t == 0) {
            r[0] = _BV(WGM01) | _BV(WGM00); /* fast PWM; outputs connected only while duty > 0 */
            r[1] = _BV(CS01) | _BV(CS00);   /* prescaler 64: 976 Hz */
        } else if (nx_timer_roles[t] == NX_TIMER_MOTOR) {
            r[0] = _BV(0);                  /* mode 5, fast PWM 8-bit: WGMn0 ... */
            r[1] = _BV(3) | _BV(1) | _BV(0); /* ... and WGMn2; prescaler 64: 976 Hz */
        } else {
            timer_write16(r + 6, 39999u);   /* mode 14, TOP = ICRn: 20 ms of 0.5 µs ticks */
            r[0] = _BV(1);                  /* WGMn1 ... */
            r[1] = _BV(4) | _BV(3) | _BV(1); /* ... WGMn3, WGMn2; prescaler 8 */
        }
    }
}

/* --- external interrupts: encoders and echoes ----------------------------------------------- */
static void ranger_edge(uint8_t channel, bool high);

static void interrupt_edge(uint8_t n)
{
    uint8_t channel = interrupt_sensor[n];
    if (channel == NX_NO_PIN) {
        return;
    }
    const nx_sensor_pins *s = &nx_sensor_pin_table[channel];
    if (s->drive == NX_DRIVE_ENCODER) {
        int8_t step = (s->flags & NX_FLAG_QUADRATURE) ? (pin_read(s->pin2) ? -1 : 1) : motor_direction[s->motor];
        counts[channel] = (int16_t)(counts[channel] + step);
    } else {
        ranger_edge(channel, pin_read(s->pin));
    }
}

ISR(INT0_vect) { interrupt_edge(0); }
ISR(INT1_vect) { interrupt_edge(1); }
#if defined(INT2_vect)
ISR(INT2_vect) { interrupt_edge(2); }
ISR(INT3_vect) { interrupt_edge(3); }
#endif
#if defined(INT4_vect)
ISR(INT4_vect) { interrupt_edge(4); }
ISR(INT5_vect) { interrupt_edge(5); }
#endif

/* Sense control of INTn: 3 rising edges (encoders), 1 any change (echoes). */
static void interrupt_enable(uint8_t n, uint8_t sense)
{
    if (n < 4u) {
        EICRA = (uint8_t)((EICRA & ~(3u << (2u * n))) | (sense << (2u * n)));
    }
#if defined(EICRB)
    else {
        EICRB = (uint8_t)((EICRB & ~(3u << (2u * (n - 4u)))) | (sense << (2u * (n - 4u))));
    }
#endif
    EIFR = _BV(n);
    EIMSK |= _BV(n);
}

/* --- ultrasonic rangers (HC-SR04) ---------------------------------------------------------------
 * A 10 µs trigger pulse; the echo pin then goes high for the sound's round trip, 2000/343 µs per
 * mm. The echo's edges are stamped by its interrupt; the idle routine turns them into mm, or into
 * the ranger's maximum when no echo comes within timeout_us, and pings the next ranger after
 * nx_ranger_gap_ms. Nothing waits for an echo. */
static void ranger_edge(uint8_t channel, bool high)
{
    if (channel != ranger_current) {
        return;
    }
    if (high && ranger_state == RANGER_WAIT_RISE) {
        echo_rise_us = hal_micros();
        ranger_state = RANGER_WAIT_FALL;
    } else if (!high && ranger_state == RANGER_WAIT_FALL) {
        echo_us = hal_micros() - echo_rise_us;
        ranger_state = RANGER_DONE;
    }
}

static void rangers_service(void)
{
    uint32_t now = hal_micros();
    uint8_t state;
    uint32_t rise, width;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        state = ranger_state;
        rise = echo_rise_us;
        width = echo_us;
    }
    if (state == RANGER_IDLE) {
        if (ranger_current != NX_NO_PIN && now - ranger_since_us < (uint32_t)nx_ranger_gap_ms * 1000u) {
            return;
        }
        uint8_t next = ranger_current;
        do { /* the next ranger after the current one */
            next = (uint8_t)(next + 1u >= NX_SENSOR_COUNT || next == NX_NO_PIN ? 0u : next + 1u);
        } while (nx_sensor_pin_table[next].drive != NX_DRIVE_ULTRASONIC);
        ranger_current = next;
        uint8_t trigger = nx_sensor_pin_table[next].pin2;
        ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { ranger_state = RANGER_WAIT_RISE; }
        pin_write(trigger, true);
        _delay_us(10);
        pin_write(trigger, false);
        ranger_since_us = hal_micros();
        return;
    }
    const nx_sensor_pins *s = &nx_sensor_pin_table[ranger_current];
    bool done = state == RANGER_DONE;
    bool late = (state == RANGER_WAIT_RISE && now - ranger_since_us > s->timeout_us) ||
                (state == RANGER_WAIT_FALL && now - rise > s->timeout_us);
    if (!done && !late) {
        return;
    }
    uint32_t mm = done ? (width * 343u + 1000u) / 2000u : (uint32_t)s->max;
    ranger_mm[ranger_current] = (int16_t)(mm > (uint32_t)s->max ? (uint32_t)s->max : mm);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { ranger_state = RANGER_IDLE; }
    ranger_since_us = now;
}

/* --- start-up -------------------------------------------------------------------------------- */
static void channels_init(void)
{
    for (uint8_t n = 0; n < INTERRUPTS; n++) {
        interrupt_sensor[n] = NX_NO_PIN;
    }
    for (uint8_t a = 0; a < NX_ACTUATOR_COUNT; a++) {
        const nx_actuator_pins *p = &nx_actuator_pin_table[a];
        motor_direction[a] = 1;
        if (p->drive == NX_DRIVE_OUTPUT) { /* its safe level before it drives the pin: no glitch at start */
            hal_actuator_write(a, nx_actuator_channels[a].safe);
        }
        pin_output(p->pin);
        if (p->drive == NX_DRIVE_MOTOR) {
            pin_output(p->in1);
            pin_output(p->in2);
        } else if (p->drive == NX_DRIVE_SERVO) {
            pwm_connect(p->pwm, true);
        }
    }
    for (uint8_t i = 0; i < NX_SENSOR_COUNT; i++) {
        const nx_sensor_pins *s = &nx_sensor_pin_table[i];
        switch (s->drive) {
        case NX_DRIVE_DIGITAL:
            pin_input(s->pin, (s->flags & NX_FLAG_PULL_UP) != 0);
            break;
        case NX_DRIVE_ENCODER:
            pin_input(s->pin, false);
            if (s->flags & NX_FLAG_QUADRATURE) {
                pin_input(s->pin2, false);
            }
            interrupt_sensor[s->channel] = i;
            interrupt_enable(s->channel, 3u);
            break;
        case NX_DRIVE_ULTRASONIC:
            pin_output(s->pin2);
            pin_input(s->pin, false);
            ranger_mm[i] = s->max;
            interrupt_sensor[s->channel] = i;
            interrupt_enable(s->channel, 1u);
            have_rangers = true;
            break;
        default: /* analog: the ADC takes the pin as it is after reset */
            break;
        }
    }
}

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

    timers_init();
    channels_init();

    /* ADC: AVcc reference, prescaler 128 (125 kHz) */
    ADMUX = _BV(REFS0);
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);

    wdt_enable(WDTO_120MS);
    sei();
}

void hal_avr_idle(void)
{
    if (have_rangers) {
        rangers_service();
    }
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

/* The speeds UART0 runs with 0 % error at 16 MHz in double-speed mode (UBRR = F_CPU / (8 *
 * baud) - 1 exactly), and the boot speed 115200 (UBRR 16, 2.1 %). */
bool hal_uart_baud_supported(uint32_t baud)
{
    return baud == 115200u || baud == 250000u || baud == 500000u || baud == 1000000u;
}

static uint32_t uart_baud = 115200u;

void hal_uart_set_baud(uint32_t baud)
{
    /* everything queued leaves at the old speed: the ring empties, the last byte moves to the
     * shift register (UDRE), then one frame time of 10 bits passes before UBRR changes */
    while (tx_head != tx_tail || !(UCSR0A & _BV(UDRE0))) {
    }
    uint32_t start = hal_micros(), frame_us = 10000000u / uart_baud + 4u;
    while (hal_micros() - start < frame_us) {
    }
    UBRR0 = (uint16_t)(baud == 115200u ? 16u : F_CPU / (8u * baud) - 1u);
    uart_baud = baud;
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

/* One ADC conversion of `channel` (0..7, or 0..15 on the ATmega2560), 104 µs, in millivolts
 * (nx_adc_millivolts). */
static int16_t read_millivolts(uint8_t channel)
{
#if defined(MUX5)
    ADCSRB = (uint8_t)((channel & 8u) ? _BV(MUX5) : 0u);
#endif
    ADMUX = (uint8_t)(_BV(REFS0) | (channel & 7u));
    ADCSRA |= _BV(ADSC);
    while (ADCSRA & _BV(ADSC)) {
    }
    return nx_adc_millivolts(ADC);
}

int16_t hal_sensor_read(uint8_t channel)
{
    const nx_sensor_pins *s = &nx_sensor_pin_table[channel];
    switch (s->drive) {
    case NX_DRIVE_ANALOG: { /* held within the range the description declares */
        int16_t mv = read_millivolts(s->channel);
        const nx_channel *c = &nx_sensor_channels[channel];
        return mv < c->min ? c->min : mv > c->max ? c->max : mv;
    }
    case NX_DRIVE_DIGITAL:
        return (pin_read(s->pin) != ((s->flags & NX_FLAG_ACTIVE_LOW) != 0)) ? 1 : 0;
    case NX_DRIVE_ULTRASONIC:
        return ranger_mm[channel];
    default: {
        int16_t ticks;
        ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { ticks = counts[channel]; }
        return ticks;
    }
    }
}

/* Motor `a` at signed duty `permille`: direction pins in1/in2 and OCR = |permille| * 255 / 1000.
 * Zero duty disconnects the PWM output and holds it low. */
static void drive_motor(uint8_t a, int16_t permille)
{
    const nx_actuator_pins *p = &nx_actuator_pin_table[a];
    /* duty = round(|s| * 255 / 1000) = floor((51 |s| + 100) / 200), the division as a multiply and a
     * shift (exact for every |s| <= 1000: 51100 * 83887 < 2^32): no 32-bit division on the path from
     * a COMMAND to the pins */
    uint16_t magnitude = (uint16_t)(permille < 0 ? -permille : permille);
    uint8_t duty = (uint8_t)(((uint32_t)(51u * magnitude + 100u) * 83887u) >> 24);
    bool forward = permille > 0, reverse = permille < 0;
    if (permille != 0) {
        motor_direction[a] = forward ? 1 : -1;
    }
    pin_write(p->in1, forward);
    pin_write(p->in2, reverse);
    pwm_write(p->pwm, duty);
    if (duty == 0) {
        pwm_connect(p->pwm, false);
        pin_write(p->pin, false);
    } else {
        pwm_connect(p->pwm, true);
    }
}

void hal_actuator_write(uint8_t channel, int16_t value)
{
    const nx_actuator_pins *p = &nx_actuator_pin_table[channel];
    if (p->drive == NX_DRIVE_MOTOR) {
        drive_motor(channel, value);
    } else if (p->drive == NX_DRIVE_SERVO) {
        /* pulse = pulse_min + (value - lo) * (pulse_max - pulse_min) / (hi - lo) µs, rounded, in 0.5 µs ticks */
        uint32_t span = (uint32_t)(p->hi - p->lo);
        uint16_t pulse_us = (uint16_t)(p->pulse_min_us +
                                       ((uint32_t)(value - p->lo) * (uint32_t)(p->pulse_max_us - p->pulse_min_us) + span / 2u) / span);
        pwm_write(p->pwm, (uint16_t)(pulse_us * 2u));
    } else {
        pin_write(p->pin, (value != 0) != ((p->flags & NX_FLAG_ACTIVE_LOW) != 0));
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

const char *hal_board_name(void) { return NX_ROBOT_BOARD_NAME; }
