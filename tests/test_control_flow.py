"""If / Loop / Scan: the walked subgraphs against onnxruntime-executed shapes and written-out MAC formulas."""
from __future__ import annotations

import glob
import os
import zipfile

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast  # noqa: E402
from netscore_fast.bulk import profile_many  # noqa: E402

OPSET = 17
RNG = np.random.default_rng(12)


def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def _weights(name, shape):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def _ort_shapes(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [list(o.shape) for o in sess.run(None, feeds)]


def _our_output_shapes(p, model):
    """Shapes of the graph outputs as the profile infers them (from the layers producing them)."""
    produced = {}
    nodes = model.graph.node
    for row, (_, outs) in zip(p.layers.tolist(), p.layer_shapes()):
        name, op_type, node_index = row[0], row[1], row[-1]
        if op_type != nodes[node_index].op_type:   # an inner layer of a subgraph
            continue
        for out, shape in zip(nodes[node_index].output, outs):
            produced[out] = list(shape)
    return [produced[o.name] for o in model.graph.output]


def _branch_conv(out):
    """then: Conv of the outer x with the outer weight W (3 -> 4 channels, 3x3, pad 1)."""
    node = helper.make_node("Conv", ["x", "W"], [out], pads=[1, 1, 1, 1], name="conv")
    return helper.make_graph([node], "then", [], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])


def _branch_pool(out):
    """else: 1x1 Conv of x with the outer weight V (3 -> 2 channels) after a 2x2 max pool."""
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
             helper.make_node("Conv", ["p", "V"], [out], name="conv1x1")]
    return helper.make_graph(nodes, "else", [], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])


def _if_model(cond_nodes, extra_inputs=()):
    nodes = list(cond_nodes) + [
        helper.make_node("If", ["cond"], ["y"], then_branch=_branch_conv("t"), else_branch=_branch_pool("e"), name="if"),
        helper.make_node("Relu", ["y"], ["z"], name="relu"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])] + list(extra_inputs)
    return _model(nodes, inputs, [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                  [_weights("W", [4, 3, 3, 3]), _weights("V", [2, 3, 1, 1])])


def _then_macs(h, w):
    return 4 * h * w * 3 * 3 * 3


def _else_macs(h, w):
    return 2 * (h // 2) * (w // 2) * 3


def test_if_constant_condition_walks_the_taken_branch():
    model = _if_model([helper.make_node("Constant", [], ["cond"], value=helper.make_tensor("c", TensorProto.BOOL, [], [True]))])
    p = netscore_fast.profile(model, input_shapes={"x": [1, 3, 8, 8]})
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    assert _our_output_shapes(p, model) == _ort_shapes(model, {"x": x})
    assert p.macs == _then_macs(8, 8)
    assert p.params == 4 * 3 * 3 * 3          # the outer weight read only inside the branch is a param
    assert not p.unsupported_ops and not p.unknown_cost_nodes and not p.upper_bound_nodes
    names = list(p.layers["name"])
    assert "if/conv" in names and names.index("if/conv") == names.index("if") + 1


@pytest.mark.parametrize("h", [8, 3])
def test_if_condition_from_shapes(h):
    cond_nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "two"], ["hdim"], axis=0),
        helper.make_node("Greater", ["hdim", "four"], ["cond"]),
    ]
    model = _if_model(cond_nodes)
    model.graph.initializer.extend([numpy_helper.from_array(np.array(2, np.int64), "two"),
                                    numpy_helper.from_array(np.array(4, np.int64), "four")])
    p = netscore_fast.profile(model, input_shapes={"x": [1, 3, h, h]})
    x = RNG.standard_normal((1, 3, h, h)).astype(np.float32)
    assert _our_output_shapes(p, model) == _ort_shapes(model, {"x": x})
    taken_then = h > 4
    assert p.macs == (_then_macs(h, h) if taken_then else _else_macs(h, h))
    assert p.params == (108 if taken_then else 6)
    assert not p.upper_bound_nodes


def _sr_model():
    cond_nodes = [helper.make_node("Equal", ["sr", "k16"], ["cond"])]
    model = _if_model(cond_nodes, [helper.make_tensor_value_info("sr", TensorProto.INT64, [])])
    model.graph.initializer.append(numpy_helper.from_array(np.array(16000, np.int64), "k16"))
    return model


