"""Micro-kernels through netscore_fast._core._testing (tiers: _core.kernels), on every ISA tier this CPU
supports, against independent references: numpy (convolution by explicit tap loops + einsum, pooling by
window loops, int8 by exact integer arithmetic) and the onnx package's own backend node cases (inputs and
expected outputs shipped with onnx). Also runs the C++ reference test executable when it has been built
(NETSCORE_BUILD_TESTS=ON)."""
from __future__ import annotations

import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

core = pytest.importorskip("netscore_fast._core")
DISPATCH = core.kernels
K = getattr(core, "_testing", None)
if K is None:
    pytest.skip("built without NETSCORE_TEST_BINDINGS (no _core._testing)", allow_module_level=True)
ISAS = DISPATCH.supported_isas()
ACTIVATIONS = ["none", "relu", "relu6", "clip", "sigmoid", "hardswish", "silu", "gelu"]
SEED = 1234


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng([SEED, *[abs(hash(str(k))) % (2**31) for k in key]])


def randn(rng, *shape) -> np.ndarray:
    # Uniform in [-1, 1]: never all zeros, never denormal.
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


# ------------------------------------------------------------------ numpy references
_erf = np.frompyfunc(math.erf, 1, 1)


def act_ref(x: np.ndarray, name: str, lo: float = 0.0, hi: float = 6.0) -> np.ndarray:
    x = x.astype(np.float64)
    if name == "none":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "relu6":
        return np.clip(x, 0.0, 6.0)
    if name == "clip":
        return np.clip(x, lo, hi)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "hardswish":  # ONNX HardSwish: x * max(0, min(1, x/6 + 1/2))
        return x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    if name == "gelu":  # ONNX Gelu, approximate="none": 0.5 x (1 + erf(x / sqrt 2))
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))
    raise ValueError(name)


def conv_ref(x, w, b, strides, pads, dilations, group):
    """Direct definition: sum over taps of strided input slices times the tap's weights (float64)."""
    n, c, h, wd = x.shape
    co, cig, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dilations
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pads[1] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    cog = co // group
    wg = w.astype(np.float64).reshape(group, cog, cig, kh, kw)
    out = np.zeros((n, group, cog, oh, ow))
    for ky in range(kh):
        for kx in range(kw):
            patch = xp[:, :, ky * dh: ky * dh + sh * (oh - 1) + 1: sh, kx * dw: kx * dw + sw * (ow - 1) + 1: sw]
            out += np.einsum("ngchw,goc->ngohw", patch.reshape(n, group, cig, oh, ow), wg[:, :, :, ky, kx])
    out = out.reshape(n, co, oh, ow)
    if b is not None:
        out += b.reshape(1, co, 1, 1)
    return out


def pool_out(size, k, s, pb, pe, d, ceil_mode):
    span = size + pb + pe - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + pb:  # the last window may not start in the padding
        out -= 1
    return out


def pool_ref(x, kind, kernel, strides, pads, dilations, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    kh, kw = kernel
    oh = pool_out(h, kh, strides[0], pads[0], pads[2], dilations[0], ceil_mode)
    ow = pool_out(w, kw, strides[1], pads[1], pads[3], dilations[1], ceil_mode)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            vals, with_pad = [], 0
            for ky in range(kh):
                for kx in range(kw):
                    ih = i * strides[0] - pads[0] + ky * dilations[0]
                    iw = j * strides[1] - pads[1] + kx * dilations[1]
                    if -pads[0] <= ih < h + pads[2] and -pads[1] <= iw < w + pads[3]:
                        with_pad += 1
                    if 0 <= ih < h and 0 <= iw < w:
                        vals.append(x[:, :, ih, iw].astype(np.float64))
            v = np.stack(vals)
            if kind == "max":
                y[:, :, i, j] = v.max(axis=0)
            else:
                y[:, :, i, j] = v.sum(axis=0) / (with_pad if count_include_pad else len(vals))
    return y


def requant_ref(acc, x_scale, w_scale, y_scale, y_zp, lo=-128, hi=127):
    scale = np.float32(np.float64(x_scale) * np.float64(w_scale) / np.float64(y_scale))
    v = np.rint(acc.astype(np.float32) * scale).astype(np.int64) + y_zp  # round half to even
    return np.clip(v, lo, hi).astype(np.int8)


def close(got, want, rtol=2e-4, atol=2e-4):
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ dispatch
def test_isa_tiers_are_consistent():
    assert ISAS[0] == "scalar"
    assert DISPATCH.best_isa() == ISAS[-1]
    assert DISPATCH.active_isa() in ISAS
    with pytest.raises(ValueError):
        K.conv2d(np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 1, 1), np.float32), isa="no-such-tier")


