"""Our kernels against onnxruntime on the same single-node ONNX models, side by side in one run.

For each shape of the standard op table (netscore_fast.bench.SUITE, the ten `quick` shapes by default)
this builds one single-node ONNX model (random FP32 weights), times onnxruntime on it (one thread:
intra_op=1, inter_op=1, sequential, all graph optimisations, inputs and outputs pre-bound with IOBinding
so per-call overhead is minimal) and times our prepared kernel for the same op with the C++ harness.
Both are medians of repeated calls after warm-up, measured alternately in the same process (three
rounds; each side keeps its best median, since on a shared machine the least disturbed round is closest
to the op's own speed). GFLOP/s of
both use our FLOP count for the op (2 per multiply-add); memory-bound ops are compared in GB/s of
compulsory traffic. The ratio is ours / ORT throughput (= ORT time / our time): > 1 means we are faster.

Then: two threads against one on the large ops, and whole models: `bench.measure` (sum of per-layer
medians) against onnxruntime's own end-to-end latency for ResNet-50 (onnx's light_resnet50.onnx) and a
MobileNetV2 built here with onnx.helper (torchvision layout, BatchNorm folded, ReLU6 as Clip).

Usage: python benchmarks/bench_kernels_vs_ort.py [--all] [--min-time S] [--no-models] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import onnx

import netscore_fast
from netscore_fast import bench

ROUNDS = 3  # alternating rounds per comparison

MEMORY_BOUND = ("maxpool", "avgpool", "globalavgpool", "add", "mul", "relu", "hardswish", "sigmoid", "relu6")


def ort_session(model_bytes: bytes, threads: int = 1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def time_python(fn: Callable[[], Any], min_time: float, sample_time: float = 1e-3, min_samples: int = 5
                ) -> Tuple[float, float, float]:
    """Median, IQR and fastest sample (seconds per call) of fn, the same procedure as the C++ harness."""
    t0 = time.perf_counter()
    calls = 0
    while True:  # warm-up, and an estimate of one call
        fn()
        calls += 1
        el = time.perf_counter() - t0
        if el >= min(0.01, max(min_time / 5, 1e-4)) and calls >= 2:
            break
    per_call = el / calls
    batch = max(1, int(sample_time / per_call)) if per_call < sample_time else 1
    samples: List[float] = []
    start = time.perf_counter()
    while True:
        s0 = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - s0) / batch)
        if len(samples) >= min_samples and time.perf_counter() - start >= min_time:
            break
    q = np.percentile(samples, [25, 50, 75])
    return float(q[1]), float(q[2] - q[0]), float(min(samples))


def ort_timer(model_bytes: bytes, feeds: Dict[str, np.ndarray], threads: int = 1) -> Callable[[], Any]:
    """A zero-argument call running the model once with pre-bound inputs and outputs."""
    sess = ort_session(model_bytes, threads)
    binding = sess.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, value)
    for out in sess.get_outputs():
        binding.bind_output(out.name, "cpu")
    sess.run_with_iobinding(binding)  # allocate outputs once
    return lambda: sess.run_with_iobinding(binding)


def random_feeds(model, seed: int = 0) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        dims = [d.dim_value if d.dim_value > 0 else 1 for d in inp.type.tensor_type.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(inp.type.tensor_type.elem_type)
        if np.issubdtype(dtype, np.integer):   # the int8 entries of the table
            info = np.iinfo(dtype)
            feeds[inp.name] = rng.integers(max(info.min, -64), min(info.max, 64), dims, dtype=dtype)
        else:
            feeds[inp.name] = rng.standard_normal(dims).astype(dtype)
    return feeds


def compare_ops(entries: List[Dict[str, Any]], min_time: float) -> List[Dict[str, Any]]:
    rows = []
    for e in entries:
        spec = e["spec"]
        model = bench.single_op_model(spec)
        run_ort = ort_timer(model.SerializeToString(), random_feeds(model))
        # Alternate ours / ORT and keep each side's best median: on a shared machine the least disturbed
        # round is the closest to the op's own speed, and both sides get the same number of chances.
        ours_runs, ort_runs = [], []
        for _ in range(ROUNDS):
            ours_runs.append(bench.time_op(spec, threads=1, min_time=min_time))
            ort_runs.append(time_python(run_ort, min_time))
        ours = min(ours_runs, key=lambda r: r["median_s"])
        ort_t = min(t for t, _, _ in ort_runs)
        memory = spec["op"] in MEMORY_BOUND
        work = ours["bytes"] if memory else ours["flops"]
        rows.append({"op": e["label"], "shape": bench.op_spec_label(spec), "kernel": ours["kernel"],
                     "unit": "GB/s" if memory else "GFLOP/s",
                     "ours": work / ours["median_s"] * 1e-9, "ort": work / ort_t * 1e-9,
                     "ours_s": ours["median_s"], "ort_s": ort_t, "ratio": ort_t / ours["median_s"]})
        print(f"  {e['label']:38s} ours {rows[-1]['ours']:7.1f}  ORT {rows[-1]['ort']:7.1f} {rows[-1]['unit']:8s}"
              f" ratio {rows[-1]['ratio']:.2f}", file=sys.stderr)
    return rows


def compare_threads(entries: List[Dict[str, Any]], min_time: float) -> List[Dict[str, Any]]:
    rows = []
    for e in entries:
        one, two = math.inf, math.inf
        for _ in range(ROUNDS):
            one = min(one, bench.time_op(e["spec"], threads=1, min_time=min_time)["median_s"])
            two = min(two, bench.time_op(e["spec"], threads=2, min_time=min_time)["median_s"])
        rows.append({"op": e["label"], "one_s": one, "two_s": two, "speedup": one / two})
    return rows


# --- whole models ------------------------------------------------------------------------------------
def light_resnet50_path() -> str:
    import onnx
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_resnet50.onnx")


def mobilenet_v2(seed: int = 0):
    """MobileNetV2 1.0 at 224x224 in torchvision's layout, BatchNorm folded into conv biases, ReLU6 as Clip."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "relu6_min"))
    inits.append(numpy_helper.from_array(np.array(6.0, np.float32), "relu6_max"))

    def conv(x: str, cin: int, cout: int, k: int, stride: int = 1, group: int = 1, relu6: bool = True) -> str:
        w = name("w")
        b = name("b")
        fan_in = cin // group * k * k
        inits.append(numpy_helper.from_array(
            (rng.standard_normal((cout, cin // group, k, k)) * math.sqrt(2.0 / fan_in)).astype(np.float32), w))
        inits.append(numpy_helper.from_array((rng.standard_normal(cout) * 0.01).astype(np.float32), b))
        y = name("conv")
        p = (k - 1) // 2
        nodes.append(helper.make_node("Conv", [x, w, b], [y], name=y, kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[p, p, p, p], group=group))
        if not relu6:
            return y
        z = name("relu6")
        nodes.append(helper.make_node("Clip", [y, "relu6_min", "relu6_max"], [z], name=z))
        return z

    x = conv("input", 3, 32, 3, stride=2)
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = x
            if t != 1:
                y = conv(y, cin, hidden, 1)
            y = conv(y, hidden, hidden, 3, stride=stride, group=hidden)
            y = conv(y, hidden, c, 1, relu6=False)
            if stride == 1 and cin == c:
                z = name("add")
                nodes.append(helper.make_node("Add", [x, y], [z], name=z))
                y = z
            x, cin = y, c
    x = conv(x, 320, 1280, 1)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1))
    inits.append(numpy_helper.from_array((rng.standard_normal((1000, 1280)) * 0.03).astype(np.float32), "fc_w"))
    inits.append(numpy_helper.from_array(np.zeros(1000, np.float32), "fc_b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(nodes, "mobilenet_v2", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                                     [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def compare_models(min_time: float) -> List[Dict[str, Any]]:
    import onnx
    rows = []
    models = [("ResNet-50 (light_resnet50.onnx)", onnx.load(light_resnet50_path())),
              ("MobileNetV2 1.0 (built here)", mobilenet_v2())]
    for label, model in models:
        data = model.SerializeToString()
        run_ort = ort_timer(data, random_feeds(model))
        ort_t, ort_iqr, ort_min, ours, seq, seq_min, table = (math.inf, math.nan, math.inf, math.inf, math.inf,
                                                              math.inf, None)
        for _ in range(ROUNDS):  # alternate, keep each side's best round (see compare_ops)
            t, iqr, fastest = time_python(run_ort, max(min_time * 10, 1.0), sample_time=0.0)
            ort_min = min(ort_min, fastest)
            if t < ort_t:
                ort_t, ort_iqr = t, iqr
            candidate = bench.measure(data, threads=1, min_time=min_time)
            seq = min(seq, candidate.sequence_s)
            seq_min = min(seq_min, candidate.sequence["min_s"])
            if candidate.total_s < ours:
                ours, table = candidate.total_s, candidate
        rows.append({"model": label, "ours_s": ours, "ours_sequence_s": seq, "ours_sequence_min_s": seq_min,
                     "ort_s": ort_t, "ort_iqr_s": ort_iqr, "ort_min_s": ort_min, "ratio": ours / ort_t,
                     "sequence_ratio": seq / ort_t, "ratio_to_min": ours / ort_min,
                     "sequence_min_ratio": seq_min / ort_min, "unmeasured": table.unmeasured,
                     "distinct_configs": int(table["timed"].sum())})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="every SUITE shape, not only the ten core ones")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds of timing per op and side")
    ap.add_argument("--no-models", action="store_true", help="skip the whole-model comparison")
    ap.add_argument("--no-threads", action="store_true", help="skip the two-thread scaling check")
    ap.add_argument("--json", help="write all figures as JSON")
    args = ap.parse_args(argv)

    import onnxruntime as ort
    info = bench.cpu_info()
    print(f"machine: {info['model']} | ISA {info['isa_active']} | {info['compiler']} | "
          f"onnxruntime {ort.__version__} | netscore_fast {netscore_fast.__version__}")
    entries = [e for e in bench.SUITE if args.all or e["quick"]]
    ops = compare_ops(entries, args.min_time)

    print()
    print(f"{'op':38s} {'shape':40s} {'ours':>8s} {'ORT':>8s} {'unit':8s} {'ratio':>6s}  kernel")
    for r in ops:
        print(f"{r['op']:38s} {r['shape']:40s} {r['ours']:8.1f} {r['ort']:8.1f} {r['unit']:8s} {r['ratio']:6.2f}  "
              f"{r['kernel']}")
    geo = math.exp(statistics.fmean(math.log(r["ratio"]) for r in ops))
    print(f"geometric mean ratio (ours / ORT throughput): {geo:.2f}; min {min(r['ratio'] for r in ops):.2f}")

    result: Dict[str, Any] = {"machine": info, "onnxruntime": ort.__version__, "ops": ops, "geomean_ratio": geo}
    if not args.no_threads:
        big = [e for e in entries if e["spec"]["op"] == "conv" and e["spec"].get("group", 1) == 1
               and e["spec"]["input"][2] >= 56]
        threads = compare_threads(big, args.min_time)
        print()
        print("two threads against one (ours):")
        for r in threads:
            print(f"  {r['op']:38s} 1 thread {r['one_s'] * 1e3:8.3f} ms  2 threads {r['two_s'] * 1e3:8.3f} ms  "
                  f"speed-up {r['speedup']:.2f}x")
        result["threads"] = threads
    if not args.no_models:
        models = compare_models(min(args.min_time, 0.1))
        print()
        print("whole models, one thread: bench.measure against onnxruntime end-to-end. Ours: the sum of warm")
        print("per-layer medians, and every layer run back to back (median and fastest run). A long run absorbs")
        print("more preemptions on a shared machine than a short sample, so fastest runs are compared too.")
        for r in models:
            print(f"  {r['model']}: ours sum {r['ours_s'] * 1e3:.2f} ms, back to back median "
                  f"{r['ours_sequence_s'] * 1e3:.2f} / fastest {r['ours_sequence_min_s'] * 1e3:.2f} ms; ORT median "
                  f"{r['ort_s'] * 1e3:.2f} ms (IQR {r['ort_iqr_s'] * 1e3:.2f}) / fastest {r['ort_min_s'] * 1e3:.2f} ms")
            print(f"    sum / ORT median {r['ratio']:.2f}, sum / ORT fastest {r['ratio_to_min']:.2f}, back-to-back "
                  f"median / ORT median {r['sequence_ratio']:.2f}, fastest / fastest {r['sequence_min_ratio']:.2f}"
                  f" [{r['distinct_configs']} distinct layers timed; unmeasured: {len(r['unmeasured'])}]")
        result["models"] = models
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
