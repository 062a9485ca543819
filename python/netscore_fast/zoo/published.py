"""Published ImageNet figures for the zoo networks, each with its source and counting convention.

Numbers are kept as the source prints them (text), so the precision a figure carries is visible and a
comparison can allow for its rounding. Conventions:
- torchvision's model table (each model's Weights meta: `acc@1`, `num_params`, `_ops`): top-1 single
  224 crop (299 for Inception v3; EfficientNet at its own crop), params excluding BatchNorm running
  statistics (`params - bn_stat_params` in our terms), "GFLOPS" which are in fact multiply-accumulates
  of conv and linear layers (our MACs). IMAGENET1K_V1 weights throughout.
- TF-slim tables (mobilenet_v1.md, mobilenet/README.md): "Million MACs" = multiply-adds (our MACs);
  the MobileNet v2 table's parameter counts leave out BatchNorm entirely, the v1 table's round to 4.24 M.
- Papers: "FLOPs" in ShuffleNet and "MACs" in SqueezeNext are multiply-adds (the papers say so).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

TORCHVISION = "torchvision model table ({w}.IMAGENET1K_V1 meta: acc@1, num_params, _ops)"
SLIM_V1 = "TF-slim research/slim/nets/mobilenet_v1.md pre-trained model table (MobileNet_v1_{m}_{r})"
SLIM_V2 = "TF-slim research/slim/nets/mobilenet/README.md table (mobilenet_v2_1.4_224)"
SHUFFLENET_V1 = ("Megvii ShuffleNet-Series reference implementation, ShuffleNetV1/README.md results table "
                 "(ShuffleNetV1 {s} (group=3): FLOPs, #Params, Top-1 error)")
MOBILENETS = "Howard et al. 2017, MobileNets (arXiv:1704.04861), Table 6 (width multiplier, 224x224)"
SQUEEZENEXT = "Gholami et al. 2018, SqueezeNext (CVPR workshops), Table 2 (1.0-SqNxt-23)"
XCEPTION = "Chollet 2017, Xception (CVPR), Table 1 (top-1) and Table 3 (parameter count)"


@dataclass(frozen=True)
class Published:
    top1: float                       # ImageNet top-1, single crop, %
    top1_source: str
    params: Optional[str] = None      # as printed: "25557032" or "4.24 M"
    params_source: Optional[str] = None
    # which of our counts the source's params correspond to:
    #   "no_bn_stats": params - bn_stat_params (BN running mean/var not counted: torchvision, Keras trainable)
    #   "no_bn":       params - 2 * bn_stat_params (BatchNorm left out entirely)
    #   "with_aux":    params - bn_stat_params + the training-only auxiliary head (Inception v3)
    params_convention: str = "no_bn_stats"
    macs: Optional[str] = None        # as printed, with unit: "4.089 G", "569 M"
    macs_source: Optional[str] = None
    macs_convention: str = "multiply-accumulates of conv and fully-connected layers"
    note: str = ""


_UNITS = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


def parse_figure(text: str) -> Tuple[float, float]:
    """'4.089 G' -> (4.089e9, 0.0005e9): the value and half a unit in its last printed digit."""
    number, _, unit = text.strip().partition(" ")
    scale = _UNITS[unit.strip()]
    digits = len(number.split(".")[1]) if "." in number else 0
    return float(number) * scale, 0.5 * 10.0 ** (-digits) * scale


def _tv(weights: str, top1: float, params: int, gmacs: str, note: str = "") -> Published:
    src = TORCHVISION.format(w=weights)
    return Published(top1, src, str(params), src, "no_bn_stats", f"{gmacs} G", src,
                     "torchvision 'GFLOPS' = multiply-accumulates of conv and linear layers", note)


def _shufflenet_v1(size: str, top1: float, params_m: str, macs_m: str) -> Published:
    src = SHUFFLENET_V1.format(s=size)
    return Published(top1, src, f"{params_m} M", src, "no_bn_stats", f"{macs_m} M", src,
                     "the README's FLOPs = multiply-adds (the paper's convention)",
                     "the paper reports 140 MFLOPs for 1x g=3; the reference code, whose layout we build, "
                     "counts 138 M")


def _slim_v1(width: str, res: int, macs_m: int, params_m: str, top1: float) -> Published:
    src = SLIM_V1.format(m=width, r=res)
    return Published(top1, src, f"{params_m} M", src, "no_bn_stats", f"{macs_m} M", src,
                     "TF-slim 'Million MACs' = multiply-adds",
                     "TF-slim's params include the 1001-way classifier and BN moving statistics; ours use 1000 "
                     "classes and exclude the statistics (the two differ by well under 1 %)")


PUBLISHED: Dict[str, Published] = {
    "alexnet": _tv("AlexNet_Weights", 56.522, 61100840, "0.714"),
    "vgg11": _tv("VGG11_Weights", 69.020, 132863336, "7.609"),
    "vgg13": _tv("VGG13_Weights", 69.928, 133047848, "11.308"),
    "vgg16": _tv("VGG16_Weights", 71.592, 138357544, "15.470"),
    "vgg19": _tv("VGG19_Weights", 72.376, 143667240, "19.632"),
    "googlenet": _tv("GoogLeNet_Weights", 69.778, 6624904, "1.498",
                     "auxiliary classifiers are dropped when torchvision loads the weights, so neither count has them"),
    "inception_v3": Published(
        77.294, TORCHVISION.format(w="Inception_V3_Weights"), "27161264", TORCHVISION.format(w="Inception_V3_Weights"),
        "with_aux", "5.713 G", TORCHVISION.format(w="Inception_V3_Weights"),
        "torchvision 'GFLOPS' = multiply-accumulates of conv and linear layers (eval mode: no AuxLogits)",
        "torchvision's num_params includes the AuxLogits head (3,326,696 params) that the inference graph never "
        "runs; we build the inference graph and add the head's hand count when comparing"),
    "resnet18": _tv("ResNet18_Weights", 69.758, 11689512, "1.814"),
    "resnet34": _tv("ResNet34_Weights", 73.314, 21797672, "3.664"),
    "resnet50": _tv("ResNet50_Weights", 76.130, 25557032, "4.089"),
    "resnet101": _tv("ResNet101_Weights", 77.374, 44549160, "7.801"),
    "resnet152": _tv("ResNet152_Weights", 78.312, 60192808, "11.514"),
    "resnext50_32x4d": _tv("ResNeXt50_32X4D_Weights", 77.618, 25028904, "4.230"),
    "wide_resnet50_2": _tv("Wide_ResNet50_2_Weights", 78.468, 68883240, "11.398"),
    "densenet121": _tv("DenseNet121_Weights", 74.434, 7978856, "2.834"),
    "densenet169": _tv("DenseNet169_Weights", 75.600, 14149480, "3.360"),
    "densenet201": _tv("DenseNet201_Weights", 76.896, 20013928, "4.291"),
    "squeezenet1_0": _tv("SqueezeNet1_0_Weights", 58.092, 1248424, "0.819"),
    "squeezenet1_1": _tv("SqueezeNet1_1_Weights", 58.178, 1235496, "0.349"),
    "squeezenext23_1.0": Published(
        59.05, SQUEEZENEXT, "0.72 M", SQUEEZENEXT, "no_bn_stats", "282 M", SQUEEZENEXT,
        "the paper's MACs = multiply-accumulates",
        "the imgclsmob reference layout (sqnxt23_w1) at the paper's 227x227 input (224x224 gives 276 M)"),
    "mobilenet_v2_1.0": _tv("MobileNet_V2_Weights", 71.878, 3504872, "0.301"),
    "mobilenet_v2_1.4": Published(
        75.0, SLIM_V2, "6.06 M", SLIM_V2, "no_bn", "582 M", SLIM_V2, "TF-slim 'MACs (M)' = multiply-adds",
        "not in torchvision's table; TF-slim's parameter column leaves BatchNorm out"),
    "mobilenet_v3_large": _tv("MobileNet_V3_Large_Weights", 74.042, 5483032, "0.217"),
    "mobilenet_v3_small": _tv("MobileNet_V3_Small_Weights", 67.668, 2542856, "0.057"),
    "shufflenet_v2_x0_5": _tv("ShuffleNet_V2_X0_5_Weights", 60.552, 1366792, "0.04"),
    "shufflenet_v2_x1_0": _tv("ShuffleNet_V2_X1_0_Weights", 69.362, 2278604, "0.145"),
    "shufflenet_v2_x1_5": _tv("ShuffleNet_V2_X1_5_Weights", 72.996, 3503624, "0.296"),
    "shufflenet_v2_x2_0": _tv("ShuffleNet_V2_X2_0_Weights", 76.230, 7393996, "0.583"),
    "shufflenet_v1_g3_1.0": _shufflenet_v1("1.0x", 67.8, "1.9", "138"),
    "shufflenet_v1_g3_1.5": _shufflenet_v1("1.5x", 71.6, "3.4", "292"),
    "shufflenet_v1_g3_2.0": _shufflenet_v1("2.0x", 74.1, "5.4", "524"),
    "mnasnet1_0": _tv("MNASNet1_0_Weights", 73.456, 4383312, "0.314"),
    "efficientnet_b0": _tv("EfficientNet_B0_Weights", 77.692, 5288548, "0.386"),
    "efficientnet_b1": _tv("EfficientNet_B1_Weights", 78.642, 7794184, "0.687"),
    "efficientnet_b2": _tv("EfficientNet_B2_Weights", 80.608, 9109994, "1.088"),
    "efficientnet_b3": _tv("EfficientNet_B3_Weights", 82.008, 12233232, "1.827"),
    "xception": Published(
        79.0, XCEPTION, "22855952", XCEPTION, "no_bn_stats", None, None,
        note="the paper gives no MAC count; its parameter count equals Keras's trainable parameters "
             "(BatchNorm moving statistics excluded)"),
}

_V1_TABLE = {  # TF-slim mobilenet_v1.md: (Million MACs, Million Parameters, Top-1)
    ("1.0", 224): (569, "4.24", 70.9), ("1.0", 192): (418, "4.24", 70.0), ("1.0", 160): (291, "4.24", 68.0),
    ("1.0", 128): (186, "4.24", 65.2), ("0.75", 224): (317, "2.59", 68.4), ("0.75", 192): (233, "2.59", 67.2),
    ("0.75", 160): (162, "2.59", 65.3), ("0.75", 128): (104, "2.59", 62.1), ("0.50", 224): (150, "1.34", 63.3),
    ("0.50", 192): (110, "1.34", 61.7), ("0.50", 160): (77, "1.34", 59.1), ("0.50", 128): (49, "1.34", 56.3),
    ("0.25", 224): (41, "0.47", 49.8), ("0.25", 192): (34, "0.47", 47.7), ("0.25", 160): (21, "0.47", 45.5),
    ("0.25", 128): (14, "0.47", 41.5),
}
for (_w, _r), (_m, _p, _a) in _V1_TABLE.items():
    PUBLISHED[f"mobilenet_v1_{float(_w):.2f}_{_r}".replace("1.00", "1.0")] = _slim_v1(_w, _r, _m, _p, _a)

# TF-slim's MAC column disagrees with the layout its own parameter column implies for these rows (the
# 0.75 rows print 317 M at 224 where the MobileNets paper's Table 6 gives 325 M for the same network, and
# 0.25_192 prints 34 M between 41 M at 224 and 21 M at 160, where resolution scaling gives 30 M). We keep
# TF-slim's top-1 and params, take the paper's figure where it has one, and record no MACs otherwise.
_v1_075 = PUBLISHED["mobilenet_v1_0.75_224"]
PUBLISHED["mobilenet_v1_0.75_224"] = Published(
    _v1_075.top1, _v1_075.top1_source, _v1_075.params, _v1_075.params_source, "no_bn_stats", "325 M", MOBILENETS,
    "the paper's Mult-Adds = multiply-accumulates", "TF-slim's table prints 317 M MACs for this row")
for _name, _printed in (("mobilenet_v1_0.75_192", 233), ("mobilenet_v1_0.75_160", 162),
                        ("mobilenet_v1_0.75_128", 104), ("mobilenet_v1_0.25_192", 34)):
    _p = PUBLISHED[_name]
    PUBLISHED[_name] = Published(_p.top1, _p.top1_source, _p.params, _p.params_source, "no_bn_stats", None, None,
                                 note=f"TF-slim's table prints {_printed} M MACs, inconsistent with its other rows "
                                      "(see the comment in zoo/published.py); no MAC figure recorded")
