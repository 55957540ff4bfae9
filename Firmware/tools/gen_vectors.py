#!/usr/bin/env python3
"""Writes Tests/Vectors/protocol-v1.txt (or, with the argument v2, protocol-v2.txt) from
Docs/PROTOCOL.md.

An implementation independent of the C firmware: the C tests and the Swift codec tests read its
output, so both are checked against the specification rather than against each other.
Usage: python3 Firmware/tools/gen_vectors.py > Tests/Vectors/protocol-v1.txt
       python3 Firmware/tools/gen_vectors.py v2 > Tests/Vectors/protocol-v2.txt
"""
import struct
import sys

VERSION = 2 if sys.argv[1:] == ['v2'] else 1
T = dict(HELLO=0x01, CONFIG=0x02, COMMAND=0x03, PING=0x04, GET_STATUS=0x05, STOP=0x06,
         GET_CHANNEL=0x07, SET_BAUD=0x08, DEVICE_INFO=0x81, CONFIG_ACK=0x82, PONG=0x84, STATUS=0x85,
         CHANNEL_INFO=0x87, BAUD_ACK=0x88, SENSORS=0x90, ERROR=0xFF)
CODES = dict(unsupported_version=1, unknown_type=2, bad_length=3, out_of_range=4,
             config_unsupported=5)
CODE_NAMES = {v: k for k, v in CODES.items()}
SENSORS = [(1, 1, 0, 5000, 0)] * 4 + [(2, 0, 0, 1, 0)] + [(3, 2, -32768, 32767, 0)] * 2
ACTUATORS = [(4, 3, -1000, 1000, 0), (4, 3, -1000, 1000, 0), (5, 4, 0, 180, 90)]


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def cobs(data):
    """COBS without the delimiter; a final full block (254 bytes) gets no empty block after it."""
    out, block, i = bytearray(), bytearray(), 0
    while True:
        while i < len(data) and data[i] != 0 and len(block) < 254:
            block.append(data[i])
            i += 1
        out += bytes([len(block) + 1]) + block
        full = len(block) == 254
        block = bytearray()
        if full:
            if i == len(data):
                return bytes(out)
        elif i == len(data):
            return bytes(out)
        else:
            i += 1


def uncobs(enc):
    """Decodes one frame (no delimiter); returns bytes or an error name."""
    out, i = bytearray(), 0
    while i < len(enc):
        code = enc[i]
        if code == 0 or i + code > len(enc):
            return 'cobs'
        out += enc[i + 1:i + code]
        i += code
        if code < 255 and i < len(enc):
            out.append(0)
    return bytes(out)


HOST_TYPES = {T[n] for n in ('HELLO', 'CONFIG', 'COMMAND', 'PING', 'GET_STATUS', 'STOP')}
DEVICE_TYPES = {T[n] for n in ('DEVICE_INFO', 'CONFIG_ACK', 'PONG', 'STATUS', 'SENSORS', 'ERROR')}
if VERSION >= 2:  # section 11: the types version 2 adds
    HOST_TYPES |= {T['GET_CHANNEL'], T['SET_BAUD']}
    DEVICE_TYPES |= {T['CHANNEL_INFO'], T['BAUD_ACK']}
UNIT_MAX = 5 if VERSION >= 2 else 4  # version 2 adds millimetre


def length_valid(typ, body):
    """Section 5: the body length of an accepted type (a COMMAND only needs 1..16 setpoints)."""
    n = len(body)
    fixed = {T['HELLO']: 0, T['GET_STATUS']: 0, T['STOP']: 0, T['CONFIG']: 6, T['CONFIG_ACK']: 6,
             T['PING']: 4, T['PONG']: 8, T['STATUS']: 34, T['ERROR']: 4}
    if typ in fixed:
        return n == fixed[typ]
    if typ == T['COMMAND']:
        return 2 <= n <= 32 and n % 2 == 0
    if typ == T['GET_CHANNEL']:
        return n == 2
    if typ in (T['SET_BAUD'], T['BAUD_ACK']):
        return n == 4
    if typ == T['CHANNEL_INFO']:
        return (n >= 3 and body[0] <= 1 and 1 <= body[2] <= 24 and n == 3 + body[2]
                and all(0x21 <= c <= 0x7E for c in body[3:]))
    if typ == T['SENSORS']:
        return n >= 6 and n == 6 + 2 * bin(struct.unpack('<H', body[4:6])[0]).count('1')
    # DEVICE_INFO: counts 1..16, the length they give, a printable name, listed kinds and units
    if n < 22:
        return False
    sensors, actuators, name = body[19], body[20], body[21]
    if not (1 <= sensors <= 16 and 1 <= actuators <= 16 and 1 <= name <= 16):
        return False
    if n != 22 + name + 8 * (sensors + actuators):
        return False
    if any(c < 0x21 or c > 0x7E for c in body[22:22 + name]):
        return False
    descriptors = body[22 + name:]
    return all(1 <= descriptors[i] <= 5 and descriptors[i + 1] <= UNIT_MAX
               for i in range(0, len(descriptors), 8))


