"""The totals-only walk (profile_many skips per-node rows) and the walker's reused per-thread value table.

References are hand counts of the tiny model (see conftest.make_tiny_model): params 162, MACs per batch item
Conv 4*8*8*27 = 6912 + Gemm 10*4 = 40.
"""
from __future__ import annotations

import math

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import netscore_fast as nf  # noqa: E402

from conftest import LIGHT_MODELS, make_tiny_model  # noqa: E402

TINY_PARAMS = 4 * 3 * 3 * 3 + 4 + 10 * 4 + 10
TINY_MACS = 4 * 8 * 8 * (3 * 3 * 3) + 10 * 4


def _with_unknown_ops():
    """The tiny model plus two nodes of an op type no registry knows: one named, one unnamed (node index 6)."""
    extra = (
        helper.make_node("Mystery", ["y"], ["m1"], name="named_mystery", domain="x.test"),
        helper.make_node("Mystery", ["m1"], ["m2"], domain="x.test"),
    )
    return make_tiny_model(extra_nodes=extra)


def test_totals_only_rows_list_unsupported_nodes_and_keep_hand_counts():
    model = _with_unknown_ops()
    table = nf.profile_many([model.SerializeToString()], threads=1, progress=False)
    row = table[0]
    assert row["error"] == ""
    assert row["params"] == TINY_PARAMS        # the unknown ops read no constants
    assert math.isnan(row["macs"])             # a total missing parts is unknown in a table ...
    assert row["unsupported"] == 2 and row["unknown_cost_nodes"] == 2

    p = nf.profile(model)
    assert p.macs == TINY_MACS                 # ... and the sum of the known parts, never zero-filled, on Profile
    # unnamed node: "<op type>_<node index>"
    assert p.unsupported_ops == {"x.test::Mystery": ["named_mystery", "Mystery_6"]}
    assert p.unknown_cost_nodes == ["named_mystery", "Mystery_6"]
    assert len(p.layers) == 7


def test_reused_value_table_leaks_nothing_between_models():
    first = str(LIGHT_MODELS[0]) if LIGHT_MODELS else make_tiny_model(batch="4")
    nf.profile(first)
    # a model that fails half-way through the walk: W has 5 input channels, X has 3
    bad = make_tiny_model()
    w = bad.graph.initializer[0]
    w.dims[1] = 5
    w.raw_data = bytes(4 * 5 * 3 * 3 * 4)
    with pytest.raises(nf.ModelError):
        nf.profile(bad)
    for batch in (1, 2, 1):
        p = nf.profile(make_tiny_model(batch=str(batch)))
        assert p.params == TINY_PARAMS
        assert p.macs == batch * TINY_MACS
        assert list(p.layers["output_shape"]) == [f"{batch}x4x8x8", f"{batch}x4x8x8", f"{batch}x4x1x1",
                                                  f"{batch}x4", f"{batch}x10"]


def test_totals_only_equals_profile_across_threads_and_repeats():
    models = [make_tiny_model(batch=str(b)).SerializeToString() for b in (1, 3, 2, 1, 5)]
    for threads in (1, 2):
        table = nf.profile_many(models, threads=threads, progress=False)
        for i, b in enumerate((1, 3, 2, 1, 5)):
            assert table[i]["params"] == TINY_PARAMS
            assert table[i]["macs"] == b * TINY_MACS
