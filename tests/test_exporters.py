"""Real exporter output: torch.onnx.export graphs (TorchScript and dynamo exporters, dynamic batch axis).

The fixtures are graph-only (weights moved to external data that is not committed), so these tests need no
torch; tests/fixtures/make_exports.py regenerates them. References are published figures (torchvision's
model table, the issue's ResNet-50 anchor) and hand derivations written out below.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

import netscore_fast as nf

EXPORTS = pathlib.Path(__file__).parent / "fixtures" / "exports"
EXPORTERS = ["torchscript", "dynamo"]

# torchvision model table: params; "GFLOPS" there are MACs. ResNet-50's exact MACs are the issue's anchor.
RESNET50_PARAMS = 25_557_032
RESNET50_MACS = 4_089_184_256
RESNET18_PARAMS = 11_689_512
RESNET18_GMACS = 1.81
MOBILENETV2_PARAMS = 3_504_872
MOBILENETV2_MACS = 300.8e6

# BatchNorm channels of ResNet-50 (torchvision layout): stem 64, each bottleneck has BNs of planes, planes
# and 4*planes, and each stage's first block a downsample BN of 4*planes.
RESNET50_BN_CHANNELS = 64 + sum(blocks * 6 * planes + 4 * planes
                                for planes, blocks in [(64, 3), (128, 4), (256, 6), (512, 3)])


def vit_small_counts(tokens: int = 65, dim: int = 64, mlp: int = 128, depth: int = 2, classes: int = 10,
                     patch_pixels: int = 3 * 4 * 4, patches: int = 64):
    """MACs and params of make_exports.SmallViT, derived by hand (batch 1)."""
    per_layer_macs = (3 * tokens * dim * dim        # q, k, v projections
                      + tokens * tokens * dim       # Q K^T over all heads
                      + tokens * tokens * dim       # attention-weighted V
                      + tokens * dim * dim          # output projection
                      + 2 * tokens * dim * mlp)     # MLP up and down
    macs = patches * dim * patch_pixels + depth * per_layer_macs + dim * classes  # head on the class token
    per_layer_params = (3 * dim * dim + 3 * dim) + (dim * dim + dim) + 2 * (2 * dim) \
        + (dim * mlp + mlp) + (mlp * dim + dim)
    params = (dim * patch_pixels + dim) + dim + tokens * dim + depth * per_layer_params + 2 * dim \
        + dim * classes + classes
    return macs, params


def fixture(name: str) -> pathlib.Path:
    path = EXPORTS / f"{name}.onnx"
    assert path.exists(), f"missing fixture {path.name}: run tests/fixtures/make_exports.py"
    return path


def test_vit_hand_derivation_matches_torch_parameter_count():
    # torch's sum(p.numel()) for SmallViT is 75,082; the derivation above must agree before it is used.
    assert vit_small_counts()[1] == 75_082


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("net", ["resnet18", "resnet50", "mobilenetv2", "vit_small"])
def test_exports_profile_completely(net, exporter):
    p = nf.profile(fixture(f"{net}_{exporter}"))
    assert not p.unsupported_ops, p.unsupported_ops
    assert not p.unknown_cost_nodes, p.unknown_cost_nodes
    assert p.macs > 0 and p.params > 0 and p.peak_activation_bytes > 0


def test_resnet50_bn_kept_matches_torch_exactly():
    p = nf.profile(fixture("resnet50_bn_torchscript"))
    layers = p.layers
    conv_gemm = np.isin(layers["op_type"], ["Conv", "Gemm"])
    assert int(layers["macs"][conv_gemm].sum()) == RESNET50_MACS
    assert p.bn_stat_params == 2 * RESNET50_BN_CHANNELS
    assert p.params - p.bn_stat_params == RESNET50_PARAMS


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_resnet50_folded(exporter):
    # Exporters fold each BatchNorm into its Conv: BN's scale and shift (2 per channel) become one conv
    # bias per channel, so params drop by one per BN channel.
    p = nf.profile(fixture(f"resnet50_{exporter}"))
    assert p.macs == RESNET50_MACS
    assert p.params == RESNET50_PARAMS - RESNET50_BN_CHANNELS
    assert p.bn_stat_params == 0


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_resnet18(exporter):
    p = nf.profile(fixture(f"resnet18_{exporter}"))
    assert p.macs / 1e9 == pytest.approx(RESNET18_GMACS, rel=0.01)
    bn_channels = 64 + sum(blocks * 2 * planes for planes, blocks in [(64, 2), (128, 2), (256, 2), (512, 2)]) \
        + 128 + 256 + 512  # downsample BNs of stages 2-4
    assert p.params == RESNET18_PARAMS - bn_channels


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_mobilenetv2(exporter):
    p = nf.profile(fixture(f"mobilenetv2_{exporter}"))
    assert p.macs == pytest.approx(MOBILENETV2_MACS, rel=0.01)
    # torch's 3,504,872 includes BN scale and shift (2 per channel); folded exports keep one bias per channel.
    bn_channels = 32 + 1280  # stem and last 1x1 conv
    inp = 32
    for t, c, n, _ in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                       [6, 160, 3, 2], [6, 320, 1, 1]]:
        for _ in range(n):
            hidden = inp * t
            bn_channels += (0 if t == 1 else hidden) + hidden + c  # expand, depthwise, project BNs
            inp = c
    assert p.params == MOBILENETV2_PARAMS - bn_channels


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_vit_small(exporter):
    macs, params = vit_small_counts()
    p = nf.profile(fixture(f"vit_small_{exporter}"))
    assert p.macs == macs
    assert p.params == params


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("net", ["resnet50", "mobilenetv2", "vit_small"])
def test_dynamic_batch_scales_linearly(net, exporter):
    one = nf.profile(fixture(f"{net}_{exporter}"))
    four = nf.profile(fixture(f"{net}_{exporter}"), batch_size=4)
    assert four.macs == 4 * one.macs
    assert four.params == one.params
    assert four.activation_bytes == 4 * one.activation_bytes
    shape = nf.profile(fixture(f"{net}_{exporter}"),
                       input_shapes={"input": [4, 3, 32, 32] if net == "vit_small" else [4, 3, 224, 224]})
    assert shape.macs == four.macs


def test_exporters_agree():
    for net in ["resnet18", "resnet50", "mobilenetv2", "vit_small"]:
        a, b = (nf.profile(fixture(f"{net}_{e}")) for e in EXPORTERS)
        assert (a.macs, a.params) == (b.macs, b.params), net


def test_weights_file_absent():
    # The graph-only fixtures reference external data that is not there: profiling needs only dims.
    path = fixture("resnet50_torchscript")
    assert not path.with_name(path.name + ".data").exists()
    assert nf.profile(path).params > 25_000_000
