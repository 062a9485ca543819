"""Builders for the early ImageNet networks: AlexNet, VGG, GoogLeNet, Inception v3, SqueezeNet.

Layouts follow torchvision.models (alexnet.py, vgg.py, googlenet.py, inception.py, squeezenet.py) layer by
layer, including torchvision's own choices (GoogLeNet's 3x3 in the "5x5" branch, Inception v3 BN eps 1e-3).
"""
from __future__ import annotations

from typing import List, Union

from ._graph import Net


def alexnet(net: Net) -> str:
    """torchvision AlexNet (the one-GPU variant of Krizhevsky's 2014 "One weird trick"), 224x224."""
    x = net.maxpool(net.relu(net.conv(net.input, 64, 11, 4, 2, bias=True)), 3, 2)
    x = net.maxpool(net.relu(net.conv(x, 192, 5, 1, 2, bias=True)), 3, 2)
    x = net.relu(net.conv(x, 384, 3, 1, 1, bias=True))
    x = net.relu(net.conv(x, 256, 3, 1, 1, bias=True))
    x = net.maxpool(net.relu(net.conv(x, 256, 3, 1, 1, bias=True)), 3, 2)
    # AdaptiveAvgPool2d((6, 6)) is the identity on the 6x6 map a 224x224 input gives
    x = net.flatten(x)
    x = net.relu(net.linear(x, 4096))
    x = net.relu(net.linear(x, 4096))
    return net.linear(x, 1000)


VGG_CFGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


def vgg(net: Net, cfg: List[Union[int, str]]) -> str:
    """torchvision VGG without BatchNorm: 3x3 convs with bias, 2x2 max pools, three Linear layers."""
    x = net.input
    for v in cfg:
        x = net.maxpool(x, 2, 2) if v == "M" else net.relu(net.conv(x, int(v), 3, 1, 1, bias=True))
    x = net.flatten(x)  # AdaptiveAvgPool2d((7, 7)) is the identity on 7x7
    x = net.relu(net.linear(x, 4096))
    x = net.relu(net.linear(x, 4096))
    return net.linear(x, 1000)


def _basic(net: Net, x: str, out_ch: int, k, s=1, p=0) -> str:
    """torchvision BasicConv2d of GoogLeNet and Inception v3: conv (no bias) -> BN(eps=1e-3) -> ReLU."""
    return net.conv_bn(x, out_ch, k, s, p, eps=1e-3)


def _googlenet_inception(net: Net, x: str, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int) -> str:
    b1 = _basic(net, x, c1, 1)
    b2 = _basic(net, _basic(net, x, c3r, 1), c3, 3, 1, 1)
    b3 = _basic(net, _basic(net, x, c5r, 1), c5, 3, 1, 1)  # torchvision uses 3x3 here (kept for weights)
    b4 = _basic(net, net.maxpool(x, 3, 1, 1, ceil=True), pool, 1)
    return net.concat([b1, b2, b3, b4])


