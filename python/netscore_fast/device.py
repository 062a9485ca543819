"""Latency and energy on the target board: the user's runtime measured here, and models that predict it.

    >>> from netscore_fast import device
    >>> runs = device.measure_runtime(paths, runtime="onnxruntime", threads=1)   # warm median ms per model
    >>> model = device.fit(paths[:20], runs.latency_ms[:20])                    # few-shot calibration
    >>> model.predict(candidates)                                               # ms per inference
    >>> model.save("pi5-ort.json"); device.load("pi5-ort.json")

A calibrated model is linear with non-negative coefficients over per-op-class features of our analysis
(MACs, bytes moved and layer counts per class: dense, depthwise, pointwise and grouped convolution, GEMM,
pooling, elementwise, data movement), plus a per-inference overhead, fitted to minimise relative error
(latencies span orders of magnitude). Non-negative, because no op makes a network faster.
"""
from __future__ import annotations

import json
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["measure_runtime", "RuntimeResult", "fit", "fit_features", "CalibratedModel", "load", "measure",
           "DeviceProfile", "kendall_tau", "QUANTITIES", "FEATURE_SETS", "DEFAULT_FEATURE_SETS", "feature_names",
           "feature_matrix", "raw_features",
           "select_features"]

QUANTITIES = {"latency_ms": "milliseconds per inference", "energy_mj": "millijoules per inference"}
FORMAT_VERSION = 1


# --- measuring the user's runtime on this machine ------------------------------------------------------

@dataclass
class RuntimeResult:
    """Warm end-to-end measurements of a runtime, one entry per model, in source order.

    latency_ms: milliseconds per inference, the median of the timed runs (or the `quantile` asked for; NaN
        where the runtime failed: see `errors`).
    latency_iqr_ms: interquartile range of the per-run times.
    energy_mj: millijoules per inference from RAPL, NaN where it is not readable (`energy_note` says why).
    """
    names: List[str]
    latency_ms: np.ndarray
    latency_iqr_ms: np.ndarray
    energy_mj: np.ndarray
    energy_note: str
    runtime: str
    threads: int
    errors: Dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)


class _Rapl:
    """The package energy counter of Linux powercap (Intel RAPL; AMD exposes it under the same driver)."""

    ROOT = "/sys/class/powercap"

    def __init__(self):
        self.path = None
        self.wrap = None
        self.note = ""
        if not os.path.isdir(self.ROOT):
            self.note = f"no energy counter: {self.ROOT} does not exist (no RAPL driver, or a virtual machine)"
            return
        zones = sorted(d for d in os.listdir(self.ROOT) if d.count(":") == 1)  # packages, not subzones
        for zone in zones:
            path = os.path.join(self.ROOT, zone, "energy_uj")
            try:
                with open(path) as f:
                    int(f.read())
            except OSError as exc:
                self.note = f"no energy counter: {path} is not readable ({exc.strerror})"
                continue
            self.path = path
            try:
                with open(os.path.join(self.ROOT, zone, "max_energy_range_uj")) as f:
                    self.wrap = int(f.read())
            except (OSError, ValueError):
                self.wrap = None
            self.note = f"RAPL package energy ({zone}); includes everything else running on the package"
            return
        if not self.note:
            self.note = f"no energy counter: no RAPL zone under {self.ROOT}"

    def read_uj(self) -> Optional[int]:
        if self.path is None:
            return None
        with open(self.path) as f:
            return int(f.read())

    def delta_uj(self, before: int, after: int) -> int:
        if after < before and self.wrap:
            return after + self.wrap - before
        return after - before


