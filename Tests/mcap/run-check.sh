#!/usr/bin/env bash
# Runs check_mcap.py with the `mcap` package from PyPI, installed into a test-only virtual
# environment (.build/venv-mcap, git-ignored) the first time.
#   Tests/mcap/run-check.sh RUN.mcap RUN.jsonl [--other-run]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.build/venv-mcap"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import mcap' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'mcap>=1.1,<2'
fi
exec "$venv/bin/python" "$here/check_mcap.py" "$@"
