"""Measured throughput on this machine: the standard op table, per-layer model timing, `netscore-fast bench`.

- `cpu_info()` describes the machine (model, cores, ISA tiers, clock, estimated peak GFLOP/s per core).
- `suite(threads=1, quick=False)` times each op type at representative MobileNet/ResNet layer shapes
  (the table of Lai & Suda 2018, "Not All Ops Are Created Equal!": throughput differs several-fold
  between op types at equal FLOPs).
- `measure(model)` times every node of an ONNX model at its real shape with our kernels and random
  weights (nothing is read from the file's weight data), one row per node.

Timing runs in C++ with the GIL released: warm-up, repeats until `min_time` seconds, median and
interquartile range per call. FLOP counts follow the project's convention (2 per multiply-accumulate).
"""
from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _core
from ._sources import InputShapes, resolve, shape_list
from ._units import Column, seconds, text_table, wrap

__all__ = ["cpu_info", "measure", "suite", "BenchTable", "SUITE", "op_spec_label", "single_op_model"]


# Row statuses: how a node's time was obtained.
MEASURED = "measured"     # timed with a kernel (identical configurations share one timing)
FUSED = "fused"           # activation or residual Add executed inside the preceding kernel: time 0, counted there
FOLDED = "folded"         # BatchNormalization folded into the preceding conv, or a constant node: time 0
NOOP = "noop"             # Flatten/Reshape/Identity/Dropout...: no data movement at inference, time 0
UNMEASURED = "unmeasured" # no kernel for this node: time unknown (NaN), never a silent zero

_TEXT_COLUMNS = ("name", "op_type", "kernel", "status", "shape", "note")
_FLOAT_COLUMNS = ("median_s", "q1_s", "q3_s", "iqr_s", "gflops", "gbytes_per_s", "efficiency")
_INT_COLUMNS = ("flops", "bytes", "config_id", "samples")
_BOOL_COLUMNS = ("timed",)
COLUMNS = ("name", "op_type", "kernel", "status", "shape", "median_s", "q1_s", "q3_s", "iqr_s", "gflops",
           "gbytes_per_s", "efficiency", "flops", "bytes", "config_id", "timed", "samples", "note")


# The standard op table: each op type at layer shapes of MobileNet (v1/v2) and ResNet-50, batch 1, FP32.
# `quick` marks the ten shapes timed by `--quick` (and compared against onnxruntime in benchmarks/).
def _conv(label, c, h, w, k, kernel, stride=1, group=1, pad=None, quick=False, source="", op="conv"):
    p = (kernel - 1) // 2 if pad is None else pad
    return {"label": label, "quick": quick, "source": source,
            "spec": {"op": op, "input": [1, c, h, w], "out_channels": k, "kernel": [kernel, kernel],
                     "strides": [stride, stride], "pads": [p, p, p, p], "dilations": [1, 1], "group": group,
                     "bias": True, "activation": ""}}


