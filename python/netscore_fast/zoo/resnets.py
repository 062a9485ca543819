"""Builders for residual and dense networks: ResNet, ResNeXt, Wide ResNet, DenseNet (torchvision layouts).

ResNet bottlenecks put the stride on the 3x3 conv (torchvision's "ResNet v1.5"); ResNeXt and Wide ResNet
are the same bottleneck with groups / width_per_group, as in torchvision.models.resnet.
"""
from __future__ import annotations

from typing import Sequence

from ._graph import Net

RESNET_DEPTHS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3)),
                 101: ("bottleneck", (3, 4, 23, 3)), 152: ("bottleneck", (3, 8, 36, 3))}


def _basic_block(net: Net, x: str, planes: int, stride: int) -> str:
    out = net.conv_bn(x, planes, 3, stride, 1)
    out = net.conv_bn(out, planes, 3, 1, 1, act=None)
    c_in = net.shapes[x][0]
    identity = net.conv_bn(x, planes, 1, stride, act=None) if stride != 1 or c_in != planes else x
    return net.relu(net.add(out, identity))


def _bottleneck(net: Net, x: str, planes: int, stride: int, groups: int, base_width: int) -> str:
    width = int(planes * (base_width / 64.0)) * groups
    out = net.conv_bn(x, width, 1)
    out = net.conv_bn(out, width, 3, stride, 1, groups=groups)
    out = net.conv_bn(out, planes * 4, 1, act=None)
    c_in = net.shapes[x][0]
    identity = net.conv_bn(x, planes * 4, 1, stride, act=None) if stride != 1 or c_in != planes * 4 else x
    return net.relu(net.add(out, identity))


def resnet(net: Net, depth: int, groups: int = 1, width_per_group: int = 64) -> str:
    """torchvision ResNet-18/34/50/101/152; groups=32, width_per_group=4 gives ResNeXt-50 32x4d,
    width_per_group=128 gives Wide ResNet-50-2."""
    kind, layers = RESNET_DEPTHS[depth]
    x = net.conv_bn(net.input, 64, 7, 2, 3)
    x = net.maxpool(x, 3, 2, 1)
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
        for b in range(blocks):
            stride = 2 if (i > 0 and b == 0) else 1
            if kind == "basic":
                x = _basic_block(net, x, planes, stride)
            else:
                x = _bottleneck(net, x, planes, stride, groups, width_per_group)
    return net.classifier(x)


DENSENET_CFGS = {121: (32, (6, 12, 24, 16), 64), 169: (32, (6, 12, 32, 32), 64),
                 201: (32, (6, 12, 48, 32), 64), 161: (48, (6, 12, 36, 24), 96)}


def densenet(net: Net, depth: int, bn_size: int = 4) -> str:
    """torchvision DenseNet-121/169/201/161: BN-ReLU-Conv dense layers, transitions halve the channels."""
    growth, blocks, init = DENSENET_CFGS[depth]
    x = net.conv_bn(net.input, init, 7, 2, 3)
    x = net.maxpool(x, 3, 2, 1)
    for i, n_layers in enumerate(blocks):
        features: Sequence[str] = [x]
        for _ in range(n_layers):
            h = features[0] if len(features) == 1 else net.concat(features)
            h = net.conv(net.relu(net.bn(h)), bn_size * growth, 1)
            h = net.conv(net.relu(net.bn(h)), growth, 3, 1, 1)
            features = list(features) + [h]
        x = net.concat(features)
        if i != len(blocks) - 1:
            c = net.shapes[x][0]
            x = net.avgpool(net.conv(net.relu(net.bn(x)), c // 2, 1), 2, 2)
    x = net.relu(net.bn(x))
    return net.classifier(x)
