"""Graph-analysis core: topological walk, constant folding, the params rule, symbolic dims, errors, liveness.

Every graph is built by hand with onnx.helper; expected numbers are derived by hand in each test (or come
from onnxruntime executing the same graph), never copied from our own output.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import netscore_fast
from netscore_fast import ModelError

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def _model(nodes, inputs, outputs, initializers=(), value_info=(), opset=17, extra_opsets=(), ir=8):
    graph = helper.make_graph(list(nodes), "g", list(inputs), list(outputs), initializer=list(initializers),
                              value_info=list(value_info))
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    return helper.make_model(graph, opset_imports=opsets, ir_version=ir)


def _vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def _init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _layer(p, name):
    rows = p.layers
    hits = rows[rows["name"] == name]
    assert len(hits) == 1, f"no single layer named {name!r} in {rows['name'].tolist()}"
    return hits[0]


def _shapes_by_output(p, model):
    """Output tensor name -> inferred shape, from the per-layer shapes."""
    out = {}
    nodes = model.graph.node
    for node_index, (_, outs) in zip(p.layers["node_index"].tolist(), p.layer_shapes()):
        for name, shape in zip(nodes[node_index].output, outs):
            if name:
                out[name] = list(shape)
    return out


def _ort_shapes(model, feeds):
    """Shapes of every node output as onnxruntime computes them (all outputs exposed as graph outputs)."""
    ort = pytest.importorskip("onnxruntime")
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.output[:]
    for n in m.graph.node:
        for o in n.output:
            if o:
                m.graph.output.append(helper.make_empty_tensor_value_info(o))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return {n: list(np.asarray(v).shape) for n, v in zip(names, sess.run(names, feeds))}


# ---- params -----------------------------------------------------------------------------------------

def test_identity_alias_counted_once():
    # W (4x3) is read twice: directly by the first MatMul and through Identity by the second.
    # Params = 4*3 = 12 once, not 24; weight bytes = 12 * 4 (float32).
    w = _init("W", np.arange(12, dtype=np.float32).reshape(4, 3) + 1)
    w2 = _init("W2", np.ones((3, 3), np.float32))  # a second, distinct weight: 9 more
    nodes = [
        helper.make_node("Identity", ["W"], ["W_alias"], name="alias"),
        helper.make_node("MatMul", ["X", "W"], ["Y1"], name="mm1"),
        helper.make_node("MatMul", ["X", "W_alias"], ["Y2"], name="mm2"),
        helper.make_node("Add", ["Y1", "Y2"], ["S"], name="add"),
        helper.make_node("MatMul", ["S", "W2"], ["Z"], name="mm3"),
    ]
    m = _model(nodes, [_vi("X", F, [2, 4])], [_vi("Z", F, [2, 3])], [w, w2])
    p = netscore_fast.profile(m)
    assert p.params == 12 + 9
    assert p.weight_bytes == (12 + 9) * 4
    assert _layer(p, "mm1")["params"] == 12      # first compute reader of the root
    assert _layer(p, "mm2")["params"] == 0
    assert _layer(p, "alias")["folded"]
    # MatMul X[2,4] @ W[4,3]: 2*4*3 = 24 MACs each; S[2,3] @ W2[3,3]: 18 MACs
    assert p.macs == 24 + 24 + 18


def test_scalar_constants_are_not_params():
    # GELU-style exporter constants (0.5, 1.0, sqrt(2)) and a [1]-shaped epsilon are scalars: not params.
    # The [5] vector is a weight: 5 params.
    nodes = [
        helper.make_node("Constant", [], ["half"], value=helper.make_tensor("h", F, [], [0.5])),
        helper.make_node("Constant", [], ["sqrt2"], value_float=1.4142135),
        helper.make_node("Div", ["X", "sqrt2"], ["d"], name="div"),
        helper.make_node("Erf", ["d"], ["e"], name="erf"),
        helper.make_node("Add", ["e", "one"], ["e1"], name="add1"),
        helper.make_node("Mul", ["X", "e1"], ["m"], name="mul"),
        helper.make_node("Mul", ["m", "half"], ["g"], name="mulhalf"),
        helper.make_node("Add", ["g", "eps"], ["g2"], name="addeps"),
        helper.make_node("Mul", ["g2", "gamma"], ["Y"], name="scale"),
    ]
    inits = [_init("one", np.float32(1.0)), _init("eps", np.array([1e-5], np.float32)),
             _init("gamma", np.arange(5, dtype=np.float32))]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [3, 5])], [_vi("Y", F, [3, 5])], inits))
    assert p.params == 5
    assert _layer(p, "scale")["params"] == 5


def test_folded_weight_transform_counts_root_once():
    # W is stored as [3,2] and transposed at load time: Transpose is folded (cost 0), the MatMul reads the
    # result and the root W (6 elements) counts once.
    nodes = [
        helper.make_node("Transpose", ["W"], ["Wt"], name="tr", perm=[1, 0]),
        helper.make_node("MatMul", ["X", "Wt"], ["Y"], name="mm"),
    ]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [4, 2])], [_vi("Y", F, [4, 3])],
                                     [_init("W", np.ones((3, 2), np.float32))]))
    tr = _layer(p, "tr")
    assert tr["folded"] and tr["macs"] == 0 and tr["flops"] == 0 and tr["activation_bytes"] == 0
    assert p.params == 6 and _layer(p, "mm")["params"] == 6
    assert p.macs == 4 * 2 * 3


def test_integer_shape_constant_is_not_a_param():
    # Shape(X) cannot fold (dim 1 symbolic and unbound), so Concat runs at inference time; the int64 [2]
    # constant it reads is a shape piece, not a weight.
    nodes = [
        helper.make_node("Shape", ["X"], ["s"], name="shape"),
        helper.make_node("Concat", ["s", "tail"], ["s2"], name="cat", axis=0),
        helper.make_node("Reshape", ["X", "s2"], ["Y"], name="reshape"),
    ]
    m = _model(nodes, [_vi("X", F, [2, "T"])], [_vi("Y", F, None)],
               [_init("tail", np.array([1, 1], np.int64))])
    p = netscore_fast.profile(m)
    assert p.params == 0
    assert not _layer(p, "cat")["folded"]


def test_int8_qdq_weight_bytes():
    # Conv(X, DequantizeLinear(W_int8, scale, zero_point), B): W has 8*4*3*3 = 288 int8 elements -> 288
    # params, 288 bytes; B has 8 float32 -> 8 params, 32 bytes. Scale and zero point are scalars.
    w = _init("W", (np.arange(288) % 7 - 3).astype(np.int8).reshape(8, 4, 3, 3))
    inits = [w, _init("s", np.float32(0.02)), _init("zp", np.int8(0)), _init("B", np.ones(8, np.float32))]
    nodes = [
        helper.make_node("DequantizeLinear", ["W", "s", "zp"], ["Wf"], name="dq"),
        helper.make_node("Conv", ["X", "Wf", "B"], ["Y"], name="conv", pads=[1, 1, 1, 1]),
    ]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [1, 4, 5, 5])], [_vi("Y", F, [1, 8, 5, 5])], inits))
    assert _layer(p, "dq")["folded"]
    assert p.params == 288 + 8
    assert p.weight_bytes == 288 * 1 + 8 * 4
    # MACs: output 8*5*5 positions x 4*3*3 per position = 200 * 36
    assert p.macs == 8 * 5 * 5 * 4 * 3 * 3


def test_constant_of_shape_is_a_root_and_random_is_not_constant():
    # ConstantOfShape with a constant shape is a constant tensor (6 params when a compute node reads it);
    # RandomNormal is not deterministic: its output is an activation, never a param.
    nodes = [
        helper.make_node("ConstantOfShape", ["shp"], ["c"], name="cos",
                         value=helper.make_tensor("v", F, [1], [1.0])),
        helper.make_node("RandomNormal", [], ["r"], name="rnd", shape=[2, 3]),
        helper.make_node("Add", ["X", "c"], ["a"], name="add_c"),
        helper.make_node("Add", ["a", "r"], ["Y"], name="add_r"),
    ]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [2, 3])], [_vi("Y", F, [2, 3])],
                                     [_init("shp", np.array([2, 3], np.int64))]))
    assert p.params == 6
    assert _layer(p, "cos")["folded"]
    rnd = _layer(p, "rnd")
    assert not rnd["folded"] and rnd["activation_bytes"] == 2 * 3 * 4


def test_unsupported_op_listed_with_value_info_shape_and_float_constants_counted():
    # An op of an imported custom domain that the registry does not know: listed, costs unknown (-1),
    # output shape taken from value_info; its constant float input (6 elements) counts as params.
    nodes = [
        helper.make_node("Mystery", ["X", "K"], ["m"], name="myst", domain="example.custom"),
        helper.make_node("Relu", ["m"], ["Y"], name="relu"),
    ]
    m = _model(nodes, [_vi("X", F, [2, 3])], [_vi("Y", F, None)], [_init("K", np.ones((2, 3), np.float32))],
               value_info=[_vi("m", F, [2, 5])], extra_opsets=[("example.custom", 1)])
    p = netscore_fast.profile(m)
    assert p.unsupported_ops == {"example.custom::Mystery": ["myst"]}
    myst = _layer(p, "myst")
    assert not myst["supported"] and myst["macs"] == -1 and myst["flops"] == -1
    assert "myst" in p.unknown_cost_nodes
    assert _shapes_by_output(p, m)["Y"] == [2, 5]
    assert _layer(p, "relu")["flops"] == 10  # one FLOP per element of the [2,5] output
    assert p.params == 6


def test_if_with_an_unknown_condition_counts_the_more_expensive_branch():
    then_g = helper.make_graph([helper.make_node("Identity", ["X"], ["t"])], "then", [], [_vi("t", F, [2])])
    else_g = helper.make_graph([helper.make_node("Neg", ["X"], ["e"], name="neg")], "else", [], [_vi("e", F, [2])])
    nodes = [helper.make_node("If", ["c"], ["Y"], name="branch", then_branch=then_g, else_branch=else_g)]
    p = netscore_fast.profile(_model(nodes, [_vi("c", TensorProto.BOOL, []), _vi("X", F, [2])],
                                     [_vi("Y", F, [2])]))
    assert not p.unsupported_ops and not p.unknown_cost_nodes
    assert list(p.upper_bound_nodes) == ["branch"] and "'c'" in p.upper_bound_nodes["branch"]
    assert _layer(p, "branch")["macs"] == 0 and _layer(p, "branch/neg")["flops"] == p.flops > 0


# ---- shape inference and folding ----------------------------------------------------------------------

def _torch_flatten_model():
    # What torch.onnx.export emits for x.view(x.size(0), -1) with a dynamic batch axis.
    nodes = [
        helper.make_node("Shape", ["X"], ["s"], name="shape"),
        helper.make_node("Constant", [], ["i0"], name="c0", value=helper.make_tensor("z", I64, [], [0])),
        helper.make_node("Gather", ["s", "i0"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"], name="unsq"),
        helper.make_node("Constant", [], ["m1"], name="c1", value=helper.make_tensor("m", I64, [1], [-1])),
        helper.make_node("Concat", ["n1", "m1"], ["shp"], name="cat", axis=0),
        helper.make_node("Reshape", ["X", "shp"], ["flat"], name="reshape"),
        helper.make_node("MatMul", ["flat", "W"], ["Y"], name="fc"),
    ]
    inits = [_init("ax", np.array([0], np.int64)), _init("W", np.ones((60, 10), np.float32))]
    return _model(nodes, [_vi("X", F, ["batch", 3, 4, 5])], [_vi("Y", F, ["batch", 10])], inits)


def test_torch_style_dynamic_reshape_folds():
    m = _torch_flatten_model()
    p = netscore_fast.profile(m, batch_size=2)
    shapes = _shapes_by_output(p, m)
    want = _ort_shapes(m, {"X": np.ones((2, 3, 4, 5), np.float32)})
    for name in ("s", "n", "n1", "shp", "flat", "Y"):
        assert shapes[name] == want[name], name
    for name in ("shape", "c0", "gather", "unsq", "c1", "cat"):
        row = _layer(p, name)
        assert row["folded"] and row["flops"] == 0 and row["activation_bytes"] == 0, name
    assert not _layer(p, "reshape")["folded"]
    # fc: [2,60] @ [60,10] = 1200 MACs; W: 600 params; the int64 axes [0] is a scalar-sized shape argument
    assert p.macs == 2 * 60 * 10
    assert p.params == 600


def test_shape_arithmetic_matches_onnxruntime():
    # A shape subgraph exercising integer Div/Mod/Mul/Sub, Slice, Range, Expand, Tile, Where, Equal,
    # ConstantOfShape, Cast, Squeeze, Split, Transpose, Pad; every intermediate shape vs onnxruntime.
    nodes = [
        helper.make_node("Shape", ["X"], ["s"]),                                  # [4] = [2,6,8,3]
        helper.make_node("Slice", ["s", "st", "en"], ["hw"]),                     # [6,8]
        helper.make_node("Div", ["hw", "two"], ["hw2"]),                          # [3,4]
        helper.make_node("Mod", ["hw", "five"], ["hwm"]),                         # [1,3]
        helper.make_node("Mul", ["hw2", "hwm"], ["prod"]),                        # [3,12]
        helper.make_node("Sub", ["prod", "one"], ["p1"]),                         # [2,11]
        helper.make_node("ReduceMax", ["p1"], ["mx"], keepdims=0),                 # 11 -- not folded by us
        helper.make_node("Squeeze", ["one"], ["one_s"]),                          # scalar 1
        helper.make_node("Range", ["zero_s", "seven_s", "one_s"], ["rg"]),        # [7]
        helper.make_node("Equal", ["hw2", "three"], ["eq"]),                      # [true,false]
        helper.make_node("Where", ["eq", "hw2", "hwm"], ["wh"]),                  # [3,3]
        helper.make_node("ConstantOfShape", ["wh"], ["zeros"]),                   # [3,3] floats
        helper.make_node("Cast", ["wh"], ["whf"], to=F),
        helper.make_node("Concat", ["wh", "two"], ["exp_shape"], axis=0),           # [3,3,2]
        helper.make_node("Expand", ["B", "exp_shape"], ["bx"]),                    # B [3,1,1] -> [3,3,2]
        helper.make_node("Tile", ["zeros", "wh"], ["tiled"]),                     # [9,9]
        helper.make_node("Split", ["X", "split"], ["xa", "xb"], axis=1),           # [2,2,8,3], [2,4,8,3]
        helper.make_node("Transpose", ["xb"], ["xt"], perm=[0, 3, 1, 2]),         # [2,3,4,8]
        helper.make_node("Pad", ["xt", "pads"], ["xp"]),                          # [2,3,6,9]
        helper.make_node("Flatten", ["xp"], ["xf"], axis=2),                      # [6,54]
        helper.make_node("Gather", ["rg", "idx"], ["g"]),                          # [2,2]
        helper.make_node("Unsqueeze", ["g", "ax12"], ["gu"]),                      # [2,1,1,2]
    ]
    inits = [
        _init("st", np.array([1], np.int64)), _init("en", np.array([3], np.int64)),
        _init("two", np.array([2], np.int64)), _init("five", np.array([5], np.int64)),
        _init("one", np.array([1], np.int64)), _init("three", np.array([3], np.int64)),
        _init("zero_s", np.int64(0)), _init("seven_s", np.int64(7)),
        _init("B", np.arange(3, dtype=np.float32).reshape(3, 1, 1)),
        _init("split", np.array([2, 4], np.int64)),
        _init("pads", np.array([0, 0, 1, 0, 0, 0, 1, 1], np.int64)),
        _init("idx", np.array([[0, 6], [-1, 2]], np.int64)),
        _init("ax12", np.array([1, 2], np.int64)),
    ]
    outs = [_vi(n, TensorProto.UNDEFINED, None) for n in ("mx", "whf", "bx", "tiled", "xa", "xf", "gu")]
    m = _model(nodes, [_vi("X", F, [2, 6, 8, 3])], [helper.make_empty_tensor_value_info(o.name) for o in outs],
               inits, opset=17)
    p = netscore_fast.profile(m)
    got = _shapes_by_output(p, m)
    want = _ort_shapes(m, {"X": np.ones((2, 6, 8, 3), np.float32)})
    for name, shape in want.items():
        assert got[name] == shape, f"{name}: inferred {got[name]}, onnxruntime {shape}"


def test_symbolic_batch_and_input_shape_overrides():
    nodes = [
        helper.make_node("Relu", ["X"], ["a"], name="relu"),
        helper.make_node("Sigmoid", ["Z"], ["b"], name="sig"),
    ]
    m = _model(nodes, [_vi("X", F, ["N", 3, "H", "W"]), _vi("Z", F, ["N", 7])],
               [_vi("a", F, None), _vi("b", F, None)])
    # batch_size fills the leading symbolic dim; H and W stay unknown -> unknown cost for relu
    p = netscore_fast.profile(m, batch_size=5)
    s = _shapes_by_output(p, m)
    assert s["a"] == [5, 3, -1, -1] and s["b"] == [5, 7]
    assert "relu" in p.unknown_cost_nodes and _layer(p, "relu")["flops"] == -1
    assert p.flops == 5 * 7 * 4  # only sig is known: Sigmoid is 4 FLOPs per element in the cost table
    # an override binds N=4, H=8, W=8; Z's N (same symbol) follows the override, not batch_size
    p = netscore_fast.profile(m, input_shapes={"X": [4, 3, 8, 8]}, batch_size=5)
    s = _shapes_by_output(p, m)
    assert s["a"] == [4, 3, 8, 8] and s["b"] == [4, 7]
    assert not p.unknown_cost_nodes
    with pytest.raises(ModelError, match=r"'Q'.*X, Z"):
        netscore_fast.profile(m, input_shapes={"Q": [1]})
    with pytest.raises(ModelError, match="rank"):
        netscore_fast.profile(m, input_shapes={"X": [1, 3, 8]})


def test_value_info_symbols_resolve_through_bound_dims():
    # An op the registry lacks gets its shape from value_info written with the same symbol as the input.
    nodes = [helper.make_node("Mystery", ["X"], ["m"], name="myst", domain="example.custom")]
    m = _model(nodes, [_vi("X", F, ["N", 4])], [_vi("m", F, ["N", 2])], extra_opsets=[("example.custom", 1)])
    p = netscore_fast.profile(m, batch_size=3)
    assert _shapes_by_output(p, m)["m"] == [3, 2]


def test_initializers_listed_as_inputs_are_constants():
    # IR 3 lists every initializer among the graph inputs; they are weights, not inputs.
    w = _init("W", np.ones((4, 2), np.float32))
    nodes = [helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")]
    m = _model(nodes, [_vi("X", F, [3, 4]), _vi("W", F, [4, 2])], [_vi("Y", F, [3, 2])], [w], opset=8, ir=3)
    p = netscore_fast.profile(m)
    assert p.params == 8
    # peak: X (3*4*4 = 48 B) and Y (3*2*4 = 24 B) live together at the only step; W is not an activation
    assert p.peak_activation_bytes == 48 + 24
    with pytest.raises(ModelError, match="not a graph input"):
        netscore_fast.profile(m, input_shapes={"W": [4, 2]})


def test_opset_dependent_forms():
    # Squeeze/Unsqueeze take axes as an attribute before opset 13 and as an input from 13 on.
    old = _model([helper.make_node("Unsqueeze", ["X"], ["u"], axes=[0, 3]),
                  helper.make_node("Squeeze", ["u"], ["Y"], axes=[0])],
                 [_vi("X", F, [2, 3])], [_vi("Y", F, None)], opset=11)
    new = _model([helper.make_node("Unsqueeze", ["X", "a"], ["u"]),
                  helper.make_node("Squeeze", ["u", "b"], ["Y"])],
                 [_vi("X", F, [2, 3])], [_vi("Y", F, None)],
                 [_init("a", np.array([0, 3], np.int64)), _init("b", np.array([0], np.int64))], opset=13)
    for m in (old, new):
        s = _shapes_by_output(netscore_fast.profile(m), m)
        assert s["u"] == [1, 2, 3, 1] and s["Y"] == [2, 3, 1]


# ---- order and errors ---------------------------------------------------------------------------------

def _chain_nodes():
    return [
        helper.make_node("Relu", ["X"], ["a"], name="n_relu"),
        helper.make_node("Mul", ["a", "S"], ["b"], name="n_mul"),
        helper.make_node("Tanh", ["b"], ["Y"], name="n_tanh"),
    ]


def test_non_topological_order_is_accepted():
    inits = [_init("S", np.full((2, 3), 2.0, np.float32))]
    io = ([_vi("X", F, [2, 3])], [_vi("Y", F, [2, 3])])
    ordered = netscore_fast.profile(_model(_chain_nodes(), *io, inits))
    shuffled = netscore_fast.profile(_model(list(reversed(_chain_nodes())), *io, inits))
    assert shuffled.layers["name"].tolist() == ["n_relu", "n_mul", "n_tanh"]
    assert shuffled.layers["node_index"].tolist() == [2, 1, 0]
    for key in ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes"):
        assert getattr(shuffled, key) == getattr(ordered, key), key
    assert ordered.params == 6


def test_cycle_is_an_error_naming_a_node_on_it():
    nodes = [
        helper.make_node("Relu", ["X"], ["a"], name="entry"),
        helper.make_node("Add", ["a", "c"], ["b"], name="loop_add"),
        helper.make_node("Sigmoid", ["b"], ["c"], name="loop_sig"),
        helper.make_node("Tanh", ["b"], ["Y"], name="after"),
    ]
    m = _model(nodes, [_vi("X", F, [2])], [_vi("Y", F, [2])])
    with pytest.raises(ModelError, match=r"node '(loop_add' \(Add\)|loop_sig' \(Sigmoid\)).*cycle"):
        netscore_fast.profile(m)


def test_missing_input_two_producers_and_unimported_domain_are_errors(tmp_path):
    missing = _model([helper.make_node("Add", ["X", "ghost"], ["Y"], name="adder")],
                     [_vi("X", F, [2])], [_vi("Y", F, [2])])
    path = tmp_path / "missing.onnx"
    onnx.save(missing, str(path))
    with pytest.raises(ModelError, match=r"^.*missing\.onnx: node 'adder' \(Add\): input 'ghost'"):
        netscore_fast.profile(str(path))

    twice = _model([helper.make_node("Relu", ["X"], ["Y"], name="r1"),
                    helper.make_node("Neg", ["X"], ["Y"], name="r2")], [_vi("X", F, [2])], [_vi("Y", F, [2])])
    with pytest.raises(ModelError, match=r"node 'r2' \(Neg\).*'Y'.*node 'r1' \(Relu\)"):
        netscore_fast.profile(twice)

    foreign = _model([helper.make_node("Foo", ["X"], ["Y"], name="f", domain="not.imported")],
                     [_vi("X", F, [2])], [_vi("Y", F, [2])])
    with pytest.raises(ModelError, match=r"node 'f' \(not\.imported::Foo\).*not imported"):
        netscore_fast.profile(foreign)


def test_contradictions_name_the_node():
    bad_broadcast = _model([helper.make_node("Add", ["X", "Z"], ["Y"], name="bad_add")],
                           [_vi("X", F, [2, 3]), _vi("Z", F, [4])], [_vi("Y", F, None)])
    with pytest.raises(ModelError, match=r"node 'bad_add' \(Add\): cannot broadcast \[2,3\] with \[4\]"):
        netscore_fast.profile(bad_broadcast)
    bad_reshape = _model([helper.make_node("Reshape", ["X", "s"], ["Y"], name="bad_reshape")],
                         [_vi("X", F, [2, 3])], [_vi("Y", F, None)], [_init("s", np.array([4, -1], np.int64))])
    with pytest.raises(ModelError, match=r"node 'bad_reshape' \(Reshape\)"):
        netscore_fast.profile(bad_reshape)
    huge = _model([helper.make_node("Expand", ["X", "s"], ["Y"], name="huge")],
                  [_vi("X", F, [1])], [_vi("Y", F, None)],
                  [_init("s", np.array([1 << 30, 1 << 30, 1 << 30], np.int64))])
    with pytest.raises(ModelError, match=r"node 'huge' \(Expand\)"):
        netscore_fast.profile(huge)


# ---- memory ---------------------------------------------------------------------------------------------

def test_peak_liveness_on_a_diamond():
    # X[1,1000] float32 = 4000 B; every tensor below is 4000 B.
    #   step 0 relu:  A = Relu(X)        live: X (last use here), A           -> 8000
    #   step 1 sig:   B = Sigmoid(A)     live: A, B                           -> 8000
    #   step 2 tanh:  C = Tanh(A)        live: A (last use here), B, C        -> 12000
    #   step 3 add:   Y = Add(B, C)      live: B, C, Y (graph output)         -> 12000
    # peak = 12000; activation bytes = 4 outputs x 4000 = 16000.
    nodes = [
        helper.make_node("Relu", ["X"], ["A"], name="relu"),
        helper.make_node("Sigmoid", ["A"], ["B"], name="sig"),
        helper.make_node("Tanh", ["A"], ["C"], name="tanh"),
        helper.make_node("Add", ["B", "C"], ["Y"], name="add"),
    ]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [1, 1000])], [_vi("Y", F, [1, 1000])]))
    assert p.activation_bytes == 16000
    assert p.peak_activation_bytes == 12000
    # FLOPs from the cost table: Relu 1, Sigmoid 4, Tanh 1, Add 1 per element
    assert p.flops == 1000 * (1 + 4 + 1 + 1)


def test_peak_keeps_graph_outputs_alive_to_the_end():
    # Y1 = Relu(X) is a graph output produced first; it stays live through the later steps.
    #   step 0: X, Y1 -> 800 ; step 1: X (last use), Y1, T -> 1200 ; step 2: Y1, T, Y2 -> 1200
    nodes = [
        helper.make_node("Relu", ["X"], ["Y1"], name="r"),
        helper.make_node("Neg", ["X"], ["T"], name="n"),
        helper.make_node("Abs", ["T"], ["Y2"], name="a"),
    ]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [100])], [_vi("Y1", F, [100]), _vi("Y2", F, [100])]))
    assert p.peak_activation_bytes == 1200


def test_batchnorm_running_stats_are_params_and_reported_separately():
    # BatchNormalization over C=6 channels: scale, bias, running mean, running variance -> 4*6 = 24 params,
    # of which mean + variance = 12 are bn_stat_params. Conv weight 6*3*1*1 = 18 more.
    c = 6
    inits = [_init("W", np.ones((c, 3, 1, 1), np.float32))] + [
        _init(n, np.arange(c, dtype=np.float32) + 1) for n in ("scale", "bias", "mean", "var")]
    nodes = [helper.make_node("Conv", ["X", "W"], ["h"], name="conv"),
             helper.make_node("BatchNormalization", ["h", "scale", "bias", "mean", "var"], ["Y"], name="bn")]
    p = netscore_fast.profile(_model(nodes, [_vi("X", F, [1, 3, 4, 4])], [_vi("Y", F, [1, c, 4, 4])], inits))
    assert p.params == 18 + 4 * c
    assert p.bn_stat_params == 2 * c
    assert _layer(p, "bn")["params"] == 4 * c


def test_constant_attribute_forms_fold_like_onnxruntime():
    # Every Constant attribute form feeding shape arithmetic; shapes checked against onnxruntime.
    nodes = [
        helper.make_node("Constant", [], ["ci"], value_int=2),
        helper.make_node("Constant", [], ["cis"], value_ints=[3, 4]),
        helper.make_node("Constant", [], ["c24"], value_ints=[24]),
        helper.make_node("Constant", [], ["cf"], value_float=2.0),
        helper.make_node("Constant", [], ["cfs"], value_floats=[1.0, 2.0, 3.0]),
        helper.make_node("Constant", [], ["ct"], value=helper.make_tensor("t", I64, [1], [2])),
        helper.make_node("Mul", ["cis", "ci"], ["shape_a"]),                  # [6, 8]
        helper.make_node("ConstantOfShape", ["shape_a"], ["z"]),              # a [6, 8] tensor of zeros
        helper.make_node("Concat", ["ct", "c24"], ["shape_b"], axis=0),       # [2, 24]
        helper.make_node("Reshape", ["z", "shape_b"], ["zr"]),                # [2, 24]
        helper.make_node("Sub", ["shape_a", "cis"], ["d"]),                   # [3, 4]
        helper.make_node("Add", ["X", "cf"], ["xa"]),                         # [1]
        helper.make_node("Mul", ["xa", "cfs"], ["xm"]),                       # [3]
    ]
    m = _model(nodes, [_vi("X", F, [1])], [helper.make_empty_tensor_value_info(n) for n in ("zr", "xm", "d")])
    p = netscore_fast.profile(m)
    got = _shapes_by_output(p, m)
    want = _ort_shapes(m, {"X": np.ones(1, np.float32)})
    for name, shape in want.items():
        assert got[name] == shape, f"{name}: inferred {got[name]}, onnxruntime {shape}"
    # cfs (3 floats) is read by a compute node; the int64 shape pieces are not weights, cf is a scalar;
    # z is a ConstantOfShape root but only a folded Reshape reads it (no compute node), so it is not counted
    assert p.params == 3
    # 48 elements cannot become [2, 6]: a contradiction naming the node
    nodes[5] = helper.make_node("Constant", [], ["ct"], value=helper.make_tensor("t", I64, [1], [2]))
    nodes[2] = helper.make_node("Constant", [], ["c24"], value_ints=[6])
    with pytest.raises(ModelError, match=r"\(Reshape\): cannot reshape \[6,8\]"):
        netscore_fast.profile(_model(nodes, [_vi("X", F, [1])], [_vi("zr", F, None)]))


def test_model_local_function_is_inlined():
    # local::Gate(X, W; alpha) = Sigmoid(X @ W) * ((X @ W) * alpha), alpha an attribute reference.
    alpha = onnx.AttributeProto()
    alpha.name, alpha.ref_attr_name, alpha.type = "value_float", "alpha", onnx.AttributeProto.FLOAT
    const = helper.make_node("Constant", [], ["a"])
    const.attribute.append(alpha)
    body = [
        helper.make_node("MatMul", ["X", "W"], ["h"], name="mm"),
        const,
        helper.make_node("Mul", ["h", "a"], ["ha"], name="scale"),
        helper.make_node("Sigmoid", ["h"], ["s"], name="sig"),
        helper.make_node("Mul", ["s", "ha"], ["Y"], name="gate"),
    ]
    fn = helper.make_function("local", "Gate", ["X", "W"], ["Y"], body, [helper.make_opsetid("", 17)], ["alpha"])
    nodes = [helper.make_node("Gate", ["inp", "Wt"], ["out"], name="g1", domain="local", alpha=0.5)]
    m = _model(nodes, [_vi("inp", F, [2, 4])], [_vi("out", F, None)], [_init("Wt", np.ones((4, 3), np.float32))],
               extra_opsets=[("local", 1)])
    m.functions.append(fn)
    p = netscore_fast.profile(m)
    assert not p.unsupported_ops
    assert set(p.layers["name"].tolist()) == {"g1/mm", "g1/Constant_1", "g1/scale", "g1/sig", "g1/gate"}
    assert set(p.layers["node_index"].tolist()) == {0}
    want = _ort_shapes(m, {"inp": np.ones((2, 4), np.float32)})
    assert _shapes_by_output(p, m)["out"] == want["out"] == [2, 3]
    # MatMul [2,4]x[4,3]: 24 MACs = 48 FLOPs; on the [2,3] result: Mul 6, Sigmoid 6*4, Mul 6
    assert p.macs == 24
    assert p.flops == 48 + 6 + 24 + 6
    assert p.params == 12


def test_recursive_function_is_an_error_not_a_hang():
    # local::Loopy calls itself: inlining stops at a fixed depth with a ModelError naming the function.
    body = [helper.make_node("Loopy", ["X"], ["Y"], domain="local")]
    fn = helper.make_function("local", "Loopy", ["X"], ["Y"], body, [helper.make_opsetid("", 17)])
    m = _model([helper.make_node("Loopy", ["inp"], ["out"], name="call", domain="local")],
               [_vi("inp", F, [2])], [_vi("out", F, None)], extra_opsets=[("local", 1)])
    m.functions.append(fn)
    with pytest.raises(ModelError, match=r"function 'Loopy' nests deeper"):
        netscore_fast.profile(m)