SUITE: List[Dict[str, Any]] = [
    _conv("conv 3x3 64->64 @56x56", 64, 56, 56, 64, 3, quick=True, source="ResNet-50 conv2_x"),
    _conv("stem conv 3x3 3->32 s2 @224x224", 3, 224, 224, 32, 3, stride=2, quick=True, source="MobileNet stem"),
    _conv("conv 7x7 3->64 s2 @224x224", 3, 224, 224, 64, 7, stride=2, source="ResNet-50 stem"),
    _conv("conv 3x3 256->256 @14x14", 256, 14, 14, 256, 3, source="ResNet-50 conv4_x"),
    _conv("depthwise 3x3 32ch @112x112", 32, 112, 112, 32, 3, group=32, quick=True, source="MobileNet block 1"),
    _conv("depthwise 3x3 144ch s2 @56x56", 144, 56, 56, 144, 3, stride=2, group=144, source="MobileNetV2 block 4"),
    _conv("depthwise 3x3 512ch @14x14", 512, 14, 14, 512, 3, group=512, quick=True, source="MobileNet block 8"),
    _conv("pointwise 32->64 @112x112", 32, 112, 112, 64, 1, quick=True, source="MobileNet block 1"),
    _conv("pointwise 512->512 @14x14", 512, 14, 14, 512, 1, quick=True, source="MobileNet block 8"),
    _conv("pointwise 1024->1024 @7x7", 1024, 7, 7, 1024, 1, source="MobileNet block 13"),
    _conv("grouped 3x3 128->128 g32 @28x28", 128, 28, 28, 128, 3, group=32, quick=True,
          source="ResNeXt-50 32x4d conv3_x"),
    {"label": "GEMV 1x1024 by 1024x1000", "quick": True, "source": "MobileNet classifier",
     "spec": {"op": "gemm", "m": 1, "k": 1024, "n": 1000, "bias": True}},
    {"label": "GEMM 64x2048 by 2048x1000", "quick": False, "source": "ResNet-50 classifier, batch 64",
     "spec": {"op": "gemm", "m": 64, "k": 2048, "n": 1000, "bias": True}},
    {"label": "attention QK^T 6 heads 197x64 by 64x197", "quick": False, "source": "ViT-S/16 self-attention",
     "spec": {"op": "gemm", "m": 197, "k": 64, "n": 197, "batch": 6, "bias": False, "trans_b": False}},
    {"label": "max pool 3x3 s2 64x112x112", "quick": True, "source": "ResNet-50 pool1",
     "spec": {"op": "maxpool", "input": [1, 64, 112, 112], "kernel": [3, 3], "strides": [2, 2],
              "pads": [1, 1, 1, 1]}},
    {"label": "global avg pool 2048x7x7", "quick": False, "source": "ResNet-50 pool5",
     "spec": {"op": "globalavgpool", "input": [1, 2048, 7, 7]}},
    {"label": "add 1x256x56x56", "quick": True, "source": "ResNet-50 residual add",
     "spec": {"op": "add", "a": [1, 256, 56, 56], "b": [1, 256, 56, 56]}},
    {"label": "mul 1x96x56x56 by 1x96x1x1", "quick": False, "source": "squeeze-excitation scale",
     "spec": {"op": "mul", "a": [1, 96, 56, 56], "b": [1, 96, 1, 1]}},
    {"label": "relu 1x64x112x112", "quick": False, "source": "ResNet-50 stem activation",
     "spec": {"op": "relu", "input": [1, 64, 112, 112]}},
    {"label": "hardswish 1x96x56x56", "quick": False, "source": "MobileNetV3 activation",
     "spec": {"op": "hardswish", "input": [1, 96, 56, 56]}},
    # int8 (per-tensor quantisation, int32 accumulation): throughput in GOP/s (2 integer ops per MAC).
    _conv("int8 conv 3x3 64->64 @56x56", 64, 56, 56, 64, 3, source="ResNet-50 conv2_x, int8", op="qconv"),
    _conv("int8 depthwise 3x3 512ch @14x14", 512, 14, 14, 512, 3, group=512, source="MobileNet block 8, int8",
          op="qconv"),
    _conv("int8 pointwise 512->512 @14x14", 512, 14, 14, 512, 1, source="MobileNet block 8, int8", op="qconv"),
    {"label": "int8 GEMV 1x1024 by 1024x1000", "quick": False, "source": "MobileNet classifier, int8",
     "spec": {"op": "qgemm", "m": 1, "k": 1024, "n": 1000, "bias": True}},
]


