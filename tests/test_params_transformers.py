"""Params of exported transformers: what an exporter computed from the input's size and stored as a plain
tensor (the additive attention mask) is data, not a learned weight; the weights of an untrained model (zero
biases, zero-initialised position embeddings) still count. And dedupe_weights merges only tensors of the
same type.

References: the element counts of the weights each graph is built from (what torch's parameters() gives
for the module the graph writes out; the masks are no parameters in torch: BERT and the causal LMs compute
them in forward), and onnxruntime runs each graph so the graphs are valid.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from conftest import checked_model as _model, run_onnxruntime as _ort  # noqa: E402

RNG = np.random.default_rng(2026)
L, H, D = 6, 2, 4        # sequence length, heads, head dim


def _w(name, shape, dtype=np.float32):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(dtype), name)




def _causal(value, dtype=np.float32, shape=(1, 1, L, L)):
    """torch's causal mask: 0 on and below the diagonal, `value` (finfo.min or -inf) above."""
    m = np.zeros(shape[-2:], dtype)
    m[np.triu_indices(shape[-1], 1)] = value
    return m.reshape(shape)


def attention(mask, dtype=np.float32, reader="Add", mask_name="mask"):
    """One attention head block as the dynamo exporter writes it: scores = q k^T, plus the stored additive
    mask, softmax, times v, then an output projection (weight D x D). Weights: wo only (16 elements)."""
    elem = TensorProto.FLOAT16 if dtype == np.float16 else TensorProto.FLOAT
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["q", "kt"], ["s"])]
    if reader == "Add":
        nodes.append(helper.make_node("Add", ["s", mask_name], ["sm"]))
    else:   # Where(cond, mask, scores): a mask selected by a condition
        nodes += [helper.make_node("Greater", ["s", "s"], ["never"]),
                  helper.make_node("Where", ["never", "s", mask_name], ["sm0"]),
                  helper.make_node("Add", ["sm0", "s"], ["sm"])]
    nodes += [helper.make_node("Softmax", ["sm"], ["p"], axis=-1),
              helper.make_node("MatMul", ["p", "v"], ["o"]),
              helper.make_node("MatMul", ["o", "wo"], ["y"])]
    inits = [numpy_helper.from_array(mask, mask_name), _w("wo", (D, D), dtype)]
    ins = [helper.make_tensor_value_info(n, elem, [1, H, L, D]) for n in ("q", "k", "v")]
    m = _model(nodes, inits, ins, [helper.make_tensor_value_info("y", elem, [1, H, L, D])])
    feeds = {n: RNG.standard_normal((1, H, L, D)).astype(dtype) for n in ("q", "k", "v")}
    (y,) = _ort(m, feeds)
    assert y.shape == (1, H, L, D)
    return m


@pytest.mark.parametrize("mask", [
    np.zeros((1, 1, L, L), np.float32),                     # BERT: no padding, all zero
    _causal(np.finfo(np.float32).min),                      # a causal LM: 0 and finfo.min
    _causal(-np.inf),                                       # 0 and -inf
    np.zeros((1, 1, L - 2, L), np.float32),                 # Lq != Lk (cross attention)
    np.zeros((1, 1, 1, 1, L, L), np.float32),               # more leading ones
], ids=["zeros", "causal-min", "causal-inf", "cross", "rank6"])
def test_stored_additive_mask_is_not_a_param(mask):
    if mask.ndim == 6:   # needs scores of rank 6 to broadcast in onnxruntime: check the count only
        nodes = [helper.make_node("Add", ["s", "mask"], ["sm"]), helper.make_node("MatMul", ["sm", "w"], ["y"])]
        m = _model(nodes, [numpy_helper.from_array(mask, "mask"), _w("w", (L, D))],
                   [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 1, 1, H, L, L])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 1, H, L, D])])
        assert nf.profile(m).params == L * D
        return
    if mask.shape[-2] != L:   # cross attention: queries of another length
        nodes = [helper.make_node("Add", ["s", "mask"], ["sm"]), helper.make_node("MatMul", ["sm", "w"], ["y"])]
        m = _model(nodes, [numpy_helper.from_array(mask, "mask"), _w("w", (L, D))],
                   [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, H, L - 2, L])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, H, L - 2, D])])
        (y,) = _ort(m, {"s": RNG.standard_normal((1, H, L - 2, L)).astype(np.float32)})
        assert y.shape == (1, H, L - 2, D)
        assert nf.profile(m).params == L * D
        return
    m = attention(mask)
    assert nf.profile(m).params == D * D                     # wo; the mask is data
    assert nf.profile(m, dedupe_weights=True).params == D * D


