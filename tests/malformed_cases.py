"""Byte-level builders for malformed-model tests: protobuf wire format written by hand, plus a small
runner that profiles inputs in a child process so a crash fails the test instead of killing pytest.

Field numbers are those of onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, ...).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List, Sequence, Tuple

# The protobuf wire format, written once for the tests, the mutation harness and the benchmarks (fuzz/mutate.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from mutate import END_GROUP, FIXED32, FIXED64, LEN, START_GROUP, VARINT, varint  # noqa: E402,F401


def tag(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return tag(field, LEN) + varint(len(payload)) + payload


def vi(field: int, value: int) -> bytes:
    """A varint field."""
    return tag(field, VARINT) + varint(value)


def s(text: str) -> bytes:
    return text.encode()


def opset(domain: str = "", version: int = 17) -> bytes:
    return (ld(1, s(domain)) if domain else b"") + vi(2, version)


def model_bytes(graph: bytes, opsets: Sequence[Tuple[str, int]] = (("", 17),), ir_version: int = 8) -> bytes:
    """ModelProto: ir_version (1), graph (7), opset_import (8)."""
    return vi(1, ir_version) + ld(7, graph) + b"".join(ld(8, opset(d, v)) for d, v in opsets)


def top_level_fields(data: bytes) -> List[Tuple[int, int, int, int]]:
    """(field, wire, start of tag, end of field) for each top-level field of well-formed bytes."""
    out = []
    pos = 0

    def read_varint(p: int) -> Tuple[int, int]:
        v, shift = 0, 0
        while True:
            b = data[p]
            v |= (b & 0x7F) << shift
            p += 1
            shift += 7
            if b < 0x80:
                return v, p

    while pos < len(data):
        start = pos
        key, pos = read_varint(pos)
        field, wire = key >> 3, key & 7
        if wire == VARINT:
            _, pos = read_varint(pos)
        elif wire == LEN:
            n, pos = read_varint(pos)
            pos += n
        elif wire == FIXED32:
            pos += 4
        elif wire == FIXED64:
            pos += 8
        else:
            raise ValueError(f"unexpected wire type {wire}")
        out.append((field, wire, start, pos))
    return out


def nested_subgraph_model(depth: int, op_type: str = "If", attr_name: str = "then_branch") -> bytes:
    """A model whose graph holds one `op_type` node whose graph attribute holds a graph with one such node,
    and so on `depth` times. Built bytewise (serialized GraphProto inside AttributeProto inside NodeProto),
    since recursive onnx.helper calls would hit Python's recursion limit."""
    graph = ld(2, s("leaf"))                                           # GraphProto.name
    for level in range(depth):
        attribute = ld(1, s(attr_name)) + ld(6, graph) + vi(20, 5)     # name, g, type = GRAPH
        node = ld(1, s("cond")) + ld(2, s(f"out{level}")) + ld(4, s(op_type)) + ld(5, attribute)
        graph = ld(1, node) + ld(2, s(f"g{level}"))
    return model_bytes(graph, opsets=(("", 17),))


# ---------------------------------------------------------------------------------------------------------
# Child-process runner

_CHILD = textwrap.dedent(
    """
    import json, sys
    import netscore_fast as nf
    cases = json.load(open(sys.argv[1]))
    for path, as_path in cases:
        print("START " + path, flush=True)
        try:
            if as_path:
                nf.profile(path)
            else:
                with open(path, "rb") as f:
                    nf.profile(f.read())
            result = {"ok": True}
        except nf.ModelError as e:
            result = {"ok": False, "error": str(e), "type": type(e).__name__}
        except BaseException as e:  # anything but ModelError is a failure the parent reports
            result = {"ok": False, "error": repr(e), "type": type(e).__name__}
        print("RESULT " + json.dumps(result), flush=True)
    """
)


def profile_isolated(items: Sequence[bytes], as_path: bool, workdir: Path, timeout: float = 120) -> List[dict]:
    """Profile each input in one child interpreter; returns one dict per input with "path" added.

    A crash (signal, abort) or a hang raises AssertionError naming the input being processed."""
    cases = []
    for i, data in enumerate(items):
        p = workdir / f"case{i}.onnx"
        p.write_bytes(data)
        cases.append((str(p), as_path))
    spec = workdir / "cases.json"
    spec.write_text(json.dumps(cases))
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(spec)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    results, current = [], None
    for line in proc.stdout.splitlines():
        if line.startswith("START "):
            current = line[6:]
        elif line.startswith("RESULT "):
            r = json.loads(line[7:])
            r["path"] = current
            results.append(r)
    assert proc.returncode == 0 and len(results) == len(cases), (
        f"child exited with {proc.returncode} while profiling {current!r} "
        f"({len(results)}/{len(cases)} done)\nstderr:\n{proc.stderr[-3000:]}")
    return results


def function_bomb(levels=16, calls=8):
    """A model-local function bomb (an onnx.ModelProto): f0 = Relu; f_k calls f_{k-1} `calls` times in a
    chain: calls**(levels-1) nodes after inlining."""
    from onnx import TensorProto, helper
    funcs = [helper.make_function("local", "f0", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                                  [helper.make_opsetid("", 17)])]
    for k in range(1, levels):
        nodes, prev = [], "a"
        for j in range(calls):
            out = "b" if j == calls - 1 else f"t{j}"
            nodes.append(helper.make_node(f"f{k - 1}", [prev], [out], domain="local"))
            prev = out
        funcs.append(helper.make_function("local", f"f{k}", ["a"], ["b"], nodes,
                                          [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]))
    call = helper.make_node(f"f{levels - 1}", ["x"], ["y"], domain="local", name="top")
    graph = helper.make_graph([call], "bomb", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    return helper.make_model(graph, functions=funcs,
                             opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