def op_spec_label(spec: Mapping[str, Any]) -> str:
    """A short human description of an op spec, e.g. 'conv k3 s1 g1 1x64x56x56 -> 64'."""
    op = spec["op"]
    if op in ("conv", "qconv"):
        k = spec.get("kernel", [1, 1])
        return (f"{op} k{k[0]}x{k[1]} s{spec.get('strides', [1, 1])[0]} g{spec.get('group', 1)} "
                f"{'x'.join(map(str, spec['input']))} -> {spec['out_channels']}")
    if op in ("gemm", "qgemm"):
        batch = f"{spec['batch']} x " if spec.get("batch", 1) > 1 else ""
        return f"{op} {batch}{spec['m']}x{spec['k']} by {spec['k']}x{spec['n']}"
    if op in ("add", "mul"):
        return f"{op} {'x'.join(map(str, spec['a']))} , {'x'.join(map(str, spec['b']))}"
    return f"{op} {'x'.join(map(str, spec['input']))}"


def cpu_info() -> Dict[str, Any]:
    """This machine: arch, model, vendor, logical_cores, llc_bytes, clock (nominal_mhz, measured_mhz,
    clock_mhz, clock_source), isa_supported (best first), isa_active, compiler, and the FP32 peak of one core:
    peak_gflops_per_core (GFLOP/s, MEASURED at first call by a loop of independent FMAs of the active tier on
    one thread, best of short runs; efficiency is measured against it), peak_gflops_by_isa (the same per
    supported tier), fma_per_cycle (the measured peak over lanes x 2 x the measured clock), peak_assumption
    (how it was measured), and the CPU-family model's figure: fma_units x (vector_bits / 32) x 2 x clock_mhz
    = model_peak_gflops_per_core."""
    return dict(_core.bench_cpu_info())


