"""The model zoo: ONNX graphs of the papers' ImageNet networks, built in memory, with published figures.

    >>> from netscore_fast import zoo
    >>> zoo.names()[:3]
    ['alexnet', 'densenet121', 'densenet169']
    >>> onnx_bytes = zoo.build("resnet50")        # ~50 kB: weights carry shapes, not values
    >>> zoo.info("resnet50")["top1"]
    76.13

Graphs follow torchvision's layouts where torchvision has the model (BatchNormalization kept, so our
params include BN running statistics, reported separately as bn_stat_params) and the reference
implementation's layout otherwise. `netscore-fast zoo` prints the reference table: it profiles every
network with netscore_fast.profile and ranks them by NetScore, top-1 and information density.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple

from .published import PUBLISHED, Published, parse_figure

__all__ = ["names", "build", "build_model", "info", "table", "Published", "PUBLISHED"]


def _registry() -> Dict[str, Tuple[str, Callable, Tuple[int, int]]]:
    """name -> (family, builder(net) -> output tensor name, input (H, W))."""
    from . import classic, mobile, resnets

    reg: Dict[str, Tuple[str, Callable, Tuple[int, int]]] = {
        "alexnet": ("AlexNet", classic.alexnet, (224, 224)),
        "googlenet": ("GoogLeNet", classic.googlenet, (224, 224)),
        "inception_v3": ("Inception", classic.inception_v3, (299, 299)),
        "squeezenet1_0": ("SqueezeNet", partial(classic.squeezenet, version="1_0"), (224, 224)),
        "squeezenet1_1": ("SqueezeNet", partial(classic.squeezenet, version="1_1"), (224, 224)),
        "resnext50_32x4d": ("ResNeXt", partial(resnets.resnet, depth=50, groups=32, width_per_group=4), (224, 224)),
        "wide_resnet50_2": ("Wide ResNet", partial(resnets.resnet, depth=50, width_per_group=128), (224, 224)),
        "squeezenext23_1.0": ("SqueezeNext", mobile.squeezenext23, (227, 227)),
        "mobilenet_v2_1.0": ("MobileNet v2", partial(mobile.mobilenet_v2, width=1.0), (224, 224)),
        "mobilenet_v2_1.4": ("MobileNet v2", partial(mobile.mobilenet_v2, width=1.4), (224, 224)),
        "mobilenet_v3_large": ("MobileNet v3", partial(mobile.mobilenet_v3, size="large"), (224, 224)),
        "mobilenet_v3_small": ("MobileNet v3", partial(mobile.mobilenet_v3, size="small"), (224, 224)),
        "mnasnet1_0": ("MnasNet", partial(mobile.mnasnet, alpha=1.0), (224, 224)),
        "xception": ("Xception", mobile.xception, (299, 299)),
    }
    for cfg in classic.VGG_CFGS:
        reg[cfg] = ("VGG", partial(classic.vgg, cfg=classic.VGG_CFGS[cfg]), (224, 224))
    for depth in resnets.RESNET_DEPTHS:
        reg[f"resnet{depth}"] = ("ResNet", partial(resnets.resnet, depth=depth), (224, 224))
    for depth in (121, 169, 201):
        reg[f"densenet{depth}"] = ("DenseNet", partial(resnets.densenet, depth=depth), (224, 224))
    for width in ("1.0", "0.75", "0.50", "0.25"):
        for res in (224, 192, 160, 128):
            reg[f"mobilenet_v1_{width}_{res}"] = (
                "MobileNet v1", partial(mobile.mobilenet_v1, width=float(width)), (res, res))
    for size in mobile.SHUFFLENET_V2_CHANNELS:
        reg[f"shufflenet_v2_x{size}"] = ("ShuffleNet v2", partial(mobile.shufflenet_v2, size=size), (224, 224))
    for size in mobile.SHUFFLENET_V1_G3_CHANNELS:
        reg[f"shufflenet_v1_g3_{size}"] = ("ShuffleNet v1", partial(mobile.shufflenet_v1, size=size), (224, 224))
    for variant, (_, _, res) in mobile.EFFICIENTNET_SCALES.items():
        reg[f"efficientnet_{variant}"] = ("EfficientNet", partial(mobile.efficientnet, variant=variant), (res, res))
    return reg


_REG: Optional[Dict[str, Tuple[str, Callable, Tuple[int, int]]]] = None


def _reg() -> Dict[str, Tuple[str, Callable, Tuple[int, int]]]:
    global _REG
    if _REG is None:
        _REG = _registry()
    return _REG


def names() -> List[str]:
    """Names of every zoo network, sorted."""
    return sorted(_reg())


def _lookup(name: str) -> Tuple[str, Callable, Tuple[int, int]]:
    try:
        return _reg()[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _reg(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see zoo.names()"
        raise KeyError(f"unknown zoo network {name!r}{hint}") from None


def build_model(name: str, batch_size: int = 1, weights: str = "constant"):
    """The network as an onnx.ModelProto (input "input": batch_size x 3 x H x W float32, output logits).

    weights: "constant" (ConstantOfShape nodes; the graph runs in onnxruntime, with zero weights) or
    "external" (initializers holding dims only, marked as external data that does not exist; for
    profilers that never read weights).
    """
    from ._graph import Net

    _, builder, (h, w) = _lookup(name)
    net = Net(name, 3, h, w, batch_size=batch_size, weights=weights)
    out = builder(net)
    return net.model(out)


def build(name: str, batch_size: int = 1, weights: str = "constant") -> bytes:
    """The network as serialized ONNX bytes (see build_model); fast and small: no weight values stored."""
    return build_model(name, batch_size, weights).SerializeToString()


def info(name: str) -> Dict[str, Any]:
    """What the zoo knows about a network without building it.

    Keys: name, family, input_size (H, W), top1 (% ImageNet top-1, single crop) and top1_source,
    params_published / macs_published (counts as floats, None where the source gives none) with their
    _source, _text (as printed) and _tolerance (half a unit of the last printed digit), params_convention
    (which of our counts the published params correspond to), macs_convention, note.
    """
    family, _, size = _lookup(name)
    pub: Published = PUBLISHED[name]
    d: Dict[str, Any] = {"name": name, "family": family, "input_size": size}
    d["top1"] = pub.top1
    d["top1_source"] = pub.top1_source
    for key in ("params", "macs"):
        text = getattr(pub, key)
        value, tol = parse_figure(text) if text else (None, None)
        d[f"{key}_published"] = value
        d[f"{key}_text"] = text
        d[f"{key}_tolerance"] = tol
        d[f"{key}_source"] = getattr(pub, f"{key}_source")
    d["params_convention"] = pub.params_convention
    d["macs_convention"] = pub.macs_convention
    d["note"] = pub.note
    return d


def comparable_params(name: str, params: int, bn_stat_params: int) -> int:
    """Our params expressed in the published figure's convention (see Published.params_convention)."""
    conv = PUBLISHED[name].params_convention
    if conv == "no_bn_stats":
        return params - bn_stat_params
    if conv == "no_bn":
        return params - 2 * bn_stat_params
    if conv == "with_aux":
        from .classic import INCEPTION_V3_AUX_PARAMS

        return params - bn_stat_params + INCEPTION_V3_AUX_PARAMS
    raise ValueError(f"unknown params convention {conv!r}")


