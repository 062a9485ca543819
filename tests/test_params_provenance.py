"""Params are learned weights: tables a graph computes from its input's shape are not params, so params
never change with the input size; weights the exporter reshaped or transposed still count, once.

The reference for every synthetic graph is the onnx model itself (the elements of its float initializers),
and onnxruntime runs each graph at both input sizes, so the graphs are valid at both.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from conftest import checked_model as _model  # noqa: E402

RNG = np.random.default_rng(12)


def _init(name, shape, dtype=np.float32):
    if np.issubdtype(dtype, np.integer):
        return numpy_helper.from_array(np.asarray(shape, dtype=dtype), name)
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(dtype), name)


def _i64(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def _f32(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)



def _learned(model):
    """Elements of the model's float initializers with more than one element: the weights it stores."""
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer
               if t.data_type == TensorProto.FLOAT and int(np.prod(t.dims)) > 1)


def _run_ort(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def anchor_grid_model():
    """A YOLO-style head: a Conv, then anchor points and a stride table made from the feature map's shape
    (Shape -> Gather -> Range -> Unsqueeze / Expand / Concat, and ConstantOfShape of H x W) feeding Add and
    Mul, as ultralytics' exported detectors do."""
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["f"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),   # 1x2xHxW
        helper.make_node("Shape", ["f"], ["fs"]),
        helper.make_node("Gather", ["fs", "i2"], ["h"], axis=0),
        helper.make_node("Gather", ["fs", "i3"], ["w_"], axis=0),
        helper.make_node("Cast", ["h"], ["hf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["w_"], ["wf"], to=TensorProto.FLOAT),
        helper.make_node("Range", ["zero", "hf", "one"], ["ys0"]),
        helper.make_node("Range", ["zero", "wf", "one"], ["xs0"]),
        helper.make_node("Add", ["ys0", "half"], ["ys"]),
        helper.make_node("Add", ["xs0", "half"], ["xs"]),
        helper.make_node("Mul", ["h", "w_"], ["hw"]),
        helper.make_node("Unsqueeze", ["hw", "ax0"], ["hw1"]),
        helper.make_node("Unsqueeze", ["h", "ax0"], ["h1"]),
        helper.make_node("Unsqueeze", ["w_", "ax0"], ["w1"]),
        helper.make_node("Concat", ["h1", "w1"], ["hw2"], axis=0),
        helper.make_node("Unsqueeze", ["ys", "ax1"], ["ycol"]),         # H x 1
        helper.make_node("Expand", ["ycol", "hw2"], ["ygrid"]),        # H x W
        helper.make_node("Expand", ["xs", "hw2"], ["xgrid"]),          # H x W
        helper.make_node("Reshape", ["ygrid", "m1"], ["yflat"]),
        helper.make_node("Reshape", ["xgrid", "m1"], ["xflat"]),
        helper.make_node("Unsqueeze", ["xflat", "ax0"], ["xrow"]),
        helper.make_node("Unsqueeze", ["yflat", "ax0"], ["yrow"]),
        helper.make_node("Concat", ["xrow", "yrow"], ["anchors"], axis=0),   # 2 x HW
        helper.make_node("Concat", ["hw1", "one_i"], ["sshape"], axis=0),
        helper.make_node("ConstantOfShape", ["sshape"], ["ones"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Mul", ["ones", "stride"], ["strides0"]),            # HW x 1
        helper.make_node("Transpose", ["strides0"], ["strides"], perm=[1, 0]),   # 1 x HW
        helper.make_node("Reshape", ["f", "flat"], ["f2"]),                 # 2 x HW
        helper.make_node("Add", ["f2", "anchors"], ["boxes0"]),
        helper.make_node("Mul", ["boxes0", "strides"], ["boxes"]),
    ]
    inits = [_init("w", (2, 3, 3, 3)), _init("b", (2,)), _i64("i2", 2), _i64("i3", 3), _f32("zero", 0.0),
             _f32("one", 1.0), _f32("half", 0.5), _i64("ax0", [0]), _i64("ax1", [1]), _i64("m1", [-1]),
             _i64("one_i", [1]), _f32("stride", 8.0), _i64("flat", [2, -1])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    y = helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["a", "b"])
    return _model(nodes, inits, [x], [y])


def attention_mask_model():
    """Self-attention whose additive mask is made from the sequence length: ConstantOfShape(L, L) of -1e4,
    Trilu to keep the upper triangle (a causal mask), added to the scores; a position table from Range
    gathered from a learned position embedding."""
    d = 16
    nodes = [
        helper.make_node("Shape", ["x"], ["xs"]),
        helper.make_node("Gather", ["xs", "i1"], ["L"], axis=0),
        helper.make_node("Unsqueeze", ["L", "ax0"], ["L1"]),
        helper.make_node("Concat", ["L1", "L1"], ["LL"], axis=0),
        helper.make_node("ConstantOfShape", ["LL"], ["full"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [-1e4])),
        helper.make_node("Trilu", ["full", "k1"], ["mask"], upper=1),
        helper.make_node("Range", ["zero_i", "L", "one_i"], ["pos"]),
        helper.make_node("Gather", ["pos_emb", "pos"], ["pe"], axis=0),      # L x d, read from a weight
        helper.make_node("Add", ["x", "pe"], ["h"]),
        helper.make_node("MatMul", ["h", "wq"], ["q"]),
        helper.make_node("MatMul", ["h", "wk"], ["k"]),
        helper.make_node("MatMul", ["h", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s0"]),
        helper.make_node("Add", ["s0", "mask"], ["s"]),
        helper.make_node("Softmax", ["s"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["y"]),
    ]
    inits = [_i64("i1", 1), _i64("ax0", [0]), _i64("k1", 1), _i64("zero_i", 0), _i64("one_i", 1),
             _init("pos_emb", (64, d)), _init("wq", (d, d)), _init("wk", (d, d)), _init("wv", (d, d))]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "L", d])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c"])
    return _model(nodes, inits, [x], [y])


def folded_weight_model():
    """Weights an exporter transposed, reshaped with a shape computed from the input, or dequantized: each
    counts once, as its stored elements."""
    nodes = [
        helper.make_node("Transpose", ["w1"], ["w1t"], perm=[1, 0]),
        helper.make_node("MatMul", ["x", "w1t"], ["h1"]),
        helper.make_node("Shape", ["x"], ["xs"]),
        helper.make_node("Gather", ["xs", "i2"], ["c"], axis=0),
        helper.make_node("Unsqueeze", ["c", "ax0"], ["c1"]),
        helper.make_node("Concat", ["c1", "m1"], ["ws"], axis=0),
        helper.make_node("Reshape", ["w2", "ws"], ["w2r"]),            # (C x 8) from a flat weight
        helper.make_node("MatMul", ["h1", "w2r"], ["h2"]),
        helper.make_node("DequantizeLinear", ["w3q", "s3", "z3"], ["w3"]),
        helper.make_node("MatMul", ["h2", "w3"], ["h3"]),
        helper.make_node("MatMul", ["h3", "w1"], ["y"]),                # the same weight, read directly too
    ]
    c = 8
    inits = [_init("w1", (c, c)), _init("w2", (c * c,)), _i64("i2", 2), _i64("ax0", [0]), _i64("m1", [-1]),
             numpy_helper.from_array(RNG.integers(-100, 100, (c, c)).astype(np.int8), "w3q"),
             _f32("s3", 0.02), numpy_helper.from_array(np.asarray(0, dtype=np.int8), "z3")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "L", c])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c"])
    return _model(nodes, inits, [x], [y])


def test_anchor_grid_is_not_params():
    m = anchor_grid_model()
    want = _learned(m)                       # w and b: 56 + 2
    got = {}
    for hw in (16, 40):
        feeds = {"x": RNG.standard_normal((1, 3, hw, hw)).astype(np.float32)}
        (boxes,) = _run_ort(m, feeds)
        assert boxes.shape == (2, hw * hw)
        p = nf.profile(m.SerializeToString(), input_shapes={"x": [1, 3, hw, hw]})
        assert not p.unsupported_ops
        got[hw] = p.params
    assert got[16] == got[40] == want


def test_attention_mask_and_positions_are_not_params():
    m = attention_mask_model()
    want = _learned(m)
    got = {}
    for L in (8, 48):
        feeds = {"x": RNG.standard_normal((1, L, 16)).astype(np.float32)}
        (y,) = _run_ort(m, feeds)
        assert y.shape == (1, L, 16)
        got[L] = nf.profile(m.SerializeToString(), input_shapes={"x": [1, L, 16]}).params
    # the whole position table counts (it is a weight) although only L rows are read
    assert got[8] == got[48] == want


def test_weights_folded_by_the_exporter_count_once():
    m = folded_weight_model()
    want = 8 * 8 + 8 * 8 + 8 * 8     # w1 (read transposed and as is), w2 reshaped, int8 w3 (one byte each)
    for L in (3, 17):
        feeds = {"x": RNG.standard_normal((1, L, 8)).astype(np.float32)}
        (y,) = _run_ort(m, feeds)
        assert y.shape == (1, L, 8)
        p = nf.profile(m.SerializeToString(), input_shapes={"x": [1, L, 8]})
        assert p.params == want, L


def test_constant_of_shape_written_in_the_file_stays_a_weight():
    """A ConstantOfShape of a fixed shape initializer is a weight placeholder (stripped models, the zoo)."""
    nodes = [
        helper.make_node("ConstantOfShape", ["wshape"], ["w"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        # and one whose shape comes from the input: a table, not a weight
        helper.make_node("Shape", ["h"], ["hs"]),
        helper.make_node("ConstantOfShape", ["hs"], ["t"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Mul", ["h", "t"], ["y"]),
    ]
    m = _model(nodes, [_i64("wshape", [12, 5])], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, "N", 12])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c"])])
    for n in (4, 30):
        (y,) = _run_ort(m, {"x": RNG.standard_normal((2, n, 12)).astype(np.float32)})
        assert y.shape == (2, n, 5)
        assert nf.profile(m.SerializeToString(), input_shapes={"x": [2, n, 12]}).params == 12 * 5


def test_shape_derived_table_read_inside_a_branch_is_not_params():
    """An outer table made from shapes, read inside an If branch, stays data there too."""
    then_g = helper.make_graph(
        [helper.make_node("Mul", ["h", "t"], ["o"])], "then", [],
        [helper.make_tensor_value_info("o", TensorProto.FLOAT, ["a", "b", "c"])])
    else_g = helper.make_graph(
        [helper.make_node("Add", ["h", "t"], ["o2"])], "else", [],
        [helper.make_tensor_value_info("o2", TensorProto.FLOAT, ["a", "b", "c"])])
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        helper.make_node("Shape", ["h"], ["hs"]),
        helper.make_node("ConstantOfShape", ["hs"], ["t"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [2.0])),
        helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g),
    ]
    m = _model(nodes, [_init("w", (6, 4)), numpy_helper.from_array(np.asarray(True), "cond")],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "N", 6])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c"])])
    for n in (3, 50):
        (y,) = _run_ort(m, {"x": RNG.standard_normal((1, n, 6)).astype(np.float32)})
        assert y.shape == (1, n, 4)
        assert nf.profile(m.SerializeToString(), input_shapes={"x": [1, n, 6]}).params == 24


def _corpus_dir():
    env = os.environ.get("NETSCORE_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "benchmarks" / "realworld" / "corpus"


@pytest.mark.slow
def test_nudenet_params_do_not_change_with_input_size():
    """nudenet's shipped YOLOv8n (the wheel's 320n.onnx, built by benchmarks/realworld/build_corpus.py into
    $NETSCORE_CORPUS): its params are its stored float weights at every input size (3,011,258 at 320 and
    3,042,758 at 1280 before the stride table stopped counting)."""
    path = _corpus_dir() / "wheel" / "nudenet" / "nudenet" / "320n.onnx"
    if not path.exists():
        pytest.skip(f"{path} not built (benchmarks/realworld/build_corpus.py --only wheel/nudenet)")
    m = onnx.load(str(path))
    # every float initializer of more than one element, less Resize's scales (not weights)
    scales = {n.input[2] for n in m.graph.node if n.op_type == "Resize" and len(n.input) > 2}
    want = sum(int(np.prod(t.dims)) for t in m.graph.initializer
               if t.data_type == TensorProto.FLOAT and int(np.prod(t.dims)) > 1 and t.name not in scales)
    got = {s: nf.profile(str(path), input_shapes={"images": [1, 3, s, s]}).params for s in (320, 640, 1280)}
    assert got == {320: want, 640: want, 1280: want}