def test_forced_tier_by_environment():
    code = "import netscore_fast._core as c; print(c.kernels.active_isa())"
    env = dict(os.environ, NETSCORE_ISA="scalar")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "scalar", out.stderr


# ------------------------------------------------------------------ fp32 convolution
CONV_CASES = [
    # (n, c_in, h, w, c_out, k, stride, pads(t,l,b,r), dilation, group)
    (1, 3, 9, 11, 5, 3, 1, (1, 1, 1, 1), 1, 1),
    (2, 7, 13, 10, 33, 3, 2, (1, 1, 1, 1), 1, 1),
    (1, 16, 10, 10, 20, 1, 1, (0, 0, 0, 0), 1, 1),
    (1, 16, 9, 9, 24, 1, 2, (0, 0, 0, 0), 1, 1),
    (1, 5, 15, 14, 6, 5, 1, (2, 2, 2, 2), 1, 1),
    (1, 3, 23, 23, 8, 7, 2, (3, 3, 3, 3), 1, 1),
    (1, 3, 20, 21, 12, 3, 2, (1, 1, 1, 1), 1, 1),
    (1, 6, 12, 12, 9, 3, 1, (2, 2, 2, 2), 2, 1),
    (1, 4, 11, 9, 6, 3, 1, (2, 0, 1, 3), 1, 1),
    (1, 32, 9, 9, 64, 3, 1, (1, 1, 1, 1), 1, 2),
    (1, 24, 11, 11, 24, 3, 1, (1, 1, 1, 1), 1, 6),
    (1, 12, 11, 11, 18, 3, 2, (1, 1, 1, 1), 1, 6),
    (1, 9, 17, 19, 9, 3, 1, (1, 1, 1, 1), 1, 9),
    (2, 5, 18, 21, 5, 3, 2, (1, 1, 1, 1), 1, 5),
    (1, 4, 16, 33, 4, 5, 1, (2, 2, 2, 2), 1, 4),
    (1, 3, 19, 20, 3, 5, 2, (2, 2, 2, 2), 1, 3),
    (1, 4, 14, 15, 4, 3, 1, (2, 2, 2, 2), 2, 4),
    (1, 6, 10, 10, 12, 3, 1, (1, 1, 1, 1), 1, 6),
]


def conv_case_id(c):
    return "n{}c{}x{}x{}o{}k{}s{}p{}d{}g{}".format(*c)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", CONV_CASES, ids=conv_case_id)