def check(p, receiver):
    """Section 7 after the CRC, in order: version, type, length. receiver: 'device' accepts
    host -> device types, 'host' device -> host types. Returns 'ok' or the error name."""
    if p[0] != VERSION:
        return 'unsupported_version'
    if p[1] not in (HOST_TYPES if receiver == 'device' else DEVICE_TYPES):
        return 'unknown_type'
    return 'ok' if length_valid(p[1], p[3:-2]) else 'bad_length'


def classify(frame, sender='host'):
    """The verdict of the receiver of `sender`'s frame (no delimiter), sections 2 and 7."""
    p = uncobs(frame)
    if isinstance(p, str):
        return p
    if len(p) > 128:
        return 'too_long'
    if len(p) < 5:
        return 'too_short'
    if struct.unpack('<H', p[-2:])[0] != crc16(p[:-2]):
        return 'crc'
    return check(p, 'device' if sender == 'host' else 'host')


def packet(typ, seq, body, version=VERSION):
    p = bytes([version, typ, seq]) + body
    return p + struct.pack('<H', crc16(p))


def hx(b):
    return ' '.join('%02x' % x for x in b)


def wire(p):
    return cobs(p) + b'\x00'


def body_of(name, f):
    if name in ('HELLO', 'GET_STATUS', 'STOP'):
        return b''
    if name in ('CONFIG', 'CONFIG_ACK'):
        return struct.pack('<HHH', f['period_ms'], f['failsafe_ms'], f['sensor_mask'])
    if name == 'COMMAND':
        return b''.join(struct.pack('<h', v) for v in f['setpoints'])
    if name == 'PING':
        return struct.pack('<I', f['token'])
    if name == 'PONG':
        return struct.pack('<II', f['token'], f['timestamp_us'])
    if name == 'STATUS':
        return struct.pack('<BBIIIIIIII', *[f[k] for k in STATUS_FIELDS])
    if name == 'SENSORS':
        return struct.pack('<IH', f['timestamp_us'], f['sensor_mask']) + \
            b''.join(struct.pack('<h', v) for v in f['readings'])
    if name == 'ERROR':
        code = CODES[f['code']] if isinstance(f['code'], str) else f['code']
        return bytes([code, f['ref_type'], f['ref_seq'], f['detail']])
    if name in ('SET_BAUD', 'BAUD_ACK'):
        return struct.pack('<I', f['baud'])
    if name == 'GET_CHANNEL':
        return bytes([f['group'], f['index']])
    if name == 'CHANNEL_INFO':
        return bytes([f['group'], f['index'], len(f['name'])]) + f['name'].encode()
    if name == 'DEVICE_INFO':
        b = bytes([f['fw_major'], f['fw_minor'], f['fw_patch']]) + f['unique_id']
        b += struct.pack('<HHHHBBB', f['period_min_ms'], f['period_max_ms'],
                         f['failsafe_min_ms'], f['failsafe_max_ms'], len(f['sensor']),
                         len(f['actuator']), len(f['board']))
        b += f['board'].encode()
        for d in f['sensor'] + f['actuator']:
            b += struct.pack('<BBhhh', *d)
        return b
    raise KeyError(name)


STATUS_FIELDS = ['failsafe', 'reset_cause', 'uptime_ms', 'crc_errors', 'malformed_frames',
                 'rejected_frames', 'dropped_frames', 'rx_overflows', 'failsafe_trips',
                 'loop_overruns']


def fmt_fields(name, f):
    parts = []
    for k, v in f.items():
        if k in ('sensor', 'actuator'):
            parts += ['%s=%s' % (k, ','.join(str(x) for x in d)) for d in v]
        elif k == 'unique_id':
            parts.append('unique_id=' + v.hex())
        elif isinstance(v, list):
            parts.append('%s=%s' % (k, ','.join(str(x) for x in v)))
        else:
            parts.append('%s=%s' % (k, v))
    return ' '.join(parts)


out = []


def emit(*lines):
    out.extend(lines)


def good(cname, sender, mtype, seq, note=None, reply=None, **f):
    p = packet(T[mtype], seq, body_of(mtype, f))
    assert check(p, 'device' if sender == 'host' else 'host') == 'ok', cname
    emit('case ' + cname)
    if note:
        emit('# ' + note)
    emit('from ' + sender, 'wire ' + hx(wire(p)), 'packet ' + hx(p),
         ('message %s seq=%d %s' % (mtype, seq, fmt_fields(mtype, f))).rstrip())
    if reply:
        emit('reply ' + reply)
    emit('end', '')


def bad_wire(cname, sender, w, error, reply, note=None, pkt=None):
    assert classify(w[:-1], sender) == error, (cname, classify(w[:-1], sender))
    emit('case ' + cname)
    if note:
        emit('# ' + note)
    emit('from ' + sender, 'wire ' + hx(w))
    if pkt is not None:
        emit('packet ' + hx(pkt))
    emit('error ' + error)
    if reply:
        emit('reply ' + reply)
    emit('end', '')


def bad_packet(cname, sender, p, error, reply=None, note=None):
    bad_wire(cname, sender, wire(p), error, reply, note, pkt=p)