def _ort_session(data: bytes, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
               "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int8)": np.int8,
               "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}


def _feeds(session, shapes: Dict[str, Sequence[int]], batch_size: int, rng) -> Dict[str, np.ndarray]:
    feeds = {}
    for inp in session.get_inputs():
        if inp.name in shapes:
            dims = [int(d) for d in shapes[inp.name]]
        else:
            dims = [d if isinstance(d, int) and d >= 0 else None for d in inp.shape]
            if dims and dims[0] is None:
                dims[0] = batch_size
            if any(d is None for d in dims):
                raise ValueError(f"input {inp.name!r} has symbolic dims {inp.shape}: give input_shapes")
        dtype = _ORT_DTYPES.get(inp.type)
        if dtype is None:
            raise ValueError(f"input {inp.name!r} has type {inp.type}, which measure_runtime cannot fill")
        if np.issubdtype(dtype, np.floating):
            feeds[inp.name] = rng.standard_normal(dims).astype(dtype)
        else:
            feeds[inp.name] = np.zeros(dims, dtype)
    return feeds


CLOCKS = {"wall": time.perf_counter, "thread": time.thread_time}


def _time_runs(run, min_runs: int, min_time: float, warmup: int, rapl: _Rapl,
               quantile: float = 0.5, clock: str = "wall") -> Tuple[float, float, float]:
    """(quantile of the times in s (the median by default), IQR s, energy J per run or NaN) of run(), timed
    by CLOCKS[clock]; the run count by wall time."""
    for _ in range(warmup):
        run()
    samples = []
    tick = CLOCKS[clock]
    e0 = rapl.read_uj()
    start = time.perf_counter()
    while len(samples) < min_runs or time.perf_counter() - start < min_time:
        t = tick()
        run()
        samples.append(tick() - t)
    e1 = rapl.read_uj()
    q = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
    energy = math.nan if e0 is None else rapl.delta_uj(e0, e1) * 1e-6 / len(samples)
    middle = statistics.median(samples) if quantile == 0.5 else float(np.quantile(samples, quantile))
    return middle, q[2] - q[0], energy


def _progress(progress, total: int):
    """report(done) after each model, report(None) at the end: a tqdm bar (progress True, or None with a
    terminal and tqdm installed), a callable progress(done, total), or nothing."""
    import sys
    if callable(progress) and not isinstance(progress, bool):
        return lambda done: None if done is None else progress(done, total)
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return lambda done: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("progress bars need tqdm: pip install 'netscore-fast[progress]'") from None
        return lambda done: None
    bar = tqdm(total=total, unit="model", desc="runtime", dynamic_ncols=True)
    return lambda done: bar.close() if done is None else bar.update(done - bar.n)


def _model_bytes(payload) -> bytes:
    if isinstance(payload, str):
        with open(payload, "rb") as f:
            return f.read()
    return bytes(payload)


def measure_runtime(sources, runtime: str = "onnxruntime", *, threads: int = 1, input_shapes=None,
                    batch_size: int = 1, min_runs: int = 10, min_time: float = 0.2, warmup: int = 3,
                    seed: int = 0, progress: Optional[bool] = None, quantile: float = 0.5,
                    clock: str = "wall") -> RuntimeResult:
    """Warm end-to-end latency (and energy, where RAPL is readable) of each model under a runtime here.

    sources: as for `netscore_fast.profile_many` (paths, bytes, ModelProtos, ModelParts, (name, source)
        pairs); models must carry real weights (e.g. `nas.nasbench201(i, weights="zeros")`).
    runtime: "onnxruntime" (the `device` extra), with `threads` intra-op threads, sequential execution and
        all graph optimisations, as deployed.
    Each model: `warmup` runs, then at least `min_runs` runs and `min_time` seconds; the median in ms (or
    another `quantile` of the run times: on a shared machine, where other work only ever adds time, a low
    one such as 0.25 is closer to what the model takes alone).
    clock: "wall" (elapsed time, the default) or "thread": the CPU time of the calling thread, which with
    threads=1 is where onnxruntime computes; it leaves out the time other processes held the core, so it
    measures a loaded, shared machine as if it were quiet (not cache interference; threads=1 only).
    Inputs are random (seeded), symbolic dims come from `input_shapes` / `batch_size`.
    Energy is the RAPL package counter over the timed runs divided by their number (mJ), so it includes
    idle power and anything else running: measure on a quiet machine. NaN with `energy_note` elsewhere.
    A model the runtime rejects gets NaN and its message in `errors`; the others are unaffected.
    """
    if runtime != "onnxruntime":
        raise ValueError(f"unknown runtime {runtime!r}; measure_runtime supports 'onnxruntime'")
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    if clock == "thread" and threads != 1:
        raise ValueError("clock='thread' times the calling thread: it needs threads=1")
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be within [0, 1], got {quantile!r}")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ImportError("measure_runtime needs onnxruntime: pip install \"netscore-fast[device]\"") from None
    from ._sources import is_one_model, resolve

    if is_one_model(sources):
        sources = [sources]
    items = [resolve(src, i) for i, src in enumerate(sources)]
    shapes = dict(input_shapes or {})
    rapl = _Rapl()
    rng = np.random.default_rng(seed)
    n = len(items)
    lat, iqr, energy = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    errors: Dict[str, str] = {}
    bar = _progress(progress, n)
    for i, (name, payload) in enumerate(items):
        try:
            session = _ort_session(_model_bytes(payload), threads)
            feeds = _feeds(session, shapes, batch_size, rng)
            outputs = [o.name for o in session.get_outputs()]
            med, spread, joules = _time_runs(lambda: session.run(outputs, feeds), min_runs, min_time, warmup,
                                             rapl, quantile, clock)
        except Exception as exc:  # noqa: BLE001 - one model's failure never costs the others
            errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        finally:
            bar(i + 1)
        lat[i], iqr[i], energy[i] = med * 1e3, spread * 1e3, joules * 1e3
    bar(None)
    return RuntimeResult([name for name, _ in items], lat, iqr, energy, rapl.note, runtime, threads, errors)


