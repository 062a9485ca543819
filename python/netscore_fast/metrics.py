"""Balanced metrics of accuracy against size and compute, vectorised over numpy arrays.

Inputs are raw counts (accuracy in % top-1, params as a count, MACs as a count); each metric converts
to its paper's units internally.

- NetScore (Wong, 2018, "NetScore: Towards Universal Metrics for Large-scale Performance Analysis of
  Deep Neural Networks for Practical On-Device Edge Usage"):
  Omega = 20 * log10(a**alpha / (p**beta * m**gamma)), a = top-1 %, p = params in millions,
  m = MACs in billions, alpha = 2, beta = gamma = 0.5. Unit: dB-like score, higher is better.
- Information density (Canziani et al., 2016; ranked alongside NetScore by Wong, 2018):
  a / p, top-1 % per million parameters.
- Accuracy per G-MAC: a / m, top-1 % per billion multiply-accumulates.
- Accuracy per MB of weights: a / (weight_bytes / 1e6), top-1 % per megabyte.
- Latency-aware NetScore: Wong's form with latency t in ms in place of m,
  20 * log10(a**alpha / (p**beta * t**gamma)), alpha = 2, beta = gamma = 0.5 (needs a `latency_ms`
  column: profile_many(..., device=model)).
- Accuracy per ms: a / t, top-1 % per millisecond of latency.

User metrics are vectorised functions of a table's columns registered with `register_metric`.
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping

import numpy as np

ArrayLike = "np.typing.ArrayLike"


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def netscore(accuracy, params, macs, alpha: float = 2.0, beta: float = 0.5, gamma: float = 0.5):
    """NetScore Omega (Wong, 2018) in its paper's units.

    accuracy: top-1 accuracy in percent; params: parameter count; macs: multiply-accumulate count.
    Returns a float (or array): 20*log10(a**alpha / ((params/1e6)**beta * (macs/1e9)**gamma)).
    NaN where accuracy is missing (NaN) or params/MACs are not positive.
    """
    a = _as_float(accuracy)
    p = _as_float(params) / 1e6
    m = _as_float(macs) / 1e9
    with np.errstate(divide="ignore", invalid="ignore"):   # log10 of 0 or less: masked below
        value = 20.0 * (alpha * np.log10(a) - beta * np.log10(p) - gamma * np.log10(m))
    value = np.where((a > 0) & (p > 0) & (m > 0), value, np.nan)
    return value.item() if value.ndim == 0 else value


def netscore_latency(accuracy, params, latency_ms, alpha: float = 2.0, beta: float = 0.5, gamma: float = 0.5):
    """Latency-aware NetScore: 20*log10(a**alpha / ((params/1e6)**beta * t**gamma)), t in ms per inference.

    NaN where accuracy is missing or params / latency are not positive.
    """
    a = _as_float(accuracy)
    p = _as_float(params) / 1e6
    t = _as_float(latency_ms)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 20.0 * (alpha * np.log10(a) - beta * np.log10(p) - gamma * np.log10(t))
    value = np.where((a > 0) & (p > 0) & (t > 0), value, np.nan)
    return value.item() if value.ndim == 0 else value


def _accuracy_per(accuracy, amount, unit: float):
    """Accuracy per `unit` of `amount` (a count), NaN where the amount is not positive."""
    a = _as_float(accuracy)
    x = _as_float(amount) / unit
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(x > 0, a / x, np.nan)
    return value.item() if value.ndim == 0 else value


def information_density(accuracy, params):
    """Information density: top-1 accuracy (%) per million parameters. NaN where undefined."""
    return _accuracy_per(accuracy, params, 1e6)


def accuracy_per_gmac(accuracy, macs):
    """Top-1 accuracy (%) per billion MACs. NaN where undefined."""
    return _accuracy_per(accuracy, macs, 1e9)


def accuracy_per_weight_mb(accuracy, weight_bytes):
    """Top-1 accuracy (%) per megabyte (1e6 bytes) of weights. NaN where undefined."""
    return _accuracy_per(accuracy, weight_bytes, 1e6)


def accuracy_per_ms(accuracy, latency_ms):
    """Top-1 accuracy (%) per millisecond of latency. NaN where undefined."""
    return _accuracy_per(accuracy, latency_ms, 1.0)


def _latency(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    if "latency_ms" not in columns:
        raise KeyError("this metric needs a latency_ms column: profile_many(..., device=model) with a latency "
                       "model from netscore_fast.device")
    return columns["latency_ms"]


# name -> function of a mapping of column arrays (a ProfileTable or dict), returning one array
METRICS: Dict[str, Callable[[Mapping[str, np.ndarray]], np.ndarray]] = {
    "netscore": lambda c: netscore(c["accuracy"], c["params"], c["macs"]),
    "information_density": lambda c: information_density(c["accuracy"], c["params"]),
    "accuracy_per_gmac": lambda c: accuracy_per_gmac(c["accuracy"], c["macs"]),
    "accuracy_per_weight_mb": lambda c: accuracy_per_weight_mb(c["accuracy"], c["weight_bytes"]),
    "netscore_latency": lambda c: netscore_latency(c["accuracy"], c["params"], _latency(c)),
    "accuracy_per_ms": lambda c: accuracy_per_ms(c["accuracy"], _latency(c)),
}
# the built-in metrics: NaN wherever accuracy is, so a table without any accuracy need not compute them
OF_ACCURACY = frozenset(METRICS.values())


def register_metric(name: str, fn: Callable[[Mapping[str, np.ndarray]], np.ndarray], *, overwrite: bool = False):
    """Register a vectorised metric: fn(columns) -> array, columns being a ProfileTable or dict of arrays."""
    if name in METRICS and not overwrite:
        raise ValueError(f"metric {name!r} is already registered (pass overwrite=True to replace it)")
    METRICS[name] = fn
