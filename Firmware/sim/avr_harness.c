/* nx-avr-harness: runs the real AVR build of a robot's firmware under simavr, with its UART on a
 * pseudo-terminal, injected ADC millivolts, digital inputs, encoder pulses and ultrasonic echoes
 * on stdin, and the actuators' PWM duty and pins reported on stdout. It is built per robot: the
 * board and the pin map come from the tables generated from the robot's description (nx_pins.h). Emulated time runs at wall-clock pace, as fast as
 * possible (--fast), or only when told (--lockstep, for firmware in the loop of a simulation).
 * Command line and link: Docs/FIRMWARE.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <avr_adc.h>
#include <avr_ioport.h>
#include <avr_timer.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>

#include "nx_frame.h"
#include "nx_pins.h"
#include "nx_proto.h"

#define FREQUENCY 16000000u

static avr_t *avr;
static int master = -1;
static bool realtime = true;
static bool lockstep;
static bool channels; /* --channels: also report each actuator's value in its unit */
static bool quitting;
static bool cpu_stopped;

/* the firmware's outgoing frames, decoded to tell SENSORS frames apart (lockstep) */
static uint8_t tx_packet[NX_PACKET_MAX];
static nx_decoder tx_decoder;
static unsigned long sensors_sent;
static bool sensors_frame_done;
/* when the frame now leaving the UART began: its first byte's hand-over to the UART, µs */
static unsigned long long tx_frame_start_us;
static bool tx_in_frame;

/* lockstep's deliver and settle: bytes and non-empty frames read from the pty in all, the
 * requests among those frames (messages the firmware answers), and the firmware's answers
 * (every frame it sends but SENSORS) */
static unsigned long long rx_total;
static unsigned long rx_frames, rx_frames_settled;
static unsigned long requests_in, requests_settled, answers_out;
static uint8_t rx_previous;
static uint8_t rx_packet[NX_PACKET_MAX];
static nx_decoder rx_decoder;

/* bytes from the pty waiting for the emulated UART */
static uint8_t inbox[8192];
static size_t inbox_head, inbox_len;
static bool uart_ready = true;
static avr_irq_t *uart_in;
static avr_uart_t *uart0; /* for its input FIFO: a byte handed over waits there for the CPU */
static avr_irq_t *adc_in;

/* stdin line assembly */
static char line[256];
static size_t line_len;
static unsigned line_number;

/* simavr 1.6 emulates ADC0..ADC7 only: on the ATmega2560, A8..A15 (ADC8..ADC15) always read 0 */
#define ADC_EMULATED 8

/* pending encoder pulses, by sensor channel */
static unsigned pulses_left[NX_SENSOR_COUNT];
static bool pulse_high[NX_SENSOR_COUNT];

/* the HC-SR04 model, by sensor channel: the distance it answers (mm; negative: no echo, the echo
 * pin stays high 38 ms as the module's does), the trigger's last level, and an echo under way */
static long ranger_mm[NX_SENSOR_COUNT];
static bool trigger_level[NX_SENSOR_COUNT];
static bool echo_busy[NX_SENSOR_COUNT];

/* lockstep: each encoder's count as the host last gave it (`sensor` takes the count there) */
static int16_t encoder_count[NX_SENSOR_COUNT];

static struct timespec wall_start;

static unsigned long long emulated_us(void) { return avr->cycle / (FREQUENCY / 1000000u); }

static unsigned long long wall_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (unsigned long long)(now.tv_sec - wall_start.tv_sec) * 1000000ull +
           (unsigned long long)((now.tv_nsec - wall_start.tv_nsec) / 1000);
}

/* lockstep: the firmware's bytes wait here until a frame's delimiter or the end of the run, so a
 * frame goes to the pty in one write (emulated time stands still until then anyway) */
static uint8_t outbox[512];
static size_t outbox_len;

static void write_pty(const uint8_t *bytes, size_t len)
{
    /* a reader that is slow or absent loses bytes, as on a real serial line */
    if (master >= 0 && len > 0 && write(master, bytes, len) < 0 && errno != EAGAIN && errno != EIO) {
        fprintf(stderr, "nx-avr-harness: writing to the pty failed: %s\n", strerror(errno));
    }
}

