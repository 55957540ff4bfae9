#!/usr/bin/env bash
# Installs the Debian packages Neuraxon needs to build and test (skips what is present).
#   pkg-config, libudev-dev         serial-device discovery (libudev) for the host
#   gcc-avr, avr-libc, binutils-avr the ATmega328P firmware build
#   simavr, libsimavr-dev, libelf-dev  running the real AVR build under emulation
#   umockdev, libumockdev-dev       fake USB boards for the discovery tests
#   socat                           linked pseudo-terminal pairs for link tests
#   libjs-three                     three.js for the browser view's 3D scene (served from where it is installed)
#   chromium, chromium-driver       the browser view's tests drive the page in headless Chromium
#   slurmctld, slurmd, slurm-client, munge  the single-node Slurm cluster the executor tests start
#   PyYAML                          the robot description generator (Firmware/tools/robotgen.py),
#                                   when python3 lacks it: python3-yaml for Debian's python3,
#                                   else pip for the python3 on PATH
#   python3-venv                    the MCAP tests' virtual environment for the `mcap` reader
#                                   from PyPI (Tests/mcap/run-check.sh), when python3 lacks venv
set -euo pipefail
packages=(pkg-config libudev-dev gcc-avr avr-libc binutils-avr simavr libsimavr-dev libelf-dev
          umockdev libumockdev-dev socat libjs-three chromium chromium-driver
          slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
    if [ "$(command -v python3)" = /usr/bin/python3 ]; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "Installing: python3-yaml"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null
    else
        echo "Installing: PyYAML (python3 -m pip)"
        python3 -m pip install --quiet pyyaml
    fi
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing: python3-venv"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
