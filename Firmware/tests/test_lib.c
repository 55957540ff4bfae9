/* The host port as a library (ports/host/lib.c, nx_firmware_lib.h), linked directly under ASan
 * and UBSan: the handshake and a streaming run through its byte queues on its virtual clock,
 * commands applied and checked, the failsafe, a full receive queue, and a restart. */
#include <string.h>

#include "check.h"
#include "nx_firmware_lib.h"
#include "nx_frame.h"
#include "nx_proto.h"
#include "nx_robot.h"

static uint8_t seq;

/* Queues one frame of `type` with `body` to the firmware's UART. */
static void send(uint8_t type, const void *body, uint16_t n)
{
    uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX];
    uint8_t *b = nx_packet_begin(packet, type, seq++);
    if (n > 0) {
        memcpy(b, body, n);
    }
    uint16_t len = nx_packet_finish(packet, n);
    uint16_t w = nx_cobs_encode(packet, len, wire);
    wire[w++] = 0;
    CHECK(nx_lib_receive(wire, w) == w, "the receive queue took the frame");
}

/* Takes what the firmware sent and counts the good frames of `type`; the last one's packet goes
 * to `last`. */
static int take(uint8_t type, uint8_t *last)
{
    static uint8_t packet[NX_PACKET_MAX];
    static nx_decoder decoder;
    static bool ready;
    if (!ready) {
        nx_decoder_init(&decoder, packet, sizeof packet);
        ready = true;
    }
    uint8_t bytes[4096];
    size_t n = nx_lib_take_sent(bytes, sizeof bytes);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (nx_decoder_push(&decoder, bytes[i]) == NX_DEC_FRAME &&
            nx_packet_verify(packet, decoder.len) == NX_DEC_PACKET && packet[1] == type) {
            found++;
            if (last != NULL) {
                memcpy(last, packet, decoder.len);
            }
        }
    }
    return found;
}

static void start(void)
{
    const uint8_t id[8] = {'t', 'e', 's', 't', 'l', 'i', 'b', 1};
    nx_lib_start(id);
    seq = 0;
    take(0, NULL);
}

/* HELLO, then CONFIG: period `period_ms`, failsafe 100 ms, every sensor. */
static void configure(uint16_t period_ms)
{
    uint8_t info[NX_PACKET_MAX];
    send(NX_HELLO, NULL, 0);
    nx_lib_run(0, false);
    CHECK(take(NX_DEVICE_INFO, info) == 1, "HELLO is answered with DEVICE_INFO");
    CHECK(info[NX_HEADER_SIZE + 19] == NX_SENSOR_COUNT && info[NX_HEADER_SIZE + 20] == NX_ACTUATOR_COUNT,
          "DEVICE_INFO declares the robot's %d sensors and %d actuators", NX_SENSOR_COUNT, NX_ACTUATOR_COUNT);
    uint8_t config[6];
    nx_put_u16(config, period_ms);
    nx_put_u16(config + 2, 100);
    nx_put_u16(config + 4, (uint16_t)((1u << NX_SENSOR_COUNT) - 1u));
    send(NX_CONFIG, config, sizeof config);
    nx_lib_run(0, false);
    CHECK(take(NX_CONFIG_ACK, NULL) == 1, "CONFIG is acknowledged");
}

static void handshake_and_stream(void)
{
    start();
    CHECK(nx_lib_sensor_count() == NX_SENSOR_COUNT && nx_lib_actuator_count() == NX_ACTUATOR_COUNT, "the counts");
    CHECK(nx_lib_now_us() == 0, "the clock starts at 0");
    configure(5);
    CHECK(nx_lib_set_sensor(0, 1234), "a reading in range is taken");
    CHECK(!nx_lib_set_sensor(0, -1) && !nx_lib_set_sensor(NX_SENSOR_COUNT, 0), "a reading out of range or channel is refused");
    uint8_t frame[NX_PACKET_MAX];
    for (int k = 1; k <= 3; k++) {
        nx_lib_run(10000, true);
        CHECK(nx_lib_sensors_sent() == (uint32_t)k, "one SENSORS frame per run to sensors (%u)", (unsigned)nx_lib_sensors_sent());
        CHECK(take(NX_SENSORS, frame) == 1, "the frame is in the send queue");
        CHECK(nx_get_i16(frame + NX_HEADER_SIZE + NX_SENSORS_HEAD) == 1234, "sensor 0 reads what was set: %d", nx_get_i16(frame + NX_HEADER_SIZE + NX_SENSORS_HEAD));
    }
    CHECK(nx_lib_now_us() == 15000, "three 5 ms periods, sampled on time: %llu µs", (unsigned long long)nx_lib_now_us());
    int16_t setpoints[NX_ACTUATOR_COUNT];
    for (unsigned i = 0; i < NX_ACTUATOR_COUNT; i++) {
        setpoints[i] = (int16_t)(nx_actuator_channels[i].safe + 1);
    }
    uint8_t body[2 * NX_ACTUATOR_COUNT];
    for (unsigned i = 0; i < NX_ACTUATOR_COUNT; i++) {
        nx_put_i16(body + 2 * i, setpoints[i]);
    }
    send(NX_COMMAND, body, sizeof body);
    CHECK(nx_lib_actuator(0) == nx_actuator_channels[0].safe, "nothing applies before the firmware runs");
    nx_lib_run(0, false);
    for (unsigned i = 0; i < NX_ACTUATOR_COUNT; i++) {
        CHECK(nx_lib_actuator((uint8_t)i) == setpoints[i], "actuator %u applied: %d", i, nx_lib_actuator((uint8_t)i));
    }
    CHECK(nx_lib_now_us() == 15000, "handling a frame moves no time");
    nx_lib_run(99900, false);
    CHECK(nx_lib_actuator(0) == setpoints[0], "the failsafe waits its 100 ms");
    nx_lib_run(100, false);
    CHECK(nx_lib_actuator(0) == nx_actuator_channels[0].safe, "then makes the actuators safe");
    CHECK(nx_lib_sent_dropped() == 0, "the caller took every byte");
}

static void a_full_receive_queue_says_so(void)
{
    start();
    static uint8_t flood[5000];
    memset(flood, 0x11, sizeof flood);
    size_t taken = nx_lib_receive(flood, sizeof flood);
    CHECK(taken > 0 && taken < sizeof flood, "the queue takes what fits: %zu of %zu", taken, sizeof flood);
    nx_lib_run(0, false);
    CHECK(nx_lib_receive(flood, 10) == 10, "and room comes back once the firmware has read");
}

static void a_restart_forgets_everything(void)
{
    start();
    configure(10);
    nx_lib_run(50000, false);
    start();
    CHECK(nx_lib_now_us() == 0 && nx_lib_sensors_sent() == 0, "time and counts start again");
    nx_lib_run(50000, false);
    CHECK(take(NX_SENSORS, NULL) == 0, "a restarted firmware does not stream until configured");
}

int main(void)
{
    t_run("the library: handshake, streaming, commands and the failsafe", handshake_and_stream);
    t_run("the library: a full receive queue takes what fits", a_full_receive_queue_says_so);
    t_run("the library: a restart forgets everything", a_restart_forgets_everything);
    return t_summary("firmware library");
}