# --- few-shot calibration -------------------------------------------------------------------------------

def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b between two rankings (ties counted as in scipy.stats.kendalltau)."""
    from scipy.stats import kendalltau
    return float(kendalltau(np.asarray(a, float), np.asarray(b, float)).statistic)


def _scipy():
    try:
        import scipy.optimize  # noqa: F401
        import scipy.stats  # noqa: F401
    except ImportError:
        raise ImportError("fitting a device model needs scipy: pip install \"netscore-fast[device]\"") from None


def _nnls_relative(X: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Non-negative w minimising sum(((X w - y) / y)^2) + ridge * |w * scale|^2 (columns scaled to unit
    norm first, so the penalty treats features in MACs and in bytes alike)."""
    from scipy.optimize import nnls
    A = X / y[:, None]
    scale = np.linalg.norm(A, axis=0)
    scale[scale == 0] = 1.0
    A = A / scale
    if ridge > 0:
        A = np.vstack([A, math.sqrt(ridge) * np.eye(A.shape[1])])
        b = np.concatenate([np.ones(len(y)), np.zeros(X.shape[1])])
    else:
        b = np.ones(len(y))
    w, _ = nnls(A, b, maxiter=50 * A.shape[1])
    return w / scale


def _folds(n: int, k: int, seed: int) -> List[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _cv_errors(X: np.ndarray, y: np.ndarray, ridge: float, folds: int, seed: int) -> np.ndarray:
    """Held-out predictions of k-fold cross-validation (leave-one-out when folds >= len(y))."""
    pred = np.empty_like(y)
    for test in _folds(len(y), min(folds, len(y)), seed):
        train = np.setdiff1d(np.arange(len(y)), test)
        pred[test] = X[test] @ _nnls_relative(X[train], y[train], ridge)
    return pred


RIDGES = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)