def rejected(cname, p, code, detail, note=None, message=None, error=None):
    """A host frame with a good CRC that the device answers with ERROR."""
    verdict = check(p, 'device')
    assert (verdict == 'ok' and message and not error) or verdict == error, (cname, verdict)
    emit('case ' + cname)
    if note:
        emit('# ' + note)
    emit('from host', 'wire ' + hx(wire(p)), 'packet ' + hx(p))
    if message:
        emit(message)
    if error:
        emit('error ' + error)
    emit('reply ERROR code=%s ref_type=%d ref_seq=%d detail=%d' % (code, p[1], p[2], detail), 'end', '')



# ------------------------------------------------------------------ version 2 (section 11)
NAMES = dict(sensor=['range_left', 'range_right', 'light_left', 'light_right', 'bumper',
                     'wheel_left', 'wheel_right'],
             actuator=['motor_left', 'motor_right', 'servo'])


def write_v2():
    uid = bytes([0x1e, 0x95, 0x0f, 0x00, 0x4e, 0x58, 0x00, 0x01])
    info = dict(fw_major=1, fw_minor=0, fw_patch=0, unique_id=uid, period_min_ms=4,
                period_max_ms=1000, failsafe_min_ms=10, failsafe_max_ms=250, board='neuraxon-uno')
    emit('# Neuraxon serial protocol version 2: shared test vectors.',
         '# Format: Docs/PROTOCOL.md sections 9 and 11. Generated by Firmware/tools/gen_vectors.py v2.',
         '# Every frame carries version 2; a host frame is answered by a device in a version-2 session.', '')
    emit('case crc_hello_v2_header', 'data 02 01 00', 'crc %04x' % crc16(b'\x02\x01\x00'), 'end', '')

    # every message of version 2, good
    good('hello', 'host', 'HELLO', 0, note='starts a version-2 session', reply='DEVICE_INFO')
    good('device_info_reference_robot', 'device', 'DEVICE_INFO', 0,
         note='the AVR reference robot: the layout of version 1',
         **dict(info, sensor=SENSORS, actuator=ACTUATORS))
    seq = 1
    for group, key in [(0, 'sensor'), (1, 'actuator')]:
        for index, name in enumerate(NAMES[key]):
            good('get_channel_%s_%d' % (key, index), 'host', 'GET_CHANNEL', seq, group=group, index=index,
                 reply='CHANNEL_INFO')
            good('channel_info_%s_%d' % (key, index), 'device', 'CHANNEL_INFO', seq,
                 note='the reference robot\'s %s %d' % (key, index), group=group, index=index, name=name)
            seq += 1
    good('channel_info_longest_name', 'device', 'CHANNEL_INFO', 20, note='a name of 24 bytes',
         group=1, index=15, name='a' * 23 + 'z')
    good('channel_info_printable', 'device', 'CHANNEL_INFO', 21, note='any printable ASCII byte',
         group=0, index=0, name='!~Zz09_')
    good('device_info_millimetre', 'device', 'DEVICE_INFO', 1,
         note='unit 5 (millimetre): an ultrasonic ranger of 0..4000 mm',
         **dict(info, board='neuraxon-mega', sensor=[(1, 5, 0, 4000, 0), (2, 0, 0, 1, 0)],
                actuator=[(4, 3, -1000, 1000, 0)]))
    good('config_default', 'host', 'CONFIG', 30, period_ms=10, failsafe_ms=100, sensor_mask=0x7F)
    good('config_ack', 'device', 'CONFIG_ACK', 30, period_ms=10, failsafe_ms=100, sensor_mask=0x7F)
    good('command_zero', 'host', 'COMMAND', 31, setpoints=[0, 0, 90])
    good('ping', 'host', 'PING', 32, token=0x12345678)
    good('pong', 'device', 'PONG', 32, token=0x12345678, timestamp_us=4294967295)
    good('get_status', 'host', 'GET_STATUS', 33)
    good('stop', 'host', 'STOP', 34)
    good('status_fresh', 'device', 'STATUS', 33, failsafe=0, reset_cause=0, uptime_ms=1234,
         crc_errors=0, malformed_frames=0, rejected_frames=0, dropped_frames=0, rx_overflows=0,
         failsafe_trips=0, loop_overruns=0)
    good('sensors_all', 'device', 'SENSORS', 35, timestamp_us=1000000, sensor_mask=0x7F,
         readings=[3100, 400, 2500, 2499, 1, 32767, -32768])
    good('error_out_of_range', 'device', 'ERROR', 36, code='out_of_range', ref_type=7, ref_seq=4, detail=2)

    # bad input of version 2
    p = packet(T['GET_CHANNEL'], 40, b'\x00\x00')
    bad = bytearray(p); bad[-1] ^= 0x01
    bad_packet('bad_crc_get_channel', 'host', bytes(bad), 'crc', 'none counter=crc_errors')
    w = next(wire(p)[:i] + wire(p)[i + 1:] for i in range(len(wire(p)) - 1)
             if classify(wire(p)[:i] + wire(p)[i + 1:-1]) == 'cobs')
    bad_wire('dropped_byte_get_channel', 'host', w, 'cobs', 'none counter=malformed_frames',
             note='one byte of the frame lost')
    rejected('unsupported_version_1_ping', packet(T['PING'], 41, bytes(4), version=1),
             'unsupported_version', 2, error='unsupported_version',
             note='in a version-2 session only a HELLO may carry version 1: detail is 2, the session\'s')
    rejected('unsupported_version_3_hello', packet(T['HELLO'], 42, b'', version=3),
             'unsupported_version', 2, error='unsupported_version')
    rejected('get_channel_bad_group', packet(T['GET_CHANNEL'], 43, b'\x02\x00'), 'out_of_range', 1,
             message='message GET_CHANNEL seq=43 group=2 index=0', note='detail 1: the group')
    rejected('get_channel_sensor_index_beyond', packet(T['GET_CHANNEL'], 44, b'\x00\x07'), 'out_of_range', 2,
             message='message GET_CHANNEL seq=44 group=0 index=7',
             note='detail 2: the index (the reference robot has 7 sensors)')
    rejected('get_channel_actuator_index_beyond', packet(T['GET_CHANNEL'], 45, b'\x01\x03'), 'out_of_range', 2,
             message='message GET_CHANNEL seq=45 group=1 index=3')
    rejected('get_channel_bad_group_and_index', packet(T['GET_CHANNEL'], 46, b'\xff\xff'), 'out_of_range', 1,
             message='message GET_CHANNEL seq=46 group=255 index=255', note='the group is checked first')
    rejected('get_channel_empty', packet(T['GET_CHANNEL'], 47, b''), 'bad_length', 2, error='bad_length')
    rejected('get_channel_3_bytes', packet(T['GET_CHANNEL'], 48, b'\x00\x00\x00'), 'bad_length', 2,
             error='bad_length')
    rejected('channel_info_to_device', packet(T['CHANNEL_INFO'], 49, b'\x00\x00\x01a'), 'unknown_type', 0,
             error='unknown_type', note='a device -> host type')
    rejected('unknown_type_09', packet(0x09, 50, b''), 'unknown_type', 0, error='unknown_type')

    # the faster line (section 12)
    good('set_baud_1000000', 'host', 'SET_BAUD', 60, note='answered at the old speed; then the line changes',
         reply='BAUD_ACK', baud=1000000)
    good('baud_ack_1000000', 'device', 'BAUD_ACK', 0, baud=1000000)
    good('set_baud_250000', 'host', 'SET_BAUD', 61, reply='BAUD_ACK', baud=250000)
    rejected('set_baud_unsupported', packet(T['SET_BAUD'], 62, struct.pack('<I', 2000000)), 'out_of_range', 1,
             message='message SET_BAUD seq=62 baud=2000000', note='2 Mbaud: a speed the board does not run')
    rejected('set_baud_zero', packet(T['SET_BAUD'], 63, bytes(4)), 'out_of_range', 1,
             message='message SET_BAUD seq=63 baud=0')
    rejected('set_baud_3_bytes', packet(T['SET_BAUD'], 64, bytes(3)), 'bad_length', 4, error='bad_length')
    rejected('baud_ack_to_device', packet(T['BAUD_ACK'], 65, bytes(4)), 'unknown_type', 0, error='unknown_type')
    bad_packet('to_host_baud_ack_5_bytes', 'device', packet(T['BAUD_ACK'], 66, bytes(5)), 'bad_length')
    bad_packet('to_host_set_baud', 'device', packet(T['SET_BAUD'], 67, bytes(4)), 'unknown_type')
    bad_packet('to_host_get_channel', 'device', packet(T['GET_CHANNEL'], 51, b'\x00\x00'), 'unknown_type',
               note='a host -> device type from the device')
    bad_packet('to_host_version_1', 'device', packet(T['PONG'], 52, bytes(8), version=1), 'unsupported_version',
               note='a version-2 host reads version-2 frames only')
    for cname, body, note in [
            ('channel_info_empty_name', b'\x00\x00\x00', 'a name of 0 bytes'),
            ('channel_info_name_25_bytes', b'\x00\x00\x19' + b'a' * 25, 'a name of 25 bytes'),
            ('channel_info_length_mismatch', b'\x00\x00\x05abcd', 'name_len 5, 4 bytes follow'),
            ('channel_info_name_with_space', b'\x00\x00\x03a b', 'a name byte outside 0x21..0x7e'),
            ('channel_info_group_2', b'\x02\x00\x01a', 'group 2'),
            ('channel_info_short', b'\x00\x00', 'no name_len')]:
        bad_packet(cname, 'device', packet(T['CHANNEL_INFO'], 53, body), 'bad_length', note=note)
    f = dict(info, sensor=[(1, 6, 0, 4000, 0)], actuator=[(4, 3, -1000, 1000, 0)])
    bad_packet('device_info_unit_6', 'device', packet(T['DEVICE_INFO'], 54, body_of('DEVICE_INFO', f)),
               'bad_length', note='unit 6 is not listed; units are 0..5')