def test_conv2d_matches_numpy(isa, case):
    n, c, h, w, co, k, s, pads, d, g = case
    rng = rng_for("conv", case)
    x = randn(rng, n, c, h, w)
    wt = randn(rng, co, c // g, k, k)
    b = randn(rng, co)
    act = ACTIVATIONS[CONV_CASES.index(case) % len(ACTIVATIONS)]
    y, kernel = K.conv2d(x, wt, b, strides=[s, s], pads=list(pads), dilations=[d, d], group=g, activation=act,
                         clip_min=-0.5, clip_max=0.75, isa=isa, return_kernel=True)
    assert kernel.endswith(isa if isa != "neondot" else "neon"), kernel
    want = act_ref(conv_ref(x, wt, b, (s, s), pads, (d, d), g), act, -0.5, 0.75)
    assert y.shape == want.shape
    close(y, want)


@pytest.mark.parametrize("isa", ISAS)
def test_conv2d_threads_match_one_thread(isa):
    rng = rng_for("threads", isa)
    x, wt, b = randn(rng, 2, 16, 20, 20), randn(rng, 32, 16, 3, 3), randn(rng, 32)
    one = K.conv2d(x, wt, b, pads=[1, 1, 1, 1], activation="relu", isa=isa)
    three = K.conv2d(x, wt, b, pads=[1, 1, 1, 1], activation="relu", isa=isa, threads=3)
    close(three, act_ref(conv_ref(x, wt, b, (1, 1), (1, 1, 1, 1), (1, 1), 1), "relu"))
    np.testing.assert_allclose(one, three, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("k,s", [(3, 1), (3, 2), (5, 1), (5, 2), (7, 1)])
def test_dwconv_fast_paths(isa, k, s):
    rng = rng_for("dw", isa, k, s)
    x, wt, b = randn(rng, 1, 6, 17, 23), randn(rng, 6, 1, k, k), randn(rng, 6)
    p = k // 2
    y, kernel = K.dwconv(x, wt, b, strides=[s, s], pads=[p] * 4, activation="relu6", isa=isa, return_kernel=True)
    assert kernel.startswith("f32-dwconv-")
    if k in (3, 5):
        assert f"{k}x{k}s{s}" in kernel
    close(y, act_ref(conv_ref(x, wt, b, (s, s), (p,) * 4, (1, 1), 6), "relu6"))


# ------------------------------------------------------------------ fp32 GEMM / GEMV
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (1, 300, 67), (1, 1024, 1000), (2, 7, 15), (5, 64, 130), (9, 300, 64)])
@pytest.mark.parametrize("trans_b", [True, False])
def test_gemm_matches_numpy(isa, m, k, n, trans_b):
    rng = rng_for("gemm", m, k, n, trans_b)
    x, b = randn(rng, m, k), randn(rng, n)
    w = randn(rng, n, k) if trans_b else randn(rng, k, n)
    act = ACTIVATIONS[(m + k + n) % len(ACTIVATIONS)]
    y, kernel = K.gemm(x, w, b, trans_b=trans_b, activation=act, clip_min=-0.5, clip_max=0.75, isa=isa,
                       return_kernel=True)
    assert ("gemv" in kernel) == (m == 1)
    ref = x.astype(np.float64) @ (w.T if trans_b else w).astype(np.float64) + b
    close(y, act_ref(ref, act, -0.5, 0.75))


