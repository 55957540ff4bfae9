#!/usr/bin/env python3
"""Times the step of the published reference, the baseline for this project's own step.

The reference is the Python `neuraxon.py` of the public repository DavidVivancos/Neuraxon; pass
its path with --reference. For each size (inputs/hidden/outputs) it builds a network with
connection_probability 0.05 and default parameters otherwise after `random.seed(seed)`, then
times each of the first 20 calls of `simulate_step()` (before pruning thins the network) with
time.perf_counter. It prints the mean and median time per step in microseconds and the synapse
count before the first and after the last timed step.

Usage:
    python3 scripts/reference/time_reference.py --reference PATH/neuraxon.py
"""

import argparse
import importlib.util
import os
import platform
import random
import statistics
import sys
import time

SIZES = ((5, 20, 5), (16, 200, 8), (100, 1000, 100))
STEPS = 20


def load_reference(path):
    if not os.path.isfile(path):
        sys.exit(f"error: no reference at {path}: pass --reference PATH/neuraxon.py")
    spec = importlib.util.spec_from_file_location("neuraxon_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="path to the reference neuraxon.py")
    parser.add_argument("--seed", type=int, default=0, help="seed given to random.seed")
    args = parser.parse_args()
    ref = load_reference(args.reference)
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"{cpu_model()}, seed {args.seed}, first {STEPS} steps")
    print(f"{'network':>14} {'build ms':>9} {'synapses':>9} {'after':>7} "
          f"{'mean us/step':>13} {'median us/step':>15}")
    for n_in, n_hid, n_out in SIZES:
        params = ref.NetworkParameters(num_input_neurons=n_in, num_hidden_neurons=n_hid,
                                       num_output_neurons=n_out, connection_probability=0.05)
        random.seed(args.seed)
        start = time.perf_counter()
        net = ref.NeuraxonNetwork(params)
        build = time.perf_counter() - start
        synapses = len(net.synapses)
        durations = []
        for _ in range(STEPS):
            start = time.perf_counter()
            net.simulate_step()
            durations.append(time.perf_counter() - start)
        print(f"{f'{n_in}/{n_hid}/{n_out}':>14} {build * 1e3:9.1f} {synapses:9d} "
              f"{len(net.synapses):7d} {statistics.fmean(durations) * 1e6:13.0f} "
              f"{statistics.median(durations) * 1e6:15.0f}")


if __name__ == "__main__":
    main()