static void flush_outbox(void)
{
    write_pty(outbox, outbox_len);
    outbox_len = 0;
}

static void uart_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    uint8_t byte = (uint8_t)value;
    if (!lockstep) {
        write_pty(&byte, 1);
        return;
    }
    if (!tx_in_frame && byte != 0) {
        tx_in_frame = true;
        tx_frame_start_us = emulated_us();
    }
    if (byte == 0) {
        tx_in_frame = false;
    }
    outbox[outbox_len++] = byte;
    if (byte == 0 || outbox_len == sizeof outbox) {
        flush_outbox();
    }
    if (nx_decoder_push(&tx_decoder, byte) != NX_DEC_FRAME ||
        nx_packet_verify(tx_packet, tx_decoder.len) != NX_DEC_PACKET) {
        return;
    }
    if (tx_packet[1] == NX_SENSORS) {
        sensors_sent++;
        sensors_frame_done = true;
        printf("sensors_sent %lu t=%llu first=%llu\n", sensors_sent, emulated_us(), tx_frame_start_us);
    } else {
        answers_out++;
    }
}

static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq; (void)value; (void)param;
    uart_ready = true;
}

static void uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq; (void)value; (void)param;
    uart_ready = false;
}

static void report_pin(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    printf("pin %s %u t=%llu\n", (const char *)param, value, emulated_us());
}

/* --channels: what each actuator's pins stand for, reported as "actuator <k> <value>" on change.
 * A motor is +-round(duty * 1000 / 255) per mille when exactly one of IN1, IN2 is high, else 0;
 * a servo the degrees its pulse stands for; an output 1 at its active level. */
enum { ROLE_PWM, ROLE_IN1, ROLE_IN2, ROLE_PIN };
static struct {
    unsigned pwm;
    bool in1, in2, pin;
    long reported;
    bool known;
} actuator_state[NX_ACTUATOR_COUNT];

static long actuator_value(unsigned a)
{
    const nx_actuator_pins *p = &nx_actuator_pin_table[a];
    if (p->drive == NX_DRIVE_MOTOR) {
        long permille = ((long)actuator_state[a].pwm * 1000 + 127) / 255;
        return actuator_state[a].in1 == actuator_state[a].in2 ? 0 : actuator_state[a].in1 ? permille : -permille;
    }
    if (p->drive == NX_DRIVE_SERVO) {
        long pulse2 = (long)actuator_state[a].pwm - 2L * p->pulse_min_us; /* in 0.5 µs ticks */
        long span2 = 2L * (p->pulse_max_us - p->pulse_min_us), degrees = p->hi - p->lo;
        long value = p->lo + (pulse2 * degrees + span2 / 2) / span2;
        return value < p->lo ? p->lo : value > p->hi ? p->hi : value;
    }
    return actuator_state[a].pin != ((p->flags & NX_FLAG_ACTIVE_LOW) != 0);
}

static void note_actuator(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    unsigned a = (unsigned)(uintptr_t)param >> 2, role = (unsigned)(uintptr_t)param & 3u;
    switch (role) {
    case ROLE_PWM: actuator_state[a].pwm = value; break;
    case ROLE_IN1: actuator_state[a].in1 = value != 0; break;
    case ROLE_IN2: actuator_state[a].in2 = value != 0; break;
    default: actuator_state[a].pin = value != 0; break;
    }
    long v = actuator_value(a);
    if (!actuator_state[a].known || v != actuator_state[a].reported) {
        actuator_state[a].known = true;
        actuator_state[a].reported = v;
        printf("actuator %u %ld t=%llu\n", a, v, emulated_us());
    }
}

static void report_pwm(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    printf("pwm %s %u t=%llu\n", (const char *)param, value, emulated_us());
}

/* A board pin by its Arduino name (D2, A0, ...): port letter and bit. */
static bool arduino_pin(const char *name, char *port, int *bit)
{
    for (unsigned i = 0; i < nx_board_pin_count; i++) {
        if (strcmp(nx_board_pins[i].name, name) == 0) {
            *port = nx_board_pins[i].port;
            *bit = nx_board_pins[i].bit;
            return true;
        }
    }
    return false;
}

