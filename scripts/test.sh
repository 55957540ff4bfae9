#!/usr/bin/env bash
# Runs every test: the firmware (host build under sanitizers, AVR build with size limits,
# fuzzing for a bounded time, the real AVR build under emulation) and the Swift package, in a
# debug build and — for the model's bit-exactness and allocation checks, whose vectorised code
# only exists in optimised builds — again in a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -C Firmware check
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build --filter "ReferenceParityTests|StepBudgetTests"
swift build --build-tests
swift test --skip-build
