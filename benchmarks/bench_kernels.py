"""pytest-benchmark suite: our kernels and onnxruntime on the standard op table, one group per shape.

Each group holds two entries timed in the same session: `ours` (a prepared netscore_fast kernel, random
weights, GIL released during the call) and `ort` (onnxruntime on the equivalent single-node model, one
thread, IOBinding). Compare them with `--benchmark-group-by=group` (the default here); the ratio script
benchmarks/bench_kernels_vs_ort.py prints ratios and GFLOP/s directly.

    pytest benchmarks/bench_kernels.py --benchmark-enable -p no:cacheprovider
"""
from __future__ import annotations

import pytest

from netscore_fast import _core, bench

ENTRIES = [e for e in bench.SUITE]
IDS = [e["label"].replace(" ", "_") for e in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_ours(benchmark, entry):
    op = _core.BenchOp(entry["spec"], 1)
    benchmark.group = entry["label"]
    benchmark.extra_info.update(kernel=op.kernel, isa=op.isa, flops=op.flops, bytes=op.bytes)
    benchmark(op.run)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_ort(benchmark, entry):
    pytest.importorskip("onnxruntime")
    from bench_kernels_vs_ort import ort_timer, random_feeds

    model = bench.single_op_model(entry["spec"])
    run = ort_timer(model.SerializeToString(), random_feeds(model))
    benchmark.group = entry["label"]
    benchmark(run)
