"""The Python API of one-model profiling: source kinds, totals, metrics, per-node rows, export, errors."""
from __future__ import annotations

import json
import math
import pathlib
import sys

import numpy as np
import pytest
from onnx import helper

import netscore_fast
from netscore_fast import ModelError

from conftest import TINY_MACS, TINY_PARAMS, make_tiny_model


# --- source kinds -------------------------------------------------------------------------------
def _sources(tiny_model, tiny_path):
    data = tiny_model.SerializeToString()
    return {
        "str": (str(tiny_path), str(tiny_path)),
        "Path": (pathlib.Path(tiny_path), str(tiny_path)),
        "bytes": (data, "<bytes>"),
        "bytearray": (bytearray(data), "<bytes>"),
        "memoryview": (memoryview(data), "<bytes>"),
        "numpy": (np.frombuffer(data, dtype=np.uint8), "<bytes>"),
        "ModelProto": (tiny_model, "<ModelProto 'tiny'>"),
    }


@pytest.mark.parametrize("kind", ["str", "Path", "bytes", "bytearray", "memoryview", "numpy", "ModelProto"])
def test_every_source_kind_gives_the_hand_count(kind, tiny_model, tiny_path):
    source, name = _sources(tiny_model, tiny_path)[kind]
    p = netscore_fast.profile(source)
    assert p.source == name
    assert p.params == TINY_PARAMS
    assert p.macs == TINY_MACS
    # 4 bytes per float32 weight, all weights float32
    assert p.weight_bytes == 4 * TINY_PARAMS
    assert p.unsupported_ops == {}
    assert p.unknown_cost_nodes == []
    assert p.num_layers == 5


def test_totals_hand_derived(tiny_model):
    p = netscore_fast.profile(tiny_model)
    # FLOPs at least 2 per MAC (FMA = 2 FLOPs), plus bias/activation/pool work
    assert p.flops >= 2 * TINY_MACS
    # non-constant node outputs, float32: conv 4*8*8, relu 4*8*8, gap 4, flatten 4, gemm 10
    assert p.activation_bytes == 4 * (256 + 256 + 4 + 4 + 10)
    # peak live set is at least the largest single step: conv output + relu output alive together
    assert 4 * (256 + 256) <= p.peak_activation_bytes <= p.activation_bytes + 4 * 3 * 8 * 8
    assert p.bn_stat_params == 0


def test_bytes_are_read_in_place_not_copied(tiny_model):
    buf = bytearray(tiny_model.SerializeToString())
    assert netscore_fast.profile(buf).params == TINY_PARAMS
    # the buffer export was released after the call: a bytearray with a live export cannot be resized
    buf.append(0)


def test_non_contiguous_buffer_is_a_clear_error(tiny_model):
    data = tiny_model.SerializeToString()
    doubled = np.frombuffer(data * 2, dtype=np.uint8)[::2]
    with pytest.raises(ValueError, match="contiguous"):
        netscore_fast.profile(memoryview(doubled))


def test_wrong_source_type_is_a_type_error():
    with pytest.raises(TypeError, match="path, a bytes-like object or an onnx.ModelProto"):
        netscore_fast.profile(12345)


# --- metrics ------------------------------------------------------------------------------------
def test_netscore_follows_the_paper(tiny_model):
    # Wong 2018, eq. 1: Omega = 20 log10(a^alpha / (p^beta m^gamma)), alpha=2, beta=gamma=0.5,
    # a = top-1 %, p = params in millions, m = MACs in billions.
    a = 71.8
    p = netscore_fast.profile(tiny_model, accuracy=a)
    expected = 20 * math.log10(a ** 2 / (math.sqrt(TINY_PARAMS / 1e6) * math.sqrt(TINY_MACS / 1e9)))
    assert p.accuracy == a
    assert p.netscore == pytest.approx(expected, rel=1e-12)
    # Canziani et al. 2016: accuracy per million parameters
    assert p.information_density == pytest.approx(a / (TINY_PARAMS / 1e6), rel=1e-12)


def test_metrics_absent_without_accuracy(tiny_model):
    p = netscore_fast.profile(tiny_model)
    assert p.accuracy is None and p.netscore is None and p.information_density is None


