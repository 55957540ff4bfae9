#!/usr/bin/env bash
# Runs every test: the firmware (host build under sanitizers, AVR build with size limits,
# fuzzing for a bounded time, the real AVR build under emulation) and the Swift package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -C Firmware check
swift build --build-tests
swift test --skip-build