if VERSION == 2:
    write_v2()
    print('\n'.join(out).rstrip('\n'))
    sys.exit(0)

emit('# Neuraxon serial protocol version 1: shared test vectors.',
     '# Format: Docs/PROTOCOL.md section 9. Generated by Firmware/tools/gen_vectors.py;',
     '# cases found by fuzzing are appended at the end by hand.', '')

# CRC and COBS building blocks
for name, data in [('check_value', b'123456789'), ('single_zero', b'\x00'),
                   ('hello_header', b'\x01\x01\x00'), ('all_ones', b'\xff' * 8)]:
    emit('case crc_' + name, 'data ' + hx(data), 'crc %04x' % crc16(data), 'end', '')
for i, data in enumerate([b'\x00', b'\x00\x00', b'\x11\x22\x00\x33', b'\x11\x22\x33\x44',
                          b'\x11\x00\x00', bytes(range(1, 255)), bytes(range(1, 256)),
                          bytes(range(0, 256)), bytes([1] * 253), bytes([1] * 254 + [0])]):
    assert uncobs(cobs(data)) == data
    emit('case cobs_%d' % i, 'data ' + hx(data), 'cobs ' + hx(cobs(data)), 'end', '')

# Every message, good
good('hello', 'host', 'HELLO', 0)
good('hello_seq_255', 'host', 'HELLO', 255)
uid = bytes([0x1e, 0x95, 0x0f, 0x00, 0x4e, 0x58, 0x00, 0x01])
good('device_info_reference_robot', 'device', 'DEVICE_INFO', 0,
     note='the AVR reference robot (board name neuraxon-uno)',
     fw_major=1, fw_minor=0, fw_patch=0, unique_id=uid, period_min_ms=4, period_max_ms=1000,
     failsafe_min_ms=10, failsafe_max_ms=250, board='neuraxon-uno', sensor=SENSORS,
     actuator=ACTUATORS)