@dataclass
class CalibratedModel:
    """A linear model of `quantity` per inference over named analysis features (non-negative weights).

    cv: cross-validated scores of the chosen feature set on the fitting networks: median absolute
    percentage error ("mdape_pct") and Kendall tau ("kendall_tau"), and the candidates compared.
    """
    quantity: str
    feature_set: str
    feature_names: List[str]
    coef: np.ndarray
    ridge: float
    k: int
    cv: Dict[str, Any]
    options: Dict[str, Any] = field(default_factory=dict)
    device_profile: Optional[Dict[str, Any]] = None

    def predict_features(self, X: np.ndarray) -> np.ndarray:
        """Predictions from a feature matrix whose columns are `feature_names`."""
        return np.asarray(X, float) @ self.coef

    def predict(self, sources, *, threads: Optional[int] = None) -> np.ndarray:
        """Predicted `quantity` per model (ms or mJ per inference), in source order; NaN where the model
        cannot be analysed. threads: C++ workers (default: all cores)."""
        X = feature_matrix(sources, self.feature_set, device_profile=self.device_profile, threads=threads,
                           **self.options)
        return self.predict_features(X)

    @property
    def column(self) -> str:
        """The table column its predictions fill (profile_many(..., device=model)): the quantity."""
        return self.quantity

    def _one_walk(self, shapes, batch_size: int):
        """profile_many(device=self) in one walk per model (device_profile.OneWalk): the features gathered
        in the walk that counts the totals, when profile_many walks with the model's own options (input
        shapes, batch size); else None (profile_many then calls predict)."""
        from . import _core
        from ._sources import shape_list
        options = self.options or {}
        if shape_list(options.get("input_shapes")) != list(shapes) or int(options.get("batch_size", 1)) != batch_size:
            return None
        if self.feature_set in _profiles.PROFILE_FEATURE_SETS:
            table = _profiles._as_profile(self.device_profile).table()

            def walk(payloads, names, threads: int):
                totals, status, errors, (seconds, per_class, counts) = table.profile_predict_batch(
                    payloads, names, shapes, batch_size, threads)
                d = _profiles._details(names, seconds, per_class, counts, status, errors)
                return totals, status, errors, _profiles._details_matrix(d, self.feature_set)
        else:
            def walk(payloads, names, threads: int):
                totals, status, errors, raw = _core.profile_features_batch(payloads, names, shapes, batch_size,
                                                                           threads)
                return totals, status, errors, select_features(raw, self.feature_set)

        def rows(items, threads: int):
            return feature_matrix(items, self.feature_set, device_profile=self.device_profile, threads=threads,
                                  **self.options)
        return _profiles.OneWalk(walk, rows, self.predict_features)

    def coefficients(self) -> Dict[str, float]:
        return {n: float(c) for n, c in zip(self.feature_names, self.coef)}

    def to_dict(self) -> Dict[str, Any]:
        return {"format": "netscore_fast.device.calibrated", "version": FORMAT_VERSION,
                "quantity": self.quantity, "feature_set": self.feature_set,
                "features": self.coefficients(), "ridge": self.ridge, "k": self.k, "cv": self.cv,
                "options": self.options, "device_profile": self.device_profile}

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)

    def summary(self) -> str:
        unit = "ms" if self.quantity == "latency_ms" else "mJ"
        lines = [f"{self.quantity} model from k={self.k} measured networks, features: {self.feature_set}",
                 f"  cross-validated: median error {self.cv['mdape_pct']:.1f} %, Kendall tau "
                 f"{self.cv['kendall_tau']:.3f}"]
        for name, c in self.coefficients().items():
            if c > 0:
                lines.append(f"  {name:32s} {c:.4g} {unit} per unit")
        return "\n".join(lines)


def fit_features(features: Dict[str, np.ndarray], names: Dict[str, List[str]], measured: Sequence[float],
                 quantity: str = "latency_ms", *, folds: int = 10, seed: int = 0) -> CalibratedModel:
    """Fit from precomputed feature matrices: {feature set name: X (k x F)} with their column names.

    Each feature set and ridge strength is scored by k-fold cross-validation on the median absolute
    percentage error; the best is refitted on all networks.
    """
    _scipy()
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {sorted(QUANTITIES)}, got {quantity!r}")
    y = np.asarray(measured, float)
    if y.ndim != 1 or len(y) < 3:
        raise ValueError(f"need at least 3 measured networks, got {len(y)}")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("measured values must be positive and finite (drop the networks that failed)")
    candidates = []
    for set_name, X in features.items():
        X = np.asarray(X, float)
        if X.shape[0] != len(y):
            raise ValueError(f"feature set {set_name!r} has {X.shape[0]} rows for {len(y)} measurements")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"feature set {set_name!r}: some networks could not be analysed (NaN features)")
        for ridge in RIDGES:
            pred = _cv_errors(X, y, ridge, folds, seed)
            ape = np.abs(pred - y) / y * 100
            candidates.append({"feature_set": set_name, "ridge": ridge, "mdape_pct": float(np.median(ape)),
                               "kendall_tau": kendall_tau(pred, y)})
    best = min(candidates, key=lambda c: (c["mdape_pct"], -c["kendall_tau"]))
    X = np.asarray(features[best["feature_set"]], float)
    coef = _nnls_relative(X, y, best["ridge"])
    cv = {"mdape_pct": best["mdape_pct"], "kendall_tau": best["kendall_tau"], "folds": min(folds, len(y)),
          "candidates": candidates}
    return CalibratedModel(quantity, best["feature_set"], list(names[best["feature_set"]]), coef,
                           best["ridge"], len(y), cv)


