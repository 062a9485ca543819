"""Two builds of netscore_fast side by side in one run: is a change speed-neutral?

Each round runs one child process per build (alternating old, new, old, new, ...), each measuring the
same figures with the same benchmark code: profile() on the benchmark models (compare_peers.py's
netscore_fast side), the NAS-Bench-201 space end to end on 1 and 2 threads (bench_bulk.py), the core op
table against onnxruntime in the same process (bench_kernels_vs_ort.py: ours, ORT and their ratio) and
bench.measure of the light ResNet-50. The report is the median of each figure over rounds and the
ratio new / old (time: < 1 means the new build is faster).

    python benchmarks/compare_builds.py --old OLD_CHECKOUT/python --new python --rounds 3

Each side's directory must hold an importable netscore_fast with its built _core.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _payload(args) -> dict:
    """Figures of the netscore_fast on sys.path, all as seconds (lower is better) unless named ratio."""
    sys.path.insert(0, HERE)
    import netscore_fast as nf
    from netscore_fast import bench, nas

    import bench_kernels_vs_ort as kvo
    import models as bench_models

    out = {}
    for name, path in sorted(bench_models.benchmark_models().items()):
        data = path.read_bytes()
        nf.profile(data)
        samples = []
        for _ in range(args.profile_calls):
            t = time.perf_counter()
            nf.profile(data)
            samples.append(time.perf_counter() - t)
        out[f"profile {name}"] = statistics.median(samples)
    models = list(nas.nasbench201_models(limit=args.nas))
    for threads in (1, 2):
        nf.profile_many(models[:200], threads=threads, progress=False)
        t = time.perf_counter()
        nf.profile_many(models, threads=threads, progress=False)
        out[f"profile_many NAS-Bench-201 x{len(models)}, {threads} thread(s)"] = time.perf_counter() - t
    entries = [e for e in bench.SUITE if e["quick"]]
    for row in kvo.compare_ops(entries, args.min_time):
        out[f"kernel {row['op']}"] = row["ours_s"]
        out[f"ORT {row['op']}"] = row["ort_s"]
    table = bench.measure(kvo.light_resnet50_path(), min_time=args.min_time / 3)
    out["bench.measure ResNet-50, back to back"] = table.sequence_s
    return out


def _run(pythonpath: str, args) -> dict:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(pythonpath))
    cmd = [sys.executable, os.path.abspath(__file__), "--payload", "--nas", str(args.nas),
           "--min-time", str(args.min_time), "--profile-calls", str(args.profile_calls)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", help="directory holding the old build's netscore_fast")
    ap.add_argument("--new", help="directory holding the new build's netscore_fast")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nas", type=int, default=5000, help="NAS-Bench-201 networks per bulk figure")
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds of timing per op and side")
    ap.add_argument("--profile-calls", type=int, default=200)
    ap.add_argument("--json", help="also write every round's figures here")
    ap.add_argument("--payload", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.payload:
        print(json.dumps(_payload(args)))
        return 0
    if not (args.old and args.new):
        ap.error("--old and --new are required")
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    print(f"{cpu}, {os.cpu_count()} logical CPUs; {args.rounds} alternating rounds; load average "
          f"{os.getloadavg()[0]:.1f}")
    rounds = {"old": [], "new": []}
    for r in range(args.rounds):
        for side in ("old", "new"):
            rounds[side].append(_run(getattr(args, side), args))
            print(f"  round {r + 1} {side} done", file=sys.stderr)
    keys = list(rounds["old"][0])
    width = max(len(k) for k in keys)
    print(f"{'figure (median over rounds)':{width}s} {'old':>10s} {'new':>10s} {'new/old':>8s}")
    ratios = []
    for k in keys:
        old = statistics.median(x[k] for x in rounds["old"])
        new = statistics.median(x[k] for x in rounds["new"])
        ratio = new / old
        if not k.startswith("ORT "):
            ratios.append(ratio)
        print(f"{k:{width}s} {old * 1e3:8.3f}ms {new * 1e3:8.3f}ms {ratio:8.2f}")
    geo = statistics.geometric_mean(ratios)
    print(f"geometric mean new/old over our figures: {geo:.3f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
    for side in ("old", "new"):
        ours_ort = [statistics.median(x[k] for x in rounds[side]) /
                    statistics.median(x["ORT" + k[len("kernel"):]] for x in rounds[side])
                    for k in keys if k.startswith("kernel ")]
        print(f"{side}: kernels' time / ORT time, geometric mean {statistics.geometric_mean(ours_ort):.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rounds, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