/* The Arduino name of a generated pin byte (NX_PIN). */
static const char *pin_name(uint8_t pin)
{
    char port = "ABCDEFGHJKL"[NX_PIN_PORT(pin) < 11 ? NX_PIN_PORT(pin) : 0];
    for (unsigned i = 0; i < nx_board_pin_count; i++) {
        if (nx_board_pins[i].port == port && nx_board_pins[i].bit == NX_PIN_BIT(pin)) {
            return nx_board_pins[i].name;
        }
    }
    return "?";
}

/* Inputs the harness drives, by port (A..L): simavr raises an input pin to 1 whenever the
 * firmware writes its PORT register while its pull-up is on, as if nothing drove it; a driven
 * pin is declared external so that it keeps the level the harness gave it, as on a board. */
static uint8_t driven_mask[12], driven_value[12];

static void set_input(const char *pin, uint32_t value)
{
    char port;
    int bit;
    if (!arduino_pin(pin, &port, &bit)) {
        return;
    }
    unsigned p = (unsigned)(port - 'A');
    if (p < sizeof driven_mask) {
        driven_mask[p] |= (uint8_t)(1u << bit);
        driven_value[p] = (uint8_t)((driven_value[p] & ~(1u << bit)) | ((value ? 1u : 0u) << bit));
        avr_ioport_external_t external = {.name = (unsigned long)port & 0x7Fu, .mask = driven_mask[p],
                                          .value = driven_value[p]};
        avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(port), &external);
    }
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), IOPORT_IRQ_PIN0 + bit), value);
}

static avr_cycle_count_t pulse_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a;
    (void)param;
    bool any = false;
    for (unsigned i = 0; i < NX_SENSOR_COUNT; i++) {
        const char *pin = pin_name(nx_sensor_pin_table[i].pin);
        if (pulse_high[i]) {
            set_input(pin, 0);
            pulse_high[i] = false;
            pulses_left[i]--;
        } else if (pulses_left[i] > 0) {
            set_input(pin, 1);
            pulse_high[i] = true;
        }
        any |= pulses_left[i] > 0;
    }
    return any ? when + FREQUENCY / 10000u : 0; /* a pulse edge every 100 µs */
}

/* Queues `count` pulses on encoder channel `channel`; a quadrature encoder's channel B is held
 * low for positive counts (forward) and high for negative ones. */
static void queue_pulses(unsigned channel, long count)
{
    const nx_sensor_pins *s = &nx_sensor_pin_table[channel];
    if (s->flags & NX_FLAG_QUADRATURE) {
        set_input(pin_name(s->pin2), count < 0 ? 1u : 0u);
    }
    pulses_left[channel] += (unsigned)(count < 0 ? -count : count); /* keep_timers starts them */
}

/* The HC-SR04 model: 450 µs after the trigger's falling edge the echo pin rises, and falls after
 * the sound's round trip, 2000/343 µs per mm (38 ms when nothing answers). A trigger while an
 * echo is under way is ignored, as by the module. */
static avr_cycle_count_t echo_fall(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a;
    (void)when;
    unsigned channel = (unsigned)(uintptr_t)param;
    set_input(pin_name(nx_sensor_pin_table[channel].pin), 0);
    echo_busy[channel] = false;
    return 0;
}

static avr_cycle_count_t echo_rise(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a;
    unsigned channel = (unsigned)(uintptr_t)param;
    set_input(pin_name(nx_sensor_pin_table[channel].pin), 1);
    long mm = ranger_mm[channel];
    avr_cycle_count_t echo = mm < 0 ? FREQUENCY / 1000u * 38u
                                    : (avr_cycle_count_t)mm * 2000u * (FREQUENCY / 1000000u) / 343u;
    avr_cycle_timer_register(avr, echo > 0 ? echo : 1, echo_fall, param);
    (void)when;
    return 0;
}

static void trigger_changed(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    unsigned channel = (unsigned)(uintptr_t)param;
    bool was = trigger_level[channel];
    trigger_level[channel] = value != 0;
    if (was && value == 0 && !echo_busy[channel]) {
        echo_busy[channel] = true;
        avr_cycle_timer_register_usec(avr, 450, echo_rise, param);
    }
}

/* Makes the firmware hang as a runaway program would: interrupts off and the CPU in an endless
 * loop (avr-libc's own "rjmp ." after main, found in the flash image). Only the watchdog can
 * bring the board back. */