def fit(sources, measured: Sequence[float], quantity: str = "latency_ms", profile=None, *,
        input_shapes=None, batch_size: int = 1, folds: int = 10, seed: int = 0,
        feature_sets: Optional[Sequence[str]] = None) -> CalibratedModel:
    """Calibrate a model of your runtime from k measured networks (k = 10 to 50 is typical).

    sources: the k networks (as for profile_many); measured: their `quantity` (latency_ms or energy_mj)
    under the runtime to predict, e.g. from `measure_runtime`. profile: a device profile (path or loaded)
    whose per-layer predictions become the features (one scale per op class), which needs fewer measured
    networks; without one, the features are our analysis' per-class MACs, bytes and layer counts. The
    whole graph, its live part (nodes that can change the output) and the layers left after a runtime's
    BatchNormalization and activation fusion are tried, per class and coarse; cross-validation picks the
    feature set and regularisation (see `CalibratedModel.cv`). feature_sets: the candidates (default
    DEFAULT_FEATURE_SETS, all of FEATURE_SETS).
    """
    candidates = tuple(DEFAULT_FEATURE_SETS if feature_sets is None else feature_sets)
    for set_name in candidates:
        feature_names(set_name)   # raises for an unknown name
    options = {"input_shapes": {k: list(v) for k, v in dict(input_shapes or {}).items()},
               "batch_size": int(batch_size)}
    dev = _load_profile(profile)
    if dev is not None:   # the profile's per-layer predictions summed per op class (device_profile.py)
        features, names = _profiles.profile_features(dev, sources, **options, errors="raise")
    else:
        raw, _ = raw_features(sources, **options, errors="raise")
        features = {set_name: select_features(raw, set_name) for set_name in candidates}
        names = {set_name: feature_names(set_name, device_profile=dev) for set_name in candidates}
    model = fit_features(features, names, measured, quantity, folds=folds, seed=seed)
    model.options = options
    model.device_profile = dev
    return model


from .device_profile import DeviceProfile, measure  # noqa: E402  (device profiles: their own module)
from . import device_profile as _profiles  # noqa: E402


