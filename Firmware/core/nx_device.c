#include "nx_device.h"

#include "hal.h"
#include "nx_robot.h"

static void nx_uart_sink(void *context, uint8_t byte)
{
    (void)context;
    hal_uart_write(byte);
}

/* Finishes the packet in d->tx with `body_len` body bytes and sends it. */
static void nx_send(nx_device *d, uint16_t body_len)
{
    uint16_t len = nx_packet_finish(d->tx, body_len);
    nx_cobs_send(d->tx, len, nx_uart_sink, 0);
    d->tx_seq++;
}

/* Every frame the device sends carries the version of the session in force. */
static uint8_t *nx_begin(nx_device *d, uint8_t type)
{
    return nx_packet_begin_version(d->tx, d->version, type, d->tx_seq);
}

static void nx_send_error(nx_device *d, uint8_t code, const uint8_t *packet, uint8_t detail)
{
    uint8_t *b = nx_begin(d, NX_ERROR);
    b[0] = code;
    b[1] = packet[1];
    b[2] = packet[2];
    b[3] = detail;
    d->counters.rejected_frames++;
    nx_send(d, NX_ERROR_BODY);
}

static void nx_all_safe(void)
{
    for (uint8_t i = 0; i < NX_ACTUATOR_COUNT; i++) {
        hal_actuator_write(i, nx_actuator_channels[i].safe);
    }
}


static void nx_send_device_info(nx_device *d)
{
    uint8_t *b = nx_begin(d, NX_DEVICE_INFO);
    const char *name = hal_board_name();
    uint8_t name_len = 0;
    while (name[name_len] != '\0' && name_len < NX_BOARD_NAME_MAX) {
        name_len++;
    }
    b[0] = NX_FIRMWARE_MAJOR;
    b[1] = NX_FIRMWARE_MINOR;
    b[2] = NX_FIRMWARE_PATCH;
    hal_unique_id(b + 3);
    nx_put_u16(b + 11, NX_PERIOD_MIN_MS);
    nx_put_u16(b + 13, NX_PERIOD_MAX_MS);
    nx_put_u16(b + 15, NX_FAILSAFE_MIN_MS);
    nx_put_u16(b + 17, NX_FAILSAFE_MAX_MS);
    b[19] = NX_SENSOR_COUNT;
    b[20] = NX_ACTUATOR_COUNT;
    b[21] = name_len;
    uint8_t *p = b + NX_DEVICE_INFO_HEAD;
    for (uint8_t i = 0; i < name_len; i++) {
        *p++ = (uint8_t)name[i];
    }
    for (uint8_t i = 0; i < NX_SENSOR_COUNT; i++, p += NX_DESCRIPTOR_SIZE) {
        nx_put_descriptor(p, &nx_sensor_channels[i], d->version);
    }
    for (uint8_t i = 0; i < NX_ACTUATOR_COUNT; i++, p += NX_DESCRIPTOR_SIZE) {
        nx_put_descriptor(p, &nx_actuator_channels[i], d->version);
    }
    nx_send(d, (uint16_t)(p - b));
}

static void nx_send_status(nx_device *d)
{
    uint8_t *b = nx_begin(d, NX_STATUS);
    d->counters.rx_overflows = hal_uart_rx_overflows();
    b[0] = d->failsafe;
    b[1] = hal_reset_cause();
    nx_put_u32(b + 2, hal_millis());
    const uint32_t values[7] = {d->counters.crc_errors, d->counters.malformed_frames, d->counters.rejected_frames,
                                d->counters.dropped_frames, d->counters.rx_overflows,
                                d->counters.failsafe_trips, d->counters.loop_overruns};
    for (uint8_t i = 0; i < 7; i++) {
        nx_put_u32(b + 6 + 4 * i, values[i]);
    }
    nx_send(d, NX_STATUS_BODY);
}

static void nx_defaults(nx_device *d)
{
    d->streaming = false;
    d->period_ms = NX_DEFAULT_PERIOD_MS;
    d->failsafe_ms = NX_DEFAULT_FAILSAFE_MS;
    d->sensor_mask = (uint16_t)((1u << NX_SENSOR_COUNT) - 1u);
    d->failsafe = NX_FAILSAFE_IDLE;
    nx_all_safe();
}

