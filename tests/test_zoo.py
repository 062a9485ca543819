"""Zoo networks against published figures and against counts from onnxruntime-executed shapes.

Two independent references for every network:
1. the published figures recorded in netscore_fast.zoo.published (torchvision's model table, TF-slim's
   tables, the papers), within 1 % (or half a unit of the figure's last printed digit when that is wider);
2. a counter written here: it runs the graph in onnxruntime with every intermediate tensor as an output,
   then Conv MACs = prod(output shape) * C_in / group * prod(kernel), Gemm MACs = N * M * K from the
   observed shapes, and params from the ConstantOfShape shape initializers the weights are made from.
The profiler's own counts (netscore_fast.profile) are checked against both.
"""
from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys

import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from netscore_fast import zoo  # noqa: E402

ALL = zoo.names()
# onnxruntime materialises every weight and every intermediate tensor: these take seconds each
HEAVY = {"vgg11", "vgg13", "vgg16", "vgg19", "resnet152", "wide_resnet50_2", "resnet101", "alexnet",
         "inception_v3", "xception", "densenet201", "densenet169", "efficientnet_b3"}
WEIGHT_INPUTS = {"Conv": (1, 2), "Gemm": (1, 2), "MatMul": (1,), "BatchNormalization": (1, 2, 3, 4)}


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# -- the independent counter -----------------------------------------------------------------------------
def ort_reference_counts(model: "onnx.ModelProto") -> dict:
    """params, bn_stat_params and MACs of a zoo graph from onnxruntime-observed shapes (batch as built)."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    fill_shape = {n.output[0]: [int(d) for d in inits[n.input[0]]]
                  for n in model.graph.node if n.op_type == "ConstantOfShape"}
    params = bn_stats = 0
    for node in model.graph.node:
        for i in WEIGHT_INPUTS.get(node.op_type, ()):
            if i < len(node.input) and node.input[i] in fill_shape:
                n = math.prod(fill_shape[node.input[i]])
                params += n
                if node.op_type == "BatchNormalization" and i in (3, 4):
                    bn_stats += n

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        if node.op_type == "ConstantOfShape":
            continue
        for out in node.output:
            if out not in known:
                probe.graph.output.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(probe.SerializeToString(), so, providers=["CPUExecutionProvider"])
    inp = model.graph.input[0]
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    x = np.random.default_rng(0).standard_normal(dims).astype(np.float32)
    names = [o.name for o in sess.get_outputs()]
    shapes = {"input": list(dims)}
    shapes.update({n: list(v.shape) for n, v in zip(names, sess.run(names, {"input": x}))})

    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            kernel = fill_shape[node.input[1]][2:]
            c_in = shapes[node.input[0]][1]
            macs += math.prod(shapes[node.output[0]]) * (c_in // group) * math.prod(kernel)
        elif node.op_type == "Gemm":
            k = shapes[node.input[0]][1]
            macs += math.prod(shapes[node.output[0]]) * k
        elif node.op_type == "MatMul":
            macs += math.prod(shapes[node.output[0]]) * shapes[node.input[0]][-1]
    return {"params": params, "bn_stat_params": bn_stats, "macs": macs,
            "output_shape": shapes[model.graph.output[0].name]}


@pytest.fixture(scope="session")
def reference(request):
    """name -> ort_reference_counts at batch 1, cached on disk by the graph's hash (pytest cache)."""
    memo = {}

    def get(name: str) -> dict:
        if name not in memo:
            model = zoo.build_model(name)
            digest = hashlib.sha1(model.SerializeToString()).hexdigest()[:16]
            key = f"netscore_fast/zoo_ort/{name}-{digest}"
            cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
            cached = cache.get(key, None) if cache is not None else None
            if cached is None:
                cached = ort_reference_counts(model)
                if cache is not None:
                    cache.set(key, cached)
            memo[name] = cached
        return memo[name]
    return get


def _maybe_slow(names):
    return [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in names]


def _profile_or_skip(data: bytes):
    import netscore_fast

    try:
        return netscore_fast.profile(data)
    except Exception as e:  # the core may not handle every op yet; that is its own test's business
        pytest.skip(f"netscore_fast.profile cannot analyse this graph yet: {e}")