def test_if_condition_from_an_input_value():
    model = _sr_model()
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    for sr, macs in ((16000, _then_macs(8, 8)), (8000, _else_macs(8, 8))):
        p = netscore_fast.profile(model, input_shapes={"x": [1, 3, 8, 8]}, input_values={"sr": sr})
        assert p.macs == macs
        assert not p.upper_bound_nodes
        assert _our_output_shapes(p, model) == _ort_shapes(model, {"x": x, "sr": np.array(sr, np.int64)})
    # without the value: the more expensive branch, flagged, naming the input
    p = netscore_fast.profile(model, input_shapes={"x": [1, 3, 8, 8]})
    assert p.macs == max(_then_macs(8, 8), _else_macs(8, 8))
    assert list(p.upper_bound_nodes) == ["if"] and "'sr'" in p.upper_bound_nodes["if"]
    assert "UPPER BOUND" in p.summary() and "'sr'" in p.summary()
    # both branches' outputs have rank 4 but disagree on the dims: unknown dims after the If
    assert _our_output_shapes(p, model) == [[1, -1, -1, -1]]


def test_input_values_in_profile_many_and_the_cli(tmp_path, capsys):
    path = tmp_path / "sr.onnx"
    onnx.save(_sr_model(), str(path))
    table = profile_many([str(path)], input_shapes={"x": [1, 3, 8, 8]}, input_values={"sr": 8000}, threads=1)
    assert int(table["macs"][0]) == _else_macs(8, 8)
    from netscore_fast.cli import main
    assert main(["profile", str(path), "--input-shape", "x=1,3,8,8", "--input-value", "sr=8000",
                 "--format", "json"]) == 0
    assert f'"macs": {_else_macs(8, 8)}' in capsys.readouterr().out


def test_input_values_errors():
    model = _sr_model()
    with pytest.raises(netscore_fast.ModelError, match="not a graph input"):
        netscore_fast.profile(model, input_shapes={"x": [1, 3, 8, 8]}, input_values={"rate": 1})
    with pytest.raises(netscore_fast.ModelError, match="values for shape"):
        netscore_fast.profile(model, input_shapes={"x": [1, 3, 8, 8]}, input_values={"sr": [1, 2]})


