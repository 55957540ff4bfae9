/* Messages of the Neuraxon serial protocol, versions 1 and 2 (Docs/PROTOCOL.md sections 3 to 7
 * and 11): type codes, body layouts, little-endian field access, validation and packet builders. */
#ifndef NX_PROTO_H
#define NX_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "nx_frame.h"

/** The first protocol version: what a device speaks until a version-2 HELLO arrives. */
#define NX_PROTOCOL_VERSION 1u
/** The newest protocol version this firmware speaks (section 11). */
#define NX_PROTOCOL_VERSION_MAX 2u
#define NX_HEADER_SIZE 3u
#define NX_CRC_SIZE 2u
/** Largest body: NX_PACKET_MAX minus header and CRC. */
#define NX_BODY_MAX (NX_PACKET_MAX - NX_HEADER_SIZE - NX_CRC_SIZE)
/** Most channels of one direction that a device may describe. */
#define NX_CHANNELS_MAX 16u
/** Longest board name, bytes. */
#define NX_BOARD_NAME_MAX 16u
/** Longest channel name (version 2, CHANNEL_INFO), bytes. */
#define NX_CHANNEL_NAME_MAX 24u

enum nx_type {
    NX_HELLO = 0x01,
    NX_CONFIG = 0x02,
    NX_COMMAND = 0x03,
    NX_PING = 0x04,
    NX_GET_STATUS = 0x05,
    NX_STOP = 0x06,
    NX_GET_CHANNEL = 0x07,   /* version 2 */
    NX_SET_BAUD = 0x08,      /* version 2 */
    NX_DEVICE_INFO = 0x81,
    NX_CONFIG_ACK = 0x82,
    NX_PONG = 0x84,
    NX_STATUS = 0x85,
    NX_CHANNEL_INFO = 0x87,  /* version 2 */
    NX_BAUD_ACK = 0x88,      /* version 2 */
    NX_SENSORS = 0x90,
    NX_ERROR = 0xFF
};

/** ERROR codes (section 7). NX_OK is not sent; it means "no error". */
enum nx_error_code {
    NX_OK = 0,
    NX_ERR_UNSUPPORTED_VERSION = 1,
    NX_ERR_UNKNOWN_TYPE = 2,
    NX_ERR_BAD_LENGTH = 3,
    NX_ERR_OUT_OF_RANGE = 4,
    NX_ERR_CONFIG_UNSUPPORTED = 5
};

/** Channel kinds and units of the DEVICE_INFO descriptors. */
enum nx_kind { NX_KIND_ANALOG = 1, NX_KIND_DIGITAL = 2, NX_KIND_ENCODER = 3, NX_KIND_MOTOR = 4, NX_KIND_SERVO = 5 };
enum nx_unit { NX_UNIT_NONE = 0, NX_UNIT_MILLIVOLT = 1, NX_UNIT_TICK = 2, NX_UNIT_PER_MILLE = 3, NX_UNIT_DEGREE = 4,
               NX_UNIT_MILLIMETRE = 5 /* version 2; a version-1 peer is sent NX_UNIT_NONE */ };
/** The groups of GET_CHANNEL and CHANNEL_INFO (version 2). */
enum nx_group { NX_GROUP_SENSOR = 0, NX_GROUP_ACTUATOR = 1 };

/** Failsafe states reported in STATUS. */
enum nx_failsafe { NX_FAILSAFE_IDLE = 0, NX_FAILSAFE_ACTIVE = 1, NX_FAILSAFE_TIMEOUT = 2, NX_FAILSAFE_STOPPED = 3 };

/** Reset causes reported in STATUS. */
enum nx_reset_cause { NX_RESET_POWER_ON = 0, NX_RESET_EXTERNAL = 1, NX_RESET_BROWN_OUT = 2, NX_RESET_WATCHDOG = 3, NX_RESET_UNKNOWN = 4 };