# ------------------------------------------------------------------ pooling
POOL_CASES = [
    # (kernel, stride, pads, dilation, ceil_mode, count_include_pad, shape)
    ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1), False, False, (1, 3, 17, 19)),
    ((2, 2), (2, 2), (0, 0, 0, 0), (1, 1), False, False, (2, 2, 12, 12)),
    ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False, True, (1, 2, 9, 35)),
    ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False, False, (2, 3, 8, 17)),   # NAS cell pool (3x3 s1 direct kernel)
    ((3, 3), (1, 1), (1, 0, 2, 1), (1, 1), False, False, (1, 2, 5, 40)),   # direct kernel, uneven pads
    ((3, 3), (1, 1), (2, 2, 0, 0), (1, 1), False, True, (1, 2, 6, 6)),     # pads of 2: the general kernel
    ((3, 3), (2, 2), (0, 0, 0, 0), (1, 1), True, False, (1, 2, 10, 11)),
    ((3, 3), (1, 1), (2, 2, 2, 2), (2, 2), False, False, (1, 1, 13, 13)),
    ((3, 3), (2, 2), (1, 1, 1, 2), (1, 1), True, True, (1, 3, 8, 9)),
    ((7, 7), (1, 1), (0, 0, 0, 0), (1, 1), False, False, (2, 2, 7, 7)),
]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_matches_numpy(isa, kind, case):
    kernel, stride, pads, dil, ceil_mode, incl, shape = case
    x = randn(rng_for("pool", case), *shape)
    y = K.pool(x, kind, list(kernel), list(stride), list(pads), list(dil), ceil_mode, incl, isa=isa)
    close(y, pool_ref(x, kind, kernel, stride, pads, dil, ceil_mode, incl), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("hw", [(1, 1), (7, 7), (3, 11), (14, 14)])
def test_global_avg_pool(isa, hw):
    x = randn(rng_for("gap", hw), 2, 5, *hw)
    close(K.global_avg_pool(x, isa=isa), x.astype(np.float64).mean(axis=(2, 3), keepdims=True), 1e-5, 1e-6)


# ------------------------------------------------------------------ elementwise
BCAST = [((2, 3, 5, 7), (2, 3, 5, 7)), ((1, 16, 9, 9), (1, 16, 1, 1)), ((1, 4, 5, 6), (1,)),
         ((2, 3, 4, 37), (37,)), ((1, 1, 6, 7), (2, 3, 6, 7)), ((5, 1, 3), (1, 4, 1)), ((1, 64, 40, 41), (1, 64, 40, 41))]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("shapes", BCAST, ids=str)
def test_binary_broadcast(isa, op, shapes):
    rng = rng_for("bin", shapes)
    a, b = randn(rng, *shapes[0]), randn(rng, *shapes[1])
    y = K.binary(a, b, op, isa=isa, threads=2)
    want = a + b if op == "add" else a * b  # numpy's own broadcasting, float32 like ours
    assert y.shape == want.shape
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_unary_activations(isa, act):
    x = np.random.default_rng(7).uniform(-9.0, 9.0, 1037).astype(np.float32)
    y = K.unary(x, act, clip_min=-2.0, clip_max=3.0, isa=isa)
    close(y, act_ref(x, act, -2.0, 3.0), rtol=3e-6, atol=1e-6)


# ------------------------------------------------------------------ int8
def qconv_ref(x, w, b, x_scale, x_zp, w_scale, y_scale, y_zp, strides, pads, dil, group, act):
    acc = conv_ref((x.astype(np.int64) - x_zp).astype(np.float64), w.astype(np.float64), None, strides, pads, dil,
                   group)
    acc = np.rint(acc).astype(np.int64) + b.reshape(1, -1, 1, 1)  # exact: float64 holds these integer sums
    lo, hi = -128, 127
    if act in ("relu", "relu6"):
        lo = max(lo, y_zp)
    if act == "relu6":
        hi = min(hi, int(np.rint(6.0 / y_scale)) + y_zp)
    return requant_ref(acc, x_scale, w_scale, y_scale, y_zp, lo, hi)


# int8 convolution: a subset of the fp32 cases (plain, strided, pointwise, dilated, grouped, depthwise).
QCONV_CASES = [CONV_CASES[i] for i in (0, 1, 2, 7, 10, 12, 13)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", QCONV_CASES, ids=conv_case_id)
def test_qconv2d_exact(isa, case):
    n, c, h, w, co, k, s, pads, d, g = case
    rng = rng_for("qconv", case)
    x = rng.integers(-128, 128, (n, c, h, w), dtype=np.int8)
    wt = rng.integers(-127, 128, (co, c // g, k, k), dtype=np.int8)
    b = rng.integers(-3000, 3000, co, dtype=np.int32)
    act = ["none", "relu", "relu6"][QCONV_CASES.index(case) % 3]
    params = dict(x_scale=0.05, x_zero_point=-7, w_scale=0.01, y_scale=0.11, y_zero_point=4)
    y = K.qconv2d(x, wt, b, strides=[s, s], pads=list(pads), dilations=[d, d], group=g, activation=act, isa=isa,
                  **params)
    want = qconv_ref(x, wt, b, 0.05, -7, 0.01, 0.11, 4, (s, s), pads, (d, d), g, act)
    np.testing.assert_array_equal(y, want)


# int8 depthwise: the corners of its flat output grid (row and column strides apart, stride 3, dilation with
# stride, asymmetric padding and padding wider than the image, one-column windows, rows wider than a kernel
# step, zero points at the ends of int8 so |x - zp| reaches 255, weights down to -128).
QDW_CASES = [
    # (n, c, h, w, kh, kw, (sh, sw), pads(t,l,b,r), (dh, dw), x_zp)
    (1, 8, 14, 14, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), -7),
    (2, 5, 15, 70, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 127),
    (1, 6, 29, 31, 3, 3, (2, 2), (0, 1, 1, 0), (1, 1), -128),
    (1, 4, 13, 17, 5, 5, (2, 1), (2, 2, 2, 2), (1, 1), 3),
    (1, 4, 13, 17, 3, 3, (1, 2), (1, 0, 2, 1), (2, 2), 0),
    (1, 3, 20, 22, 3, 3, (3, 3), (1, 1, 1, 1), (1, 1), 5),
    (1, 3, 9, 40, 7, 7, (1, 1), (3, 3, 3, 3), (1, 1), -1),
    (1, 5, 12, 12, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 9),
    (1, 5, 12, 12, 2, 2, (2, 2), (0, 0, 0, 0), (1, 1), -9),
    (1, 7, 7, 7, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1), 20),
    (1, 4, 6, 5, 3, 3, (1, 1), (4, 5, 0, 3), (2, 3), -3),
    (1, 2, 40, 3, 3, 1, (1, 1), (1, 0, 1, 0), (1, 1), 1),
    (1, 3, 57, 57, 3, 3, (2, 2), (0, 0, 1, 1), (1, 1), -20),
]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", QDW_CASES, ids=lambda c: "n{}c{}x{}x{}k{}x{}s{}p{}d{}zp{}".format(*c))
def test_qconv2d_depthwise_exact(isa, case):
    n, c, h, w, kh, kw, strides, pads, dil, x_zp = case
    rng = rng_for("qdw", case)
    x = rng.integers(-128, 128, (n, c, h, w), dtype=np.int8)
    wt = rng.integers(-128, 128, (c, 1, kh, kw), dtype=np.int8)
    b = rng.integers(-3000, 3000, c, dtype=np.int32)
    act = ["none", "relu", "relu6"][QDW_CASES.index(case) % 3]
    y = K.qconv2d(x, wt, b, strides=list(strides), pads=list(pads), dilations=list(dil), group=c, activation=act,
                  isa=isa, x_scale=0.05, x_zero_point=x_zp, w_scale=0.01, y_scale=0.11, y_zero_point=4)
    want = qconv_ref(x, wt, b, 0.05, x_zp, 0.01, 0.11, 4, strides, pads, dil, c, act)
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (1, 64, 33), (3, 5, 16), (6, 130, 7)])
def test_qgemm_exact(isa, m, k, n):
    rng = rng_for("qgemm", m, k, n)
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-127, 128, (n, k), dtype=np.int8)
    b = rng.integers(-1000, 1000, n, dtype=np.int32)
    y = K.qgemm(x, w, b, x_scale=0.02, x_zero_point=-9, w_scale=0.03, y_scale=0.07, y_zero_point=3, isa=isa)
    acc = (x.astype(np.int64) + 9) @ w.astype(np.int64).T + b
    np.testing.assert_array_equal(y, requant_ref(acc, 0.02, 0.03, 0.07, 3))


