"""Fused convolution epilogues and the pooling routes, against numpy on every ISA tier.

The residual epilogue computes y = act(conv(x) + b + residual) as runtimes fuse Conv + Add (+ activation).
References: the explicit tap-loop convolution of test_kernels (float64) plus numpy's add and activation;
average pooling as a float64 window mean written out here. Seeded random inputs, odd sizes, every path
(packed GEMM, indirect GEMM, direct grouped, depthwise, the stem), with and without threads."""
from __future__ import annotations

import numpy as np
import pytest

from test_kernels import ACTIVATIONS, ISAS, K, SEED, act_ref, close, conv_ref, pool_ref, randn, rng_for

# n, c_in, h, w, c_out, k, stride, pads (t, l, b, r), group
RESIDUAL_CASES = [
    (1, 16, 10, 10, 20, 1, 1, (0, 0, 0, 0), 1),     # pointwise: packed GEMM, residual in the tile
    (2, 24, 7, 7, 40, 1, 1, (0, 0, 0, 0), 1),       # pointwise on a 7x7 map, batch 2
    (1, 96, 14, 14, 40, 1, 1, (0, 0, 0, 0), 1),     # long K: several K blocks before the residual lands
    (1, 16, 9, 9, 24, 1, 2, (0, 0, 0, 0), 1),       # strided 1x1 (downsampling shortcut)
    (1, 8, 12, 13, 16, 3, 1, (1, 1, 1, 1), 1),      # 3x3 stride 1: indirect GEMM, residual on copy-out
    (2, 7, 13, 10, 33, 3, 2, (1, 1, 1, 1), 1),      # 3x3 stride 2, odd sizes
    (1, 3, 23, 23, 8, 7, 2, (3, 3, 3, 3), 1),       # 7x7 stem
    (1, 3, 20, 21, 12, 3, 2, (1, 1, 1, 1), 1),      # 3x3 stem: direct 8-channel kernel
    (1, 24, 11, 11, 24, 3, 1, (1, 1, 1, 1), 6),     # grouped direct
    (1, 9, 17, 19, 9, 3, 1, (1, 1, 1, 1), 9),       # depthwise 3x3 s1
    (2, 5, 18, 21, 5, 3, 2, (1, 1, 1, 1), 5),       # depthwise 3x3 s2
    (1, 32, 9, 9, 64, 3, 1, (1, 1, 1, 1), 2),       # GEMM per group
    (1, 64, 7, 7, 130, 1, 1, (0, 0, 0, 0), 1),      # 49 pixels, channels not a multiple of any tile
    (1, 40, 7, 7, 48, 3, 1, (1, 1, 1, 1), 1),       # 3x3 on a 7x7 map
    (1, 20, 31, 29, 120, 1, 1, (0, 0, 0, 0), 1),    # 1x1, 8+ row panels: threads run row panels outermost
]


def _case_id(c):
    return "n{}c{}x{}x{}o{}k{}s{}p{}g{}".format(*c)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", RESIDUAL_CASES, ids=_case_id)
def test_conv_residual_epilogue_matches_numpy(isa, case):
    n, c, h, w, co, k, s, pads, g = case
    rng = rng_for("residual", case)
    x, wt, b = randn(rng, n, c, h, w), randn(rng, co, c // g, k, k), randn(rng, co)
    conv = conv_ref(x, wt, b, (s, s), pads, (1, 1), g)
    res = randn(rng, *conv.shape)
    for act in ("relu", ACTIVATIONS[RESIDUAL_CASES.index(case) % len(ACTIVATIONS)]):
        y = K.conv2d(x, wt, b, strides=[s, s], pads=list(pads), group=g, activation=act, clip_min=-0.5,
                     clip_max=0.75, isa=isa, residual=res)
        want = act_ref(conv + res, act, -0.5, 0.75)
        close(y, want)
        # The residual really is added before the activation: relu(conv) + res differs here.
        if act == "relu":
            assert not np.allclose(y, np.maximum(conv, 0) + res, atol=1e-3), f"seed {SEED}"


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", [RESIDUAL_CASES[0], RESIDUAL_CASES[4], RESIDUAL_CASES[6], RESIDUAL_CASES[12],
                                  RESIDUAL_CASES[-1]],
                         ids=_case_id)
