/* The reference robot's channels: a contract shared by the firmware, the simulator and the
 * host (Docs/PROTOCOL.md, DEVICE_INFO). Index order is fixed. */
#ifndef NX_ROBOT_H
#define NX_ROBOT_H

#include "nx_proto.h"

enum nx_sensor_index {
    NX_RANGE_LEFT = 0, NX_RANGE_RIGHT = 1, NX_LIGHT_LEFT = 2, NX_LIGHT_RIGHT = 3,
    NX_BUMPER = 4, NX_WHEEL_LEFT = 5, NX_WHEEL_RIGHT = 6, NX_SENSOR_COUNT = 7
};
enum nx_actuator_index { NX_MOTOR_LEFT = 0, NX_MOTOR_RIGHT = 1, NX_SERVO = 2, NX_ACTUATOR_COUNT = 3 };

extern const nx_channel nx_sensor_channels[NX_SENSOR_COUNT];
extern const nx_channel nx_actuator_channels[NX_ACTUATOR_COUNT];

#define NX_FIRMWARE_MAJOR 1u
#define NX_FIRMWARE_MINOR 0u
#define NX_FIRMWARE_PATCH 0u

#endif