def test_stored_mask_read_by_where_and_in_float16():
    assert nf.profile(attention(_causal(np.finfo(np.float32).min), reader="Where")).params == D * D
    assert nf.profile(attention(_causal(np.finfo(np.float16).min, np.float16), np.float16)).params == D * D
    assert nf.profile(attention(_causal(-np.inf, np.float16), np.float16)).params == D * D


def test_stored_mask_in_a_constant_node():
    """The TorchScript exporter writes folded tensors as Constant nodes, not initializers."""
    mask = _causal(np.finfo(np.float32).min)
    nodes = [helper.make_node("Constant", [], ["mask"], value=numpy_helper.from_array(mask, "mask")),
             helper.make_node("Add", ["s", "mask"], ["sm"]), helper.make_node("MatMul", ["sm", "w"], ["y"])]
    m = _model(nodes, [_w("w", (L, D))], [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, H, L, L])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, H, L, D])])
    (y,) = _ort(m, {"s": RNG.standard_normal((1, H, L, L)).astype(np.float32)})
    assert y.shape == (1, H, L, D)
    assert nf.profile(m).params == L * D


@pytest.mark.parametrize("case", ["learned-bias", "per-head", "rank3", "small-negative", "also-multiplied",
                                  "matmul-weight"])
def test_weights_that_look_like_masks_still_count(case):
    """Untrained (NAS) candidates hold zero-initialised weights: only the mask's exact shape, values and
    readers make a tensor data. Each variant here is a weight torch would count."""
    zeros = np.zeros((1, 1, L, L), np.float32)
    if case == "learned-bias":          # a trained additive bias of the mask's shape
        m = attention(RNG.standard_normal((1, 1, L, L)).astype(np.float32))
        assert nf.profile(m).params == D * D + L * L
    elif case == "per-head":            # a zero-initialised learned bias per head (1, H, L, L)
        m = attention(np.zeros((1, H, L, L), np.float32))
        assert nf.profile(m).params == D * D + H * L * L
    elif case == "small-negative":      # -1e4 (an older mask value, or a learned bias): not "never"
        m = attention(_causal(-1e4))
        assert nf.profile(m).params == D * D + L * L
    elif case == "also-multiplied":     # read by Mul too: a weight
        nodes = [helper.make_node("Add", ["s", "mask"], ["a"]), helper.make_node("Mul", ["a", "mask"], ["b"]),
                 helper.make_node("MatMul", ["b", "w"], ["y"])]
        m = _model(nodes, [numpy_helper.from_array(zeros, "mask"), _w("w", (L, D))],
                   [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, H, L, L])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, H, L, D])])
        assert nf.profile(m).params == L * L + L * D
    elif case == "matmul-weight":       # a zero-initialised (1, 1, L, L) weight of a MatMul
        nodes = [helper.make_node("MatMul", ["s", "w0"], ["y"])]
        m = _model(nodes, [numpy_helper.from_array(zeros, "w0")],
                   [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, H, L, L])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, H, L, L])])
        assert nf.profile(m).params == L * L
    else:                               # rank3: ViT's zero-initialised position embedding (1, N, C) and bias
        n, c = 5, 8
        nodes = [helper.make_node("Add", ["x", "pos"], ["a"]), helper.make_node("MatMul", ["a", "w"], ["h"]),
                 helper.make_node("Add", ["h", "b"], ["y"])]
        m = _model(nodes, [numpy_helper.from_array(np.zeros((1, n, c), np.float32), "pos"), _w("w", (c, c)),
                           numpy_helper.from_array(np.zeros(c, np.float32), "b")],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n, c])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n, c])])
        assert nf.profile(m).params == n * c + c * c + c
    if case != "rank3":
        (y,) = _ort(m, {i.name: RNG.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim])
                        .astype(np.float32) for i in m.graph.input})
        assert y.ndim == 4


