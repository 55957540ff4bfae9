#!/usr/bin/env python3
"""Writes the golden test data of the Neuraxon model by running the published reference.

The reference is the Python `neuraxon.py` of the public repository DavidVivancos/Neuraxon. It is
not part of this project: pass its path with --reference. For every case this script runs the
uninterrupted reference process

    random.seed(seed); net = NeuraxonNetwork(params)
    for k in 0 ..< steps:
        net.set_input_states(inputs)              if the schedule gives inputs for step k
        net.modulate(name, level)                 for each given neuromodulator, in the order
                                                  dopamine, serotonin, acetylcholine, norepinephrine
        net.simulate_step(external) or net.simulate_step()   (external: neuron id -> current)

and writes one JSON file per case (format: Tests/NeuraxonTests/Golden/README.md). It then checks
that, across all cases, every stochastic feature of the model really happens at least once, and
exits non-zero if one does not.

Usage:
    python3 scripts/reference/generate_golden.py --reference PATH/neuraxon.py \
        --out Tests/NeuraxonTests/Golden
"""

import argparse
import contextlib
import copy
import dataclasses
import importlib.util
import io
import json
import os
import random
import struct
import sys

NEUROMODULATORS = ("dopamine", "serotonin", "acetylcholine", "norepinephrine")

# The reference's documented "biologically plausible" ranges, bounds included (the comments of
# its NetworkParameters). Every case stays inside them, so this project accepts each case's
# parameters when a user sets them.
RANGES = {
    "num_input_neurons": (1, 100), "num_hidden_neurons": (1, 1000), "num_output_neurons": (1, 100),
    "connection_probability": (0.0, 1.0), "membrane_time_constant": (5.0, 50.0),
    "firing_threshold_excitatory": (0.5, 2.0), "firing_threshold_inhibitory": (-2.0, -0.5),
    "adaptation_rate": (0.0, 0.2), "spontaneous_firing_rate": (0.0, 0.1),
    "neuron_health_decay": (0.0, 0.01), "tau_fast": (1.0, 10.0), "tau_slow": (20.0, 100.0),
    "tau_meta": (500.0, 5000.0), "learning_rate": (0.0, 0.1), "stdp_window": (10.0, 50.0),
    "synapse_integrity_threshold": (0.0, 0.5), "synapse_formation_prob": (0.0, 0.2),
    "synapse_death_prob": (0.0, 0.1), "neuron_death_threshold": (0.0, 0.3),
    "dopamine_baseline": (0.0, 1.0), "serotonin_baseline": (0.0, 1.0),
    "acetylcholine_baseline": (0.0, 1.0), "norepinephrine_baseline": (0.0, 1.0),
    "neuromod_decay_rate": (0.0, 0.5), "dt": (0.1, 10.0), "simulation_steps": (1, 10000),
}

# Files written with the reference's own save_network after the run, for the file-format tests.
SAVED_CASES = ("default-seed42", "neuron-death", "deterministic")

# The case whose run must not depend on any random number drawn after the network is built.
DETERMINISTIC_CASE = "deterministic"

FEATURES = ("spontaneous", "formed", "pruned", "unsilenced", "died",
            "hidden+1", "hidden-1", "output+1", "output-1")


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

def entry(step, inputs=None, modulate=None, external=None):
    """One schedule entry; keys that are not used are left out."""
    item = {"step": step}
    if inputs is not None:
        item["inputs"] = list(inputs)
    if modulate:
        item["modulate"] = {name: float(modulate[name]) for name in NEUROMODULATORS
                            if name in modulate}
    if external:
        item["external"] = {str(nid): float(current) for nid, current in sorted(external.items())}
    return item


def held_inputs(steps, pattern):
    return [entry(k, inputs=pattern) for k in range(steps)]


