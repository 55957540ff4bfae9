#include "nx_proto.h"

uint8_t nx_popcount16(uint16_t mask)
{
    uint8_t n = 0;
    for (; mask != 0; mask &= (uint16_t)(mask - 1u)) {
        n++;
    }
    return n;
}

bool nx_type_accepted(uint8_t type, uint8_t receiver, uint8_t version)
{
    switch (type) {
    case NX_GET_CHANNEL:
    case NX_SET_BAUD:
        return version >= 2u && receiver != NX_TO_HOST;
    case NX_CHANNEL_INFO:
    case NX_BAUD_ACK:
        return version >= 2u && receiver != NX_TO_DEVICE;
    case NX_HELLO:
    case NX_CONFIG:
    case NX_COMMAND:
    case NX_PING:
    case NX_GET_STATUS:
    case NX_STOP:
        return receiver != NX_TO_HOST;
    case NX_DEVICE_INFO:
    case NX_CONFIG_ACK:
    case NX_PONG:
    case NX_STATUS:
    case NX_SENSORS:
    case NX_ERROR:
        return receiver != NX_TO_DEVICE;
    default:
        return false;
    }
}

/* Whether a DEVICE_INFO body has the layout of section 5: counts of 1..16, the length they
 * give, a printable ASCII board name, and descriptors of listed kinds and units. */
static bool nx_device_info_valid(const uint8_t *body, uint16_t n, uint8_t version)
{
    uint8_t unit_max = version >= 2u ? NX_UNIT_MILLIMETRE : NX_UNIT_DEGREE;
    if (n < NX_DEVICE_INFO_HEAD) {
        return false;
    }
    uint8_t sensors = body[19], actuators = body[20], name = body[21];
    if (sensors < 1u || sensors > NX_CHANNELS_MAX || actuators < 1u || actuators > NX_CHANNELS_MAX ||
        name < 1u || name > NX_BOARD_NAME_MAX ||
        n != NX_DEVICE_INFO_HEAD + name + NX_DESCRIPTOR_SIZE * (uint16_t)(sensors + actuators)) {
        return false;
    }
    for (uint8_t i = 0; i < name; i++) {
        uint8_t c = body[NX_DEVICE_INFO_HEAD + i];
        if (c < 0x21u || c > 0x7Eu) {
            return false;
        }
    }
    const uint8_t *d = body + NX_DEVICE_INFO_HEAD + name;
    for (uint8_t i = 0; i < sensors + actuators; i++, d += NX_DESCRIPTOR_SIZE) {
        if (d[0] < NX_KIND_ANALOG || d[0] > NX_KIND_SERVO || d[1] > unit_max) {
            return false;
        }
    }
    return true;
}

/* Whether a CHANNEL_INFO body has the layout of section 11: group 0 or 1, a name of 1..24
 * printable ASCII bytes and the length it gives. */
static bool nx_channel_info_valid(const uint8_t *body, uint16_t n)
{
    if (n < NX_CHANNEL_INFO_HEAD) {
        return false;
    }
    uint8_t name = body[2];
    if (body[0] > NX_GROUP_ACTUATOR || name < 1u || name > NX_CHANNEL_NAME_MAX || n != NX_CHANNEL_INFO_HEAD + name) {
        return false;
    }
    for (uint8_t i = 0; i < name; i++) {
        uint8_t c = body[NX_CHANNEL_INFO_HEAD + i];
        if (c < 0x21u || c > 0x7Eu) {
            return false;
        }
    }
    return true;
}

/* Whether the body of an accepted `type` has the length sections 5 and 11 give it. */
static bool nx_length_valid(uint8_t type, const uint8_t *body, uint16_t n, uint8_t version)
{
    switch (type) {
    case NX_HELLO:
    case NX_GET_STATUS:
    case NX_STOP:
        return n == 0;
    case NX_CONFIG:
    case NX_CONFIG_ACK:
        return n == NX_CONFIG_BODY;
    case NX_PING:
    case NX_SET_BAUD:
    case NX_BAUD_ACK:
        return n == NX_PING_BODY;
    case NX_PONG:
        return n == NX_PONG_BODY;
    case NX_STATUS:
        return n == NX_STATUS_BODY;
    case NX_ERROR:
        return n == NX_ERROR_BODY;
    case NX_GET_CHANNEL:
        return n == NX_GET_CHANNEL_BODY;
    case NX_CHANNEL_INFO:
        return nx_channel_info_valid(body, n);
    case NX_COMMAND:
        return n >= 2u && n <= 2u * NX_CHANNELS_MAX && (n & 1u) == 0;
    case NX_SENSORS:
        return n >= NX_SENSORS_HEAD && n == NX_SENSORS_HEAD + 2u * nx_popcount16(nx_get_u16(body + 4));
    default: /* NX_DEVICE_INFO, the only type left */
        return nx_device_info_valid(body, n, version);
    }
}

uint8_t nx_packet_check_version(const uint8_t *packet, uint16_t len, uint8_t receiver, uint8_t version)
{
    if (packet[0] != version) {
        return NX_ERR_UNSUPPORTED_VERSION;
    }
    if (!nx_type_accepted(packet[1], receiver, version)) {
        return NX_ERR_UNKNOWN_TYPE;
    }
    uint16_t n = (uint16_t)(len - NX_HEADER_SIZE - NX_CRC_SIZE);
    return nx_length_valid(packet[1], packet + NX_HEADER_SIZE, n, version) ? NX_OK : NX_ERR_BAD_LENGTH;
}

uint8_t nx_packet_check(const uint8_t *packet, uint16_t len, uint8_t receiver)
{
    return nx_packet_check_version(packet, len, receiver, NX_PROTOCOL_VERSION);
}

uint8_t *nx_packet_begin(uint8_t *packet, uint8_t type, uint8_t seq)
{
    return nx_packet_begin_version(packet, NX_PROTOCOL_VERSION, type, seq);
}

uint8_t *nx_packet_begin_version(uint8_t *packet, uint8_t version, uint8_t type, uint8_t seq)
{
    packet[0] = version;
    packet[1] = type;
    packet[2] = seq;
    return packet + NX_HEADER_SIZE;
}

uint16_t nx_packet_finish(uint8_t *packet, uint16_t body_len)
{
    uint16_t n = (uint16_t)(NX_HEADER_SIZE + body_len);
    nx_put_u16(packet + n, nx_crc16(packet, n));
    return (uint16_t)(n + NX_CRC_SIZE);
}

void nx_put_descriptor(uint8_t *p, const nx_channel *c, uint8_t version)
{
    p[0] = c->kind;
    p[1] = (version < 2u && c->unit == NX_UNIT_MILLIMETRE) ? (uint8_t)NX_UNIT_NONE : c->unit;
    nx_put_i16(p + 2, c->min);
    nx_put_i16(p + 4, c->max);
    nx_put_i16(p + 6, c->safe);
}