def test_dedupe_weights_compares_types_not_only_bytes():
    """Two tensors holding the same bytes as different types (float32 and float16, float32 and int64) are
    different values: dedupe_weights must not merge them."""
    f32 = RNG.standard_normal(8).astype(np.float32)
    f16 = f32.view(np.float16)                   # 16 halves, the same 32 bytes
    nodes = [helper.make_node("Add", ["x", "a"], ["h"]),
             helper.make_node("Cast", ["h"], ["h16"], to=TensorProto.FLOAT16),
             helper.make_node("Reshape", ["h16", "shape16"], ["h16r"]),
             helper.make_node("Concat", ["h16r", "h16r"], ["h16c"], axis=0),
             helper.make_node("Add", ["h16c", "b"], ["y"])]
    inits = [numpy_helper.from_array(f32, "a"), numpy_helper.from_array(f16, "b"),
             numpy_helper.from_array(np.array([8], np.int64), "shape16")]
    m = _model(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [16])])
    assert np.isfinite(f16).any()
    (y,) = _ort(m, {"x": RNG.standard_normal(8).astype(np.float32)})
    assert y.shape == (16,)
    assert nf.profile(m).params == 8 + 16
    assert nf.profile(m, dedupe_weights=True).params == 8 + 16


def _add_model(table, x_shape, extra_nodes=(), extra_inits=(), constant_node=False):
    """y = (x + table) @ w: a stored table added to the activations, then a weight w (L x D)."""
    nodes = list(extra_nodes)
    inits = [_w("w", (x_shape[-1], D))] + list(extra_inits)
    if constant_node:
        nodes.append(helper.make_node("Constant", [], ["table"], value=numpy_helper.from_array(table, "table")))
    else:
        inits.append(numpy_helper.from_array(table, "table"))
    nodes += [helper.make_node("Add", ["x", "table"], ["a"]), helper.make_node("MatMul", ["a", "w"], ["y"])]
    m = _model(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(x_shape[:-1]) + [D])])
    (y,) = _ort(m, {"x": RNG.standard_normal(x_shape).astype(np.float32)})
    assert y.shape == tuple(x_shape[:-1]) + (D,)
    return m


def test_dedupe_weights_counts_a_broadcast_row_once():
    """The dynamo exporter folds BERT's token_type_embeddings(token_type_ids), whose ids are a buffer of
    zeros, into one stored tensor: row 0 of the (2, C) table repeated over the sequence (1, L, C). torch
    counts the table (2 C); the file holds C values that can differ, stored L times."""
    c = 8
    row = RNG.standard_normal(c).astype(np.float32)
    m = _add_model(np.tile(row, (1, L, 1)), (1, L, c))
    assert nf.profile(m).params == L * c + c * D                     # default: as stored
    assert nf.profile(m, dedupe_weights=True).params == c + c * D    # the row once
    # a learned (1, L, C) position embedding (rows differ) is counted whole
    m = _add_model(RNG.standard_normal((1, L, c)).astype(np.float32), (1, L, c))
    assert nf.profile(m, dedupe_weights=True).params == L * c + c * D


