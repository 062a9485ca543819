"""MatMul / Conv nodes whose inputs are all constant count their MACs like any other node (docs/counting.md,
"Nodes on constants count their work"): the file asks for the work at every run. Models are built by hand
after the real cases (ConViT's rel_indices @ W, EdgeNeXt's positional 1x1 Conv on a grid, a table computed
from the input size times a weight); the reference MACs come from the ONNX formulas applied to the shapes
onnxruntime produces when it runs the file with graph optimisations off."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import netscore_fast

RNG_SEED = 20261204
D = 8


def _weights(*shape):
    rng = np.random.default_rng(RNG_SEED + len(shape))
    return np.asarray(rng.standard_normal(shape) + 0.5, dtype=np.float32)


def _model(constant_inputs=True):
    """x [1, L, D] -> y = x + (table(L) @ Wt) and z = x @ Wx; plus two stored constants used as in real files:
    rel = T0 @ W2 (a stored table times a weight) and g = Conv(grid, W3) (a 1x1 conv on a stored grid).
    With constant_inputs=False the tables and weights of those three products are graph inputs instead."""
    one, zero = np.array(1, np.int64), np.array(0, np.int64)
    tables = {"T0": _weights(4, 4, 3), "W2": _weights(3, 5), "grid": _weights(1, 4, 3, 3), "W3": _weights(6, 4, 1, 1),
              "Wt": _weights(2, D)}
    inits = {"Wx": _weights(D, 5), "one": one, "zero": zero, "ax1": np.array([1], np.int64)}
    nodes = [
        # the table computed from the input size: [[i, i * i] for i in range(L)]
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "one"], ["L"], name="len", axis=0),
        helper.make_node("Range", ["zero", "L", "one"], ["r"], name="range"),
        helper.make_node("Cast", ["r"], ["rf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["rf", "rf"], ["rsq"], name="square"),
        helper.make_node("Unsqueeze", ["rf", "ax1"], ["c0"], name="col0"),
        helper.make_node("Unsqueeze", ["rsq", "ax1"], ["c1"], name="col1"),
        helper.make_node("Concat", ["c0", "c1"], ["table"], name="table", axis=1),
        helper.make_node("MatMul", ["table", "Wt"], ["pos"], name="pos_proj"),      # [L, 2] @ [2, D]
        helper.make_node("Add", ["x", "pos"], ["y"], name="add_pos"),
        helper.make_node("MatMul", ["x", "Wx"], ["z"], name="fc"),                  # [1, L, D] @ [D, 5]
        helper.make_node("MatMul", ["T0", "W2"], ["rel"], name="rel_proj"),         # [4, 4, 3] @ [3, 5]
        helper.make_node("Conv", ["grid", "W3"], ["g"], name="grid_conv"),         # [1, 4, 3, 3] * [6, 4, 1, 1]
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "L", D])]
    if constant_inputs:
        inits.update(tables)
    else:   # the same products on non-constant inputs (the table still comes from the shape: pos_proj stays folded
        inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape))   # only through Wt)
                   for n, v in tables.items() if n != "Wt"]
        inits["Wt"] = tables["Wt"]
    graph = helper.make_graph(nodes, "constants", inputs,
                              [helper.make_empty_tensor_value_info(o) for o in ("y", "z", "rel", "g")],
                              initializer=[numpy_helper.from_array(v, n) for n, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by the installed onnxruntime
    return model, tables


def _ort_macs(model, feeds):
    """Per MAC-bearing node: MACs from the ONNX formulas on the shapes onnxruntime executes (no netscore_fast)."""
    ort = pytest.importorskip("onnxruntime")
    import onnx
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL   # the file's nodes, run as written
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    shape = {k: np.shape(v) for k, v in zip(names, sess.run(names, feeds))}
    shape.update({k: np.shape(v) for k, v in feeds.items()})
    shape.update({t.name: tuple(t.dims) for t in model.graph.initializer})
    macs = {}
    for n in model.graph.node:
        if n.op_type == "MatMul":          # every output element is a dot product over A's last dim
            macs[n.name] = int(np.prod(shape[n.output[0]])) * shape[n.input[0]][-1]
        elif n.op_type == "Conv":          # N C_out prod(out spatial) x C_in / group x prod(kernel), group 1
            w, y = shape[n.input[1]], shape[n.output[0]]
            macs[n.name] = y[0] * y[1] * int(np.prod(y[2:])) * w[1] * int(np.prod(w[2:]))
    return macs


@pytest.mark.parametrize("length", [6, 10])
def test_products_of_constants_count_their_macs(length):
    model, _ = _model()
    x = _weights(1, length, D)
    want = _ort_macs(model, {"x": x})
    # by hand, as a check of the reference itself: L*2*D, L*D*5, 4*4*5*3, 6*3*3*4
    assert want == {"pos_proj": length * 2 * D, "fc": length * D * 5, "rel_proj": 4 * 4 * 5 * 3,
                    "grid_conv": 6 * 3 * 3 * 4}
    p = netscore_fast.profile(model, input_shapes={"x": [1, length, D]})
    rows = {str(r["name"]): r for r in p.layers}
    for name, macs in want.items():
        assert rows[name]["macs"] == macs, name
        assert rows[name]["flops"] >= 2 * macs, name
        assert bool(rows[name]["folded"]) == (name != "fc"), name   # evaluated ahead of time, still counted
    assert p.macs == sum(want.values())
    assert p.flops >= 2 * p.macs
    folded = p.layers["macs"][p.layers["folded"]].sum()
    assert folded == sum(v for k, v in want.items() if k != "fc")   # the part a folding runtime does at load
    assert not p.unknown_cost_nodes and not p.unsupported_ops


def test_same_count_whether_or_not_the_inputs_are_constant():
    """One rule for every node: the same products on graph inputs give the same MACs and FLOPs per node."""
    model_c, tables = _model(constant_inputs=True)
    model_i, _ = _model(constant_inputs=False)
    shapes = {"x": [1, 7, D], **{n: list(v.shape) for n, v in tables.items() if n != "Wt"}}
    pc = netscore_fast.profile(model_c, input_shapes={"x": [1, 7, D]})
    pi = netscore_fast.profile(model_i, input_shapes=shapes)
    rc = {str(r["name"]): (int(r["macs"]), int(r["flops"]), bool(r["folded"])) for r in pc.layers}
    ri = {str(r["name"]): (int(r["macs"]), int(r["flops"]), bool(r["folded"])) for r in pi.layers}
    for name in ("rel_proj", "grid_conv"):
        assert rc[name][:2] == ri[name][:2], name
        assert rc[name][2] and not ri[name][2], name
    assert (pc.macs, pc.flops) == (pi.macs, pi.flops)


def _unrolled_rnn(seq, inp, hid, fold_first_step):
    """An nn.RNN(tanh) unrolled as the dynamo exporter writes it: one input projection over all steps, then per
    step h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh); with fold_first_step, h0 = 0 makes the first
    step's h0 W_hh^T + b_hh a stored constant (b_hh), as in the exported file."""
    inits = {"Wih": _weights(inp, hid), "bih": _weights(hid), "bhh": _weights(hid), "h0": np.zeros((1, hid), np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "Wih"], ["xp"], name="in_proj"),
             helper.make_node("Add", ["xp", "bih"], ["xb"], name="in_bias")]
    h = "h0"
    for t in range(seq):
        inits[f"s{t}"], inits[f"e{t}"] = np.array([t], np.int64), np.array([t + 1], np.int64)
        inits["ax"] = np.array([1], np.int64)
        nodes.append(helper.make_node("Slice", ["xb", f"s{t}", f"e{t}", "ax"], [f"x{t}"], name=f"slice{t}"))
        nodes.append(helper.make_node("Squeeze", [f"x{t}", "ax"], [f"xt{t}"], name=f"sq{t}"))
        if t == 0 and fold_first_step:
            inits["rec0"] = np.broadcast_to(inits["bhh"], (1, hid)).copy()   # h0 W_hh^T + b_hh with h0 = 0
            rec = "rec0"
        else:
            inits[f"Whh{t}"] = _weights(hid, hid) + t   # the exporter stores one copy per step
            nodes.append(helper.make_node("MatMul", [h, f"Whh{t}"], [f"hw{t}"], name=f"rec{t}"))
            nodes.append(helper.make_node("Add", [f"hw{t}", "bhh"], [f"rec{t}"], name=f"rec_bias{t}"))
            rec = f"rec{t}"
        nodes.append(helper.make_node("Add", [rec, f"xt{t}"], [f"a{t}"], name=f"add{t}"))
        nodes.append(helper.make_node("Tanh", [f"a{t}"], [f"h{t + 1}"], name=f"tanh{t}"))
        h = f"h{t + 1}"
    graph = helper.make_graph(nodes, "rnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, inp])],
                              [helper.make_empty_tensor_value_info(h)],
                              initializer=[numpy_helper.from_array(v, n) for n, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("fold_first_step", [True, False])
def test_rnn_reference_leaves_out_the_step_the_exporter_folded(tmp_path, fold_first_step):
    """benchmarks/realworld/compare.py: torch's RNN formula (seq batch hidden (input + hidden)) minus the first
    step's h0 W_hh^T when the file stores it as a constant; netscore_fast and the onnxruntime-shape count give
    what the file computes."""
    import pathlib
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "realworld"))
    try:
        import compare
        import build_corpus
    finally:
        sys.path.pop(0)
    _, kw, ((_, shape, _),) = build_corpus.TORCHNN["rnn_tanh_64"]
    inp, hid, seq = kw["input_size"], kw["hidden_size"], shape[1]
    model = _unrolled_rnn(seq, inp, hid, fold_first_step)
    path = tmp_path / "rnn.onnx"
    path.write_bytes(model.SerializeToString())
    folded = compare.rnn_zero_state_folded_macs({"source": "torchnn", "model": "rnn_tanh_64"}, path)
    assert folded == (hid * hid if fold_first_step else 0)
    torch_formula = seq * 1 * 1 * hid * (inp + hid)
    want = sum(_ort_macs(model, {"x": _weights(1, seq, inp)}).values())
    assert want == torch_formula - folded
    assert netscore_fast.profile(model).macs == want