static void hang(void)
{
    for (uint32_t a = 0; a + 1 < avr->flashend; a += 2) {
        if (avr->flash[a] == 0xFF && avr->flash[a + 1] == 0xCF) { /* rjmp .-2 */
            avr->sreg[S_I] = 0;
            avr->pc = a;
            avr->state = cpu_Running; /* it may have been asleep */
            printf("hang t=%llu\n", emulated_us());
            return;
        }
    }
    fprintf(stderr, "nx-avr-harness: hang: the firmware has no endless loop to jump into\n");
}

static void read_master(void);
static void keep_timers(void);
static bool run_cpu(void);


enum stop_when { STOP_AT_TIME, STOP_AFTER_SENSORS, STOP_WHEN_FED, STOP_WHEN_ANSWERED };

/* Lockstep: runs emulated time up to `until` µs, or earlier when `when` is met: a whole SENSORS
 * frame sent; every byte from the pty taken by the CPU from the UART; or that and `answers`
 * answers sent in all. The pty is not read meanwhile: what the firmware receives is decided before the
 * run, never by how fast the host writes. Returns false if the CPU stopped. */
static avr_cycle_count_t wake_at_end(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a;
    (void)when;
    (void)param;
    return 0; /* nothing to do: its only purpose is to be the next event */
}

static bool run_until(unsigned long long until, enum stop_when when, unsigned long answers)
{
    sensors_frame_done = false;
    keep_timers();
    /* A sleeping CPU jumps to the next cycle timer (the firmware's 1 ms tick, say): a timer at
     * `until` keeps the run from going past it, so that emulated time stops where it was asked
     * to, not up to 1 ms later. */
    avr_cycle_count_t end = (avr_cycle_count_t)until * (FREQUENCY / 1000000u);
    if (end > avr->cycle) {
        avr_cycle_timer_register(avr, end - avr->cycle, wake_at_end, NULL);
    }
    bool ok = true;
    while (emulated_us() < until) {
        bool fed = inbox_len == 0 && uart0->input.read == uart0->input.write;
        if ((when == STOP_AFTER_SENSORS && sensors_frame_done) || (when == STOP_WHEN_FED && fed) ||
            (when == STOP_WHEN_ANSWERED && fed && answers_out >= answers)) {
            break;
        }
        if (!run_cpu()) {
            ok = false;
            break;
        }
    }
    avr_cycle_timer_cancel(avr, wake_at_end, NULL);
    return ok;
}

/* Lockstep: reads the pty, waiting up to `wait_ms` of wall-clock time, until `enough` says so. */
static bool await_pty(bool (*enough)(unsigned long long), unsigned long long arg, int wait_ms)
{
    for (int waited = 0; !enough(arg) && inbox_len < sizeof inbox && waited < wait_ms; waited++) {
        struct pollfd fd = {master, POLLIN, 0};
        if (poll(&fd, 1, 1) > 0 && (fd.revents & POLLIN)) {
            read_master();
        }
    }
    return enough(arg);
}

static bool have_bytes(unsigned long long total) { return rx_total >= total; }
static bool have_new_frame(unsigned long long unused) { (void)unused; return rx_frames > rx_frames_settled; }

/* Lockstep commands; each answers with "time <us>" once emulated time stands still again. */
static bool lockstep_command(const char *verb, const char *text)
{
    unsigned long long a = 0, b = 0;
    int fields = sscanf(text, "%*s %llu %llu", &a, &b);
    bool ok = true;
    if (strcmp(verb, "advance") == 0 && fields == 1) {
        ok = run_until(emulated_us() + a, STOP_AT_TIME, 0);
    } else if (strcmp(verb, "sensors") == 0 && fields == 1) {
        ok = run_until(emulated_us() + a, STOP_AFTER_SENSORS, 0);
    } else if (strcmp(verb, "deliver") == 0 && fields == 2) {
        if (!await_pty(have_bytes, a, 2000)) {
            fprintf(stderr, "nx-avr-harness: deliver: %llu bytes came from the pty, the host counted %llu\n",
                    rx_total, a);
        }
        ok = run_until(emulated_us() + 1000000ull, STOP_WHEN_FED, 0) &&
             run_until(emulated_us() + b, STOP_AT_TIME, 0);
    } else if (strcmp(verb, "settle") == 0 && fields == 1) {
        if (await_pty(have_new_frame, 0, (int)a)) {
            unsigned long answers = answers_out + (requests_in - requests_settled);
            rx_frames_settled = rx_frames;
            requests_settled = requests_in;
            ok = run_until(emulated_us() + 1000000ull, STOP_WHEN_ANSWERED, answers);
        }
    } else {
        return false;
    }
    flush_outbox();
    printf("time %llu\n", emulated_us());
    fflush(stdout);
    if (!ok) {
        quitting = cpu_stopped = true;
    }
    return true;
}

