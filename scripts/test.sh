#!/usr/bin/env bash
# Runs every test: the firmware (host build under sanitizers, AVR build with size limits,
# fuzzing for a bounded time, the real AVR build under emulation) and the Swift package, in a
# debug build and — for the model's bit-exactness and allocation checks, whose vectorised code
# only exists in optimised builds — again in a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -C Firmware check
# The optimised checks need only the model: the manifest declares nothing else under
# NEURAXON_MODEL_CHECKS=1, built in a folder of its own so the two manifests never share a cache.
model_checks=(-c release -Xswiftc -enable-testing --scratch-path .build-model-checks --manifest-cache local)
NEURAXON_MODEL_CHECKS=1 swift build "${model_checks[@]}" --build-tests
NEURAXON_MODEL_CHECKS=1 swift test "${model_checks[@]}" --skip-build --filter "ReferenceParityTests|StepBudgetTests"
swift build --build-tests
swift test --skip-build