def flowing_schedule(steps):
    """Inputs that change every 25 steps, alternating pulses of external current (+-2) into some
    hidden and output neurons, dopamine and serotonin raised now and then, norepinephrine once
    (inputs 0-5, hidden 6-29, outputs 30-35)."""
    patterns = [[1, 1, 0, -1, 1, 0], [1, -1, 1, 1, 0, 1], [0, 1, 1, 1, -1, 1],
                [-1, 0, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1], [1, 0, -1, 1, 1, -1]]
    schedule = []
    for k in range(steps):
        modulate = {}
        if k % 100 == 40:
            modulate["dopamine"] = 0.9
        if k % 100 == 70:
            modulate["dopamine"] = 0.6
            modulate["serotonin"] = 0.8
        if k == 250:
            modulate["norepinephrine"] = 0.7
        phase = k % 80
        external = {}
        if phase < 30:
            external = {8: 2.0, 10: 2.0, 12: 2.0, 15: -2.0, 19: -2.0, 31: 2.0, 34: -2.0}
        elif 40 <= phase < 70:
            external = {9: -2.0, 11: 2.0, 14: 2.0, 20: -2.0, 32: -2.0, 33: 2.0}
        schedule.append(entry(k, inputs=patterns[(k // 25) % len(patterns)], modulate=modulate,
                              external=external))
    return schedule


def stochastic_schedule(steps):
    patterns = [[1, 0, 1, 1, -1], [0, 1, -1, 1, 1], [1, 1, 1, 0, 1]]
    schedule = []
    for k in range(steps):
        modulate = {"dopamine": 0.7, "acetylcholine": 0.9} if k % 50 == 0 else None
        external = {7: 3.0, 12: -3.0, 27: 3.0} if k % 40 < 20 else None
        schedule.append(entry(k, inputs=patterns[(k // 30) % 3], modulate=modulate,
                              external=external))
    return schedule


def medium_inputs(k):
    return [1 if (i + k // 10) % 3 == 0 else (-1 if (i + k // 10) % 3 == 1 else 0)
            for i in range(16)]


def deterministic_schedule(steps):
    schedule = []
    for k in range(steps):
        inputs = [1, 0, -1, 1, 0] if (k // 20) % 2 == 0 else [0, 1, 1, -1, 0]
        external = {9: 2.5, 14: -2.5, 26: 2.5, 28: -2.5} if 30 <= k < 70 else None
        modulate = {"serotonin": 0.5} if k == 80 else None
        schedule.append(entry(k, inputs=inputs, modulate=modulate, external=external))
    return schedule


def cases():
    """The cases: name, description, seed, parameter overrides, steps, schedule."""
    default_inputs = [1, -1, 0, 1, -1]
    result = []
    for seed in (0, 1, 42):
        result.append(dict(
            name=f"default-seed{seed}",
            description=("Default parameters (5/20/5, p = 0.05), inputs [1,-1,0,1,-1] set before "
                         "every step; weights fade and synapses are pruned late in the run."),
            seed=seed, overrides={}, steps=300,
            schedule=held_inputs(300, default_inputs)))
    result.append(dict(
        name="flowing",
        description=("Activity that flows: 6/24/6 at p = 0.25, acetylcholine_baseline 1.0, "
                     "membrane_time_constant 5 ms, thresholds +-0.5, inputs changing every 25 "
                     "steps, pulses of external current into hidden and output neurons, "
                     "dopamine, serotonin and norepinephrine modulated; hidden and output "
                     "neurons fire +1 and -1 (also through synapses), silent synapses are "
                     "unsilenced."),
        seed=7,
        overrides=dict(network_name="Flowing", num_input_neurons=6, num_hidden_neurons=24,
                       num_output_neurons=6, connection_probability=0.25,
                       membrane_time_constant=5.0, firing_threshold_excitatory=0.5,
                       firing_threshold_inhibitory=-0.5, acetylcholine_baseline=1.0),
        steps=400, schedule=flowing_schedule(400)))
    result.append(dict(
        name="stochastic",
        description=("High spontaneous_firing_rate (0.1) and synapse_formation_prob (0.2) at "
                     "dt = 0.5 ms, acetylcholine_baseline 0.6, p = 0.15, pulses of external "
                     "current: noise, synapse formation and pruning every few steps."),
        seed=2024,
        overrides=dict(network_name="Stochastic", connection_probability=0.15,
                       spontaneous_firing_rate=0.1, synapse_formation_prob=0.2, dt=0.5,
                       acetylcholine_baseline=0.6),
        steps=400, schedule=stochastic_schedule(400)))
    result.append(dict(
        name="neuron-death",
        description=("neuron_health_decay 0.01 and neuron_death_threshold 0.3: quiet hidden "
                     "neurons lose health within 70 steps and then die at random."),
        seed=3,
        overrides=dict(network_name="Neuron death", num_hidden_neurons=40,
                       neuron_health_decay=0.01, neuron_death_threshold=0.3),
        steps=500, schedule=held_inputs(500, default_inputs)))
    result.append(dict(
        name="medium",
        description=("A medium network, 16/200/8 at p = 0.05, default parameters otherwise, "
                     "inputs rotating every 10 steps."),
        seed=5,
        overrides=dict(network_name="Medium", num_input_neurons=16, num_hidden_neurons=200,
                       num_output_neurons=8, connection_probability=0.05),
        steps=100, schedule=[entry(k, inputs=medium_inputs(k)) for k in range(100)]))
    result.append(dict(
        name="deterministic",
        description=("No stochastic features: spontaneous_firing_rate 0, synapse_formation_prob "
                     "0, neuron_death_threshold 0, and no silent synapse ever sees pre = post = "
                     "+1, so the trajectory does not depend on any random number drawn after the "
                     "network is built (the reference still draws them); acetylcholine_baseline "
                     "0.8, p = 0.2, external pulses make hidden and output neurons fire."),
        seed=11,
        overrides=dict(network_name="Deterministic", connection_probability=0.2,
                       spontaneous_firing_rate=0.0, synapse_formation_prob=0.0,
                       neuron_death_threshold=0.0, acetylcholine_baseline=0.8),
        steps=250, schedule=deterministic_schedule(250)))
    return result


# ---------------------------------------------------------------------------------------------
# Running the reference
# ---------------------------------------------------------------------------------------------

def load_reference(path):
    if not os.path.isfile(path):
        sys.exit(f"error: no reference at {path}: pass --reference PATH/neuraxon.py")
    spec = importlib.util.spec_from_file_location("neuraxon_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("NetworkParameters", "NeuraxonNetwork", "save_network", "load_network"):
        if not hasattr(module, name):
            sys.exit(f"error: {path} has no {name}: is it the Neuraxon reference neuraxon.py?")
    return module


class ObservedRandom:
    """Stands in for the `random` module inside the reference and passes every call through
    unchanged, counting the spontaneous-noise draws (the uniform drawn in Neuraxon.update)."""

    def __init__(self, neuron_update_code):
        self._neuron_update_code = neuron_update_code
        self.spontaneous = 0

    def uniform(self, a, b):
        if sys._getframe(1).f_code is self._neuron_update_code:
            self.spontaneous += 1
        return random.uniform(a, b)

    def __getattr__(self, name):
        return getattr(random, name)


def hex64(value):
    return struct.pack(">d", value).hex()


def check_parameters(case, params):
    for name, (low, high) in RANGES.items():
        value = getattr(params, name)
        if not low <= value <= high:
            sys.exit(f"error: case {case['name']}: {name} = {value} is outside [{low}, {high}]")


def run_case(ref, case, observe=False, reseed_after_build=None):
    """Runs one case; returns (case file content as a dict, the network, feature counts).

    observe: count the spontaneous-noise draws through ObservedRandom.
    reseed_after_build: seed the generator again right after the network is built, to show that
    a run does not depend on the random numbers drawn after that.
    """
    params = ref.NetworkParameters(**case["overrides"])
    check_parameters(case, params)
    schedule = {item["step"]: item for item in case["schedule"]}
    counts = dict.fromkeys(FEATURES + ("unsilence chances",), 0)
    observer = ObservedRandom(ref.Neuraxon.update.__code__) if observe else None
    ref.random = observer if observe else random
    try:
        random.seed(case["seed"])
        net = ref.NeuraxonNetwork(params)
        initial = copy.deepcopy(net.to_dict())
        if reseed_after_build is not None:
            random.seed(reseed_after_build)
        n_in, n_hid = params.num_input_neurons, params.num_hidden_neurons
        trajectory = []
        for k in range(case["steps"]):
            item = schedule.get(k, {})
            if "inputs" in item:
                net.set_input_states(item["inputs"])
            for name in NEUROMODULATORS:
                if name in item.get("modulate", {}):
                    net.modulate(name, item["modulate"][name])
            external = {int(nid): current for nid, current in item.get("external", {}).items()}
            silent_before = {id(s) for s in net.synapses if s.is_silent and s.integrity > 0}
            synapses_before = {id(s): s for s in net.synapses}
            active_before = [n.is_active for n in net.all_neurons]
            if external:
                net.simulate_step(external)
            else:
                net.simulate_step()
            synapses_after = {id(s): s for s in net.synapses}
            counts["formed"] += sum(1 for key in synapses_after if key not in synapses_before)
            counts["pruned"] += sum(1 for key in synapses_before if key not in synapses_after)
            counts["unsilenced"] += sum(1 for s in synapses_before.values()
                                        if id(s) in silent_before and not s.is_silent)
            counts["died"] += sum(1 for n, was in zip(net.all_neurons, active_before)
                                  if was and not n.is_active)
            counts["unsilence chances"] += sum(
                1 for s in synapses_before.values() if id(s) in silent_before
                and net.all_neurons[s.pre_id].is_active and net.all_neurons[s.post_id].is_active
                and net.all_neurons[s.pre_id].trinary_state == 1
                and net.all_neurons[s.post_id].trinary_state == 1)
            for n in net.all_neurons:
                kind = ("hidden" if n_in <= n.id < n_in + n_hid
                        else "output" if n.id >= n_in + n_hid else None)
                if kind and n.trinary_state != 0:
                    counts[f"{kind}{'+1' if n.trinary_state == 1 else '-1'}"] += 1
            trajectory.append({
                "step": k + 1,
                "states": [n.trinary_state for n in net.all_neurons],
                "potentials": [hex64(n.membrane_potential) for n in net.all_neurons],
                "neuromodulators": [hex64(net.neuromodulators[name]) for name in NEUROMODULATORS],
                "synapses": len(net.synapses),
                "active": [n.id for n in net.all_neurons if not n.is_active],
            })
    finally:
        ref.random = random
    if observe:
        counts["spontaneous"] = observer.spontaneous
    content = {
        "case": case["name"],
        "description": case["description"],
        "seed": case["seed"],
        "parameters": dataclasses.asdict(params),
        "steps": case["steps"],
        "schedule": case["schedule"],
        "initial": initial,
        "trajectory": trajectory,
        "final": copy.deepcopy(net.to_dict()),
    }
    return content, net, counts


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def compact(value):
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def render(value, indent=0):
    """JSON with one line per object member or list element down to the first level whose
    values are all scalars (or lists of scalars), which is written on one line."""
    pad, inner = "  " * indent, "  " * (indent + 1)

    def nested(v):
        return isinstance(v, dict) or (isinstance(v, list) and any(
            isinstance(x, (dict, list)) for x in v))

    if isinstance(value, dict) and any(nested(v) for v in value.values()):
        members = [f"{inner}{json.dumps(key)}: {render(v, indent + 1)}" for key, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + pad + "}"
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        return "[\n" + ",\n".join(inner + render(x, indent + 1) for x in value) + "\n" + pad + "]"
    return compact(value)


def check_deterministic(ref, case, content, counts):
    """The deterministic case must not depend on the random numbers drawn after the network is
    built (the reference draws the spontaneous and formation numbers even at rate 0)."""
    chances = {name: counts[name] for name in
               ("spontaneous", "formed", "died", "unsilenced", "unsilence chances")}
    if any(chances.values()):
        sys.exit(f"error: case {case['name']} has chance events: {chances}")
    for reseed in (1, 99999):
        other, _, _ = run_case(ref, case, reseed_after_build=reseed)
        if (other["trajectory"], other["final"]) != (content["trajectory"], content["final"]):
            sys.exit(f"error: case {case['name']} depends on the random numbers drawn after "
                     "the network is built")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="path to the reference neuraxon.py")
    parser.add_argument("--out", required=True, help="folder for the case files")
    args = parser.parse_args()
    ref = load_reference(args.reference)
    os.makedirs(args.out, exist_ok=True)

    totals = dict.fromkeys(FEATURES, 0)
    print(f"{'case':16} " + " ".join(f"{name:>11}" for name in FEATURES) + "  size")
    for case in cases():
        content, net, _ = run_case(ref, case)
        observed, _, counts = run_case(ref, case, observe=True)
        if observed != content:
            sys.exit(f"error: case {case['name']}: observing the run changed it")
        if case["name"] == DETERMINISTIC_CASE:
            check_deterministic(ref, case, content, counts)
        text = render(content) + "\n"
        path = os.path.join(args.out, f"{case['name']}.json")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        if case["name"] in SAVED_CASES:
            with contextlib.redirect_stdout(io.StringIO()):
                ref.save_network(net, os.path.join(args.out, f"{case['name']}.saved.json"))
        for name in FEATURES:
            totals[name] += counts[name]
        print(f"{case['name']:16} " + " ".join(f"{counts[name]:>11}" for name in FEATURES)
              + f"  {len(text) // 1024} KiB")
    print(f"{'all cases':16} " + " ".join(f"{totals[name]:>11}" for name in FEATURES))
    missing = [name for name in FEATURES if totals[name] == 0]
    if missing:
        sys.exit(f"error: no case exercises: {', '.join(missing)}")
    print("every stochastic feature happens at least once")
    print(f"case {DETERMINISTIC_CASE}: no chance event, and the same run after reseeding "
          "once the network is built")


if __name__ == "__main__":
    main()
