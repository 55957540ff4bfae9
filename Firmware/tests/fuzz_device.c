/* Coverage-guided fuzz target (libFuzzer): arbitrary bytes into the frame decoder and the
 * device. Traps when a packet with a bad CRC or size gets through, an actuator leaves its
 * range, or the device sends a frame that does not decode as a frame of the version it carries. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hal_fake.h"
#include "nx_device.h"
#include "nx_frame.h"
#include "nx_proto.h"
#include "nx_robot.h"

static void require(int condition)
{
    if (!condition) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nx_device dev;
    static uint8_t buf[NX_PACKET_MAX];
    nx_decoder d;
    nx_decoder_init(&d, buf, sizeof buf);
    fake_reset();
    nx_device_init(&dev, 0);
    for (size_t i = 0; i < size; i++) {
        nx_dec_result r = nx_decoder_push(&d, data[i]);
        if (r == NX_DEC_FRAME && nx_packet_verify(buf, d.len) == NX_DEC_PACKET) {
            require(d.len >= NX_PACKET_MIN && d.len <= NX_PACKET_MAX);
            require(nx_crc16(buf, (uint16_t)(d.len - 2)) == nx_get_u16(buf + d.len - 2));
        }
        nx_device_receive(&dev, data[i], (uint32_t)fake.now_us);
        if ((i & 15u) == 15u) {
            fake.now_us += 3000; /* let the scheduler and the failsafe run too */
            nx_device_poll(&dev, (uint32_t)fake.now_us);
        }
        for (int a = 0; a < NX_ACTUATOR_COUNT; a++) {
            require(fake.actuators[a] >= nx_actuator_channels[a].min && fake.actuators[a] <= nx_actuator_channels[a].max);
        }
    }
    /* everything the device sent decodes and passes the checks */
    nx_decoder_init(&d, buf, sizeof buf);
    for (uint32_t i = 0; i < fake.tx_len; i++) {
        nx_dec_result r = nx_decoder_push(&d, fake.tx[i]);
        if (r != NX_DEC_PENDING) {
            /* of the session's version when it was sent: 1, or 2 after a version-2 HELLO */
            require(r == NX_DEC_FRAME && nx_packet_verify(buf, d.len) == NX_DEC_PACKET &&
                    buf[0] >= NX_PROTOCOL_VERSION && buf[0] <= NX_PROTOCOL_VERSION_MAX &&
                    nx_packet_check_version(buf, d.len, NX_TO_HOST, buf[0]) == NX_OK);
        }
    }
    return 0;
}
