"""The nine real networks shipped in the onnx wheel (AlexNet ... VGG-19) against independent references.

Shapes come from running each model in onnxruntime with every intermediate tensor exposed as an output;
Conv and Gemm MACs are recomputed here from those observed shapes; params follow docs/counting.md,
re-implemented below with plain protobuf traversal (nothing from netscore_fast is reused).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import helper  # noqa: E402

import netscore_fast  # noqa: E402

from conftest import LIGHT_MODELS  # noqa: E402

MODEL_IDS = [p.stem for p in LIGHT_MODELS]

# Input positions that hold weights, per compute op, for the ops these nine models use. A constant read
# anywhere else must be a known non-weight argument (NON_WEIGHT) or the test stops and says so.
WEIGHT_POSITIONS = {
    "Conv": {1, 2}, "Gemm": {0, 1, 2}, "MatMul": {0, 1}, "BatchNormalization": {1, 2, 3, 4},
    "Add": {0, 1}, "Mul": {0, 1}, "Sub": {0, 1}, "Div": {0, 1}, "Sum": set(range(64)),
}
NON_WEIGHT = {("Reshape", 1), ("Dropout", 1), ("Dropout", 2)}


@functools.lru_cache(maxsize=None)
def _load(path):
    return onnx.load(str(path))


@functools.lru_cache(maxsize=None)
def _ort_shapes(path):
    """Run the model once in onnxruntime; shape of every tensor produced by a non-constant node."""
    model = onnx.ModelProto()
    model.CopyFrom(_load(path))
    graph = model.graph
    exposed = {o.name for o in graph.output}
    for node in graph.node:
        if node.op_type in ("Constant", "ConstantOfShape"):
            continue
        for out in node.output:
            if out and out not in exposed:
                graph.output.append(helper.make_empty_tensor_value_info(out))
                exposed.add(out)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.standard_normal(i.shape).astype(np.float32) for i in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    shapes = {name: tuple(feed.shape) for name, feed in feeds.items()}
    for name, value in zip(names, session.run(names, feeds)):
        shapes[name] = tuple(value.shape)
    return shapes


def _tensor_numel(dims) -> int:
    return int(np.prod(dims, dtype=np.int64)) if len(dims) else 1


@functools.lru_cache(maxsize=None)
def _reference_params(path):
    """docs/counting.md: elements of constant tensors (initializers, Constant/ConstantOfShape outputs,
    outputs of nodes whose inputs are all constant) read by compute nodes at weight positions, each
    distinct tensor once, scalars excluded. Returns (params, BatchNorm running-stat params)."""
    graph = _load(path).graph
    numel = {t.name: _tensor_numel(t.dims) for t in graph.initializer}
    shapes = _ort_shapes(path)
    constant = set(numel)
    folded = set()
    for index, node in enumerate(graph.node):
        ins = [i for i in node.input if i]
        if node.op_type == "Constant":
            value = helper.get_attribute_value(next(a for a in node.attribute if a.name == "value"))
            numel[node.output[0]] = _tensor_numel(value.dims)
        elif node.op_type == "ConstantOfShape" and all(i in constant for i in ins):
            shape_init = next(t for t in graph.initializer if t.name == ins[0])
            numel[node.output[0]] = int(np.prod(onnx.numpy_helper.to_array(shape_init), dtype=np.int64))
        elif ins and all(i in constant for i in ins):
            numel[node.output[0]] = _tensor_numel(shapes.get(node.output[0]) or _folded_shape(node, numel))
        else:
            continue
        folded.add(index)
        constant.update(o for o in node.output if o)

    counted = {}
    stats = 0
    for index, node in enumerate(graph.node):
        if index in folded:
            continue
        for position, name in enumerate(node.input):
            if name not in constant:
                continue
            if position not in WEIGHT_POSITIONS.get(node.op_type, ()):
                assert (node.op_type, position) in NON_WEIGHT, \
                    f"constant {name!r} read by {node.op_type} input {position}: extend the reference table"
                continue
            if numel[name] <= 1 or name in counted:
                continue
            counted[name] = numel[name]
            if node.op_type == "BatchNormalization" and position in (3, 4):
                stats += numel[name]
    return sum(counted.values()), stats


def _folded_shape(node, numel):
    # Unsqueeze/Reshape/... of a constant keep its element count; enough for a parameter count
    return (numel[node.input[0]],)


def _reference_macs(path):
    """Conv: prod(out) * C_in/group * prod(kernel); Gemm: M*N*K, all from onnxruntime's shapes."""
    graph = _load(path).graph
    shapes = _ort_shapes(path)
    init_dims = {t.name: tuple(t.dims) for t in graph.initializer}
    macs = {}
    for index, node in enumerate(graph.node):
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv":
            out = shapes[node.output[0]]
            x = shapes[node.input[0]]
            w = init_dims.get(node.input[1]) or _constant_dims(graph, node.input[1])
            group = attrs.get("group", 1)
            macs[index] = int(np.prod(out)) * (x[1] // group) * int(np.prod(w[2:]))
        elif node.op_type == "Gemm":
            out = shapes[node.output[0]]
            a = shapes.get(node.input[0]) or init_dims[node.input[0]]
            k = a[0] if attrs.get("transA", 0) else a[1]
            macs[index] = out[0] * out[1] * k
    return macs


def _constant_dims(graph, name):
    """Dims of a ConstantOfShape output: the values of its (initializer) shape input."""
    for node in graph.node:
        if node.op_type == "ConstantOfShape" and node.output[0] == name:
            shape_init = next(t for t in graph.initializer if t.name == node.input[0])
            return tuple(int(d) for d in onnx.numpy_helper.to_array(shape_init))
    raise KeyError(name)


@functools.lru_cache(maxsize=None)
def _ours(path):
    return netscore_fast.profile(path)


@pytest.mark.parametrize("path", LIGHT_MODELS, ids=MODEL_IDS)
def test_params_follow_the_counting_convention(path):
    params, stats = _reference_params(path)
    p = _ours(path)
    assert p.params == params
    assert p.bn_stat_params == stats
    assert p.weight_bytes == 4 * params  # every weight in these models is float32


@pytest.mark.parametrize("path", LIGHT_MODELS, ids=MODEL_IDS)
def test_conv_and_gemm_macs_match_onnxruntime_shapes(path):
    reference = _reference_macs(path)
    p = _ours(path)
    rows = p.layers
    ours = {int(i): int(m) for i, m, op in zip(rows["node_index"], rows["macs"], rows["op_type"])
            if op in ("Conv", "Gemm")}
    assert ours == reference
    assert p.macs >= sum(reference.values())  # other ops add no MACs here, but never subtract
    assert p.unsupported_ops == {} and p.unknown_cost_nodes == []


@pytest.mark.parametrize("path", LIGHT_MODELS, ids=MODEL_IDS)
def test_every_node_output_shape_matches_onnxruntime(path):
    shapes = _ort_shapes(path)
    nodes = _load(path).graph.node
    p = _ours(path)
    mismatches = []
    for node_index, (_, outs) in zip(p.layers["node_index"].tolist(), p.layer_shapes()):
        for name, shape in zip(nodes[node_index].output, outs):
            if name in shapes and tuple(shape) != shapes[name]:
                mismatches.append(f"{nodes[node_index].op_type} {name}: ours {shape}, onnxruntime {list(shapes[name])}")
    assert not mismatches, "\n".join(mismatches[:10])
