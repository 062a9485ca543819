"""Params of the timm and torchvision patterns the two torch exporters store differently: tables the model
computes from positions and pushes through a layer (ConViT, Swin v2, EdgeNeXt), attention-bias tables
stored gathered (LeViT, EfficientFormer, TinyViT), exporter-made zero biases written as Constant nodes.

Every graph is built here with onnx.helper; the reference is the torch parameters the graph stands for
(the learned tensors each test names), and onnxruntime runs each graph so that it is valid.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from conftest import checked_model as _model, run_onnxruntime as _ort  # noqa: E402

RNG = np.random.default_rng(2026)


def _w(name, shape):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def _arr(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def _x(shape, name="x"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _y(rank, name="y"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [None] * rank)




def _grid_offsets(side):
    """ConViT's rel_indices for a side x side patch grid: (dx, dy, dx^2 + dy^2) per pair of patches, a
    float table computed from positions (a torch buffer, not a parameter)."""
    ys, xs = np.divmod(np.arange(side * side), side)
    dx = xs[None, :] - xs[:, None]
    dy = ys[None, :] - ys[:, None]
    return np.stack([dx, dy, dx * dx + dy * dy], -1)[None].astype(np.float32)   # 1 x N x N x 3


def test_table_pushed_through_a_layer_is_not_a_param():
    """ConViT's gated positional attention: pos_proj (Linear(3, heads)) applied to rel_indices, both
    constants in the exported file, the product added to the attention scores of the input."""
    side, heads = 4, 2
    n = side * side
    nodes = [helper.make_node("Expand", ["rel_indices", "shape"], ["rel"]),
             helper.make_node("MatMul", ["rel", "pos_w"], ["pos"]),          # 1 x N x N x heads
             helper.make_node("Add", ["pos", "pos_b"], ["pos2"]),
             helper.make_node("Transpose", ["pos2"], ["pos_t"], perm=[0, 3, 1, 2]),
             helper.make_node("MatMul", ["x", "q_w"], ["q"]),                 # the input's scores
             helper.make_node("Add", ["q", "pos_t"], ["y"])]
    inits = [_arr("rel_indices", _grid_offsets(side)), _arr("shape", np.array([1, n, n, 3], np.int64)),
             _w("pos_w", (3, heads)), _w("pos_b", (heads,)), _w("q_w", (n, n))]
    m = _model(nodes, inits, [_x([1, heads, n, n])], [_y(4)])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, heads, n, n)).astype(np.float32)})
    assert y.shape == (1, heads, n, n)
    learned = 3 * heads + heads + n * n            # pos_proj's weight and bias, q's weight
    assert nf.profile(m).params == learned          # rel_indices (3 N^2) is the data the layer transforms
    assert nf.profile(m, dedupe_weights=True).params == learned


def test_table_through_a_folded_mlp_counts_the_last_weight_in_both_layouts():
    """Swin v2's continuous position bias: an MLP (Linear(2, hidden) + ReLU + Linear(hidden, heads)) on a
    table of log-spaced coordinates. One exporter stores the table and both weights, the other stores the
    first product (table x W1^T) already computed; both count the same params."""
    side, hidden, heads = 5, 16, 3
    coords = RNG.uniform(-1, 1, (1, side, side, 2)).astype(np.float32)
    w1, b1, w2 = (RNG.standard_normal(s).astype(np.float32) for s in ((2, hidden), (hidden,), (hidden, heads)))
    tail = [helper.make_node("Add", ["h", "b1"], ["hb"]), helper.make_node("Relu", ["hb"], ["hr"]),
            helper.make_node("MatMul", ["hr", "w2"], ["bias"]),             # 1 x side x side x heads
            helper.make_node("Reshape", ["bias", "flat"], ["bias_f"]),
            helper.make_node("Add", ["x", "bias_f"], ["y"])]
    flat = _arr("flat", np.array([side * side * heads], np.int64))
    table = _model([helper.make_node("MatMul", ["coords", "w1"], ["h"])] + tail,
                   [_arr("coords", coords), _arr("w1", w1), _arr("b1", b1), _arr("w2", w2), flat],
                   [_x([side * side * heads])], [_y(1)])
    product = _model(tail, [_arr("h", coords @ w1), _arr("b1", b1), _arr("w2", w2), flat],
                     [_x([side * side * heads])], [_y(1)])
    feed = {"x": RNG.standard_normal(side * side * heads).astype(np.float32)}
    np.testing.assert_allclose(_ort(table, feed)[0], _ort(product, feed)[0], rtol=1e-5, atol=1e-5)
    # the hidden activations (side^2 x hidden) are data pushed through W2: the MLP's last weight counts
    assert nf.profile(table).params == nf.profile(product).params == hidden * heads


def test_positional_encoding_through_a_folded_conv_is_not_a_param():
    """EdgeNeXt's Fourier positional encoding: sin / cos of a grid table, then a 1x1 Conv (token_projection);
    the dynamo exporter stores the table, so the Conv has only constant inputs."""
    c, hidden, side = 8, 6, 4
    nodes = [helper.make_node("Sin", ["grid"], ["enc"]),
             helper.make_node("Conv", ["enc", "proj_w", "proj_b"], ["pos"]),   # 1 x c x side x side
             helper.make_node("Add", ["x", "pos"], ["y"])]
    grid = np.broadcast_to(np.arange(side, dtype=np.float32)[None, None, :, None] / (1 + np.arange(hidden))[None, :, None, None],
                           (1, hidden, side, side)).astype(np.float32)
    inits = [_arr("grid", grid), _w("proj_w", (c, hidden, 1, 1)), _w("proj_b", (c,))]
    m = _model(nodes, inits, [_x([1, c, side, side])], [_y(4)])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, c, side, side)).astype(np.float32)})
    assert y.shape == (1, c, side, side)
    assert nf.profile(m).params == c * hidden + c


def test_learned_query_read_as_a_data_operand_still_counts():
    """SigLIP's attention-pooling probe: a learned 1 x 1 x D query times the query projection, both
    constants. The probe is smaller than the weight it multiplies: it is a learned input, counted."""
    d = 8
    nodes = [helper.make_node("MatMul", ["probe", "q_w"], ["q"]),
             helper.make_node("MatMul", ["x", "k_w"], ["k"]),
             helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["q", "kt"], ["y"])]
    inits = [_w("probe", (1, 1, d)), _w("q_w", (d, d)), _w("k_w", (d, d))]
    m = _model(nodes, inits, [_x([1, 5, d])], [_y(3)])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, 5, d)).astype(np.float32)})
    assert y.shape == (1, 1, 5)
    assert nf.profile(m).params == d + 2 * d * d


def _levit_index(side_q, side_k, stride=1):
    """LeViT's attention_bias_idxs: the offset class of every (query, key) pair of two grids."""
    qy, qx = np.divmod(np.arange(side_q * side_q), side_q)
    ky, kx = np.divmod(np.arange(side_k * side_k), side_k)
    off = (np.abs(qy[:, None] * stride - ky[None, :]), np.abs(qx[:, None] * stride - kx[None, :]))
    keys = {}
    return np.vectorize(lambda a, b: keys.setdefault((a, b), len(keys)))(*off), len(keys)