def test_dedupe_weights_counts_a_gathered_relative_position_table_per_diagonal():
    """T5-style relative attention bias: a (buckets, H) table gathered by the relative position j - i into
    (1, H, Lq, Lk) and folded by the exporter. Every diagonal holds one value: H (Lq + Lk - 1) can differ."""
    lq, lk = L, L + 2
    rel = np.arange(lk)[None, :] - np.arange(lq)[:, None]              # j - i in [-(lq-1), lk-1]
    table = RNG.standard_normal((lq + lk - 1, H)).astype(np.float32)   # one row per relative position
    bias = table[rel + lq - 1].transpose(2, 0, 1)[None]                 # (1, H, lq, lk)
    assert np.all(bias[..., 1:, 1:] == bias[..., :-1, :-1])
    m = _add_model(np.ascontiguousarray(bias), (1, H, lq, lk))
    assert nf.profile(m).params == H * lq * lk + lk * D
    assert nf.profile(m, dedupe_weights=True).params == H * (lq + lk - 1) + lk * D
    # a learned (1, H, Lq, Lk) bias is counted whole
    m = _add_model(RNG.standard_normal((1, H, lq, lk)).astype(np.float32), (1, H, lq, lk))
    assert nf.profile(m, dedupe_weights=True).params == H * lq * lk + lk * D


def test_dedupe_weights_reads_constant_nodes():
    """The TorchScript exporter stores folded tensors as Constant nodes (T5's all-zero cross-attention
    position bias (1, H, Lq, Lk), computed in forward in torch): dedupe_weights reads them as it reads
    initializers."""
    zeros = np.zeros((1, H, L, L), np.float32)
    m = _add_model(zeros, (1, H, L, L), constant_node=True)
    assert nf.profile(m).params == H * L * L + L * D          # default: a per-head zero tensor may be a weight
    assert nf.profile(m, dedupe_weights=True).params == L * D
    w = RNG.standard_normal((L, D)).astype(np.float32)         # a Constant copy of a weight counts once
    nodes = [helper.make_node("Constant", [], ["w2"], value=numpy_helper.from_array(w, "w2")),
             helper.make_node("MatMul", ["x", "w1"], ["a"]), helper.make_node("MatMul", ["x", "w2"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"])]
    m = _model(nodes, [numpy_helper.from_array(w, "w1")], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, L])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, D])])
    (y,) = _ort(m, {"x": RNG.standard_normal((2, L)).astype(np.float32)})
    assert y.shape == (2, D)
    assert nf.profile(m).params == 2 * L * D
    assert nf.profile(m, dedupe_weights=True).params == L * D


def rotary(angles_reader="Cos", extra_reader=None):
    """Rotary position embedding as the TorchScript exporter writes Llama / Mistral / GPT-NeoX: the angle
    table positions x inverse frequencies (1, L, D), folded from a buffer (inv_freq, not a parameter in
    torch) and the sequence length, goes to Cos and Sin; x * cos + x * sin, then a weight (D x D)."""
    inv_freq = 1.0 / (10000 ** (np.arange(0, D, 2) / D))
    ang = np.outer(np.arange(L), inv_freq)
    angles = np.concatenate([ang, ang], axis=-1)[None].astype(np.float32)       # (1, L, D)
    nodes = [helper.make_node("Cos", ["angles"], ["c"]), helper.make_node("Sin", ["angles"], ["s"]),
             helper.make_node("Mul", ["x", "c"], ["xc"]), helper.make_node("Mul", ["x", "s"], ["xs"]),
             helper.make_node("Add", ["xc", "xs"], ["r"])]
    if extra_reader:   # the table also read as a weight elsewhere
        nodes += [helper.make_node(extra_reader, ["r", "angles"], ["r2"])]
    nodes.append(helper.make_node("MatMul", ["r2" if extra_reader else "r", "w"], ["y"]))
    nodes.insert(0, helper.make_node("Constant", [], ["angles"], value=numpy_helper.from_array(angles, "angles")))
    m = _model(nodes, [_w("w", (D, D))], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, L, D])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, L, D])])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, L, D)).astype(np.float32)})
    assert y.shape == (1, L, D)
    return m


def test_angle_table_read_by_sin_and_cos_is_not_a_param():
    assert nf.profile(rotary()).params == D * D
    assert nf.profile(rotary(), dedupe_weights=True).params == D * D
    # read by a Mul as well: the same tensor is then a weight the graph multiplies by
    assert nf.profile(rotary(extra_reader="Mul")).params == D * D + L * D


