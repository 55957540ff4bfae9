#!/usr/bin/env python3
"""Writes Tests/Vectors/protocol-v1.txt from Docs/PROTOCOL.md.

An implementation independent of the C firmware: the C tests and the Swift codec tests read its
output, so both are checked against the specification rather than against each other.
Usage: python3 Firmware/tools/gen_vectors.py > Tests/Vectors/protocol-v1.txt
"""
import struct

VERSION = 1
T = dict(HELLO=0x01, CONFIG=0x02, COMMAND=0x03, PING=0x04, GET_STATUS=0x05, STOP=0x06,
         DEVICE_INFO=0x81, CONFIG_ACK=0x82, PONG=0x84, STATUS=0x85, SENSORS=0x90, ERROR=0xFF)
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


def classify(frame):
    """The codec's verdict on one frame (no delimiter), as in Docs/PROTOCOL.md section 2."""
    p = uncobs(frame)
    if isinstance(p, str):
        return p
    if len(p) > 128:
        return 'too_long'
    if len(p) < 5:
        return 'too_short'
    if struct.unpack('<H', p[-2:])[0] != crc16(p[:-2]):
        return 'crc'
    return 'ok'


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
        return bytes([CODES[f['code']], f['ref_type'], f['ref_seq'], f['detail']])
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


def good(cname, sender, name, seq, note=None, **f):
    p = packet(T[name], seq, body_of(name, f))
    emit('case ' + cname)
    if note:
        emit('# ' + note)
    emit('from ' + sender, 'wire ' + hx(wire(p)), 'packet ' + hx(p),
         ('message %s seq=%d %s' % (name, seq, fmt_fields(name, f))).rstrip(), 'end', '')


def bad_wire(cname, sender, w, error, reply, note=None, pkt=None):
    assert classify(w[:-1]) == error or error in ('bad_length',), (cname, classify(w[:-1]))
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
    emit('case ' + cname)
    if note:
        emit('# ' + note)
    emit('from host', 'wire ' + hx(wire(p)), 'packet ' + hx(p))
    if message:
        emit(message)
    if error:
        emit('error ' + error)
    emit('reply ERROR code=%s ref_type=%d ref_seq=%d detail=%d' % (code, p[1], p[2], detail), 'end', '')


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
rejected('unsupported_version_2', packet(T['HELLO'], 0, b'', version=2), 'unsupported_version', 1,
         error='unsupported_version')
rejected('unsupported_version_0', packet(T['PING'], 5, struct.pack('<I', 1), version=0),
         'unsupported_version', 1, error='unsupported_version')
rejected('unknown_type_07', packet(0x07, 1, b''), 'unknown_type', 0, error='unknown_type')
rejected('unknown_type_device_type_from_host',
         packet(T['SENSORS'], 2, struct.pack('<IH', 0, 0)), 'unknown_type', 0,
         note='a SENSORS frame sent to the device: a good frame, but not one the device accepts',
         message='message SENSORS seq=2 timestamp_us=0 sensor_mask=0 readings=')
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

print('\n'.join(out).rstrip('\n'))
