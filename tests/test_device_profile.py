"""Device profiles (netscore_fast.device.measure / load / DeviceProfile.predict): the JSON format and its
version check, resuming an interrupted measurement, zero-shot prediction against sums computed here from the
JSON and bench.measure's layer rows, curves for configurations not measured, failed models, layers priced
in the walk against per-layer rows and profile_many(device=...) in one walk against totals + predict, the
CLI, and fit(profile=...)."""
import json
import math
import pathlib

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from netscore_fast import _core, bench, device, device_profile, nas, profile, profile_many  # noqa: E402


def _w(name, dims):
    return helper.make_tensor(name, TensorProto.FLOAT, dims, np.full(int(np.prod(dims)), 0.01, np.float32).tolist())


def small_net(channels=8, hw=16, convs=3, classes=10):
    """Conv(3->c)+BN+Relu, then `convs - 1` identical Conv(c->c)+BN+Relu, MaxPool 2x2, GlobalAveragePool,
    Flatten, Gemm: every kernel layer of one op class shares one configuration, except the first conv."""
    nodes, inits = [], []
    x = "x"
    for i in range(convs):
        cin = 3 if i == 0 else channels
        inits.append(_w(f"w{i}", [channels, cin, 3, 3]))
        inits += [_w(f"bn{i}.{s}", [channels]) for s in "sbmv"]
        nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1], name=f"conv{i}"))
        nodes.append(helper.make_node("BatchNormalization", [f"c{i}"] + [f"bn{i}.{s}" for s in "sbmv"], [f"b{i}"],
                                      name=f"bn{i}"))
        nodes.append(helper.make_node("Relu", [f"b{i}"], [f"r{i}"], name=f"relu{i}"))
        x = f"r{i}"
    nodes.append(helper.make_node("MaxPool", [x], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"))
    nodes.append(helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["g"], ["f"], name="flatten"))
    inits += [_w("fc.w", [classes, channels]), _w("fc.b", [classes])]
    nodes.append(helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], transB=1, name="fc"))
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def fake_timer(calls):
    """A stand-in for the kernels: a distinct, deterministic time per configuration (a function of its key),
    counted in `calls`."""
    def time_config(key, threads, min_time):
        calls.append(key)
        info = dict(_core.device_config_info(key))
        # 1 us fixed + 1 ns per kFLOP + 1 ns per 100 bytes: monotone in size, distinct per configuration
        info.update(seconds=1e-6 + info["flops"] * 1e-12 + info["bytes"] * 1e-11, iqr_s=0.0, samples=1,
                    kernel="fake", isa="fake")
        return info
    return time_config