void nx_device_init(nx_device *d, uint32_t now_us)
{
    nx_decoder_init(&d->decoder, d->rx, NX_PACKET_MAX);
    d->tx_seq = 0;
    d->rx_expected = 0;
    d->rx_synced = false;
    d->version = NX_PROTOCOL_VERSION;
    d->next_sample_us = now_us;
    d->last_valid_us = now_us;
    d->counters = (nx_counters){0, 0, 0, 0, 0, 0, 0};
    d->baud = NX_BOOT_BAUD;
    d->baud_before = NX_BOOT_BAUD;
    d->baud_unconfirmed = false;
    d->baud_switched_us = now_us;
    d->last_good_rx_us = now_us;
    nx_defaults(d);
    hal_uart_write(0x00);
}

/* CONFIG: checks period, failsafe timeout and mask in that order; applies all or nothing. */
static void nx_handle_config(nx_device *d, const uint8_t *packet, uint32_t now_us)
{
    const uint8_t *body = packet + NX_HEADER_SIZE;
    uint16_t period = nx_get_u16(body), timeout = nx_get_u16(body + 2), mask = nx_get_u16(body + 4);
    uint8_t field = 0;
    if (period < NX_PERIOD_MIN_MS || period > NX_PERIOD_MAX_MS) {
        field = 1;
    } else if (timeout < NX_FAILSAFE_MIN_MS || timeout > NX_FAILSAFE_MAX_MS) {
        field = 2;
    } else if ((mask >> NX_SENSOR_COUNT) != 0) {
        field = 3;
    }
    if (field != 0) {
        nx_send_error(d, NX_ERR_CONFIG_UNSUPPORTED, packet, field);
        return;
    }
    d->period_ms = period;
    d->failsafe_ms = timeout;
    d->sensor_mask = mask;
    d->streaming = (mask != 0);
    d->next_sample_us = now_us + (uint32_t)period * 1000u;
    uint8_t *b = nx_begin(d, NX_CONFIG_ACK);
    nx_put_u16(b, period);
    nx_put_u16(b + 2, timeout);
    nx_put_u16(b + 4, mask);
    nx_send(d, NX_CONFIG_BODY);
}

/* COMMAND (length already checked): every setpoint in range, or nothing changes and the
 * deadline is not refreshed. */
static void nx_handle_command(nx_device *d, const uint8_t *packet, uint32_t now_us)
{
    const uint8_t *body = packet + NX_HEADER_SIZE;
    for (uint8_t i = 0; i < NX_ACTUATOR_COUNT; i++) {
        int16_t v = nx_get_i16(body + 2 * i);
        if (v < nx_actuator_channels[i].min || v > nx_actuator_channels[i].max) {
            nx_send_error(d, NX_ERR_OUT_OF_RANGE, packet, i);
            return;
        }
    }
    for (uint8_t i = 0; i < NX_ACTUATOR_COUNT; i++) {
        hal_actuator_write(i, nx_get_i16(body + 2 * i));
    }
    d->last_valid_us = now_us;
    d->failsafe = NX_FAILSAFE_ACTIVE;
}

/* GET_CHANNEL (version 2, length already checked): group, then index, each in range, or
 * ERROR out_of_range with detail 1 (group) or 2 (index); otherwise CHANNEL_INFO. */
static void nx_handle_get_channel(nx_device *d, const uint8_t *packet)
{
    uint8_t group = packet[NX_HEADER_SIZE], index = packet[NX_HEADER_SIZE + 1];
    if (group > NX_GROUP_ACTUATOR) {
        nx_send_error(d, NX_ERR_OUT_OF_RANGE, packet, 1);
        return;
    }
    if (index >= (group == NX_GROUP_SENSOR ? NX_SENSOR_COUNT : NX_ACTUATOR_COUNT)) {
        nx_send_error(d, NX_ERR_OUT_OF_RANGE, packet, 2);
        return;
    }
    uint8_t *b = nx_begin(d, NX_CHANNEL_INFO);
    b[0] = group;
    b[1] = index;
    b[2] = nx_channel_name(group, index, b + NX_CHANNEL_INFO_HEAD);
    nx_send(d, (uint16_t)(NX_CHANNEL_INFO_HEAD + b[2]));
}

/* Changes the line to `baud` at time `now_us`: everything queued goes out at the old speed
 * first, and a partial frame received at the old speed is dropped. */
static void nx_switch_baud(nx_device *d, uint32_t baud, uint32_t now_us)
{
    hal_uart_set_baud(baud);
    d->baud = baud;
    d->baud_switched_us = now_us;
    nx_decoder_init(&d->decoder, d->rx, NX_PACKET_MAX);
}

