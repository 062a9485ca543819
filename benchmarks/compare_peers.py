"""Side-by-side timing of netscore_fast.profile against onnx-tool and onnx.load on the same files.

Every tool is timed on every model in the same run, warm (after warm-up calls), one thread; the table
shows medians with the interquartile range and the ratios peer / ours. Also reported: onnx-tool's
params next to ours, the Python overhead of profile() over the bare C++ call, and the time of
`import netscore_fast` (median of fresh interpreters, minus a bare interpreter start).

    python benchmarks/compare_peers.py [--models resnet50,densenet121] [--json results.json]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import models as bench_models  # noqa: E402
from machine import cpu_name  # noqa: E402


def timed(fn, *, repeat: int, min_time: float = 0.0, warmup: int = 2):
    """Run fn warm; return sorted per-call seconds (at least `repeat` calls, or `min_time` seconds)."""
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < repeat or (time.perf_counter() - start) < min_time:
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e9)
        if len(samples) >= 100 * max(repeat, 1):
            break
    return sorted(samples)


def timed_interleaved(fns, *, repeat: int, min_time: float = 0.0, warmup: int = 2):
    """Time several functions alternately (one call of each per round) so load changes hit all alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples = [[] for _ in fns]
    start = time.perf_counter()
    while len(samples[0]) < repeat or (time.perf_counter() - start) < min_time:
        for fn, out in zip(fns, samples):
            t0 = time.perf_counter_ns()
            fn()
            out.append((time.perf_counter_ns() - t0) / 1e9)
        if len(samples[0]) >= 100 * max(repeat, 1):
            break
    return [sorted(s) for s in samples]


def med(samples):
    return statistics.median(samples)


def iqr(samples):
    n = len(samples)
    return samples[n // 4], samples[(3 * n) // 4]


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def onnx_tool_profile(path):
    import onnx_tool

    with contextlib.redirect_stdout(io.StringIO()):
        model = onnx_tool.Model(str(path))
        graph = model.graph
        graph.shape_infer()
        graph.profile()
    return graph


def import_time(runs: int = 15):
    """Median seconds of `import netscore_fast` in a fresh interpreter, minus a bare interpreter start."""
    def run(code):
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples.append(time.perf_counter() - t0)
        return med(samples)

    run("pass")  # warm the file cache
    bare = run("pass")
    full = run("import netscore_fast")
    return full - bare, bare, full


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", help="comma-separated subset of: " + ", ".join(bench_models.light_models())
                    + ", resnet50_full")
    ap.add_argument("--repeat", type=int, default=50, help="minimum timed calls of netscore_fast per model")
    ap.add_argument("--min-time", type=float, default=0.3, help="minimum seconds of netscore_fast timing per model")
    ap.add_argument("--peer-repeat", type=int, default=5, help="minimum timed calls of each peer per model")
    ap.add_argument("--peer-min-time", type=float, default=0.5, help="minimum seconds of timing per peer and model")
    ap.add_argument("--no-onnx-tool", action="store_true", help="skip onnx-tool (it is slow)")
    ap.add_argument("--import-runs", type=int, default=15)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)

    import onnx

    import netscore_fast
    from netscore_fast import _core

    all_models = bench_models.benchmark_models()
    names = args.models.split(",") if args.models else list(all_models)
    print(f"# CPU: {cpu_name()} | Python {platform.python_version()} | onnx {onnx.__version__}", end="")
    if not args.no_onnx_tool:
        from importlib.metadata import version

        print(f" | onnx-tool {version('onnx-tool')}", end="")
    print(f" | netscore_fast {netscore_fast.__version__} | one thread, warm, medians [IQR]\n")

    results = []
    for name in names:
        path = all_models[name]
        r = {"model": name, "size_mb": path.stat().st_size / 1e6}
        p = netscore_fast.profile(path)
        r.update(nodes=p.num_layers, params=p.params, macs=p.macs)
        ours = timed(lambda: netscore_fast.profile(path), repeat=args.repeat, min_time=args.min_time)
        r.update(ours=med(ours), ours_iqr=iqr(ours))
        load = timed(lambda: onnx.load(str(path)), repeat=args.peer_repeat, min_time=args.peer_min_time, warmup=1)
        r.update(onnx_load=med(load), onnx_load_iqr=iqr(load))
        if not args.no_onnx_tool:
            graph = onnx_tool_profile(path)
            r["onnx_tool_params"] = int(graph.params) if graph.params is not None else None
            tool = timed(lambda: onnx_tool_profile(path), repeat=args.peer_repeat, min_time=args.peer_min_time,
                         warmup=1)
            r.update(onnx_tool=med(tool), onnx_tool_iqr=iqr(tool))
        results.append(r)
        print(f"  measured {name}", file=sys.stderr)

    header = ["model", "MB", "nodes", "netscore_fast", "onnx.load", "ratio", "onnx-tool", "ratio",
              "params (ours)", "params (onnx-tool)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in results:
        lo, hi = r["ours_iqr"]
        cells = [r["model"], f"{r['size_mb']:.1f}", str(r["nodes"]),
                 f"{fmt_time(r['ours'])} [{fmt_time(lo)}-{fmt_time(hi)}]",
                 fmt_time(r["onnx_load"]), f"{r['onnx_load'] / r['ours']:.0f}x"]
        if "onnx_tool" in r:
            cells += [fmt_time(r["onnx_tool"]), f"{r['onnx_tool'] / r['ours']:.0f}x", f"{r['params']:,}",
                      f"{r['onnx_tool_params']:,}"]
        else:
            cells += ["-", "-", f"{r['params']:,}", "-"]
        print("| " + " | ".join(cells) + " |")

    print("\nPython overhead of profile() over the bare C++ call, medians (both call orders, averaged):")
    for name in [n for n in ("bvlc_alexnet", "resnet50") if n in all_models]:
        path = all_models[name]
        overhead = []
        for order in (1, -1):
            fns = [lambda: netscore_fast.profile(path), lambda: _core.profile_file(str(path), layers=False)][::order]
            first, second = timed_interleaved(fns, repeat=500)
            ours_s, core_s = (first, second)[::order]
            overhead.append(med(ours_s) - med(core_s))
        print(f"  {name:14s} +{statistics.mean(overhead) * 1e6:.1f} us per call")
        results.append({"model": name, "python_overhead_seconds": statistics.mean(overhead)})
    if results and "onnx_tool" in results[0]:
        worst = min((r for r in results if "onnx_tool" in r), key=lambda r: r["onnx_tool"] / r["ours"])
        print(f"\nSmallest speed-up over onnx-tool: {worst['onnx_tool'] / worst['ours']:.0f}x ({worst['model']})")

    if args.import_runs:
        net, bare, full = import_time(args.import_runs)
        print(f"\nimport netscore_fast: {net * 1e3:.1f} ms (interpreter with import {full * 1e3:.1f} ms, "
              f"bare {bare * 1e3:.1f} ms; medians of {args.import_runs})")
        results.append({"import_seconds": net, "bare_interpreter_seconds": bare})

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
