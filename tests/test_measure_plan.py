"""The counted and the timed layers are one list: bench rows and layer plans follow `profile(...).layers`
node for node (names, op types, order) and report the analysed shapes.

The expected shape text is rebuilt here from `Profile.layer_shapes()` (the analysis' own shapes), so the
test compares the timing side with the counting side, not with a copy of its own output.
"""
from __future__ import annotations

import glob
import os

import pytest

from netscore_fast import _core, bench, profile, zoo

HERE = os.path.dirname(__file__)
EXPORTS = sorted(glob.glob(os.path.join(HERE, "fixtures", "exports", "*.onnx")))
STATUSES = {"measured", "fused", "folded", "noop", "unmeasured"}


def _dims_text(dims):
    return "x".join("?" if d < 0 else str(d) for d in dims) if dims else "scalar"


def _expected_shape(inputs, outputs):
    """First present (non-empty) input shape -> first output shape."""
    first = next((s for s in inputs if s), None)
    return (_dims_text(first) if first is not None else "") + " -> " + (_dims_text(outputs[0]) if outputs else "")


def _counted(source):
    p = profile(source)
    layers = p.layers
    shapes = p.layer_shapes()
    assert len(shapes) == len(layers)
    return [
        (str(layers["name"][i]), str(layers["op_type"][i]), int(layers["node_index"][i]), _expected_shape(*shapes[i]))
        for i in range(len(layers))
    ]


def _as_bytes(source):
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    with open(source, "rb") as f:
        return f.read()


def _sources():
    out = [pytest.param(p, id=os.path.basename(p)) for p in EXPORTS]
    out += [pytest.param(name, id="zoo-" + name) for name in zoo.names()]
    return out


def _load(source):
    return source if source in EXPORTS else zoo.build(source)


@pytest.mark.parametrize("source", _sources())
def test_plan_rows_are_the_counted_layers(source):
    src = _load(source)
    counted = _counted(src)
    plan = _core.bench_plan_model_buffer(_as_bytes(src), "<model>", [], 1)
    planned = [(r["name"], r["op_type"], r["node_index"], r["shape"]) for r in plan]
    assert planned == counted
    assert {r["status"] for r in plan} <= STATUSES
    # a measured row has a kernel configuration; the others say why they take no time of their own
    for r in plan:
        assert bool(r["config"]) == (r["status"] == "measured"), r
        if r["status"] in ("fused", "folded", "unmeasured"):
            assert r["note"], r


# Timing is slow on a shared machine: the exported fixtures and a few zoo networks that cover the fused
# conv + BN + activation, residual Add, depthwise and attention (batched MatMul) paths.
TIMED = [pytest.param(p, id=os.path.basename(p)) for p in EXPORTS if "resnet50" not in p]
TIMED += [pytest.param(n, id="zoo-" + n) for n in ("resnet18", "mobilenet_v3_small", "squeezenet1_1")]


@pytest.mark.parametrize("source", TIMED)
def test_timed_rows_are_the_counted_layers(source):
    src = _load(source)
    counted = _counted(src)
    table = bench.measure(src, min_time=1e-5, sequence=False)
    timed = [(r["name"], r["op_type"], r["shape"]) for r in table]
    assert timed == [(name, op, shape) for name, op, _, shape in counted]
    plan = _core.bench_plan_model_buffer(_as_bytes(src), "<model>", [], 1)
    for row, planned in zip(table, plan):
        if row["status"] == "unmeasured" and planned["status"] == "measured":
            assert row["note"].startswith("kernel rejected the configuration"), row
        else:
            assert row["status"] == planned["status"], (row, planned)
