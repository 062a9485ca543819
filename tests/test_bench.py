"""Structure of the bench layer (not timing): per-node rows, kernel choice, caching, JSON, CLI, cpu_info.

Every expected count here is derived by hand from the model built in the test (written out next to
the assertion) or taken from an independent source (os.cpu_count, numpy, the ONNX operator spec).
"""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from netscore_fast import ModelError, bench  # noqa: E402
from netscore_fast.cli import main as cli_main  # noqa: E402

TINY = 1e-4  # seconds of timing per measurement: structure only


def _w(rng, *shape):
    return (rng.standard_normal(shape) * 0.1).astype(np.float32)


def small_model():
    """x[1,8,16,16] -> conv3x3(8->8)+BN+Relu -> conv3x3(8->8)+Relu (identical config to the first after
    BN folding) -> conv3x3(8->8)+Relu (same again) -> MaxPool 2x2 s2 -> depthwise 3x3 (8 groups)+Clip(0,6)
    -> pointwise 1x1 8->16 -> Add(itself twice, broadcast-free) -> Softmax (no kernel) -> GlobalAveragePool
    -> Flatten -> Gemm 16->10."""
    rng = np.random.default_rng(7)
    inits = [
        numpy_helper.from_array(_w(rng, 8, 8, 3, 3), "w1"), numpy_helper.from_array(_w(rng, 8), "b1"),
        numpy_helper.from_array(np.ones(8, np.float32), "bn_s"), numpy_helper.from_array(_w(rng, 8), "bn_b"),
        numpy_helper.from_array(np.zeros(8, np.float32), "bn_m"),
        numpy_helper.from_array(np.ones(8, np.float32), "bn_v"),
        numpy_helper.from_array(_w(rng, 8, 8, 3, 3), "w2"), numpy_helper.from_array(_w(rng, 8), "b2"),
        numpy_helper.from_array(_w(rng, 8, 8, 3, 3), "w3"), numpy_helper.from_array(_w(rng, 8), "b3"),
        numpy_helper.from_array(_w(rng, 8, 1, 3, 3), "wd"), numpy_helper.from_array(_w(rng, 8), "bd"),
        numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi"),
        numpy_helper.from_array(_w(rng, 16, 8, 1, 1), "wp"), numpy_helper.from_array(_w(rng, 16), "bp"),
        numpy_helper.from_array(_w(rng, 10, 16), "wf"), numpy_helper.from_array(_w(rng, 10), "bf"),
    ]
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", **conv),
        helper.make_node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["n1"], name="bn1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv3", **conv),
        helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        helper.make_node("MaxPool", ["r3"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "wd", "bd"], ["d"], name="dw", group=8, **conv),
        helper.make_node("Clip", ["d", "lo", "hi"], ["d6"], name="relu6"),
        helper.make_node("Conv", ["d6", "wp", "bp"], ["pw"], name="pw", kernel_shape=[1, 1]),
        helper.make_node("Add", ["pw", "pw"], ["s"], name="add"),
        helper.make_node("Softmax", ["s"], ["sm"], name="softmax", axis=1),
        helper.make_node("GlobalAveragePool", ["sm"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


@pytest.fixture(scope="module")
def small():
    return small_model()


@pytest.fixture(scope="module")
def small_table(small):
    return bench.measure(small, min_time=TINY)


def _rows(table):
    return {r["name"]: r for r in table}


def test_measure_one_row_per_node_in_order(small, small_table):
    assert len(small_table) == len(small.graph.node)
    assert [r["name"] for r in small_table] == [n.name for n in small.graph.node]
    assert [r["op_type"] for r in small_table] == [n.op_type for n in small.graph.node]


def test_measure_statuses_follow_runtime_fusion(small_table):
    rows = _rows(small_table)
    # conv1 absorbs BatchNormalization (folded) and Relu (fused); conv2/conv3 fuse their Relu; dw fuses Clip.
    assert rows["bn1"]["status"] == "folded" and "conv1" in rows["bn1"]["note"]
    for act, conv in (("relu1", "conv1"), ("relu2", "conv2"), ("relu3", "conv3"), ("relu6", "dw")):
        assert rows[act]["status"] == "fused", act
        assert conv in rows[act]["note"]
        assert rows[act]["median_s"] == 0.0
    assert rows["flatten"]["status"] == "noop" and rows["flatten"]["median_s"] == 0.0
    for name in ("conv1", "conv2", "conv3", "pool", "dw", "pw", "add", "gap", "fc"):
        assert rows[name]["status"] == "measured", name
        assert rows[name]["median_s"] > 0 and rows[name]["kernel"], name
        assert rows[name]["q1_s"] <= rows[name]["median_s"] <= rows[name]["q3_s"]


def test_unmeasured_nodes_are_listed_not_zero(small_table):
    rows = _rows(small_table)
    assert rows["softmax"]["status"] == "unmeasured"
    assert math.isnan(rows["softmax"]["median_s"])
    assert "Softmax" in rows["softmax"]["note"]
    assert small_table.unmeasured == ["softmax"]
    # The total excludes the unknown time rather than counting it as zero silently: it is the sum of the rest.
    known = [r["median_s"] for r in small_table if not math.isnan(r["median_s"])]
    assert small_table.total_s == pytest.approx(sum(known))


def test_kernels_named_by_conv_kind(small_table):
    rows = _rows(small_table)
    assert "dwconv" in rows["dw"]["kernel"]
    assert "dwconv" not in rows["conv1"]["kernel"]
    assert "gemv" in rows["fc"]["kernel"] or "gemm" in rows["fc"]["kernel"]
    assert "pool" in rows["pool"]["kernel"]
    assert "gavgpool" in rows["gap"]["kernel"] or "global" in rows["gap"]["kernel"]
    assert rows["add"]["kernel"]


def test_identical_layers_timed_once(small_table):
    rows = _rows(small_table)
    # conv1 (+BN folded, +Relu), conv2 (+Relu) and conv3 (+Relu): after folding, one configuration
    # (8->8, 3x3, pad 1, 16x16, bias, relu): timed once, the others reuse the timing.
    ids = {rows[n]["config_id"] for n in ("conv1", "conv2", "conv3")}
    assert len(ids) == 1
    assert [rows[n]["timed"] for n in ("conv1", "conv2", "conv3")] == [True, False, False]
    assert rows["conv2"]["median_s"] == rows["conv1"]["median_s"] == rows["conv3"]["median_s"]
    # Distinct configurations: conv 3x3, maxpool, depthwise, pointwise, add, global pool, gemm = 7.
    assert int(small_table["timed"].sum()) == 7
    measured = [r for r in small_table if r["status"] == "measured"]
    assert len({r["config_id"] for r in measured}) == 7


def test_flops_match_hand_counts(small_table):
    rows = _rows(small_table)
    # Conv: 2 FLOPs per MAC; MACs = C_out * H_out * W_out * (C_in / group) * kh * kw.
    assert rows["conv1"]["flops"] >= 2 * 8 * 16 * 16 * 8 * 9
    assert rows["dw"]["flops"] >= 2 * 8 * 8 * 8 * 1 * 9
    assert rows["pw"]["flops"] >= 2 * 16 * 8 * 8 * 8
    assert rows["fc"]["flops"] >= 2 * 16 * 10
    for name in ("conv1", "dw", "pw", "fc"):  # GFLOP/s is FLOPs over the median time
        r = rows[name]
        assert r["gflops"] == pytest.approx(r["flops"] / r["median_s"] * 1e-9, rel=1e-6)
    # Add: inputs + output, float32: 3 tensors of 16*8*8 values.
    assert rows["add"]["bytes"] >= 3 * 16 * 8 * 8 * 4


def test_measure_accepts_path_bytes_and_modelproto(small, tmp_path):
    path = tmp_path / "small.onnx"
    onnx.save(small, str(path))
    for source in (str(path), path, small.SerializeToString()):
        t = bench.measure(source, min_time=TINY)
        assert len(t) == len(small.graph.node)


def test_measure_rejects_garbage():
    with pytest.raises(ModelError):
        bench.measure(b"\x08\x07\x12\xff\xff\xff", min_time=TINY)


def test_json_round_trip(small_table, tmp_path):
    path = tmp_path / "t.json"
    text = small_table.to_json(path)
    json.loads(text)  # valid JSON (NaN written as null)
    back = bench.BenchTable.from_json(path)
    assert len(back) == len(small_table)
    for col in ("name", "op_type", "kernel", "status", "note", "config_id", "timed", "flops", "bytes"):
        assert list(back[col]) == list(small_table[col]), col
    for col in ("median_s", "iqr_s", "gflops"):
        np.testing.assert_array_equal(np.isnan(back[col]), np.isnan(small_table[col]))
        np.testing.assert_allclose(back[col][~np.isnan(back[col])],
                                   small_table[col][~np.isnan(small_table[col])])
    assert back.machine["model"] == small_table.machine["model"]


def test_to_pandas(small_table):
    pd = pytest.importorskip("pandas")
    df = small_table.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df["name"]) == list(small_table["name"])
    assert set(bench.COLUMNS) <= set(df.columns)


def test_slowest_sorted(small_table):
    slow = small_table.slowest(3)
    assert len(slow) == 3
    assert slow[0]["median_s"] >= slow[1]["median_s"] >= slow[2]["median_s"] > 0


def test_cpu_info_fields():
    info = bench.cpu_info()
    for key in ("model", "arch", "logical_cores", "isa_supported", "isa_active", "compiler",
                "peak_gflops_per_core", "clock_mhz", "fma_units", "vector_bits", "peak_assumption", "llc_bytes"):
        assert key in info, key
    assert info["model"] and info["model"] != "unknown"
    assert info["logical_cores"] == os.cpu_count()
    assert info["isa_active"] in info["isa_supported"]
    assert info["isa_supported"][-1] == "scalar"  # best first, the portable tier last
    assert any(ch.isdigit() for ch in info["compiler"])
    if info["clock_mhz"] > 0:  # the family model's figure = FMA units x fp32 lanes x 2 FLOPs x clock
        expect = info["fma_units"] * (info["vector_bits"] // 32) * 2 * info["clock_mhz"] / 1e3
        assert info["model_peak_gflops_per_core"] == pytest.approx(expect)
    if os.path.exists("/proc/cpuinfo") and info["arch"] == "x86_64":
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        assert info["model"] == names[0]


def test_time_op_statistics_and_units():
    spec = {"op": "conv", "input": [1, 4, 10, 10], "out_channels": 6, "kernel": [3, 3], "strides": [1, 1],
            "pads": [0, 0, 0, 0], "group": 1}
    r = bench.time_op(spec, min_time=TINY)
    assert r["samples"] >= 5
    assert r["q1_s"] <= r["median_s"] <= r["q3_s"]
    assert r["iqr_s"] == pytest.approx(r["q3_s"] - r["q1_s"])
    # 6 x 8 x 8 outputs, each 4 x 3 x 3 MACs, 2 FLOPs per MAC.
    assert r["flops"] >= 2 * 6 * 8 * 8 * 4 * 9
    assert r["threads"] == 1 and r["isa"]


def test_time_op_threads_and_cold_cache_recorded():
    spec = {"op": "add", "a": [1, 4, 8, 8], "b": [1, 4, 1, 1]}
    r = bench.time_op(spec, threads=2, min_time=TINY, cold_cache=True)
    assert r["threads"] == 2
    assert r["cold_cache"] and r["buffer_copies"] >= 2


def test_suite_quick_has_the_ten_core_shapes():
    t = bench.suite(quick=True, min_time=TINY)
    assert len(t) == 10
    names = list(t["name"])
    assert "conv 3x3 64->64 @56x56" in names and "add 1x256x56x56" in names
    row = t[names.index("conv 3x3 64->64 @56x56")]
    assert row["flops"] >= 2 * 64 * 56 * 56 * 64 * 9  # hand count: C_out*H*W*C_in*3*3 MACs
    assert all(s == "measured" for s in t["status"])


def test_single_op_models_match_our_flop_counts():
    """Every SUITE shape as a single-node ONNX model runs in onnxruntime; the output shape ORT produces
    fixes the op's size, from which the FLOPs/bytes our kernel reports are checked (2 per MAC)."""
    ort = pytest.importorskip("onnxruntime")
    for entry in bench.SUITE:
        spec = entry["spec"]
        model = bench.single_op_model(spec)
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        feeds = {}
        for i in model.graph.input:
            dtype = np.int8 if i.type.tensor_type.elem_type == TensorProto.INT8 else np.float32
            feeds[i.name] = np.ones([d.dim_value for d in i.type.tensor_type.shape.dim], dtype)
        out = sess.run(None, feeds)[0]
        op = bench._core.BenchOp(spec)
        if spec["op"] in ("conv", "qconv"):
            c_in, (kh, kw), g = spec["input"][1], spec["kernel"], spec.get("group", 1)
            assert op.flops >= 2 * out.size * (c_in // g) * kh * kw, entry["label"]
        elif spec["op"] in ("gemm", "qgemm"):
            assert op.flops >= 2 * out.size * spec["k"], entry["label"]
        else:
            assert op.bytes >= out.size * 4, entry["label"]


def test_cli_bench_quick(tmp_path, capsys):
    out = tmp_path / "device.json"
    assert cli_main(["bench", "--quick", "--min-time", str(TINY), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "GFLOP/s" in text and "peak" in text
    back = bench.BenchTable.from_json(out)
    assert len(back) == 10


def test_cli_bench_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    assert cli_main(["bench", "--quick", "--min-time", str(TINY), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bench_model(small, tmp_path, capsys):
    path = tmp_path / "small.onnx"
    onnx.save(small, str(path))
    assert cli_main(["bench", str(path), "--min-time", str(TINY)]) == 0
    text = capsys.readouterr().out
    assert "model total" in text and "slowest layers" in text and "softmax" in text


def mapping_model():
    """x[N,4,32] (N symbolic) -> Conv1d k3 pad 1 (4->6) -> LeakyRelu (no kernel) -> Flatten -> MatMul by a
    constant [192,10] -> Add of a constant [10] bias (fused into the GEMM) -> Sigmoid (fused) ;
    x2[N,6,5,5] -> BatchNormalization with no conv before it (timed as a per-channel pass) -> Relu ->
    ReduceMean over H, W (a global average pool); and q[N,2,5,8] @ k[N,2,8,5] (batched, attention-like)."""
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(_w(rng, 6, 4, 3), "w"), numpy_helper.from_array(_w(rng, 192, 10), "m"),
             numpy_helper.from_array(_w(rng, 10), "bias")]
    inits += [numpy_helper.from_array(np.ones(6, np.float32) * v, n) for v, n in ((1, "s"), (0, "b"), (0, "mu"),
                                                                                  (1, "var"))]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1d", kernel_shape=[3], pads=[1, 1]),
        helper.make_node("LeakyRelu", ["c"], ["l"], name="leaky"),
        helper.make_node("Flatten", ["l"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "m"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "bias"], ["a"], name="bias_add"),
        helper.make_node("Sigmoid", ["a"], ["y"], name="sigmoid"),
        helper.make_node("BatchNormalization", ["x2", "s", "b", "mu", "var"], ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("ReduceMean", ["r"], ["y2"], name="spatial_mean", axes=[-2, -1], keepdims=1),
        helper.make_node("MatMul", ["q", "k"], ["y3"], name="attention"),
    ]
    graph = helper.make_graph(
        nodes, "mapping",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 32]),
         helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["N", 6, 5, 5]),
         helper.make_tensor_value_info("q", TensorProto.FLOAT, ["N", 2, 5, 8]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, ["N", 2, 8, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("y2", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("y3", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def test_measure_maps_conv1d_matmul_bias_and_lone_batchnorm():
    t = bench.measure(mapping_model(), min_time=TINY, batch_size=4)
    rows = _rows(t)
    assert rows["conv1d"]["status"] == "measured"
    # N=4 rows of a 1-D conv: 4 x 6 x 32 outputs, each 4 x 3 MACs, 2 FLOPs per MAC.
    assert rows["conv1d"]["flops"] >= 2 * 4 * 6 * 32 * 4 * 3
    assert rows["leaky"]["status"] == "unmeasured"  # no LeakyRelu kernel: listed, not guessed
    assert rows["matmul"]["status"] == "measured"
    assert rows["matmul"]["flops"] >= 2 * 4 * 192 * 10
    assert rows["bias_add"]["status"] == "fused" and "matmul" in rows["bias_add"]["note"]
    assert rows["sigmoid"]["status"] == "fused" and "matmul" in rows["sigmoid"]["note"]
    # A BatchNormalization with no conv to fold into is executed, and its Relu is a separate pass.
    assert rows["bn"]["status"] == "measured" and "per-channel" in rows["bn"]["note"]
    assert rows["relu"]["status"] == "measured" and "relu" in rows["relu"]["kernel"]
    assert rows["spatial_mean"]["status"] == "measured" and "pool" in rows["spatial_mean"]["kernel"]
    # 4 x 2 = 8 products of 5x8 by 8x5: 8 x 25 outputs, 8 MACs each, 2 FLOPs per MAC.
    assert rows["attention"]["status"] == "measured"
    assert rows["attention"]["flops"] >= 2 * 8 * 25 * 8
    assert t.unmeasured == ["leaky"]


def test_measure_maps_qlinearconv_to_int8_kernel():
    rng = np.random.default_rng(5)
    spec = {"op": "qconv", "input": [1, 8, 12, 12], "out_channels": 16, "kernel": [3, 3], "strides": [1, 1],
            "pads": [1, 1, 1, 1], "group": 1}
    model = bench.single_op_model(spec, seed=int(rng.integers(100)))
    t = bench.measure(model, min_time=TINY)
    (row,) = list(t)
    assert row["op_type"] == "QLinearConv" and row["status"] == "measured"
    assert row["kernel"].startswith("qs8")
    assert row["flops"] >= 2 * 16 * 12 * 12 * 8 * 9  # C_out*H*W*C_in*3*3 MACs, 2 ops each


def _testing_bindings():
    from netscore_fast import _core
    if not hasattr(_core, "_testing"):
        pytest.skip("built without NETSCORE_TEST_BINDINGS (no _core._testing)")
    return _core._testing


def test_harness_quantiles_match_numpy():
    testing = _testing_bindings()
    rng = np.random.default_rng(11)
    for n in (1, 2, 5, 8, 101):
        samples = rng.exponential(1e-3, n).tolist()
        for q in (0.25, 0.5, 0.75):
            assert testing.bench_quantile(samples, q) == pytest.approx(np.percentile(samples, 100 * q), rel=1e-12)


def test_plot_without_matplotlib_names_the_extra(small_table, tmp_path, monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"netscore-fast\[plot\]"):
        bench.plot(small_table, tmp_path / "x.png")
    assert cli_main(["bench", "--quick", "--min-time", str(TINY), "--plot", str(tmp_path / "y.png")]) == 2
    assert "netscore-fast[plot]" in capsys.readouterr().err


# /proc/cpuinfo as printed by Linux on an aarch64 Raspberry Pi 4 (arch/arm64/kernel/cpuinfo.c field names;
# the board line comes from the Raspberry Pi kernel). MIDR part numbers from Arm's reference manuals:
# 0xd08 Cortex-A72, 0xd0c Neoverse-N1, 0xd07 Cortex-A57.
RPI4_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

Hardware\t: BCM2835
Revision\t: c03114
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""


def test_cpu_model_parsing_arm_and_x86():
    parse = _testing_bindings().bench_cpu_model_from_cpuinfo
    assert parse(RPI4_CPUINFO) == "Raspberry Pi 4 Model B Rev 1.4 (Cortex-A72)"
    graviton2 = RPI4_CPUINFO.replace("0xd08", "0xd0c").split("\nHardware")[0]
    assert parse(graviton2) == "Neoverse-N1"
    jetson = RPI4_CPUINFO.replace("0xd08", "0xd07").split("\nHardware")[0]
    assert parse(jetson, "NVIDIA Jetson Nano Developer Kit\x00") == "NVIDIA Jetson Nano Developer Kit (Cortex-A57)"
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD Ryzen 9 7950X 16-Core Processor\n"
    assert parse(x86) == "AMD Ryzen 9 7950X 16-Core Processor"
    assert parse("") == "unknown"


def test_measure_sequence_runs_every_measured_layer(small_table, small):
    seq = small_table.sequence
    assert seq is not None and small_table.sequence_s > 0 and seq["samples"] >= 5
    # The back-to-back run executes every measured row (repeats included), so its work is their sum.
    measured = [r for r in small_table if r["status"] == "measured"]
    assert seq["flops"] == sum(r["flops"] for r in measured)
    assert seq["bytes"] == sum(r["bytes"] for r in measured)
    assert bench.measure(small, min_time=TINY, sequence=False).sequence_s is None
    back = bench.BenchTable.from_json(small_table.to_json())
    assert back.sequence_s == pytest.approx(small_table.sequence_s)


def residual_model():
    """Two residual blocks as ResNet exports them, written out by hand:
    x[1,8,10,10] -> conv a 1x1 (8->8)+BN+Relu -> ra
    identity block: conv b 3x3 (ra) -> c_b ; Add(c_b, ra) -> Relu            (b fuses Add and Relu: ra is ready)
    projection block, shortcut listed after the main branch: conv m 1x1 s2 (r_id) -> c_m ; conv s 1x1 s2 (r_id)
      -> c_s ; Sum(c_m, c_s) -> Relu                                      (s fuses: c_m is computed before it)
    then conv t 1x1 whose output feeds both an Add and a Mul (two readers: not fused), the Add with a
    per-channel constant (broadcast: a plain Add)."""
    rng = np.random.default_rng(11)
    inits = [numpy_helper.from_array(_w(rng, 8, 8, 1, 1), "wa"), numpy_helper.from_array(_w(rng, 8, 8, 3, 3), "wb"),
             numpy_helper.from_array(_w(rng, 16, 8, 1, 1), "wm"), numpy_helper.from_array(_w(rng, 16, 8, 1, 1), "ws"),
             numpy_helper.from_array(_w(rng, 16, 16, 1, 1), "wt"),
             numpy_helper.from_array(np.ones(8, np.float32), "s"), numpy_helper.from_array(_w(rng, 8), "bb"),
             numpy_helper.from_array(np.zeros(8, np.float32), "m"), numpy_helper.from_array(np.ones(8, np.float32), "v"),
             numpy_helper.from_array(_w(rng, 1, 16, 1, 1), "chan")]
    nodes = [
        helper.make_node("Conv", ["x", "wa"], ["ca"], name="conv_a", kernel_shape=[1, 1]),
        helper.make_node("BatchNormalization", ["ca", "s", "bb", "m", "v"], ["na"], name="bn_a"),
        helper.make_node("Relu", ["na"], ["ra"], name="relu_a"),
        helper.make_node("Conv", ["ra", "wb"], ["cb"], name="conv_b", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["cb", "ra"], ["sb"], name="add_b"),
        helper.make_node("Relu", ["sb"], ["rb"], name="relu_b"),
        helper.make_node("Conv", ["rb", "wm"], ["cm"], name="conv_m", kernel_shape=[1, 1], strides=[2, 2]),
        helper.make_node("Conv", ["rb", "ws"], ["cs"], name="conv_s", kernel_shape=[1, 1], strides=[2, 2]),
        helper.make_node("Sum", ["cm", "cs"], ["sm"], name="sum_ms"),
        helper.make_node("Relu", ["sm"], ["rm"], name="relu_m"),
        helper.make_node("Conv", ["rm", "wt"], ["ct"], name="conv_t", kernel_shape=[1, 1]),
        helper.make_node("Add", ["ct", "chan"], ["at"], name="add_t"),
        helper.make_node("Mul", ["ct", "at"], ["y"], name="mul_t"),
    ]
    graph = helper.make_graph(nodes, "residual", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 10, 10])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 5, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def test_measure_fuses_residual_add_into_the_later_conv():
    table = bench.measure(residual_model(), min_time=TINY)
    rows = _rows(table)
    for name, conv in (("add_b", "conv_b"), ("relu_b", "conv_b"), ("sum_ms", "conv_s"), ("relu_m", "conv_s")):
        assert rows[name]["status"] == "fused", name
        assert conv in rows[name]["note"], (name, rows[name]["note"])
        assert rows[name]["median_s"] == 0.0
    for name in ("conv_a", "conv_b", "conv_m", "conv_s", "conv_t", "add_t", "mul_t"):
        assert rows[name]["status"] == "measured", name
    assert "Add" in rows["conv_b"]["note"] and "Sum" in rows["conv_s"]["note"]
    assert "Sum" not in rows["conv_m"]["note"] and "Add" not in rows["conv_t"]["note"]
    # conv_a, conv_b (+residual), conv_m, conv_s (+residual), conv_t, add_t, mul_t: 7 kernels run back to back.
    assert table.sequence_s > 0


def test_time_op_conv_with_residual():
    base = {"op": "conv", "input": [1, 16, 7, 7], "out_channels": 32, "kernel": [1, 1], "activation": "relu"}
    plain = bench.time_op(base, min_time=TINY)
    fused = bench.time_op(dict(base, residual=True), min_time=TINY)
    # Bytes: the residual (1*32*7*7 floats) is read on top of input + weights + bias + output.
    assert fused["bytes"] - plain["bytes"] == 4 * 32 * 7 * 7
    assert fused["flops"] == plain["flops"] == 2 * 32 * 16 * 49
