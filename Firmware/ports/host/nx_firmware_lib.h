/* The host port as a shared library (libneuraxon-firmware.so, `make -C Firmware host-lib`): the
 * firmware core and the robot's generated tables, on a virtual clock, with its UART as two byte
 * queues instead of a pseudo-terminal. A simulation loads it (dlopen) and moves its clock itself,
 * so firmware in the loop costs function calls, not a kernel round trip per tick
 * (Docs/FIRMWARE.md, "The firmware as a library").
 *
 * One firmware per loaded copy of the library (its state is the port's static state); not
 * thread-safe. Times are µs of the firmware's virtual clock. */
#ifndef NX_FIRMWARE_LIB_H
#define NX_FIRMWARE_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The version of this interface; a loader refuses a library whose version it does not know. */
#define NX_LIB_API_VERSION 1u
uint32_t nx_lib_api_version(void);

/** Starts (or restarts) the firmware at virtual time 0 with unique id `id` (8 bytes): every
 *  actuator safe, no byte queued, and one pass of the main loop run. */
void nx_lib_start(const uint8_t id[8]);

/** The robot's channel counts (the generated tables the library was built with). */
uint8_t nx_lib_sensor_count(void);
uint8_t nx_lib_actuator_count(void);

/** Sets what sensor `channel` reads, in its unit. Returns false (and changes nothing) for a
 *  channel the robot does not have or a value outside the channel's range. */
bool nx_lib_set_sensor(uint8_t channel, int16_t value);

/** Queues `len` bytes as received by the UART; the main loop reads them when it next runs.
 *  Returns how many were queued (fewer when the receive queue is full). */
size_t nx_lib_receive(const uint8_t *bytes, size_t len);

/** Runs the main loop through `us` µs of virtual time, a pass every 100 µs (one pass first), or
 *  only until a SENSORS frame has gone out when `to_sensors`. Returns the virtual time, µs. */
uint64_t nx_lib_run(uint32_t us, bool to_sensors);

/** The virtual time, µs. */
uint64_t nx_lib_now_us(void);

/** Moves up to `cap` bytes the firmware sent into `out` (oldest first); returns the count. */
size_t nx_lib_take_sent(uint8_t *out, size_t cap);

/** SENSORS frames the firmware has sent since the start. */
uint32_t nx_lib_sensors_sent(void);

/** Bytes dropped because the send queue was full (nobody took them). */
uint32_t nx_lib_sent_dropped(void);

/** The value actuator `channel` was last given, in its unit (0 for a channel it lacks). */
int16_t nx_lib_actuator(uint8_t channel);

#endif
