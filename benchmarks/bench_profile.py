"""pytest-benchmark suite: netscore_fast.profile vs onnx.load vs onnx-tool on the same models.

    pytest benchmarks/bench_profile.py --benchmark-enable -p no:cacheprovider
    pytest benchmarks/bench_profile.py --benchmark-enable -k "resnet50_full or densenet121"

pytest-benchmark reports each tool separately; benchmarks/compare_peers.py prints the ratios of one run.
"""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest

import models as bench_models

NAMES = list(bench_models.light_models()) + ["resnet50_full"]


@pytest.mark.parametrize("name", NAMES)
def test_netscore_fast_profile(benchmark, bench_model_paths, name):
    import netscore_fast

    path = bench_model_paths[name]
    benchmark.group = f"profile {name}"
    result = benchmark(netscore_fast.profile, path)
    benchmark.extra_info.update(params=result.params, macs=result.macs, nodes=result.num_layers)
    assert result.params > 0


@pytest.mark.parametrize("name", NAMES)
def test_netscore_fast_profile_bytes(benchmark, bench_model_paths, name):
    import netscore_fast

    data = bench_model_paths[name].read_bytes()
    benchmark.group = f"profile {name}"
    benchmark(netscore_fast.profile, data)


@pytest.mark.parametrize("name", NAMES)
def test_onnx_load(benchmark, bench_model_paths, name):
    onnx = pytest.importorskip("onnx")
    path = str(bench_model_paths[name])
    benchmark.group = f"profile {name}"
    benchmark.pedantic(onnx.load, args=(path,), rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("name", NAMES)
def test_onnx_tool(benchmark, bench_model_paths, name):
    onnx_tool = pytest.importorskip("onnx_tool")
    path = str(bench_model_paths[name])

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            graph = onnx_tool.Model(path).graph
            graph.shape_infer()
            graph.profile()
        return graph

    benchmark.group = f"profile {name}"
    graph = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(params=float(graph.params))


def test_import_time(benchmark):
    """A fresh interpreter importing netscore_fast (subtract the bare-interpreter benchmark below)."""
    benchmark.group = "import"
    benchmark.pedantic(subprocess.run, args=([sys.executable, "-c", "import netscore_fast"],),
                       kwargs={"check": True}, rounds=10, iterations=1, warmup_rounds=1)


def test_bare_interpreter(benchmark):
    benchmark.group = "import"
    benchmark.pedantic(subprocess.run, args=([sys.executable, "-c", "pass"],), kwargs={"check": True},
                       rounds=10, iterations=1, warmup_rounds=1)
