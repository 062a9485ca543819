"""Hostile shapes: 30 MB models of many pathological shapes through profile() and profile_many(), each in
a child process with a 4 GB address-space limit; prints time and peak RSS (VmHWM) per shape.

Issue 11's bar: "time and memory of the analysis stay near-linear in the file's size for any input: a
30 MB file of any shape profiles in under 2 s". The models are written with a small protobuf encoder
(field numbers of onnx.proto) rather than the onnx package, so that building 30 MB takes well under a
second and a shape the onnx package would refuse to build can still be written.

    python benchmarks/hostile_shapes.py                  # every shape, 30 MB each
    python benchmarks/hostile_shapes.py --mb 5 --shape chain --shape op_types
Exit status 1 when a shape takes 2 s of CPU time or more (--limit), runs out of memory or fails with
anything but a ModelError. Both CPU and wall time are printed; the CPU time of the child's analysis call
decides, because on a shared machine wall time measures the other jobs as well.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable, Dict, List

REPO = Path(__file__).resolve().parents[1]


# ---- a minimal protobuf writer ------------------------------------------------------------------------------

sys.path.insert(0, str(REPO / "fuzz"))
from mutate import varint  # noqa: E402  (the protobuf varint, written once)


def vfield(num: int, v: int) -> bytes:
    return varint(num << 3) + varint(v)


def lfield(num: int, payload: bytes) -> bytes:
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def sfield(num: int, s) -> bytes:
    return lfield(num, s.encode() if isinstance(s, str) else s)


# onnx.proto field numbers
FLOAT, INTS_TYPE, GRAPH_TYPE = 1, 7, 5


def node(op: str, inputs, outputs, name="", domain="", attrs=()) -> bytes:
    b = b"".join(sfield(1, i) for i in inputs) + b"".join(sfield(2, o) for o in outputs)
    if name:
        b += sfield(3, name)
    b += sfield(4, op)
    b += b"".join(lfield(5, a) for a in attrs)
    if domain:
        b += sfield(7, domain)
    return b


def attr_ints(name: str, values) -> bytes:
    packed = b"".join(varint(v) for v in values)
    return sfield(1, name) + lfield(8, packed) + vfield(20, INTS_TYPE)


def attr_graph(name: str, graph: bytes) -> bytes:
    return sfield(1, name) + lfield(6, graph) + vfield(20, GRAPH_TYPE)


def value_info(name, dims) -> bytes:
    shape = b"".join(lfield(1, vfield(1, d) if isinstance(d, int) else sfield(2, d)) for d in dims)
    tensor_type = vfield(1, FLOAT) + lfield(2, shape)
    return sfield(1, name) + lfield(2, lfield(1, tensor_type))


def graph(nodes: List[bytes], inputs=(), outputs=(), name="g", initializers=(), value_infos=()) -> bytes:
    parts = [lfield(1, n) for n in nodes] + [sfield(2, name)]
    parts += [lfield(5, t) for t in initializers]
    parts += [lfield(11, v) for v in inputs] + [lfield(12, v) for v in outputs]
    parts += [lfield(13, v) for v in value_infos]
    return b"".join(parts)


def opset(domain: str, version: int) -> bytes:
    return (sfield(1, domain) if domain else b"") + vfield(2, version)


def model(g: bytes, opsets=(("", 17),), functions=()) -> bytes:
    return (vfield(1, 8) + b"".join(lfield(8, opset(d, v)) for d, v in opsets) + lfield(7, g)
            + b"".join(lfield(25, f) for f in functions))


def function(name: str, domain: str, inputs, outputs, nodes, opsets=(("", 17),)) -> bytes:
    return (sfield(1, name) + b"".join(sfield(4, i) for i in inputs) + b"".join(sfield(5, o) for o in outputs)
            + b"".join(lfield(7, n) for n in nodes) + b"".join(lfield(9, opset(d, v)) for d, v in opsets)
            + sfield(10, domain))


X = value_info("x", [1, 4])


def fill(target: int, one: Callable[[int], bytes]) -> List[bytes]:
    """Items one(0), one(1), ... while they fit in target bytes (each costs about 3 bytes more as a field)."""
    items, used = [], 0
    while True:
        item = one(len(items))
        used += len(item) + 3 + (len(item) >= 128)
        if used > target:
            return items
        items.append(item)


# ---- the shapes ----------------------------------------------------------------------------------------------

def many_nodes(size):
    nodes = fill(size, lambda i: node("Relu", ["x"], [f"y{i}"]))
    return model(graph(nodes, [X], [value_info("y0", [1, 4])]))


def chain(size):
    nodes = fill(size, lambda i: node("Relu", [f"a{i}" if i else "x"], [f"a{i + 1}"]))
    return model(graph(nodes, [X], [value_info(f"a{len(nodes)}", [1, 4])]))


def fan_in_distinct(size):
    n = int(size / 28)
    nodes = [node("Relu", ["x"], [f"r{i}"]) for i in range(n)]
    nodes.append(node("Concat", [f"r{i}" for i in range(n)], ["y"], attrs=[sfield(1, "axis") + vfield(3, 0)
                                                                           + vfield(20, 2)]))
    return model(graph(nodes, [X], [value_info("y", [n, 4])]))


def fan_in_repeated(size):
    n = int(size / 3)
    nodes = [node("Concat", ["x"] * n, ["y"], attrs=[sfield(1, "axis") + vfield(3, 0) + vfield(20, 2)])]
    return model(graph(nodes, [X], [value_info("y", [n, 4])]))


def op_types(size):
    nodes = fill(size, lambda i: node(f"Op{i}", ["x"], [f"y{i}"], domain="custom"))
    return model(graph(nodes, [X], [value_info("y0", [1])]), opsets=(("", 17), ("custom", 1)))


def functions(size):
    n = int(size / 80)
    funcs = [function(f"f{i}", "local", ["a"], ["b"], [node("Relu", ["a"], ["b"])]) for i in range(n)]
    nodes = [node(f"f{i}", ["x"], [f"y{i}"], domain="local") for i in range(n)]
    return model(graph(nodes, [X], [value_info("y0", [1, 4])]), opsets=(("", 17), ("local", 1)),
                 functions=funcs)


def domains(size):
    """Each node in a domain of its own, each domain imported: nodes and imports fill the size together."""
    nodes, imports, used = [], [("", 17)], 0
    while True:
        i = len(nodes)
        n, imp = node("Op", ["x"], [f"y{i}"], domain=f"d{i}"), (f"d{i}", 1)
        used += len(n) + len(opset(*imp)) + 6   # each a length-delimited field: tag and length bytes
        if used > size:
            return model(graph(nodes, [X], [value_info("y0", [1])]), opsets=imports)
        nodes.append(n)
        imports.append(imp)


def huge_names(size):
    big = size // 3
    nodes = [node("Relu", ["x"], ["y" * big], name="n" * big),
             node("U" * big, ["y" * big], ["z"], domain="custom")]
    return model(graph(nodes, [X], [value_info("z", [1])]), opsets=(("", 17), ("custom", 1)))


def huge_attributes(size):
    n = size // 3 // 9
    vals = [(1 << 62) + i for i in range(n)]
    nodes = [node("Relu", ["x"], ["a"], attrs=[attr_ints("junk", vals)]),
             node("MaxPool", ["a"], ["b"], attrs=[attr_ints("kernel_shape", vals)]),
             node("Unsupported", ["b"], ["y"], domain="custom", attrs=[attr_ints("ints", vals)])]
    return model(graph(nodes, [value_info("x", [1, 4, 8, 8])], [value_info("y", [1])]),
                 opsets=(("", 17), ("custom", 1)))


def initializers(size):
    def init(i):   # dims only: no data at all
        return vfield(1, 1000) + vfield(1, 1000) + vfield(2, FLOAT) + sfield(8, f"w{i}")
    inits = fill(size, init)
    nodes = [node("Add", ["x", "w0"], ["y"])]
    return model(graph(nodes, [value_info("x", [1000, 1000])], [value_info("y", [1000, 1000])],
                       initializers=inits))


def deep_subgraphs(size):
    """The whole model inside If inside If ... as deep as the decoder allows (kMaxGraphDepth = 64)."""
    depth = 64
    inner = fill(size, lambda i: node("Relu", ["x"], [f"y{i}"]))
    g = graph(inner, [], [value_info("y0", [1, 4])], name="inner")
    other = graph([node("Identity", ["x"], ["y0"])], [], [value_info("y0", [1, 4])], name="other")
    for d in range(depth):
        g = graph([node("If", ["c"], ["y0"], attrs=[attr_graph("then_branch", g), attr_graph("else_branch", other)])],
                  [X, value_info("c", [])] if d == depth - 1 else [], [value_info("y0", [1, 4])], name=f"level{d}")
    return model(g)


def many_ifs(size):
    small = graph([node("Relu", ["x"], ["y"])], [], [value_info("y", [1, 4])])
    nodes = fill(size, lambda i: node("If", ["c"], [f"y{i}"], attrs=[attr_graph("then_branch", small),
                                                                     attr_graph("else_branch", small)]))
    return model(graph(nodes, [X, value_info("c", [])], [value_info("y0", [1, 4])]))


def many_io(size):
    n = int(size / 53)
    ins = [value_info(f"x{i}", [1, 4]) for i in range(n)]
    nodes = [node("Relu", [f"x{i}"], [f"y{i}"]) for i in range(n // 4)]
    outs = [value_info(f"y{i}", [1, 4]) for i in range(n // 4)] + [value_info(f"x{i}", [1, 4]) for i in range(n)]
    return model(graph(nodes, ins, outs))


def value_info_flood(size):
    nodes = [node("Relu", ["x"], ["y"])]
    vis = fill(size, lambda i: value_info(f"v{i}" if i % 2 else "y", [1, 4]))
    return model(graph(nodes, [X], [value_info("y", [1, 4])], value_infos=vis))


def symbolic_dims(size):
    vis = fill(int(size * 0.65), lambda i: value_info(f"y{i}", [f"s{i}", f"t{i}"]))
    nodes = [node("Relu", ["x"], [f"y{i}"]) for i in range(len(vis))]
    return model(graph(nodes, [value_info("x", ["n", "m"])], [value_info("y0", ["n", "m"])], value_infos=vis))


SHAPES: Dict[str, Callable[[int], bytes]] = {f.__name__: f for f in (
    many_nodes, chain, fan_in_distinct, fan_in_repeated, op_types, functions, domains, huge_names,
    huge_attributes, initializers, deep_subgraphs, many_ifs, many_io, value_info_flood, symbolic_dims)}


# ---- measurement in a child ------------------------------------------------------------------------------------

CHILD = """
import json, resource, sys, time
limit = int(float(sys.argv[3]) * (1 << 30))
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import netscore_fast as nf
path, how = sys.argv[1], sys.argv[2]
def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
base = peak_mb()
t0 = time.perf_counter()
c0 = time.process_time()
out = {"outcome": "ok", "detail": ""}
try:
    if how == "profile":
        p = nf.profile(path)
        out["detail"] = f"{p.num_layers} layers, {len(p.unsupported_ops)} unsupported types"
    else:
        t = nf.profile_many([path], threads=1, progress=False)
        out["detail"] = t["error"][0][:100] or "ok"
        out["outcome"] = "ok" if t.ok[0] else "ModelError"