# --- shapes -------------------------------------------------------------------------------------
def test_symbolic_batch_takes_batch_size():
    model = make_tiny_model(batch="N")
    assert netscore_fast.profile(model).macs == TINY_MACS  # batch_size defaults to 1
    p4 = netscore_fast.profile(model, batch_size=4)
    assert p4.macs == 4 * TINY_MACS
    assert p4.params == TINY_PARAMS


def test_input_shapes_override_the_model():
    model = make_tiny_model()
    p = netscore_fast.profile(model, input_shapes={"x": [2, 3, 16, 16]})
    # Conv: 2*4*16*16 outputs * 27; Gemm: 2*10*4
    assert p.macs == 2 * 4 * 16 * 16 * 27 + 2 * 10 * 4
    pairs = netscore_fast.profile(model, input_shapes=[("x", (2, 3, 16, 16))])
    assert pairs.macs == p.macs


def test_unknown_dims_make_costs_unknown_not_zero():
    # spatial dims symbolic and not overridden: Conv cost cannot be known
    model = make_tiny_model()
    x = model.graph.input[0].type.tensor_type.shape
    x.dim[2].ClearField("dim_value")
    x.dim[2].dim_param = "H"
    p = netscore_fast.profile(model)
    assert "conv" in p.unknown_cost_nodes
    row = p.layers[p.layers["name"] == "conv"][0]
    assert row["macs"] == -1
    assert "?" in row["output_shape"]
    assert p.macs == 10 * 4  # only the Gemm is known
    assert "UNKNOWN cost" in p.summary() and "conv" in p.summary()


def test_batch_size_must_be_positive(tiny_model):
    with pytest.raises(ValueError, match="batch_size"):
        netscore_fast.profile(tiny_model, batch_size=0)


# --- per-node rows ------------------------------------------------------------------------------
def test_layers_structured_array(tiny_model):
    p = netscore_fast.profile(tiny_model)
    rows = p.layers
    assert isinstance(rows, np.ndarray) and rows.dtype.names is not None
    for field in ("name", "op_type", "output_shape", "params", "macs", "flops", "activation_bytes"):
        assert field in rows.dtype.names
    assert rows["name"].tolist() == ["conv", "relu", "gap", "flatten", "fc"]
    assert rows["op_type"].tolist() == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"]
    assert rows["output_shape"].tolist() == ["1x4x8x8", "1x4x8x8", "1x4x1x1", "1x4", "1x10"]
    assert rows["params"].tolist() == [4 * 27 + 4, 0, 0, 0, 10 * 4 + 10]
    assert rows["macs"].tolist() == [4 * 64 * 27, 0, 0, 0, 40]
    assert rows["activation_bytes"].tolist() == [1024, 1024, 16, 16, 40]
    assert int(rows["macs"].sum()) == p.macs and int(rows["flops"].sum()) == p.flops
    assert rows["supported"].all() and not rows["folded"].any()
    assert p.layers is rows  # built once


def test_long_names_are_not_truncated():
    long_name = "block" + "/very_long_scope" * 40 + "/conv"
    p = netscore_fast.profile(make_tiny_model(node_name_conv=long_name))
    assert p.layers["name"][0] == long_name


def test_layer_shapes_give_inputs_and_outputs(tiny_model):
    shapes = netscore_fast.profile(tiny_model).layer_shapes()
    conv_in, conv_out = shapes[0]
    assert conv_in == [[1, 3, 8, 8], [4, 3, 3, 3], [4]]
    assert conv_out == [[1, 4, 8, 8]]


# --- unsupported ops ----------------------------------------------------------------------------
def test_unsupported_op_is_listed_and_called_out():
    extra = helper.make_node("FancyOp", ["y"], ["z"], name="fancy1", domain="com.example")
    p = netscore_fast.profile(make_tiny_model(extra_nodes=[extra]))
    assert p.unsupported_ops == {"com.example::FancyOp": ["fancy1"]}
    row = p.layers[p.layers["name"] == "fancy1"][0]
    assert not row["supported"] and row["op_type"] == "com.example::FancyOp"
    assert "UNSUPPORTED" in p.summary() and "FancyOp" in p.summary()
    assert "FancyOp" in repr(p)