def test_requant_rounds_half_to_even():
    # acc * scale = k + 0.5 exactly: 1x1 conv of one pixel, x_scale * w_scale / y_scale = 0.5.
    x = np.array([1, 3, 5, -1, -3], np.int8).reshape(1, 5, 1, 1)
    w = np.eye(5, dtype=np.int8).reshape(5, 5, 1, 1)
    for isa in ISAS:
        y = K.qconv2d(x, w, None, x_scale=0.5, w_scale=1.0, y_scale=1.0, isa=isa)
        assert y.ravel().tolist() == [0, 2, 2, 0, -2], isa  # 0.5->0, 1.5->2, 2.5->2, -0.5->0, -1.5->-2


# ------------------------------------------------------------------ onnx backend node cases
def _backend_cases(prefixes):
    try:
        from onnx.backend.test.case.node import collect_testcases
    except ImportError:  # pragma: no cover
        return []
    out = []
    for case in collect_testcases(None):
        if case.name.startswith(prefixes) and not case.name.endswith("_expanded") and case.data_sets:
            out.append(case)
    return out


def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _run_backend_case(case, isa):
    """Runs an onnx node case with our kernels; returns (got, want) or None when its attributes are outside
    what the kernel API takes (auto_pad other than NOTSET, 1-D/3-D, integer types, alpha/beta, ...)."""
    node = case.model.graph.node[0]
    at = _attrs(node)
    inputs, outputs = case.data_sets[0]
    x = inputs[0]
    if x.dtype != np.float32 or at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    op = node.op_type
    if op == "Conv" and x.ndim == 4:
        w = inputs[1]
        b = inputs[2] if len(inputs) > 2 else None
        pads = list(at.get("pads", [0, 0, 0, 0]))
        y = K.conv2d(x, w, b, strides=list(at.get("strides", [1, 1])), pads=[pads[0], pads[1], pads[2], pads[3]],
                     dilations=list(at.get("dilations", [1, 1])), group=at.get("group", 1), isa=isa)
        return y, outputs[0]
    if op in ("MaxPool", "AveragePool") and x.ndim == 4 and len(node.output) == 1 and at.get("storage_order", 0) == 0:
        pads = list(at.get("pads", [0, 0, 0, 0]))
        y = K.pool(x, "max" if op == "MaxPool" else "avg", list(at["kernel_shape"]), list(at.get("strides", [1, 1])),
                   [pads[0], pads[1], pads[2], pads[3]], list(at.get("dilations", [1, 1])),
                   bool(at.get("ceil_mode", 0)), bool(at.get("count_include_pad", 0)), isa=isa)
        return y, outputs[0]
    if op == "GlobalAveragePool" and x.ndim == 4:
        return K.global_avg_pool(x, isa=isa), outputs[0]
    if op in ("Add", "Mul"):
        return K.binary(x, inputs[1], op.lower(), isa=isa), outputs[0]
    if op in ("Relu", "Sigmoid", "HardSwish") or (op == "Gelu" and at.get("approximate", b"none") in (b"none", "none")):
        return K.unary(x, op.lower(), isa=isa), outputs[0]
    if op == "Gemm" and x.ndim == 2 and not at.get("transA", 0) and at.get("alpha", 1.0) == 1.0 \
            and at.get("beta", 1.0) == 1.0:
        c = inputs[2] if len(inputs) > 2 else None
        if c is not None and c.size != inputs[1].shape[0 if at.get("transB", 0) else 1]:
            return None
        y = K.gemm(x, inputs[1], None if c is None else c.reshape(-1), trans_b=bool(at.get("transB", 0)), isa=isa)
        return y, outputs[0]
    return None