/* SET_BAUD (version 2, length already checked): a speed the board runs is acknowledged at the
 * old speed, then the line changes; a good frame at the new speed within NX_BAUD_CONFIRM_MS
 * confirms it (section 12). Another speed is ERROR out_of_range, detail 1. */
static void nx_handle_set_baud(nx_device *d, const uint8_t *packet, uint32_t now_us)
{
    uint32_t baud = nx_get_u32(packet + NX_HEADER_SIZE);
    if (!hal_uart_baud_supported(baud)) {
        nx_send_error(d, NX_ERR_OUT_OF_RANGE, packet, 1);
        return;
    }
    uint8_t *b = nx_begin(d, NX_BAUD_ACK);
    nx_put_u32(b, baud);
    nx_send(d, NX_SET_BAUD_BODY);
    d->baud_before = d->baud;
    d->baud_unconfirmed = true;
    nx_switch_baud(d, baud, now_us);
}

/* The body length the device expects of a host -> device type: the `detail` of bad_length.
 * COMMAND, the one variable-length body, has 2 * NX_ACTUATOR_COUNT bytes on this device. */
static uint8_t nx_expected_body(uint8_t type)
{
    /* an if-chain, not a switch: the compiler turns a switch over these codes into a lookup
     * table in RAM on the AVR */
    if (type == NX_CONFIG) {
        return NX_CONFIG_BODY;
    }
    if (type == NX_COMMAND) {
        return 2u * NX_ACTUATOR_COUNT;
    }
    if (type == NX_PING) {
        return NX_PING_BODY;
    }
    if (type == NX_GET_CHANNEL) {
        return NX_GET_CHANNEL_BODY;
    }
    if (type == NX_SET_BAUD) {
        return NX_SET_BAUD_BODY;
    }
    return 0; /* HELLO, GET_STATUS, STOP */
}

/* Section 4: an accepted HELLO, and the first frame with a good CRC after start, only set the
 * expected seq; every other frame with a good CRC, rejected or not, first counts its gap. */
static void nx_track_sequence(nx_device *d, uint8_t seq, bool accepted_hello)
{
    if (d->rx_synced && !accepted_hello) {
        d->counters.dropped_frames += (uint8_t)(seq - d->rx_expected);
    }
    d->rx_expected = (uint8_t)(seq + 1u);
    d->rx_synced = true;
}

/* The version a frame must carry: the session's, except that a HELLO may carry any version the
 * device speaks (1 or 2) and, once accepted, makes it the session's (section 11). */
static uint8_t nx_version_for(const nx_device *d, const uint8_t *packet)
{
    if (packet[1] == NX_HELLO && packet[0] >= NX_PROTOCOL_VERSION && packet[0] <= NX_PROTOCOL_VERSION_MAX) {
        return packet[0];
    }
    return d->version;
}

/* Checks in the order of section 7 (version, type, length, content) and answers. */
static void nx_handle_packet(nx_device *d, const uint8_t *packet, uint16_t len, uint32_t now_us)
{
    uint8_t type = packet[1];
    uint16_t body_len = (uint16_t)(len - NX_HEADER_SIZE - NX_CRC_SIZE);
    uint8_t version = nx_version_for(d, packet);
    uint8_t err = nx_packet_check_version(packet, len, NX_TO_DEVICE, version);
    if (err == NX_OK && body_len != nx_expected_body(type)) {
        err = NX_ERR_BAD_LENGTH; /* a COMMAND for another number of actuators */
    }
    nx_track_sequence(d, packet[2], err == NX_OK && type == NX_HELLO);
    if (err != NX_OK) {
        uint8_t detail = (err == NX_ERR_UNSUPPORTED_VERSION) ? d->version
                       : (err == NX_ERR_BAD_LENGTH) ? nx_expected_body(type) : 0;
        nx_send_error(d, err, packet, detail);
        return;
    }
    switch (type) {
    case NX_HELLO:
        d->version = version;
        nx_defaults(d);
        nx_send_device_info(d);
        break;
    case NX_CONFIG:
        nx_handle_config(d, packet, now_us);
        break;
    case NX_COMMAND:
        nx_handle_command(d, packet, now_us);
        break;
    case NX_PING: {
        d->last_valid_us = now_us;
        uint8_t *b = nx_begin(d, NX_PONG);
        nx_put_u32(b, nx_get_u32(packet + NX_HEADER_SIZE));
        nx_put_u32(b + 4, now_us);
        nx_send(d, NX_PONG_BODY);
        break;
    }
    case NX_GET_CHANNEL:
        nx_handle_get_channel(d, packet);
        break;
    case NX_SET_BAUD:
        nx_handle_set_baud(d, packet, now_us);
        break;
    case NX_STOP: /* streaming goes on: only CONFIG with mask 0, or HELLO, ends it */
        nx_all_safe();
        d->failsafe = NX_FAILSAFE_STOPPED;
        nx_send_status(d);
        break;
    default: /* NX_GET_STATUS: the only host type left */
        nx_send_status(d);
        break;
    }
}