# -- API ------------------------------------------------------------------------------------------------
def test_at_least_forty_networks_including_the_required_ones():
    required = {"alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "googlenet", "inception_v3", "resnet18",
                "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2",
                "densenet121", "densenet169", "densenet201", "squeezenet1_0", "squeezenet1_1",
                "squeezenext23_1.0", "mobilenet_v2_1.0", "mobilenet_v2_1.4", "mobilenet_v3_large",
                "mobilenet_v3_small", "shufflenet_v1_g3_1.0", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
                "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "mnasnet1_0", "efficientnet_b0",
                "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "xception"}
    required |= {f"mobilenet_v1_{w}_{r}" for w in ("1.0", "0.75", "0.50", "0.25") for r in (224, 192, 160, 128)}
    assert required <= set(ALL)
    assert len(ALL) >= 40
    assert ALL == sorted(ALL)


def test_every_network_has_a_sourced_top1_and_at_least_one_sourced_count():
    for name in ALL:
        d = zoo.info(name)
        assert 30.0 < d["top1"] < 90.0 and d["top1_source"], name
        assert d["params_published"] or d["macs_published"], name
        for key in ("params", "macs"):
            if d[f"{key}_published"] is not None:
                assert d[f"{key}_source"], (name, key)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError, match="resnet50"):
        zoo.info("resnet5O")


def test_whole_zoo_is_small():
    sizes = {name: len(zoo.build(name)) for name in ALL}
    # no weight payloads: the biggest graph (DenseNet-201, ~1,000 nodes) stays well under a megabyte,
    # while VGG-16's weights alone would take 553 MB
    assert max(sizes.values()) < 1_000_000, max(sizes.items(), key=lambda kv: kv[1])
    assert len(zoo.build("vgg16")) < 100_000


@pytest.mark.parametrize("name", ALL)
def test_graph_passes_the_onnx_checker_in_both_weight_forms(name):
    const = zoo.build_model(name)
    onnx.checker.check_model(const, full_check=True)
    ext = onnx.load_from_string(zoo.build(name, weights="external"))  # the checker would open weights.bin
    assert not any(n.op_type == "ConstantOfShape" for n in ext.graph.node)
    assert [n.op_type for n in ext.graph.node] == [n.op_type for n in const.graph.node
                                                   if n.op_type != "ConstantOfShape"]
    assert all(t.data_location == TensorProto.EXTERNAL for t in ext.graph.initializer
               if t.data_type == TensorProto.FLOAT and len(t.dims) > 0)


def test_batch_size_sets_the_input_and_output_batch_dim():
    m = zoo.build_model("mobilenet_v3_small", batch_size=4)
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    assert [d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim] == [4, 1000]


# -- against published figures ---------------------------------------------------------------------------
def _tolerance(d: dict, key: str) -> float:
    return max(0.01 * d[f"{key}_published"], d[f"{key}_tolerance"])


@pytest.mark.parametrize("name", _maybe_slow(ALL))
def test_reference_counts_match_published_figures(name, reference):
    """The independent (onnxruntime) counts agree with the published ones: the builders are right."""
    d = zoo.info(name)
    ref = reference(name)
    assert ref["output_shape"] == [1, 1000]
    if d["params_published"] is not None:
        ours = zoo.comparable_params(name, ref["params"], ref["bn_stat_params"])
        assert abs(ours - d["params_published"]) <= _tolerance(d, "params"), (ours, d["params_text"])
    if d["macs_published"] is not None:
        assert abs(ref["macs"] - d["macs_published"]) <= _tolerance(d, "macs"), (ref["macs"], d["macs_text"])


def test_anchor_figures_from_the_brief(reference):
    """Hand-copied anchors (torchvision table, TF-slim table) independent of the zoo's own table."""
    anchors = {  # name: (params excl. BN running stats, MACs)
        "resnet50": (25_557_032, 4.089e9), "mobilenet_v2_1.0": (3_504_872, 300.8e6),
        "vgg16": (138_357_544, 15.47e9), "googlenet": (6_624_904, 1.50e9),
        "densenet121": (7_978_856, 2.83e9), "squeezenet1_1": (1_235_496, 349e6),
        "mobilenet_v1_1.0_224": (4.23e6, 569e6),
    }
    for name, (params, macs) in anchors.items():
        ref = reference(name)
        assert _rel(ref["params"] - ref["bn_stat_params"], params) < 0.01, name
        assert _rel(ref["macs"], macs) < 0.01, name


