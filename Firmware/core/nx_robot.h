/* The robot's channels: a contract shared by the firmware, the simulator and the host
 * (Docs/PROTOCOL.md, DEVICE_INFO). The tables and counts are generated at build time from the
 * robot's description (Firmware/robots/<robot>.yaml, Docs/ROBOTS.md) into build/gen/<robot>/:
 * nx_robot_config.h (counts, indices, board name, limits) and nx_robot_table.c (the tables).
 * Index order is fixed by the description. */
#ifndef NX_ROBOT_H
#define NX_ROBOT_H

#include "nx_proto.h"
#include "nx_robot_config.h"

extern const nx_channel nx_sensor_channels[NX_SENSOR_COUNT];
extern const nx_channel nx_actuator_channels[NX_ACTUATOR_COUNT];

/** Copies the name of channel `index` of `group` (enum nx_group; both in range) into `out`
 *  (no terminator) and returns its length, 1..NX_CHANNEL_NAME_MAX. The names are generated
 *  with the tables and kept in flash on the AVR board, so they take no RAM. */
uint8_t nx_channel_name(uint8_t group, uint8_t index, uint8_t *out);

#define NX_FIRMWARE_MAJOR 1u
#define NX_FIRMWARE_MINOR 0u
#define NX_FIRMWARE_PATCH 0u

#endif
