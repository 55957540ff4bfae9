#!/usr/bin/env python3
"""Checks that the published reference loads network files saved by this project.

The reference is the Python `neuraxon.py` of the public repository DavidVivancos/Neuraxon; pass
its path with --reference. Each file is loaded with the reference's own `load_network`, checked
for what that loader would silently accept, and run for 10 steps after `random.seed(0)`. One line
per file; the exit status is 1 if any file fails.

Usage:
    python3 scripts/reference/check_loads.py --reference PATH/neuraxon.py FILE.json [FILE.json ...]
"""

import argparse
import contextlib
import importlib.util
import io
import json
import math
import os
import random
import sys

STEPS = 10
NEUROMODULATORS = ["dopamine", "serotonin", "acetylcholine", "norepinephrine"]


def load_reference(path):
    if not os.path.isfile(path):
        sys.exit(f"error: no reference at {path}: pass --reference PATH/neuraxon.py")
    spec = importlib.util.spec_from_file_location("neuraxon_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "load_network"):
        sys.exit(f"error: {path} has no load_network: is it the Neuraxon reference neuraxon.py?")
    return module


def check(ref, path):
    """Loads, checks and runs one file; returns a summary or raises with the reason.

    Beyond loading, it checks what the reference's loader would silently accept: a missing
    parameter (filled with its default), neurons whose ids do not match their place, a missing or
    extra neuromodulator, synapses that break the wiring rules.
    """
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    random.seed(0)
    with contextlib.redirect_stdout(io.StringIO()):
        net = ref.load_network(path)

    missing = [name for name in ref.NetworkParameters.__dataclass_fields__
               if name not in data["parameters"]]
    if missing:
        raise ValueError(f"parameters: missing {', '.join(missing)}")
    ids = iter(range(len(net.all_neurons)))
    for group, neurons in (("input", net.input_neurons), ("hidden", net.hidden_neurons),
                           ("output", net.output_neurons)):
        saved = data["neurons"][group]
        if len(saved) != len(neurons):
            raise ValueError(f"neurons.{group} holds {len(saved)} neurons, the parameters say "
                             f"{len(neurons)}")
        for i, entry in enumerate(saved):
            expected_id = next(ids)
            if entry["id"] != expected_id or entry["type"] != group:
                raise ValueError(f"neurons.{group}[{i}]: id {entry['id']!r}, type "
                                 f"{entry['type']!r}; expected id {expected_id}, type {group!r}")
            if type(entry["trinary_state"]) is not int or entry["trinary_state"] not in (-1, 0, 1):
                raise ValueError(f"neurons.{group}[{i}].trinary_state = "
                                 f"{entry['trinary_state']!r} is not the integer -1, 0 or 1")
            if type(entry["is_active"]) is not bool:
                raise ValueError(f"neurons.{group}[{i}].is_active = {entry['is_active']!r} is "
                                 "not true or false")
    types = {n.id: n.type.value for n in net.all_neurons}
    pairs = set()
    for i, entry in enumerate(data["synapses"]):
        pre, post = entry["pre_id"], entry["post_id"]
        if pre not in types or post not in types:
            raise ValueError(f"synapses[{i}]: {pre} -> {post} names a neuron that does not exist")
        if pre == post or (types[pre] == "output" and types[post] == "input") \
                or (pre, post) in pairs:
            raise ValueError(f"synapses[{i}]: {pre} -> {post} breaks the wiring rules (no self "
                             "synapse, no output -> input, no duplicate)")
        pairs.add((pre, post))
    if sorted(data["neuromodulators"]) != sorted(NEUROMODULATORS):
        raise ValueError(f"neuromodulators: {', '.join(data['neuromodulators'])}; expected "
                         f"{', '.join(NEUROMODULATORS)}")

    for _ in range(STEPS):
        net.simulate_step()
    values = [n.membrane_potential for n in net.all_neurons] + list(net.neuromodulators.values())
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise ValueError(f"after {STEPS} steps a potential or neuromodulator is not finite")
    p = net.params
    return (f"{p.num_input_neurons}/{p.num_hidden_neurons}/{p.num_output_neurons} neurons, "
            f"{len(data['synapses'])} synapses, {STEPS} steps run, "
            f"outputs {net.get_output_states()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="path to the reference neuraxon.py")
    parser.add_argument("files", nargs="+", help="network files saved by this project")
    args = parser.parse_args()
    ref = load_reference(args.reference)
    failures = 0
    for path in args.files:
        try:
            print(f"ok    {path}: {check(ref, path)}")
        except Exception as error:  # every failure of the reference to load or run the file
            failures += 1
            print(f"FAIL  {path}: {type(error).__name__}: {error}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