/** Body sizes of the fixed-size messages, bytes. */
#define NX_CONFIG_BODY 6u
#define NX_PING_BODY 4u
#define NX_PONG_BODY 8u
#define NX_STATUS_BODY 34u
#define NX_ERROR_BODY 4u
#define NX_SENSORS_HEAD 6u
#define NX_DEVICE_INFO_HEAD 22u
#define NX_DESCRIPTOR_SIZE 8u
#define NX_GET_CHANNEL_BODY 2u
#define NX_SET_BAUD_BODY 4u
/** The line speed a board starts at, and goes back to (section 12), baud. */
#define NX_BOOT_BAUD 115200u
/** A raised speed not confirmed by a good frame within this time is left for the old one, ms. */
#define NX_BAUD_CONFIRM_MS 500u
/** At a raised speed, this long without a good frame sends the board back to NX_BOOT_BAUD, ms. */
#define NX_BAUD_QUIET_MS 1000u
/** CHANNEL_INFO: group, index, name length, then the name. */
#define NX_CHANNEL_INFO_HEAD 3u

/** One channel descriptor of DEVICE_INFO: kind, unit, and the range and safe value in the unit. */
typedef struct {
    uint8_t kind;
    uint8_t unit;
    int16_t min;
    int16_t max;
    int16_t safe;
} nx_channel;

/** The STATUS counters, in body order after `failsafe`, `reset_cause` and `uptime_ms`. */
typedef struct {
    uint32_t crc_errors;
    uint32_t malformed_frames;
    uint32_t rejected_frames;
    uint32_t dropped_frames;
    uint32_t rx_overflows;
    uint32_t failsafe_trips;
    uint32_t loop_overruns;
} nx_counters;

static inline uint16_t nx_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static inline int16_t nx_get_i16(const uint8_t *p) { return (int16_t)nx_get_u16(p); }
static inline uint32_t nx_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void nx_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void nx_put_i16(uint8_t *p, int16_t v) { nx_put_u16(p, (uint16_t)v); }
static inline void nx_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/** Number of set bits of a sensor mask. */
uint8_t nx_popcount16(uint16_t mask);

/** Who receives a frame: the device accepts only host -> device types (top bit clear), the
 *  host only device -> host types (top bit set); NX_TO_ANY accepts every type of section 5
 *  (for tools and tests that read both directions). */
enum nx_receiver { NX_TO_DEVICE = 0, NX_TO_HOST = 1, NX_TO_ANY = 2 };

/** Checks a decoded packet (CRC already good) of protocol `version` (1 or 2) in the order of
 *  Docs/PROTOCOL.md section 7: version (the packet's must be `version`), then type (a type the
 *  receiver does not accept, or one `version` does not have, is NX_ERR_UNKNOWN_TYPE whatever its
 *  length), then body length. A COMMAND body only needs an even length of 2..2*NX_CHANNELS_MAX
 *  here: the device checks it against its own actuator count. A DEVICE_INFO body must also
 *  have counts of 1..16, a printable board name and descriptor kinds and units that `version`
 *  lists; a CHANNEL_INFO body a group of 0 or 1 and a printable name of 1..24 bytes.
 *  Returns NX_OK or the error code. */
uint8_t nx_packet_check_version(const uint8_t *packet, uint16_t len, uint8_t receiver, uint8_t version);
/** nx_packet_check_version for version 1. */
uint8_t nx_packet_check(const uint8_t *packet, uint16_t len, uint8_t receiver);

/** Whether `type` is one of section 5 (and 11, for version 2), `version` has it and `receiver`
 *  accepts it. */
bool nx_type_accepted(uint8_t type, uint8_t receiver, uint8_t version);

/** Writes the 8-byte DEVICE_INFO descriptor of `c` as `version` has it: a version-1 peer knows
 *  no millimetre, so a millimetre channel is sent to it as unit none with the same range. */
void nx_put_descriptor(uint8_t *p, const nx_channel *c, uint8_t version);

/** Writes a version-1 header into packet[0..3) and returns the body pointer packet + 3. */
uint8_t *nx_packet_begin(uint8_t *packet, uint8_t type, uint8_t seq);
/** Writes a header of `version` into packet[0..3) and returns the body pointer packet + 3. */
uint8_t *nx_packet_begin_version(uint8_t *packet, uint8_t version, uint8_t type, uint8_t seq);
/** Appends the CRC after `body_len` body bytes; returns the packet length. */
uint16_t nx_packet_finish(uint8_t *packet, uint16_t body_len);

#endif
