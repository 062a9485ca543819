"""Device profiles: our kernels timed on the board at every distinct layer of a search space or a model set,
and the zero-shot latency of any network predicted from them (docs/device-profile.md).

    >>> from netscore_fast import device
    >>> device.measure(space="nasbench201", out="pi5.json")      # once per board: minutes
    >>> device.load("pi5.json").predict(candidates)               # ms per inference, thousands per second

A profile holds (1) the median time of every distinct layer configuration of the models it was measured
for, keyed as bench.measure keys them (op kind, kernel, shapes, attributes, fused epilogue), (2) throughput
curves per op class over sizes from cache-resident to memory-bound, for layers that were not measured, and
(3) the fixed cost of a layer and of an inference. A prediction is the sum over a model's layers of the
measured time of its configuration, else the curve of its class interpolated in log space at its FLOPs
(convolutions, GEMMs) or bytes (everything else), plus the per-inference cost. Layers that bench.measure
fuses, folds or treats as views take no time; layers without a kernel are priced as memory traffic.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import sys
import time
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["DeviceProfile", "measure", "load_profile", "FORMAT", "VERSION", "SPACES"]

FORMAT = "netscore_fast.device.profile"
VERSION = 1
SPACES = {"nasbench201": ("cifar10", "cifar100", "ImageNet16-120")}   # search space -> its datasets

_SAVE_EVERY_S = 2.0   # seconds between incremental saves while measuring


def _time_config(key: str, threads: int, min_time: float) -> Dict[str, Any]:
    """Time one configuration (the one place measure() calls the kernels; tests count calls here)."""
    from . import _core
    return dict(_core.device_time_config(key, int(threads), float(min_time)))


class DeviceProfile:
    """A measured device profile (see the module docstring); `predict` gives ms per inference.

    data: the JSON document (format "netscore_fast.device.profile", version 1). `path`: where it was read
    from or written to, if anywhere. Like a calibrated model, it fills the `latency_ms` column of
    profile_many(..., device=profile).
    """

    quantity = "latency_ms"

    def __init__(self, data: Dict[str, Any], path: Optional[str] = None):
        _check_format(data, path)
        self.data = data
        self.path = path
        self._table = None

    # --- contents -----------------------------------------------------------------------------------
    @property
    def configs(self) -> Dict[str, Dict[str, Any]]:
        """Measured layer configurations: key -> {"seconds", "class", "flops", "bytes", "kernel", ...}."""
        return self.data["configs"]

    @property
    def curves(self) -> Dict[str, Dict[str, Any]]:
        """Curve points: key -> {"seconds", "class", "flops", "bytes", ...} (the sweep of curve sizes)."""
        return self.data["curves"]

    @property
    def per_layer_s(self) -> float:
        return float(self.data["fixed"]["per_layer_s"])

    @property
    def per_inference_s(self) -> float:
        return float(self.data["fixed"]["per_inference_s"])

    @property
    def machine(self) -> Dict[str, Any]:
        return self.data["machine"]

    @property
    def column(self) -> str:
        """The table column its predictions fill (profile_many(..., device=profile))."""
        return self.quantity

    def __repr__(self) -> str:
        m = self.machine
        return (f"<DeviceProfile {m.get('model', '?')} ({m.get('isa_active', '?')}, {self.data.get('threads')} "
                f"thread(s)): {len(self.configs)} configurations, {len(self.curves)} curve points>")

    def table(self):
        """The C++ lookup (_core.DeviceTable) built from this profile, once."""
        if self._table is None:
            from . import _core
            exact = [(k, float(v["seconds"])) for k, v in self.configs.items()]
            curve = [(k, float(v["seconds"])) for k, v in self.curves.items()]
            try:
                self._table = _core.DeviceTable([k for k, _ in exact], [s for _, s in exact],
                                                [k for k, _ in curve], [s for _, s in curve], self.per_layer_s,
                                                self.per_inference_s)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{self.path or '<device profile>'}: {exc}") from None
        return self._table

    # --- prediction ---------------------------------------------------------------------------------
    def predict_details(self, sources, threads: Optional[int] = None, *, input_shapes=None,
                        batch_size: int = 1) -> Dict[str, Any]:
        """Per model: "latency_ms" (as predict), "per_class_ms" {curve class or "fixed": ms array}, layer
        counts "exact", "interpolated", "unknown", "names" and "errors" {name: message}."""
        from ._sources import is_one_model, resolve, shape_list
        if is_one_model(sources):
            sources = [sources]
        items = [resolve(src, i) for i, src in enumerate(sources)]
        names = [n for n, _ in items]
        seconds, per_class, counts, status, errors = self.table().predict_batch(
            [p for _, p in items], names, shape_list(input_shapes), int(batch_size),
            0 if threads is None else int(threads))
        return _details(names, seconds, per_class, counts, status, errors)

    def predict(self, sources, threads: Optional[int] = None, *, input_shapes=None, batch_size: int = 1
                ) -> np.ndarray:
        """Zero-shot milliseconds per inference of each model with our kernels on the profiled machine
        (float64 array in source order; NaN for a model that cannot be analysed).

        sources: as for profile_many (paths, bytes, ModelProtos, ModelParts, (name, source) pairs).
        threads: C++ workers walking the models (default: all cores); the profile's own kernel threads are
        fixed when it was measured. input_shapes / batch_size: as in profile().
        """
        return self.predict_details(sources, threads, input_shapes=input_shapes,
                                    batch_size=batch_size)["latency_ms"]

    def _one_walk(self, shapes, batch_size: int) -> Optional["OneWalk"]:
        """profile_many(device=self) in one walk per model (_core.DeviceTable.profile_predict_batch), when
        the walk profile_many makes is the one predict() makes as profile_many calls it (no input shapes,
        batch 1); else None."""
        if shapes or int(batch_size) != 1:
            return None
        table = self.table()

        def walk(payloads, names, threads: int):
            totals, status, errors, (seconds, _, _) = table.profile_predict_batch(payloads, names, [], 1, threads)
            return totals, status, errors, np.asarray(seconds) * 1e3
        return OneWalk(walk, lambda items, threads: self.predict(items, threads), lambda rows: rows)

    # --- persistence --------------------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        return self.data

    def save(self, path) -> None:
        """Write the JSON document (atomically: a reader never sees half a file)."""
        _write_atomic(os.fspath(path), self.data)
        self.path = os.fspath(path)


class OneWalk(NamedTuple):
    """How profile_many(device=model) takes a device model's predictions from the walk that counts the
    totals: walk(payloads, names, threads) -> (totals, status, errors, rows) for the rows analysed; rows(items,
    threads) for rows it does not walk (cache hits); column(all rows) -> the predictions, made once for the
    whole table (a calibrated model's product over all rows at once, as its predict() makes it: the same
    numbers to the last bit)."""
    walk: Callable
    rows: Callable
    column: Callable


def _details(names, seconds, per_class, counts, status, errors) -> Dict[str, Any]:
    """predict_details' dict from _core.DeviceTable.predict_batch's arrays."""
    from . import _core
    classes = list(_core.DEVICE_CURVE_CLASSES) + ["fixed"]
    return {"names": names, "latency_ms": np.asarray(seconds) * 1e3,
            "per_class_ms": {c: per_class[:, j] * 1e3 for j, c in enumerate(classes)},
            "exact": counts[:, 0], "interpolated": counts[:, 1], "unknown": counts[:, 2],
            "errors": {n: e for n, s, e in zip(names, status, errors) if s != 0}}


def _check_format(data: Any, path: Optional[str]) -> None:
    where = path or "<device profile>"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        kind = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{where}: not a netscore_fast device profile (format {kind!r}, expected {FORMAT!r})")
    if data.get("version") != VERSION:
        raise ValueError(f"{where}: device profile format version {data.get('version')!r}, this library reads "
                         f"version {VERSION}")
    for field in ("configs", "curves", "fixed", "machine"):
        if field not in data:
            raise ValueError(f"{where}: device profile has no {field!r} section")


def load_profile(path) -> DeviceProfile:
    """A device profile written by `measure` (ValueError naming the file for another format or version)."""
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return DeviceProfile(data, path)


def _write_atomic(path: str, data: Dict[str, Any]) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --- measuring ------------------------------------------------------------------------------------------

def _space_sources(space: str, datasets: Optional[Sequence[str]]) -> List[Tuple[str, Any]]:
    if space not in SPACES:
        raise ValueError(f"unknown search space {space!r}; known: {', '.join(SPACES)}")
    from . import nas
    out: List[Tuple[str, Any]] = []
    for dataset in (datasets or SPACES[space]):
        out.extend((f"{dataset}:{arch}", parts) for arch, parts in nas.nasbench201_models(dataset))
    return out


def _machine(threads: int) -> Dict[str, Any]:
    from . import __version__
    from .bench import cpu_info
    m = cpu_info()
    keep = ("arch", "model", "vendor", "logical_cores", "llc_bytes", "isa_supported", "isa_active", "clock_mhz",
            "clock_source", "measured_mhz", "nominal_mhz", "peak_gflops_per_core", "compiler")
    out = {k: m[k] for k in keep if k in m}
    out["netscore_fast_version"] = __version__
    out["threads"] = int(threads)
    return out


def _progress(progress, total: int, done: int):
    """update(n) and close(): a tqdm bar when progress is True, or None with stderr a terminal and tqdm
    installed; a callable progress(done, total); otherwise nothing."""
    if callable(progress) and not isinstance(progress, bool):
        return (lambda n: progress(n, total)), (lambda: None)
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return (lambda n: None), (lambda: None)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("progress bars need tqdm: pip install 'netscore-fast[progress]'") from None
        return (lambda n: None), (lambda: None)
    bar = tqdm(total=total, initial=done, unit="config", desc="device profile", dynamic_ncols=True)
    return (lambda n: bar.update(n - bar.n)), bar.close


def _fresh(threads: int, min_time: float) -> Dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "created": _now(), "updated": None, "complete": False,
            "threads": int(threads), "min_time_s": float(min_time), "machine": _machine(threads),
            "sources": {}, "configs": {}, "curves": {}, "trivial": {},
            "fixed": {"per_layer_s": 0.0, "per_inference_s": 0.0, "whole_model": []},
            "measure_time_s": 0.0}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _resume(out: Optional[str], threads: int, min_time: float) -> Dict[str, Any]:
    if out is None or not os.path.exists(out):
        return _fresh(threads, min_time)
    data = load_profile(out).data
    here = _machine(threads)
    there = data["machine"]
    if data.get("threads") != threads or there.get("model") != here.get("model") or \
            there.get("isa_active") != here.get("isa_active"):
        raise ValueError(f"{out}: measured with {data.get('threads')} thread(s) on {there.get('model')!r} "
                         f"({there.get('isa_active')}), not {threads} on {here.get('model')!r} "
                         f"({here.get('isa_active')}): give another out file to start a new profile")
    return data


def measure(sources=None, *, space: Optional[str] = None, datasets: Optional[Sequence[str]] = None,
            threads: int = 1, out: Optional[Union[str, os.PathLike]] = "device.json", progress=None,
            min_time: float = 0.1, input_shapes=None, batch_size: int = 1, whole_models: int = 3,
            workers: Optional[int] = None) -> DeviceProfile:
    """Measure this machine's device profile with our kernels; returns it and writes it to `out`.

    sources: models (as for profile_many) whose distinct layer configurations are timed; or
    space: "nasbench201" (every network of the space, for `datasets`, by default CIFAR-10, CIFAR-100 and
        ImageNet16-120). Both may be given.
    threads: kernel threads for every timing (a profile is for one thread count).
    out: the JSON file, written as measuring goes (atomically, every couple of seconds): a run that stops
        (Ctrl-C, a crash) keeps what it measured, and a rerun with the same `out` times only what is
        missing. None: nothing written.
    progress: a tqdm bar (True; None: when stderr is a terminal), a callable progress(done, total), or
        False. min_time: seconds of timing per configuration. whole_models: models also timed whole (all
        layers back to back) against the sum of their layers, for the per-inference cost.
    workers: C++ threads that walk the models for their configurations (default: all cores).
    """
    from . import _core
    from ._sources import is_one_model, resolve, shape_list

    start = time.perf_counter()
    out = None if out is None else os.fspath(out)
    data = _resume(out, int(threads), float(min_time))
    items: List[Tuple[str, Any]] = []
    if sources is not None:
        if is_one_model(sources):
            sources = [sources]
        items += [resolve(src, i) for i, src in enumerate(sources)]
    if space is not None:
        items += _space_sources(space, datasets)
        data["sources"].setdefault("spaces", {})[space] = list(datasets or SPACES[space])
    if not items and sources is None and space is None:
        raise ValueError("measure needs models (sources) or a search space (space='nasbench201')")

    counts, status, errors = _core.device_configs_batch([p for _, p in items], [n for n, _ in items],
                                                        shape_list(input_shapes), int(batch_size),
                                                        0 if workers is None else int(workers))
    failed = {items[i][0]: errors[i] for i in range(len(items)) if status[i] != 0}
    data["sources"]["models"] = len(items) - len(failed)   # walked by the latest run
    if failed:
        data["sources"].setdefault("failed", {}).update(dict(list(failed.items())[:20]))
    curve_keys, trivial_keys = _core.device_curve_keys()
    todo: List[Tuple[str, str]] = []   # (section, key) not measured yet, models' layers first
    todo += [("configs", k) for k in sorted(counts, key=lambda k: -counts[k]) if k not in data["configs"]]
    todo += [("curves", k) for k in curve_keys if k not in data["curves"]]
    todo += [("trivial", k) for k in trivial_keys if k not in data["trivial"]]
    for key, n in counts.items():   # layer counts are kept for the configurations already measured too
        if key in data["configs"]:
            data["configs"][key]["layers"] = int(n)

    total = len(todo) + sum(len(data[s]) for s in ("configs", "curves", "trivial"))
    done = total - len(todo)
    update, close = _progress(progress, total, done)
    previous_s = float(data.get("measure_time_s", 0.0))
    last_save = time.perf_counter()

    def save(complete: bool) -> None:
        data["updated"] = _now()
        data["complete"] = complete
        data["measure_time_s"] = previous_s + (time.perf_counter() - start)
        if out is not None:
            _write_atomic(out, data)

    try:
        for section, key in todo:
            entry = _time_config(key, threads, min_time)
            if section == "configs":
                entry["layers"] = int(counts[key])
            data[section][key] = entry
            done += 1
            update(done)
            if time.perf_counter() - last_save > _SAVE_EVERY_S:
                save(False)
                last_save = time.perf_counter()
        _fixed_costs(data, items, threads, whole_models, input_shapes, batch_size)
    except BaseException:
        save(False)   # keep what was measured: a rerun continues from here
        raise
    finally:
        close()
    save(True)
    return DeviceProfile(data, out)


def _fixed_costs(data: Dict[str, Any], items, threads: int, whole_models: int, input_shapes, batch_size) -> None:
    """Per layer: the fastest trivial layer (a call with nothing to do). Per inference: the smallest over a few
    models of (all layers run back to back) - (sum of their per-layer medians), never below zero (the
    smallest: a loaded machine only ever adds time to one of the two runs)."""
    fixed = data["fixed"]
    trivial = [float(v["seconds"]) for v in data["trivial"].values()]
    fixed["per_layer_s"] = min(trivial) if trivial else 0.0
    if len(fixed.get("whole_model", [])) < whole_models and items:
        from . import bench
        # spread over the list (a space's first networks are alike)
        step = max(1, len(items) // max(1, whole_models))
        for name, payload in items[::step][:whole_models]:
            if any(w["name"] == name for w in fixed["whole_model"]):
                continue
            try:
                t = bench.measure(payload if not isinstance(payload, tuple) else bytes(payload),
                                  threads=threads, min_time=0.02, input_shapes=input_shapes,
                                  batch_size=batch_size, sequence=True)
            except Exception:   # noqa: BLE001 - a model bench.measure rejects adds no figure
                continue
            if t.sequence_s is None:
                continue
            fixed["whole_model"].append({"name": name, "sequence_s": t.sequence_s, "sum_of_layers_s": t.total_s})
    diffs = [w["sequence_s"] - w["sum_of_layers_s"] for w in fixed["whole_model"]]
    fixed["per_inference_s"] = max(0.0, float(min(diffs))) if diffs else 0.0


# --- features for few-shot calibration (device.fit(..., profile=...)) ---------------------------------------
# The profile's predicted ms of each model summed per op class, one coefficient per class (how much faster
# or slower the user's runtime is than our kernels at that kind of layer), plus the layer count (per-layer
# overhead) and a constant (per-inference overhead). "profile_coarse": one coefficient for all predicted
# time, for the smallest k.
PROFILE_FEATURE_SETS = ("profile", "profile_coarse")
_FEATURE_CLASSES = {   # op class of device.fit -> curve classes of the profile
    "conv_dense": ("conv_dense", "qconv"), "conv_depthwise": ("conv_depthwise",),
    "conv_pointwise": ("conv_pointwise",), "conv_grouped": ("conv_grouped",), "gemm": ("gemm", "qgemm"),
    "pool": ("maxpool", "avgpool", "globalavgpool"), "elementwise": ("binary", "unary"),
    "data_movement": ("movement",), "fixed": ("fixed",),
}


def _as_profile(profile) -> DeviceProfile:
    if isinstance(profile, DeviceProfile):
        return profile
    if isinstance(profile, dict):
        return DeviceProfile(profile)
    if profile is None:
        raise ValueError("profile features need a device profile")
    return load_profile(profile)


def profile_feature_names(feature_set: str) -> List[str]:
    if feature_set == "profile":
        return ["inference", "layers"] + [f"profile.{c}.ms" for c in _FEATURE_CLASSES]
    if feature_set == "profile_coarse":
        return ["inference", "layers", "profile.total.ms"]
    raise ValueError(f"unknown profile feature set {feature_set!r}; known: {', '.join(PROFILE_FEATURE_SETS)}")


def profile_feature_matrix(profile, sources, feature_set: str, *, input_shapes=None, batch_size: int = 1,
                           threads: Optional[int] = None, errors: str = "nan") -> np.ndarray:
    """[n models, len(profile_feature_names(feature_set))]: NaN rows for models that cannot be analysed
    (errors="nan") or their ModelError (errors="raise")."""
    d = _as_profile(profile).predict_details(sources, threads, input_shapes=input_shapes, batch_size=batch_size)
    if errors == "raise" and d["errors"]:
        from . import _core
        raise _core.ModelError(next(iter(d["errors"].values())))
    return _details_matrix(d, feature_set)


def _details_matrix(d: Dict[str, Any], feature_set: str) -> np.ndarray:
    """profile_feature_matrix from predict_details' dict."""
    names = profile_feature_names(feature_set)
    n = len(d["names"])
    X = np.empty((n, len(names)))
    ok = np.isfinite(d["latency_ms"])
    X[:, 0] = np.where(ok, 1.0, np.nan)
    X[:, 1] = np.where(ok, d["exact"] + d["interpolated"] + d["unknown"], np.nan)
    if feature_set == "profile_coarse":
        X[:, 2] = d["latency_ms"]
    else:
        for j, classes in enumerate(_FEATURE_CLASSES.values(), 2):
            X[:, j] = sum(d["per_class_ms"][c] for c in classes)
    return X


def profile_features(profile, sources, *, errors: str = "nan", **options
                     ) -> Tuple[Dict[str, np.ndarray], Dict[str, List[str]]]:
    """({feature set: X}, {feature set: column names}) of every PROFILE_FEATURE_SETS entry, for fit_features;
    the models are walked once."""
    full = profile_feature_matrix(profile, sources, "profile", errors=errors, **options)
    coarse = np.column_stack([full[:, 0], full[:, 1], full[:, 2:].sum(axis=1)])
    return ({"profile": full, "profile_coarse": coarse},
            {s: profile_feature_names(s) for s in PROFILE_FEATURE_SETS})
