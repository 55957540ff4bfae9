#!/usr/bin/env python3
"""Checks a robot description (Firmware/robots/*.yaml, schema: Docs/ROBOTS.md) and generates the
firmware's C tables from it.

Usage:
  robotgen.py check FILE                 checks FILE; prints each error as FILE:LINE: message
  robotgen.py generate FILE OUTDIR       checks FILE, then writes into OUTDIR:
      nx_robot_config.h   channel counts, indices, board name and limits (the core reads it)
      nx_robot_table.c    the DEVICE_INFO channel tables (nx_sensor_channels, nx_actuator_channels)
      nx_robot_pins.c     the pin set-up tables the AVR port and the emulation harness read
      nx_board_map.c      every usable pin of the board (for the emulation harness)
      robot.mk            BOARD, MCU, BOARD_NAME and the board's flash and RAM budget (for make)
  robotgen.py random SEED FILE           writes a random valid description (for tests)
  robotgen.py channels FILE              checks FILE, then prints what its board declares as JSON
                                         (board name, limits, every channel) for the host's tests
  robotgen.py swift-boards FILE          writes the board facts of Firmware/boards/*.yaml as Swift
                                         (Sources/NeuraxonChannels/BoardData.swift)

Exit status: 0 good, 65 the description has errors, 64 usage, 66 the file cannot be read.
Needs PyYAML (scripts/install-deps.sh installs it).
"""
import math
import os
import random
import re
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.stderr.write("robotgen.py: PyYAML is missing: run scripts/install-deps.sh "
                     "(or python3 -m pip install pyyaml)\n")
    sys.exit(69)

# --- the protocol (Docs/PROTOCOL.md, version 1) ---------------------------------------------
CHANNELS_MAX = 16          # channels of one direction DEVICE_INFO carries
DEVICE_INFO_BODY_MAX = 121  # 22 + board_len + 8 x (sensors + actuators) must fit
BOARD_NAME_MAX = 16
PERIOD_MAX_MS = 1000
FAILSAFE_MIN_MS, FAILSAFE_MAX_MS = 10, 250
BYTE_US = 10 * 1e6 / 115200  # one byte on the wire at 115200 8N1
LINE_SHARE = 0.6           # a full SENSORS stream may use at most this share of the line
KIND_CODE = dict(analog=1, digital=2, encoder=3, motor=4, servo=5)
UNIT_CODE = dict(none=0, millivolt=1, tick=2, per_mille=3, degree=4)

# --- ultrasonic rangers (HC-SR04): sound at 343 m/s, there and back -------------------------
US_PER_MM = 2000.0 / 343.0  # echo time per millimetre of distance, µs
RANGER_GAP_MS = 1           # quiet time after each ping before the next one

# --- boards ---------------------------------------------------------------------------------
# Each board's facts live in Firmware/boards/BOARD.yaml, the one source the host's checker reads
# too: its pins (Arduino name -> port letter, bit, ADC channel), its PWM outputs (timer, output A
# or B), its external interrupts (INTn), the pins the firmware keeps, the tick timer, the 16-bit
# timers and the build's flash and RAM budget.
BOARDS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "boards")
BOARD_KEYS = ("board", "title", "flash_budget", "ram_budget", "reserved", "tick_timer",
              "timers_16bit", "pins", "pwm", "interrupts")


class Board:
    """One board's facts, from its data file."""

    def __init__(self, data):
        self.name = data["board"]
        self.title = data["title"]
        self.flash_budget = data["flash_budget"]
        self.ram_budget = data["ram_budget"]
        self.reserved = tuple(data["reserved"])
        self.tick_timer = data["tick_timer"]
        self.timers_16bit = tuple(data["timers_16bit"])
        # name -> (port letter, bit, ADC channel or None), in the file's order
        self.pins = {n: (p["port"], p["bit"], p.get("adc")) for n, p in data["pins"].items()}
        # name -> (timer, output 0 = A, 1 = B)
        self.pwm = {n: (p["timer"], "AB".index(p["output"])) for n, p in data["pwm"].items()}
        self.ints = dict(data["interrupts"])

    def pin_names(self):
        """The pins as a user reads them: "D0..D13, A0..A5"."""
        digital = [n for n in self.pins if n.startswith("D")]
        analog = [n for n in self.pins if n.startswith("A")]
        return "%s..%s, %s..%s" % (digital[0], digital[-1], analog[0], analog[-1])


