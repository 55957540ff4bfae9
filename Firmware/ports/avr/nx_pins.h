/* The pin set-up tables of an AVR robot, generated from its description (Firmware/robots/<robot>.yaml,
 * Docs/ROBOTS.md) by tools/robotgen.py into build/gen/<robot>/nx_robot_pins.c. The AVR port
 * (hal_avr.c) and the emulation harness (sim/avr_harness.c) read them; the core never does.
 * Plain bytes only, so the harness can read the same tables on the host. */
#ifndef NX_PINS_H
#define NX_PINS_H

#include <stdint.h>

#include "nx_robot.h"

/** A pin as one byte: port index x 8 + bit, the port index counting A = 0, B = 1, ... H = 7,
 *  J = 8, K = 9, L = 10 (there is no port I). */
#define NX_PIN(port_index, bit) ((uint8_t)((port_index) * 8u + (bit)))
#define NX_PIN_PORT(pin) ((uint8_t)((pin) >> 3))
#define NX_PIN_BIT(pin) ((uint8_t)((pin) & 7u))
#define NX_NO_PIN 0xFFu
/** A PWM output as one byte: timer number (0..5) x 4 + output (0 = A, 1 = B). */
#define NX_PWM(timer, output) ((uint8_t)((timer) * 4u + (output)))
#define NX_PWM_TIMER(pwm) ((uint8_t)((pwm) >> 2))
#define NX_PWM_OUTPUT(pwm) ((uint8_t)((pwm) & 3u))
#define NX_NO_PWM 0xFFu
#define NX_NO_ACTUATOR 0xFFu
#define NX_TIMERS 6u

/** How the port reads or drives a channel. */
enum nx_drive {
    NX_DRIVE_ANALOG = 1,     /* one ADC conversion, millivolts */
    NX_DRIVE_DIGITAL = 2,    /* a pin level, 1 = active */
    NX_DRIVE_ENCODER = 3,    /* rising edges on an external interrupt pin, counted */
    NX_DRIVE_ULTRASONIC = 4, /* HC-SR04: trigger pulse, echo timed on an external interrupt pin */
    NX_DRIVE_MOTOR = 5,      /* H-bridge: PWM duty on `pin`, direction on in1/in2 */
    NX_DRIVE_SERVO = 6,      /* hobby servo: a 50 Hz pulse on `pin` */
    NX_DRIVE_OUTPUT = 7      /* a digital output (LED, buzzer), 1 = active */
};

enum nx_pin_flag {
    NX_FLAG_PULL_UP = 1,    /* digital input: the internal pull-up on */
    NX_FLAG_ACTIVE_LOW = 2, /* digital input or output: low means 1 */
    NX_FLAG_QUADRATURE = 4  /* encoder: pin2 is channel B; its level at A's rising edge gives the direction */
};

/** What each timer does. Timer2 is the millisecond tick; a timer serves motors or servos, never both. */
enum nx_timer_role { NX_TIMER_UNUSED = 0, NX_TIMER_MOTOR = 1, NX_TIMER_SERVO = 2 };

typedef struct {
    uint8_t drive;       /* enum nx_drive */
    uint8_t pin;         /* analog, digital: the pin; encoder: channel A; ultrasonic: echo */
    uint8_t pin2;        /* encoder: channel B (quadrature); ultrasonic: trigger; else NX_NO_PIN */
    uint8_t flags;       /* enum nx_pin_flag */
    uint8_t channel;     /* analog: ADC channel; encoder, ultrasonic: external interrupt number */
    uint8_t motor;       /* single-channel encoder: the motor whose command sign gives the direction */
    uint16_t timeout_us; /* ultrasonic: the longest echo waited for, µs */
    int16_t max;         /* ultrasonic: the reading when no echo comes back in time, mm */
} nx_sensor_pins;

typedef struct {
    uint8_t drive;         /* enum nx_drive */
    uint8_t pin;           /* motor: the PWM pin; servo, output: the pin */
    uint8_t in1, in2;      /* motor: direction pins (in1 high = forward, in2 high = reverse) */
    uint8_t pwm;           /* motor, servo: NX_PWM(timer, output) of `pin` */
    uint8_t flags;         /* output: NX_FLAG_ACTIVE_LOW */
    int16_t lo, hi;        /* servo: the degree range mapped onto pulse_min_us..pulse_max_us */
    uint16_t pulse_min_us; /* servo: pulse width at `lo` degrees, µs */
    uint16_t pulse_max_us; /* servo: pulse width at `hi` degrees, µs */
} nx_actuator_pins;

extern const nx_sensor_pins nx_sensor_pin_table[NX_SENSOR_COUNT];
extern const nx_actuator_pins nx_actuator_pin_table[NX_ACTUATOR_COUNT];
extern const uint8_t nx_timer_roles[NX_TIMERS];
extern const uint8_t nx_ranger_gap_ms;

/** One pin of the board, for the emulation harness: Arduino name, port letter, bit, ADC channel (-1 none). */
typedef struct {
    const char *name;
    char port;
    int8_t bit;
    int8_t adc;
} nx_board_pin;

extern const char nx_board_mcu[];
extern const nx_board_pin nx_board_pins[];
extern const unsigned nx_board_pin_count;

#endif