@pytest.mark.parametrize("side_q,side_k,stride", [(4, 4, 1), (2, 4, 2)])
def test_gathered_attention_bias_counts_its_table_with_dedupe_weights(side_q, side_k, stride):
    """timm's eval-mode attention-bias cache: attention_biases (heads x offsets, learned) gathered by
    attention_bias_idxs (queries x keys) and stored gathered (heads x queries x keys) by the dynamo exporter.
    By default the stored elements count; dedupe_weights reads them and counts the table."""
    heads = 3
    idx, offsets = _levit_index(side_q, side_k, stride)
    table = RNG.standard_normal((heads, offsets)).astype(np.float32)
    nq, nk = side_q * side_q, side_k * side_k
    nodes = [helper.make_node("MatMul", ["x", "k_w"], ["scores"]), helper.make_node("Add", ["scores", "ab"], ["y"])]
    inits = [_w("k_w", (nq, nk)), _arr("ab", table[:, idx])]   # 1 x heads x nq x nq @ nq x nk, + heads x nq x nk
    m = _model(nodes, inits, [_x([1, heads, nq, nq])], [_y(4)])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, heads, nq, nq)).astype(np.float32)})
    assert y.shape == (1, heads, nq, nk)
    assert nf.profile(m).params == nq * nk + heads * nq * nk
    assert nf.profile(m, dedupe_weights=True).params == nq * nk + table.size
    # a learned bias of the full size (every element its own value) is not a gathered table
    full = _model(nodes, [inits[0], _w("ab", (heads, nq, nk))], [_x([1, heads, nq, nq])], [_y(4)])
    assert nf.profile(full, dedupe_weights=True).params == nq * nk + heads * nq * nk


def test_dedupe_weights_reads_constant_nodes():
    """The TorchScript exporter writes the all-zero BatchNormalization bias of weight standardisation as a
    Constant node, not an initializer: dedupe_weights drops it as it drops a uniform initializer."""
    c = 5
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [c], np.zeros(c, np.float32).tobytes(), raw=True)
    nodes = [helper.make_node("Constant", [], ["beta"], value=zero),
             helper.make_node("Conv", ["x", "w"], ["h"], kernel_shape=[1, 1]),
             helper.make_node("BatchNormalization", ["h", "gamma", "beta", "mean", "var"], ["y"])]
    inits = [_w("w", (c, 3, 1, 1)), _w("gamma", (c,)), _w("mean", (c,)),
             numpy_helper.from_array(RNG.uniform(0.5, 1.5, c).astype(np.float32), "var")]
    m = _model(nodes, inits, [_x([1, 3, 4, 4])], [_y(4)])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)})
    assert y.shape == (1, c, 4, 4)
    assert nf.profile(m).params == 3 * c + 4 * c
    assert nf.profile(m, dedupe_weights=True).params == 3 * c + 3 * c


def test_fresh_init_weights_count_by_default():
    """An untrained candidate (LayerNorm gamma = 1, beta = 0, zero biases, a zero-initialised attention-bias
    table gathered) counts every stored weight by default: the value rules belong to dedupe_weights."""
    d, heads = 6, 2
    idx, offsets = _levit_index(3, 3)
    nodes = [helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["h"], axis=-1),
             helper.make_node("MatMul", ["h", "w"], ["h2"]), helper.make_node("Add", ["h2", "b"], ["h3"]),
             helper.make_node("Add", ["h3", "ab"], ["y"])]
    inits = [_arr("gamma", np.ones(d, np.float32)), _arr("beta", np.zeros(d, np.float32)), _w("w", (d, 9)),
             _arr("b", np.zeros(9, np.float32)), _arr("ab", np.zeros((heads, offsets), np.float32)[:, idx])]
    m = _model(nodes, inits, [_x([1, heads, 9, d])], [_y(4)])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, heads, 9, d)).astype(np.float32)})
    assert y.shape == (1, heads, 9, 9)
    assert nf.profile(m).params == 2 * d + d * 9 + 9 + heads * 81
