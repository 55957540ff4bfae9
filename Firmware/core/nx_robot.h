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

#define NX_FIRMWARE_MAJOR 1u
#define NX_FIRMWARE_MINOR 0u
#define NX_FIRMWARE_PATCH 0u

#endif