def load_boards(folder=BOARDS_DIR):
    """Every board data file in `folder`, by board name."""
    boards = {}
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".yaml"):
            continue
        with open(os.path.join(folder, f), encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        missing = [k for k in BOARD_KEYS if k not in data]
        if missing or data["board"] + ".yaml" != f:
            raise SystemExit("robotgen.py: %s: a board file needs %s and its file named after "
                             "'board'" % (f, ", ".join(BOARD_KEYS)))
        boards[data["board"]] = Board(data)
    return boards


BOARDS = load_boards()
PORT_INDEX = {p: i for i, p in enumerate("ABCDEFGHJKL")}
TIMER_NONE, TIMER_MOTOR, TIMER_SERVO = 0, 1, 2

SENSOR_KINDS = ("analog", "digital", "encoder", "ultrasonic", "reflectance")
ACTUATOR_KINDS = ("motor", "servo", "output")
# What the simulator makes of an analog sensor (geometry `model`): a Sharp GP2Y0A21-style infrared
# range sensor or a photoresistor divider; the firmware reads both alike.
SIMULATED_MODELS = ("ir_range", "light")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
ROBOT_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class DescriptionError(Exception):
    """The description's errors, each (line, message) with 1-based lines."""

    def __init__(self, path, errors):
        self.path = path
        self.errors = sorted(errors, key=lambda e: e[0])
        super().__init__("\n".join(self.lines()))

    def lines(self):
        return ["%s:%d: %s" % (self.path, line, message) for line, message in self.errors]


# --- YAML with line numbers -----------------------------------------------------------------
class Node:
    """A YAML value with the line it starts on (1-based)."""

    def __init__(self, value, line, key_lines=None):
        self.value = value
        self.line = line
        self.key_lines = key_lines or {}


def _to_node(n, errors, constructor):
    line = n.start_mark.line + 1
    if isinstance(n, yaml.MappingNode):
        out, key_lines = {}, {}
        for k, v in n.value:
            key = constructor.construct_object(k) if isinstance(k, yaml.ScalarNode) else None
            kline = k.start_mark.line + 1
            if not isinstance(key, str):
                errors.append((kline, "a key must be a word, got %r" % (key,)))
                continue
            if key in out:
                errors.append((kline, "key '%s' given twice (first on line %d): keep one"
                               % (key, key_lines[key])))
                continue
            out[key] = _to_node(v, errors, constructor)
            key_lines[key] = kline
        return Node(out, line, key_lines)
    if isinstance(n, yaml.SequenceNode):
        return Node([_to_node(v, errors, constructor) for v in n.value], line)
    return Node(constructor.construct_object(n), line)


def load(text, path):
    errors = []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(e, "problem", None) or str(e)
        raise DescriptionError(path, [(line, "not valid YAML: %s" % problem)])
    if root is None:
        raise DescriptionError(path, [(1, "the file is empty: start with 'robot:', 'board:', "
                                          "'board_name:', 'sensors:' and 'actuators:'")])
    constructor = yaml.constructor.SafeConstructor()
    node = _to_node(root, errors, constructor)
    if errors:
        raise DescriptionError(path, errors)
    return node


# --- checking -------------------------------------------------------------------------------
class Checker:
    def __init__(self, path):
        self.path = path
        self.errors = []

    def error(self, line, message):
        self.errors.append((line, message))

    def mapping(self, node, what, required, optional):
        """The keys of a mapping node, refusing unknown ones and reporting missing ones."""
        if not isinstance(node.value, dict):
            self.error(node.line, "%s must be a mapping of keys to values" % what)
            return None
        allowed = list(required) + list(optional)
        for key, line in node.key_lines.items():
            if key not in allowed:
                self.error(line, "unknown key '%s' in %s: the keys are %s"
                           % (key, what, ", ".join(allowed)))
        for key in required:
            if key not in node.value:
                self.error(node.line, "%s needs '%s'" % (what, key))
        return node.value

    def integer(self, m, key, what, lo, hi, unit, default=None):
        n = m.get(key)
        if n is None:
            return default
        v = n.value
        if isinstance(v, bool) or not isinstance(v, int):
            self.error(n.line, "%s '%s' must be a whole number of %s, got %r" % (what, key, unit, v))
            return default
        if not lo <= v <= hi:
            self.error(n.line, "%s '%s' is %d %s: use %d..%d" % (what, key, v, unit, lo, hi))
            return default
        return v

    def number(self, m, key, what, lo, hi, unit):
        n = m.get(key)
        if n is None:
            return None
        v = n.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.error(n.line, "%s '%s' must be a number of %s, got %r" % (what, key, unit, v))
            return None
        if not lo <= v <= hi:
            self.error(n.line, "%s '%s' is %s %s: use %s..%s" % (what, key, v, unit, lo, hi))
            return None
        return v

    def choice(self, m, key, what, choices, default=None):
        n = m.get(key)
        if n is None:
            return default
        if n.value not in choices:
            self.error(n.line, "%s '%s' is %r: use one of %s"
                       % (what, key, n.value, ", ".join(str(c) for c in choices)))
            return default
        return n.value

    def boolean(self, m, key, what, default):
        n = m.get(key)
        if n is None:
            return default
        if not isinstance(n.value, bool):
            self.error(n.line, "%s '%s' must be true or false, got %r" % (what, key, n.value))
            return default
        return n.value


def _kind_unit(kind):
    """The description's unit of each kind (what the user writes) and its wire form (version 2;
    the firmware sends a version-1 peer unit none for millimetre, Docs/PROTOCOL.md)."""
    return {
        "analog": ("mV", "analog", "millivolt"),
        "reflectance": ("mV", "analog", "millivolt"),
        "digital": ("none", "digital", "none"),
        "encoder": ("tick", "encoder", "tick"),
        # a ranger goes on the wire as analog, unit millimetre, 0..max_mm (Docs/ROBOTS.md)
        "ultrasonic": ("mm", "analog", "millimetre"),
        "motor": ("per_mille", "motor", "per_mille"),
        "servo": ("degree", "servo", "degree"),
        "output": ("none", "digital", "none"),
    }[kind]


class Robot:
    """A checked description: what the generator writes out."""

    def __init__(self):
        self.sensors = []    # dicts: name kind unit min max safe + pins
        self.actuators = []
        self.timer_roles = {}


def check(node, path):
    """Checks a loaded description; returns a Robot or raises DescriptionError."""
    c = Checker(path)
    r = Robot()
    top = c.mapping(node, "the description",
                    ("robot", "board", "board_name", "sensors", "actuators"),
                    ("about", "limits", "geometry"))
    if top is None:
        raise DescriptionError(path, c.errors)

    rn = top.get("robot")
    r.name = rn.value if rn is not None else "robot"
    if rn is not None and (not isinstance(rn.value, str) or not ROBOT_RE.match(rn.value)):
        c.error(rn.line, "robot %r: use 1..32 lower-case letters, digits and '-', starting with a "
                         "letter" % (rn.value,))
    board = c.choice(top, "board", "the description", tuple(BOARDS), None)
    r.board = board
    bn = top.get("board_name")
    r.board_name = "board"
    if bn is not None:
        v = bn.value
        if not isinstance(v, str) or not 1 <= len(v) <= BOARD_NAME_MAX or \
                any(not 0x21 <= ord(ch) <= 0x7E for ch in v):
            c.error(bn.line, "board_name %r: use 1..16 printable ASCII characters without spaces "
                             "(DEVICE_INFO carries it)" % (v,))
        else:
            r.board_name = v

    pins = pwm = ints = {}
    b = BOARDS.get(board)
    if b:
        pins, pwm, ints = b.pins, b.pwm, b.ints
    used = {}  # pin name -> (line, what)

    def pin(m, key, what, need=None):
        """A pin of the board, reserved for `what`; need: 'adc', 'pwm', 'int' or None. A missing
        required pin is reported by mapping()."""
        n = m.get(key)
        if n is None or not board:
            return None
        v = n.value
        if not isinstance(v, str) or v not in pins:
            c.error(n.line, "%s '%s' is %r: the %s has pins %s" % (what, key, v, board,
                                                                   b.pin_names()))
            return None
        if v in b.reserved:
            c.error(n.line, "%s '%s' is %s, the serial port the protocol runs on: use another pin"
                    % (what, key, v))
            return None
        if need == "adc" and pins[v][2] is None:
            adcs = ", ".join(p for p in pins if pins[p][2] is not None)
            c.error(n.line, "%s '%s' is %s, which has no analog input: use one of %s"
                    % (what, key, v, adcs))
            return None
        free_pwm = ", ".join(p for p in pwm if pwm[p][0] != b.tick_timer)
        if need == "pwm" and v not in pwm:
            c.error(n.line, "%s '%s' is %s, which has no PWM output: use one of %s"
                    % (what, key, v, free_pwm))
            return None
        if need == "pwm" and pwm[v][0] == b.tick_timer:
            c.error(n.line, "%s '%s' is %s, whose timer (Timer%d) is the firmware's millisecond "
                            "tick: use one of %s" % (what, key, v, b.tick_timer, free_pwm))
            return None
        if need == "int" and v not in ints:
            c.error(n.line, "%s '%s' is %s, which has no external interrupt: use one of %s"
                    % (what, key, v, ", ".join(ints)))
            return None
        if v in used:
            c.error(n.line, "%s '%s' is %s, already used by %s on line %d: give each function "
                            "its own pin" % (what, key, v, used[v][1], used[v][0]))
            return None
        used[v] = (n.line, what)
        return v

    def timer(v, role, line, what):
        t = pwm[v][0]
        role_name = {TIMER_MOTOR: "motor PWM at 976 Hz", TIMER_SERVO: "servo pulses at 50 Hz"}
        if t not in b.timers_16bit and role == TIMER_SERVO:
            c.error(line, "%s is on Timer%d, which cannot make 50 Hz servo pulses: use a pin of a "
                          "16-bit timer (%s)" % (what, t, ", ".join(p for p in pwm if pwm[p][0] in
                                                                    b.timers_16bit)))
            return
        if t in r.timer_roles and r.timer_roles[t][0] != role:
            c.error(line, "%s needs Timer%d for %s, but line %d uses it for %s: put them on pins "
                          "of different timers" % (what, t, role_name[role], r.timer_roles[t][1],
                                                   role_name[r.timer_roles[t][0]]))
            return
        r.timer_roles.setdefault(t, (role, line))

    # sensors and actuators -----------------------------------------------------------------
    names = {}
    deferred = []  # checks that need every channel (encoder direction_from, geometry mount)

    def channel_name(m, what, line):
        n = m.get("name")
        if n is None:
            return None
        v = n.value
        if not isinstance(v, str) or not NAME_RE.match(v):
            c.error(n.line, "%s name %r: use 1..24 lower-case letters, digits and '_', starting "
                            "with a letter" % (what, v))
            return None
        if v in names:
            c.error(n.line, "channel name '%s' is already used on line %d: names are unique"
                    % (v, names[v]))
            return None
        names[v] = n.line
        return v

    def unit_check(m, kind, what):
        n = m.get("unit")
        want = _kind_unit(kind)[0]
        if n is not None and n.value != want:
            c.error(n.line, "%s unit is %r, but a %s channel reads in %s: write 'unit: %s' or "
                            "leave it out" % (what, n.value, kind, want, want))

    def geometry(m, what):
        g = m.get("geometry")
        if g is None:
            return
        gm = c.mapping(g, "%s geometry" % what, (), ("x_mm", "y_mm", "z_mm", "heading_deg",
                                                     "fov_deg", "mount", "model", "spacing_mm",
                                                     "ticks_per_rev"))
        if gm is None:
            return
        for k in ("x_mm", "y_mm", "z_mm"):
            c.number(gm, k, "%s geometry" % what, -2000, 2000, "mm")
        c.number(gm, "heading_deg", "%s geometry" % what, -180, 180, "degrees")
        c.number(gm, "fov_deg", "%s geometry" % what, 0, 360, "degrees")
        c.number(gm, "spacing_mm", "%s geometry" % what, 1, 100, "mm")
        c.number(gm, "ticks_per_rev", "%s geometry" % what, 1, 10000, "ticks")
        if "model" in gm:
            c.choice(gm, "model", "%s geometry" % what, SIMULATED_MODELS, None)
        if "mount" in gm:
            deferred.append(("mount", gm["mount"], what))

    sensors_node = top.get("sensors")
    if sensors_node is not None and not isinstance(sensors_node.value, list):
        c.error(sensors_node.line, "'sensors' must be a list of channels (lines starting '- ')")
    elif sensors_node is not None:
        for item in sensors_node.value:
            kn = item.value.get("kind") if isinstance(item.value, dict) else None
            kind = kn.value if kn is not None else None
            what = "sensor on line %d" % item.line
            common = ("name", "kind", "unit", "geometry")
            if kind not in SENSOR_KINDS:
                if isinstance(item.value, dict) and kn is None:
                    c.error(item.line, "%s needs 'kind': one of %s" % (what, ", ".join(SENSOR_KINDS)))
                elif isinstance(item.value, dict):
                    c.error(kn.line, "%s kind %r: use one of %s (actuators go under 'actuators')"
                            % (what, kind, ", ".join(SENSOR_KINDS)))
                else:
                    c.error(item.line, "each sensor must be a mapping with 'name' and 'kind'")
                continue
            extra = dict(analog=(("pin",), ("min", "max")),
                         digital=(("pin",), ("pull_up", "active")),
                         encoder=(("mode", "pin_a"), ("pin_b", "direction_from")),
                         ultrasonic=(("trigger", "echo"), ("max_mm", "timeout_us")),
                         reflectance=(("pins",), ()))[kind]
            m = c.mapping(item, "%s (%s)" % (what, kind), common[:2] + extra[0],
                          common[2:] + extra[1])
            if m is None:
                continue
            name = channel_name(m, "sensor", item.line)
            label = "sensor '%s'" % name if name else what
            unit_check(m, kind, label)
            geometry(m, label)
            s = dict(name=name, kind=kind, line=item.line)
            if kind == "analog":
                s["adc_pin"] = pin(m, "pin", label, "adc")
                s["min"] = c.integer(m, "min", label, 0, 5000, "mV", 0)
                s["max"] = c.integer(m, "max", label, 0, 5000, "mV", 5000)
                if s["min"] is not None and s["max"] is not None and s["min"] >= s["max"]:
                    c.error(m["max"].line if "max" in m else item.line,
                            "%s: 'min' (%d mV) must be below 'max' (%d mV)" % (label, s["min"], s["max"]))
                r.sensors.append(s)
            elif kind == "reflectance":
                pn = m.get("pins")
                if pn is not None and (not isinstance(pn.value, list) or not 1 <= len(pn.value) <= 16):
                    c.error(pn.line, "%s 'pins' must be a list of 1..16 analog pins, e.g. "
                                     "[A0, A1, A2]" % label)
                elif pn is not None:
                    for k, p in enumerate(pn.value):
                        sub = dict(name="%s_%d" % (name, k) if name else None, kind="reflectance",
                                   line=p.line, min=0, max=5000)
                        sub["adc_pin"] = pin({"pin": p}, "pin", "%s pins[%d]" % (label, k), "adc")
                        if sub["name"]:
                            if sub["name"] in names:
                                c.error(p.line, "channel name '%s' (from %s) is already used on "
                                                "line %d" % (sub["name"], label, names[sub["name"]]))
                            names[sub["name"]] = p.line
                        r.sensors.append(sub)
            elif kind == "digital":
                s["pin"] = pin(m, "pin", label)
                s["pull_up"] = c.boolean(m, "pull_up", label, False)
                s["active_low"] = c.choice(m, "active", label, ("high", "low"), "high") == "low"
                s["min"], s["max"] = 0, 1
                r.sensors.append(s)
            elif kind == "encoder":
                mode = c.choice(m, "mode", label, ("single", "quadrature"), None)
                s["mode"] = mode
                s["pin_a"] = pin(m, "pin_a", label, "int")
                if mode == "quadrature":
                    if "pin_b" not in m:
                        c.error(item.line, "%s is quadrature: it needs 'pin_b' (the second "
                                           "channel, any free pin)" % label)
                    else:
                        s["pin_b"] = pin(m, "pin_b", label)
                    if "direction_from" in m:
                        c.error(m["direction_from"].line, "%s is quadrature: it reads its "
                                "direction from pin_b, remove 'direction_from'" % label)
                elif mode == "single":
                    if "pin_b" in m:
                        c.error(m["pin_b"].line, "%s is single-channel: remove 'pin_b', or "
                                "write 'mode: quadrature'" % label)
                    if "direction_from" not in m:
                        c.error(item.line, "%s is single-channel: it needs 'direction_from', the "
                                           "motor whose command sign gives the direction" % label)
                    else:
                        deferred.append(("direction", m["direction_from"], s))
                s["min"], s["max"] = -32768, 32767
                r.sensors.append(s)
            elif kind == "ultrasonic":
                s["trigger"] = pin(m, "trigger", label)
                s["echo"] = pin(m, "echo", label, "int")
                s["max"] = c.integer(m, "max_mm", label, 20, 4000, "mm", 4000)
                s["min"] = 0
                s["timeout_us"] = c.integer(m, "timeout_us", label, 1000, 30000, "µs", 25000)
                if s["max"] is not None and s["timeout_us"] is not None:
                    need = int(math.ceil(s["max"] * US_PER_MM))
                    if s["timeout_us"] < need:
                        c.error(m["timeout_us"].line, "%s: an echo from max_mm %d mm takes %d µs, "
                                "longer than timeout_us %d: raise timeout_us to at least %d or "
                                "lower max_mm" % (label, s["max"], need, s["timeout_us"], need))
                r.sensors.append(s)

    actuators_node = top.get("actuators")
    motor_index = {}
    if actuators_node is not None and not isinstance(actuators_node.value, list):
        c.error(actuators_node.line, "'actuators' must be a list of channels (lines starting '- ')")
    elif actuators_node is not None:
        for item in actuators_node.value:
            kn = item.value.get("kind") if isinstance(item.value, dict) else None
            kind = kn.value if kn is not None else None
            what = "actuator on line %d" % item.line
            if kind not in ACTUATOR_KINDS:
                if isinstance(item.value, dict) and kn is None:
                    c.error(item.line, "%s needs 'kind': one of %s" % (what, ", ".join(ACTUATOR_KINDS)))
                elif isinstance(item.value, dict):
                    c.error(kn.line, "%s kind %r: use one of %s (sensors go under 'sensors')"
                            % (what, kind, ", ".join(ACTUATOR_KINDS)))
                else:
                    c.error(item.line, "each actuator must be a mapping with 'name' and 'kind'")
                continue
            extra = dict(motor=(("pwm", "in1", "in2"), ("driver", "safe")),
                         servo=(("pin",), ("min", "max", "safe", "pulse_min_us", "pulse_max_us")),
                         output=(("pin",), ("active", "safe")))[kind]
            m = c.mapping(item, "%s (%s)" % (what, kind), ("name", "kind") + extra[0],
                          ("unit", "geometry") + extra[1])
            if m is None:
                continue
            name = channel_name(m, "actuator", item.line)
            label = "actuator '%s'" % name if name else what
            unit_check(m, kind, label)
            geometry(m, label)
            a = dict(name=name, kind=kind, line=item.line)
            if kind == "motor":
                c.choice(m, "driver", label, ("tb6612", "l298n"), "tb6612")
                a["pwm"] = pin(m, "pwm", label, "pwm")
                if a["pwm"]:
                    timer(a["pwm"], TIMER_MOTOR, m["pwm"].line, "%s pwm %s" % (label, a["pwm"]))
                a["in1"] = pin(m, "in1", label)
                a["in2"] = pin(m, "in2", label)
                a["min"], a["max"] = -1000, 1000
                a["safe"] = c.integer(m, "safe", label, -1000, 1000, "‰", 0)
                if name:
                    motor_index[name] = len(r.actuators)
            elif kind == "servo":
                a["pin"] = pin(m, "pin", label, "pwm")
                if a["pin"]:
                    timer(a["pin"], TIMER_SERVO, m["pin"].line, "%s pin %s" % (label, a["pin"]))
                a["min"] = c.integer(m, "min", label, 0, 180, "degrees", 0)
                a["max"] = c.integer(m, "max", label, 0, 180, "degrees", 180)
                a["pulse_min_us"] = c.integer(m, "pulse_min_us", label, 500, 2500, "µs", 1000)
                a["pulse_max_us"] = c.integer(m, "pulse_max_us", label, 500, 2500, "µs", 2000)
                if None not in (a["min"], a["max"]) and a["min"] >= a["max"]:
                    c.error(item.line, "%s: 'min' (%d°) must be below 'max' (%d°)" % (label, a["min"], a["max"]))
                if None not in (a["pulse_min_us"], a["pulse_max_us"]) and \
                        a["pulse_min_us"] >= a["pulse_max_us"]:
                    c.error(item.line, "%s: 'pulse_min_us' must be below 'pulse_max_us'" % label)
                lo = a["min"] if a["min"] is not None else 0
                hi = a["max"] if a["max"] is not None else 180
                a["safe"] = c.integer(m, "safe", label, lo, hi, "degrees", (lo + hi) // 2)
            elif kind == "output":
                a["pin"] = pin(m, "pin", label)
                a["active_low"] = c.choice(m, "active", label, ("high", "low"), "high") == "low"
                a["min"], a["max"] = 0, 1
                a["safe"] = c.integer(m, "safe", label, 0, 1, "(0 off, 1 on)", 0)
            r.actuators.append(a)

    for what, n, target in deferred:
        if what == "direction":
            if n.value not in motor_index:
                c.error(n.line, "direction_from %r is not a motor of this robot: name one of %s"
                        % (n.value, ", ".join(motor_index) or "(no motors)"))
            else:
                target["direction_motor"] = motor_index[n.value]
        elif what == "mount":
            servos = [a["name"] for a in r.actuators if a["kind"] == "servo"]
            if n.value not in servos:
                c.error(n.line, "%s geometry mount %r is not a servo of this robot: name one of "
                                "%s, or leave 'mount' out" % (target, n.value,
                                                              ", ".join(servos) or "(no servos)"))

    # counts and limits ---------------------------------------------------------------------
    ns, na = len(r.sensors), len(r.actuators)
    if sensors_node is not None and isinstance(sensors_node.value, list):
        if ns == 0 and not c.errors:
            c.error(sensors_node.line, "no sensors: the protocol needs at least one")
        if ns > CHANNELS_MAX:
            c.error(sensors_node.line, "%d sensor channels: the protocol carries at most %d; "
                                       "remove %d" % (ns, CHANNELS_MAX, ns - CHANNELS_MAX))
    if actuators_node is not None and isinstance(actuators_node.value, list):
        if na == 0 and not c.errors:
            c.error(actuators_node.line, "no actuators: the protocol needs at least one")
        if na > CHANNELS_MAX:
            c.error(actuators_node.line, "%d actuator channels: the protocol carries at most %d; "
                                         "remove %d" % (na, CHANNELS_MAX, na - CHANNELS_MAX))
    body = 22 + len(r.board_name) + 8 * (ns + na)
    if ns <= CHANNELS_MAX and na <= CHANNELS_MAX and body > DEVICE_INFO_BODY_MAX:
        c.error(sensors_node.line if sensors_node else 1,
                "DEVICE_INFO would be %d bytes (22 + %d board name + 8 x %d channels), more than "
                "the %d the protocol carries: remove %d channels or shorten board_name"
                % (body, len(r.board_name), ns + na, DEVICE_INFO_BODY_MAX,
                   int(math.ceil((body - DEVICE_INFO_BODY_MAX) / 8.0))))

    # the shortest period: the SENSORS stream's share of the line, and one ping of each ranger
    frame = 3 + 6 + 2 * max(ns, 1) + 2 + 2
    stream_ms = int(math.ceil(frame * BYTE_US / LINE_SHARE / 1000.0 - 1e-9))
    rangers = [s for s in r.sensors if s["kind"] == "ultrasonic"]
    ping_ms = sum(int(math.ceil((s["timeout_us"] or 0) / 1000.0)) + RANGER_GAP_MS for s in rangers)
    needed = max(stream_ms, ping_ms, 1)
    limits = top.get("limits")
    r.period_min_ms = needed
    r.failsafe = (FAILSAFE_MIN_MS, FAILSAFE_MAX_MS)
    if limits is not None:
        lm = c.mapping(limits, "limits", (), ("period_min_ms", "failsafe_min_ms", "failsafe_max_ms"))
        if lm is not None:
            p = c.integer(lm, "period_min_ms", "limits", 1, PERIOD_MAX_MS, "ms", None)
            if p is not None and p < needed:
                why = []
                if stream_ms == needed:
                    why.append("a SENSORS frame of %d sensors (%d bytes) takes %.2f ms at 115200 baud, "
                               "at most %d %% of the line" % (ns, frame, frame * BYTE_US / 1000,
                                                              LINE_SHARE * 100))
                if ping_ms == needed:
                    why.append("%s takes up to %d ms per ping (timeout_us plus %d ms)"
                               % (" and ".join("'%s'" % s["name"] for s in rangers), ping_ms,
                                  RANGER_GAP_MS))
                c.error(lm["period_min_ms"].line, "limits period_min_ms %d ms is shorter than "
                        "the channels can keep: %s; use period_min_ms: %d or more"
                        % (p, "; ".join(why), needed))
            elif p is not None:
                r.period_min_ms = p
            fmin = c.integer(lm, "failsafe_min_ms", "limits", FAILSAFE_MIN_MS, FAILSAFE_MAX_MS,
                             "ms", FAILSAFE_MIN_MS)
            fmax = c.integer(lm, "failsafe_max_ms", "limits", FAILSAFE_MIN_MS, FAILSAFE_MAX_MS,
                             "ms", FAILSAFE_MAX_MS)
            if fmin is not None and fmax is not None:
                if fmin > fmax:
                    c.error(lm["failsafe_max_ms"].line if "failsafe_max_ms" in lm else limits.line,
                            "limits failsafe_min_ms %d is above failsafe_max_ms %d: swap them"
                            % (fmin, fmax))
                r.failsafe = (fmin, fmax)

    g = top.get("geometry")
    if g is not None:
        gm = c.mapping(g, "geometry", (), ("wheel_base_mm", "wheel_radius_mm", "body_length_mm",
                                           "body_width_mm"))
        if gm is not None:
            for k in gm:
                c.number(gm, k, "geometry", 1, 2000, "mm")

    if c.errors:
        raise DescriptionError(path, c.errors)
    r.pins, r.pwm, r.ints = pins, pwm, ints
    r.board_info = b
    return r


def load_and_check(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise FileNotFoundError("%s: cannot read the description: %s" % (path, e.strerror))
    return check(load(text, path), path)


# --- generating C ---------------------------------------------------------------------------
HEADER = "/* Generated by Firmware/tools/robotgen.py from %s: do not edit. */\n"


def _c_ident(name):
    return name.upper()


def _pin_byte(r, name):
    """A pin as one byte: port index (A=0 .. L=10, no I) x 8 + bit; NX_NO_PIN for none."""
    if name is None:
        return "NX_NO_PIN"
    port, bit = r.pins[name][0], r.pins[name][1]
    return "NX_PIN(%d, %d)" % (PORT_INDEX[port], bit)


def generate(r, source, outdir):
    files = {}
    src = os.path.relpath(source, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if src.startswith(".."):
        src = os.path.basename(source)
    head = HEADER % src

    # nx_robot_config.h -------------------------------------------------------------------------
    lines = [head, "#ifndef NX_ROBOT_CONFIG_H", "#define NX_ROBOT_CONFIG_H", "",
             "/** The robot's name in its description. */",
             '#define NX_ROBOT_NAME "%s"' % r.name,
             "/** DEVICE_INFO board name of the AVR build. */",
             '#define NX_ROBOT_BOARD_NAME "%s"' % r.board_name,
             "/** Shortest sampling period the board keeps with these channels, ms. */",
             "#define NX_ROBOT_PERIOD_MIN_MS %du" % r.period_min_ms,
             "/** Failsafe timeout bounds, ms. */",
             "#define NX_ROBOT_FAILSAFE_MIN_MS %du" % r.failsafe[0],
             "#define NX_ROBOT_FAILSAFE_MAX_MS %du" % r.failsafe[1], "",
             "#define NX_SENSOR_COUNT %d" % len(r.sensors),
             "#define NX_ACTUATOR_COUNT %d" % len(r.actuators), "",
             "/* channel indices, in DEVICE_INFO order */"]
    for i, s in enumerate(r.sensors):
        lines.append("#define NX_SENSOR_%s %d" % (_c_ident(s["name"]), i))
    for i, a in enumerate(r.actuators):
        lines.append("#define NX_ACTUATOR_%s %d" % (_c_ident(a["name"]), i))
    lines += ["", "#endif", ""]
    files["nx_robot_config.h"] = "\n".join(lines)

    # nx_robot_table.c --------------------------------------------------------------------------
    def row(ch, sensor):
        _, kind, unit = _kind_unit(ch["kind"])
        safe = 0 if sensor else ch["safe"]
        return "    {NX_KIND_%s, NX_UNIT_%s, %d, %d, %d}, /* %s (%s) */" % (
            kind.upper(), {"none": "NONE", "millivolt": "MILLIVOLT", "tick": "TICK",
                           "per_mille": "PER_MILLE", "degree": "DEGREE", "millimetre": "MILLIMETRE"}[unit],
            ch["min"], ch["max"], safe, ch["name"], ch["kind"])

    lines = [head, '#include "nx_robot.h"', "",
             "const nx_channel nx_sensor_channels[NX_SENSOR_COUNT] = {"]
    lines += [row(s, True) for s in r.sensors]
    lines += ["};", "", "const nx_channel nx_actuator_channels[NX_ACTUATOR_COUNT] = {"]
    lines += [row(a, False) for a in r.actuators]
    lines += ["};", ""]
    files["nx_robot_table.c"] = "\n".join(lines)

    # nx_robot_names.c: the names, for CHANNEL_INFO: one string kept where the port's nx_flash.h
    # says (flash on the AVR, so the names take no RAM) -----------------------------------------
    names = [c["name"] for c in r.sensors + r.actuators]
    offsets, at = [], 0
    for n in names:
        offsets.append(at)
        at += len(n)
    offsets.append(at)
    lines = [head, '#include "nx_flash.h"', '#include "nx_robot.h"', "",
             "/* every channel's name, sensors then actuators, one after the other */",
             "static const char nx_names[] NX_FLASH =",
             "    " + "\n    ".join('"%s"' % n for n in names) + ";",
             "/* where name k starts in nx_names; entry k + 1 is where it ends */",
             "static const uint16_t nx_name_starts[NX_SENSOR_COUNT + NX_ACTUATOR_COUNT + 1] NX_FLASH = {",
             "    " + ", ".join("%du" % o for o in offsets) + "};", "",
             "uint8_t nx_channel_name(uint8_t group, uint8_t index, uint8_t *out)",
             "{",
             "    uint8_t k = (uint8_t)(group == NX_GROUP_SENSOR ? index : NX_SENSOR_COUNT + index);",
             "    uint16_t from = NX_FLASH_WORD(&nx_name_starts[k]), to = NX_FLASH_WORD(&nx_name_starts[k + 1]);",
             "    for (uint16_t i = from; i < to; i++) {",
             "        out[i - from] = (uint8_t)NX_FLASH_BYTE(&nx_names[i]);",
             "    }",
             "    return (uint8_t)(to - from);",
             "}", ""]
    files["nx_robot_names.c"] = "\n".join(lines)

    # nx_robot_pins.c ---------------------------------------------------------------------------
    P = lambda name: _pin_byte(r, name)
    lines = [head, '#include "nx_pins.h"', "",
             "const nx_sensor_pins nx_sensor_pin_table[NX_SENSOR_COUNT] = {"]
    for s in r.sensors:
        k = s["kind"]
        if k in ("analog", "reflectance"):
            adc = r.pins[s["adc_pin"]][2]
            fields = (".drive = NX_DRIVE_ANALOG, .pin = %s, .pin2 = NX_NO_PIN, .channel = %d"
                      % (P(s["adc_pin"]), adc), "%s: %s (ADC%d)" % (s["name"], s["adc_pin"], adc))
        elif k == "digital":
            flags = " | ".join(f for f, on in (("NX_FLAG_PULL_UP", s["pull_up"]),
                                               ("NX_FLAG_ACTIVE_LOW", s["active_low"])) if on) or "0"
            fields = (".drive = NX_DRIVE_DIGITAL, .pin = %s, .pin2 = NX_NO_PIN, .flags = %s"
                      % (P(s["pin"]), flags), "%s: %s" % (s["name"], s["pin"]))
        elif k == "encoder":
            quad = s["mode"] == "quadrature"
            fields = (".drive = NX_DRIVE_ENCODER, .pin = %s, .pin2 = %s, .flags = %s, .channel = %d, "
                      ".motor = %s" % (P(s["pin_a"]), P(s.get("pin_b")),
                                       "NX_FLAG_QUADRATURE" if quad else "0", r.ints[s["pin_a"]],
                                       "NX_NO_ACTUATOR" if quad else "%du" % s["direction_motor"]),
                      "%s: %s (INT%d)%s" % (s["name"], s["pin_a"], r.ints[s["pin_a"]],
                                            (", B " + s["pin_b"]) if quad else
                                            ", direction from actuator %d" % s["direction_motor"]))
        else:  # ultrasonic
            fields = (".drive = NX_DRIVE_ULTRASONIC, .pin = %s, .pin2 = %s, .channel = %d, "
                      ".timeout_us = %du, .max = %d" % (P(s["echo"]), P(s["trigger"]), r.ints[s["echo"]],
                                                     s["timeout_us"], s["max"]),
                      "%s: echo %s (INT%d), trigger %s" % (s["name"], s["echo"], r.ints[s["echo"]],
                                                          s["trigger"]))
        if k != "encoder" or s["mode"] == "quadrature":
            fields = (fields[0] + ("" if ".motor" in fields[0] else ", .motor = NX_NO_ACTUATOR"),
                      fields[1])
        lines.append("    {%s}, /* %s */" % fields)
    lines += ["};", "", "const nx_actuator_pins nx_actuator_pin_table[NX_ACTUATOR_COUNT] = {"]
    for a in r.actuators:
        k = a["kind"]
        if k == "motor":
            t, ch = r.pwm[a["pwm"]]
            fields = (".drive = NX_DRIVE_MOTOR, .pin = %s, .in1 = %s, .in2 = %s, .pwm = NX_PWM(%d, %d)"
                      % (P(a["pwm"]), P(a["in1"]), P(a["in2"]), t, ch),
                      "%s: PWM %s (OC%d%s), IN1 %s, IN2 %s" % (a["name"], a["pwm"], t, "ABC"[ch],
                                                              a["in1"], a["in2"]))
        elif k == "servo":
            t, ch = r.pwm[a["pin"]]
            fields = (".drive = NX_DRIVE_SERVO, .pin = %s, .in1 = NX_NO_PIN, .in2 = NX_NO_PIN, "
                      ".pwm = NX_PWM(%d, %d), .lo = %d, .hi = %d, .pulse_min_us = %du, "
                      ".pulse_max_us = %du" % (P(a["pin"]), t, ch, a["min"], a["max"],
                                               a["pulse_min_us"], a["pulse_max_us"]),
                      "%s: %s (OC%d%s)" % (a["name"], a["pin"], t, "ABC"[ch]))
        else:  # output
            fields = (".drive = NX_DRIVE_OUTPUT, .pin = %s, .in1 = NX_NO_PIN, .in2 = NX_NO_PIN, "
                      ".pwm = NX_NO_PWM, .flags = %s" % (P(a["pin"]), "NX_FLAG_ACTIVE_LOW"
                                                         if a["active_low"] else "0"),
                      "%s: %s" % (a["name"], a["pin"]))
        lines.append("    {%s}, /* %s */" % fields)
    lines += ["};", ""]
    roles = ["NX_TIMER_UNUSED"] * 6
    names = {TIMER_MOTOR: "NX_TIMER_MOTOR", TIMER_SERVO: "NX_TIMER_SERVO"}
    for t, (role, _) in r.timer_roles.items():
        roles[t] = names[role]
    lines += ["/** What each timer (0..5) does; Timer2 is the millisecond tick. */",
              "const uint8_t nx_timer_roles[NX_TIMERS] = {%s};" % ", ".join(roles), ""]
    lines += ["/** The quiet time after each ping before the next ranger fires, ms. */",
              "const uint8_t nx_ranger_gap_ms = %du;" % RANGER_GAP_MS, ""]
    files["nx_robot_pins.c"] = "\n".join(lines)

    # nx_board_map.c: the board's pins, for the harness -------------------------------------------
    lines = [head, '#include "nx_pins.h"', "",
             '/** The emulated board: simavr\'s model name and its pins. */',
             'const char nx_board_mcu[] = "%s";' % r.board, "",
             "const nx_board_pin nx_board_pins[] = {"]
    for name, (port, bit, adc) in r.pins.items():
        lines.append('    {"%s", \'%s\', %d, %d},' % (name, port, bit, -1 if adc is None else adc))
    lines += ["};", "const unsigned nx_board_pin_count = sizeof nx_board_pins / sizeof nx_board_pins[0];", ""]
    files["nx_board_map.c"] = "\n".join(lines)

    # robot.mk ----------------------------------------------------------------------------------
    files["robot.mk"] = "\n".join([
        "# Generated by Firmware/tools/robotgen.py from %s: do not edit." % src,
        "ROBOT_NAME := %s" % r.name,
        "ROBOT_MCU := %s" % r.board,
        "ROBOT_BOARD_NAME := %s" % r.board_name,
        "ROBOT_FLASH_LIMIT := %d" % r.board_info.flash_budget,
        "ROBOT_RAM_LIMIT := %d" % r.board_info.ram_budget, ""])

    os.makedirs(outdir, exist_ok=True)
    for name, text in files.items():
        write_atomically(os.path.join(outdir, name), text)
    return files


def write_atomically(path, text):
    """Writes `path` whole or not at all, and leaves it untouched when its text is the same (so
    make rebuilds only what changed)."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# --- a random valid description (for the end-to-end test of an arbitrary robot) ---------------
def random_description(seed):
    """A description with a random board and channel set that the checker accepts."""
    rnd = random.Random(seed)
    board = rnd.choice(sorted(BOARDS))
    b = BOARDS[board]
    pins, pwm, ints = b.pins, b.pwm, b.ints
    free = [p for p in pins if p not in b.reserved]
    rnd.shuffle(free)
    taken = set()

    def take(ok):
        for p in free:
            if p not in taken and ok(p):
                taken.add(p)
                return p
        return None

    # analog inputs on ADC0..ADC7 only: the emulator (simavr 1.6) has no ADC8..ADC15 (A8..A15)
    adc = lambda p: pins[p][2] is not None and pins[p][2] < 8
    digital = lambda p: pins[p][2] is None or board == "atmega2560"
    timer_roles = {}

    def pwm_pin(role):
        def ok(p):
            if p not in pwm or pwm[p][0] == b.tick_timer:
                return False
            t = pwm[p][0]
            if role == TIMER_SERVO and t not in b.timers_16bit:
                return False
            return timer_roles.get(t, role) == role
        p = take(ok)
        if p:
            timer_roles[pwm[p][0]] = role
        return p

    board_name = "rnd-%d" % (seed % 100000)
    acts, motors = [], []
    for i in range(rnd.randint(1, 3)):
        kind = rnd.choice(["motor", "servo", "output"])
        if kind == "motor":
            p = pwm_pin(TIMER_MOTOR)
            if p is None:
                kind = "output"
            else:
                acts.append("  - {name: motor_%d, kind: motor, pwm: %s, in1: %s, in2: %s}"
                            % (i, p, take(digital), take(digital)))
                motors.append("motor_%d" % i)
                continue
        if kind == "servo":
            p = pwm_pin(TIMER_SERVO)
            if p is None:
                kind = "output"
            else:
                acts.append("  - {name: servo_%d, kind: servo, pin: %s, safe: %d}"
                            % (i, p, rnd.randint(0, 180)))
                continue
        acts.append("  - {name: out_%d, kind: output, pin: %s, safe: %d}"
                    % (i, take(digital), rnd.randint(0, 1)))
    sens = []
    budget = (DEVICE_INFO_BODY_MAX - 22 - len(board_name)) // 8 - len(acts)
    count = rnd.randint(1, min(budget, 7))
    rangers = 0
    while len(sens) < count:
        kind = rnd.choice(["analog", "digital", "encoder", "ultrasonic", "reflectance"])
        i = len(sens)
        if kind == "analog":
            p = take(adc)
            if p is None:
                continue
            sens.append("  - {name: analog_%d, kind: analog, pin: %s}" % (i, p))
        elif kind == "digital":
            p = take(digital)
            if p is None:
                continue
            sens.append("  - {name: digital_%d, kind: digital, pin: %s, pull_up: %s, active: %s}"
                        % (i, p, rnd.choice(["true", "false"]), rnd.choice(["high", "low"])))
        elif kind == "encoder":
            a = take(lambda p: p in ints)
            if a is None:
                continue
            if motors and rnd.random() < 0.5:
                sens.append("  - {name: encoder_%d, kind: encoder, mode: single, pin_a: %s, "
                            "direction_from: %s}" % (i, a, rnd.choice(motors)))
            else:
                sens.append("  - {name: encoder_%d, kind: encoder, mode: quadrature, pin_a: %s, "
                            "pin_b: %s}" % (i, a, take(digital)))
        elif kind == "ultrasonic" and rangers == 0:
            e = take(lambda p: p in ints)
            if e is None:
                continue
            rangers += 1
            sens.append("  - {name: sonar_%d, kind: ultrasonic, trigger: %s, echo: %s, max_mm: 2000, "
                        "timeout_us: 12000}" % (i, take(digital), e))
        elif kind == "reflectance" and count - len(sens) >= 2:
            n = rnd.randint(2, count - len(sens))
            ps = [take(adc) for _ in range(n)]
            if None in ps:
                continue
            sens.append("  - {name: line_%d, kind: reflectance, pins: [%s]}" % (i, ", ".join(ps)))
            count -= n - 1
    return "\n".join(["# A random robot for the end-to-end test (seed %d)." % seed,
                      "robot: random-%d" % seed, "board: %s" % board,
                      "board_name: %s" % board_name, "sensors:"] + sens + ["actuators:"] + acts) + "\n"


def declared(r):
    """What the board declares in DEVICE_INFO and CHANNEL_INFO, as a dict (for `channels`)."""
    def channel(ch, sensor):
        _, kind, unit = _kind_unit(ch["kind"])
        return dict(name=ch["name"], kind=kind, unit=unit, min=ch["min"], max=ch["max"],
                    safe=0 if sensor else ch["safe"])
    return dict(robot=r.name, board=r.board, board_name=r.board_name,
                period_min_ms=r.period_min_ms, period_max_ms=PERIOD_MAX_MS,
                failsafe_min_ms=r.failsafe[0], failsafe_max_ms=r.failsafe[1],
                sensors=[channel(s, True) for s in r.sensors],
                actuators=[channel(a, False) for a in r.actuators])


def swift_boards():
    """The board facts as the Swift source the host's checker compiles in (BoardData.swift)."""
    lines = ["// Generated by Firmware/tools/robotgen.py swift-boards from Firmware/boards/*.yaml: "
             "do not edit.", "// Regenerate: python3 Firmware/tools/robotgen.py swift-boards "
             "Sources/NeuraxonChannels/BoardData.swift", "",
             "extension BoardFacts {",
             "    /// Every board, by name.",
             "    public static let all: [BoardFacts] = [%s]" % ", ".join(sorted(BOARDS)), ""]
    for name in sorted(BOARDS):
        b = BOARDS[name]
        lines += ["    /// %s." % b.title,
                  "    public static let %s = BoardFacts(" % name,
                  '        board: "%s", title: "%s", flashBudget: %d, ramBudget: %d,'
                  % (name, b.title, b.flash_budget, b.ram_budget),
                  "        reserved: [%s], tickTimer: %d, timers16Bit: [%s],"
                  % (", ".join('"%s"' % p for p in b.reserved), b.tick_timer,
                     ", ".join(str(t) for t in b.timers_16bit)),
                  "        pins: ["]
        for pin, (port, bit, adc) in b.pins.items():
            lines.append('            .init(name: "%s", port: "%s", bit: %d%s),'
                         % (pin, port, bit, "" if adc is None else ", adc: %d" % adc))
        lines.append("        ],")
        lines.append("        pwm: [")
        for pin, (t, o) in b.pwm.items():
            lines.append('            .init(pin: "%s", timer: %d, output: %d),' % (pin, t, o))
        lines.append("        ],")
        lines.append("        interrupts: [")
        for pin, n in b.ints.items():
            lines.append('            .init(pin: "%s", number: %d),' % (pin, n))
        lines += ["        ]", "    )", ""]
    lines[-1:] = ["}", ""]
    return "\n".join(lines)


def load_or_report(path):
    """The checked description at `path`, or the exit status after reporting why there is none
    (66: no such file, 65: the description is wrong, each error with its line)."""
    try:
        return load_and_check(path), 0
    except FileNotFoundError as e:
        sys.stderr.write("robotgen.py: %s\n" % e)
        return None, 66
    except DescriptionError as e:
        for line in e.lines():
            sys.stderr.write(line + "\n")
        return None, 65


def main(argv):
    if len(argv) == 3 and argv[1] == "check":
        r, status = load_or_report(argv[2])
        if r is not None:
            print("%s: robot %s on %s: %d sensor and %d actuator channels, period_min_ms %d"
                  % (argv[2], r.name, r.board, len(r.sensors), len(r.actuators), r.period_min_ms))
        return status
    if len(argv) == 4 and argv[1] == "generate":
        r, status = load_or_report(argv[2])
        if r is not None:
            generate(r, argv[2], argv[3])
        return status
    if len(argv) == 3 and argv[1] == "channels":
        r, status = load_or_report(argv[2])
        if r is not None:
            import json
            print(json.dumps(declared(r), indent=1, sort_keys=True))
        return status
    if len(argv) == 3 and argv[1] == "swift-boards":
        write_atomically(argv[2], swift_boards())
        return 0
    if len(argv) == 4 and argv[1] == "random":
        write_atomically(argv[3], random_description(int(argv[2])))
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
