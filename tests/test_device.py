"""netscore_fast.device: op classes and the live part of a graph (C++ features), the few-shot fit, saving
and loading, runtime measurement, and the latency column and metrics in tables."""
import math

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from netscore_fast import device, metrics, nas, profile_many  # noqa: E402

scipy = pytest.importorskip("scipy")


def conv_model(cin, cout, k, group, hw=8):
    """One Conv with a dims-and-zeros weight [cout, cin/group, k, k], built with onnx.helper."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [cout, cin // group, k, k],
                           np.zeros(cout * (cin // group) * k * k, np.float32).tolist())
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=group, pads=[k // 2] * 4)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, hw, hw])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def features(source):
    X, names = device.raw_features([source], errors="raise")
    return dict(zip(names, X[0]))


@pytest.mark.parametrize("cin,cout,k,group,expected", [
    (8, 16, 3, 1, "conv_dense"),
    (8, 16, 1, 1, "conv_pointwise"),
    (8, 8, 3, 8, "conv_depthwise"),
    (8, 16, 3, 2, "conv_grouped"),
    (8, 8, 1, 2, "conv_grouped"),      # grouped 1x1 is not pointwise
    (8, 16, 3, 8, "conv_depthwise"),   # channel multiplier 2 (TFLite's depth_multiplier): still depthwise
    (8, 16, 3, 4, "conv_grouped"),     # two input channels per group
])
def test_conv_classes(cin, cout, k, group, expected):
    f = features(conv_model(cin, cout, k, group))
    for cls in ("conv_dense", "conv_pointwise", "conv_depthwise", "conv_grouped"):
        assert f[f"full.{cls}.layers"] == (1 if cls == expected else 0), cls
    macs = 8 * 8 * cout * (cin // group) * k * k          # independent count: output pixels x weights
    assert f[f"full.{expected}.macs"] == macs
    # bytes moved: input + output activations + weights, float32
    assert f[f"full.{expected}.bytes"] == 4 * (cin * 64 + cout * 64 + cout * (cin // group) * k * k)
    assert f[f"live.{expected}.layers"] == 1


def test_other_classes():
    nodes = [helper.make_node("MatMul", ["x", "w"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Reshape", ["b", "s"], ["c"]), helper.make_node("ReduceMean", ["c"], ["y"], axes=[1])]
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [4, 6], [0.0] * 24),
             helper.make_tensor("s", TensorProto.INT64, [2], [3, 4])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])], inits)
    f = features(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    for cls in ("gemm", "elementwise", "data_movement", "pool"):
        assert f[f"full.{cls}.layers"] == 1, cls
    assert f["full.gemm.macs"] == 2 * 4 * 6


def test_live_part_of_a_nasbench201_cell_with_none_edges():
    # node 2's edges are all none (a zero, Sub(x, x)); the conv 2 -> 3 reads it and changes nothing.
    arch = "|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    pruned = "|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|"
    f, g = features(nas.nasbench201(arch)), features(nas.nasbench201(pruned))
    assert f["full.conv_dense.layers"] - f["live.conv_dense.layers"] == 15   # one dead conv per cell
    for field in ("layers", "macs", "flops"):
        assert f[f"live.conv_dense.{field}"] == g[f"full.conv_dense.{field}"]
    assert g["live.conv_dense.layers"] == g["full.conv_dense.layers"]
    # all edges none into the output node: every cell computes a zero, so no cell conv is live
    zero = features(nas.nasbench201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"))
    assert zero["live.conv_dense.layers"] < zero["full.conv_dense.layers"]


def test_mul_by_constant_zero_is_dead():
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Mul", ["a", "z"], ["b"]),
             helper.make_node("Add", ["x", "b"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor("z", TensorProto.FLOAT, [1], [0.0])])
    f = features(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    assert f["full.elementwise.layers"] == 3
    assert f["live.elementwise.layers"] == 1   # only the Add: Relu feeds a Mul by zero


def test_conv_inside_if_and_function_counted_like_the_totals():
    """Features are collected during the walk, or from layer rows when the graph holds subgraphs (If): both
    count each conv once, and their MACs add up to the profile's total (an independent count: 8x8 outputs
    x 16 x 8 x 3 x 3 weights per conv)."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [16, 8, 3, 3], [0.0] * (16 * 8 * 9))
    conv = helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4)
    then = helper.make_graph([helper.make_node("Relu", ["c"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 16, 8, 8])])
    other = helper.make_graph([helper.make_node("Conv", ["c", "w2"], ["e"], pads=[1] * 4)], "else", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 16, 8, 8])])
    w2 = helper.make_tensor("w2", TensorProto.FLOAT, [16, 16, 3, 3], [0.0] * (16 * 16 * 9))
    cond = helper.make_node("If", ["b"], ["y"], then_branch=then, else_branch=other)
    graph = helper.make_graph([conv, cond], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 8]),
                                                  helper.make_tensor_value_info("b", TensorProto.BOOL, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 8, 8])], [w, w2])
    with_if = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    f = features(with_if)
    # the unknown condition counts the dearer branch: the else conv (16 -> 16 channels)
    assert f["full.conv_dense.layers"] == 2
    assert f["full.conv_dense.macs"] == 64 * 16 * 8 * 9 + 64 * 16 * 16 * 9
    sources = [with_if, conv_model(8, 16, 3, 1), nas.nasbench201(1234), nas.nasbench201(77, "cifar100")]
    X, names = device.raw_features(sources, errors="raise")
    macs = np.asarray(profile_many(sources, progress=False)["macs"], float)
    full_macs = [j for j, n in enumerate(names) if n.startswith("full.") and n.endswith(".macs")]
    np.testing.assert_array_equal(X[:, full_macs].sum(axis=1), macs)


