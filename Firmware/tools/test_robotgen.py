#!/usr/bin/env python3
"""Tests of the robot description checker and generator (tools/robotgen.py).

Each refused description is refused with the line it names and a message that says the fix; the
shipped descriptions pass; the reference description generates the reference table; the random
descriptions the end-to-end test uses all pass. Run: python3 tools/test_robotgen.py
Closes with "robot description tests: N passed, M failed".
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FIRMWARE = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import robotgen  # noqa: E402

GOOD = """\
robot: tiny
board: atmega328p
board_name: tiny-uno
sensors:
  - name: range
    kind: analog
    pin: A0
  - name: bumper
    kind: digital
    pin: D10
    pull_up: true
    active: low
  - name: wheel
    kind: encoder
    mode: single
    pin_a: D2
    direction_from: motor
actuators:
  - name: motor
    kind: motor
    pwm: D6
    in1: D4
    in2: D7
  - name: servo
    kind: servo
    pin: D9
"""


def line_of(text, fragment):
    """The 1-based line of the first line of `text` that contains `fragment`."""
    for n, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            return n
    raise AssertionError("no line with %r" % fragment)


MEGA = lambda text: text.replace("board: atmega328p", "board: atmega2560").replace("pin: D9", "pin: D11")


def check_text(text):
    return robotgen.check(robotgen.load(text, "robot.yaml"), "robot.yaml")


class Refused(unittest.TestCase):
    """Each mistake is refused with its line and a fix."""

    def refused(self, text, line, *words):
        with self.assertRaises(robotgen.DescriptionError) as caught:
            check_text(text)
        errors = caught.exception.errors
        self.assertTrue(any(l == line and all(w in m for w in words) for l, m in errors),
                        "expected line %d with %s, got %s" % (line, words, errors))
        for text_line in caught.exception.lines():
            self.assertTrue(text_line.startswith("robot.yaml:%d: " % errors[0][0]) or
                            text_line.startswith("robot.yaml:"), text_line)
        return errors

    def test_the_good_description_passes(self):
        r = check_text(GOOD)
        self.assertEqual([s["name"] for s in r.sensors], ["range", "bumper", "wheel"])
        self.assertEqual([a["name"] for a in r.actuators], ["motor", "servo"])

    def test_a_pin_used_twice(self):
        text = GOOD.replace("pin: D10", "pin: D4")
        errors = self.refused(text, line_of(text, "in1: D4"), "D4", "already used by",
                              "line %d" % line_of(text, "pin: D4"), "its own pin")
        self.assertEqual(len(errors), 1)

    def test_pwm_on_a_pin_without_pwm(self):
        self.refused(GOOD.replace("pwm: D6", "pwm: D8"), line_of(GOOD, "pwm:"), "D8", "no PWM output",
                     "use one of", "D5")

    def test_pwm_on_the_tick_timer(self):
        self.refused(GOOD.replace("pwm: D6", "pwm: D11"), line_of(GOOD, "pwm:"), "Timer2", "tick",
                     "use one of")

    def test_servo_on_timer0(self):
        self.refused(GOOD.replace("pin: D9", "pin: D5"), line_of(GOOD, "pin: D9"), "Timer0", "50 Hz", "D9")

    def test_motor_and_servo_on_one_timer(self):
        text = GOOD.replace("pin: D10", "pin: D12").replace("pwm: D6", "pwm: D10")
        self.refused(text, line_of(text, "pin: D9"), "Timer1", "line %d" % line_of(text, "pwm:"),
                     "different timers")

    def test_interrupt_on_a_pin_without_one(self):
        self.refused(GOOD.replace("pin_a: D2", "pin_a: D8"), line_of(GOOD, "pin_a"), "D8",
                     "no external interrupt", "D2, D3")

    def test_analog_on_a_pin_without_adc(self):
        self.refused(GOOD.replace("pin: A0", "pin: D8"), line_of(GOOD, "pin: A0"), "no analog input", "A0")

    def test_the_serial_port_pins(self):
        self.refused(GOOD.replace("pin: D10", "pin: D0"), line_of(GOOD, "pin: D10"), "serial port")

    def test_a_pin_the_board_does_not_have(self):
        self.refused(GOOD.replace("pin: D10", "pin: D40"), line_of(GOOD, "pin: D10"), "D40", "D0..D13, A0..A5")

    def test_unknown_key(self):
        self.refused(GOOD.replace("    pull_up: true", "    pullup: true"), line_of(GOOD, "pull_up"),
                     "unknown key 'pullup'", "pull_up")

    def test_unknown_top_level_key(self):
        text = GOOD + "colour: red\n"
        self.refused(text, line_of(text, "colour"), "unknown key 'colour'")

    def test_key_given_twice(self):
        text = GOOD.replace("    active: low", "    active: low\n    active: high")
        self.refused(text, line_of(text, "active: high"), "twice", "line %d" % line_of(text, "active: low"))

    def test_value_out_of_range(self):
        text = GOOD.replace("    pin: D9", "    pin: D9\n    safe: 200")
        self.refused(text, line_of(text, "safe: 200"), "safe", "200", "0..180")

    def test_unknown_kind(self):
        text = GOOD.replace("kind: digital", "kind: switch")
        self.refused(text, line_of(text, "switch"), "switch", "analog, digital")

    def test_missing_key(self):
        text = GOOD.replace("    in2: D7\n", "")
        self.refused(text, line_of(text, "name: motor"), "needs 'in2'")

    def test_unknown_board(self):
        self.refused(GOOD.replace("board: atmega328p", "board: esp32"), 2, "esp32", "atmega328p",
                     "atmega2560")

    def test_board_name_too_long(self):
        self.refused(GOOD.replace("tiny-uno", "a-very-long-board-name"), 3, "1..16")

    def test_more_channels_than_the_protocol_carries(self):
        pins = ", ".join("A%d" % (i % 16) for i in range(17))
        text = GOOD.replace("board: atmega328p", "board: atmega2560").replace(
            "  - name: range\n    kind: analog\n    pin: A0\n",
            "  - name: line\n    kind: reflectance\n    pins: [%s]\n" % pins)
        self.refused(MEGA(text), line_of(text, "pins:"), "1..16 analog pins")
        pins = ", ".join("A%d" % i for i in range(15))
        text = GOOD.replace("board: atmega328p", "board: atmega2560").replace(
            "  - name: range\n    kind: analog\n    pin: A0\n",
            "  - name: line\n    kind: reflectance\n    pins: [%s]\n" % pins)
        self.refused(MEGA(text), line_of(text, "sensors:") + 1, "17 sensor channels", "at most 16", "remove 1")

    def test_device_info_too_long(self):
        pins = ", ".join("A%d" % i for i in range(10))
        text = GOOD.replace("board: atmega328p", "board: atmega2560").replace(
            "  - name: range\n    kind: analog\n    pin: A0\n",
            "  - name: line\n    kind: reflectance\n    pins: [%s]\n" % pins)
        self.refused(MEGA(text), line_of(text, "sensors:") + 1, "DEVICE_INFO would be 142 bytes", "121",
                     "remove 3 channels")

    def test_a_period_the_ranger_cannot_meet(self):
        text = GOOD.replace("board: atmega328p", "board: atmega2560").replace(
            "board_name: tiny-uno", "board_name: tiny-mega\nlimits:\n  period_min_ms: 10").replace(
            "  - name: range\n    kind: analog\n    pin: A0\n",
            "  - name: sonar\n    kind: ultrasonic\n    trigger: D22\n    echo: D18\n"
            "    timeout_us: 25000\n")
        self.refused(MEGA(text), line_of(text, "period_min_ms"), "period_min_ms 10", "'sonar'",
                     "26 ms per ping", "period_min_ms: 26")

    def test_a_period_the_line_cannot_carry(self):
        text = GOOD.replace("board_name: tiny-uno", "board_name: tiny-uno\nlimits:\n  period_min_ms: 1")
        self.refused(text, line_of(text, "period_min_ms"), "115200", "period_min_ms: 3")

    def test_ranger_timeout_shorter_than_its_range(self):
        text = GOOD.replace("board: atmega328p", "board: atmega2560").replace(
            "  - name: range\n    kind: analog\n    pin: A0\n",
            "  - name: sonar\n    kind: ultrasonic\n    trigger: D22\n    echo: D18\n"
            "    max_mm: 4000\n    timeout_us: 10000\n")
        self.refused(MEGA(text), line_of(text, "timeout_us"), "23324 µs", "at least 23324")

    def test_single_encoder_needs_a_motor(self):
        self.refused(GOOD.replace("direction_from: motor", "direction_from: servo"),
                     line_of(GOOD, "direction_from"), "'servo'", "not a motor", "motor")

    def test_quadrature_needs_pin_b(self):
        text = GOOD.replace("mode: single", "mode: quadrature").replace("    direction_from: motor\n", "")
        self.refused(text, line_of(text, "name: wheel"), "pin_b")

    def test_duplicate_channel_names(self):
        text = GOOD.replace("name: bumper", "name: range")
        self.refused(text, line_of(text, "name: range") + 3, "'range'", "line %d" % line_of(text, "name: range"))

    def test_wrong_unit(self):
        text = GOOD.replace("    pin: A0", "    pin: A0\n    unit: mm")
        self.refused(text, line_of(text, "unit"), "unit", "mV")

    def test_geometry_is_checked(self):
        text = GOOD.replace("    pin: A0", "    pin: A0\n    geometry: {x_mm: 5000}")
        self.refused(text, line_of(text, "x_mm"), "x_mm", "-2000..2000")
        text = GOOD + "geometry:\n  wheel_base: 100\n"
        self.refused(text, line_of(text, "wheel_base"), "unknown key 'wheel_base'", "wheel_base_mm")

    def test_not_yaml(self):
        self.refused("robot: [\n", 2, "not valid YAML")

    def test_every_error_is_reported(self):
        text = GOOD.replace("pin: A0", "pin: D8").replace("pwm: D6", "pwm: D8")
        with self.assertRaises(robotgen.DescriptionError) as caught:
            check_text(text)
        self.assertEqual([l for l, _ in caught.exception.errors], [line_of(GOOD, "pin: A0"), line_of(GOOD, "pwm:")])


def corpus():
    """The shared corpus of refused descriptions (Firmware/robots/tests): each file with the
    lines and message fragments it must be refused with (`# expect LINE: fragment`). The host's
    checker runs the same files (Tests/NeuraxonChannelsTests)."""
    d = os.path.join(FIRMWARE, "robots", "tests")
    for name in sorted(f for f in os.listdir(d) if f.endswith(".yaml")):
        path = os.path.join(d, name)
        with open(path, encoding="utf-8") as f:
            expects = [line[len("# expect "):].rstrip("\n").split(": ", 1) for line in f
                       if line.startswith("# expect ")]
        yield path, [(int(l), fragment) for l, fragment in expects]


class SharedCorpus(unittest.TestCase):
    """The refused descriptions both checkers must refuse alike."""

    def test_each_file_is_refused_with_its_lines_and_fixes(self):
        files = list(corpus())
        self.assertGreaterEqual(len(files), 40)
        for path, expects in files:
            self.assertTrue(expects, "%s states no '# expect LINE: fragment'" % path)
            with self.assertRaises(robotgen.DescriptionError, msg=path) as caught:
                robotgen.load_and_check(path)
            errors = caught.exception.errors
            for line, fragment in expects:
                self.assertTrue(any(l == line and fragment in m for l, m in errors),
                                "%s: expected line %d with %r, got %s" % (path, line, fragment, errors))


class Boards(unittest.TestCase):
    """The board facts have one source, Firmware/boards/*.yaml."""

    def test_the_host_copy_is_generated_from_the_board_files(self):
        swift = os.path.join(FIRMWARE, "..", "Sources", "NeuraxonChannels", "BoardData.swift")
        with open(swift, encoding="utf-8") as f:
            self.assertEqual(f.read(), robotgen.swift_boards(),
                             "BoardData.swift is stale: run python3 Firmware/tools/robotgen.py "
                             "swift-boards Sources/NeuraxonChannels/BoardData.swift")

    def test_each_board_keeps_its_facts(self):
        uno, mega = robotgen.BOARDS["atmega328p"], robotgen.BOARDS["atmega2560"]
        self.assertEqual(len(uno.pins), 20)
        self.assertEqual(len(mega.pins), 70)
        self.assertEqual(uno.pins["A0"], ("C", 0, 0))
        self.assertEqual(mega.pins["D53"], ("B", 0, None))
        self.assertEqual(uno.pwm["D9"], (1, 0))
        self.assertEqual(mega.ints["D18"], 3)
        self.assertEqual((uno.flash_budget, uno.ram_budget), (16384, 1024))


class Generated(unittest.TestCase):
    def test_reference_table(self):
        """The reference description generates the reference robot's table of protocol v1."""
        r = robotgen.load_and_check(os.path.join(FIRMWARE, "robots", "reference.yaml"))
        with tempfile.TemporaryDirectory() as d:
            files = robotgen.generate(r, os.path.join(FIRMWARE, "robots", "reference.yaml"), d)
        table = files["nx_robot_table.c"]
        rows = [l.split("/*")[0].strip() for l in table.splitlines() if l.strip().startswith("{NX_KIND")]
        self.assertEqual(rows, [
            "{NX_KIND_ANALOG, NX_UNIT_MILLIVOLT, 0, 5000, 0},"] * 4 + [
            "{NX_KIND_DIGITAL, NX_UNIT_NONE, 0, 1, 0},"] + [
            "{NX_KIND_ENCODER, NX_UNIT_TICK, -32768, 32767, 0},"] * 2 + [
            "{NX_KIND_MOTOR, NX_UNIT_PER_MILLE, -1000, 1000, 0},"] * 2 + [
            "{NX_KIND_SERVO, NX_UNIT_DEGREE, 0, 180, 90},"])
        self.assertIn('#define NX_ROBOT_BOARD_NAME "neuraxon-uno"', files["nx_robot_config.h"])
        self.assertIn("#define NX_ROBOT_PERIOD_MIN_MS 4u", files["nx_robot_config.h"])
        self.assertIn("ROBOT_MCU := atmega328p", files["robot.mk"])

    def test_shipped_descriptions_pass(self):
        d = os.path.join(FIRMWARE, "robots")
        names = sorted(f for f in os.listdir(d) if f.endswith(".yaml"))
        self.assertGreaterEqual(len(names), 3)
        for name in names:
            r = robotgen.load_and_check(os.path.join(d, name))
            self.assertTrue(1 <= len(r.sensors) <= 16 and 1 <= len(r.actuators) <= 16, name)

    def test_random_descriptions_pass(self):
        for seed in range(300):
            text = robotgen.random_description(seed)
            try:
                check_text(text)
            except robotgen.DescriptionError as e:
                self.fail("seed %d:\n%s\n%s" % (seed, text, e))

    def test_generated_c_keeps_the_firmware_discipline(self):
        """No allocation, no printf, no conditional compilation, sizes fixed by the counts."""
        texts = [robotgen.random_description(seed) for seed in range(40)]
        d = os.path.join(FIRMWARE, "robots")
        texts += [open(os.path.join(d, f)).read() for f in sorted(os.listdir(d)) if f.endswith(".yaml")]
        for text in texts:
            with tempfile.TemporaryDirectory() as out:
                files = robotgen.generate(check_text(text), "robot.yaml", out)
            for name, code in files.items():
                if not name.endswith((".c", ".h")):
                    continue
                for word in ("malloc", "calloc", "free(", "printf", "#if "):
                    self.assertNotIn(word, code, name)
            self.assertIn("nx_sensor_channels[NX_SENSOR_COUNT]", files["nx_robot_table.c"])
            self.assertIn("nx_actuator_pin_table[NX_ACTUATOR_COUNT]", files["nx_robot_pins.c"])

    def test_generation_is_atomic_and_stable(self):
        r = check_text(GOOD)
        with tempfile.TemporaryDirectory() as d:
            robotgen.generate(r, "robot.yaml", d)
            before = {f: os.stat(os.path.join(d, f)).st_mtime_ns for f in os.listdir(d)}
            robotgen.generate(r, "robot.yaml", d)
            after = {f: os.stat(os.path.join(d, f)).st_mtime_ns for f in os.listdir(d)}
            self.assertEqual(before, after, "unchanged files are left alone")
            self.assertFalse([f for f in os.listdir(d) if f.startswith(".tmp-")])

    def test_command_line(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.yaml")
            with open(bad, "w") as f:
                f.write(GOOD.replace("pwm: D6", "pwm: D8"))
            p = subprocess.run([sys.executable, os.path.join(HERE, "robotgen.py"), "check", bad],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 65)
            self.assertIn("bad.yaml:%d: actuator 'motor' 'pwm' is D8, which has no PWM output: use one of "
                          "D5, D6, D9, D10" % line_of(GOOD, "pwm:"), p.stderr)
            p = subprocess.run([sys.executable, os.path.join(HERE, "robotgen.py"), "check",
                                os.path.join(d, "missing.yaml")], capture_output=True, text=True)
            self.assertEqual(p.returncode, 66)
            self.assertIn("cannot read", p.stderr)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print("robot description tests: %d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