BACKEND = _backend_cases(("test_conv_", "test_maxpool_2d", "test_averagepool_2d", "test_globalaveragepool",
                          "test_add", "test_mul", "test_relu", "test_sigmoid", "test_hardswish", "test_gelu_default",
                          "test_gemm_default", "test_gemm_transposeB"))


@pytest.mark.parametrize("isa", ISAS)
def test_onnx_backend_node_cases(isa):
    ran = []
    for case in BACKEND:
        res = _run_backend_case(case, isa)
        if res is None:
            continue
        got, want = res
        assert got.shape == want.shape, case.name
        # Some expected outputs are stored rounded to 4 decimals (e.g. the average-pool ceil-mode cases).
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=6e-5, err_msg=case.name)
        ran.append(case.name)
    # The conv, pooling (incl. ceil mode windows starting on the padding) and activation cases must be among them.
    for must in ("test_conv_with_strides_and_asymmetric_padding", "test_maxpool_2d_ceil_output_size_reduce_by_one",
                 "test_averagepool_2d_ceil_last_window_starts_on_pad", "test_averagepool_2d_pads_count_include_pad",
                 "test_gelu_default_2", "test_hardswish", "test_add_bcast"):
        if any(c.name == must for c in BACKEND):
            assert must in ran, must
    assert len(ran) >= 20


