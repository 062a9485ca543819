"""Hostile shapes (issue 11): the analysis stays near-linear in the file's size for any shape of model.

The shapes are those of benchmarks/hostile_shapes.py. The quick test profiles each at 256 KB in this process;
the 30 MB bar ("a 30 MB file of any shape profiles in under 2 s", each in a child with a 4 GB address-space
limit) takes minutes on a busy machine, so it runs only when NETSCORE_HOSTILE_SHAPES_MB is set (e.g. 30).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

import netscore_fast as nf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import hostile_shapes  # noqa: E402

# shapes that are refused as a ModelError by design (a contradiction), not for their size
# refused by a documented limit (docs/limits.md): attribute size; subgraph nesting deeper than 32
REFUSED = {"huge_attributes", "deep_subgraphs"}
SIZE = 256 << 10


@pytest.mark.parametrize("shape", sorted(hostile_shapes.SHAPES))
def test_shape_at_256kb_profiles_quickly(shape, tmp_path):
    data = hostile_shapes.SHAPES[shape](SIZE)
    assert SIZE * 0.8 < len(data) < SIZE * 1.4, len(data)
    path = tmp_path / f"{shape}.onnx"
    path.write_bytes(data)
    t0 = time.process_time()
    try:
        p = nf.profile(str(path))
        assert shape not in REFUSED
        assert isinstance(p.summary(), str)
    except nf.ModelError as e:
        assert shape in REFUSED, str(e)
    table = nf.profile_many([str(path), data], threads=2, progress=False)
    assert list(table.ok) == [shape not in REFUSED] * 2, list(table["error"])
    assert time.process_time() - t0 < 2.0   # at 256 KB: 120 times below the bar's size


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NETSCORE_HOSTILE_SHAPES_MB"),
                    reason="set NETSCORE_HOSTILE_SHAPES_MB (e.g. 30) to run the size bar of every shape")
def test_every_shape_at_30mb_under_2s_and_4gb(tmp_path):
    mb = float(os.environ["NETSCORE_HOSTILE_SHAPES_MB"])
    rows = hostile_shapes.run(sorted(hostile_shapes.SHAPES), mb, memory_gb=4.0, limit=2.0, timeout=120.0,
                              folder=str(tmp_path))
    failed = [(r["shape"], r["how"], r["outcome"], r["cpu"], r["peak_mb"]) for r in rows if not r["pass"]]
    assert not failed, failed
