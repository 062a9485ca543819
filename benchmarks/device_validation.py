"""Few-shot latency prediction against onnxruntime on this machine (issue 13's validation, part (b) and the
MACs baseline (c); zero-shot from a device profile, part (a), comes with the device profile).

Measures onnxruntime's warm 1-thread latency of NAS-Bench-201 networks (CIFAR-10 and CIFAR-100 heads, zero
weights) and zoo networks with `device.measure_runtime`, caches the measurements in a JSON file (a rerun
measures only what is missing), then for each group reports, over `--draws` random draws of k fitting
networks scored on the others: Kendall tau and median absolute percentage error of
  few-shot   device.fit(k networks, their latencies) -> predict the rest
  MACs only  latency = a + b * total MACs (a, b >= 0) on the same k networks, fitted like the few-shot
             model (relative error), so the two differ only in their features.

    python benchmarks/device_validation.py --nas 500 --zoo 53 --cache device_measurements.json

Measure on a quiet machine: timings taken while other work runs are noisy, which both methods pay for.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _nas_names(n: int, seed: int):
    """n networks: half with CIFAR-10 heads, half with CIFAR-100, indices drawn without replacement."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(15625, size=n, replace=False)
    return [(f"nb201-{'cifar10' if j % 2 == 0 else 'cifar100'}-{int(i)}") for j, i in enumerate(idx)]


def _nas_source(name: str, weights: str):
    from netscore_fast import nas
    _, dataset, index = name.split("-")
    return nas.nasbench201(int(index), dataset, weights=weights)


def _zoo_source(name: str):
    from netscore_fast import zoo
    return zoo.build(name[len("zoo-"):], weights="constant")   # ConstantOfShape weights: runs in onnxruntime


def measure(names, source_fn, cache_path: str, min_time: float) -> dict:
    from netscore_fast import device
    cache = {}
    if os.path.exists(cache_path):
        with open(cache_path) as f:
            cache = json.load(f)
    todo = [n for n in names if n not in cache]
    for start in range(0, len(todo), 10):
        batch = todo[start:start + 10]
        r = device.measure_runtime([(n, source_fn(n)) for n in batch], threads=1, min_time=min_time,
                                   progress=False)
        for n, ms in zip(batch, r.latency_ms):
            cache[n] = None if np.isnan(ms) else float(ms)
        for n, msg in r.errors.items():
            print(f"  {n}: {msg}", file=sys.stderr)
        with open(cache_path, "w") as f:
            json.dump(cache, f, indent=0, sort_keys=True)
        print(f"  measured {min(start + 10, len(todo))}/{len(todo)}", file=sys.stderr)
    return cache


def evaluate(sources, y, macs, k: int, draws: int, seed: int) -> dict:
    from netscore_fast import device
    raw, _ = device.raw_features(sources, errors="raise")
    sets = {s: device.select_features(raw, s) for s in device.FEATURE_SETS}
    names = {s: device.feature_names(s) for s in device.FEATURE_SETS}
    rng = np.random.default_rng(seed)
    out = {"few_shot": {"tau": [], "mdape": []}, "macs_only": {"tau": [], "mdape": []}, "chosen": []}
    for _ in range(draws):
        train = rng.choice(len(y), size=k, replace=False)
        test = np.setdiff1d(np.arange(len(y)), train)
        model = device.fit_features({s: X[train] for s, X in sets.items()}, names, y[train])
        pred = sets[model.feature_set][test] @ model.coef
        out["chosen"].append(model.feature_set)
        coef = device._nnls_relative(np.c_[np.ones(k), macs[train]], y[train], 0.0)
        base = coef[0] + coef[1] * macs[test]
        for key, p in (("few_shot", pred), ("macs_only", base)):
            out[key]["tau"].append(device.kendall_tau(p, y[test]))
            out[key]["mdape"].append(float(np.median(np.abs(p - y[test]) / y[test]) * 100))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nas", type=int, default=500, help="NAS-Bench-201 networks to measure (default 500)")
    ap.add_argument("--zoo", type=int, default=53, help="zoo networks to measure (default all 53)")
    ap.add_argument("--k", type=int, default=20, help="networks to fit on (default 20)")
    ap.add_argument("--draws", type=int, default=5, help="random draws of the k networks (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds of timed runs per network")
    ap.add_argument("--cache", default="device_measurements.json", help="measurement cache (JSON)")
    args = ap.parse_args(argv)

    from machine import cpu_name
    from netscore_fast import profile_many, zoo
    import onnxruntime

    print(f"# device validation: onnxruntime {onnxruntime.__version__}, 1 thread, {cpu_name()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    groups = {}
    nas_names = _nas_names(args.nas, args.seed)
    zoo_names = [f"zoo-{n}" for n in zoo.names()[:args.zoo]]
    t0 = time.time()
    cache = measure(nas_names, lambda n: _nas_source(n, "zeros"), args.cache, args.min_time)
    cache = measure(zoo_names, _zoo_source, args.cache, args.min_time)
    print(f"# measured in {time.time() - t0:.0f} s (cache: {args.cache})")
    groups["NAS-Bench-201"] = (nas_names, lambda n: _nas_source(n, "dims"))
    groups["zoo"] = (zoo_names, _zoo_source)

    print(f"{'group':14s} {'n':>4s} {'k':>3s}  {'few-shot tau':>12s} {'MdAPE %':>8s}   {'MACs-only tau':>13s} "
          f"{'MdAPE %':>8s}   feature sets chosen")
    for group, (names, source_fn) in groups.items():
        names = [n for n in names if cache.get(n)]
        if len(names) < 6:
            print(f"{group:14s} {len(names):4d}  too few measured networks")
            continue
        k = min(args.k, len(names) // 2)
        sources = [(n, source_fn(n)) for n in names]
        y = np.array([cache[n] for n in names])
        macs = np.asarray(profile_many(sources, progress=False)["macs"], float)
        r = evaluate(sources, y, macs, k, args.draws, args.seed)
        fs, mb = r["few_shot"], r["macs_only"]
        print(f"{group:14s} {len(names):4d} {k:3d}  {np.mean(fs['tau']):12.3f} {np.mean(fs['mdape']):8.1f}   "
              f"{np.mean(mb['tau']):13.3f} {np.mean(mb['mdape']):8.1f}   {', '.join(sorted(set(r['chosen'])))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