good('device_info_host_port', 'device', 'DEVICE_INFO', 3,
     fw_major=1, fw_minor=2, fw_patch=3, unique_id=bytes(8), period_min_ms=1,
     period_max_ms=1000, failsafe_min_ms=10, failsafe_max_ms=250, board='neuraxon-host',
     sensor=SENSORS, actuator=ACTUATORS)
good('config_default', 'host', 'CONFIG', 1, period_ms=10, failsafe_ms=100, sensor_mask=0x7F)
good('config_200hz_ranges_only', 'host', 'CONFIG', 2, period_ms=5, failsafe_ms=250, sensor_mask=0x03)
good('config_stop_streaming', 'host', 'CONFIG', 3, period_ms=1000, failsafe_ms=10, sensor_mask=0)
good('config_ack', 'device', 'CONFIG_ACK', 1, period_ms=10, failsafe_ms=100, sensor_mask=0x7F)
good('command_zero', 'host', 'COMMAND', 4, setpoints=[0, 0, 90])
good('command_limits', 'host', 'COMMAND', 5, setpoints=[-1000, 1000, 180])
good('command_mixed', 'host', 'COMMAND', 6, setpoints=[250, -250, 0])
good('ping', 'host', 'PING', 7, token=0x12345678)
good('ping_zero_token', 'host', 'PING', 8, token=0)
good('pong', 'device', 'PONG', 9, token=0x12345678, timestamp_us=4294967295)
good('get_status', 'host', 'GET_STATUS', 9)
good('stop', 'host', 'STOP', 10)
good('status_fresh', 'device', 'STATUS', 2, failsafe=0, reset_cause=0, uptime_ms=1234,
     crc_errors=0, malformed_frames=0, rejected_frames=0, dropped_frames=0, rx_overflows=0,
     failsafe_trips=0, loop_overruns=0)
good('status_busy', 'device', 'STATUS', 200, failsafe=2, reset_cause=3, uptime_ms=3600000,
     crc_errors=1, malformed_frames=2, rejected_frames=3, dropped_frames=256, rx_overflows=65536,
     failsafe_trips=7, loop_overruns=4294967295)
good('sensors_all', 'device', 'SENSORS', 17, timestamp_us=1000000, sensor_mask=0x7F,
     readings=[3100, 400, 2500, 2499, 1, 32767, -32768])
good('sensors_two', 'device', 'SENSORS', 18, timestamp_us=1005000, sensor_mask=0x21,
     readings=[0, -1])
good('sensors_none', 'device', 'SENSORS', 19, timestamp_us=0, sensor_mask=0, readings=[])
for code, detail in [('unsupported_version', 1), ('unknown_type', 0), ('bad_length', 6),
                     ('out_of_range', 2), ('config_unsupported', 3)]:
    good('error_' + code, 'device', 'ERROR', 20, code=code, ref_type=3, ref_seq=4, detail=detail)

# Several frames and noise in one stream
h = wire(packet(T['HELLO'], 0, b''))
g = wire(packet(T['GET_STATUS'], 1, b''))
emit('case stream_noise_then_hello',
     '# noise before a delimiter is one cobs error; the next frame decodes; empty frames count nothing',
     'from host', 'wire 13 37 00 00 00 ' + hx(h) + ' 00 ' + hx(g), 'error cobs',
     'message HELLO seq=0', 'message GET_STATUS seq=1', 'end', '')