void nx_device_receive(nx_device *d, uint8_t byte, uint32_t now_us)
{
    nx_dec_result r = nx_decoder_push(&d->decoder, byte);
    if (r == NX_DEC_FRAME) {
        r = nx_packet_verify(d->rx, d->decoder.len);
    }
    switch (r) {
    case NX_DEC_PACKET:
        d->last_good_rx_us = now_us;
        d->baud_unconfirmed = false; /* a good frame: the speed in force works */
        nx_handle_packet(d, d->rx, d->decoder.len, now_us);
        break;
    case NX_DEC_ERR_CRC:
        d->counters.crc_errors++;
        break;
    case NX_DEC_ERR_COBS:
    case NX_DEC_ERR_TOO_SHORT:
    case NX_DEC_ERR_TOO_LONG:
        d->counters.malformed_frames++;
        break;
    default:
        break;
    }
}

static void nx_sample(nx_device *d, uint32_t now_us)
{
    uint8_t *b = nx_begin(d, NX_SENSORS);
    nx_put_u32(b, now_us);
    nx_put_u16(b + 4, d->sensor_mask);
    uint8_t *p = b + NX_SENSORS_HEAD;
    for (uint8_t i = 0; i < NX_SENSOR_COUNT; i++) {
        if (d->sensor_mask & (1u << i)) {
            nx_put_i16(p, hal_sensor_read(i));
            p += 2;
        }
    }
    nx_send(d, (uint16_t)(p - b));
}

void nx_device_poll(nx_device *d, uint32_t now_us)
{
    /* section 12: an unconfirmed speed goes back to the one before; a raised speed with a quiet
     * line goes back to the boot speed, where a restarted host looks for the board */
    if (d->baud_unconfirmed && now_us - d->baud_switched_us >= NX_BAUD_CONFIRM_MS * 1000u) {
        d->baud_unconfirmed = false;
        nx_switch_baud(d, d->baud_before, now_us);
        d->last_good_rx_us = now_us;
    } else if (d->baud != NX_BOOT_BAUD && now_us - d->last_good_rx_us >= NX_BAUD_QUIET_MS * 1000u &&
               now_us - d->baud_switched_us >= NX_BAUD_QUIET_MS * 1000u) {
        nx_switch_baud(d, NX_BOOT_BAUD, now_us);
    }
    uint32_t deadline = d->last_valid_us + (uint32_t)d->failsafe_ms * 1000u;
    if (d->failsafe == NX_FAILSAFE_ACTIVE && (int32_t)(now_us - deadline) >= 0) {
        nx_all_safe();
        d->failsafe = NX_FAILSAFE_TIMEOUT;
        d->counters.failsafe_trips++;
    }
    if (d->streaming && (int32_t)(now_us - d->next_sample_us) >= 0) {
        uint32_t period_us = (uint32_t)d->period_ms * 1000u;
        uint32_t late = now_us - d->next_sample_us;
        /* on time in all but an overrun: no 32-bit division (40 µs on the AVR) before sampling */
        uint32_t skipped = late < period_us ? 0u : late / period_us;
        d->counters.loop_overruns += skipped;
        d->next_sample_us += (skipped + 1u) * period_us;
        nx_sample(d, now_us);
    }
}

void nx_device_step(nx_device *d)
{
    uint8_t byte;
    while (hal_uart_read(&byte)) {
        /* Only a frame's closing 0x00 needs the time (it may complete a packet, which is stamped
         * with it); any other byte only feeds the decoder. Reading the clock for every byte costs
         * more than a byte lasts at 1,000,000 baud on a 16 MHz AVR, so received bytes would queue
         * up behind the loop and delay every frame's handling. */
        if (byte != 0x00) {
            (void)nx_decoder_push(&d->decoder, byte);
        } else {
            nx_device_receive(d, byte, hal_micros());
        }
    }
    nx_device_poll(d, hal_micros());
    hal_watchdog_kick();
}