def test_conv_residual_threads_bit_identical(isa, case):
    n, c, h, w, co, k, s, pads, g = case
    rng = rng_for("residual-threads", case)
    x, wt, b = randn(rng, n, c, h, w), randn(rng, co, c // g, k, k), randn(rng, co)
    res = randn(rng, n, co, (h + pads[0] + pads[2] - k) // s + 1, (w + pads[1] + pads[3] - k) // s + 1)
    kw = dict(strides=[s, s], pads=list(pads), group=g, activation="relu", isa=isa, residual=res)
    one = K.conv2d(x, wt, b, threads=1, **kw)
    close(one, act_ref(conv_ref(x, wt, b, (s, s), pads, (1, 1), g) + res, "relu"))
    assert np.array_equal(one, K.conv2d(x, wt, b, threads=2, **kw)), f"seed {SEED}"


def test_conv_residual_shape_checked():
    x, wt = np.ones((1, 4, 5, 5), np.float32), np.ones((6, 4, 1, 1), np.float32)
    with pytest.raises(ValueError):
        K.conv2d(x, wt, residual=np.ones((1, 6, 5, 4), np.float32))


# kernel, stride, shape: one window covering the whole plane (no padding) is a global average pool
WHOLE_PLANE = [((7, 7), (1, 1), (1, 37, 7, 7)), ((5, 9), (1, 1), (2, 3, 5, 9)), ((7, 7), (7, 7), (1, 20, 7, 7)),
               ((1, 1), (1, 1), (1, 4, 1, 1)), ((14, 14), (2, 2), (1, 3, 14, 14))]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", WHOLE_PLANE, ids=str)
def test_whole_plane_average_pool_is_global(isa, case):
    kernel, stride, shape = case
    x = randn(rng_for("whole-plane", case), *shape)
    y, name = K.pool(x, "avg", list(kernel), list(stride), [0, 0, 0, 0], [1, 1], False, False, isa=isa,
                     return_kernel=True)
    assert name.startswith("f32-gavgpool-"), name
    close(y, x.astype(np.float64).mean(axis=(2, 3), keepdims=True), 1e-5, 1e-6)
    # The window mean as ONNX AveragePool defines it (test_kernels' loop reference) agrees.
    close(y, pool_ref(x, "avg", kernel, stride, (0, 0, 0, 0), (1, 1), False, False), 1e-5, 1e-6)


@pytest.mark.parametrize("isa", ISAS)
def test_padded_or_partial_windows_keep_the_window_kernel(isa):
    x = randn(rng_for("partial-window"), 1, 3, 7, 7)
    for kernel, pads in (((7, 7), (1, 1, 1, 1)), ((6, 7), (0, 0, 0, 0))):
        y, name = K.pool(x, "avg", list(kernel), [1, 1], list(pads), [1, 1], False, True, isa=isa,
                         return_kernel=True)
        assert name.startswith("f32-pool-"), name
        close(y, pool_ref(x, "avg", kernel, (1, 1), pads, (1, 1), False, True), 1e-5, 1e-6)


# Depthwise 3x3 stride 2 reads the unpadded input with masked even-element loads: images narrower than a
# vector, exactly two vectors wide, wider, odd, asymmetric and zero pads.
DW_S2 = [((1, 4, 5, 5), (1, 1, 1, 1)), ((1, 3, 9, 32), (1, 1, 1, 1)), ((2, 5, 13, 71), (1, 1, 1, 1)),
         ((1, 6, 12, 40), (0, 1, 1, 0)), ((1, 2, 11, 34), (0, 0, 0, 0)), ((1, 3, 8, 17), (1, 0, 0, 1))]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", DW_S2, ids=str)
def test_depthwise_stride2_unpadded_reads(isa, case):
    shape, pads = case
    c = shape[1]
    rng = rng_for("dw-s2", case)
    x, wt, b = randn(rng, *shape), randn(rng, c, 1, 3, 3), randn(rng, c)
    y, name = K.conv2d(x, wt, b, strides=[2, 2], pads=list(pads), group=c, activation="relu6", isa=isa,
                       return_kernel=True)
    assert name.startswith("f32-dwconv-3x3s2-"), name
    close(y, act_ref(conv_ref(x, wt, b, (2, 2), pads, (1, 1), c), "relu6"))


# n, c_in, h, w, c_out, k, stride, pad: small maps where a tier may run the GEMM pixel-major
PIXEL_MAJOR = [(1, 64, 7, 7, 140, 1, 1, 0), (2, 40, 7, 7, 48, 3, 1, 1), (1, 24, 13, 13, 96, 3, 2, 1),
               (1, 512, 7, 7, 96, 1, 1, 0), (1, 33, 6, 5, 50, 3, 1, 1), (1, 48, 14, 14, 64, 1, 1, 0),
               (2, 32, 27, 27, 64, 3, 2, 1), (1, 5, 8, 8, 28, 3, 1, 1)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", PIXEL_MAJOR, ids=lambda c: "n{}c{}x{}x{}o{}k{}s{}p{}".format(*c))
def test_small_map_convolution(isa, case):
    n, c, h, w, co, k, s, p = case
    rng = rng_for("pixel-major", case)
    x, wt, b = randn(rng, n, c, h, w), randn(rng, co, c, k, k), randn(rng, co)
    conv = conv_ref(x, wt, b, (s, s), (p,) * 4, (1, 1), 1)
    res = randn(rng, *conv.shape)
    for act, residual in (("relu", None), ("sigmoid", res), ("clip", res)):
        y, name = K.conv2d(x, wt, b, strides=[s, s], pads=[p] * 4, activation=act, clip_min=-0.5, clip_max=0.75,
                           isa=isa, residual=residual, return_kernel=True)
        close(y, act_ref(conv + (0 if residual is None else res), act, -0.5, 0.75))
    if isa == "avx512" and conv.shape[2:] == (7, 7) and (k == 1 or s == 2):  # 49 pixels: seven 7-row tiles
        assert name == "f32-gemm-7x48-avx512", name
    if isa == "avx512" and conv.shape[2:] == (14, 14):  # 196 pixels: fourteen 14-row tiles
        assert name == "f32-gemm-14x32-avx512", name
    if k == 3 and s == 1:  # stride-1 3x3 keeps the indirect GEMM (no packing)
        assert "igemm" in name or "gconv" in name, name
    one = K.conv2d(x, wt, b, strides=[s, s], pads=[p] * 4, activation="relu", isa=isa, residual=res)
    assert np.array_equal(one, K.conv2d(x, wt, b, strides=[s, s], pads=[p] * 4, activation="relu", isa=isa,
                                        residual=res, threads=2)), f"seed {SEED}"