# Bad input
p = packet(T['HELLO'], 0, b'')
bad = bytearray(p); bad[-1] ^= 0x01
bad_packet('bad_crc_flipped_bit', 'host', bytes(bad), 'crc', 'none counter=crc_errors')
cmd = packet(T['COMMAND'], 4, struct.pack('<hhh', 100, 100, 90))
bad = bytearray(cmd); bad[4] ^= 0x80
bad_packet('bad_crc_command_body', 'host', bytes(bad), 'crc', 'none counter=crc_errors')
w = wire(cmd); w = w[:5] + w[6:]
bad_wire('dropped_byte', 'host', w, 'cobs', 'none counter=malformed_frames',
         note='one byte of a COMMAND lost on the wire')
bad_wire('cobs_truncated_block', 'host', bytes([0x06, 0x01, 0x01, 0x00]), 'cobs',
         'none counter=malformed_frames', note='the code byte promises 5 bytes, 2 arrive')
bad_packet('too_short_four_bytes', 'host', bytes([0x01, 0x01, 0x00, 0x00]), 'too_short',
           'none counter=malformed_frames')
bad_wire('too_short_one_byte', 'host', bytes([0x02, 0x01, 0x00]), 'too_short',
         'none counter=malformed_frames')
big = packet(T['COMMAND'], 0, bytes([1] * 124))
bad_wire('too_long_129_bytes', 'host', wire(big), 'too_long', 'none counter=malformed_frames',
         note='a 129-byte packet (124-byte body) exceeds the 128-byte maximum')
rejected('unsupported_version_3', packet(T['HELLO'], 0, b'', version=3), 'unsupported_version', 1,
         error='unsupported_version',
         note='a HELLO of a version the device does not speak (a version-2 HELLO starts a version-2 session)')
rejected('unsupported_version_0', packet(T['PING'], 5, struct.pack('<I', 1), version=0),
         'unsupported_version', 1, error='unsupported_version')
rejected('unknown_type_07', packet(0x07, 1, b''), 'unknown_type', 0, error='unknown_type')
rejected('unknown_type_device_type_from_host',
         packet(T['SENSORS'], 2, struct.pack('<IH', 0, 0)), 'unknown_type', 0,
         note='a SENSORS frame sent to the device: the device accepts only host -> device types',
         error='unknown_type')
rejected('bad_length_hello_with_body', packet(T['HELLO'], 3, b'\x01'), 'bad_length', 0,
         error='bad_length')
rejected('bad_length_config_5', packet(T['CONFIG'], 4, b'\x0a\x00\x64\x00\x7f'), 'bad_length', 6,
         error='bad_length')
rejected('bad_length_ping_3', packet(T['PING'], 5, b'\x01\x02\x03'), 'bad_length', 4,
         error='bad_length')
rejected('bad_length_command_odd', packet(T['COMMAND'], 6, b'\x00\x00\x00\x00\x5a'), 'bad_length', 6,
         error='bad_length')
rejected('bad_length_command_two_setpoints', packet(T['COMMAND'], 7, struct.pack('<hh', 1, 2)),
         'bad_length', 6, note='even length, but the reference robot has 3 actuators',
         message='message COMMAND seq=7 setpoints=1,2')
bad_packet('bad_length_sensors_mask', 'device',
           packet(T['SENSORS'], 1, struct.pack('<IHh', 0, 0x03, 5)), 'bad_length',
           note='the mask announces two readings, the body holds one')
bad_packet('bad_length_status_short', 'device', packet(T['STATUS'], 1, bytes(33)), 'bad_length')
for i, (sp, idx) in enumerate([([1001, 0, 90], 0), ([0, -1001, 90], 1), ([0, 0, 181], 2),
                               ([0, 0, -1], 2), ([-32768, 0, 200], 0)]):
    p = packet(T['COMMAND'], 8 + i, b''.join(struct.pack('<h', v) for v in sp))
    rejected('out_of_range_%d' % i, p, 'out_of_range', idx,
             message='message COMMAND seq=%d setpoints=%s' % (8 + i, ','.join(map(str, sp))))
for i, (cfg, field) in enumerate([((0, 100, 0x7F), 1), ((1001, 100, 0x7F), 1), ((10, 9, 0x7F), 2),
                                  ((10, 251, 0x7F), 2), ((10, 100, 0x80), 3),
                                  ((10, 0, 0xFFFF), 2)]):
    p = packet(T['CONFIG'], 20 + i, struct.pack('<HHH', *cfg))
    rejected('config_unsupported_%d' % i, p, 'config_unsupported', field,
             message='message CONFIG seq=%d period_ms=%d failsafe_ms=%d sensor_mask=%d'
             % ((20 + i,) + cfg))

info = dict(fw_major=1, fw_minor=0, fw_patch=0, unique_id=uid, period_min_ms=4,
            period_max_ms=1000, failsafe_min_ms=10, failsafe_max_ms=250, board='x',
            sensor=[], actuator=ACTUATORS)
bad_packet('bad_length_device_info_no_sensors', 'device',
           packet(T['DEVICE_INFO'], 0, body_of('DEVICE_INFO', info)), 'bad_length',
           note='sensor_count 0 is outside 1..16')