def test_resnet50_by_hand():
    """ResNet-50 conv/fc parameter count written out (torchvision layout): an exact, builder-free check."""
    convs = 3 * 64 * 49
    c_in = 64
    for planes, blocks in zip((64, 128, 256, 512), (3, 4, 6, 3)):
        for b in range(blocks):
            convs += c_in * planes + planes * planes * 9 + planes * 4 * planes
            if b == 0:
                convs += c_in * planes * 4  # projection shortcut
            c_in = planes * 4
    bn_channels = 64 + sum(blocks * (2 * p + 4 * p) + 4 * p for p, blocks in zip((64, 128, 256, 512), (3, 4, 6, 3)))
    fc = 2048 * 1000 + 1000
    m = zoo.build_model("resnet50")
    counts = ort_reference_counts(m)
    assert counts["params"] - counts["bn_stat_params"] == convs + 2 * bn_channels + fc == 25_557_032
    assert counts["bn_stat_params"] == 2 * bn_channels


# -- the profiler against both ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", _maybe_slow(ALL))
def test_profile_matches_reference_counts(name, reference):
    ref = reference(name)
    for weights in ("constant", "external"):
        p = _profile_or_skip(zoo.build(name, weights=weights))
        assert p.macs == ref["macs"], (weights, p.macs, ref["macs"])
        assert p.bn_stat_params == ref["bn_stat_params"], weights
        # Clip's bounds (two scalars shared by every ReLU6) may or may not count as weights
        assert 0 <= p.params - ref["params"] <= 2, (weights, p.params, ref["params"])
        assert p.weight_bytes >= 4 * ref["params"]


def test_profile_batch_scales_macs_not_params(reference):
    ref = reference("resnet18")
    p = _profile_or_skip(zoo.build("resnet18", batch_size=3, weights="external"))
    assert p.macs == 3 * ref["macs"]
    assert p.params == ref["params"]


# -- the CLI ----------------------------------------------------------------------------------------------
def test_zoo_table_ranks_and_metrics(reference):
    import netscore_fast

    _profile_or_skip(zoo.build("squeezenet1_1", weights="external"))
    subset = ["squeezenet1_1", "resnet50", "mobilenet_v2_1.0", "mobilenet_v1_1.0_128"]
    rows = zoo.table(sort="netscore", names_=subset)
    assert [r["rank_netscore"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        ref = reference(r["name"])
        assert r["params"] == ref["params"] - ref["bn_stat_params"]
        a, p, m = r["top1"], r["params"] / 1e6, r["gmacs"]
        assert r["netscore"] == pytest.approx(20 * math.log10(a * a / (math.sqrt(p) * math.sqrt(m))))
        assert r["information_density"] == pytest.approx(a / p)
        assert r["weight_mb"] > 0 and r["peak_activation_mb"] > 0
        assert netscore_fast.netscore(a, r["params"], ref["macs"]) == pytest.approx(r["netscore"])
    top1 = zoo.table(sort="top1", names_=subset)
    assert [r["name"] for r in top1][0] == "resnet50"


def test_cli_zoo_prints_and_writes_csv(tmp_path):
    _profile_or_skip(zoo.build("squeezenet1_1", weights="external"))
    out = tmp_path / "zoo.csv"
    res = subprocess.run([sys.executable, "-m", "netscore_fast.cli", "zoo", "--sort", "density", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "NetScore" in lines[0] and "network" in lines[0]
    assert sum(1 for line in lines if any(n in line.split() for n in ALL)) == len(ALL)
    import csv

    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(ALL)
    dens = [float(r["information_density"]) for r in rows]
    assert dens == sorted(dens, reverse=True)
    assert json.dumps(rows)  # plain values only