/* The encoder channel whose channel A is on pin `name`, or -1. */
static int encoder_on(const char *name)
{
    for (unsigned i = 0; i < NX_SENSOR_COUNT; i++) {
        if (nx_sensor_pin_table[i].drive == NX_DRIVE_ENCODER && strcmp(pin_name(nx_sensor_pin_table[i].pin), name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* "sensor <index> <value>": sets sensor channel `index` on its emulated pins, in the channel's
 * unit: analog mV on its ADC input, digital 0/1 through its active level, encoder pulses (signed
 * for quadrature; in lockstep the count the encoder should read, whose change goes out as pulses,
 * a single-channel encoder's as its magnitude), ultrasonic the distance in mm the echo stands for
 * (negative: no echo). */
static bool sensor_line(const char *index, long value)
{
    char *end;
    long k = strtol(index, &end, 10);
    if (*end != '\0' || k < 0 || k >= (long)NX_SENSOR_COUNT) {
        return false;
    }
    const nx_sensor_pins *s = &nx_sensor_pin_table[k];
    switch (s->drive) {
    case NX_DRIVE_ANALOG:
        if (value < 0 || value > 5000 || s->channel >= ADC_EMULATED) {
            return false;
        }
        avr_raise_irq(adc_in + ADC_IRQ_ADC0 + s->channel, (uint32_t)value);
        return true;
    case NX_DRIVE_DIGITAL:
        if (value != 0 && value != 1) {
            return false;
        }
        set_input(pin_name(s->pin), (uint32_t)((value != 0) != ((s->flags & NX_FLAG_ACTIVE_LOW) != 0)));
        return true;
    case NX_DRIVE_ENCODER:
        if (lockstep) { /* the count the encoder should read now: the difference goes out as pulses */
            if (value < -32768 || value > 32767) {
                return false;
            }
            int16_t delta = (int16_t)((int16_t)value - encoder_count[k]);
            encoder_count[k] = (int16_t)value;
            if (delta != 0) {
                queue_pulses((unsigned)k, (s->flags & NX_FLAG_QUADRATURE) ? delta : delta < 0 ? -(long)delta : delta);
            }
            return true;
        }
        if (value == 0 || value < -100000 || value > 100000 || (value < 0 && !(s->flags & NX_FLAG_QUADRATURE))) {
            return false;
        }
        queue_pulses((unsigned)k, value);
        return true;
    case NX_DRIVE_ULTRASONIC:
        if (value > 4000) {
            return false;
        }
        ranger_mm[k] = value;
        return true;
    default:
        return false;
    }
}

static void command(char *text)
{
    char verb[32], arg[32];
    long value;
    line_number++;
    if (sscanf(text, "%31s", verb) != 1) {
        return; /* blank line */
    }
    if (strcmp(verb, "quit") == 0) {
        quitting = true;
        return;
    }
    if (strcmp(verb, "hang") == 0) {
        hang();
        return;
    }
    if (lockstep && lockstep_command(verb, text)) {
        return;
    }
    int fields = sscanf(text, "%31s %31s %ld", verb, arg, &value);
    char port;
    int bit;
    long adc_max = ADC_EMULATED - 1;
    if (strcmp(verb, "adc") == 0 && fields == 3) {
        long channel = strtol(arg, NULL, 10);
        if (channel < 0 || channel > adc_max || value < 0 || value > 5000) {
            fprintf(stderr, "nx-avr-harness: stdin line %u: adc needs a channel 0..%ld and 0..5000 mV, "
                            "got \"%s\"\n", line_number, adc_max, text);
            return;
        }
        avr_raise_irq(adc_in + ADC_IRQ_ADC0 + channel, (uint32_t)value);
    } else if (strcmp(verb, "pin") == 0 && fields == 3 && arduino_pin(arg, &port, &bit) &&
               (value == 0 || value == 1)) {
        set_input(arg, (uint32_t)value);
    } else if (strcmp(verb, "pulses") == 0 && fields == 3 && encoder_on(arg) >= 0 && value != 0 &&
               value >= -100000 && value <= 100000 &&
               (value > 0 || (nx_sensor_pin_table[encoder_on(arg)].flags & NX_FLAG_QUADRATURE))) {
        queue_pulses((unsigned)encoder_on(arg), value);
    } else if (strcmp(verb, "sensor") == 0 && fields == 3 && sensor_line(arg, value)) {
        /* done */
    } else {
        fprintf(stderr, "nx-avr-harness: stdin line %u: cannot read \"%s\"; expected "
                        "\"adc <0..%ld> <mV>\", \"pin <pin> <0|1>\", \"pulses <encoder pin> <count>\", "
                        "\"sensor <index 0..%u> <value>\", \"hang\" or \"quit\"%s\n", line_number, text,
                adc_max, NX_SENSOR_COUNT - 1u,
                lockstep ? ", or \"advance <us>\", \"sensors <max us>\", \"deliver <bytes> <us>\", "
                           "\"settle <wait ms>\"" : "");
    }
}

static void read_stdin(void)
{
    char buf[512];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
        quitting = true; /* the link closed: end */
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            line[line_len] = '\0';
            command(line);
            line_len = 0;
        } else if (line_len < sizeof line - 1) {
            line[line_len++] = buf[i];
        }
    }
}

static void read_master(void)
{
    if (inbox_len == sizeof inbox) {
        return;
    }
    size_t tail = (inbox_head + inbox_len) % sizeof inbox;
    size_t room = tail >= inbox_head ? sizeof inbox - tail : inbox_head - tail;
    ssize_t n = read(master, inbox + tail, room);
    for (ssize_t i = 0; lockstep && i < n; i++) {
        uint8_t byte = inbox[tail + (size_t)i];
        rx_frames += byte == 0 && rx_previous != 0;
        rx_previous = byte;
        if (nx_decoder_push(&rx_decoder, byte) == NX_DEC_FRAME &&
            nx_packet_verify(rx_packet, rx_decoder.len) == NX_DEC_PACKET && rx_packet[1] != NX_COMMAND) {
            requests_in++; /* every host message but COMMAND is answered */
        }
    }
    if (n > 0) {
        inbox_len += (size_t)n;
        rx_total += (unsigned long long)n;
    }
}

/* Hands the emulated UART one byte per character time at the speed the firmware set (UBRR0 and
 * U2X0: 115200 baud until SET_BAUD, up to 1,000,000), as a real line would, so that "rx_delimiter"
 * times are when the frame's last byte is there for the CPU to read. The character time is the
 * emulated UART's own: simavr 1.6 counts 11 bits a byte at 8N1 (a parity bit the format has
 * not), and a byte handed over sooner would wait in its input FIFO, after the time reported. */
#define BYTE_CYCLES_115200 (FREQUENCY / 11520u)

static avr_cycle_count_t byte_cycles(void)
{
    if (!avr_regbit_get(avr, uart0->rxen) || uart0->cycles_per_byte == 0) {
        return BYTE_CYCLES_115200; /* not set up yet: the default speed */
    }
    return uart0->cycles_per_byte;
}

static avr_cycle_count_t feed_uart(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a;
    (void)param;
    if (inbox_len > 0 && uart_ready) {
        uint8_t byte = inbox[inbox_head];
        inbox_head = (inbox_head + 1) % sizeof inbox;
        inbox_len--;
        avr_raise_irq(uart_in, byte);
        if (byte == 0) {
            printf("rx_delimiter t=%llu\n", emulated_us() + byte_cycles() / (FREQUENCY / 1000000u));
        }
    }
    return inbox_len > 0 ? when + byte_cycles() : 0; /* keep_timers starts it again */
}

/* Waits up to timeout_us for pty or stdin input and handles what arrives. */
static void service(long timeout_us)
{
    struct pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    struct timespec timeout = {timeout_us / 1000000, (timeout_us % 1000000) * 1000};
    int n = ppoll(fds, 2, &timeout, NULL);
    if (n > 0) {
        if (fds[0].revents & POLLIN) {
            read_master();
        } else if ((fds[0].revents & POLLHUP) && timeout_us > 0) {
            nanosleep(&timeout, NULL); /* nobody has the pty open: just pace */
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            read_stdin();
        }
    }
    fflush(stdout);
}

/* Replaces simavr's usleep while the firmware sleeps: pace() keeps emulated time at
 * wall-clock pace instead, answering input while it waits. */
static void sleep_hook(avr_t *a, avr_cycle_count_t how_long)
{
    (void)a;
    (void)how_long;
}

/* simavr drops cycle timers when the CPU resets (the watchdog): start them (again) here. */
static void keep_timers(void)
{
    if (inbox_len > 0 && avr_cycle_timer_status(avr, feed_uart, NULL) == 0) {
        avr_cycle_timer_register(avr, byte_cycles(), feed_uart, NULL);
    }
    bool pulses = false;
    for (unsigned i = 0; i < NX_SENSOR_COUNT; i++) {
        pulses |= pulses_left[i] > 0;
    }
    if (pulses && avr_cycle_timer_status(avr, pulse_timer, NULL) == 0) {
        avr_cycle_timer_register(avr, FREQUENCY / 10000u, pulse_timer, NULL);
    }
}

static void pace(void)
{
    keep_timers();
    unsigned long long e = emulated_us(), w = wall_us();
    service(realtime && e > w ? (long)(e - w) : 0);
}

/* Runs one instruction (or one sleep up to the next timer). Returns false if the CPU stopped. */
static bool run_cpu(void)
{
    int state = avr_run(avr);
    if (state == cpu_Done || state == cpu_Crashed) {
        fprintf(stderr, "nx-avr-harness: the emulated CPU stopped (state %d) at %llu µs\n", state, emulated_us());
        return false;
    }
    return true;
}

static int usage(const char *why)
{
    fprintf(stderr, "nx-avr-harness: %s\nusage: nx-avr-harness [--fast | --lockstep] [--channels] FIRMWARE.elf\n"
                    "  --fast      run as fast as the host allows instead of at wall-clock pace\n"
                    "  --lockstep  emulated time moves only on advance, sensors and deliver lines\n"
                    "  --channels  also report \"actuator <index> <value>\" when an actuator's pins change its value\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fast") == 0) {
            realtime = false;
        } else if (strcmp(argv[i], "--channels") == 0) {
            channels = true;
        } else if (strcmp(argv[i], "--lockstep") == 0) {
            realtime = false;
            lockstep = true;
        } else if (argv[i][0] == '-') {
            return usage("unknown option");
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        return usage("no firmware given");
    }
    elf_firmware_t firmware;
    memset(&firmware, 0, sizeof firmware);
    /* simavr reports what it loads on stdout; the first stdout line must be the pty, so its
     * chatter goes nowhere (or to stderr with NX_HARNESS_LOG) */
    int saved_stdout = dup(STDOUT_FILENO);
    int chatter = getenv("NX_HARNESS_LOG") ? dup(STDERR_FILENO) : open("/dev/null", O_WRONLY);
    dup2(chatter, STDOUT_FILENO);
    close(chatter);
    if (elf_read_firmware(path, &firmware) != 0) {
        fprintf(stderr, "nx-avr-harness: cannot read %s: build it with make -C Firmware\n", path);
        return 1;
    }
    avr = avr_make_mcu_by_name(nx_board_mcu);
    if (avr == NULL) {
        fprintf(stderr, "nx-avr-harness: simavr has no %s model\n", nx_board_mcu);
        return 1;
    }
    avr_init(avr);
    avr->frequency = FREQUENCY;
    avr->vcc = avr->avcc = avr->aref = 5000; /* millivolts */
    avr->log = getenv("NX_HARNESS_LOG") ? atoi(getenv("NX_HARNESS_LOG")) : LOG_ERROR;
    avr_load_firmware(avr, &firmware);
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    avr->sleep = sleep_hook;

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)AVR_UART_FLAG_STDIO;
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    for (avr_io_t *io = avr->io_port; io != NULL; io = io->next) {
        if (strcmp(io->kind, "uart") == 0 && ((avr_uart_t *)io)->name == '0') {
            uart0 = (avr_uart_t *)io;
        }
    }
    if (uart0 == NULL) {
        fprintf(stderr, "nx-avr-harness: simavr's %s has no UART0\n", nx_board_mcu);
        return 1;
    }
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_output, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart_xoff, NULL);
    adc_in = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, 0);

    /* the actuators' pins and PWM outputs, and the rangers' triggers, from the robot's tables */
    for (unsigned a = 0; a < NX_ACTUATOR_COUNT; a++) {
        const nx_actuator_pins *p = &nx_actuator_pin_table[a];
        uint8_t pins[2] = {p->drive == NX_DRIVE_OUTPUT ? p->pin : p->in1, p->in2};
        for (unsigned i = 0; i < 2; i++) {
            if (pins[i] == NX_NO_PIN || p->drive == NX_DRIVE_SERVO) {
                continue;
            }
            char port = "ABCDEFGHJKL"[NX_PIN_PORT(pins[i])];
            avr_irq_t *irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), IOPORT_IRQ_PIN0 + NX_PIN_BIT(pins[i]));
            avr_irq_register_notify(irq, report_pin, (void *)pin_name(pins[i]));
            if (channels) {
                unsigned role = p->drive == NX_DRIVE_OUTPUT ? ROLE_PIN : i == 0 ? ROLE_IN1 : ROLE_IN2;
                avr_irq_register_notify(irq, note_actuator, (void *)(uintptr_t)(a << 2 | role));
            }
        }
        if (p->pwm != NX_NO_PWM) {
            avr_irq_t *irq = avr_io_getirq(avr, AVR_IOCTL_TIMER_GETIRQ('0' + NX_PWM_TIMER(p->pwm)),
                                           TIMER_IRQ_OUT_PWM0 + NX_PWM_OUTPUT(p->pwm));
            avr_irq_register_notify(irq, report_pwm, (void *)pin_name(p->pin));
            if (channels) {
                avr_irq_register_notify(irq, note_actuator, (void *)(uintptr_t)(a << 2 | ROLE_PWM));
            }
        }
    }
    for (unsigned i = 0; i < NX_SENSOR_COUNT; i++) {
        const nx_sensor_pins *s = &nx_sensor_pin_table[i];
        ranger_mm[i] = -1;
        if (s->drive == NX_DRIVE_ULTRASONIC) {
            char port = "ABCDEFGHJKL"[NX_PIN_PORT(s->pin2)];
            avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), IOPORT_IRQ_PIN0 + NX_PIN_BIT(s->pin2)),
                                    trigger_changed, (void *)(uintptr_t)i);
        }
    }

    int slave;
    char name[128];
    if (openpty(&master, &slave, name, NULL, NULL) != 0) {
        fprintf(stderr, "nx-avr-harness: openpty failed: %s\n", strerror(errno));
        return 1;
    }
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    close(slave);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    printf("pty %s\n", name);
    fflush(stdout);
    nx_decoder_init(&tx_decoder, tx_packet, sizeof tx_packet);
    nx_decoder_init(&rx_decoder, rx_packet, sizeof rx_packet);

    if (lockstep) {
        /* time moves only when stdin says so: the CPU starts with the first advance */
        while (!quitting) {
            read_stdin();
        }
        return cpu_stopped ? 1 : 0;
    }

    /* An Uno resets when its port is opened; hold the CPU until a client opens the pty so the
     * boot is not lost. Inputs given meanwhile apply from the first instruction. */
    for (;;) {
        struct pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        poll(fds, 2, 10);
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            read_stdin();
        }
        if (quitting) {
            return 0;
        }
        if (!(fds[0].revents & POLLHUP)) {
            break;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &wall_start);
    while (!quitting) {
        /* run about 200 µs of emulated time, then look at the pty and stdin */
        unsigned long long until = emulated_us() + 200;
        for (int i = 0; i < 20000 && emulated_us() < until; i++) {
            if (!run_cpu()) {
                return 1;
            }
        }
        pace();
    }
    return 0;
}
