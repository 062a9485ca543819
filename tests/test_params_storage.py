"""Params count learned weights, not storage artefacts: weights that cannot change an output are not params
(dead nodes; a training-mode BatchNormalization's mean and var inputs), and with `dedupe_weights` the same
weight stored twice (the same bytes, or a transposed copy) counts once.

References: the element counts of the weights each graph is built from (what torch's parameters() would
give for the module the graph writes out), and onnxruntime's outputs where it runs the graph.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from conftest import checked_model as _model, run_onnxruntime as _ort  # noqa: E402

RNG = np.random.default_rng(7)


def _w(name, shape):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def _i64(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)



def _x(shape):
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)


def _y(rank, name="y"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"d{i}" for i in range(rank)])



def test_dead_nodes_count_no_params():
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["y"]),
             helper.make_node("MatMul", ["x", "w_dead"], ["unused"]),          # read by nobody
             helper.make_node("Relu", ["unused"], ["unused2"])]
    m = _model(nodes, [_w("w1", (8, 4)), _w("w_dead", (8, 100))], [_x([2, 8])], [_y(2)])
    (y,) = _ort(m, {"x": RNG.standard_normal((2, 8)).astype(np.float32)})
    assert y.shape == (2, 4)
    assert nf.profile(m).params == 8 * 4


def test_training_mode_batch_norm_statistics_are_not_params():
    """timm's StdConv2d (weight standardisation) as the TorchScript exporter writes it: a training-mode
    BatchNormalization on the reshaped weight, its mean and var inputs computed from a transposed copy of
    the weight that the exporter stored too. Y uses the batch statistics, so the copy changes nothing."""
    cout, cin = 6, 4
    nodes = [
        helper.make_node("ReduceMean", ["w_t"], ["mean"], axes=[0, 1], keepdims=0),
        helper.make_node("ReduceMean", ["w_t"], ["mean_k"], axes=[0, 1], keepdims=1),
        helper.make_node("Sub", ["w_t", "mean_k"], ["centred"]),
        helper.make_node("Mul", ["centred", "centred"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[0, 1], keepdims=0),
        helper.make_node("BatchNormalization", ["w3", "gain", "beta", "mean", "var"], ["wn", "rm", "rv"],
                         training_mode=1, momentum=1.0),
        helper.make_node("Reshape", ["wn", "wshape"], ["w4"]),
        helper.make_node("Conv", ["x", "w4"], ["y"], kernel_shape=[3, 3]),
    ]
    inits = [_w("w3", (1, cout, cin * 9)), _w("w_t", (1, cin * 9, cout)), _w("gain", (cout,)), _w("beta", (cout,)),
             _i64("wshape", [cout, cin, 3, 3])]
    m = _model(nodes, inits, [_x([1, cin, 8, 8])], [_y(4)], opset=15)
    learned = cout * cin * 9 + cout + cout        # the weight, its gain and the BN bias
    assert nf.profile(m).params == learned
    # in inference mode the statistics do feed Y: then the copy is read and counts
    inference = onnx.ModelProto()
    inference.CopyFrom(m)
    bn = next(n for n in inference.graph.node if n.op_type == "BatchNormalization")
    del bn.output[1:]
    del bn.attribute[:]
    assert nf.profile(inference).params == learned + cin * 9 * cout


def test_dedupe_weights_counts_identical_copies_once():
    w = RNG.standard_normal((16, 8)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w_a"], ["h"]),
             helper.make_node("MatMul", ["x", "w_b"], ["h2"]),               # the same values, stored again
             helper.make_node("Transpose", ["w_c"], ["w_ct"], perm=[1, 0]),   # a transposed copy (8 x 16)
             helper.make_node("MatMul", ["x", "w_ct"], ["h3"]),
             helper.make_node("MatMul", ["x", "other"], ["h4"]),             # a different weight, same size
             helper.make_node("Sum", ["h", "h2", "h3", "h4"], ["y"])]
    inits = [numpy_helper.from_array(w, "w_a"), numpy_helper.from_array(w.copy(), "w_b"),
             numpy_helper.from_array(np.ascontiguousarray(w.T), "w_c"), _w("other", (16, 8))]
    m = _model(nodes, inits, [_x([3, 16])], [_y(2)])
    (y,) = _ort(m, {"x": RNG.standard_normal((3, 16)).astype(np.float32)})
    assert y.shape == (3, 8)
    assert nf.profile(m).params == 4 * 128                       # default: the file's weights as stored
    assert nf.profile(m, dedupe_weights=True).params == 2 * 128  # w once, other once


def test_dedupe_weights_drops_uniform_tensors():
    """One value repeated (the zero bias or the all-zero additive mask an exporter writes) is no learned
    weight: with dedupe_weights it does not count."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "zero_bias"], ["h2"]),
             helper.make_node("Add", ["h2", "mask"], ["y"])]
    inits = [_w("w", (4, 6)), numpy_helper.from_array(np.zeros(6, np.float32), "zero_bias"),
             numpy_helper.from_array(np.full((3, 6), -0.0, np.float32), "mask")]
    m = _model(nodes, inits, [_x([3, 4])], [_y(2)])
    (y,) = _ort(m, {"x": RNG.standard_normal((3, 4)).astype(np.float32)})
    assert y.shape == (3, 6)
    assert nf.profile(m).params == 24 + 6 + 18
    assert nf.profile(m, dedupe_weights=True).params == 24


def test_dedupe_weights_from_the_command_line(tmp_path, capsys):
    w = RNG.standard_normal((5, 7)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "a"], ["h"]), helper.make_node("MatMul", ["x", "b"], ["h2"]),
             helper.make_node("Add", ["h", "h2"], ["y"])]
    m = _model(nodes, [numpy_helper.from_array(w, "a"), numpy_helper.from_array(w.copy(), "b")], [_x([1, 5])],
               [_y(2)])
    path = tmp_path / "twice.onnx"
    onnx.save(m, str(path))
    from netscore_fast.cli import main
    assert main(["profile", str(path), "--format", "json"]) == 0
    assert '"params": 70' in capsys.readouterr().out
    assert main(["profile", str(path), "--dedupe-weights", "--format", "json"]) == 0
    assert '"params": 35' in capsys.readouterr().out
