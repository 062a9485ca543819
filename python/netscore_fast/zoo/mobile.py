"""Builders for the efficient networks: MobileNet v1/v2/v3, MnasNet, EfficientNet, ShuffleNet v1/v2,
SqueezeNext and Xception.

torchvision layouts where torchvision has the model (mobilenetv2.py, mobilenetv3.py, mnasnet.py,
efficientnet.py, shufflenetv2.py); otherwise the layout of the paper's reference implementation, named in
each builder's docstring.
"""
from __future__ import annotations

import math
from typing import Optional

from ._graph import Net


def make_divisible(v: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    """Round channels to a multiple of `divisor`, never more than 10 % below v (TF-slim / torchvision rule)."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# -- MobileNet v1 --------------------------------------------------------------------------------------
_MOBILENET_V1 = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                 (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def mobilenet_v1(net: Net, width: float) -> str:
    """MobileNet v1 (Howard et al. 2017, Table 1) as in TF-slim mobilenet_v1.py: channels int(c * width)
    (at least 8), conv-BN-ReLU everywhere, depthwise 3x3 then pointwise 1x1, global pool, 1000-way FC."""
    def depth(c: int) -> int:
        return max(int(c * width), 8)

    x = net.conv_bn(net.input, depth(32), 3, 2, 1)
    for c, s in _MOBILENET_V1:
        c_in = net.shapes[x][0]
        x = net.conv_bn(x, c_in, 3, s, 1, groups=c_in)
        x = net.conv_bn(x, depth(c), 1)
    return net.classifier(x)


# -- MobileNet v2 --------------------------------------------------------------------------------------
_MOBILENET_V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                 (6, 320, 1, 1)]


def mobilenet_v2(net: Net, width: float) -> str:
    """torchvision MobileNetV2 with width_mult (round_nearest=8); inverted residuals with linear bottlenecks."""
    x = net.conv_bn(net.input, make_divisible(32 * width), 3, 2, 1, act="relu6")
    for t, c, n, s in _MOBILENET_V2:
        out = make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            c_in = net.shapes[x][0]
            hidden = int(round(c_in * t))
            h = net.conv_bn(x, hidden, 1, act="relu6") if t != 1 else x
            h = net.conv_bn(h, hidden, 3, stride, 1, groups=hidden, act="relu6")
            h = net.conv_bn(h, out, 1, act=None)
            x = net.add(x, h) if stride == 1 and c_in == out else h
    x = net.conv_bn(x, make_divisible(1280 * max(1.0, width)), 1, act="relu6")
    return net.classifier(x)


# -- MobileNet v3 --------------------------------------------------------------------------------------
# (kernel, expanded, out, use_se, activation, stride), input channels follow from the previous row
_MOBILENET_V3 = {
    "large": ([(3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2), (3, 72, 24, False, "relu", 1),
               (5, 72, 40, True, "relu", 2), (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
               (3, 240, 80, False, "hardswish", 2), (3, 200, 80, False, "hardswish", 1),
               (3, 184, 80, False, "hardswish", 1), (3, 184, 80, False, "hardswish", 1),
               (3, 480, 112, True, "hardswish", 1), (3, 672, 112, True, "hardswish", 1),
               (5, 672, 160, True, "hardswish", 2), (5, 960, 160, True, "hardswish", 1),
               (5, 960, 160, True, "hardswish", 1)], 1280),
    "small": ([(3, 16, 16, True, "relu", 2), (3, 72, 24, False, "relu", 2), (3, 88, 24, False, "relu", 1),
               (5, 96, 40, True, "hardswish", 2), (5, 240, 40, True, "hardswish", 1),
               (5, 240, 40, True, "hardswish", 1), (5, 120, 48, True, "hardswish", 1),
               (5, 144, 48, True, "hardswish", 1), (5, 288, 96, True, "hardswish", 2),
               (5, 576, 96, True, "hardswish", 1), (5, 576, 96, True, "hardswish", 1)], 1024),
}


def mobilenet_v3(net: Net, size: str) -> str:
    """torchvision MobileNetV3 large/small (width 1.0): SE with Hardsigmoid gate, BN eps 1e-3."""
    rows, last_channel = _MOBILENET_V3[size]
    x = net.conv_bn(net.input, 16, 3, 2, 1, act="hardswish", eps=1e-3)
    for k, exp, out, se, act, s in rows:
        c_in = net.shapes[x][0]
        h = net.conv_bn(x, exp, 1, act=act, eps=1e-3) if exp != c_in else x
        h = net.conv_bn(h, exp, k, s, (k - 1) // 2, groups=exp, act=act, eps=1e-3)
        if se:
            h = net.squeeze_excite(h, make_divisible(exp // 4), act="relu", gate="hardsigmoid")
        h = net.conv_bn(h, out, 1, act=None, eps=1e-3)
        x = net.add(x, h) if s == 1 and c_in == out else h
    x = net.conv_bn(x, 6 * net.shapes[x][0], 1, act="hardswish", eps=1e-3)
    x = net.flatten(net.gap(x))
    x = net.hardswish(net.linear(x, last_channel))
    return net.linear(x, 1000)


# -- MnasNet -------------------------------------------------------------------------------------------
def mnasnet(net: Net, alpha: float) -> str:
    """torchvision MnasNet-A1 without SE (mnasnet1_0 for alpha=1.0)."""
    d = [make_divisible(c * alpha, 8, 8) if alpha != 1.0 else c for c in (32, 16, 24, 40, 80, 96, 192, 320)]
    x = net.conv_bn(net.input, d[0], 3, 2, 1)
    x = net.conv_bn(x, d[0], 3, 1, 1, groups=d[0])
    x = net.conv_bn(x, d[1], 1, act=None)
    for out, k, s, e, r in ((d[2], 3, 2, 3, 3), (d[3], 5, 2, 3, 3), (d[4], 5, 2, 6, 3), (d[5], 3, 1, 6, 2),
                            (d[6], 5, 2, 6, 4), (d[7], 3, 1, 6, 1)):
        for i in range(r):
            stride = s if i == 0 else 1
            c_in = net.shapes[x][0]
            h = net.conv_bn(x, c_in * e, 1)
            h = net.conv_bn(h, c_in * e, k, stride, k // 2, groups=c_in * e)
            h = net.conv_bn(h, out, 1, act=None)
            x = net.add(x, h) if stride == 1 and c_in == out else h
    x = net.conv_bn(x, 1280, 1)
    return net.classifier(x)


# -- EfficientNet --------------------------------------------------------------------------------------
# (expand, kernel, stride, in, out, layers) of EfficientNet-B0 (Tan & Le 2019, Table 1)
_EFFICIENTNET_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                    (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
EFFICIENTNET_SCALES = {"b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 288), "b3": (1.2, 1.4, 300)}


def efficientnet(net: Net, variant: str) -> str:
    """torchvision EfficientNet-B0..B3 (width, depth multipliers; MBConv with SE at in_channels // 4, SiLU)."""
    w, dm, _ = EFFICIENTNET_SCALES[variant]
    x = net.conv_bn(net.input, make_divisible(32 * w), 3, 2, 1, act="silu")
    for e, k, s, _c_in, c_out, n in _EFFICIENTNET_B0:
        out = make_divisible(c_out * w)
        for i in range(int(math.ceil(n * dm))):
            stride = s if i == 0 else 1
            c_in = net.shapes[x][0]
            exp = make_divisible(c_in * e)
            h = net.conv_bn(x, exp, 1, act="silu") if exp != c_in else x
            h = net.conv_bn(h, exp, k, stride, (k - 1) // 2, groups=exp, act="silu")
            h = net.squeeze_excite(h, max(1, c_in // 4), act="silu", gate="sigmoid")
            h = net.conv_bn(h, out, 1, act=None)
            x = net.add(x, h) if stride == 1 and c_in == out else h
    x = net.conv_bn(x, 4 * net.shapes[x][0], 1, act="silu")
    return net.classifier(x)


# -- ShuffleNet v2 -------------------------------------------------------------------------------------
SHUFFLENET_V2_CHANNELS = {"0_5": (24, 48, 96, 192, 1024), "1_0": (24, 116, 232, 464, 1024),
                          "1_5": (24, 176, 352, 704, 1024), "2_0": (24, 244, 488, 976, 2048)}


def shufflenet_v2(net: Net, size: str) -> str:
    """torchvision ShuffleNetV2 (Ma et al. 2018): channel split, two branches, channel shuffle."""
    ch = SHUFFLENET_V2_CHANNELS[size]
    x = net.conv_bn(net.input, ch[0], 3, 2, 1)
    x = net.maxpool(x, 3, 2, 1)
    for out, repeats in zip(ch[1:4], (4, 8, 4)):
        bf = out // 2
        for i in range(repeats):
            if i == 0:
                c_in = net.shapes[x][0]
                b1 = net.conv_bn(x, c_in, 3, 2, 1, groups=c_in, act=None)
                b1 = net.conv_bn(b1, bf, 1)
                b2 = net.conv_bn(x, bf, 1)
                b2 = net.conv_bn(b2, bf, 3, 2, 1, groups=bf, act=None)
                b2 = net.conv_bn(b2, bf, 1)
                x = net.concat([b1, b2])
            else:
                x1, x2 = net.split2(x)
                b2 = net.conv_bn(x2, bf, 1)
                b2 = net.conv_bn(b2, bf, 3, 1, 1, groups=bf, act=None)
                b2 = net.conv_bn(b2, bf, 1)
                x = net.concat([x1, b2])
            x = net.channel_shuffle(x, 2)
    x = net.conv_bn(x, ch[4], 1)
    return net.classifier(x)


# -- ShuffleNet v1 -------------------------------------------------------------------------------------
SHUFFLENET_V1_G3_CHANNELS = {"1.0": (24, 240, 480, 960), "1.5": (24, 360, 720, 1440), "2.0": (48, 480, 960, 1920)}


def shufflenet_v1(net: Net, size: str, group: int = 3) -> str:
    """ShuffleNet v1, g=3 (Zhang et al. 2018, Table 1), as in Megvii's ShuffleNet-Series reference code:
    bottleneck = out/4, the first pointwise conv of stage 2 ungrouped, stride-2 units concatenate a 3x3
    average-pooled shortcut, a bias-free classifier."""
    ch = SHUFFLENET_V1_G3_CHANNELS[size]
    x = net.conv_bn(net.input, ch[0], 3, 2, 1)
    x = net.maxpool(x, 3, 2, 1)
    for stage, (out, repeats) in enumerate(zip(ch[1:], (4, 8, 4))):
        for i in range(repeats):
            stride = 2 if i == 0 else 1
            c_in = net.shapes[x][0]
            mid = out // 4
            first = stage == 0 and i == 0
            h = net.conv_bn(x, mid, 1, groups=1 if first else group)
            h = net.channel_shuffle(h, group) if not first else h
            h = net.conv_bn(h, mid, 3, stride, 1, groups=mid, act=None)
            h = net.conv_bn(h, out - c_in if stride == 2 else out, 1, groups=group, act=None)
            if stride == 2:
                x = net.concat([net.avgpool(x, 3, 2, 1), net.relu(h)])
            else:
                x = net.relu(net.add(h, x))
    x = net.flatten(net.gap(x))
    return net.linear(x, 1000, bias=False)


# -- SqueezeNext ---------------------------------------------------------------------------------------
def squeezenext23(net: Net, width: float = 1.0) -> str:
    """1.0-SqNxt-23 (Gholami et al. 2018) as in the imgclsmob reference: blocks [6, 6, 8, 1] of
    1x1 -> 1x1 -> 1x3 -> 3x1 -> 1x1 convs (all conv-BN-ReLU with bias); the paper feeds 227x227."""
    x = net.conv_bn(net.input, int(64 * width), 7, 2, 1, bias=True)
    x = net.maxpool(x, 3, 2, ceil=True)
    for stage, (c, n) in enumerate(zip((32, 64, 128, 256), (6, 6, 8, 1))):
        out = int(c * width)
        for i in range(n):
            stride = 2 if (i == 0 and stage != 0) else 1
            c_in = net.shapes[x][0]
            if stride == 2:
                den, resize = 1, True
            elif c_in > out:
                den, resize = 4, True
            else:
                den, resize = 2, False
            identity = net.conv_bn(x, out, 1, stride, bias=True) if resize else x
            h = net.conv_bn(x, c_in // den, 1, stride, bias=True)
            h = net.conv_bn(h, c_in // (2 * den), 1, bias=True)
            h = net.conv_bn(h, c_in // den, (1, 3), 1, (0, 1), bias=True)
            h = net.conv_bn(h, c_in // den, (3, 1), 1, (1, 0), bias=True)
            h = net.conv_bn(h, out, 1, bias=True)
            x = net.relu(net.add(h, identity))
    x = net.conv_bn(x, int(128 * width), 1, bias=True)
    return net.classifier(x)


# -- Xception ------------------------------------------------------------------------------------------
def _sep(net: Net, x: str, out: int) -> str:
    c = net.shapes[x][0]
    return net.bn(net.conv(net.conv(x, c, 3, 1, 1, groups=c), out, 1), eps=1e-3)


def xception(net: Net) -> str:
    """Xception (Chollet 2017, Figure 5) as in keras.applications.Xception, 299x299."""
    x = net.conv_bn(net.input, 32, 3, 2, eps=1e-3)
    x = net.conv_bn(x, 64, 3, eps=1e-3)
    for i, out in enumerate((128, 256, 728)):
        res = net.conv_bn(x, out, 1, 2, act=None, eps=1e-3)
        h = x if i == 0 else net.relu(x)
        h = _sep(net, h, out)
        h = _sep(net, net.relu(h), out)
        x = net.add(net.maxpool(h, 3, 2, 1), res)
    for _ in range(8):
        h = x
        for _ in range(3):
            h = _sep(net, net.relu(h), 728)
        x = net.add(h, x)
    res = net.conv_bn(x, 1024, 1, 2, act=None, eps=1e-3)
    h = _sep(net, net.relu(x), 728)
    h = _sep(net, net.relu(h), 1024)
    x = net.add(net.maxpool(h, 3, 2, 1), res)
    x = net.relu(_sep(net, x, 1536))
    x = net.relu(_sep(net, x, 2048))
    return net.classifier(x)