info.update(sensor=SENSORS, board='neuraxon-uno')
bad_packet('bad_length_device_info_truncated', 'device',
           packet(T['DEVICE_INFO'], 0, body_of('DEVICE_INFO', info)[:-8]), 'bad_length',
           note='the last actuator descriptor is missing')
bad_packet('bad_length_pong_long', 'device', packet(T['PONG'], 0, bytes(9)), 'bad_length')

# ---- Appended cases: the check order of section 7 and what the device does with every type.

# Every device -> host type sent to the device is unknown_type (detail 0) whatever its length:
# the type is checked before the length. First with the body its type would have, then empty,
# then too long.
device_bodies = [
    ('DEVICE_INFO', body_of('DEVICE_INFO', dict(
        fw_major=1, fw_minor=0, fw_patch=0, unique_id=uid, period_min_ms=4, period_max_ms=1000,
        failsafe_min_ms=10, failsafe_max_ms=250, board='neuraxon-uno', sensor=SENSORS,
        actuator=ACTUATORS))),
    ('CONFIG_ACK', struct.pack('<HHH', 10, 100, 0x7F)),
    ('PONG', struct.pack('<II', 1, 2)),
    ('STATUS', bytes(34)),
    ('SENSORS', struct.pack('<IHhh', 5000, 0x03, 100, 200)),
    ('ERROR', bytes([2, 0x90, 7, 0])),
]
for i, (name, body) in enumerate(device_bodies):
    t = T[name]
    lname = name.lower()
    rejected('to_device_%s' % lname, packet(t, 30 + i, body), 'unknown_type', 0,
             note='a well-formed %s sent to the device' % name, error='unknown_type')
    rejected('to_device_%s_empty' % lname, packet(t, 40 + i, b''), 'unknown_type', 0,
             note='%s with an empty body: unknown_type, not bad_length (type before length)' % name,
             error='unknown_type')
    rejected('to_device_%s_long' % lname, packet(t, 50 + i, bytes([0x5a]) * 40), 'unknown_type', 0,
             note='%s with a 40-byte body of the wrong layout' % name, error='unknown_type')

# The reproduction: after HELLO, the 7 bytes 06 01 82 01 77 96 00 (CONFIG_ACK, seq 1, no body)
h = packet(T['HELLO'], 0, b'')
ack = packet(T['CONFIG_ACK'], 1, b'')
assert wire(ack) == bytes([0x06, 0x01, 0x82, 0x01, 0x77, 0x96, 0x00])
emit('case hello_then_empty_config_ack',
     '# a CONFIG_ACK with no body after HELLO: unknown_type with detail 0, never bad_length',
     'from host', 'wire ' + hx(wire(h) + wire(ack)),
     'message HELLO seq=0', 'error unknown_type',
     'reply DEVICE_INFO',
     'reply ERROR code=unknown_type ref_type=130 ref_seq=1 detail=0', 'end', '')

# Types section 5 does not define, with and without a body
for typ, body in [(0x00, b''), (0x07, b'\x01\x02\x03'), (0x7F, bytes(6)), (0x80, b''),
                  (0x83, bytes(6)), (0x86, bytes(4)), (0x91, bytes(121)), (0xFE, bytes(4))]:
    rejected('unknown_type_%02x_%d_bytes' % (typ, len(body)), packet(typ, 60, body),
             'unknown_type', 0, error='unknown_type')

# Check order: version before type, length and content; type before length; length before content
rejected('order_bad_version_and_unknown_type', packet(0x42, 61, b'\x01', version=2),
         'unsupported_version', 1, error='unsupported_version')
rejected('order_bad_version_and_device_type', packet(T['CONFIG_ACK'], 62, b'', version=0xFF),
         'unsupported_version', 1, error='unsupported_version')
rejected('order_bad_version_and_bad_length', packet(T['PING'], 63, b'\x01', version=2),
         'unsupported_version', 1, error='unsupported_version')
rejected('order_bad_version_and_out_of_range',
         packet(T['COMMAND'], 64, struct.pack('<hhh', 5000, 5000, 500), version=0),
         'unsupported_version', 1, error='unsupported_version')
rejected('order_unknown_type_and_bad_length', packet(0x08, 65, bytes(121)), 'unknown_type', 0,
         error='unknown_type')
rejected('order_bad_length_and_out_of_range', packet(T['COMMAND'], 66, struct.pack('<hh', 5000, 5000)),
         'bad_length', 6, note='two out-of-range setpoints for three actuators: the length is checked first',
         message='message COMMAND seq=66 setpoints=5000,5000')
rejected('order_bad_length_and_bad_config', packet(T['CONFIG'], 67, struct.pack('<HH', 0, 0)),
         'bad_length', 6, error='bad_length')

# bad_length detail for every host -> device type, the variable-length COMMAND included
rejected('bad_length_get_status_with_body', packet(T['GET_STATUS'], 68, b'\x00'), 'bad_length', 0,
         error='bad_length')
rejected('bad_length_stop_with_body', packet(T['STOP'], 69, b'\x01\x02'), 'bad_length', 0,
         error='bad_length')