class BenchTable:
    """Timing results, one row per op or model node, backed by a numpy structured array.

    Columns: name, op_type, kernel (our micro-kernel, '' if none), status (measured/fused/folded/noop/
    unmeasured), shape, median_s and q1_s/q3_s/iqr_s (seconds per call), gflops (GFLOP/s), gbytes_per_s
    (GB/s of inputs + weights + outputs), efficiency (GFLOP/s over the machine's peak for the threads used),
    flops and bytes (per call), config_id (rows with equal ids share one timing), timed (the row that was
    actually timed), samples, note.
    `machine` holds cpu_info() plus threads; `source` names the model or 'suite'.
    For a model, `sequence_s` / `sequence_iqr_s` is the median / IQR of running every measured layer back
    to back in model order, each with its own weights (None when not run): caches then hold what they
    hold during inference, while `total_s` sums warm-cache per-layer medians.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], machine: Mapping[str, Any], source: str = "",
                 threads: int = 1, sequence: Optional[Mapping[str, Any]] = None):
        import numpy as np
        self.source = source
        self.threads = int(threads)
        self.machine = dict(machine)
        self.sequence = dict(sequence) if sequence else None
        self.sequence_s: Optional[float] = float(sequence["median_s"]) if sequence else None
        self.sequence_iqr_s: Optional[float] = float(sequence["iqr_s"]) if sequence else None
        dtype = []
        for col in COLUMNS:
            if col in _TEXT_COLUMNS:
                dtype.append((col, object))
            elif col in _FLOAT_COLUMNS:
                dtype.append((col, np.float64))
            elif col in _INT_COLUMNS:
                dtype.append((col, np.int64))
            else:
                dtype.append((col, np.bool_))
        data = np.zeros(len(rows), dtype=dtype)
        for i, row in enumerate(rows):
            for col in COLUMNS:
                default = "" if col in _TEXT_COLUMNS else (math.nan if col in _FLOAT_COLUMNS else 0)
                value = row.get(col, default)
                if value is None:
                    value = default
                data[col][i] = value
        self.data = data

    # --- container behaviour --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for i in range(len(self.data)):
            yield self.row(i)

    def __getitem__(self, key):
        """A column (numpy array) by name, or a row (dict) by index."""
        if isinstance(key, str):
            return self.data[key]
        return self.row(int(key))

    def row(self, i: int) -> Dict[str, Any]:
        r = self.data[i]
        return {col: (r[col].item() if hasattr(r[col], "item") else r[col]) for col in COLUMNS}

    @property
    def columns(self) -> Tuple[str, ...]:
        return COLUMNS

    # --- summaries --------------------------------------------------------------------------------
    @property
    def total_s(self) -> float:
        """Sum of per-call medians over rows with a known time (seconds); unmeasured rows excluded."""
        import numpy as np
        t = self.data["median_s"]
        return float(np.nansum(t))

    @property
    def unmeasured(self) -> List[str]:
        """Names of rows that could not be timed."""
        return [str(n) for n, s in zip(self.data["name"], self.data["status"]) if s == UNMEASURED]

    def slowest(self, n: int = 5) -> List[Dict[str, Any]]:
        """The n rows with the largest median time, slowest first."""
        import numpy as np
        t = np.nan_to_num(self.data["median_s"], nan=-1.0)
        order = np.argsort(-t, kind="stable")
        return [self.row(int(i)) for i in order[:n] if t[i] > 0]

    def by_op_type(self) -> Dict[str, float]:
        """Seconds per op type (sum of medians), largest first."""
        totals: Dict[str, float] = {}
        for op, t in zip(self.data["op_type"], self.data["median_s"]):
            if not math.isnan(t):
                totals[op] = totals.get(op, 0.0) + float(t)
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    # --- conversions ------------------------------------------------------------------------------
    def to_pandas(self):
        """A pandas DataFrame with the columns above (needs the `pandas` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("BenchTable.to_pandas needs pandas: pip install 'netscore-fast[pandas]'") from None
        return pd.DataFrame({col: self.data[col] for col in COLUMNS})

    def to_dict(self) -> Dict[str, Any]:
        rows = []
        for r in self:
            rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()})
        return {"source": self.source, "threads": self.threads, "machine": self.machine,
                "total_s": self.total_s, "sequence": self.sequence, "rows": rows}

    def to_json(self, path: Optional[Union[str, os.PathLike]] = None) -> str:
        """JSON text (NaN written as null); also written to `path` when given."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: Union[str, os.PathLike]) -> "BenchTable":
        """Read what to_json wrote (a JSON string or a file path)."""
        text = os.fspath(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as f:
                text = f.read()
        d = json.loads(text)
        return cls(d["rows"], d.get("machine", {}), d.get("source", ""), d.get("threads", 1), d.get("sequence"))

    def __repr__(self) -> str:
        return f"<BenchTable {self.source!r}: {len(self)} rows, total {self.total_s * 1e3:.3f} ms>"

    def format(self, max_rows: Optional[int] = None, width: Optional[int] = None) -> str:
        """The table as aligned text; with `width`, no line wider (lower-value columns dropped, names cut)."""
        return _format_rows(list(self)[:max_rows] if max_rows else list(self), width)


def _machine(threads: int) -> Dict[str, Any]:
    m = cpu_info()
    m["threads"] = int(threads)
    return m


def _compute_bound(row: Mapping[str, Any]) -> bool:
    """Conv and GEMM are charted in GFLOP/s; GEMV (streams its weights), pooling and elementwise in GB/s."""
    op = str(row.get("op_type", "")).lower()
    compute_op = op in ("conv", "gemm", "matmul", "qconv", "qgemm", "qlinearconv", "qlinearmatmul")
    return compute_op and "gemv" not in str(row.get("kernel", "")) and row.get("flops", 0) > 0


def _efficiency(rows: List[Dict[str, Any]], machine: Mapping[str, Any], threads: int) -> None:
    # Only compute-bound ops (conv, GEMM) are compared with the FMA peak; memory-bound ops show GB/s.
    peak = float(machine.get("peak_gflops_per_core") or 0.0) * max(1, threads)
    for r in rows:
        g = r.get("gflops")
        compute = str(r.get("op_type", "")).lower() in ("conv", "gemm", "matmul")
        ok = compute and peak > 0 and g is not None and not math.isnan(g) and g > 0
        r["efficiency"] = g / peak if ok else math.nan


def _progress(iterable, total: int, desc: str, enabled: Optional[bool]):
    """A tqdm bar on stderr over `iterable` when enabled (None: when stderr is a terminal, so never when
    output is piped or captured)."""
    if enabled is None:
        enabled = _stderr_is_terminal()
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="op", leave=False, file=sys.stderr, dynamic_ncols=True)


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):   # replaced or closed stderr
        return False


def time_op(spec: Mapping[str, Any], *, threads: int = 1, min_time: float = 0.1, cold_cache: bool = False
            ) -> Dict[str, Any]:
    """Time one op spec (a dict as in SUITE[i]['spec']) with our kernels; returns one result row (dict).

    A conv spec may add ``"residual": True``: a residual input of the output's shape is added before the
    activation in the kernel's epilogue (Conv + Add + activation, as runtimes fuse residual connections).
    Times in seconds, throughput in FLOP/s and bytes/s.
    """
    row = dict(_core.bench_time_op(dict(spec), int(threads), float(min_time), bool(cold_cache)))
    row["shape"] = op_spec_label(spec)
    return row


def suite(threads: int = 1, quick: bool = False, *, min_time: Optional[float] = None, cold_cache: bool = False,
          progress: Optional[bool] = False) -> BenchTable:
    """Time the standard op table (SUITE) on this machine.

    threads: kernel threads; quick: only the ten core shapes with shorter timing (min_time 0.05 s instead
    of 0.2 s unless given); cold_cache: rotate buffer copies larger than the last-level cache; progress: a
    tqdm bar on stderr (None: only when stderr is a terminal).
    Returns a BenchTable (one row per shape; `efficiency` against peak_gflops_per_core x threads).
    """
    entries = [e for e in SUITE if e["quick"] or not quick]
    mt = float(min_time if min_time is not None else (0.05 if quick else 0.2))
    machine = _machine(threads)
    rows = []
    for e in _progress(entries, len(entries), "bench", progress):
        r = time_op(e["spec"], threads=threads, min_time=mt, cold_cache=cold_cache)
        r["name"] = e["label"]
        r["note"] = e.get("source", "")
        rows.append(r)
    _efficiency(rows, machine, threads)
    return BenchTable(rows, machine, "suite", threads)


def measure(source: Any, *, threads: int = 1, min_time: float = 0.1, input_shapes: InputShapes = None,
            batch_size: int = 1, cold_cache: bool = False, sequence: bool = True) -> BenchTable:
    """Time every node of an ONNX model at its real shape with our kernels; one row per node.

    source: any source profile() takes: a path, a bytes-like serialized ModelProto, an io.BytesIO, an
        onnx.ModelProto or ModelParts. Weights are random: only
        shapes and attributes are read. input_shapes / batch_size: as in `netscore_fast.profile`.
    threads: kernel threads; min_time: seconds of timing per distinct layer configuration.
    cold_cache: rotate copies of each layer's weights and buffers that together exceed the last-level
        cache, so no layer finds its data cached (an upper bound; the default warm cache is a lower one).
    sequence: also time all measured layers back to back in model order (BenchTable.sequence_s), the
        figure comparable with a runtime's end-to-end latency.
    Conv (standard, depthwise, pointwise, grouped) runs with a following Relu/Clip/HardSwish/Sigmoid fused
    when it is the conv's only consumer (that node is then 'fused', time 0); BatchNormalization after a
    conv is 'folded' (time 0), as inference runtimes do; Flatten/Reshape/Identity/Dropout are 'noop'.
    Identical configurations (op, shapes, attributes) are timed once. Nodes with no kernel are
    'unmeasured' (median_s NaN) and listed in `BenchTable.unmeasured`.
    Raises ModelError naming the model and the problem.
    """
    shapes = shape_list(input_shapes)
    name, payload = resolve(source)
    if isinstance(payload, str):
        result = _core.bench_time_model_file(payload, shapes, int(batch_size), int(threads), float(min_time),
                                             bool(cold_cache), bool(sequence))
    else:
        result = _core.bench_time_model_buffer(payload, name, shapes, int(batch_size), int(threads),
                                               float(min_time), bool(cold_cache), bool(sequence))
    rows = [dict(r) for r in result["rows"]]
    machine = _machine(threads)
    _efficiency(rows, machine, threads)
    return BenchTable(rows, machine, name, threads, result["sequence"])


# --- single-node ONNX models (shared with the onnxruntime benchmark and the tests) ---------------------
def single_op_model(spec: Mapping[str, Any], opset: int = 17, seed: int = 0):
    """An onnx.ModelProto holding one node equivalent to `spec` (random FP32 weights), input 'x'
    (and 'y' for binary ops), output 'out'. Needs the onnx package."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    op = spec["op"]
    out_type = TensorProto.FLOAT
    inits = []
    inputs = []
    if op == "conv":
        n, c, h, w = spec["input"]
        k = spec["out_channels"]
        kh, kw = spec["kernel"]
        g = spec.get("group", 1)
        wt = rng.standard_normal((k, c // g, kh, kw), dtype=np.float32) * 0.1
        inits.append(numpy_helper.from_array(wt, "w"))
        node_inputs = ["x", "w"]
        if spec.get("bias", True):
            inits.append(numpy_helper.from_array(rng.standard_normal(k).astype(np.float32), "b"))
            node_inputs.append("b")
        node = helper.make_node("Conv", node_inputs, ["out"], kernel_shape=[kh, kw],
                                strides=list(spec.get("strides", [1, 1])), pads=list(spec.get("pads", [0] * 4)),
                                dilations=list(spec.get("dilations", [1, 1])), group=g)
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, w]))
    elif op == "gemm" and spec.get("batch", 1) > 1:  # batched product of two activations
        b, m, kk, nn = spec["batch"], spec["m"], spec["k"], spec["n"]
        node = helper.make_node("MatMul", ["x", "y"], ["out"])
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [b, m, kk]))
        inputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [b, kk, nn]))
    elif op == "gemm":
        m, kk, nn = spec["m"], spec["k"], spec["n"]
        inits.append(numpy_helper.from_array(rng.standard_normal((nn, kk), dtype=np.float32) * 0.05, "w"))
        node_inputs = ["x", "w"]
        if spec.get("bias", True):
            inits.append(numpy_helper.from_array(rng.standard_normal(nn).astype(np.float32), "b"))
            node_inputs.append("b")
        node = helper.make_node("Gemm", node_inputs, ["out"], transB=1)
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, kk]))
    elif op in ("qconv", "qgemm"):
        # QLinearConv / QLinearMatMul with int8 activations and weights, per-tensor scales (as bench uses).
        def scalar(name, value, dtype):
            inits.append(numpy_helper.from_array(np.array(value, dtype), name))
        scalar("x_scale", 0.02, np.float32), scalar("x_zp", 3, np.int8)
        scalar("w_scale", 0.005, np.float32), scalar("w_zp", 0, np.int8)
        scalar("y_scale", 0.05, np.float32), scalar("y_zp", -2, np.int8)
        if op == "qconv":
            n, c, h, w = spec["input"]
            k = spec["out_channels"]
            kh, kw = spec["kernel"]
            g = spec.get("group", 1)
            inits.append(numpy_helper.from_array(rng.integers(-127, 128, (k, c // g, kh, kw), dtype=np.int8), "w"))
            node_inputs = ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp"]
            if spec.get("bias", True):
                inits.append(numpy_helper.from_array(rng.integers(-2000, 2000, k, dtype=np.int32), "b"))
                node_inputs.append("b")
            node = helper.make_node("QLinearConv", node_inputs, ["out"], kernel_shape=[kh, kw],
                                    strides=list(spec.get("strides", [1, 1])), pads=list(spec.get("pads", [0] * 4)),
                                    dilations=list(spec.get("dilations", [1, 1])), group=g)
            inputs.append(helper.make_tensor_value_info("x", TensorProto.INT8, [n, c, h, w]))
        else:
            m, kk, nn = spec["m"], spec["k"], spec["n"]
            inits.append(numpy_helper.from_array(rng.integers(-127, 128, (kk, nn), dtype=np.int8), "w"))
            node = helper.make_node("QLinearMatMul", ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale",
                                                      "y_zp"], ["out"])
            inputs.append(helper.make_tensor_value_info("x", TensorProto.INT8, [m, kk]))
        out_type = TensorProto.INT8
    elif op in ("maxpool", "avgpool"):
        node = helper.make_node("MaxPool" if op == "maxpool" else "AveragePool", ["x"], ["out"],
                                kernel_shape=list(spec["kernel"]), strides=list(spec.get("strides", [1, 1])),
                                pads=list(spec.get("pads", [0] * 4)))
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, list(spec["input"])))
    elif op == "globalavgpool":
        node = helper.make_node("GlobalAveragePool", ["x"], ["out"])
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, list(spec["input"])))
    elif op in ("add", "mul"):
        node = helper.make_node(op.capitalize(), ["x", "y"], ["out"])
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, list(spec["a"])))
        inputs.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, list(spec["b"])))
    else:
        onnx_ops = {"relu": "Relu", "sigmoid": "Sigmoid", "hardswish": "HardSwish", "tanh": "Tanh",
                    "relu6": "Clip"}
        if op not in onnx_ops:
            raise ValueError(f"single_op_model: unknown op {op!r}")
        node_inputs = ["x"]
        if op == "relu6":
            inits += [numpy_helper.from_array(np.array(0, np.float32), "lo"),
                      numpy_helper.from_array(np.array(6, np.float32), "hi")]
            node_inputs += ["lo", "hi"]
        node = helper.make_node(onnx_ops[op], node_inputs, ["out"])
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, list(spec["input"])))
    graph = helper.make_graph([node], f"single_{op}", inputs,
                              [helper.make_tensor_value_info("out", out_type, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


# --- presentation -----------------------------------------------------------------------------------
format_time = seconds   # seconds as text: "1.234 s", "1.234 ms" or "12.3 µs"; "-" for None or NaN


def _fmt_num(x: float, digits: int = 1) -> str:
    return "-" if x is None or math.isnan(x) or x <= 0 else f"{x:.{digits}f}"


def _format_rows(rows: List[Dict[str, Any]], width: Optional[int] = None) -> str:
    """Rows as aligned text; to fit `width` the kernel, status, IQR and shape / note columns go first (names
    are cut in the middle, keeping a node path's end)."""
    def col(header, cells, keep=None, align="r", **kw):
        return Column(header, cells, align, keep, **kw)

    def extra(r):
        text = str(r.get("shape", ""))
        if r.get("note"):
            text = f"{text}  ({r['note']})" if text else str(r["note"])
        return text

    eff = [r.get("efficiency") for r in rows]
    cols = [
        col("name", [str(r["name"]) for r in rows], align="l", shrink=24, cut_after=4.5),
        col("op_type", [str(r["op_type"]) for r in rows], keep=5, align="l"),
        col("kernel", [str(r["kernel"]) or "-" for r in rows], keep=1, align="l"),
        col("status", [str(r["status"]) for r in rows], keep=2, align="l"),
        col("median", [format_time(r["median_s"]) for r in rows]),
        col("IQR", [format_time(r["iqr_s"]) for r in rows], keep=3),
        col("GFLOP/s", [_fmt_num(r["gflops"]) for r in rows], keep=9),
        col("GB/s", [_fmt_num(r["gbytes_per_s"]) for r in rows], keep=8),
        col("eff %", ["-" if e is None or math.isnan(e) else f"{100 * e:.0f}" for e in eff], keep=7),
        col("shape / note", [extra(r) for r in rows], keep=4, align="l", shrink=24, cut="end"),
    ]
    return text_table(cols, width, rule=True)


def machine_line(m: Mapping[str, Any], width: Optional[int] = None) -> str:
    """The machine a BenchTable was measured on (CPU, cores, ISA, clock, peak, threads, compiler): one line,
    or several no wider than `width` (broken between fields)."""
    peak = m.get("peak_gflops_per_core") or 0
    fields = [str(m.get("model", "?")), f"{m.get('logical_cores', '?')} logical cores",
              f"ISA {m.get('isa_active', '?')} (supported: {', '.join(m.get('isa_supported', []))})",
              f"clock {m.get('clock_mhz', 0):.0f} MHz", f"peak {peak:.1f} GFLOP/s/core (measured)",
              f"threads {m.get('threads', 1)}", str(m.get("compiler", "?"))]
    if width is None:
        return " | ".join(fields)
    lines, line = [], ""
    for f in fields:
        if line and len(line) + 3 + len(f) > width:
            lines.append(line + " |")
            line = "  " + f
        else:
            line = f"{line} | {f}" if line else f
    lines.append(line)
    return wrap("\n".join(lines), width)


def plot(table: BenchTable, path: Union[str, os.PathLike]) -> None:
    """Bar chart of GFLOP/s per op (GB/s for memory-bound ops on a second axis colour), peak marked.
    Needs the `plot` extra (matplotlib). A model's table (from measure) is drawn by plots.bench_chart."""
    if table.source != "suite":
        from .plots import bench_chart

        bench_chart(table, os.fspath(path))
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'netscore-fast[plot]'") from None
    rows = [r for r in table if r["status"] == MEASURED and r["timed"]]
    labels = [r["name"] if len(r["name"]) <= 40 else r["name"][:38] + ".." for r in rows]
    is_compute = [_compute_bound(r) for r in rows]
    compute = [r["gflops"] if c else 0.0 for r, c in zip(rows, is_compute)]
    memory = [0.0 if c else r["gbytes_per_s"] for r, c in zip(rows, is_compute)]
    m = table.machine
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 0.42 * len(rows) + 2.2), sharey=True,
                                   gridspec_kw={"width_ratios": [3, 2]})
    ypos = list(range(len(rows)))
    ax1.barh(ypos, compute, color="#3b75af")
    ax2.barh(ypos, memory, color="#e1812c")
    ax1.set_yticks(ypos)
    ax1.set_yticklabels(labels, fontsize=9)
    ax1.invert_yaxis()
    peak = float(m.get("peak_gflops_per_core") or 0) * max(1, table.threads)
    if peak > 0:
        ax1.axvline(peak, color="grey", linestyle="--", linewidth=1,
                    label=f"FP32 peak {peak:.0f} GFLOP/s ({table.threads} thread(s))")
        ax1.legend(loc="lower right", fontsize=8)
    for y, v in zip(ypos, compute):
        if v > 0:
            ax1.text(v, y, f" {v:.0f}", va="center", fontsize=8)
    for y, v in zip(ypos, memory):
        if v > 0:
            ax2.text(v, y, f" {v:.0f}", va="center", fontsize=8)
    ax1.set_xlabel("compute throughput (GFLOP/s; int8: GOP/s): conv, GEMM")
    ax2.set_xlabel("memory throughput (GB/s): GEMV, pooling, elementwise")
    ax1.set_xlim(0, max([peak * 1.08] + [v * 1.15 for v in compute] + [1]))
    ax2.set_xlim(0, max([v * 1.2 for v in memory] + [1]))
    ax1.grid(axis="x", alpha=0.3)
    ax2.grid(axis="x", alpha=0.3)
    fig.suptitle(f"netscore_fast kernels, FP32 batch 1, {table.threads} thread(s): {m.get('model', '?')}, "
                 f"{m.get('isa_active', '?')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=120)
    plt.close(fig)