def googlenet(net: Net) -> str:
    """torchvision GoogLeNet (Inception v1 with BatchNorm), auxiliary classifiers removed as for inference."""
    x = _basic(net, net.input, 64, 7, 2, 3)
    x = net.maxpool(x, 3, 2, ceil=True)
    x = _basic(net, x, 64, 1)
    x = _basic(net, x, 192, 3, 1, 1)
    x = net.maxpool(x, 3, 2, ceil=True)
    x = _googlenet_inception(net, x, 64, 96, 128, 16, 32, 32)
    x = _googlenet_inception(net, x, 128, 128, 192, 32, 96, 64)
    x = net.maxpool(x, 3, 2, ceil=True)
    for cfg in ((192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
                (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128)):
        x = _googlenet_inception(net, x, *cfg)
    x = net.maxpool(x, 2, 2, ceil=True)
    x = _googlenet_inception(net, x, 256, 160, 320, 32, 128, 128)
    x = _googlenet_inception(net, x, 384, 192, 384, 48, 128, 128)
    return net.classifier(x)


def _inc_a(net: Net, x: str, pool_features: int) -> str:
    b1 = _basic(net, x, 64, 1)
    b5 = _basic(net, _basic(net, x, 48, 1), 64, 5, 1, 2)
    b3 = _basic(net, _basic(net, _basic(net, x, 64, 1), 96, 3, 1, 1), 96, 3, 1, 1)
    bp = _basic(net, net.avgpool(x, 3, 1, 1), pool_features, 1)
    return net.concat([b1, b5, b3, bp])


def _inc_b(net: Net, x: str) -> str:
    b3 = _basic(net, x, 384, 3, 2)
    bd = _basic(net, _basic(net, _basic(net, x, 64, 1), 96, 3, 1, 1), 96, 3, 2)
    return net.concat([b3, bd, net.maxpool(x, 3, 2)])


def _inc_c(net: Net, x: str, c7: int) -> str:
    b1 = _basic(net, x, 192, 1)
    b7 = _basic(net, x, c7, 1)
    b7 = _basic(net, b7, c7, (1, 7), 1, (0, 3))
    b7 = _basic(net, b7, 192, (7, 1), 1, (3, 0))
    bd = _basic(net, x, c7, 1)
    bd = _basic(net, bd, c7, (7, 1), 1, (3, 0))
    bd = _basic(net, bd, c7, (1, 7), 1, (0, 3))
    bd = _basic(net, bd, c7, (7, 1), 1, (3, 0))
    bd = _basic(net, bd, 192, (1, 7), 1, (0, 3))
    bp = _basic(net, net.avgpool(x, 3, 1, 1), 192, 1)
    return net.concat([b1, b7, bd, bp])


def _inc_d(net: Net, x: str) -> str:
    b3 = _basic(net, _basic(net, x, 192, 1), 320, 3, 2)
    b7 = _basic(net, x, 192, 1)
    b7 = _basic(net, b7, 192, (1, 7), 1, (0, 3))
    b7 = _basic(net, b7, 192, (7, 1), 1, (3, 0))
    b7 = _basic(net, b7, 192, 3, 2)
    return net.concat([b3, b7, net.maxpool(x, 3, 2)])


def _inc_e(net: Net, x: str) -> str:
    b1 = _basic(net, x, 320, 1)
    b3 = _basic(net, x, 384, 1)
    b3 = net.concat([_basic(net, b3, 384, (1, 3), 1, (0, 1)), _basic(net, b3, 384, (3, 1), 1, (1, 0))])
    bd = _basic(net, _basic(net, x, 448, 1), 384, 3, 1, 1)
    bd = net.concat([_basic(net, bd, 384, (1, 3), 1, (0, 1)), _basic(net, bd, 384, (3, 1), 1, (1, 0))])
    bp = _basic(net, net.avgpool(x, 3, 1, 1), 192, 1)
    return net.concat([b1, b3, bd, bp])


def inception_v3(net: Net) -> str:
    """torchvision Inception v3 at 299x299, inference graph (the training-only AuxLogits head is not built)."""
    x = _basic(net, net.input, 32, 3, 2)
    x = _basic(net, x, 32, 3)
    x = _basic(net, x, 64, 3, 1, 1)
    x = net.maxpool(x, 3, 2)
    x = _basic(net, x, 80, 1)
    x = _basic(net, x, 192, 3)
    x = net.maxpool(x, 3, 2)
    x = _inc_a(net, x, 32)
    x = _inc_a(net, x, 64)
    x = _inc_a(net, x, 64)
    x = _inc_b(net, x)
    for c7 in (128, 160, 160, 192):
        x = _inc_c(net, x, c7)
    x = _inc_d(net, x)
    x = _inc_e(net, x)
    x = _inc_e(net, x)
    return net.classifier(x)


# Parameters of torchvision's InceptionAux(768, 1000), counted into its published num_params although the
# inference graph never runs it: conv0 1x1 768->128 (no bias) + BN(128) affine, conv1 5x5 128->768 (no bias)
# + BN(768) affine, fc 768->1000 with bias.
INCEPTION_V3_AUX_PARAMS = 768 * 128 + 2 * 128 + 128 * 768 * 25 + 2 * 768 + 768 * 1000 + 1000


def _fire(net: Net, x: str, squeeze: int, e1: int, e3: int) -> str:
    s = net.relu(net.conv(x, squeeze, 1, bias=True))
    return net.concat([net.relu(net.conv(s, e1, 1, bias=True)), net.relu(net.conv(s, e3, 3, 1, 1, bias=True))])


# stem (channels, kernel) and the fire modules by squeeze width (each expands to 4x that in its 1x1 and
# its 3x3 branch), "M" a 3x3 stride-2 max-pool
_SQUEEZENET = {"1_0": ((96, 7), [16, 16, 32, "M", 32, 48, 48, 64, "M", 64]),
               "1_1": ((64, 3), [16, 16, "M", 32, 32, "M", 48, 48, 64, 64])}


def squeezenet(net: Net, version: str) -> str:
    """torchvision SqueezeNet 1.0 (Iandola et al. 2016) or 1.1 (the SqueezeNet repository's v1.1)."""
    (stem, kernel), fires = _SQUEEZENET["1_0" if version == "1_0" else "1_1"]
    x = net.maxpool(net.relu(net.conv(net.input, stem, kernel, 2, bias=True)), 3, 2, ceil=True)
    for squeeze in fires:
        x = net.maxpool(x, 3, 2, ceil=True) if squeeze == "M" else _fire(net, x, squeeze, 4 * squeeze, 4 * squeeze)
    x = net.relu(net.conv(x, 1000, 1, bias=True))
    return net.flatten(net.gap(x))