def _rotary_tables(length=L, dim=D, base=10000.0):
    """torch's rotary cos / sin tables as transformers computes them (float32), (1, 1, L, D)."""
    inv_freq = (1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))).astype(np.float32)
    ang = np.outer(np.arange(length, dtype=np.float32), inv_freq).astype(np.float32)
    emb = np.concatenate([ang, ang], axis=-1)
    return np.cos(emb)[None, None].astype(np.float32), np.sin(emb)[None, None].astype(np.float32)


def stored_rotary(cos, sin, reader="Mul"):
    """q * cos + q * sin, then a weight (D x D): the dynamo exporter's rotary embedding with the tables folded."""
    length, dim = cos.shape[-2:]
    nodes = [helper.make_node(reader, ["q", "cos"], ["qc"]), helper.make_node(reader, ["q", "sin"], ["qs"]),
             helper.make_node("Add", ["qc", "qs"], ["r"]), helper.make_node("MatMul", ["r", "w"], ["y"])]
    inits = [numpy_helper.from_array(cos, "cos"), numpy_helper.from_array(sin, "sin"), _w("w", (dim, dim))]
    m = _model(nodes, inits, [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1, H, length, dim])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, H, length, dim])])
    (y,) = _ort(m, {"q": RNG.standard_normal((1, H, length, dim)).astype(np.float32)})
    assert y.shape == (1, H, length, dim)
    return m


@pytest.mark.parametrize("length,dim", [(6, 4), (32, 32), (512, 64), (4096, 128)])
def test_stored_rotary_tables_are_not_params(length, dim):
    cos, sin = _rotary_tables(length, dim)
    assert nf.profile(stored_rotary(cos, sin)).params == dim * dim


def test_tables_like_rotary_ones_that_are_weights_still_count():
    cos, sin = _rotary_tables()
    n = 2 * L * D
    # trained: the same tables perturbed as a learned weight would be (a frozen sinusoidal table that was
    # trained is a parameter in torch)
    noisy = [t * (1 + 1e-3 * RNG.standard_normal(t.shape)).astype(np.float32) for t in (cos, sin)]
    assert nf.profile(stored_rotary(*noisy)).params == D * D + n
    # untrained: all-zero and all-one (1, 1, L, D) weights
    assert nf.profile(stored_rotary(np.ones_like(cos), np.zeros_like(sin))).params == D * D + n
    # read by another op than Mul, Add or Gather
    assert nf.profile(stored_rotary(cos, sin, reader="Sub")).params == D * D + n
    # columns of cos(p w) with w beyond pi / 2 (no inverse frequency): a weight
    p = np.arange(L, dtype=np.float32)[:, None]
    wide = np.cos(p * np.linspace(2.0, 3.0, D, dtype=np.float32))[None, None].astype(np.float32)
    assert nf.profile(stored_rotary(wide, wide.copy())).params == D * D + n