# --- export -------------------------------------------------------------------------------------
def test_to_dict_is_json_ready(tiny_model):
    p = netscore_fast.profile(tiny_model, accuracy=50.0)
    d = p.to_dict()
    assert d["params"] == TINY_PARAMS and d["macs"] == TINY_MACS and d["source"] == "<ModelProto 'tiny'>"
    assert d["netscore"] == pytest.approx(p.netscore)
    assert "layers" not in d
    full = json.loads(json.dumps(p.to_dict(layers=True)))
    assert [r["name"] for r in full["layers"]] == ["conv", "relu", "gap", "flatten", "fc"]
    assert full["layers"][0]["macs"] == 4 * 64 * 27


def test_to_pandas(tiny_model):
    pd = pytest.importorskip("pandas")
    df = netscore_fast.profile(tiny_model).to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df["name"]) == ["conv", "relu", "gap", "flatten", "fc"]
    assert df["macs"].sum() == TINY_MACS
    assert df.attrs["params"] == TINY_PARAMS


def test_to_pandas_without_pandas_names_the_extra(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match=r"netscore-fast\[pandas\]"):
        netscore_fast.profile(tiny_model).to_pandas()


def test_summary_and_repr(tiny_model):
    p = netscore_fast.profile(tiny_model, accuracy=50.0)
    text = p.summary()
    assert "<ModelProto 'tiny'>" in text
    assert "162" in text  # params below 1k are printed as is
    assert "6.95 k" in text  # MACs 6952 in k units
    assert "NetScore" in text and f"{p.netscore:.2f}" in text
    with_layers = p.summary(layers=True)
    assert "GlobalAveragePool" in with_layers and "1x4x8x8" in with_layers
    r = repr(p)
    assert r.startswith("<Profile") and "params=162" in r and "macs=6.95k" in r


# --- errors -------------------------------------------------------------------------------------
def test_garbage_bytes_name_the_source():
    with pytest.raises(ModelError, match="<bytes>"):
        netscore_fast.profile(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")


def test_truncated_file_names_the_path(tmp_path, tiny_model):
    path = tmp_path / "truncated.onnx"
    path.write_bytes(tiny_model.SerializeToString()[:-7])
    with pytest.raises(ModelError, match="truncated.onnx"):
        netscore_fast.profile(path)


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere.onnx"
    with pytest.raises((ModelError, OSError), match="nowhere.onnx"):
        netscore_fast.profile(path)


def test_model_error_is_a_value_error():
    assert issubclass(ModelError, ValueError)


def test_supported_ops_listing():
    from netscore_fast.profile import supported_ops

    ops = supported_ops()
    assert ops == sorted(ops) and "Conv" in ops


def test_profiles_in_threads_agree(tiny_model):
    # the GIL is released during the C++ work; results from several threads must be identical
    from concurrent.futures import ThreadPoolExecutor

    data = tiny_model.SerializeToString()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: netscore_fast.profile(data).macs, range(16)))
    assert results == [TINY_MACS] * 16


def test_unknown_input_name_is_an_error_naming_it(tiny_model):
    with pytest.raises(ModelError, match="nope"):
        netscore_fast.profile(tiny_model, input_shapes={"nope": [1, 2]})


def test_contradiction_names_the_node_and_op(tiny_model):
    # 5 input channels against a weight made for 3
    with pytest.raises(ModelError, match=r"conv.*Conv|Conv.*conv"):
        netscore_fast.profile(tiny_model, input_shapes={"x": [1, 5, 8, 8]})


def test_empty_buffer_is_a_model_error():
    with pytest.raises(ModelError, match="<bytes>"):
        netscore_fast.profile(b"")


def test_rows_come_from_a_second_pass_over_the_same_model(tiny_model, tmp_path):
    # profile() computes totals only; the rows are analysed on first access and must agree with them.
    path = tmp_path / "tiny.onnx"
    path.write_bytes(tiny_model.SerializeToString())
    p = netscore_fast.profile(path)
    assert p.num_layers == 5
    assert int(p.layers["macs"].sum()) == p.macs == TINY_MACS
    assert int(p.layers["params"].sum()) == p.params == TINY_PARAMS


def test_model_replaced_before_rows_are_read_is_an_error(tiny_model, tmp_path):
    path = tmp_path / "tiny.onnx"
    path.write_bytes(tiny_model.SerializeToString())
    p = netscore_fast.profile(path)
    path.write_bytes(make_tiny_model(batch="2").SerializeToString())  # twice the MACs
    with pytest.raises(ModelError, match="changed after it was profiled"):
        p.layers