# ------------------------------------------------------------------ the C++ reference tests
def _native_elf(path: pathlib.Path) -> bool:
    """True if `path` is an ELF executable for this machine (build/ may also hold the ARM cross build)."""
    import platform
    import struct
    machines = {"x86_64": 62, "AMD64": 62, "aarch64": 183, "arm64": 183}
    try:
        head = path.read_bytes()[:20]
    except OSError:
        return False
    if head[:4] != b"\x7fELF" or len(head) < 20:
        return False
    return struct.unpack("<H", head[18:20])[0] == machines.get(platform.machine(), -1)


def _cpp_test_binary():
    env = os.environ.get("NETSCORE_TEST_KERNELS_BIN")
    if env:
        return pathlib.Path(env)
    root = pathlib.Path(__file__).resolve().parents[1]
    found = sorted((p for p in root.glob("build/*/cpp/tests/test_kernels") if _native_elf(p)),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def test_cpp_kernel_tests():
    exe = _cpp_test_binary()
    if exe is None or not exe.exists():
        pytest.skip("C++ test executable not built (configure with -DNETSCORE_BUILD_TESTS=ON, or set "
                    "NETSCORE_TEST_KERNELS_BIN)")
    out = subprocess.run([str(exe), "--quick"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 failures" in out.stdout


# Shapes whose parallel split differs from one thread's: a stem (one image, one group: output rows split into
# chunks, each building its own padded rows), a general direct kernel, a pointwise GEMM and a padded 3x3 GEMM
# (column blocks dealt out evenly), with odd sizes so chunks and blocks end mid-tile. Each output value is
# computed by the same operations in the same order whatever the split, so the results must be bit-identical.
THREAD_CASES = [
    # n, c, h, w, co, k, s, pads, activation
    (1, 3, 37, 41, 32, 3, 2, (1, 1, 1, 1), "relu"),
    (1, 3, 30, 29, 20, 3, 2, (0, 1, 1, 0), "hardswish"),
    (1, 3, 33, 27, 16, 7, 2, (3, 3, 3, 3), "silu"),
    (1, 3, 23, 19, 12, 5, 1, (2, 2, 2, 2), "relu6"),
    (1, 32, 29, 31, 64, 1, 1, (0, 0, 0, 0), "relu"),
    (1, 8, 71, 67, 13, 1, 1, (0, 0, 0, 0), "sigmoid"),
    (1, 16, 25, 27, 24, 3, 1, (1, 1, 1, 1), "gelu"),
    (2, 16, 13, 9, 8, 3, 1, (1, 1, 1, 1), "none"),
    # Packed GEMMs of one K block and at least 8 row panels (64+ output channels on every tile), where
    # several threads run the row panels outermost (8+ panels whatever the tile: MR <= 14; the last short).
    (2, 24, 19, 23, 130, 1, 1, (0, 0, 0, 0), "relu6"),
    (1, 12, 37, 35, 115, 1, 2, (0, 0, 0, 0), "hardswish"),
]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", THREAD_CASES, ids=lambda c: "n{}c{}x{}x{}o{}k{}s{}p{}{}".format(*c))
def test_conv2d_two_threads_bit_identical(isa, case):
    n, c, h, w, co, k, s, pads, act = case
    rng = rng_for("threads2", isa, case)
    x, wt, b = randn(rng, n, c, h, w), randn(rng, co, c, k, k), randn(rng, co)
    kw = dict(strides=[s, s], pads=list(pads), activation=act, isa=isa)
    one, kernel = K.conv2d(x, wt, b, threads=1, return_kernel=True, **kw)
    close(one, act_ref(conv_ref(x, wt, b, (s, s), pads, (1, 1), 1), act))
    for threads in (2, 3):
        many = K.conv2d(x, wt, b, threads=threads, **kw)
        assert np.array_equal(one, many), f"{kernel}: threads={threads} differs from one thread (seed {SEED})"
