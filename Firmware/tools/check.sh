#!/usr/bin/env bash
# Runs every firmware check (make check). Each step's own "N passed, M failed" lines are summed;
# a step without such a line counts as one test. Closes with "firmware: N passed, M failed".
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() {
    local name=$1
    shift
    echo "== $name"
    "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local counts
    counts=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$log" | sed -E 's/ passed, / /; s/ failed//')
    if [ -z "$counts" ]; then
        if [ "$status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    else
        while read -r p f; do
            passed=$((passed + p))
            failed=$((failed + f))
        done <<< "$counts"
        # a step that fails outside its tests (a crash, a build error) is one more failure
        if [ "$status" -ne 0 ] && ! grep -Eq '[1-9][0-9]* failed' "$log"; then failed=$((failed + 1)); fi
    fi
    [ "$status" -eq 0 ] || echo "FAIL: $name"
}

step "robot descriptions: the checker and the generator" make --no-print-directory test-generator
step "both ports build, the reference AVR build within its budget" make --no-print-directory all
step "an AVR build over its budget fails" make --no-print-directory test-budget
step "host tests under ASan and UBSan" make --no-print-directory test
step "fuzzing the decoder and the device" make --no-print-directory fuzz
step "the AVR build end to end under emulation" make --no-print-directory e2e-avr
step "every shipped robot: its AVR build within budget, end to end under emulation" make --no-print-directory robots
step "a robot with a random valid channel set, end to end under emulation" make --no-print-directory e2e-random
echo "firmware: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
