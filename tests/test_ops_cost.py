"""Per-op MACs, FLOPs, params and shapes of the compute op families against hand derivations.

Every expected count below is the formula of docs/counting.md evaluated by hand on the explicit numbers
of the case (written out next to it); output shapes are also checked against onnxruntime where it runs
the op. Nothing here is copied from our own output.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast  # noqa: E402
from netscore_fast import ModelError  # noqa: E402

RNG_SEED = 1234


# --- helpers --------------------------------------------------------------------------------------------
def _model(nodes, inputs, inits, outputs, opset=17, extra_opsets=()):
    """inputs: {name: (elem_type, shape)}; inits: {name: ndarray}; outputs: list of names."""
    graph = helper.make_graph(
        nodes, "case",
        [helper.make_tensor_value_info(n, t, s) for n, (t, s) in inputs.items()],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        initializer=[numpy_helper.from_array(v, n) for n, v in inits.items()],
    )
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="netscore_fast-tests")
    model.ir_version = 8  # readable by the installed onnxruntime
    return model


def _weights(*shape, dtype=np.float32):
    rng = np.random.default_rng(RNG_SEED)
    return (rng.standard_normal(shape) + 0.5).astype(dtype)  # never all zeros


def _row(profile, op_type):
    rows = profile.layers
    hits = [i for i in range(len(rows)) if rows["op_type"][i] == op_type and not rows["folded"][i]]
    assert len(hits) == 1, f"expected one {op_type} row, got {rows['op_type'].tolist()}"
    return rows[hits[0]], profile.layer_shapes()[hits[0]][1]


def _ort_output_shapes(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [list(o.shape) for o in sess.run(None, feeds)]


def _single(op, x_shape, w, attrs, bias=None, opset=17):
    inits = {"w": w}
    ins = ["x", "w"]
    if bias is not None:
        inits["b"] = bias
        ins.append("b")
    node = helper.make_node(op, ins, ["y"], name="n", **attrs)
    return _model([node], {"x": (TensorProto.FLOAT, list(x_shape))}, inits, ["y"], opset=opset)


# --- Conv -----------------------------------------------------------------------------------------------
# (id, x shape, w shape, attrs, bias, expected output shape, MACs by hand)
# MACs = N * C_out * prod(out spatial) * (C_in / group) * prod(kernel)
CONV_CASES = [
    ("standard_3x3_pad1", (1, 3, 32, 32), (16, 3, 3, 3), dict(pads=[1, 1, 1, 1]), True,
     [1, 16, 32, 32], 1 * 16 * 32 * 32 * 3 * 3 * 3),
    # depthwise: group = C = 32, stride 2, pad 1: out = floor((56 + 2 - 3) / 2) + 1 = 28
    ("depthwise_s2", (1, 32, 56, 56), (32, 1, 3, 3), dict(group=32, strides=[2, 2], pads=[1, 1, 1, 1]), True,
     [1, 32, 28, 28], 1 * 32 * 28 * 28 * 1 * 3 * 3),
    # pointwise, batch 2
    ("pointwise_batch2", (2, 64, 14, 14), (128, 64, 1, 1), {}, False,
     [2, 128, 14, 14], 2 * 128 * 14 * 14 * 64 * 1 * 1),
    # grouped: 8 input channels in 4 groups of 2; out = 10 - 3 + 1 = 8
    ("grouped_g4", (1, 8, 10, 10), (16, 2, 3, 3), dict(group=4), True,
     [1, 16, 8, 8], 1 * 16 * 8 * 8 * 2 * 3 * 3),
    # dilation 2: effective kernel (3 - 1) * 2 + 1 = 5, out = 20 - 5 + 1 = 16
    ("dilated_d2", (1, 4, 20, 20), (4, 4, 3, 3), dict(dilations=[2, 2]), False,
     [1, 4, 16, 16], 1 * 4 * 16 * 16 * 4 * 3 * 3),
    # asymmetric pads, stride 2: out = floor((15 + 0 + 1 - 3) / 2) + 1 = 7
    ("strided_asym_pads", (1, 3, 15, 15), (8, 3, 3, 3), dict(strides=[2, 2], pads=[0, 0, 1, 1]), False,
     [1, 8, 7, 7], 1 * 8 * 7 * 7 * 3 * 3 * 3),
    # SAME_UPPER / SAME_LOWER: out = ceil(15 / 2) = 8 whatever the kernel
    ("same_upper", (1, 3, 15, 15), (8, 3, 4, 4), dict(strides=[2, 2], auto_pad="SAME_UPPER"), False,
     [1, 8, 8, 8], 1 * 8 * 8 * 8 * 3 * 4 * 4),
    ("same_lower", (1, 3, 15, 15), (8, 3, 4, 4), dict(strides=[2, 2], auto_pad="SAME_LOWER"), False,
     [1, 8, 8, 8], 1 * 8 * 8 * 8 * 3 * 4 * 4),
    # VALID: out = floor((15 - 4) / 2) + 1 = 6
    ("valid", (1, 3, 15, 15), (8, 3, 4, 4), dict(strides=[2, 2], auto_pad="VALID"), False,
     [1, 8, 6, 6], 1 * 8 * 6 * 6 * 3 * 4 * 4),
    # 1-D: out = floor((100 - 5) / 3) + 1 = 32
    ("conv1d", (1, 4, 100), (8, 4, 5), dict(strides=[3]), True,
     [1, 8, 32], 1 * 8 * 32 * 4 * 5),
    # 3-D, pad 1: out 8 x 8 x 8
    ("conv3d", (1, 2, 8, 8, 8), (4, 2, 3, 3, 3), dict(pads=[1, 1, 1, 1, 1, 1]), True,
     [1, 4, 8, 8, 8], 1 * 4 * 8 * 8 * 8 * 2 * 3 * 3 * 3),
    # kernel_shape given explicitly, equal to the weight's
    ("kernel_shape_attr", (1, 3, 9, 9), (5, 3, 3, 3), dict(kernel_shape=[3, 3], strides=[3, 3]), False,
     [1, 5, 3, 3], 1 * 5 * 3 * 3 * 3 * 3 * 3),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_counts(case):
    _, x_shape, w_shape, attrs, has_bias, out_shape, macs = case
    w = _weights(*w_shape)
    bias = _weights(w_shape[0]) if has_bias else None
    model = _single("Conv", x_shape, w, attrs, bias)
    p = netscore_fast.profile(model)
    row, outs = _row(p, "Conv")
    assert outs[0] == out_shape
    assert row["macs"] == macs
    # FLOPs = 2 * MACs + one add per output element for the bias
    assert row["flops"] == 2 * macs + (int(np.prod(out_shape)) if has_bias else 0)
    assert row["params"] == w.size + (w_shape[0] if has_bias else 0)
    assert p.macs == macs


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_shapes_match_onnxruntime(case):
    _, x_shape, w_shape, attrs, has_bias, out_shape, _ = case
    model = _single("Conv", x_shape, _weights(*w_shape), attrs, _weights(w_shape[0]) if has_bias else None)
    got = _ort_output_shapes(model, {"x": _weights(*x_shape)})
    assert got[0] == out_shape


def test_conv_weight_channels_disagree_is_a_model_error():
    # weight expects 5 input channels per group, the input has 3
    model = _single("Conv", (1, 3, 8, 8), _weights(4, 5, 3, 3), {})
    with pytest.raises(ModelError, match="input channels"):
        netscore_fast.profile(model)


def test_conv_with_unknown_spatial_dims_has_unknown_cost_not_zero():
    w = _weights(4, 3, 3, 3)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, "H", "W"])}, {"w": w}, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "Conv")
    assert row["macs"] == -1 and row["flops"] == -1
    assert outs[0][:2] == [1, 4]
    assert "conv" in p.unknown_cost_nodes
    assert row["params"] == w.size  # params do not depend on the input shape


# --- ConvTranspose --------------------------------------------------------------------------------------
@pytest.mark.parametrize("group", [1, 2])
def test_conv_transpose_output_padding(group):
    # W is (C_in, C_out / group, kH, kW); out = stride * (in - 1) + output_padding + k - pad_begin - pad_end
    #   = 2 * (7 - 1) + 1 + 3 - 1 - 1 = 14
    c_in, c_out_per_group = 8, 4
    w = _weights(c_in, c_out_per_group, 3, 3)
    attrs = dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], group=group)
    model = _single("ConvTranspose", (1, c_in, 7, 7), w, attrs, _weights(c_out_per_group * group))
    p = netscore_fast.profile(model)
    row, outs = _row(p, "ConvTranspose")
    out_shape = [1, c_out_per_group * group, 14, 14]
    assert outs[0] == out_shape
    # MACs = N * C_in * prod(in spatial) * (C_out / group) * prod(kernel)
    macs = 1 * 8 * 7 * 7 * 4 * 3 * 3
    assert row["macs"] == macs
    assert row["flops"] == 2 * macs + int(np.prod(out_shape))
    assert _ort_output_shapes(model, {"x": _weights(1, c_in, 7, 7)})[0] == out_shape


# --- Gemm / MatMul / Einsum -----------------------------------------------------------------------------
def test_gemm_trans_a_trans_b():
    # A is (K=64, M=32) with transA, B is (N=10, K=64) with transB, C (10) broadcast over rows
    node = helper.make_node("Gemm", ["a", "w", "c"], ["y"], name="fc", transA=1, transB=1, alpha=0.5, beta=2.0)
    model = _model([node], {"a": (TensorProto.FLOAT, [64, 32])}, {"w": _weights(10, 64), "c": _weights(10)}, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "Gemm")
    assert outs[0] == [32, 10]
    assert row["macs"] == 32 * 10 * 64              # M * N * K
    assert row["flops"] == 2 * 32 * 10 * 64 + 32 * 10  # + one bias add per output
    assert row["params"] == 10 * 64 + 10
    assert _ort_output_shapes(model, {"a": _weights(64, 32)})[0] == [32, 10]


def test_gemm_k_mismatch_is_a_model_error():
    node = helper.make_node("Gemm", ["a", "w"], ["y"], name="fc", transB=1)
    model = _model([node], {"a": (TensorProto.FLOAT, [4, 16])}, {"w": _weights(10, 15)}, ["y"])
    with pytest.raises(ModelError, match="K"):
        netscore_fast.profile(model)


@pytest.mark.parametrize("a_shape,b_shape,out_shape,macs", [
    # batch dims (2, 1) and (3,) broadcast to (2, 3); M=8, K=16, N=4
    ((2, 1, 8, 16), (3, 16, 4), [2, 3, 8, 4], 2 * 3 * 8 * 4 * 16),
    # 1-D A is promoted to (1, 16) and the 1 removed: (2, 16, 5) -> (2, 5)
    ((16,), (2, 16, 5), [2, 5], 2 * 1 * 5 * 16),
    # 1-D B: (3, 7, 6) x (6,) -> (3, 7)
    ((3, 7, 6), (6,), [3, 7], 3 * 7 * 1 * 6),
])
def test_matmul_batched_broadcast(a_shape, b_shape, out_shape, macs):
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    model = _model([node], {"a": (TensorProto.FLOAT, list(a_shape)), "b": (TensorProto.FLOAT, list(b_shape))},
                   {}, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "MatMul")
    assert outs[0] == out_shape
    assert row["macs"] == macs and row["flops"] == 2 * macs
    assert _ort_output_shapes(model, {"a": _weights(*a_shape), "b": _weights(*b_shape)})[0] == out_shape


def test_matmul_inner_dims_disagree_is_a_model_error():
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    model = _model([node], {"a": (TensorProto.FLOAT, [4, 8]), "b": (TensorProto.FLOAT, [9, 3])}, {}, ["y"])
    with pytest.raises(ModelError, match="inner"):
        netscore_fast.profile(model)


@pytest.mark.parametrize("equation,shapes,out_shape,macs", [
    # batched matmul: distinct labels b, i, j, k -> MACs = 2 * 3 * 4 * 5
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], [2, 3, 5], 2 * 3 * 4 * 5),
    # attention scores: b, h, i, j, d -> MACs = 2 * 4 * 8 * 10 * 16
    ("bhid,bhjd->bhij", [(2, 4, 8, 16), (2, 4, 10, 16)], [2, 4, 8, 10], 2 * 4 * 8 * 10 * 16),
    # implicit output: labels seen once, alphabetical -> "ik"
    ("ij,jk", [(6, 7), (7, 3)], [6, 3], 6 * 7 * 3),
    # ellipsis batch dims
    ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)], [5, 2, 4], 5 * 2 * 3 * 4),
])
def test_einsum(equation, shapes, out_shape, macs):
    names = [f"x{i}" for i in range(len(shapes))]
    node = helper.make_node("Einsum", names, ["y"], name="es", equation=equation)
    model = _model([node], {n: (TensorProto.FLOAT, list(s)) for n, s in zip(names, shapes)}, {}, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "Einsum")
    assert outs[0] == out_shape
    assert row["macs"] == macs and row["flops"] == 2 * macs
    feeds = {n: _weights(*s) for n, s in zip(names, shapes)}
    assert list(np.einsum(equation, *feeds.values()).shape) == out_shape


def test_einsum_one_operand_reduction_is_adds_only():
    # "ij->i" on (4, 6): no multiplications; 24 inputs reduced to 4 outputs = 20 adds
    node = helper.make_node("Einsum", ["x"], ["y"], name="es", equation="ij->i")
    model = _model([node], {"x": (TensorProto.FLOAT, [4, 6])}, {}, ["y"])
    row, outs = _row(netscore_fast.profile(model), "Einsum")
    assert outs[0] == [4]
    assert row["macs"] == 0 and row["flops"] == 4 * 6 - 4


# --- RNNs -----------------------------------------------------------------------------------------------
# MACs = seq * batch * dirs * gates * hidden * (input + hidden); gates: LSTM 4, GRU 3, RNN 1
def _rnn_model(op, seq, batch, inp, hidden, direction, layout, with_initial_h=False):
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    dirs = 2 if direction == "bidirectional" else 1
    inits = {"W": _weights(dirs, gates * hidden, inp), "R": _weights(dirs, gates * hidden, hidden),
             "B": _weights(dirs, 2 * gates * hidden)}
    ins = ["X", "W", "R", "B"]
    if with_initial_h:
        h_shape = (batch, dirs, hidden) if layout else (dirs, batch, hidden)
        inits["h0"] = _weights(*h_shape)
        ins += ["", "h0"]
    outs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    node = helper.make_node(op, ins, outs, name="rnn", hidden_size=hidden, direction=direction, layout=layout)
    x_shape = [batch, seq, inp] if layout else [seq, batch, inp]
    return _model([node], {"X": (TensorProto.FLOAT, x_shape)}, inits, outs, opset=14), inits


@pytest.mark.parametrize("op,seq,batch,inp,hidden,direction,layout", [
    ("LSTM", 5, 2, 10, 8, "forward", 0),
    ("LSTM", 5, 2, 10, 8, "bidirectional", 1),
    ("GRU", 4, 3, 6, 5, "bidirectional", 1),
    ("GRU", 4, 3, 6, 5, "reverse", 0),
    ("RNN", 7, 1, 3, 4, "reverse", 0),
])
def test_rnn_counts_and_shapes(op, seq, batch, inp, hidden, direction, layout):
    model, inits = _rnn_model(op, seq, batch, inp, hidden, direction, layout, with_initial_h=True)
    p = netscore_fast.profile(model)
    row, outs = _row(p, op)
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    dirs = 2 if direction == "bidirectional" else 1
    if layout == 0:
        assert outs[0] == [seq, dirs, batch, hidden] and outs[1] == [dirs, batch, hidden]
    else:
        assert outs[0] == [batch, seq, dirs, hidden] and outs[1] == [batch, dirs, hidden]
    if op == "LSTM":
        assert outs[2] == outs[1]
    macs = seq * batch * dirs * gates * hidden * (inp + hidden)
    assert row["macs"] == macs
    # FLOPs = 2 * MACs + bias adds (Wb and Rb per gate unit) + per hidden unit activations/updates, with the
    # table's Sigmoid = 4 and Tanh = 1: LSTM 3*4 + 2*1 + 4 = 18, GRU 2*4 + 1 + 4 = 13, RNN 1
    steps = seq * batch * dirs
    per_unit = {"LSTM": 18, "GRU": 13, "RNN": 1}[op]
    assert row["flops"] == 2 * macs + steps * 2 * gates * hidden + steps * per_unit * hidden
    # W, R, B are weights; the initial hidden state is not
    assert row["params"] == inits["W"].size + inits["R"].size + inits["B"].size
    if layout == 0:  # onnxruntime implements layout 0 only
        feeds = {"X": _weights(seq, batch, inp)}
        assert _ort_output_shapes(model, feeds)[:2] == outs[:2]


def test_lstm_hidden_size_disagrees_with_w_is_a_model_error():
    model, _ = _rnn_model("LSTM", 3, 1, 4, 6, "forward", 0)
    for a in model.graph.node[0].attribute:
        if a.name == "hidden_size":
            a.i = 7
    with pytest.raises(ModelError, match="hidden"):
        netscore_fast.profile(model)


# --- normalisation --------------------------------------------------------------------------------------
def test_batchnorm_stat_params_and_flops():
    c = 16
    conv_w = _weights(c, 3, 3, 3)
    inits = {"w": conv_w, "scale": _weights(c), "bias": _weights(c), "mean": _weights(c),
             "var": np.abs(_weights(c)) + 1}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["y"], name="bn")]
    model = _model(nodes, {"x": (TensorProto.FLOAT, [1, 3, 10, 10])}, inits, ["y"])
    p = netscore_fast.profile(model)
    # scale, bias, running mean, running var: 4 * C; the running statistics are 2 * C of them
    assert p.params == conv_w.size + 4 * c
    assert p.bn_stat_params == 2 * c
    row, outs = _row(p, "BatchNormalization")
    assert outs[0] == [1, c, 10, 10]
    assert row["macs"] == 0
    assert row["flops"] == 2 * c * 10 * 10  # inference: scale and shift per element
    assert row["params"] == 4 * c


def test_layernorm_stash_outputs_and_flops():
    node = helper.make_node("LayerNormalization", ["x", "g", "b"], ["y", "mean", "inv"], name="ln", axis=-1)
    model = _model([node], {"x": (TensorProto.FLOAT, [2, 5, 8])}, {"g": _weights(8), "b": _weights(8)},
                   ["y", "mean", "inv"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "LayerNormalization")
    assert outs == [[2, 5, 8], [2, 5, 1], [2, 5, 1]]
    # mean add, subtract, square, variance add, multiply by 1/std (5) + scale (1) + bias (1) per element
    assert row["flops"] == 7 * 2 * 5 * 8
    assert row["params"] == 16


# --- pooling --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op,attrs,out_hw,per_window,per_out", [
    # out = floor((16 + 2 - 3) / 2) + 1 = 8; one compare per window element
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), 8, 9, 0),
    # ceil_mode: out = ceil((16 - 3) / 2) + 1 = 8 (floor would give 7); adds + one divide per output
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1), 8, 9, 1),
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2]), 7, 9, 1),
])
def test_window_pool(op, attrs, out_hw, per_window, per_out):
    node = helper.make_node(op, ["x"], ["y"], name="pool", **attrs)
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 4, 16, 16])}, {}, ["y"])
    row, outs = _row(netscore_fast.profile(model), op)
    assert outs[0] == [1, 4, out_hw, out_hw]
    out_elems = 4 * out_hw * out_hw
    assert row["macs"] == 0 and row["flops"] == out_elems * per_window + out_elems * per_out
    assert _ort_output_shapes(model, {"x": _weights(1, 4, 16, 16)})[0] == outs[0]


# --- quantized ------------------------------------------------------------------------------------------
def test_qlinearconv_params_are_weight_and_bias_only():
    w = np.random.default_rng(RNG_SEED).integers(-100, 100, size=(4, 3, 3, 3), dtype=np.int8)
    inits = {
        "xs": np.array(0.02, np.float32), "xz": np.array(128, np.uint8),
        "w": w, "ws": np.array(0.01, np.float32), "wz": np.array(0, np.int8),
        "ys": np.array(0.05, np.float32), "yz": np.array(128, np.uint8),
        "B": np.arange(1, 5, dtype=np.int32),
    }
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "B"], ["y"], name="qc")
    model = _model([node], {"x": (TensorProto.UINT8, [1, 3, 8, 8])}, inits, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "QLinearConv")
    assert outs[0] == [1, 4, 6, 6]          # no padding: 8 - 3 + 1
    assert row["macs"] == 1 * 4 * 6 * 6 * 3 * 3 * 3
    assert p.params == w.size + 4            # scales and zero points are not params
    assert p.weight_bytes == w.size * 1 + 4 * 4  # int8 weights one byte each, int32 bias four
    assert _ort_output_shapes(model, {"x": np.ones((1, 3, 8, 8), np.uint8)})[0] == outs[0]


def test_qdq_int8_model_counts_one_byte_per_weight():
    # x -> QuantizeLinear -> DequantizeLinear -> Conv(w = DequantizeLinear(int8 w)) with a float bias
    w_q = np.random.default_rng(RNG_SEED).integers(-127, 127, size=(8, 3, 3, 3), dtype=np.int8)
    inits = {"s": np.array(0.1, np.float32), "z": np.array(0, np.int8),
             "wq": w_q, "ws": np.full(8, 0.01, np.float32), "wz": np.zeros(8, np.int8),
             "b": _weights(8)}
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], name="dq_w", axis=0),
        helper.make_node("Conv", ["xd", "wd", "b"], ["y"], name="conv", pads=[1, 1, 1, 1]),
    ]
    model = _model(nodes, {"x": (TensorProto.FLOAT, [1, 3, 12, 12])}, inits, ["y"], opset=13)
    p = netscore_fast.profile(model)
    assert p.params == w_q.size + 8                # int8 weight + float bias; scales/zero points excluded
    assert p.weight_bytes == w_q.size * 1 + 8 * 4
    row, outs = _row(p, "Conv")
    assert outs[0] == [1, 8, 12, 12]
    assert p.macs == 1 * 8 * 12 * 12 * 3 * 3 * 3
    assert _ort_output_shapes(model, {"x": _weights(1, 3, 12, 12)})[0] == outs[0]


# --- attention ------------------------------------------------------------------------------------------
def test_onnx_attention_4d_counts():
    if onnx.defs.onnx_opset_version() < 23:
        pytest.skip("Attention needs opset 23")
    b, hq, hkv, sq, skv, d = 2, 8, 2, 5, 7, 16
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], name="attn")
    model = _model([node], {"q": (TensorProto.FLOAT, [b, hq, sq, d]), "k": (TensorProto.FLOAT, [b, hkv, skv, d]),
                            "v": (TensorProto.FLOAT, [b, hkv, skv, d])}, {}, ["y"], opset=23)
    row, outs = _row(netscore_fast.profile(model), "Attention")
    assert outs[0] == [b, hq, sq, d]
    # QK^T and PV per query head: b * hq * sq * skv * (d + d)
    assert row["macs"] == b * hq * sq * skv * (d + d)


def test_einsum_three_operands_pairwise():
    # ij,jk -> ik first (labels i, j, k: 2 * 3 * 4 = 24 MACs), then ik,kl -> il (2 * 4 * 5 = 40)
    names = ["a", "b", "c"]
    shapes = [(2, 3), (3, 4), (4, 5)]
    node = helper.make_node("Einsum", names, ["y"], name="es", equation="ij,jk,kl->il")
    model = _model([node], {n: (TensorProto.FLOAT, list(s)) for n, s in zip(names, shapes)}, {}, ["y"])
    row, outs = _row(netscore_fast.profile(model), "Einsum")
    assert outs[0] == [2, 5]
    assert row["macs"] == 2 * 3 * 4 + 2 * 4 * 5


def test_lstm_peepholes_add_three_macs_per_hidden_unit():
    seq, batch, inp, hidden = 3, 2, 5, 4
    inits = {"W": _weights(1, 4 * hidden, inp), "R": _weights(1, 4 * hidden, hidden), "P": _weights(1, 3 * hidden)}
    node = helper.make_node("LSTM", ["X", "W", "R", "", "", "", "", "P"], ["Y"], name="lstm", hidden_size=hidden)
    model = _model([node], {"X": (TensorProto.FLOAT, [seq, batch, inp])}, inits, ["Y"])
    row, _ = _row(netscore_fast.profile(model), "LSTM")
    # gate matmuls 3 * 2 * 4 * 4 * (5 + 4) = 864, peepholes 3 * 2 * 3 * 4 = 72
    assert row["macs"] == seq * batch * 4 * hidden * (inp + hidden) + seq * batch * 3 * hidden
    assert row["params"] == inits["W"].size + inits["R"].size + inits["P"].size


# --- resampling -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,per_out", [
    ("nearest", 0),            # a gather
    ("linear", 2 * 2 ** 2),    # 2 resized axes: 4 taps, multiply + add each
    ("cubic", 2 * 4 ** 2),     # 16 taps
])
def test_resize_scales(mode, per_out):
    inits = {"roi": np.array([], np.float32), "scales": np.array([1, 1, 2, 1.5], np.float32)}
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], name="rs", mode=mode)
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, 10, 7])}, inits, ["y"], opset=13)
    row, outs = _row(netscore_fast.profile(model), "Resize")
    out_shape = [1, 3, 20, 10]  # floor(10 * 2) = 20, floor(7 * 1.5) = 10
    assert outs[0] == out_shape
    assert row["flops"] == int(np.prod(out_shape)) * per_out
    assert row["params"] == 0  # roi and scales are not weights
    assert _ort_output_shapes(model, {"x": _weights(1, 3, 10, 7)})[0] == out_shape


def test_resize_sizes_keep_aspect_ratio_not_larger():
    from onnx.reference import ReferenceEvaluator

    # axes (2, 3), sizes (5, 5) on 10 x 20: ratios 0.5 and 0.25, not_larger takes 0.25:
    # round_half_up(0.25 * 10) = 3, 0.25 * 20 = 5
    inits = {"sizes": np.array([5, 5], np.int64)}
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="rs", axes=[2, 3],
                            keep_aspect_ratio_policy="not_larger")
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, 10, 20])}, inits, ["y"], opset=18)
    _, outs = _row(netscore_fast.profile(model), "Resize")
    assert outs[0] == [1, 3, 3, 5]
    ref = ReferenceEvaluator(model).run(None, {"x": _weights(1, 3, 10, 20)})[0]
    assert list(ref.shape) == outs[0]


def test_upsample_scales_input():
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], name="up", mode="nearest")
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 2, 3, 3])},
                   {"scales": np.array([1, 1, 2, 3], np.float32)}, ["y"], opset=9)
    row, outs = _row(netscore_fast.profile(model), "Upsample")
    assert outs[0] == [1, 2, 6, 9]
    assert row["flops"] == 0


@pytest.mark.parametrize("op,attrs,x_shape,out_shape", [
    ("DepthToSpace", dict(blocksize=2, mode="CRD"), [1, 8, 3, 4], [1, 2, 6, 8]),  # C / 4, H * 2, W * 2
    ("SpaceToDepth", dict(blocksize=2), [1, 8, 4, 6], [1, 32, 2, 3]),             # C * 4, H / 2, W / 2
])
def test_depth_space(op, attrs, x_shape, out_shape):
    node = helper.make_node(op, ["x"], ["y"], name="ds", **attrs)
    model = _model([node], {"x": (TensorProto.FLOAT, x_shape)}, {}, ["y"])
    row, outs = _row(netscore_fast.profile(model), op)
    assert outs[0] == out_shape
    assert row["flops"] == 0 and row["macs"] == 0
    assert _ort_output_shapes(model, {"x": _weights(*x_shape)})[0] == out_shape


# --- reductions -----------------------------------------------------------------------------------------
def test_reduce_prod_of_shape_folds_so_reshape_gets_the_element_count():
    # torch dynamic exports compute numel as ReduceProd(Shape(x)); the walker must fold it to 2 * 3 * 4 = 24
    nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("ReduceProd", ["s"], ["n"], name="numel", keepdims=1),
             helper.make_node("Reshape", ["x", "n"], ["y"], name="flat")]
    model = _model(nodes, {"x": (TensorProto.FLOAT, [2, 3, 4])}, {}, ["y"])
    p = netscore_fast.profile(model)
    _, outs = _row(p, "Reshape")
    assert outs[0] == [24]


@pytest.mark.parametrize("op,per_in,per_out", [
    ("ReduceSum", 1, 0), ("ReduceMean", 1, 1), ("ReduceMax", 1, 0), ("ReduceL2", 2, 1), ("ReduceLogSumExp", 2, 1),
])
def test_reduce_axes_input_opset18(op, per_in, per_out):
    node = helper.make_node(op, ["x", "axes"], ["y"], name="r", keepdims=0)
    model = _model([node], {"x": (TensorProto.FLOAT, [2, 3, 5])}, {"axes": np.array([-1, 0], np.int64)}, ["y"],
                   opset=18)
    row, outs = _row(netscore_fast.profile(model), op)
    assert outs[0] == [3]
    assert row["flops"] == 30 * per_in + 3 * per_out
    assert row["params"] == 0  # axes are not weights


def test_reduce_with_runtime_axes_keeps_rank_and_unknown_cost():
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y"], name="r", keepdims=1)
    model = _model([node], {"x": (TensorProto.FLOAT, [2, 3, 5]), "axes": (TensorProto.INT64, [1])}, {}, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "ReduceSum")
    assert len(outs[0]) == 3
    assert row["flops"] == -1 and "r" in p.unknown_cost_nodes


def test_softmax_and_topk():
    nodes = [helper.make_node("Softmax", ["x"], ["s"], name="sm", axis=-1),
             helper.make_node("TopK", ["s", "k"], ["v", "i"], name="topk", axis=1)]
    model = _model(nodes, {"x": (TensorProto.FLOAT, [3, 10])}, {"k": np.array([4], np.int64)}, ["v", "i"])
    p = netscore_fast.profile(model)
    sm, _ = _row(p, "Softmax")
    assert sm["flops"] == 5 * 30  # max, subtract, exp, sum, divide per element
    tk, outs = _row(p, "TopK")
    assert outs == [[3, 4], [3, 4]]
    assert tk["flops"] == 30 * 2  # ceil(log2 4) = 2 compares per element
    assert _ort_output_shapes(model, {"x": _weights(3, 10)}) == outs


# --- normalisation --------------------------------------------------------------------------------------
def test_group_norm_groups_must_divide_channels():
    inits = {"s": _weights(6), "b": _weights(6)}
    ok = helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], name="gn", num_groups=3)
    model = _model([ok], {"x": (TensorProto.FLOAT, [2, 6, 4, 4])}, inits, ["y"], opset=21)
    row, outs = _row(netscore_fast.profile(model), "GroupNormalization")
    assert outs[0] == [2, 6, 4, 4]
    assert row["flops"] == 7 * 2 * 6 * 4 * 4 and row["params"] == 12
    bad = helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], name="gn", num_groups=4)
    with pytest.raises(ModelError, match="num_groups"):
        netscore_fast.profile(_model([bad], {"x": (TensorProto.FLOAT, [2, 6, 4, 4])}, inits, ["y"], opset=21))


# --- elementwise table ----------------------------------------------------------------------------------
@pytest.mark.parametrize("op,per_elem", [
    ("Relu", 1),          # max(0, x)
    ("Sigmoid", 4),       # 1 / (1 + exp(-x)): negate, exp, add, divide
    ("HardSigmoid", 4),   # max(0, min(1, alpha * x + beta)): multiply, add, min, max
    ("HardSwish", 5),     # x * HardSigmoid(x)
    ("Gelu", 5),          # 0.5 * x * (1 + erf(x / sqrt(2))): divide, erf, add, multiply, multiply
    ("Softplus", 3),      # log(exp(x) + 1)
    ("Tanh", 1),
])
def test_elementwise_table(op, per_elem):
    node = helper.make_node(op, ["x"], ["y"], name="act")
    model = _model([node], {"x": (TensorProto.FLOAT, [2, 3, 4])}, {}, ["y"], opset=20)
    row, _ = _row(netscore_fast.profile(model), op)
    assert row["macs"] == 0 and row["flops"] == 24 * per_elem


# --- attention ------------------------------------------------------------------------------------------
def test_onnx_attention_3d_gqa_with_past():
    if onnx.defs.onnx_opset_version() < 23:
        pytest.skip("Attention needs opset 23")
    b, hq, hkv, sq, skv, past, d = 2, 8, 2, 5, 7, 3, 16
    node = helper.make_node("Attention", ["q", "k", "v", "", "pk", "pv"], ["y", "present_k", "present_v"],
                            name="attn", q_num_heads=hq, kv_num_heads=hkv)
    inputs = {"q": (TensorProto.FLOAT, [b, sq, hq * d]), "k": (TensorProto.FLOAT, [b, skv, hkv * d]),
              "v": (TensorProto.FLOAT, [b, skv, hkv * d]), "pk": (TensorProto.FLOAT, [b, hkv, past, d]),
              "pv": (TensorProto.FLOAT, [b, hkv, past, d])}
    model = _model([node], inputs, {}, ["y", "present_k", "present_v"], opset=23)
    row, outs = _row(netscore_fast.profile(model), "Attention")
    total = past + skv
    assert outs == [[b, sq, hq * d], [b, hkv, total, d], [b, hkv, total, d]]
    assert row["macs"] == b * hq * sq * total * (d + d)
    # 2 per MAC + scale and softmax (6) per score
    assert row["flops"] == 2 * row["macs"] + 6 * b * hq * sq * total
    from onnx.reference import ReferenceEvaluator
    feeds = {n: _weights(*s) for n, (_, s) in inputs.items()}
    assert [list(o.shape) for o in ReferenceEvaluator(model).run(None, feeds)] == outs


def test_com_microsoft_attention_includes_the_input_projection():
    b, s, hidden, heads = 2, 6, 32, 4
    inits = {"w": _weights(hidden, 3 * hidden), "bias": _weights(3 * hidden)}
    node = helper.make_node("Attention", ["x", "w", "bias"], ["y"], name="attn", domain="com.microsoft",
                            num_heads=heads)
    model = _model([node], {"x": (TensorProto.FLOAT, [b, s, hidden])}, inits, ["y"],
                   extra_opsets=[("com.microsoft", 1)])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "com.microsoft::Attention")
    assert outs[0] == [b, s, hidden]
    head = hidden // heads
    # projection B * S * D_in * 3D, then QK^T and PV: B * heads * S * S * (head + head)
    assert row["macs"] == b * s * hidden * 3 * hidden + b * heads * s * s * (head + head)
    assert row["params"] == hidden * 3 * hidden + 3 * hidden
    assert _ort_output_shapes(model, {"x": _weights(b, s, hidden)})[0] == outs[0]


# --- docs/counting.md is the spec of the elementwise table ------------------------------------------------
def _documented_elementwise():
    """(op, FLOPs per element) rows of the elementwise table in docs/counting.md."""
    import pathlib
    import re

    doc = pathlib.Path(__file__).resolve().parents[1] / "docs" / "counting.md"
    if not doc.is_file():
        return []
    text = doc.read_text()
    section = text.split("### Elementwise and activations", 1)[1]
    rows = []
    for line in section.splitlines():
        m = re.match(r"\|\s*([A-Za-z*, ]+?)\s*\|\s*(\d+)\s*\|", line)
        if not m:
            continue
        for op in m.group(1).split(","):
            op = op.strip()
            if op and "*" not in op:
                rows.append((op, int(m.group(2))))
    return rows


_FLOAT_UNARY_SKIP = {"Not", "IsNaN", "IsInf", "Where"}  # boolean inputs/outputs or three operands
_BINARY = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Greater", "Less",
           "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "BitShift", "PRelu"}


@pytest.mark.parametrize("op,per_elem", _documented_elementwise())
def test_documented_elementwise_flops(op, per_elem):
    if op in _FLOAT_UNARY_SKIP or op in {"And", "Or", "Xor", "BitShift"}:
        pytest.skip("needs boolean or integer operands")
    if op not in netscore_fast.profile.__globals__["supported_ops"]():
        pytest.skip(f"{op} not registered")
    inputs = {"x": (TensorProto.FLOAT, [2, 3, 4])}
    names = ["x"]
    if op in _BINARY:
        inputs["z"] = (TensorProto.FLOAT, [2, 3, 4])
        names.append("z")
    attrs = {"fmod": 1} if op == "Mod" else {}
    node = helper.make_node(op, names, ["y"], name="ew", **attrs)
    model = _model([node], inputs, {}, ["y"], opset=22 if op != "Swish" else 24)
    row, _ = _row(netscore_fast.profile(model), op)
    assert row["flops"] == 24 * per_elem


def test_documented_elementwise_table_is_found():
    rows = dict(_documented_elementwise())
    assert len(rows) > 40 and rows["Sigmoid"] == 4 and rows["Relu"] == 1


def test_matmul_inner_dim_known_from_the_weight_only():
    # A's K is symbolic; the constant B (16, 4) fixes it: MACs = M * N * K = 2 * 4 * 16
    node = helper.make_node("MatMul", ["a", "w"], ["y"], name="mm")
    model = _model([node], {"a": (TensorProto.FLOAT, [2, "K"])}, {"w": _weights(16, 4)}, ["y"])
    row, outs = _row(netscore_fast.profile(model), "MatMul")
    assert outs[0] == [2, 4]
    assert row["macs"] == 2 * 4 * 16


def test_global_pools_and_lp_pool():
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["g"], name="gap"),
             helper.make_node("LpPool", ["x"], ["l"], name="lp", kernel_shape=[2, 2], strides=[2, 2], p=2)]
    model = _model(nodes, {"x": (TensorProto.FLOAT, [2, 5, 6, 6])}, {}, ["g", "l"], opset=11)
    p = netscore_fast.profile(model)
    gap, outs = _row(p, "GlobalAveragePool")
    assert outs[0] == [2, 5, 1, 1]
    assert gap["flops"] == 2 * 5 * 36 + 2 * 5  # one add per input element, one divide per output
    lp, outs = _row(p, "LpPool")
    assert outs[0] == [2, 5, 3, 3]
    assert lp["flops"] == 2 * 5 * 9 * (3 * 4) + 2 * 5 * 9  # |x|, ^p, add per window element; one root per output
    assert _ort_output_shapes(model, {"x": _weights(2, 5, 6, 6)}) == [[2, 5, 1, 1], [2, 5, 3, 3]]


def test_qlinear_matmul_and_matmul_integer_weights_are_bytes():
    rng = np.random.default_rng(RNG_SEED)
    b = rng.integers(-100, 100, size=(16, 8), dtype=np.int8)
    inits = {"as": np.array(0.1, np.float32), "az": np.array(0, np.uint8), "b": b,
             "bs": np.array(0.2, np.float32), "bz": np.array(0, np.int8),
             "ys": np.array(0.3, np.float32), "yz": np.array(0, np.uint8)}
    node = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"], name="qmm")
    model = _model([node], {"a": (TensorProto.UINT8, [4, 16])}, inits, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "QLinearMatMul")
    assert outs[0] == [4, 8] and row["macs"] == 4 * 8 * 16
    assert p.params == 16 * 8 and p.weight_bytes == 16 * 8  # int8: one byte each; scales/zero points excluded

    node = helper.make_node("MatMulInteger", ["a", "b", "az"], ["y"], name="mmi")
    model = _model([node], {"a": (TensorProto.UINT8, [4, 16])}, {"b": b, "az": np.array(3, np.uint8)}, ["y"])
    p = netscore_fast.profile(model)
    row, outs = _row(p, "MatMulInteger")
    assert outs[0] == [4, 8] and row["macs"] == 4 * 8 * 16
    assert p.params == 16 * 8 and p.weight_bytes == 16 * 8
    assert _ort_output_shapes(model, {"a": np.ones((4, 16), np.uint8)})[0] == [4, 8]


# --- a peer as an independent reference -------------------------------------------------------------------
def _light_models():
    import glob
    import os

    return sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "*.onnx")))


@pytest.mark.parametrize("path", _light_models(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_conv_gemm_matmul_macs_agree_with_onnx_tool(path):
    """Per-node MACs of every Conv/Gemm/MatMul of the onnx light models equal onnx-tool's, once the one
    MAC per output element onnx-tool adds for a bias input is taken off (we count the bias as a FLOP)."""
    import contextlib
    import io

    onnx_tool = pytest.importorskip("onnx_tool")
    with contextlib.redirect_stdout(io.StringIO()):
        peer = onnx_tool.Model(path)
        peer.graph.shape_infer()
        peer.graph.profile()
    ours = {r["name"]: int(r["macs"]) for r in netscore_fast.profile(path).layers}
    checked = 0
    for name, node in peer.graph.nodemap.items():
        if node.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            continue
        out_elems = int(np.prod(peer.graph.tensormap[node.output[0]].get_shape()))
        bias = out_elems if node.op_type != "MatMul" and len(node.input) > 2 else 0
        assert ours[name] == int(np.sum(node.macs)) - bias, name
        checked += 1
    assert checked > 0


# --- onnxruntime fusions (com.microsoft) ------------------------------------------------------------------
_MS = [("com.microsoft", 1)]


def test_fused_conv_adds_activation_and_residual():
    w, b = _weights(4, 3, 3, 3), _weights(4)
    node = helper.make_node("FusedConv", ["x", "w", "b", "z"], ["y"], name="fc", domain="com.microsoft",
                            activation="Sigmoid", pads=[1, 1, 1, 1])
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, 8, 8]), "z": (TensorProto.FLOAT, [1, 4, 8, 8])},
                   {"w": w, "b": b}, ["y"], extra_opsets=_MS)
    p = netscore_fast.profile(model)
    row, outs = _row(p, "com.microsoft::FusedConv")
    out = 4 * 8 * 8
    macs = out * 3 * 3 * 3
    assert outs[0] == [1, 4, 8, 8] and row["macs"] == macs
    # 2 per MAC + bias + Sigmoid (4) + residual add, per output element
    assert row["flops"] == 2 * macs + out + 4 * out + out
    assert row["params"] == w.size + b.size
    feeds = {"x": _weights(1, 3, 8, 8), "z": _weights(1, 4, 8, 8)}
    assert _ort_output_shapes(model, feeds)[0] == outs[0]


def test_fused_matmul_transposes():
    # A (2, 8, 3) with transA -> (2, 3, 8); B (5, 8) with transB -> (8, 5): out (2, 3, 5), K = 8
    node = helper.make_node("FusedMatMul", ["a", "w"], ["y"], name="fm", domain="com.microsoft", transA=1,
                            transB=1, alpha=0.5)
    model = _model([node], {"a": (TensorProto.FLOAT, [2, 8, 3])}, {"w": _weights(5, 8)}, ["y"], extra_opsets=_MS)
    row, outs = _row(netscore_fast.profile(model), "com.microsoft::FusedMatMul")
    assert outs[0] == [2, 3, 5] and row["macs"] == 2 * 3 * 5 * 8
    assert _ort_output_shapes(model, {"a": _weights(2, 8, 3)})[0] == outs[0]


def test_matmul_nbits():
    k, n, block = 32, 6, 16
    packed = np.random.default_rng(RNG_SEED).integers(0, 255, size=(n, k // block, block * 4 // 8), dtype=np.uint8)
    inits = {"B": packed, "scales": np.ones(n * (k // block), np.float32)}
    node = helper.make_node("MatMulNBits", ["a", "B", "scales"], ["y"], name="mmnb", domain="com.microsoft",
                            K=k, N=n, bits=4, block_size=block)
    model = _model([node], {"a": (TensorProto.FLOAT, [2, 3, k])}, inits, ["y"], extra_opsets=_MS)
    p = netscore_fast.profile(model)
    row, outs = _row(p, "com.microsoft::MatMulNBits")
    assert outs[0] == [2, 3, n] and row["macs"] == 2 * 3 * n * k
    assert p.weight_bytes == n * k * 4 // 8  # 4-bit weights: half a byte each; scales excluded
    assert _ort_output_shapes(model, {"a": _weights(2, 3, k)})[0] == outs[0]


def test_simplified_layer_norms():
    nodes = [helper.make_node("SimplifiedLayerNormalization", ["x", "g"], ["y", "inv"], name="rms", axis=-1),
             helper.make_node("SkipSimplifiedLayerNormalization", ["y", "s", "g"], ["o", "m", "i", "sum"],
                              name="skip", domain="com.microsoft")]
    inputs = {"x": (TensorProto.FLOAT, [2, 3, 8]), "s": (TensorProto.FLOAT, [2, 3, 8])}
    model = _model(nodes, inputs, {"g": _weights(8)}, ["o", "m", "i", "sum", "inv"], extra_opsets=_MS)
    p = netscore_fast.profile(model)
    rms, outs = _row(p, "SimplifiedLayerNormalization")
    assert outs == [[2, 3, 8], [2, 3, 1]]
    assert rms["flops"] == 4 * 48  # square, accumulate, multiply by 1/rms, scale
    skip, outs = _row(p, "com.microsoft::SkipSimplifiedLayerNormalization")
    assert outs == [[2, 3, 8], [2, 3, 1], [2, 3, 1], [2, 3, 8]]
    assert skip["flops"] == (1 + 4) * 48  # skip add + RMS normalisation
    feeds = {"x": _weights(2, 3, 8), "s": _weights(2, 3, 8)}
    assert _ort_output_shapes(model, feeds) == [[2, 3, 8], [2, 3, 1], [2, 3, 1], [2, 3, 8], [2, 3, 1]]


@pytest.mark.parametrize("batch,seq,past,past_buffer", [
    (1, 3, 5, 5),   # prompt continuation: attends past + new = 8 keys
    (2, 1, 4, 8),   # decode with a shared 8-slot buffer: present keeps max(buffer, total) = 8, attends 5
    (1, 4, 0, 0),   # prompt without past
])
def test_group_query_attention(batch, seq, past, past_buffer):
    hq, hkv, d = 4, 2, 8
    total = past + seq
    names = ["q", "k", "v", "pk", "pv", "seqlens", "total"] if past_buffer else ["q", "k", "v", "", "", "seqlens",
                                                                                 "total"]
    node = helper.make_node("GroupQueryAttention", names, ["y", "present_k", "present_v"], name="gqa",
                            domain="com.microsoft", num_heads=hq, kv_num_heads=hkv)
    inits = {"seqlens": np.array([total - 1] * batch, np.int32), "total": np.array(total, np.int32)}
    inputs = {"q": [batch, seq, hq * d], "k": [batch, seq, hkv * d], "v": [batch, seq, hkv * d]}
    if past_buffer:
        inputs.update({"pk": [batch, hkv, past_buffer, d], "pv": [batch, hkv, past_buffer, d]})
    model = _model([node], {n: (TensorProto.FLOAT, s) for n, s in inputs.items()}, inits,
                   ["y", "present_k", "present_v"], extra_opsets=_MS)
    row, outs = _row(netscore_fast.profile(model), "com.microsoft::GroupQueryAttention")
    present = max(past_buffer, total)
    assert outs == [[batch, seq, hq * d], [batch, hkv, present, d], [batch, hkv, present, d]]
    # QK^T and PV per query head over the `total` valid keys
    assert row["macs"] == batch * hq * seq * total * (d + d)
    assert _ort_output_shapes(model, {n: _weights(*s) for n, s in inputs.items()}) == outs


def test_flex_attention_counts_like_attention():
    b, hq, hkv, sq, skv, d, dv = 1, 4, 2, 6, 9, 8, 5
    node = helper.make_node("FlexAttention", ["q", "k", "v"], ["y"], name="flex", domain="ai.onnx.preview")
    inputs = {"q": [b, hq, sq, d], "k": [b, hkv, skv, d], "v": [b, hkv, skv, dv]}
    model = _model([node], {n: (TensorProto.FLOAT, s) for n, s in inputs.items()}, {}, ["y"], opset=24,
                   extra_opsets=[("ai.onnx.preview", 1)])
    row, outs = _row(netscore_fast.profile(model), "ai.onnx.preview::FlexAttention")
    assert outs[0] == [b, hq, sq, dv]
    assert row["macs"] == b * hq * sq * skv * (d + dv)  # QK^T (d) and PV (dv) per score
