#include "nx_proto.h"

uint8_t nx_popcount16(uint16_t mask)
{
    uint8_t n = 0;
    for (; mask != 0; mask &= (uint16_t)(mask - 1u)) {
        n++;
    }
    return n;
}

/* Expected body length of `type` given its body, or -1 when the body cannot be right. */
static int16_t nx_expected_body(uint8_t type, const uint8_t *body, uint16_t n)
{
    switch (type) {
    case NX_HELLO:
    case NX_GET_STATUS:
    case NX_STOP:
        return 0;
    case NX_CONFIG:
    case NX_CONFIG_ACK:
        return NX_CONFIG_BODY;
    case NX_PING:
        return NX_PING_BODY;
    case NX_PONG:
        return NX_PONG_BODY;
    case NX_STATUS:
        return NX_STATUS_BODY;
    case NX_ERROR:
        return NX_ERROR_BODY;
    case NX_COMMAND:
        return (n >= 2u && n <= 2u * NX_CHANNELS_MAX && (n & 1u) == 0) ? (int16_t)n : -1;
    case NX_SENSORS:
        if (n < NX_SENSORS_HEAD) {
            return -1;
        }
        return (int16_t)(NX_SENSORS_HEAD + 2u * nx_popcount16(nx_get_u16(body + 4)));
    case NX_DEVICE_INFO: {
        if (n < NX_DEVICE_INFO_HEAD) {
            return -1;
        }
        uint8_t sensors = body[19], actuators = body[20], name = body[21];
        if (sensors < 1u || sensors > NX_CHANNELS_MAX || actuators < 1u ||
            actuators > NX_CHANNELS_MAX || name < 1u || name > NX_BOARD_NAME_MAX) {
            return -1;
        }
        return (int16_t)(NX_DEVICE_INFO_HEAD + name + NX_DESCRIPTOR_SIZE * (sensors + actuators));
    }
    default:
        return -2;
    }
}

uint8_t nx_packet_check(const uint8_t *packet, uint16_t len, uint8_t *expected)
{
    *expected = 0;
    if (packet[0] != NX_PROTOCOL_VERSION) {
        return NX_ERR_UNSUPPORTED_VERSION;
    }
    uint16_t n = (uint16_t)(len - NX_HEADER_SIZE - NX_CRC_SIZE);
    int16_t want = nx_expected_body(packet[1], packet + NX_HEADER_SIZE, n);
    if (want == -2) {
        return NX_ERR_UNKNOWN_TYPE;
    }
    if (want != (int16_t)n) {
        *expected = (want < 0 || want > 0xFE) ? 0xFFu : (uint8_t)want;
        return NX_ERR_BAD_LENGTH;
    }
    return NX_OK;
}

uint8_t *nx_packet_begin(uint8_t *packet, uint8_t type, uint8_t seq)
{
    packet[0] = NX_PROTOCOL_VERSION;
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