# -- the reference table -------------------------------------------------------------------------------
TABLE_COLUMNS = ["name", "family", "params", "gmacs", "top1", "netscore", "information_density", "weight_mb",
                 "peak_activation_mb", "rank_netscore", "rank_top1", "rank_density"]


def table(sort: str = "netscore", names_: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """Profile every zoo network and return one dict per network (see TABLE_COLUMNS), sorted.

    params: our count excluding BatchNorm running statistics (the convention of torchvision's table);
    gmacs: billions of multiply-accumulates; netscore (Wong 2018) and information_density (top-1 % per
    million params) from netscore_fast.metrics with the published top-1; weight_mb and peak_activation_mb
    in 1e6 bytes (float32). Ranks are 1 = best.
    """
    from .. import metrics
    from ..profile import profile

    rows = []
    for name in names_ or names():
        p = profile(build(name, weights="external"))
        fam, _, _ = _lookup(name)
        params = int(p.params) - int(p.bn_stat_params)
        top1 = PUBLISHED[name].top1
        rows.append({
            "name": name, "family": fam, "params": params, "gmacs": p.macs / 1e9, "top1": top1,
            "netscore": float(metrics.netscore(top1, params, p.macs)),
            "information_density": float(metrics.information_density(top1, params)),
            "weight_mb": p.weight_bytes / 1e6, "peak_activation_mb": p.peak_activation_bytes / 1e6,
        })
    for key, rank in (("netscore", "rank_netscore"), ("top1", "rank_top1"), ("information_density", "rank_density")):
        for i, row in enumerate(sorted(rows, key=lambda r: -r[key])):
            row[rank] = i + 1
    key = {"netscore": "netscore", "top1": "top1", "density": "information_density"}[sort]
    rows.sort(key=lambda r: -r[key])
    return rows


def format_table(rows: List[Dict[str, Any]], width: Optional[int] = None) -> str:
    """The rows of table() as the fixed-width text `netscore-fast zoo` prints: counts in k/M/G, memory in
    B/kB/MB. width: the widest line allowed (the ranks, then memory columns are dropped to fit); None: all."""
    from .._units import Column, si, text_table

    def col(header, cells, keep=None, **kw):
        return Column(header, cells, keep=keep, **kw)

    cols = [
        col("#", [str(i + 1) for i in range(len(rows))]),
        col("network", [r["name"] for r in rows], align="l", shrink=22),
        col("params", [si(r["params"]) for r in rows]),
        col("MACs", [si(r["gmacs"] * 1e9) for r in rows]),
        col("top-1 %", [f"{r['top1']:.1f}" for r in rows]),
        col("NetScore", [f"{r['netscore']:.1f}" for r in rows]),
        col("density", [f"{r['information_density']:.2f}" for r in rows], keep=6),
        col("weights", [si(r["weight_mb"] * 1e6, "B", 1) for r in rows], keep=5),
        col("peak act", [si(r["peak_activation_mb"] * 1e6, "B", 1) for r in rows], keep=4),
        col("rank NS", [str(r["rank_netscore"]) for r in rows], keep=3),
        col("rank top1", [str(r["rank_top1"]) for r in rows], keep=2),
        col("rank dens", [str(r["rank_density"]) for r in rows], keep=1),
    ]
    return text_table(cols, width, rule=True)
