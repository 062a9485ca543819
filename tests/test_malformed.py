"""Malformed and hostile models: each must raise netscore_fast.ModelError naming the source and the problem,
for a file path and for a bytes buffer alike -- never crash, hang or return silently."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from google.protobuf.message import DecodeError  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from malformed_cases import (  # noqa: E402
    END_GROUP, FIXED32, LEN, START_GROUP, VARINT, ld, model_bytes, nested_subgraph_model, profile_isolated, s,
    tag, top_level_fields, varint, vi)

LIGHT_DIR = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"
SOURCES = ["path", "bytes"]


def expect_error(data: bytes, source: str, tmp_path: Path, *patterns: str) -> str:
    """Profile `data` from a file or from memory; assert ModelError whose message names the source and
    matches every regex in `patterns`. Returns the message."""
    if source == "path":
        p = tmp_path / "model.onnx"
        p.write_bytes(data)
        arg, name = str(p), str(p)
    else:
        arg, name = data, "<bytes>"
    with pytest.raises(nf.ModelError) as info:
        nf.profile(arg)
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert name in msg, msg
    for pat in patterns:
        assert re.search(pat, msg), f"{pat!r} not in {msg!r}"
    return msg


def tiny_graph_proto(nodes, inits=(), x_shape=(1, 3, 8, 8), name="g"):
    return helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=list(inits))


def tiny_model(nodes, inits=(), opsets=(("", 17),), **kw) -> onnx.ModelProto:
    return helper.make_model(tiny_graph_proto(nodes, inits, **kw),
                             opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])


def conv_model(w_shape=(4, 3, 3, 3), x_shape=(1, 3, 8, 8)) -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal(w_shape).astype(np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    return tiny_model([conv], [w], x_shape=x_shape)


# ---------------------------------------------------------------------------------------------------------
# Files and buffers that are not models at all

def test_missing_file(tmp_path):
    p = tmp_path / "absent.onnx"
    with pytest.raises(nf.ModelError, match=r"cannot open '.*absent\.onnx': No such file or directory"):
        nf.profile(p)


def test_directory(tmp_path):
    with pytest.raises(nf.ModelError, match=re.escape(f"'{tmp_path}' is a directory")):
        nf.profile(tmp_path)


def test_empty_file_and_buffer(tmp_path):
    expect_error(b"", "path", tmp_path, r"is an empty file")
    expect_error(b"", "bytes", tmp_path, r"empty buffer")


@pytest.mark.parametrize("source", SOURCES)
def test_valid_protobuf_of_the_wrong_message(source, tmp_path):
    # Serialized TensorProto, NodeProto and GraphProto parse as protobuf but are not ModelProtos.
    tensor = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "t").SerializeToString()
    node = helper.make_node("Relu", ["a"], ["b"], name="n").SerializeToString()
    graph = tiny_graph_proto([helper.make_node("Relu", ["x"], ["y"])]).SerializeToString()
    for data in (tensor, node, graph):
        expect_error(data, source, tmp_path, r"not an ONNX model")
    # Only varint fields 1 and 5 (ir_version, model_version): a well-formed ModelProto without a graph.
    expect_error(vi(1, 8) + vi(5, 3), source, tmp_path, r"not an ONNX model: no graph")
    # OperatorSetIdProto bytes: field 1 is a string where ModelProto.ir_version is a varint.
    expect_error(ld(1, s("ai.onnx")) + vi(2, 17), source, tmp_path, r"not an ONNX model: field 1 .*wire type 2")


# ---------------------------------------------------------------------------------------------------------
# Wire-format damage

@pytest.mark.parametrize("source", SOURCES)
def test_length_past_the_end(source, tmp_path):
    # ir_version (2 bytes), then the graph field claims 1000 bytes but only 10 follow.
    data = vi(1, 8) + tag(7, LEN) + varint(1000) + b"\x0a" * 10
    n = len(data)
    expect_error(data, source, tmp_path,
                 re.escape(f"truncated input: field 7 length 1000 at byte 3 runs past the end ({n} bytes)"))


@pytest.mark.parametrize("source", SOURCES)
def test_length_past_the_end_of_a_nested_message(source, tmp_path):
    # A node whose name (field 3) claims 50 bytes inside a 10-byte node message.
    node = ld(4, s("Relu")) + tag(3, LEN) + varint(50) + b"ab"
    data = model_bytes(ld(1, node))
    expect_error(data, source, tmp_path, r"graph\.node\[0\] \(Relu\)", r"truncated input: field 3 length 50",
                 r"runs past the end of its enclosing message")


@pytest.mark.parametrize("source", SOURCES)
def test_over_long_varints(source, tmp_path):
    eleven = b"\xff" * 10 + b"\x01"
    expect_error(tag(1, VARINT) + eleven + b"\x00" * 8, source, tmp_path, r"varint longer than 10 bytes at byte 1")
    # The same inside a node attribute's packed ints.
    attribute = ld(1, s("pads")) + ld(8, eleven) + vi(20, 7)
    data = model_bytes(ld(1, ld(4, s("Conv")) + ld(3, s("c0")) + ld(5, attribute)))
    expect_error(data, source, tmp_path, r"graph\.node\[0\] \(Conv 'c0'\)\.attribute\[0\] \(pads\)",
                 r"varint longer than 10 bytes")
    # A varint cut off by the end of the buffer.
    expect_error(tag(1, VARINT) + b"\xff\xff", source, tmp_path, r"truncated input: field 1 varint")


@pytest.mark.parametrize("source", SOURCES)
def test_wrong_and_unsupported_wire_types(source, tmp_path):
    # groups (wire types 3 and 4) are rejected wherever they occur
    expect_error(tag(9, START_GROUP) + tag(9, END_GROUP), source, tmp_path, r"groups are not supported")
    expect_error(model_bytes(ld(1, tag(30, START_GROUP))), source, tmp_path, r"graph\.node\[0\]",
                 r"wire type 3 \(groups are not supported\)")
    # wire types 6 and 7 do not exist
    expect_error(vi(1, 8) + tag(4, 7), source, tmp_path, r"invalid wire type 7")
    # NodeProto.op_type (4) sent as fixed32
    expect_error(model_bytes(ld(1, tag(4, FIXED32) + b"\0\0\0\0")), source, tmp_path,
                 r"graph\.node\[0\]: field 4 has wire type 5 \(fixed32\), expected length-delimited")
    # field number 0
    expect_error(b"\x00\x00", source, tmp_path, r"field number 0")


def truncation_points(data: bytes):
    """Cut points strictly inside the graph field (several) and inside the last opset_import."""
    fields = top_level_fields(data)
    (_, _, g0, g1), = [f for f in fields if f[0] == 7]
    last = fields[-1]
    cuts = [g0 + 1, g0 + 3] + [g0 + (g1 - g0) * k // 8 for k in range(1, 8)] + [g1 - 1, last[3] - 1]
    return sorted(set(cuts))


@pytest.mark.parametrize("source", SOURCES)
def test_truncated_real_models(source, tmp_path):
    for model in ("light_squeezenet.onnx", "light_densenet121.onnx"):
        data = (LIGHT_DIR / model).read_bytes()
        cuts = truncation_points(data)
        assert len(cuts) >= 8
        for cut in cuts:
            piece = data[:cut]
            with pytest.raises(DecodeError):  # the reference parser agrees the prefix is not a model
                onnx.ModelProto().ParseFromString(piece)
        results = profile_isolated([data[:c] for c in cuts], source == "path", tmp_path)
        for cut, r in zip(cuts, results):
            assert not r["ok"] and r["type"] == "ModelError", (model, cut, r)
            name = r["path"] if source == "path" else "<bytes>"
            assert r["error"].startswith(name + ": "), r
            assert "truncated input" in r["error"] and "runs past the end" in r["error"], (model, cut, r)


@pytest.mark.parametrize("source", SOURCES)
def test_random_bytes(source, tmp_path):
    rng = np.random.default_rng(20181107)
    items = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in (1, 2, 7, 64, 1000, 65536, 300_000)]
    # Random bytes behind a valid ModelProto prefix reach the graph and node decoders.
    items += [vi(1, 8) + ld(7, rng.integers(0, 256, n, dtype=np.uint8).tobytes()) for n in (5, 100, 5000)]
    results = profile_isolated(items, source == "path", tmp_path)
    problems = (r"truncated input|wire type|varint longer|field number 0|field tag|not an ONNX model|"
                r"negative dim|overflow|nested|not a multiple|groups")
    for r in results:
        # With these seeds every input is malformed; none may crash or raise anything but ModelError.
        assert not r["ok"] and r["type"] == "ModelError", r
        name = r["path"] if source == "path" else "<bytes>"
        assert r["error"].startswith(name + ": ") and re.search(problems, r["error"]), r


# ---------------------------------------------------------------------------------------------------------
# Tensor dims

@pytest.mark.parametrize("source", SOURCES)
def test_negative_dims(source, tmp_path):
    bad = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, -3, 3, 3])
    model = tiny_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")], [bad])
    expect_error(model.SerializeToString(), source, tmp_path, r"graph\.initializer\[0\] 'w'",
                 r"negative dim -3 at dims\[1\]")


@pytest.mark.parametrize("source", SOURCES)
def test_dims_whose_product_overflows(source, tmp_path):
    # 2^32 * 2^32 = 2^64 > INT64_MAX; each dim alone is a valid int64.
    bad = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[1 << 32, 1 << 32])
    model = tiny_model([helper.make_node("Relu", ["x"], ["y"])], [bad])
    expect_error(model.SerializeToString(), source, tmp_path, r"initializer\[0\] 'huge'",
                 r"dims \[4294967296,4294967296\] overflow")
    # The same in a Constant node's tensor attribute.
    const = helper.make_node("Constant", [], ["c"], name="k", value=bad)
    model = tiny_model([const, helper.make_node("Relu", ["x"], ["y"])])
    expect_error(model.SerializeToString(), source, tmp_path, r"node\[0\] \(Constant 'k'\)\.attribute\[0\] \(value\)\.t",
                 r"overflow")


# ---------------------------------------------------------------------------------------------------------
# Graph-level contradictions (decoded fine; the analysis rejects them)

@pytest.mark.parametrize("source", SOURCES)
def test_conv_weight_channels_disagree_with_input(source, tmp_path):
    model = conv_model(w_shape=(4, 5, 3, 3), x_shape=(1, 3, 8, 8))
    ort = pytest.importorskip("onnxruntime")
    with pytest.raises(Exception):  # the reference runtime rejects it too
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        sess.run(None, {"x": np.ones((1, 3, 8, 8), np.float32)})
    expect_error(model.SerializeToString(), source, tmp_path, r"conv1", r"Conv", r"channel")


@pytest.mark.parametrize("source", SOURCES)
def test_cycle(source, tmp_path):
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Add", ["x", "b"], ["y"], name="join")]
    expect_error(tiny_model(nodes).SerializeToString(), source, tmp_path, r"cycle", r"'(first|second|join)'")


@pytest.mark.parametrize("source", SOURCES)
def test_missing_node_input(source, tmp_path):
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add1")]
    expect_error(tiny_model(nodes).SerializeToString(), source, tmp_path, r"add1", r"'ghost'")


@pytest.mark.parametrize("source", SOURCES)
def test_domain_not_imported(source, tmp_path):
    nodes = [helper.make_node("Foo", ["x"], ["y"], name="foo1", domain="com.example")]
    expect_error(tiny_model(nodes).SerializeToString(), source, tmp_path, r"foo1", r"com\.example",
                 r"not imported")


# ---------------------------------------------------------------------------------------------------------
# Hostile nesting

@pytest.mark.parametrize("source", SOURCES)
def test_subgraphs_nested_thousands_deep(source, tmp_path):
    items = [nested_subgraph_model(5000, "If", "then_branch"), nested_subgraph_model(3000, "Loop", "body"),
             nested_subgraph_model(3000, "Scan", "body")]
    results = profile_isolated(items, source == "path", tmp_path)
    for r in results:
        assert not r["ok"] and r["type"] == "ModelError", r
        assert "subgraphs nested more than 64 deep" in r["error"], r["error"][-300:]
        name = r["path"] if source == "path" else "<bytes>"
        assert r["error"].startswith(name + ": graph.node[0] ("), r["error"][:200]


def test_nesting_limit_boundary():
    # 64 levels of subgraphs are accepted by the decoder (the analysis then rejects the undefined 'cond'
    # input of the outer If), 65 are not.
    with pytest.raises(nf.ModelError) as info:
        nf.profile(nested_subgraph_model(64))
    assert "nested" not in str(info.value) and "'cond'" in str(info.value)
    with pytest.raises(nf.ModelError, match="subgraphs nested more than 64 deep"):
        nf.profile(nested_subgraph_model(65))


def test_nesting_builder_is_a_valid_model():
    # Guards the hand-built bytes: at a depth the reference parser accepts, they parse as nested If nodes.
    m = onnx.ModelProto()
    m.ParseFromString(nested_subgraph_model(3))
    g = m.graph
    for _ in range(3):
        (node,) = g.node
        assert node.op_type == "If" and node.attribute[0].name == "then_branch"
        g = node.attribute[0].g
    assert g.name == "leaf" and not g.node


# ---------------------------------------------------------------------------------------------------------
# Valid inputs the decoder must accept

def test_external_data_without_the_weight_file(tmp_path):
    # Conv 3->4, 3x3 with external weights whose file does not exist: params by hand = 4*3*3*3 = 108,
    # MACs = 4 output channels * 8*8 positions * (3*3*3) = 6912.
    model = conv_model()
    w = model.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="weights_that_do_not_exist.bin")
    w.external_data.add(key="length", value=str(108 * 4))
    path = tmp_path / "external.onnx"
    path.write_bytes(model.SerializeToString())
    assert not (tmp_path / "weights_that_do_not_exist.bin").exists()
    for src in (path, model.SerializeToString()):
        p = nf.profile(src)
        assert p.params == 108
        assert p.macs == 6912


def test_packed_unpacked_and_untyped_attributes_agree(tmp_path):
    # onnx.helper writes `ints` unpacked; rewrite Conv's attributes packed and without `type` (as IR v1
    # writers did) and expect the same counts: params 108, MACs 6912 (hand count above).
    model = conv_model()

    def attribute_bytes(name, ints, packed, typed):
        body = ld(1, s(name))
        if packed:
            body += ld(8, b"".join(varint(v) for v in ints))
        else:
            body += b"".join(tag(8, VARINT) + varint(v) for v in ints)
        return body + (vi(20, 7) if typed else b"")

    conv_fields = ld(1, s("x")) + ld(1, s("w")) + ld(2, s("y")) + ld(3, s("conv1")) + ld(4, s("Conv"))
    results = []
    for packed, typed in ((False, True), (True, True), (True, False), (False, False)):
        node = conv_fields + ld(5, attribute_bytes("kernel_shape", [3, 3], packed, typed)) + \
            ld(5, attribute_bytes("pads", [1, 1, 1, 1], packed, typed))
        graph = onnx.GraphProto()
        graph.CopyFrom(model.graph)
        del graph.node[:]
        data = bytearray(model_bytes(graph.SerializeToString() + ld(1, node)))
        parsed = onnx.ModelProto()
        parsed.ParseFromString(bytes(data))     # the reference parser reads the same attribute values
        assert list(parsed.graph.node[0].attribute[1].ints) == [1, 1, 1, 1]
        p = nf.profile(bytes(data))
        results.append((p.params, p.macs))
    assert results == [(108, 6912)] * 4


def test_unknown_fields_are_skipped():
    # Unknown fields of every wire type at the model, graph and node level.
    junk = vi(900, 5) + tag(901, FIXED32) + b"abcd" + tag(902, 1) + b"12345678" + ld(903, b"\xff" * 20)
    model = conv_model()
    graph = model.graph.SerializeToString()
    data = junk + model_bytes(graph + junk) + junk
    p = nf.profile(data)
    assert (p.params, p.macs) == (108, 6912)


@pytest.mark.parametrize("path", sorted(LIGHT_DIR.glob("*.onnx")), ids=lambda p: p.name)
def test_real_models_decode(path):
    # Sanity for the whole chain on the wheel's real models: decoding and analysis succeed from both sources.
    data = path.read_bytes()
    a = nf.profile(path)
    b = nf.profile(data)
    assert a.params == b.params and a.macs == b.macs


def _tensor_bytes(name, data_type, dims, encoding, values):
    """TensorProto bytes written by hand: dims (1, packed), data_type (2), name (8), then the values as
    raw_data (9) or a typed field (float_data 4 / int64_data 7), packed or unpacked."""
    out = ld(1, b"".join(varint(d) for d in dims)) + vi(2, data_type) + ld(8, s(name))
    floating = data_type == TensorProto.FLOAT
    if encoding == "raw":
        return out + ld(9, np.asarray(values, np.float32 if floating else np.int64).tobytes())
    if floating:
        items = [np.float32(v).tobytes() for v in values]
        if encoding == "packed":
            return out + ld(4, b"".join(items))
        return out + b"".join(tag(4, FIXED32) + b for b in items)
    if encoding == "packed":
        return out + ld(7, b"".join(varint(v) for v in values))
    return out + b"".join(tag(7, VARINT) + varint(v) for v in values)


@pytest.mark.parametrize("encoding", ["raw", "packed", "unpacked"])
def test_small_constant_values_from_every_encoding(encoding):
    # Reshape's target shape (int64, with -1 and 0) and Resize's scales (float) are initializers whose
    # values the analysis needs; output shapes are checked against onnxruntime running the same bytes.
    ort = pytest.importorskip("onnxruntime")
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
             helper.make_node("Resize", ["r", "", "scales"], ["y"], name="resize", mode="nearest")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    # initializers appended as GraphProto.initializer (field 5), one per tensor
    t1 = _tensor_bytes("shape", TensorProto.INT64, [4], encoding, [0, -1, 2, 5])
    t2 = _tensor_bytes("scales", TensorProto.FLOAT, [4], encoding, [1.0, 1.0, 2.0, 3.0])
    data = model_bytes(graph.SerializeToString() + ld(5, t1) + ld(5, t2), opsets=(("", 13),))
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (expected,) = [list(o.shape) for o in sess.run(None, {"x": np.ones((2, 3, 4, 5), np.float32)})]
    assert expected == [2, 6, 4, 15]     # by hand: [2, 60/(2*5)=6, 2, 5] then scaled by [1, 1, 2, 3]
    shapes = nf.profile(data).layer_shapes()
    assert shapes[-1][1] == [expected]


def test_untyped_scalar_attribute_is_inferred():
    # Gemm(transB) with AttributeProto.type left unset (IR v1 writers): x [1,4] @ W[10,4]^T -> [1,10].
    # By hand: params 40, MACs 1*10*4 = 40. Were `i` not recognised as an INT, transB would read as 0 and
    # the inner dims (4 vs 10) would contradict.
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((10, 4)).astype(np.float32), "w")
    graph = helper.make_graph([], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w])
    attribute = ld(1, s("transB")) + vi(3, 1)                      # name, i -- no type (20)
    node = ld(1, s("x")) + ld(1, s("w")) + ld(2, s("y")) + ld(3, s("fc")) + ld(4, s("Gemm")) + ld(5, attribute)
    data = model_bytes(graph.SerializeToString() + ld(1, node))
    parsed = onnx.ModelProto()
    parsed.ParseFromString(data)
    assert parsed.graph.node[0].attribute[0].type == 0 and parsed.graph.node[0].attribute[0].i == 1
    p = nf.profile(data)
    assert (p.params, p.macs) == (40, 40)
    assert p.layer_shapes()[0][1] == [[1, 10]]


def _conv_reference(w_shape, x_shape):
    """Hand count for conv_model: params = the weight's elements; MACs = output elements (padding 1 keeps
    H x W) times Cin * kh * kw per output."""
    cout, cin, kh, kw = w_shape
    n, _, h, w = x_shape
    return cout * cin * kh * kw, n * cout * h * w * cin * kh * kw


def test_decoder_workspace_between_models_of_every_size(tmp_path):
    # Each thread decodes into one reused Model. Interleave a big real model, small ones of different
    # shapes, damaged ones (errors mid-decode) and a graph split over two ModelProto.graph fields; every
    # result must match its own independent reference, whatever was decoded before it.
    big = LIGHT_DIR / "light_densenet121.onnx"
    big_ops = sorted(n.op_type for n in onnx.load(str(big)).graph.node)
    big_bytes = big.read_bytes()
    small = [((4, 3, 3, 3), (1, 3, 8, 8)), ((8, 3, 3, 3), (2, 3, 16, 16)), ((2, 3, 3, 3), (1, 3, 5, 7))]

    # Protobuf merges a repeated embedded message: two graph fields are one graph with both nodes.
    relu = helper.make_node("Relu", ["y"], ["z"], name="relu")
    first = conv_model().graph.SerializeToString()
    second = helper.make_graph([relu], "g", [], [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    merged = vi(1, 8) + ld(7, first) + ld(7, second.SerializeToString()) + ld(8, ld(1, b"") + vi(2, 17))

    for round_ in range(2):
        p = nf.profile(big_bytes)
        assert sorted(p.layers["op_type"].tolist()) == big_ops
        for w_shape, x_shape in small:
            got = nf.profile(conv_model(w_shape, x_shape).SerializeToString())
            assert (got.params, got.macs) == _conv_reference(w_shape, x_shape)
            assert got.layers["op_type"].tolist() == ["Conv"]
        expect_error(big_bytes[: len(big_bytes) // 2], "bytes", tmp_path, r"truncated input")
        got = nf.profile(merged)
        assert got.layers["op_type"].tolist() == ["Conv", "Relu"]
        assert (got.params, got.macs) == _conv_reference((4, 3, 3, 3), (1, 3, 8, 8))
        # decodes (subgraphs in attributes fill the workspace too); its condition input is left undefined
        expect_error(nested_subgraph_model(5), "bytes", tmp_path, r"If")
