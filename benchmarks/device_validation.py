"""Few-shot latency prediction against onnxruntime on this machine (issue 13's validation, part (b) and the
MACs baseline (c); zero-shot from a device profile, part (a), comes with the device profile).

Measures onnxruntime's warm 1-thread latency of NAS-Bench-201 networks (CIFAR-10 and CIFAR-100 heads, zero
weights) and zoo networks with `device.measure_runtime`, caches the measurements in a JSON file (a rerun
measures only what is missing), then for each group reports, over `--draws` random draws of k fitting
networks scored on the others: Kendall tau and median absolute percentage error of
  few-shot   device.fit(k networks, their latencies) -> predict the rest
  MACs only  latency = a + b * total MACs (a, b >= 0) on the same k networks, fitted like the few-shot
             model (relative error), so the two differ only in their features.

    nice -n 10 python benchmarks/device_validation.py --nas 500 --zoo 53     # measures, then reports
    python benchmarks/device_validation.py --no-measure --profile benchmarks/results/device_profile.json
        # + zero-shot from a device profile and few-shot on its per-class predictions (fit(profile=...))

Measurements go to benchmarks/results/device_measurements.json with the CPU, onnxruntime version and date.
Noise is the enemy on a shared machine: runs are timed by the measuring thread's CPU time (`--clock
thread`: with one intra-op thread onnxruntime computes on it, so time the core spent on other processes is
left out; `--clock wall` on a quiet machine), each network is measured in `--rounds` interleaved rounds
(every network once per round, in a fresh random order, a new session each time), each round takes a low
quantile of the run times, the figure kept is the minimum over rounds, networks whose rounds disagree by
more than `--rerun-above` % get more rounds, and the report prints the noise: how far two estimates of the
same network's latency (minima of its odd and of its even rounds) disagree, which bounds the median error
and the Kendall tau any predictor can show against these measurements. A quiet machine gives cleaner
figures.
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


def _load_cache(path: str) -> dict:
    if os.path.exists(path):
        with open(path) as f:
            cache = json.load(f)
        if "networks" in cache:
            return cache
    return {"meta": {}, "networks": {}}


def _save_cache(cache: dict, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cache, f, indent=0, sort_keys=True)
    os.replace(tmp, path)


def _machine_meta(args) -> dict:
    import datetime
    import onnxruntime
    from machine import cpu_name
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    flags = info.get("flags", "").split()
    isa = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "baseline"
    return {"cpu": f"{cpu_name()} (family {info.get('cpu family', '?')}, model {info.get('model', '?')}, {isa})", "cpus": os.cpu_count(), "onnxruntime": onnxruntime.__version__, "threads": 1,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "min_time_s": args.min_time, "quantile": args.quantile, "clock": args.clock,
            "statistic": f"per round: the {args.quantile:g} quantile of the timed runs' {args.clock} times; "
                         "latency_ms: the minimum over rounds (other work on a shared machine only adds time)",
            "shared_machine_load_average": round(os.getloadavg()[0], 2)}


def measure(sources_of: dict, cache: dict, path: str, rounds: int, args, seed: int) -> None:
    """Interleaved rounds: every network once per round, in a fresh random order each round, so that a busy
    spell of the machine hits a few measurements of many networks rather than all of a few."""
    from netscore_fast import device
    nets = cache["networks"]
    rng = np.random.default_rng(seed)
    for r in range(rounds):
        todo = [n for n in sources_of if len(nets.get(n, {}).get("rounds_ms", [])) <= r
                and not nets.get(n, {}).get("error")]
        rng.shuffle(todo)
        t0 = time.time()
        for start in range(0, len(todo), 10):
            batch = todo[start:start + 10]
            res = device.measure_runtime([(n, sources_of[n]()) for n in batch], threads=1, min_time=args.min_time,
                                         quantile=args.quantile, clock=args.clock, progress=False)
            for n, ms in zip(batch, res.latency_ms):
                entry = nets.setdefault(n, {"rounds_ms": []})
                if n in res.errors:
                    entry["error"] = res.errors[n]
                    print(f"  {n}: {res.errors[n]}", file=sys.stderr)
                    continue
                entry["rounds_ms"].append(round(float(ms), 5))
                entry["latency_ms"] = min(entry["rounds_ms"])
            _save_cache(cache, path)
            print(f"  round {r + 1}/{rounds}: {min(start + 10, len(todo))}/{len(todo)} "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)


def noise(cache: dict, names) -> dict:
    """How far the rounds of the same networks disagree: the median over networks of the relative spread
    (max - min) / min, the median absolute percentage difference between two single rounds (the error a
    perfect predictor would show against one round's measurement), and between the minima of the odd and of
    the even rounds (about the noise of the figure kept), with the Kendall tau between those two."""
    from netscore_fast import device
    spread, pair, halves, odd, even = [], [], [], [], []
    for n in names:
        r = cache["networks"].get(n, {}).get("rounds_ms", [])
        if len(r) >= 2:
            spread.append((max(r) - min(r)) / min(r))
            pair.append(abs(r[0] - r[1]) / r[1])
            a, b = min(r[0::2]), min(r[1::2])
            halves.append(abs(a - b) / b)
            odd.append(a), even.append(b)
    if not spread:
        return {"n": 0}
    return {"n": len(spread), "spread_median_pct": float(np.median(spread) * 100),
            "spread_p90_pct": float(np.percentile(spread, 90) * 100),
            "round_vs_round_mdape_pct": float(np.median(pair) * 100),
            # the minimum of the odd rounds against the minimum of the even rounds: the error between two
            # estimates of the same network's latency made like the one kept (of about half the rounds)
            "split_half_mdape_pct": float(np.median(halves) * 100),
            # and how well the one ranks the networks like the other: the best tau a predictor can expect
            "split_half_kendall_tau": device.kendall_tau(odd, even)}


def evaluate(sources, y, macs, k: int, draws: int, seed: int, feature_sets=None, profile=None) -> dict:
    """Few-shot from our analysis' features, few-shot from a device profile's per-class predictions (what
    `device.fit(..., profile=...)` fits; only with a profile) and the MACs-only baseline, on the same draws."""
    from netscore_fast import device
    from netscore_fast import device_profile
    raw, _ = device.raw_features(sources, errors="raise")
    feature_sets = feature_sets or device.DEFAULT_FEATURE_SETS
    sets = {s: device.select_features(raw, s) for s in feature_sets}
    names = {s: device.feature_names(s) for s in feature_sets}
    psets, pnames = device_profile.profile_features(profile.data, sources, errors="raise") if profile else ({}, {})
    rng = np.random.default_rng(seed)
    keys = ("few_shot", "few_shot_profile", "macs_only") if profile else ("few_shot", "macs_only")
    out = {key: {"tau": [], "mdape": []} for key in keys}
    out["chosen"] = []
    for _ in range(draws):
        train = rng.choice(len(y), size=k, replace=False)
        test = np.setdiff1d(np.arange(len(y)), train)
        model = device.fit_features({s: X[train] for s, X in sets.items()}, names, y[train])
        preds = {"few_shot": sets[model.feature_set][test] @ model.coef}
        out["chosen"].append(model.feature_set)
        if profile:
            pmodel = device.fit_features({s: X[train] for s, X in psets.items()}, pnames, y[train])
            preds["few_shot_profile"] = psets[pmodel.feature_set][test] @ pmodel.coef
        coef = device._nnls_relative(np.c_[np.ones(k), macs[train]], y[train], 0.0)
        preds["macs_only"] = coef[0] + coef[1] * macs[test]
        for key, p in preds.items():
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
    ap.add_argument("--feature-sets", nargs="+", help="the fit's candidate feature sets (default: device's)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds (default 3)")
    ap.add_argument("--rerun-above", type=float, default=5.0,
                    help="networks whose rounds spread more than this many percent get --extra-rounds more")
    ap.add_argument("--extra-rounds", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds of timed runs per network and round")
    ap.add_argument("--quantile", type=float, default=0.1,
                    help="quantile of the run times taken per round (default 0.1: other work only ever adds time)")
    ap.add_argument("--clock", choices=("thread", "wall"), default="thread",
                    help="thread (default): onnxruntime's CPU time on the measuring thread, which leaves out the "
                         "time other processes held the core; wall: elapsed time (for a quiet machine)")
    ap.add_argument("--cache", default=os.path.join(HERE, "results", "device_measurements.json"),
                    help="measurement cache (JSON; a rerun measures only what is missing)")
    ap.add_argument("--summary", default=os.path.join(HERE, "results", "device_validation.json"),
                    help="where the reported figures are written (JSON)")
    ap.add_argument("--measure-only", action="store_true", help="measure, then stop")
    ap.add_argument("--no-measure", action="store_true", help="evaluate the cached measurements only")
    ap.add_argument("--profile", help="a device profile (device.json): also report its zero-shot predictions")
    args = ap.parse_args(argv)

    from machine import cpu_name
    from netscore_fast import zoo
    import onnxruntime

    print(f"# device validation: onnxruntime {onnxruntime.__version__}, 1 thread, {cpu_name()}, "
          f"{os.cpu_count()} CPUs (shared), load average {os.getloadavg()[0]:.1f}")
    nas_names = _nas_names(args.nas, args.seed)
    zoo_names = [f"zoo-{n}" for n in zoo.names()[:args.zoo]]
    cache = _load_cache(args.cache)
    if not args.no_measure:
        os.makedirs(os.path.dirname(os.path.abspath(args.cache)), exist_ok=True)
        if not cache["meta"]:
            cache["meta"] = _machine_meta(args)
        sources_of = {n: (lambda n=n: _nas_source(n, "zeros")) for n in nas_names}
        sources_of.update({n: (lambda n=n: _zoo_source(n)) for n in zoo_names})
        t0 = time.time()
        measure(sources_of, cache, args.cache, args.rounds, args, args.seed)
        noisy = [n for n in sources_of
                 if len(cache["networks"].get(n, {}).get("rounds_ms", [])) >= 2
                 and (lambda r: (max(r) - min(r)) / min(r))(cache["networks"][n]["rounds_ms"]) * 100 > args.rerun_above]
        if noisy and args.extra_rounds:
            print(f"# {len(noisy)} networks spread over {args.rerun_above:g} %: {args.extra_rounds} more rounds",
                  file=sys.stderr)
            measure({n: sources_of[n] for n in noisy}, cache, args.cache, args.rounds + args.extra_rounds, args,
                    args.seed + 1)
        cache["meta"]["measured_s"] = round(time.time() - t0 + cache["meta"].get("measured_s", 0), 1)
        cache["meta"]["last_measured"] = _machine_meta(args)["date"]
        _save_cache(cache, args.cache)
        print(f"# measured in {time.time() - t0:.0f} s (cache: {args.cache})")
    m = cache["meta"]
    if m:
        print(f"# measurements: {m.get('cpu')}, onnxruntime {m.get('onnxruntime')}, {m.get('date')}, "
              f"{m.get('statistic')}")
    if args.measure_only:
        return 0
    groups = {"NAS-Bench-201": (nas_names, lambda n: _nas_source(n, "dims")), "zoo": (zoo_names, _zoo_source)}
    summary = report(groups, cache, args)
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump({"measurements": cache["meta"], "k": args.k, "draws": args.draws, "seed": args.seed,
                       "groups": summary}, f, indent=1)
    return 0


def report(groups, cache, args) -> dict:
    from netscore_fast import profile_many
    summary = {}
    print("noise: two estimates of each network's latency (the minima of its odd and of its even rounds) "
          "against each other, MdAPE and Kendall tau: about the best a predictor can score")
    print(f"{'group':14s} {'n':>4s} {'k':>3s}  {'noise %':>7s} {'tau':>5s}  {'few-shot tau':>12s} {'MdAPE %':>8s}   "
          f"{'MACs-only tau':>13s} {'MdAPE %':>8s}   feature sets chosen")
    nets = cache["networks"]
    for group, (names, source_fn) in groups.items():
        names = [n for n in names if nets.get(n, {}).get("latency_ms")]
        if len(names) < 6:
            print(f"{group:14s} {len(names):4d}  too few measured networks")
            continue
        k = min(args.k, len(names) // 2)
        sources = [(n, source_fn(n)) for n in names]
        y = np.array([nets[n]["latency_ms"] for n in names])
        macs = np.asarray(profile_many(sources, progress=False)["macs"], float)
        from netscore_fast import device
        profile = device.load(args.profile) if args.profile else None
        r = evaluate(sources, y, macs, k, args.draws, args.seed, args.feature_sets, profile)
        fs, mb = r["few_shot"], r["macs_only"]
        nz = noise(cache, names)
        print(f"{group:14s} {len(names):4d} {k:3d}  {nz.get('split_half_mdape_pct', float('nan')):7.1f} "
              f"{nz.get('split_half_kendall_tau', float('nan')):5.3f}  "
              f"{np.mean(fs['tau']):12.3f} {np.mean(fs['mdape']):8.1f}   "
              f"{np.mean(mb['tau']):13.3f} {np.mean(mb['mdape']):8.1f}   {', '.join(sorted(set(r['chosen'])))}")
        if profile:
            pred = np.asarray(profile.predict(sources), float)
            ok = np.isfinite(pred)
            fp = r["few_shot_profile"]
            print(f"{'':14s} few-shot from the device profile (fit(profile=...)): tau {np.mean(fp['tau']):.3f}, "
                  f"MdAPE {np.mean(fp['mdape']):.1f} %")
            print(f"{'':14s} zero-shot ({args.profile}): tau {device.kendall_tau(pred[ok], y[ok]):.3f}, MdAPE "
                  f"{np.median(np.abs(pred[ok] - y[ok]) / y[ok]) * 100:.1f} % over {int(ok.sum())} networks")
        print(f"{'':14s} noise between rounds: {nz}")
        summary[group] = {"n": len(names), "k": k, "noise": nz, "feature_sets_chosen": r["chosen"],
                          **{key: {"kendall_tau": float(np.mean(r[key]["tau"])),
                                   "mdape_pct": float(np.mean(r[key]["mdape"])),
                                   "per_draw": r[key]} for key in r if key != "chosen"}}
        if profile:
            summary[group]["zero_shot"] = {"kendall_tau": device.kendall_tau(pred[ok], y[ok]),
                                           "mdape_pct": float(np.median(np.abs(pred[ok] - y[ok]) / y[ok]) * 100),
                                           "n": int(ok.sum())}
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