def test_fused_part_drops_batchnorm_and_activation_after_a_conv():
    """Runtimes fold BatchNormalization into the conv before it and run the activation in its epilogue; a
    ReLU whose input has a second reader, or that follows an Add, stays a layer of its own."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4, 1, 1], [0.0] * 16)
    bn = [helper.make_tensor(n, TensorProto.FLOAT, [4], [1.0] * 4) for n in ("s", "b", "m", "v")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
             helper.make_node("Relu", ["n"], ["r"]),                 # fused: conv -> BN -> ReLU
             helper.make_node("Conv", ["r", "w"], ["c2"]),
             helper.make_node("Relu", ["c2"], ["r2"]),               # not fused: c2 is read twice
             helper.make_node("Add", ["r2", "c2"], ["a"]),
             helper.make_node("Relu", ["a"], ["y"])]                 # not fused: after an Add
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], [w] + bn)
    f = features(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    assert f["full.elementwise.layers"] == 5 and f["fused.elementwise.layers"] == 3
    assert f["fused.conv_pointwise.layers"] == f["full.conv_pointwise.layers"] == 2
    # the fused layers' bytes go too: 3 float32 layers of 4x8x8 in and out (and the Add's second input)
    assert f["fused.elementwise.bytes"] == 4 * 256 * (2 + 3 + 2)


def test_failed_model_gets_nan_row():
    X, _ = device.raw_features([b"not a model", conv_model(4, 4, 3, 1)])
    assert np.isnan(X[0]).all() and np.isfinite(X[1]).all()


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(1)
    X = np.c_[np.ones(40), rng.uniform(1, 10, (40, 3))]
    w = np.array([0.5, 0.2, 0.0, 1.3])
    names = ["inference", "a", "b", "c"]
    model = device.fit_features({"s": X}, {"s": names}, X @ w)
    assert np.allclose(model.coef, w, atol=1e-6)
    assert model.cv["mdape_pct"] < 1e-4
    assert model.coefficients()["b"] == pytest.approx(0.0, abs=1e-9)


def test_fit_rejects_bad_measurements():
    X = np.ones((5, 2))
    with pytest.raises(ValueError, match="positive"):
        device.fit_features({"s": X}, {"s": ["a", "b"]}, [1, 2, 3, float("nan"), 4])
    with pytest.raises(ValueError, match="quantity"):
        device.fit_features({"s": X}, {"s": ["a", "b"]}, [1, 2, 3, 4, 5], quantity="speed")


def nas_sources(n, weights="dims"):
    return [nas.nasbench201(i, weights=weights) for i in range(0, 15625, 15625 // n)][:n]


def synthetic_latency(sources):
    # a known linear law over the classes: the fit on the full per-class set must recover it
    X = device.feature_matrix(sources, "full")
    names = device.feature_names("full")
    w = np.zeros(len(names))
    w[names.index("inference")] = 0.05
    w[names.index("full.conv_dense.flops")] = 2e-9
    w[names.index("full.conv_pointwise.flops")] = 5e-9
    w[names.index("full.elementwise.bytes")] = 1e-8
    return X @ w


def test_fit_end_to_end_save_load(tmp_path):
    train = nas_sources(24)
    model = device.fit(train, synthetic_latency(train))
    test = [nas.nasbench201(i) for i in (5, 777, 9000)]
    pred, truth = model.predict(test), synthetic_latency(test)
    assert np.allclose(pred, truth, rtol=0.02)
    path = tmp_path / "dev.json"
    model.save(path)
    loaded = device.load(path)
    assert loaded.feature_set == model.feature_set and loaded.quantity == "latency_ms"
    assert np.array_equal(loaded.predict(test), pred)
    assert "median error" in loaded.summary()
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a netscore_fast device model"):
        device.load(tmp_path / "bad.json")


def test_profile_many_device_column_and_latency_metrics(tmp_path):
    train = nas_sources(12)
    model = device.fit(train, synthetic_latency(train))
    rows = [nas.nasbench201(i) for i in (1, 2, 3)] + [b"broken"]
    acc = [90.0, 91.0, 92.0, 50.0]
    table = profile_many(rows, accuracy=acc, device=model, progress=False)
    lat = table["latency_ms"]
    assert np.allclose(lat[:3], model.predict(rows[:3])) and np.isnan(lat[3])
    model.save(tmp_path / "m.json")
    by_path = profile_many(iter(rows[:3]), device=str(tmp_path / "m.json"), progress=False)
    assert np.allclose(by_path["latency_ms"], lat[:3])
    expected = 20 * (2 * np.log10(90.0) - 0.5 * np.log10(table["params"][0] / 1e6) - 0.5 * np.log10(lat[0]))
    assert table["netscore_latency"][0] == pytest.approx(expected)
    assert table["accuracy_per_ms"][0] == pytest.approx(90.0 / lat[0])
    front = table.pareto(maximize=["accuracy"], minimize=["latency_ms"])
    assert 1 <= len(front) <= 3
    assert metrics.netscore_latency(50, 1e6, 1) == pytest.approx(20 * 2 * math.log10(50))
    with pytest.raises(KeyError, match="latency_ms"):
        profile_many(rows[:1], accuracy=[90.0], progress=False)["netscore_latency"]


def test_energy_is_nan_with_a_reason_without_rapl(monkeypatch, tmp_path):
    monkeypatch.setattr(device._Rapl, "ROOT", str(tmp_path / "no-powercap"))
    rapl = device._Rapl()
    assert rapl.read_uj() is None and "does not exist" in rapl.note


def test_measure_runtime_two_tiny_models(monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(device._Rapl, "ROOT", str(tmp_path / "no-powercap"))
    small, large = conv_model(4, 4, 1, 1, hw=4), conv_model(16, 32, 3, 1, hw=32)
    calls = []
    r = device.measure_runtime([("small", small), ("large", large), ("bad", b"junk")], min_runs=3,
                               min_time=0.01, warmup=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert r.names == ["small", "large", "bad"] and len(r) == 3
    assert np.all(r.latency_ms[:2] > 0) and np.isnan(r.latency_ms[2]) and "bad" in r.errors
    assert np.isnan(r.energy_mj).all() and "no energy counter" in r.energy_note
    assert r.threads == 1 and r.runtime == "onnxruntime"
    with pytest.raises(ValueError, match="runtime"):
        device.measure_runtime([small], runtime="tflite")


def test_measure_runtime_thread_clock_and_quantile(monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(device._Rapl, "ROOT", str(tmp_path / "no-powercap"))
    small, large = conv_model(4, 4, 1, 1, hw=4), conv_model(32, 32, 3, 1, hw=32)
    # 32x32 outputs x 32 x 32 x 9 weights = 9.4 MMACs against 64 MACs: the thread's CPU time tells them apart
    r = device.measure_runtime([small, large], clock="thread", quantile=0.1, min_runs=5, min_time=0.01, warmup=1,
                               progress=False)
    assert 0 < r.latency_ms[0] < r.latency_ms[1]
    with pytest.raises(ValueError, match="threads=1"):
        device.measure_runtime([small], clock="thread", threads=2)
    with pytest.raises(ValueError, match="clock"):
        device.measure_runtime([small], clock="cycles")
    with pytest.raises(ValueError, match="quantile"):
        device.measure_runtime([small], quantile=1.5)


def test_time_runs_takes_the_quantile_asked_for():
    times = iter([0.0, 1.0, 1.0, 3.0, 3.0, 4.0, 4.0, 14.0] * 4)   # runs of 1, 1, 10 and (wrapping) again
    device.CLOCKS["fake"] = lambda: next(times)
    try:
        rapl = device._Rapl.__new__(device._Rapl)
        rapl.path = None
        low, _, _ = device._time_runs(lambda: None, 4, 0.0, 0, rapl, quantile=0.0, clock="fake")
        mid, _, _ = device._time_runs(lambda: None, 4, 0.0, 0, rapl, quantile=0.5, clock="fake")
    finally:
        del device.CLOCKS["fake"]
    assert low == 1.0 and mid == 1.5   # times 1, 2, 1, 10: the minimum, and the median of 1, 1, 2, 10


def test_cli_device_column(tmp_path):
    from netscore_fast.cli import main
    from netscore_fast.table import ProfileTable
    train = nas_sources(12)
    model = device.fit(train, synthetic_latency(train))
    model.save(tmp_path / "m.json")
    out = tmp_path / "nas.csv"
    assert main(["nas", "nasbench201", "--limit", "4", "--out", str(out), "--device", str(tmp_path / "m.json")]) == 0
    table = ProfileTable.read(out)
    expected = model.predict([parts for _, parts in nas.nasbench201_models(limit=4)])
    assert np.allclose(table["latency_ms"], expected)
    path = tmp_path / "one.onnx"
    path.write_bytes(nas.nasbench201(3))
    out = tmp_path / "one.csv"
    assert main(["profile", str(path), "--device", str(tmp_path / "m.json"), "--out", str(out)]) == 0
    assert np.allclose(ProfileTable.read(out)["latency_ms"], model.predict([str(path)]))


def test_fit_candidate_feature_sets():
    train = nas_sources(12)
    y = synthetic_latency(train)
    model = device.fit(train, y, feature_sets=["fused"])
    assert model.feature_set == "fused" and model.feature_names == device.feature_names("fused")
    assert [c["feature_set"] for c in model.cv["candidates"]] == ["fused"] * len(device.RIDGES)
    assert {c["feature_set"] for c in device.fit(train, y).cv["candidates"]} == set(device.DEFAULT_FEATURE_SETS)
    with pytest.raises(ValueError, match="unknown feature set"):
        device.fit(train, y, feature_sets=["fastest"])