def _sinusoid(n_pos, dim, interleaved):
    """The Transformer's fixed encoding (sin at even, cos at odd columns: torch's PositionalEncoding tutorial,
    XLM) or Marian's / RoFormer's (sines in the first half, cosines in the second), computed as they do in
    float64 and stored as float32."""
    pos = np.arange(n_pos)[:, None]
    freq = 1.0 / np.power(10000.0, 2 * (np.arange(dim) // 2) / dim)
    enc = pos * freq[None, :]
    out = np.empty((n_pos, dim))
    if interleaved:
        out[:, 0::2], out[:, 1::2] = np.sin(enc[:, 0::2]), np.cos(enc[:, 1::2])
    else:
        out[:, :dim // 2], out[:, dim // 2:] = np.sin(enc[:, 0::2]), np.cos(enc[:, 1::2])
    return out.astype(np.float32)


def test_fixed_sinusoidal_encoding_added_to_embeddings_is_not_a_param():
    """torch's PositionalEncoding keeps pe (max_len, 1, d) as a buffer and adds pe[:L]: the exporter stores the
    L rows it adds. The same rows perturbed (a trained, learned embedding) count."""
    c = 8
    pe = _sinusoid(L, c, interleaved=True)[:, None, :]                   # (L, 1, C)
    assert nf.profile(_add_model(pe, (L, 2, c))).params == c * D
    learned = pe * (1 + 1e-3 * RNG.standard_normal(pe.shape)).astype(np.float32)
    assert nf.profile(_add_model(learned, (L, 2, c))).params == L * c + c * D


def test_frozen_sinusoidal_table_gathered_by_position_is_not_a_param():
    """Marian's and RoFormer's position tables are frozen parameters computed at init (Marian's checkpoints do
    not even store them): the dynamo exporter keeps the whole table, gathered by the positions."""
    n_pos, c = 64, 8
    table = _sinusoid(n_pos, c, interleaved=False)
    nodes = [helper.make_node("Gather", ["table", "pos"], ["e"], axis=0),
             helper.make_node("Add", ["x", "e"], ["a"]), helper.make_node("MatMul", ["a", "w"], ["y"])]
    inits = [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.arange(L, dtype=np.int64), "pos"),
             _w("w", (c, D))]
    m = _model(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, L, c])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, L, D])])
    (y,) = _ort(m, {"x": RNG.standard_normal((1, L, c)).astype(np.float32)})
    assert y.shape == (1, L, D)
    assert nf.profile(m).params == c * D
    inits[0] = numpy_helper.from_array(RNG.standard_normal((n_pos, c)).astype(np.float32), "table")  # learned
    m = _model(nodes, inits, list(m.graph.input), list(m.graph.output))
    assert nf.profile(m).params == n_pos * c + c * D


def test_stored_mask_inside_an_if_branch():
    """A branch is walked like the main graph: its own stored mask is data, its weight a param. The outer
    graph's initializers come first, so the branch's values are numbered after imports of its own."""
    mask = _causal(np.finfo(np.float32).min)
    def branch(name, weight):
        nodes = [helper.make_node("Add", ["s", f"{name}_mask"], [f"{name}_sm"]),
                 helper.make_node("MatMul", [f"{name}_sm", f"{name}_w"], [f"{name}_y"])]
        return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT,
                                                                                  [1, H, L, D])],
                                 [numpy_helper.from_array(mask, f"{name}_mask"), numpy_helper.from_array(weight, f"{name}_w")])
    w = RNG.standard_normal((L, D)).astype(np.float32)
    nodes = [helper.make_node("If", ["cond"], ["y"], then_branch=branch("then", w), else_branch=branch("else", w * 2))]
    m = _model(nodes, [numpy_helper.from_array(np.array(True), "cond"), _w("unused_pair", (3, 3))],
               [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, H, L, L])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, H, L, D])])
    (y,) = _ort(m, {"s": RNG.standard_normal((1, H, L, L)).astype(np.float32)})
    assert y.shape == (1, H, L, D)
    assert nf.profile(m).params == L * D     # the taken branch's weight; its mask is data


@pytest.mark.parametrize("dims", [[1, 1, 2 ** 32, 2 ** 32], [1, 2 ** 31, 2 ** 33], [3, -2, 2, 2]])
def test_hostile_dims_on_a_stored_table_are_never_trusted(dims):
    """Dims whose product overflows or disagrees with the raw bytes: no value is read past the data, with or
    without dedupe_weights."""
    bad = TensorProto(name="table", data_type=TensorProto.FLOAT, dims=dims, raw_data=np.zeros(16, np.float32).tobytes())
    for as_constant in (False, True):
        nodes = [helper.make_node("Add", ["x", "table"], ["a"]), helper.make_node("Mul", ["a", "table"], ["y"])]
        inits = []
        if as_constant:
            nodes.insert(0, helper.make_node("Constant", [], ["table"], value=bad))
        else:
            inits.append(bad)
        g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        for dedupe in (False, True):
            try:
                nf.profile(m, dedupe_weights=dedupe)
            except nf.ModelError:
                pass          # refusing the model is fine; reading past its bytes is not