def _loop_model(trip_input: bool):
    """y <- y @ W (16x16) for M iterations; the per-iteration y is also a scan output."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("MatMul", ["y_in", "W"], ["y_out"], name="mm"),
         helper.make_node("Identity", ["y_out"], ["y_scan"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_in", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_out", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("y_scan", TensorProto.FLOAT, None)])
    inits = [_weights("W", [16, 16]), numpy_helper.from_array(np.array(True), "true")]
    inputs = [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [1, 16])]
    if trip_input:
        inputs.append(helper.make_tensor_value_info("M", TensorProto.INT64, []))
    else:
        inits.append(numpy_helper.from_array(np.array(5, np.int64), "M"))
    nodes = [helper.make_node("Loop", ["M", "true", "y0"], ["y", "ys"], body=body, name="loop")]
    return _model(nodes, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                                  helper.make_tensor_value_info("ys", TensorProto.FLOAT, None)], inits)


def test_loop_constant_trip_count():
    model = _loop_model(False)
    p = netscore_fast.profile(model)
    y0 = RNG.standard_normal((1, 16)).astype(np.float32)
    assert _our_output_shapes(p, model) == _ort_shapes(model, {"y0": y0})
    assert p.macs == 5 * 16 * 16
    assert p.params == 16 * 16                # body weights once, not per iteration
    assert not p.upper_bound_nodes and not p.lower_bound_nodes
    assert int(p.layers["macs"][list(p.layers["name"]).index("loop/mm")]) == 5 * 16 * 16


def test_loop_unknown_trip_count_is_a_lower_bound():
    p = netscore_fast.profile(_loop_model(True))
    assert p.macs == 16 * 16
    assert list(p.lower_bound_nodes) == ["loop"]
    assert "LOWER BOUND" in p.summary()


def test_scan_over_a_sequence():
    """h <- tanh(x_t @ Wx + h @ Wh) over 6 steps; the outer weights are read only inside the body."""
    body = helper.make_graph(
        [helper.make_node("MatMul", ["x_t", "Wx"], ["a"], name="mx"),
         helper.make_node("MatMul", ["h_in", "Wh"], ["b"], name="mh"),
         helper.make_node("Add", ["a", "b"], ["s"]),
         helper.make_node("Tanh", ["s"], ["h_out"]),
         helper.make_node("Identity", ["h_out"], ["h_scan"])],
        "body",
        [helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 8]),
         helper.make_tensor_value_info("x_t", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 8]),
         helper.make_tensor_value_info("h_scan", TensorProto.FLOAT, [1, 8])])
    nodes = [helper.make_node("Scan", ["h0", "xs"], ["h", "hs"], body=body, num_scan_inputs=1, name="scan")]
    model = _model(nodes, [helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, 8]),
                           helper.make_tensor_value_info("xs", TensorProto.FLOAT, ["T", 1, 4])],
                   [helper.make_tensor_value_info("h", TensorProto.FLOAT, None),
                    helper.make_tensor_value_info("hs", TensorProto.FLOAT, None)],
                   [_weights("Wx", [4, 8]), _weights("Wh", [8, 8])])
    p = netscore_fast.profile(model, input_shapes={"xs": [6, 1, 4]})
    feeds = {"h0": RNG.standard_normal((1, 8)).astype(np.float32),
             "xs": RNG.standard_normal((6, 1, 4)).astype(np.float32)}
    assert _our_output_shapes(p, model) == _ort_shapes(model, feeds)
    assert p.macs == 6 * (1 * 4 * 8 + 1 * 8 * 8)
    assert p.params == 4 * 8 + 8 * 8
    assert not p.lower_bound_nodes


def test_outer_weight_read_in_the_graph_and_a_branch_counts_once():
    model = _if_model([helper.make_node("Constant", [], ["cond"], value=helper.make_tensor("c", TensorProto.BOOL, [], [True]))])
    model.graph.node.insert(0, helper.make_node("Conv", ["x", "W"], ["first"], pads=[1, 1, 1, 1], name="first"))
    model.graph.output.append(helper.make_tensor_value_info("first", TensorProto.FLOAT, None))
    p = netscore_fast.profile(model, input_shapes={"x": [1, 3, 8, 8]})
    assert p.params == 4 * 3 * 3 * 3
    assert p.macs == 2 * _then_macs(8, 8)


# ---- silero-vad, from its wheel when one is available locally (never downloaded by the tests) ----------------
def _silero_wheel():
    env = os.environ.get("NETSCORE_SILERO_WHEEL")
    candidates = [env] if env else []
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates += sorted(glob.glob(os.path.join(here, "benchmarks", "realworld", "**", "silero_vad-*.whl"), recursive=True))
    return next((c for c in candidates if c and os.path.isfile(c)), None)


def test_silero_vad_16k_branch():
    wheel = _silero_wheel()
    if wheel is None:
        pytest.skip("silero-vad wheel not available locally (set NETSCORE_SILERO_WHEEL)")
    with zipfile.ZipFile(wheel) as z:
        data = z.read(next(n for n in z.namelist() if n.endswith("/silero_vad.onnx")))
    shapes = {"input": [1, 512], "state": [2, 1, 128]}
    p = netscore_fast.profile(data, input_shapes=shapes, input_values={"sr": 16000})
    # the figure for the 16 kHz branch: about 310 k params and 564 k MACs
    assert abs(p.params - 310_000) < 2_000 and abs(p.macs - 564_000) < 2_000
    assert not p.upper_bound_nodes and not p.unsupported_ops and not p.unknown_cost_nodes
    p = netscore_fast.profile(data, input_shapes=shapes)
    assert "'sr'" in p.upper_bound_nodes["If_0"]


def test_if_listed_before_the_producer_of_a_value_its_branch_reads():
    """The walk orders a control-flow node after the producers of the outer values its subgraphs read."""
    then_g = helper.make_graph([helper.make_node("Conv", ["xr", "W"], ["t"], pads=[1, 1, 1, 1], name="conv")], "then",
                               [], [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Identity", ["xr"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g, name="if"),
             helper.make_node("Relu", ["x"], ["xr"], name="relu")]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                   [_weights("W", [4, 3, 3, 3]), numpy_helper.from_array(np.array(True), "cond")])
    p = netscore_fast.profile(model)
    assert list(p.layers["name"]) == ["relu", "if", "if/conv"]
    assert p.macs == _then_macs(8, 8) and _our_output_shapes(p, model) == [[1, 4, 8, 8]]


def test_loop_written_as_a_while_loop_is_a_lower_bound():
    """torch exports `while` as Loop(M = INT64_MAX, cond): not a trip count."""
    model = _loop_model(False)
    for t in model.graph.initializer:
        if t.name == "M":
            t.CopyFrom(numpy_helper.from_array(np.array(np.iinfo(np.int64).max, np.int64), "M"))
    p = netscore_fast.profile(model)
    assert p.macs == 16 * 16 and list(p.lower_bound_nodes) == ["loop"]