except nf.ModelError as e:
    out["outcome"], out["detail"] = "ModelError", str(e)[:100]
except MemoryError as e:
    out["outcome"], out["detail"] = "MemoryError", str(e)[:100]
out["wall"] = time.perf_counter() - t0
out["cpu"] = time.process_time() - c0
out["peak_mb"] = peak_mb()
out["import_peak_mb"] = base
print(json.dumps(out))
"""


def measure(path: str, how: str, memory_gb: float, timeout: float) -> dict:
    import netscore_fast   # the children import the same build as this process (installed or a checkout's)
    package_root = str(Path(netscore_fast.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=package_root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        r = subprocess.run([sys.executable, "-c", CHILD, path, how, str(memory_gb)], capture_output=True,
                           text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"outcome": "hang", "detail": f"over {timeout:g} s", "wall": timeout, "cpu": float("nan"),
                "peak_mb": float("nan")}
    if r.returncode != 0 or not r.stdout.strip():
        return {"outcome": "crash" if r.returncode < 0 else "exception", "detail": r.stderr.strip()[-200:],
                "wall": float("nan"), "cpu": float("nan"), "peak_mb": float("nan")}
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(shapes, mb: float, memory_gb: float, limit: float, timeout: float, folder: str) -> List[dict]:
    rows = []
    for name in shapes:
        t0 = time.perf_counter()
        data = SHAPES[name](int(mb * (1 << 20)))
        build = time.perf_counter() - t0
        path = os.path.join(folder, f"{name}.onnx")
        with open(path, "wb") as f:
            f.write(data)
        for how in ("profile", "profile_many"):
            r = measure(path, how, memory_gb, timeout)
            r.update(shape=name, how=how, mb=len(data) / (1 << 20), build=build)
            # CPU time decides: on a shared machine wall time measures the other jobs too (both are printed)
            r["pass"] = r["outcome"] in ("ok", "ModelError") and r["cpu"] < limit
            rows.append(r)
            print(f"{name:18s} {how:13s} {r['mb']:6.1f} MB  {r['wall']:6.2f} s wall  {r['cpu']:6.2f} s cpu  "
                  f"{r['peak_mb']:7.0f} MB peak  {'PASS' if r['pass'] else 'FAIL'}  {r['outcome']}: "
                  f"{r['detail'][:70]}", flush=True)
        os.remove(path)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=30.0, help="size of each model file in MB (default 30)")
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES), help="a shape to run (default: all)")
    ap.add_argument("--limit", type=float, default=2.0, help="seconds a shape may take (default 2)")
    ap.add_argument("--memory-gb", type=float, default=4.0, help="address-space limit of the child (GB)")
    ap.add_argument("--timeout", type=float, default=60.0, help="kill a child after this many seconds")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hostile-shapes-") as folder:
        rows = run(args.shape or list(SHAPES), args.mb, args.memory_gb, args.limit, args.timeout, folder)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    failed = [r for r in rows if not r["pass"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} runs under {args.limit:g} s without a crash"
          + (": failing " + ", ".join(f"{r['shape']}/{r['how']}" for r in failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
