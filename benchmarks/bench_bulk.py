"""Bulk profiling benchmarks: the whole NAS-Bench-201 space, thread scaling, onnx-tool side by side,
flat memory over a 100,000-model iterator, and the cost of a cache hit.

Script:  python benchmarks/bench_bulk.py [--quick] [--repeats N]   (prints medians, spreads and ratios)
pytest:  pytest benchmarks/bench_bulk.py --benchmark-enable
Every comparison is measured side by side in the same run, runs interleaved, and reported as a median.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import cpu_name  # noqa: E402

ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def _stats(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[0], xs[-1]


def space_end_to_end(threads: int, limit=None) -> tuple:
    """(wall seconds, CPU seconds of the process) to generate and profile the space (or its first `limit`
    networks) in memory."""
    from netscore_fast import nas
    from netscore_fast.bulk import profile_many

    cpu, start = time.process_time(), time.perf_counter()
    table = profile_many(nas.nasbench201_models(limit=limit), threads=threads, progress=False)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert table.ok.all()
    return elapsed, cpu


def bench_space(repeats: int, limit) -> dict:
    n = limit or 15625
    times = {1: [], 2: []}
    cpus = {1: [], 2: []}
    for _ in range(repeats):            # interleaved: 1 thread, 2 threads, 1, 2, ...
        for t in (1, 2):
            wall, cpu = space_end_to_end(t, limit)
            times[t].append(wall)
            cpus[t].append(cpu)
    out = {}
    for t in (1, 2):
        med, lo, hi = _stats(times[t])
        out[t] = n / med
        cpu = statistics.median(cpus[t])
        print(f"  {t} thread{'s' if t > 1 else ' '}: median {med:6.2f} s  (min {lo:.2f}, max {hi:.2f})  "
              f"{n / med:8.0f} models/s   CPU {cpu / n * 1e6:6.0f} us/model (wall x cores used {cpu / med:.2f})")
    print(f"  scaling 2 threads / 1 thread: {out[2] / out[1]:.2f}x wall   (space of {n} networks)")
    # On a shared machine the wall ratio is capped by the cores actually granted; CPU time per model says
    # whether the second thread adds work (contention) or only parallelism.
    c1, c2 = statistics.median(cpus[1]), statistics.median(cpus[2])
    print(f"  CPU time per model, 2 threads / 1 thread: {c2 / c1:.2f} (1.00 = no parallel overhead)")
    return out


def bench_onnx_tool(samples: int, repeats: int) -> None:
    try:
        import onnx_tool
    except ImportError:
        print("  onnx-tool not installed: skipped (pip install onnx-tool)")
        return
    import contextlib
    import io

    import numpy as np
    from netscore_fast import nas
    from netscore_fast.bulk import profile_many

    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i in range(samples):
            p = os.path.join(d, f"nb201_{i}.onnx")
            with open(p, "wb") as f:   # real (zero) payloads: onnx-tool reads the weights
                f.write(nas.nasbench201(i * 15625 // samples, weights="zeros"))
            paths.append(p)

        x = np.zeros((1, 3, 32, 32), dtype=np.float32)

        def run_onnx_tool():
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                for p in paths:
                    m = onnx_tool.Model(p)
                    m.graph.shape_infer({"input": x})   # it needs the symbolic batch dim fixed
                    m.graph.profile()
            return time.perf_counter() - start

        def run_ours(threads=1, min_time=0.2):
            # our pass over the files takes a few ms: repeat it for at least min_time (onnx-tool's single
            # pass already takes about a second), so both are timed in warm loops of similar length
            runs, start = 0, time.perf_counter()
            while True:
                t = profile_many(paths, threads=threads, progress=False)
                runs += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_time:
                    break
            assert t.ok.all()
            return elapsed / runs

        run_onnx_tool()
        run_ours()   # warm-up of both
        ours, peer, ours_all = [], [], []
        for _ in range(repeats):   # interleaved rounds
            peer.append(run_onnx_tool())
            ours.append(run_ours())
            ours_all.append(run_ours(threads=0))
        o, p, oa = statistics.median(ours), statistics.median(peer), statistics.median(ours_all)
        print(f"  onnx-tool : {samples / p:8.1f} models/s  (median of {repeats} rounds, {samples} files, "
              f"{sum(os.path.getsize(x) for x in paths) / samples / 1e6:.1f} MB each)")
        print(f"  ours, 1 thread (same files): {samples / o:8.1f} models/s  "
              f"(rounds min {samples / max(ours):.0f}, max {samples / min(ours):.0f})")
        print(f"  ours, all cores: {samples / oa:8.1f} models/s   ratio {p / oa:.0f}x")
        print(f"  ratio ours / onnx-tool, 1 thread each: {p / o:.0f}x")


_MEM_CHILD = """
import resource, sys, time
from netscore_fast import nas
from netscore_fast.bulk import profile_many

def peak_kib():
    # VmHWM is this process's own peak (a new address space at exec); ru_maxrss would start from the
    # parent's peak at fork on Linux, hiding what the child itself used
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