@pytest.fixture
def fake_kernels(monkeypatch):
    calls = []
    monkeypatch.setattr(device_profile, "_time_config", fake_timer(calls))
    return calls


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A real profile of small_net (our kernels, short timings), measured once for the module."""
    path = tmp_path_factory.mktemp("profile") / "device.json"
    prof = device.measure([small_net()], out=path, min_time=0.002, whole_models=1, progress=False)
    return prof, path


# --- keys ------------------------------------------------------------------------------------------------

def test_configuration_keys_parse_back():
    curve, trivial = _core.device_curve_keys()
    counts, status, _ = _core.device_configs_batch([small_net()], ["small"], [], 1, 1)
    assert status.tolist() == [0]
    for key in list(curve) + list(trivial) + list(counts):
        info = _core.device_config_info(key)
        assert info["class"] in _core.DEVICE_CURVE_CLASSES and info["bytes"] > 0
    for bounds in ["0.5,2.25", "-inf,inf", "-0,6", "1e+06,1.5e+07", "0.1,-3"]:   # clip bounds as %g writes them
        assert _core.device_config_info(f"unary|3,{bounds}|100")["class"] == "unary"
    conv = "conv|0,0,0|1,16,32,32,16,3,3,1,1,1,1,1,1,1,1,1,0"
    assert _core.device_config_info(conv)["class"] == "conv_dense"
    hostile = [conv.replace(",3,3,1,1,", ",3,3,0,1,"), conv.replace("|1,16,", "|1,-16,"),   # stride 0, channels < 0
               conv.replace(",1,1,1,0", ",1,1,0,0"), conv.replace("|1,16,32", "|1,16,99999999999")]  # group 0, huge
    for bad in ["", "conv", "conv|1,0,0|1,2,3", "nope|0,0,0|1", curve[0] + ",7", curve[0].replace("|1,", "|x,", 1),
                *hostile]:
        with pytest.raises(ValueError, match="configuration key"):
            _core.device_config_info(bad)


def test_configs_match_bench_measure_plan():
    # The profile's layer configurations are bench.measure's: one per distinct timed row, with its FLOPs.
    counts, _, _ = _core.device_configs_batch([small_net()], ["small"], [], 1, 1)
    table = bench.measure(small_net(), min_time=0.001, sequence=False)
    measured_rows = [r for r in table if r["status"] == bench.MEASURED]
    assert sum(counts.values()) == len(measured_rows)
    assert len(counts) == len({r["config_id"] for r in measured_rows}) == 5   # conv0, conv1-2, pool, gap, gemm
    by_flops = sorted(int(_core.device_config_info(k)["flops"]) for k in counts)
    assert by_flops == sorted({int(r["flops"]) for r in measured_rows})


# --- format ----------------------------------------------------------------------------------------------

def test_format_round_trip_and_dispatch(measured, tmp_path):
    prof, path = measured
    data = json.loads(path.read_text())
    assert data["format"] == "netscore_fast.device.profile" and data["version"] == 1
    assert data["complete"] is True and data["threads"] == 1
    for field in ("model", "isa_active", "netscore_fast_version"):
        assert data["machine"][field]
    assert data["created"] and data["updated"] and data["measure_time_s"] > 0
    loaded = device.load(path)               # dispatch on "format"
    assert isinstance(loaded, device.DeviceProfile)
    assert loaded.data == data
    loaded.save(tmp_path / "copy.json")
    assert json.loads((tmp_path / "copy.json").read_text()) == data
    src = [small_net(), small_net(channels=16)]
    assert np.array_equal(loaded.predict(src), device.load(tmp_path / "copy.json").predict(src))


@pytest.mark.parametrize("change, message", [
    ({"version": 2}, "version 2"),
    ({"version": None}, "version None"),
    ({"format": "something.else"}, "not a netscore_fast device"),
])
def test_wrong_format_or_version_names_the_file(measured, tmp_path, change, message):
    data = dict(measured[0].data, **change)
    bad = tmp_path / "bad-profile.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message) as err:
        device.load(bad)
    assert "bad-profile.json" in str(err.value)
    with pytest.raises(ValueError, match="bad-profile.json"):
        device_profile.load_profile(bad)


def test_a_profile_with_a_bad_entry_names_the_file(measured, tmp_path):
    data = json.loads(measured[1].read_text())
    key = next(iter(data["configs"]))
    data["configs"]["conv|0,0,0|1,16,32,32,16,3,3,0,1,1,1,1,1,1,1,1,0"] = dict(data["configs"][key])
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="edited.json.*configuration key"):
        device.load(bad).predict([small_net()])
    data["configs"][key]["seconds"] = -1.0
    del data["configs"]["conv|0,0,0|1,16,32,32,16,3,3,0,1,1,1,1,1,1,1,1,0"]
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="edited.json.*>= 0"):
        device.load(bad).predict([small_net()])


# --- resuming ----------------------------------------------------------------------------------------------

def test_interrupted_measurement_resumes_with_only_the_rest(fake_kernels, monkeypatch, tmp_path):
    out = tmp_path / "device.json"
    real = device_profile._time_config
    stop_after = 7

    def interrupting(key, threads, min_time):
        if len(fake_kernels) == stop_after:
            raise KeyboardInterrupt
        return real(key, threads, min_time)

    monkeypatch.setattr(device_profile, "_time_config", interrupting)
    src = [small_net(), small_net(channels=16, convs=2)]
    with pytest.raises(KeyboardInterrupt):
        device.measure(src, out=out, whole_models=0, progress=False)
    partial = json.loads(out.read_text())
    assert partial["complete"] is False
    assert sum(len(partial[s]) for s in ("configs", "curves", "trivial")) == stop_after

    monkeypatch.setattr(device_profile, "_time_config", real)
    first = list(fake_kernels)
    prof = device.measure(src, out=out, whole_models=0, progress=False)
    again = fake_kernels[len(first):]
    total = len(prof.configs) + len(prof.curves) + len(prof.data["trivial"])
    assert len(again) == total - stop_after
    assert not set(again) & set(first)                 # nothing timed twice
    assert prof.data["complete"] is True
    # A complete profile: a rerun times nothing.
    before = len(fake_kernels)
    device.measure(src, out=out, whole_models=0, progress=False)
    assert len(fake_kernels) == before
    # Another model adds only its new configurations.
    device.measure([small_net(channels=24)], out=out, whole_models=0, progress=False)
    new = fake_kernels[before:]
    assert new and all(k not in prof.configs for k in new)


def test_resume_refuses_another_thread_count(fake_kernels, tmp_path):
    out = tmp_path / "device.json"
    device.measure([small_net()], out=out, whole_models=0, progress=False)
    with pytest.raises(ValueError, match="thread"):
        device.measure([small_net()], out=out, threads=2, whole_models=0, progress=False)


def test_progress_callable(fake_kernels, tmp_path):
    seen = []
    device.measure([small_net()], out=None, whole_models=0, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)


# --- prediction --------------------------------------------------------------------------------------------

_CLASS_OF_OP = {"MaxPool": "maxpool", "GlobalAveragePool": "globalavgpool", "Gemm": "gemm"}


def test_prediction_is_the_sum_of_the_measured_layers(measured):
    prof, path = measured
    data = json.loads(path.read_text())
    # Independently of the C++ lookup: bench.measure's rows of the model, each priced from the JSON by its
    # op class (one configuration per class here) or, for the convolutions, by its FLOPs.
    conv_by_flops = {round(v["flops"]): v["seconds"] for v in data["configs"].values() if v["class"] == "conv_dense"}
    by_class = {v["class"]: v["seconds"] for v in data["configs"].values() if v["class"] != "conv_dense"}
    rows = [r for r in bench.measure(small_net(), min_time=0.001, sequence=False) if r["status"] == bench.MEASURED]
    expected = data["fixed"]["per_inference_s"]
    for r in rows:
        if r["op_type"] == "Conv":   # the two conv configurations differ ~3x in FLOPs: the nearest is its own
            expected += conv_by_flops[min(conv_by_flops, key=lambda f: abs(f / r["flops"] - 1))]
        else:
            expected += by_class[_CLASS_OF_OP[r["op_type"]]]
    got = prof.predict([small_net()])
    assert got[0] == pytest.approx(expected * 1e3, rel=1e-9)
    d = prof.predict_details([small_net()])
    assert d["exact"].tolist() == [len(rows)] and d["interpolated"].tolist() == [0]


def test_prediction_with_fake_kernels_equals_formula(fake_kernels, tmp_path):
    # With the stand-in timer every configuration costs 1 us + flops * 1e-12 + bytes * 1e-11; the sum over
    # bench.measure's timed layers (weights: counted once per layer) is recomputed here from the analysis.
    prof = device.measure([small_net()], out=None, whole_models=0, progress=False)
    rows = [r for r in bench.measure(small_net(), min_time=0.001, sequence=False) if r["status"] == bench.MEASURED]
    assert prof.predict([small_net()])[0] == pytest.approx(
        sum(prof.configs[k]["seconds"] * v["layers"] for k, v in prof.configs.items()) * 1e3, rel=1e-12)
    assert sum(v["layers"] for v in prof.configs.values()) == len(rows)


def test_unknown_configurations_use_monotone_curves(measured):
    prof, _ = measured
    table = prof.table()
    for cls in _core.DEVICE_CURVE_CLASSES:
        work = np.logspace(0, 11, 60)
        t = np.array([table.curve_seconds(cls, w) for w in work])
        assert np.all(np.isfinite(t)) and np.all(t > 0), cls
        assert np.all(np.diff(t) >= -1e-15 * t[1:]), cls
    # Wider networks than any measured: interpolated, never faster as they grow.
    widths = [24, 40, 64, 96]
    pred = prof.predict([small_net(channels=c, hw=32) for c in widths])
    d = prof.predict_details([small_net(channels=c, hw=32) for c in widths])
    assert np.all(d["interpolated"] > 0)
    assert np.all(np.diff(pred) > 0)
    # An interpolated conv costs its curve's value at its FLOPs (the analysis' count: 2 per MAC, plus bias
    # adds, which the kernel configuration does not count: a relative difference under 1e-3 here).
    conv = small_net(channels=40, hw=32, convs=2)
    layers = profile(conv).layers
    flops = [layer["flops"] for layer in layers if layer["op_type"] == "Conv"]
    d = prof.predict_details([conv])
    expected_ms = sum(table.curve_seconds("conv_dense", f) for f in flops) * 1e3
    assert d["per_class_ms"]["conv_dense"][0] == pytest.approx(expected_ms, rel=2e-3)


def test_models_that_cannot_be_analysed_get_nan(measured):
    prof, _ = measured
    bad = helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])], "bad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [_w("w", [4, 5, 3, 3])]), opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    d = prof.predict_details([small_net(), ("garbage", b"\x08\x01\x12\xff"), ("bad", bad), small_net()])
    pred = d["latency_ms"]
    assert np.isfinite(pred[0]) and np.isnan(pred[1]) and np.isnan(pred[2]) and pred[3] == pred[0]
    assert set(d["errors"]) == {"garbage", "bad"}
    assert "bad" in d["errors"]["bad"]


def test_profile_many_device_column(measured):
    prof, path = measured
    src = [parts for _, parts in nas.nasbench201_models(limit=3)] + [small_net()]
    for dev in (prof, str(path)):
        table = profile_many(src, device=dev)
        assert np.allclose(table["latency_ms"], prof.predict(src))


def test_nasbench201_space_has_few_distinct_configurations():
    counts, status, _ = _core.device_configs_batch([p for _, p in nas.nasbench201_models(limit=300)],
                                                   [str(i) for i in range(300)], [], 1, 0)
    assert not status.any()
    # stem, 3 stages x (conv 1x1 / 3x3, with and without a fused residual, ...), reductions, head
    assert 20 <= len(counts) <= 60


# --- one walk per model -----------------------------------------------------------------------------------
# DeviceProfile.predict prices layers during the walk (an observer keeping the layers without names), and
# profile_many(device=...) takes its predictions from the walk that counts the totals. Both must give the
# numbers of the paths they replace to the last bit: per-layer rows planned as bench.measure plans them
# (predict_batch(layer_rows=True)), and profile_many's totals next to a separate device.predict.

RESULTS_PROFILE = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "device_profile.json"
EXPORTS = pathlib.Path(__file__).resolve().parent / "fixtures" / "exports"


def _if_net():
    """An If on a shape-derived condition (a subgraph: the walk's observer does not see its layers) around a
    conv, then a Relu."""
    w = helper.make_tensor("W", TensorProto.FLOAT, [4, 3, 3, 3], np.full(108, 0.1, np.float32).tolist())
    then = helper.make_graph([helper.make_node("Conv", ["x", "W"], ["t"], pads=[1, 1, 1, 1])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    other = helper.make_graph([helper.make_node("Conv", ["x", "W"], ["e"], pads=[1, 1, 1, 1], strides=[2, 2])],
                              "else", [], [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("ReduceSum", ["s"], ["n"], keepdims=0),
             helper.make_node("Greater", ["n", "limit"], ["cond"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=then, else_branch=other),
             helper.make_node("Relu", ["y"], ["z"])]
    limit = helper.make_tensor("limit", TensorProto.INT64, [], [10])
    graph = helper.make_graph(nodes, "if", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], [w, limit])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


@pytest.fixture(scope="module")
def many_models():
    """The zoo, NAS-Bench-201 networks across the space, torch exports (dynamo's carry local functions), an
    If, small_net and models that fail."""
    from netscore_fast import zoo
    out = [(f"zoo-{n}", zoo.build(n)) for n in zoo.names()]
    out += [(f"nas-{i}", nas.nasbench201(i)) for i in range(0, 15625, 97)]
    out += [(p.stem, str(p)) for p in sorted(EXPORTS.glob("*.onnx"))]
    out += [("if", _if_net()), ("small", small_net()), ("garbage", b"\x08\x01\x12\xff"),
            ("missing", str(EXPORTS / "no-such-model.onnx"))]
    return out


def _profiles(measured):
    out = [measured[0]]
    if RESULTS_PROFILE.exists():   # this machine's profile of the NAS-Bench-201 space and the zoo
        out.append(device.load(RESULTS_PROFILE))
    return out


def test_prices_in_the_walk_equal_the_layer_rows(measured, many_models):
    names, payloads = [n for n, _ in many_models], [p for _, p in many_models]
    for prof in _profiles(measured):
        table = prof.table()
        for threads in (1, 2):
            got = table.predict_batch(payloads, names, [], 1, threads)
            ref = table.predict_batch(payloads, names, [], 1, threads, layer_rows=True)
            for g, r in zip(got[:3], ref[:3]):   # seconds, per class, layer counts: bit for bit
                assert np.array_equal(g, r, equal_nan=True)
            assert got[3].tolist() == ref[3].tolist() and list(got[4]) == list(ref[4])
        ok = got[3] == 0
        assert ok.sum() == len(many_models) - 2 and np.all(np.isfinite(got[0][ok]))
        assert got[3].tolist()[-2:] == [1, 3]   # a model error, a file error
        assert np.all(got[2][ok].sum(axis=1) > 0)   # every model has priced layers
    # the If's branch is priced too (its layers come from rows), not only the Relu after it
    d = prof.predict_details([_if_net()])
    assert d["interpolated"][0] + d["exact"][0] >= 2


@pytest.fixture(scope="module")
def calibrated(measured):
    """Calibrated models fitted on NAS-Bench-201 networks: on the analysis' class features, and on a
    profile's per-class predictions."""
    pytest.importorskip("scipy")
    prof = measured[0]
    train = [(f"nas-{i}", nas.nasbench201(i)) for i in range(3, 15625, 499)]
    d = prof.predict_details(train)
    y = 2 * d["per_class_ms"]["conv_dense"] + d["latency_ms"] + 0.03
    return device.fit(train, y, feature_sets=["full", "fused_coarse"]), device.fit(train, y, profile=prof)


def test_profile_many_with_a_device_walks_each_model_once(measured, calibrated, many_models, monkeypatch,
                                                         tmp_path):
    from netscore_fast import _core
    from netscore_fast.table import COUNT_COLUMNS
    base = profile_many(many_models, progress=False)
    devices = [*_profiles(measured), *calibrated]
    expected = [dev.predict(many_models) for dev in devices]
    calls = []
    # one walk: neither profile_batch nor a separate predict
    monkeypatch.setattr(_core, "profile_batch", lambda *a, **k: calls.append("profile_batch"))
    for dev, want in zip(devices, expected):
        monkeypatch.setattr(type(dev), "predict", lambda self, *a, **k: calls.append("predict"))
        for threads, chunk in ((1, 1000), (2, 17)):
            table = profile_many(many_models, progress=False, device=dev, threads=threads, chunk_size=chunk)
            assert not calls
            got = np.asarray(table[dev.quantity])
            differ = np.nonzero(~((got == want) | (np.isnan(got) & np.isnan(want))))[0]   # bit for bit
            assert not len(differ), (dev.column, threads, chunk, differ, got[differ] - want[differ])
            for column in COUNT_COLUMNS:
                assert np.array_equal(table[column], base[column], equal_nan=True), column
            assert list(table["error"]) == list(base["error"])
        monkeypatch.undo()
        monkeypatch.setattr(_core, "profile_batch", lambda *a, **k: calls.append("profile_batch"))
    monkeypatch.undo()
    # a cache: its hits are predicted by the device model, its misses in the walk; the same column
    db = tmp_path / "c.db"
    half = many_models[::2]
    profile_many(half, progress=False, cache=db)
    for dev, want in zip(devices, expected):
        table = profile_many(many_models, progress=False, device=dev, cache=db, chunk_size=50)
        assert np.array_equal(table[dev.quantity], want, equal_nan=True)
        assert np.array_equal(table["macs"], base["macs"], equal_nan=True)
    # other options than the device model's (batch 2): two walks, each with its own options, as before
    for dev in devices:
        table = profile_many(many_models[:20], progress=False, device=dev, batch_size=2)
        assert np.array_equal(table[dev.quantity], dev.predict(many_models[:20]), equal_nan=True)
        assert np.array_equal(table["macs"], profile_many(many_models[:20], progress=False, batch_size=2)["macs"],
                              equal_nan=True)


@pytest.mark.parametrize("kind", ["profile", "calibrated"])
def test_profile_many_with_a_device_stops_and_keeps_finished_rows(measured, calibrated, kind):
    # Cancelled mid-walk (what Ctrl-C does): a KeyboardInterrupt whose table holds the rows finished, a prefix
    # of the sources with profile_many's counts, as without a device; the flag cleared, the next call runs.
    import threading
    from netscore_fast import _core
    dev = measured[0] if kind == "profile" else calibrated[0]
    nets = [(f"nas-{i}", nas.nasbench201(i)) for i in range(6000)]
    timer = threading.Timer(0.1, _core.cancel)   # the walk takes about 1 s here
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            profile_many(nets, progress=False, device=dev, threads=1, chunk_size=100000)
    finally:
        timer.join()
        _core.clear_cancel()
    table = info.value.table
    rows = len(table)
    assert 1 <= rows < len(nets)
    assert list(table["source"]) == [n for n, _ in nets[:rows]]
    assert np.array_equal(table["macs"], profile_many(nets[:rows], progress=False)["macs"])
    assert np.array_equal(profile_many(nets[:3], progress=False, device=dev)[dev.column], dev.predict(nets[:3]))


# --- CLI and fit -----------------------------------------------------------------------------------------------

def test_cli_measure_predict_and_profile_device(fake_kernels, tmp_path, capsys):
    from netscore_fast.cli import main
    from netscore_fast.table import ProfileTable
    model = tmp_path / "small.onnx"
    model.write_bytes(small_net())
    out = tmp_path / "device.json"
    assert main(["device", "measure", str(model), "--out", str(out), "--no-progress"]) == 0
    assert "layer configurations" in capsys.readouterr().out
    prof = device.load(out)
    assert len(prof.configs) == 5
    assert main(["device", "predict", "--profile", str(out), str(model)]) == 0
    line = capsys.readouterr().out.strip()
    assert float(line.split()[0]) == pytest.approx(prof.predict([str(model)])[0], abs=1e-4)
    csv = tmp_path / "t.csv"
    assert main(["profile", str(model), "--device", str(out), "--out", str(csv)]) == 0
    assert np.allclose(ProfileTable.read(csv)["latency_ms"], prof.predict([str(model)]))
    assert main(["device", "measure", "--out", str(out)]) == 2     # neither models nor a space


def test_fit_with_a_profile(fake_kernels, tmp_path):
    pytest.importorskip("scipy")
    train = [parts for _, parts in nas.nasbench201_models(limit=400)][::20]
    prof = device.measure(train, out=None, whole_models=0, progress=False)
    # A runtime 3x slower than the profile on dense convolutions, as fast elsewhere, plus 0.05 ms per call.
    d = prof.predict_details(train)
    pc = d["per_class_ms"]
    measured = 3 * pc["conv_dense"] + (d["latency_ms"] - pc["conv_dense"]) + 0.05
    model = device.fit(train, measured, profile=prof)
    assert model.feature_set in device_profile.PROFILE_FEATURE_SETS
    assert model.cv["mdape_pct"] < 2
    test = [parts for _, parts in nas.nasbench201_models(limit=1000)][500::50]
    dt = prof.predict_details(test)
    truth = 3 * dt["per_class_ms"]["conv_dense"] + (dt["latency_ms"] - dt["per_class_ms"]["conv_dense"]) + 0.05
    assert np.median(np.abs(model.predict(test) / truth - 1)) < 0.02
    model.save(tmp_path / "m.json")
    assert np.allclose(device.load(tmp_path / "m.json").predict(test), model.predict(test))
    assert np.allclose(device.fit(train, measured, profile=str(_save(prof, tmp_path))).predict(test),
                       model.predict(test))


def _save(prof, tmp_path):
    path = tmp_path / "p.json"
    prof.save(path)
    return path


# --- accuracy sanity (timing: loose) -------------------------------------------------------------------------

@pytest.mark.slow
def test_zero_shot_within_a_factor_of_two_of_bench_measure(tmp_path):
    from netscore_fast import zoo
    names = ["mobilenet_v1_0.25_128", "squeezenet1_1", "shufflenet_v2_x0_5"]
    models = [zoo.build(n) for n in names]
    prof = device.measure(models, out=tmp_path / "zoo.json", min_time=0.01, whole_models=1, progress=False)
    pred = prof.predict(models)
    for name, model, ms in zip(names, models, pred):
        measured_ms = bench.measure(model, min_time=0.01, sequence=False).total_s * 1e3
        assert 0.5 < ms / measured_ms < 2, (name, ms, measured_ms)
