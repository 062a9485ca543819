"""netscore_fast: how well a deep neural network fits an edge device, fast enough for NAS.

Profiles ONNX graphs in C++ (params, MACs, FLOPs, weight and activation memory) without reading
weights, computes balanced metrics such as NetScore in bulk, and measures per-op throughput with
micro-kernels. Heavy modules (numpy, onnx, pandas, matplotlib) are imported only when used.
"""
from __future__ import annotations

import importlib
from typing import Any

from ._core import ModelError
# Bound eagerly (cheap: no numpy) so that importing the submodule `netscore_fast.profile` can never
# shadow the function `netscore_fast.profile`.
from .profile import Profile, profile

__version__ = "0.1.0"

# public name -> submodule that defines it; resolved on first access so `import netscore_fast` stays fast
_LAZY = {
    "profile": "profile",
    "Profile": "profile",
    "profile_many": "bulk",
    "ModelParts": "_sources",
    "ProfileTable": "table",
    "netscore": "metrics",
    "information_density": "metrics",
    "METRICS": "metrics",
    "register_metric": "metrics",
    "CacheError": "cache",
}
_SUBMODULES = {"bench", "nas", "zoo", "plots", "metrics", "table", "cli", "device", "report"}

__all__ = ["ModelError", "__version__", *_LAZY, *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