def load(path):
    """A saved device model: a calibrated model (`CalibratedModel.save`) or a device profile (`measure`),
    told apart by the file's "format" field. ValueError naming the file for any other format or version."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    kind = d.get("format") if isinstance(d, dict) else None
    if kind == _profiles.FORMAT:
        return DeviceProfile(d, os.fspath(path))
    if kind != "netscore_fast.device.calibrated":
        raise ValueError(f"{path}: not a netscore_fast device model or profile (format {kind!r})")
    if d.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: device model format version {d.get('version')!r}, this library reads "
                         f"{FORMAT_VERSION}")
    feats = d["features"]
    return CalibratedModel(d["quantity"], d["feature_set"], list(feats), np.array(list(feats.values()), float),
                           d["ridge"], d["k"], d["cv"], d.get("options", {}), d.get("device_profile"))


# --- features ---------------------------------------------------------------------------------------------
# Per op class (_core.OP_CLASSES), computed in C++ (cpp/graph/class_features.h) for the whole graph, for its
# live part and for the layers left after a runtime's fusion (BatchNormalization and activations into the
# conv / GEMM before them): FLOPs, bytes moved and layer count, plus a constant 1 (the per-inference
# overhead). "full"/"live"/"fused": every class separately (for k of about 30 and more); "*_coarse": all
# convolutions and GEMMs together, everything else together, for the smallest k.
FEATURE_SETS = ("full", "live", "full_coarse", "live_coarse", "fused", "fused_coarse")
DEFAULT_FEATURE_SETS = FEATURE_SETS   # fit's candidates
_FITTED_FIELDS = ("flops", "bytes", "layers")   # MACs are half the FLOPs of a conv or GEMM: one of them suffices
_COMPUTE = ("conv_dense", "conv_depthwise", "conv_pointwise", "conv_grouped", "gemm")


def _load_profile(profile) -> Optional[Dict[str, Any]]:
    """fit(profile=...): a path, a DeviceProfile or its JSON dict -> the JSON dict (kept in the calibrated
    model, so a saved model predicts without the profile's file); None stays None."""
    if profile is None:
        return None
    if isinstance(profile, DeviceProfile):
        return profile.data
    if isinstance(profile, dict):
        return DeviceProfile(profile).data   # checks format and version
    return _profiles.load_profile(profile).data


def raw_features(sources, *, input_shapes=None, batch_size: int = 1, threads: Optional[int] = None,
                 errors: str = "nan") -> Tuple[np.ndarray, List[str]]:
    """Per-op-class sums of every model over each part (_core.CLASS_FEATURE_PARTS: the whole graph, its live
    part, the layers left after fusion): (float64 [n, parts x classes x fields], column names
    "full.conv_dense.macs", ...). Models that cannot be analysed get NaN rows (errors="nan")
    or raise their ModelError (errors="raise")."""
    from . import _core
    from ._sources import is_one_model, resolve, shape_list
    if is_one_model(sources):
        sources = [sources]
    items = [resolve(src, i) for i, src in enumerate(sources)]
    names = [name for name, _ in items]
    n_threads = 0 if threads is None else int(threads)
    X, status, messages = _core.features_batch([payload for _, payload in items], names,
                                               shape_list(input_shapes), int(batch_size), n_threads)
    if errors == "raise":
        for st, msg in zip(status, messages):
            if st != 0:
                raise _core.ModelError(msg)
    return X, _raw_names()


def _raw_names() -> List[str]:
    from . import _core
    return [f"{part}.{cls}.{field}" for part in _core.CLASS_FEATURE_PARTS for cls in _core.OP_CLASSES
            for field in _core.CLASS_COST_FIELDS]


def feature_names(feature_set: str, device_profile=None) -> List[str]:
    """Column names of `feature_set` (one of FEATURE_SETS), as the coefficients are named."""
    from . import _core
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    part, _, coarse = feature_set.partition("_")
    if coarse:
        return ["inference"] + [f"{part}.{group}.{field}" for group in ("compute", "rest") for field in _FITTED_FIELDS]
    return ["inference"] + [f"{part}.{cls}.{field}" for cls in _core.OP_CLASSES for field in _FITTED_FIELDS]


def select_features(raw: np.ndarray, feature_set: str) -> np.ndarray:
    """The columns of `feature_set` from `raw_features`' matrix."""
    from . import _core
    raw = np.asarray(raw, float)
    index = {name: i for i, name in enumerate(_raw_names())}
    names = feature_names(feature_set)
    part, _, coarse = feature_set.partition("_")
    X = np.empty((raw.shape[0], len(names)))
    X[:, 0] = np.where(np.isnan(raw[:, 0]), np.nan, 1.0)
    for j, name in enumerate(names[1:], 1):
        _, group, field = name.split(".")
        if coarse:
            classes = _COMPUTE if group == "compute" else [c for c in _core.OP_CLASSES if c not in _COMPUTE]
        else:
            classes = [group]
        X[:, j] = sum(raw[:, index[f"{part}.{c}.{field}"]] for c in classes)
    return X


def feature_matrix(sources, feature_set: str, device_profile=None, **options) -> np.ndarray:
    """The feature matrix [n models, len(feature_names(feature_set))] of `sources` (NaN rows for models that
    cannot be analysed). options: input_shapes, batch_size, threads."""
    if feature_set in _profiles.PROFILE_FEATURE_SETS:
        return _profiles.profile_feature_matrix(device_profile, sources, feature_set, **options)
    raw, _ = raw_features(sources, **options)
    return select_features(raw, feature_set)
