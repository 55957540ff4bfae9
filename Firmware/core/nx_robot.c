#include "nx_robot.h"

const nx_channel nx_sensor_channels[NX_SENSOR_COUNT] = {
    {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},       /* range_left */
    {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},       /* range_right */
    {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},       /* light_left */
    {NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},       /* light_right */
    {NX_KIND_DIGITAL, NX_UNIT_NONE, 0, 1, 0},              /* bumper, 1 = pressed */
    {NX_KIND_ENCODER, NX_UNIT_TICK, -32768, 32767, 0},     /* wheel_left, wrapping */
    {NX_KIND_ENCODER, NX_UNIT_TICK, -32768, 32767, 0},     /* wheel_right, wrapping */
};

const nx_channel nx_actuator_channels[NX_ACTUATOR_COUNT] = {
    {NX_KIND_MOTOR, NX_UNIT_PER_MILLE, -1000, 1000, 0},    /* motor_left, signed duty */
    {NX_KIND_MOTOR, NX_UNIT_PER_MILLE, -1000, 1000, 0},    /* motor_right */
    {NX_KIND_SERVO, NX_UNIT_DEGREE, 0, 180, 90},           /* servo angle */
};
