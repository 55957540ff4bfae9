#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the main job on its built-in default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product neuraxon
exec .build/release/neuraxon sim "$@"
