/* The device side of the protocol: frame dispatch, the sampling schedule, command application
 * and the failsafe (Docs/PROTOCOL.md sections 4 to 7). Portable; talks to the board only
 * through hal.h. All state lives in one caller-owned nx_device; nothing is allocated. */
#ifndef NX_DEVICE_H
#define NX_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "nx_frame.h"
#include "nx_proto.h"
#include "nx_robot.h"

/** Defaults restored at start and by HELLO: 10 ms, or the robot's shortest period if longer. */
#define NX_DEFAULT_PERIOD_MS (NX_PERIOD_MIN_MS > 10u ? NX_PERIOD_MIN_MS : 10u)
/** 100 ms, within the robot's failsafe bounds. */
#define NX_DEFAULT_FAILSAFE_MS \
    (NX_ROBOT_FAILSAFE_MIN_MS > 100u ? NX_ROBOT_FAILSAFE_MIN_MS : NX_ROBOT_FAILSAFE_MAX_MS < 100u ? NX_ROBOT_FAILSAFE_MAX_MS : 100u)
/** Failsafe timeout bounds: the robot's (its description's limits, within 10..250 ms). */
#define NX_FAILSAFE_MIN_MS NX_ROBOT_FAILSAFE_MIN_MS
#define NX_FAILSAFE_MAX_MS NX_ROBOT_FAILSAFE_MAX_MS
/** Sampling period bounds, ms: the shortest is the robot's (its description's
 *  limits.period_min_ms, at least what its channels and its board's line can keep), the same on
 *  every port, so a host build accepts exactly the periods its AVR build does. */
#define NX_PERIOD_MIN_MS NX_ROBOT_PERIOD_MIN_MS
#define NX_PERIOD_MAX_MS 1000u

typedef struct {
    nx_decoder decoder;
    uint8_t rx[NX_PACKET_MAX];  /**< the decoder's buffer */
    uint8_t tx[NX_PACKET_MAX];  /**< the packet being sent */
    uint8_t tx_seq;             /**< seq of the next frame sent */
    uint8_t rx_expected;        /**< seq expected of the next host frame (once rx_synced) */
    bool rx_synced;             /**< a frame with a good CRC arrived since start: until then
                                     the first one only sets rx_expected, counting nothing */
    uint8_t version;            /**< protocol version of the session: 1 at start, then the
                                     version of the last accepted HELLO (1 or 2) */
    uint8_t failsafe;           /**< enum nx_failsafe */
    bool streaming;
    uint16_t period_ms;
    uint16_t failsafe_ms;
    uint16_t sensor_mask;
    uint32_t next_sample_us;    /**< when the next sample is due, µs (hal_micros clock) */
    uint32_t last_valid_us;     /**< when the closing 0x00 of the last valid COMMAND or PING
                                     was handled, µs: the failsafe deadline counts from here */
    nx_counters counters;       /**< rx_overflows is read from the HAL when reported */
    uint32_t baud;              /**< the line speed in force, baud */
    uint32_t baud_before;       /**< the speed before the last SET_BAUD, until it is confirmed */
    bool baud_unconfirmed;      /**< switched by SET_BAUD, no good frame since */
    uint32_t baud_switched_us;  /**< when the speed last changed, µs */
    uint32_t last_good_rx_us;   /**< when the last frame with a good CRC was handled, µs */
} nx_device;

/** Starts the device at time `now_us`: every actuator safe, defaults in force, not streaming;
 *  sends one 0x00 so the host's decoder drops any partial frame. */
void nx_device_init(nx_device *d, uint32_t now_us);

/** Handles one received byte at time `now_us`; answers complete frames. */
void nx_device_receive(nx_device *d, uint8_t byte, uint32_t now_us);

/** Runs the clock-driven work at time `now_us` (µs, wrapping; differences are taken modulo
 *  2^32, so any interval below 35 min is handled across the wrap):
 *  - failsafe: in state active, when now_us - last_valid_us >= failsafe_ms * 1000, every
 *    actuator goes to its safe value, the state becomes timeout and failsafe_trips grows by 1;
 *  - sampling: sample k is due at t0 + k * period_ms * 1000 (t0 = when CONFIG was applied);
 *    when now_us is past a due time, skipped = floor((now_us - due) / period_us) whole periods
 *    are added to loop_overruns, the next due time becomes due + (skipped + 1) * period_us, and
 *    one SENSORS frame stamped now_us is sent.
 *  Must run at least every 1 ms for the failsafe bound of Docs/PROTOCOL.md section 6. */
void nx_device_poll(nx_device *d, uint32_t now_us);

/** One main-loop iteration: every received byte, then nx_device_poll, then the watchdog. */
void nx_device_step(nx_device *d);

#endif