rejected('bad_length_ping_5', packet(T['PING'], 70, bytes(5)), 'bad_length', 4, error='bad_length')
rejected('bad_length_config_7', packet(T['CONFIG'], 71, bytes(7)), 'bad_length', 6, error='bad_length')
rejected('bad_length_command_empty', packet(T['COMMAND'], 72, b''), 'bad_length', 6, error='bad_length')
rejected('bad_length_command_four_setpoints', packet(T['COMMAND'], 73, struct.pack('<hhhh', 0, 0, 90, 0)),
         'bad_length', 6, note='even length, but the reference robot has 3 actuators',
         message='message COMMAND seq=73 setpoints=0,0,90,0')
rejected('bad_length_command_17_setpoints', packet(T['COMMAND'], 74, bytes(34)), 'bad_length', 6,
         note='more setpoints than any device has channels', error='bad_length')

# Sensor mask bits at or above the device's sensor count (7 on the reference robot)
for i, (cfg, field) in enumerate([((10, 100, 0x8000), 3), ((10, 100, 0xFF7F), 3),
                                  ((10, 100, 0x0100), 3), ((0, 100, 0x0080), 1),
                                  ((10, 300, 0x0080), 2)]):
    p = packet(T['CONFIG'], 75 + i, struct.pack('<HHH', *cfg))
    rejected('config_mask_beyond_channels_%d' % i, p, 'config_unsupported', field,
             note='fields are checked in the order period, failsafe, mask',
             message='message CONFIG seq=%d period_ms=%d failsafe_ms=%d sensor_mask=%d'
             % ((75 + i,) + cfg))

# What the host's decoder does with frames from the device: the same order
for name, body in [('HELLO', b''), ('COMMAND', bytes(6)), ('PING', bytes(4))]:
    bad_packet('to_host_%s' % name.lower(), 'device', packet(T[name], 80, body), 'unknown_type',
               note='a host -> device type from the device')
bad_packet('to_host_command_odd', 'device', packet(T['COMMAND'], 81, bytes(3)), 'unknown_type',
           note='a host -> device type with a bad length: the type is checked first')
bad_packet('to_host_unknown_type_07', 'device', packet(0x07, 82, bytes(4)), 'unknown_type')
bad_packet('to_host_bad_version_and_unknown_type', 'device', packet(0x42, 83, b'', version=2),
           'unsupported_version')
bad_packet('to_host_config_ack_empty', 'device', packet(T['CONFIG_ACK'], 84, b''), 'bad_length')
bad_packet('to_host_error_5_bytes', 'device', packet(T['ERROR'], 85, bytes(5)), 'bad_length')
bad_packet('to_host_sensors_short_head', 'device', packet(T['SENSORS'], 86, bytes(5)), 'bad_length')

# DEVICE_INFO values section 5 does not list: the host refuses the body as bad_length
def device_info_with(seq, **changes):
    f = dict(fw_major=1, fw_minor=0, fw_patch=0, unique_id=uid, period_min_ms=4,
             period_max_ms=1000, failsafe_min_ms=10, failsafe_max_ms=250, board='neuraxon-uno',
             sensor=list(SENSORS), actuator=list(ACTUATORS))
    f.update(changes)
    return packet(T['DEVICE_INFO'], seq, body_of('DEVICE_INFO', f))

bad_packet('device_info_unlisted_kind', 'device',
           device_info_with(0, sensor=[(9, 1, 0, 5000, 0)] + SENSORS[1:]), 'bad_length',
           note='sensor 0 has kind 9; kinds are 1..5')
bad_packet('device_info_kind_zero', 'device',
           device_info_with(0, actuator=ACTUATORS[:2] + [(0, 4, 0, 180, 90)]), 'bad_length',
           note='actuator 2 has kind 0')
bad_packet('device_info_unlisted_unit', 'device',
           device_info_with(0, actuator=ACTUATORS[:2] + [(5, 5, 0, 180, 90)]), 'bad_length',
           note='actuator 2 has unit 5; units are 0..4')
bad_packet('device_info_board_name_with_space', 'device', device_info_with(0, board='neuraxon uno'),
           'bad_length', note='a board name byte outside 0x21..0x7e')
good('device_info_largest_body', 'device', 'DEVICE_INFO', 1,
     note='a 119-byte body: 11 sensors and 1 actuator (at most 12 channels fit with a 1-byte name)',
     fw_major=1, fw_minor=0, fw_patch=0, unique_id=uid, period_min_ms=4, period_max_ms=1000,
     failsafe_min_ms=10, failsafe_max_ms=250, board='b', sensor=[(1, 1, 0, 5000, 0)] * 11,
     actuator=[(4, 3, -1000, 1000, 0)])

# Values a later firmware may add to STATUS and ERROR fields: kept as sent, never an error
good('status_unlisted_values', 'device', 'STATUS', 3, note='failsafe 7 and reset_cause 9 are not listed',
     failsafe=7, reset_cause=9, uptime_ms=0, crc_errors=0, malformed_frames=0, rejected_frames=0,
     dropped_frames=0, rx_overflows=0, failsafe_trips=0, loop_overruns=0)
good('error_unlisted_code', 'device', 'ERROR', 4, note='code 9 is not listed: written as its number',
     code=9, ref_type=3, ref_seq=4, detail=0)

print('\n'.join(out).rstrip('\n'))
