"""Shape inference and cost on the paths the walk takes with partial knowledge: Conv with an unknown input
rank, unknown weights or lenient attributes, variadic elementwise ops, broadcasting straight into the output,
and elementwise folding. Expected values are derived by hand below or taken from onnxruntime."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import netscore_fast

RNG_SEED = 20260611


def _model(nodes, inputs, inits, outputs, opset=17):
    """inputs: {name: (elem_type, shape or None)}; inits: {name: ndarray}; outputs: list of names."""
    graph = helper.make_graph(
        nodes, "case",
        [helper.make_tensor_value_info(n, t, s) for n, (t, s) in inputs.items()],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        initializer=[numpy_helper.from_array(v, n) for n, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8  # readable by the installed onnxruntime
    return model


def _weights(*shape):
    rng = np.random.default_rng(RNG_SEED)
    return np.asarray(rng.standard_normal(shape) + 0.5, dtype=np.float32)  # never all zeros; () gives a 0-d array


def _ort_output_shapes(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [list(o.shape) for o in sess.run(None, feeds)]


def _only(profile):
    (ins, outs), = profile.layer_shapes()
    return ins, outs


# --- Conv with partial knowledge -------------------------------------------------------------------------

def test_conv_rank_from_the_weight_when_x_has_no_shape():
    # X's rank is unknown; W (8, 3, 3, 3) makes Y rank 4 with C_out = 8; N and the spatial sizes stay unknown,
    # so the MACs are unknown (never a silent zero) while W still counts as 8 * 3 * 3 * 3 = 216 params.
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    p = netscore_fast.profile(_model([node], {"x": (TensorProto.FLOAT, None)}, {"w": _weights(8, 3, 3, 3)}, ["y"]))
    _, outs = _only(p)
    assert outs == [[-1, 8, -1, -1]]
    assert p.params == 216
    assert p.unknown_cost_nodes == ["c"]


def test_conv_spatial_size_from_kernel_shape_when_w_is_unknown():
    # W is a graph input without a shape: kernel_shape (3, 3) gives the window, pads 1: out = (10 + 2 - 3) + 1 = 10;
    # C_out (W's dim 0) is unknown.
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, 10, 10]), "w": (TensorProto.FLOAT, None)}, {}, ["y"])
    p = netscore_fast.profile(model)
    _, outs = _only(p)
    assert outs == [[1, -1, 10, 10]]
    assert p.unknown_cost_nodes == ["c"]


def test_conv_without_any_kernel_size_keeps_the_rank():
    # Neither W's shape nor kernel_shape: Y is (N, ?, ?, ?) with N = 2 from X.
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    model = _model([node], {"x": (TensorProto.FLOAT, [2, 3, 10, 10]), "w": (TensorProto.FLOAT, None)}, {}, ["y"])
    _, outs = _only(netscore_fast.profile(model))
    assert outs == [[2, -1, -1, -1]]


def test_conv_strides_written_as_a_single_int():
    # 1-D conv with strides stored as an INT attribute (read leniently as [3]): out = floor((100 - 5) / 3) + 1 = 32;
    # MACs = N * C_out * out * C_in * k = 1 * 8 * 32 * 4 * 5.
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    node.attribute.append(helper.make_attribute("strides", 3))
    p = netscore_fast.profile(_model([node], {"x": (TensorProto.FLOAT, [1, 4, 100])}, {"w": _weights(8, 4, 5)}, ["y"]))
    _, outs = _only(p)
    assert outs == [[1, 8, 32]]
    assert p.macs == 1 * 8 * 32 * 4 * 5


def test_conv_kernel_shape_disagreeing_with_the_weight_is_a_model_error():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[5, 5])
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, 10, 10])}, {"w": _weights(8, 3, 3, 3)}, ["y"])
    with pytest.raises(netscore_fast.ModelError, match=r"kernel_shape \[5,5\] disagrees with weight shape \[8,3,3,3\]"):
        netscore_fast.profile(model)


@pytest.mark.parametrize("attr,values", [("strides", [1, 1, 1]), ("dilations", [2]), ("pads", [1, 1])])
def test_conv_attribute_lengths_are_checked(attr, values):
    # 2 spatial dims: strides and dilations need 2 values, pads 4
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", **{attr: values})
    model = _model([node], {"x": (TensorProto.FLOAT, [1, 3, 10, 10])}, {"w": _weights(8, 3, 3, 3)}, ["y"])
    with pytest.raises(netscore_fast.ModelError, match=f"{attr} has {len(values)} values"):
        netscore_fast.profile(model)


# --- Elementwise -------------------------------------------------------------------------------------------

# docs/counting.md: variadic Sum/Mean/Max/Min count their per-element FLOPs (Sum, Max, Min 1; Mean 2) once per
# input after the first, at least once.
@pytest.mark.parametrize("op,per_elem,n_inputs", [("Sum", 1, 3), ("Mean", 2, 3), ("Max", 1, 4), ("Min", 1, 1)])
def test_variadic_elementwise_flops_per_extra_input(op, per_elem, n_inputs):
    names = [f"x{i}" for i in range(n_inputs)]
    node = helper.make_node(op, names, ["y"], name="v")
    model = _model([node], {n: (TensorProto.FLOAT, [2, 3, 4]) for n in names}, {}, ["y"])
    p = netscore_fast.profile(model)
    assert p.flops == 2 * 3 * 4 * per_elem * max(1, n_inputs - 1)
    feeds = {n: _weights(2, 3, 4) for n in names}
    assert _only(p)[1] == _ort_output_shapes(model, feeds)


def test_broadcast_of_three_inputs_of_different_ranks():
    # (2, 1, 4), (3, 1) and a scalar broadcast to (2, 3, 4); one add per output element per extra input
    node = helper.make_node("Sum", ["a", "b", "c"], ["y"], name="s")
    shapes = {"a": [2, 1, 4], "b": [3, 1], "c": []}
    model = _model([node], {n: (TensorProto.FLOAT, s) for n, s in shapes.items()}, {}, ["y"])
    p = netscore_fast.profile(model)
    assert _only(p)[1] == _ort_output_shapes(model, {n: _weights(*s) for n, s in shapes.items()}) == [[2, 3, 4]]
    assert p.flops == 24 * 2


def test_broadcast_mismatch_names_both_shapes():
    node = helper.make_node("Add", ["a", "b"], ["y"], name="add")
    model = _model([node], {"a": (TensorProto.FLOAT, [2, 3]), "b": (TensorProto.FLOAT, [4])}, {}, ["y"])
    with pytest.raises(netscore_fast.ModelError, match=r"cannot broadcast \[2,3\] with \[4\]"):
        netscore_fast.profile(model)


def test_folded_elementwise_shape_feeds_reshape():
    # shape = Add([1, 3, 4], [1, 0, 2]) = [2, 3, 6] is folded from constants; Reshape (1, 36) -> (2, 3, 6).
    nodes = [helper.make_node("Add", ["s0", "s1"], ["shape"], name="add"),
             helper.make_node("Reshape", ["x", "shape"], ["y"], name="r")]
    inits = {"s0": np.array([1, 3, 4], np.int64), "s1": np.array([1, 0, 2], np.int64)}
    model = _model(nodes, {"x": (TensorProto.FLOAT, [1, 36])}, inits, ["y"])
    p = netscore_fast.profile(model)
    rows = p.layers
    assert rows["folded"].tolist() == [True, False]
    assert p.layer_shapes()[1][1] == _ort_output_shapes(model, {"x": _weights(1, 36)}) == [[2, 3, 6]]
    # the folded Add counts its work (one add per output element, 3; docs/counting.md "Nodes on constants"),
    # Reshape moves data only
    assert rows["flops"].tolist() == [3, 0] and p.flops == 3 and p.macs == 0
