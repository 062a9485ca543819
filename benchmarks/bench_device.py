"""Latency prediction over the NAS-Bench-201 space: a device profile's and a calibrated model's predict, and
profile_many(device=...), against profile_many of the same networks in the same run.

Script:  python benchmarks/bench_device.py [--limit N] [--rounds R] [--threads T] [--json out.json]
pytest:  pytest benchmarks/bench_device.py --benchmark-enable
The networks are generated beforehand (bytes in memory); the calibrated models are fitted on 30 of them
(their "measurements": the profile's predictions scaled, which is enough to time the prediction). Every case
runs once per round, rounds interleaved; reported: the median wall and process-CPU time per case and its
ratio to profile_many's. The machine may be shared: CPU time and ratios are the figures to quote.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import cpu_name  # noqa: E402

PROFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "device_profile.json")


def networks(limit=None):
    """(architecture, ONNX bytes) of the space's first `limit` networks (all 15,625 by default), spread evenly."""
    from netscore_fast import nas
    n = limit or 15625
    return [(nas.nasbench201_arch(i), nas.nasbench201(i)) for i in range(0, 15625, max(1, 15625 // n))][:n]


def device_models(nets, profile_path=PROFILE):
    """(the device profile, a calibrated model on the analysis' features, one on the profile's predictions)."""
    from netscore_fast import device
    prof = device.load(profile_path)
    fit_on = nets[:: max(1, len(nets) // 30)][:30]
    measured = prof.predict(fit_on) * 1.3
    return prof, device.fit(fit_on, measured), device.fit(fit_on, measured, profile=prof)


def cases(nets, prof, analysis_model, profile_model, threads):
    from netscore_fast.bulk import profile_many
    return {
        "profile_many": lambda: profile_many(nets, threads=threads, progress=False),
        "profile_many(device=calibrated, analysis features)":
            lambda: profile_many(nets, threads=threads, progress=False, device=analysis_model),
        "calibrated (analysis features).predict": lambda: analysis_model.predict(nets, threads=threads),
        "profile_many(device=calibrated, profile features)":
            lambda: profile_many(nets, threads=threads, progress=False, device=profile_model),
        "calibrated (profile features).predict": lambda: profile_model.predict(nets, threads=threads),
        "profile_many(device=profile)": lambda: profile_many(nets, threads=threads, progress=False, device=prof),
        "DeviceProfile.predict": lambda: prof.predict(nets, threads=threads),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="networks (default: all 15,625)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", default=PROFILE, help="a device profile (default: this repository's)")
    ap.add_argument("--json", help="write the medians here")
    args = ap.parse_args(argv)
    import netscore_fast
    nets = networks(args.limit)
    todo = cases(nets, *device_models(nets, args.profile), args.threads)
    for run in todo.values():   # warm: tables built, pages touched
        run()
    wall = {k: [] for k in todo}
    cpu = {k: [] for k in todo}
    for _ in range(args.rounds):
        for name, run in todo.items():
            c, t = time.process_time(), time.perf_counter()
            run()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    n = len(nets)
    print(f"netscore_fast {netscore_fast.__version__} on {cpu_name()}, {os.cpu_count()} logical CPUs, Python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}; {n} NAS-Bench-201 networks, "
          f"{args.threads} thread(s), median of {args.rounds} interleaved rounds")
    base_wall, base_cpu = statistics.median(wall["profile_many"]), statistics.median(cpu["profile_many"])
    out = {"cpu": cpu_name(), "networks": n, "threads": args.threads, "rounds": args.rounds, "cases": {}}
    for name in todo:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        out["cases"][name] = {"wall_s": w, "cpu_s": c, "wall_ratio": w / base_wall, "cpu_ratio": c / base_cpu}
        print(f"  {name:52s} wall {w:6.2f} s ({w / base_wall:4.2f}x)   CPU {c / n * 1e3:6.3f} ms/network "
              f"({c / base_cpu:4.2f}x)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


# --- pytest-benchmark -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nb_device():
    nets = networks(625)
    return nets, device_models(nets)


def test_device_profile_predict_nasbench201(benchmark, nb_device):
    nets, (prof, _, _) = nb_device
    benchmark(prof.predict, nets)


@pytest.mark.parametrize("kind", ["profile", "calibrated"])
def test_profile_many_device_nasbench201(benchmark, nb_device, kind):
    from netscore_fast.bulk import profile_many
    nets, (prof, analysis_model, _) = nb_device
    table = benchmark(profile_many, nets, progress=False, device=prof if kind == "profile" else analysis_model)
    assert table.ok.all()


if __name__ == "__main__":
    sys.exit(main())