n = int(sys.argv[1])
data = nas.nasbench201(sys.argv[2])
profile_many([data], threads=2, progress=False)
base = peak_kib()   # after imports and one model
start = time.perf_counter()
t = profile_many((data for _ in range(n)), threads=2, progress=False)
assert len(t) == n and t.ok.all()
print(peak_kib(), time.perf_counter() - start, base)
"""


def peak_rss_kib(n: int, arch: str) -> tuple:
    out = subprocess.run([sys.executable, "-c", _MEM_CHILD, str(n), arch], check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def bench_memory(big: int) -> None:
    small_rss, t_small, base = peak_rss_kib(1000, ALL_NONE)
    big_rss, t_big, base_big = peak_rss_kib(big, ALL_NONE)
    print(f"  after imports and one model: max RSS {base / 1024:7.1f} MiB")
    print(f"  1,000 models: max RSS {small_rss / 1024:7.1f} MiB ({t_small:.1f} s)")
    print(f"  {big:,} models: max RSS {big_rss / 1024:7.1f} MiB ({t_big:.1f} s; "
          f"+{(big_rss - base_big) / 1024:.1f} MiB over its start)")
    print(f"  ratio: {big_rss / small_rss:.2f}x (target < 2x)")


def bench_cache(n: int, repeats: int) -> None:
    """Cache hits against fresh analysis, one thread, with the cache state chosen on purpose:

    - parts: n networks as ModelParts from nasbench201_models, the form a NAS generator hands over; their
      pieces are shared between networks, so they stay in the caches;
    - bytes: the same networks as distinct bytes built beforehand (~20 KB each, together far beyond the L2),
      so hashing reads them from memory: the worst case for a content key;
    - files: the same networks as files, keyed by (path, size, mtime).

    Keys: the content (XXH3-128 of the bytes) or the architecture string (cache_key). Each hit is timed twice:
    served by this process's remembered rows (a search re-proposing a candidate), and read from the database
    file by a new connection that remembers nothing (another process, a later run)."""
    import collections

    from netscore_fast import nas
    from netscore_fast.bulk import profile_many
    from netscore_fast.cache import ResultCache

    key = nas.CacheKey("cifar10")
    parts = list(nas.nasbench201_models(limit=n))
    models = [(arch, bytes(p)) for arch, p in parts]
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, (_, data) in enumerate(models):
            paths.append(os.path.join(d, f"nb201_{i}.onnx"))
            with open(paths[-1], "wb") as f:
                f.write(data)
        db = os.path.join(d, "cache.db")
        # (label, the sources and fresh run it compares with, arguments)
        kinds = [("parts, content key", "parts", {}), ("parts, arch. key", "parts", {"cache_key": key}),
                 ("bytes, content key", "bytes", {}), ("bytes, arch. key", "bytes", {"cache_key": key}),
                 ("files, by stat", "files", {})]
        sources = {"parts": parts, "bytes": models, "files": paths}
        runs = {name: (name, None, {}) for name in sources}
        for label, of, extra in kinds:
            runs[label + " | here"] = (of, lambda: db, extra)
            runs[label + " | new"] = (of, lambda: ResultCache(db), extra)
        for of, cache, extra in runs.values():   # warm: every key kind stored
            if cache is not None:
                profile_many(sources[of], threads=1, progress=False, cache=db, **extra)
        wall = collections.defaultdict(list)
        for _ in range(repeats):
            for name, (of, cache, extra) in runs.items():
                args = dict(extra, cache=cache()) if cache is not None else {}
                start = time.perf_counter()
                profile_many(sources[of], threads=1, progress=False, **args)
                wall[name].append(time.perf_counter() - start)
                if isinstance(args.get("cache"), ResultCache):
                    args["cache"].close()
    us = {k: statistics.median(v) / n * 1e6 for k, v in wall.items()}
    print(f"  (1 thread, {n:,} NAS-Bench-201 networks of ~{sum(len(b) for _, b in models) / n / 1000:.0f} KB, "
          f"median of {repeats})")
    print("  fresh analysis: " + ", ".join(f"{name} {us[name]:.1f} us" for name in sources))
    print(f"  {'cache hit':<20} {'within this process':>22} {'read by a new connection':>27}   (target < 5 %)")
    for label, of, _ in kinds:
        here, new = us[label + " | here"], us[label + " | new"]
        print(f"  {label:<20} {here:8.2f} us = {100 * here / us[of]:4.1f} %     "
              f"{new:8.2f} us = {100 * new / us[of]:4.1f} %")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 3,000-network slice, 20,000-model memory run")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    import netscore_fast
    print(f"netscore_fast {netscore_fast.__version__} on {cpu_name()}, {os.cpu_count()} logical CPUs, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}")
    print("NAS-Bench-201 space, generated in memory and profiled end to end:")
    bench_space(args.repeats, 3000 if args.quick else None)
    print("onnx-tool side by side (Model(path); graph.shape_infer(); graph.profile()):")
    bench_onnx_tool(10 if args.quick else 60, args.repeats)
    print("Peak memory of an iterator of repeated NAS-Bench-201 bytes (separate processes):")
    bench_memory(20_000 if args.quick else 100_000)
    print("Cache hit against fresh analysis:")
    bench_cache(1000 if args.quick else 3000, args.repeats)
    return 0


# --- pytest-benchmark -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nb_models():
    from netscore_fast import nas
    return [(nas.nasbench201_arch(i), nas.nasbench201(i)) for i in range(0, 15625, 25)]


def test_generate_nasbench201(benchmark):
    from netscore_fast import nas
    archs = [nas.nasbench201_arch(i) for i in range(500)]
    benchmark(lambda: [nas.nasbench201(a) for a in archs])


@pytest.mark.parametrize("threads", [1, 2])
def test_profile_many_nasbench201(benchmark, nb_models, threads):
    from netscore_fast.bulk import profile_many
    table = benchmark(profile_many, nb_models, threads=threads, progress=False)
    assert table.ok.all()


def test_profile_many_cache_hit(benchmark, nb_models, tmp_path):
    from netscore_fast.bulk import profile_many
    db = tmp_path / "c.db"
    profile_many(nb_models, cache=db, progress=False)
    table = benchmark(profile_many, nb_models, cache=db, threads=1, progress=False)
    assert table.ok.all()


if __name__ == "__main__":
    sys.exit(main())
