"""NAS-Bench-201 builder: the benchmark's index order, its published counts, and runnable ONNX."""
from __future__ import annotations

import re

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from netscore_fast import nas  # noqa: E402

ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
BRIEF_EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_space_size_and_benchmark_index_order():
    space = list(nas.nasbench201_space())
    assert len(space) == 15625 == 5 ** 6
    assert len(set(space)) == 15625
    # The benchmark's own generation script (xautodl exps/NAS-Bench-201/main.py, traverse_net in
    # NATS-Bench main-tss.py) asserts these indices after random.seed(88); random.shuffle(archs).
    assert space[0] == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert space[9] == "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    assert space[123] == "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    assert nas.nasbench201_arch(123) == space[123]
    pattern = re.compile(r"^\|(\w+)~0\|\+\|(\w+)~0\|(\w+)~1\|\+\|(\w+)~0\|(\w+)~1\|(\w+)~2\|$")
    for arch in space[:50]:
        m = pattern.match(arch)
        assert m and all(op in nas.OPS for op in m.groups())


@pytest.mark.parametrize("bad", ["", "|nor_conv_3x3~0|", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                                 "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                                 "|none~0|+|none~0|+|none~0|none~1|none~2|"])
def test_invalid_architecture_strings_are_rejected(bad):
    with pytest.raises(ValueError):
        nas.nasbench201(bad)


def _weight_counts(model):
    """(params without BN running stats, BN running-stat elements), counted from the initializers."""
    total = stats = 0
    bn_stat_names = set()
    for node in model.graph.node:
        if node.op_type == "BatchNormalization":
            bn_stat_names.update(node.input[3:5])
    for t in model.graph.initializer:
        n = int(np.prod(t.dims))
        total += n
        if t.name in bn_stat_names:
            stats += n
    return total - stats, stats


def _macs_by_hand(model):
    """Conv and Gemm multiply-accumulates from onnx's own shape inference: out elements x (Cin/g x kh x kw)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else 1 for d in vi.type.tensor_type.shape.dim]
    dims = {t.name: list(t.dims) for t in model.graph.initializer}
    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = dims[node.input[1]]
            macs += int(np.prod(shapes[node.output[0]])) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            w = dims[node.input[1]]
            macs += int(np.prod(shapes[node.output[0]])) * w[1]
    return macs


@pytest.mark.parametrize("arch,params,mmacs", [
    # NAS-Bench-201 (Dong & Yang, ICLR 2020), CIFAR-10: the largest and the smallest network of the space.
    (ALL_CONV3, 1_531_546, 220.12),
    (ALL_NONE, 73_306, 7.78),
])
def test_published_counts_from_the_onnx_itself(arch, params, mmacs):
    model = onnx.load_from_string(nas.nasbench201(arch, "cifar10"))
    p, stats = _weight_counts(model)
    assert p == params          # affine BN (scale + bias) counted, running mean/var not: see nas.py
    assert round(_macs_by_hand(model) / 1e6, 2) == mmacs


@pytest.mark.parametrize("arch,params,mmacs", [(ALL_CONV3, 1_531_546, 220.12), (ALL_NONE, 73_306, 7.78)])
def test_published_counts_through_profile(arch, params, mmacs):
    import netscore_fast as nf
    p = nf.profile(nas.nasbench201(arch))
    assert p.params - p.bn_stat_params == params
    assert round(p.macs / 1e6, 2) == mmacs
    assert not p.unsupported_ops


def test_affine_batchnorm_is_what_matches_the_published_count():
    # With affine=False inside cells (the search supernet), each of the 6 x 15 cell BNs would lose 2C params.
    model = onnx.load_from_string(nas.nasbench201(ALL_CONV3))
    p, _ = _weight_counts(model)
    cell_bn_affine = 6 * 5 * 2 * (16 + 32 + 64)
    assert p - cell_bn_affine != 1_531_546 and p == 1_531_546


def test_structure_counts_by_hand():
    # one conv per nor_conv edge in each of 15 cells, + stem + 2 x (conv_a, conv_b, downsample conv)
    arch = BRIEF_EXAMPLE
    model = onnx.load_from_string(nas.nasbench201(arch))
    ops = [n.op_type for n in model.graph.node]
    n_conv_edges = arch.count("nor_conv")
    n_pool_edges = arch.count("avg_pool_3x3")
    assert ops.count("Conv") == 1 + 15 * n_conv_edges + 2 * 3
    assert ops.count("AveragePool") == 15 * n_pool_edges + 2
    assert ops.count("BatchNormalization") == 1 + 15 * n_conv_edges + 2 * 2 + 1
    assert ops.count("Gemm") == 1
    assert model.graph.name == arch


@pytest.mark.parametrize("dataset,hw,classes", [("cifar10", 32, 10), ("cifar100", 32, 100),
                                                 ("ImageNet16-120", 16, 120)])
def test_zero_weight_model_is_valid_and_runs_in_onnxruntime(dataset, hw, classes):
    ort = pytest.importorskip("onnxruntime")
    data = nas.nasbench201(BRIEF_EXAMPLE, dataset, weights="zeros")
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((2, 3, hw, hw)).astype(np.float32)
    (y,) = sess.run(None, {"input": x})
    assert y.shape == (2, classes)


def test_dims_only_and_zero_weights_profile_the_same():
    import netscore_fast as nf
    a = nf.profile(nas.nasbench201(BRIEF_EXAMPLE)).totals()
    b = nf.profile(nas.nasbench201(BRIEF_EXAMPLE, weights="zeros")).totals()
    a.pop("source"), b.pop("source")
    assert a == b


def test_index_and_op_tuple_forms_agree_with_the_string():
    arch = nas.nasbench201_arch(42)
    assert nas.nasbench201(42) == nas.nasbench201(arch) == nas.nasbench201(nas.parse_arch(arch))
    assert nas.arch_string(nas.parse_arch(arch)) == arch


def test_dims_only_model_passes_onnx_shape_inference():
    model = onnx.load_from_string(nas.nasbench201(ALL_CONV3, "ImageNet16-120"))
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    out = inferred.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in out] == ["N", 120]
