"""Type stubs for the C++ extension netscore_fast._core (one section per bindings area)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from typing_extensions import Buffer

InputShapes = Sequence[Tuple[str, Sequence[int]]]
InputValues = Sequence[Tuple[str, Sequence[float]]]

class ModelError(ValueError):
    """A model is malformed, inconsistent or unsupported in a way that stops analysis."""

# --- profile of one model (bind_profile.cpp) ------------------------------------------------------
class ProfileResult:
    """Totals and per-node costs of one model in compact C++ form (wrapped by netscore_fast.Profile)."""

    # read-only attributes
    params: int
    bn_stat_params: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    unknown_cost_nodes: List[str]
    upper_bound_nodes: Dict[str, str]
    lower_bound_nodes: Dict[str, str]
    num_layers: int
    has_layers: bool
    def unsupported_ops(self) -> Dict[str, List[str]]: ...
    def layer_columns(self) -> Dict[str, Union[List[str], bytes]]:
        """name/op_type/input_shape/output_shape/name_scopes (the node's "pkg.torch.onnx.name_scopes"
        metadata, "" if none) as lists of str; params, weight_bytes, macs, flops, activation_bytes,
        node_index, supported, folded as packed native int64 bytes."""
    def layer_shapes(self) -> List[Tuple[List[List[int]], List[List[int]]]]: ...
    def live_bytes(self) -> bytes:
        """Per layer row, packed native int64: activation bytes alive while the node runs (max = the peak)."""
    def open_inputs(self) -> List[Tuple[str, Optional[List[int]], List[str]]]:
        """Graph inputs left with an unknown dim: (name, dims with -1 unknown or None for an unknown rank,
        the model's symbol of each dim or "")."""

def profile_file(path: str, input_shapes: InputShapes = ..., batch_size: int = 1,
                 layers: bool = True, input_values: InputValues = ...,
                 dedupe_weights: bool = False) -> ProfileResult: ...
def profile_buffer(buffer: Buffer, source_name: str = "<bytes>", input_shapes: InputShapes = ...,
                   batch_size: int = 1, layers: bool = True, input_values: InputValues = ...,
                   dedupe_weights: bool = False) -> ProfileResult: ...
def supported_ops() -> List[str]: ...

# --- cancellation (module.cpp; Ctrl-C sets the same request while a long call runs on the main thread) --
def cancel() -> None:
    """Ask every running analysis, bulk and timing call of this process to stop: each raises
    KeyboardInterrupt within a fraction of a second. The request stays until clear_cancel()."""
def clear_cancel() -> None:
    """Withdraw a cancel() request: later calls run normally."""

# --- many models on a thread pool (bind_batch.cpp) -------------------------------------------------
TOTALS_COLUMNS: Tuple[str, ...]
"""The per-model totals columns, in the order of profile_batch's totals (defined once, in
cpp/bulk/columns.h): params, macs, flops, weight_bytes, activation_bytes, peak_activation_bytes,
bn_stat_params, unsupported, unknown_cost_nodes. The costs are sums of the known parts; ProfileTable makes a
total with an unknown part NaN."""
TOTALS_DTYPES: Tuple[str, ...]
"""numpy dtype of each of TOTALS_COLUMNS ("<i8": int64, -1 when the model failed)."""

def profile_batch(items: List[Union[str, Buffer, Tuple[bytes, ...]]], names: List[str], input_shapes: InputShapes,
                  batch_size: int = 1, threads: int = 0,
                  input_values: InputValues = ...) -> Tuple["_np.ndarray", "_np.ndarray", List[str]]:
    """Totals int64[n, len(TOTALS_COLUMNS)], status int32[n] (0 ok, 1 ModelError, 2 other error, 3 the file
    could not be opened or mapped), and error messages ("" when ok); the GIL is released while the workers
    run. Ctrl-C (or cancel()) raises KeyboardInterrupt whose .partial is that tuple, status 4 in every row
    that did not finish."""

OP_CLASSES: Tuple[str, ...]
"""Op classes of device models (graph::OpClass): conv_dense, conv_depthwise, conv_pointwise, conv_grouped,
gemm, pool, elementwise, data_movement, other."""
CLASS_COST_FIELDS: Tuple[str, ...]
"""Per-class sums of features_batch: macs, flops, bytes (moved), layers."""
CLASS_FEATURE_PARTS: Tuple[str, ...]
"""The parts of a graph features_batch sums over: full (every layer that runs), live (the layers that can
change the output), fused (the layers left once BatchNormalization and activations fold into the conv or
GEMM before them, as runtimes do)."""

def features_batch(items: List[Union[str, Buffer, Tuple[bytes, ...]]], names: List[str], input_shapes: InputShapes,
                   batch_size: int = 1, threads: int = 0) -> Tuple["_np.ndarray", "_np.ndarray", List[str]]:
    """Features float64[n, len(CLASS_FEATURE_PARTS) * len(OP_CLASSES) * len(CLASS_COST_FIELDS)] (per part, per
    class its CLASS_COST_FIELDS; NaN rows where a model failed), status and errors as for profile_batch."""

def profile_features_batch(items: List[Union[str, Buffer, Tuple[bytes, ...]]], names: List[str],
                           input_shapes: InputShapes, batch_size: int = 1, threads: int = 0
                           ) -> Tuple["_np.ndarray", "_np.ndarray", List[str], "_np.ndarray"]:
    """profile_batch and features_batch in one walk per model (no input_values): (totals, status, errors,
    features). Ctrl-C: KeyboardInterrupt whose .partial is (totals, status, errors)."""

def content_digests(items: List[Union[str, Buffer, Tuple[bytes, ...]]], salt: bytes,
                    threads: int = 1) -> Tuple[List[Optional[int]], List[bytes]]:
    """XXH3-128 digest (seeded by salt) of each buffer, tuple of bytes parts or file's contents, as (ids,
    checks): its first 8 bytes as a signed int (None for a file that cannot be read) and its last 8 bytes.
    The GIL is released while hashing."""

def stat_digests(paths: List[str], salt: bytes) -> Tuple[List[Optional[int]], List[bytes]]:
    """XXH3-128 digest of each file's (absolute path, size, mtime_ns) as (ids, checks); id None where stat
    fails."""

# --- bench: timing harness, op and per-layer model timing (bind_bench.cpp) ---------------------------
BenchRow = Dict[str, Union[str, int, float, bool]]

class BenchOp:
    """One op spec (see netscore_fast.bench.SUITE) prepared with our kernels, random weights and inputs."""

    def __init__(self, spec: Dict[str, object], threads: int = 1) -> None: ...
    def run(self, times: int = 1) -> None: ...
    # read-only attributes
    kernel: str
    isa: str
    flops: float
    bytes: float

def bench_quantile(samples: Sequence[float], q: float) -> float: ...
def bench_cpu_info() -> Dict[str, object]: ...
def bench_cpu_model_from_cpuinfo(proc_cpuinfo_text: str, device_tree_model: str = "") -> str: ...
def bench_time_op(spec: Dict[str, object], threads: int = 1, min_time: float = 0.1,
                  cold_cache: bool = False) -> BenchRow: ...
def bench_time_model_file(path: str, input_shapes: InputShapes, batch_size: int = 1, threads: int = 1,
                          min_time: float = 0.1, cold_cache: bool = False,
                          sequence: bool = True) -> Dict[str, object]: ...
def bench_time_model_buffer(buffer: Buffer, source_name: str, input_shapes: InputShapes, batch_size: int = 1,
                            threads: int = 1, min_time: float = 0.1, cold_cache: bool = False,
                            sequence: bool = True) -> Dict[str, object]: ...
def bench_plan_model_buffer(buffer: Buffer, source_name: str, input_shapes: InputShapes,
                            batch_size: int = 1) -> List[Dict[str, object]]: ...

# --- micro-kernels called directly (bind_kernels.cpp): submodule _core.kernels ------------------
import numpy as _np

class kernels:
    """Submodule: direct calls of the micro-kernels on numpy arrays (NCHW, OIHW) and ISA dispatch.
    Every call takes isa=<tier> (default: active_isa()); return_kernel=True also returns the micro-kernel name."""

    @staticmethod
    def supported_isas() -> List[str]: ...
    @staticmethod
    def best_isa() -> str: ...
    @staticmethod
    def active_isa() -> str: ...
    @staticmethod
    def set_isa(isa: str) -> None: ...
    @staticmethod
    def conv2d(x: _np.ndarray, w: _np.ndarray, b: Union[_np.ndarray, None] = None, strides: Sequence[int] = ...,
               pads: Sequence[int] = ..., dilations: Sequence[int] = ..., group: int = 1, activation: str = "none",
               clip_min: float = 0.0, clip_max: float = 6.0, isa: Union[str, None] = None, threads: int = 1,
               return_kernel: bool = False, residual: Union[_np.ndarray, None] = None) -> object:
        """y = act(conv(x, w) + b + residual); residual (optional) is shaped like the output."""
    @staticmethod
    def dwconv(x: _np.ndarray, w: _np.ndarray, b: Union[_np.ndarray, None] = None, strides: Sequence[int] = ...,
               pads: Sequence[int] = ..., dilations: Sequence[int] = ..., activation: str = "none",
               isa: Union[str, None] = None, return_kernel: bool = False) -> object: ...
    @staticmethod
    def gemm(x: _np.ndarray, w: _np.ndarray, b: Union[_np.ndarray, None] = None, trans_b: bool = True,
             activation: str = "none", clip_min: float = 0.0, clip_max: float = 6.0, isa: Union[str, None] = None,
             threads: int = 1, return_kernel: bool = False) -> object: ...
    @staticmethod
    def pool(x: _np.ndarray, kind: str = "max", kernel: Sequence[int] = ..., strides: Sequence[int] = ...,
             pads: Sequence[int] = ..., dilations: Sequence[int] = ..., ceil_mode: bool = False,
             count_include_pad: bool = False, isa: Union[str, None] = None, return_kernel: bool = False) -> object: ...
    @staticmethod
    def global_avg_pool(x: _np.ndarray, isa: Union[str, None] = None) -> _np.ndarray: ...
    @staticmethod
    def binary(a: _np.ndarray, b: _np.ndarray, op: str = "add", isa: Union[str, None] = None,
               threads: int = 1) -> _np.ndarray: ...
    @staticmethod
    def unary(x: _np.ndarray, activation: str, clip_min: float = 0.0, clip_max: float = 6.0,
              isa: Union[str, None] = None) -> _np.ndarray: ...
    @staticmethod
    def qconv2d(x: _np.ndarray, w: _np.ndarray, b: Union[_np.ndarray, None] = None, x_scale: float = 1.0,
                x_zero_point: int = 0, w_scale: float = 1.0, y_scale: float = 1.0, y_zero_point: int = 0,
                strides: Sequence[int] = ..., pads: Sequence[int] = ..., dilations: Sequence[int] = ...,
                group: int = 1, activation: str = "none", clip_min: float = 0.0, clip_max: float = 6.0,
                isa: Union[str, None] = None, return_kernel: bool = False) -> object: ...
    @staticmethod
    def qgemm(x: _np.ndarray, w: _np.ndarray, b: Union[_np.ndarray, None] = None, x_scale: float = 1.0,
              x_zero_point: int = 0, w_scale: float = 1.0, y_scale: float = 1.0, y_zero_point: int = 0,
              trans_b: bool = True, activation: str = "none", clip_min: float = 0.0, clip_max: float = 6.0,
              isa: Union[str, None] = None, return_kernel: bool = False) -> object: ...

# --- device profiles (bind_device_profile.cpp) -----------------------------------------------------
DEVICE_CURVE_CLASSES: Tuple[str, ...]
"""Curve classes of device profiles: conv_dense, conv_depthwise, conv_pointwise, conv_grouped, gemm, qconv,
qgemm, maxpool, avgpool, globalavgpool, binary, unary, movement."""

def device_configs_batch(items: List[Union[str, Buffer, Tuple[bytes, ...]]], names: List[str],
                         input_shapes: InputShapes, batch_size: int = 1,
                         threads: int = 0) -> Tuple[Dict[str, int], "_np.ndarray", List[str]]:
    """(configuration key -> layers using it over all models, status int32[n], errors): the distinct layer
    configurations bench.measure would time. GIL released."""

def device_config_info(key: str) -> Dict[str, object]:
    """class, flops, bytes of a configuration key; ValueError for a malformed key."""

def device_time_config(key: str, threads: int = 1, min_time: float = 0.05) -> Dict[str, object]:
    """Time one configuration with our kernels: seconds (median), iqr_s, samples, kernel, isa, class, flops,
    bytes. GIL released."""

def device_curve_keys() -> Tuple[List[str], List[str]]:
    """(keys of the curve sweep, keys of the trivial layers) a device profile times besides the models'."""

class DeviceTable:
    """A device profile's lookup: configuration key -> seconds, curves per class, fixed costs."""
    def __init__(self, exact_keys: List[str], exact_seconds: List[float], curve_keys: List[str],
                 curve_seconds: List[float], per_layer_s: float, per_inference_s: float) -> None: ...
    def __len__(self) -> int: ...
    def curve_seconds(self, cls: str, work: float) -> float: ...
    def predict_batch(self, items: List[Union[str, Buffer, Tuple[bytes, ...]]], names: List[str],
                      input_shapes: InputShapes, batch_size: int = 1, threads: int = 0, layer_rows: bool = False
                      ) -> Tuple["_np.ndarray", "_np.ndarray", "_np.ndarray", "_np.ndarray", List[str]]:
        """(seconds[n], per_class[n, len(DEVICE_CURVE_CLASSES) + 1], counts[n, 3], status[n], errors); layers
        priced in the walk (layer_rows=True: from per-layer rows, the reference path; the same numbers)."""
    def profile_predict_batch(self, items: List[Union[str, Buffer, Tuple[bytes, ...]]], names: List[str],
                              input_shapes: InputShapes, batch_size: int = 1, threads: int = 0
                              ) -> Tuple["_np.ndarray", "_np.ndarray", List[str],
                                         Tuple["_np.ndarray", "_np.ndarray", "_np.ndarray"]]:
        """profile_batch and predict_batch in one walk per model (no input_values): (totals, status, errors,
        (seconds, per_class, counts)). Ctrl-C: KeyboardInterrupt whose .partial is (totals, status, errors)."""
