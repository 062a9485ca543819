"""Mutation harness: seeded, reproducible mutants of real ONNX models, each profiled in a child process
with a time and a memory limit; anything but success or ModelError is a finding.

A mutant is named by (seed model, kind, integer seed) and rebuilt from those three alone, so every finding
has a one-line reproducer:  python fuzz/mutate.py repro KIND SEED_MODEL SEED OUT.onnx

Kinds (see KINDS): byte-level (bit flips, overwrites, truncations at protobuf field boundaries, varint and
length-field overflow, dropped/duplicated fields, non-UTF-8 names) work on any seed by walking the wire
format with a small ONNX schema; model-level ones (hostile dims, cycles, external-data locations) edit
the seed with the onnx package; nesting and function bombs are built from scratch; special paths make the
model path a FIFO, a directory or a device.

The runner keeps one worker child (`python mutate.py worker`) that profiles many mutants and reports one
JSON line per step; the parent enforces the per-step time limit, kills the worker on a hang, records the
culprit and starts a new worker for the next mutant. The worker limits its address space (RLIMIT_AS).
No torch needed: seeds come from the onnx wheel, tests/fixtures/exports and netscore_fast's own builders.
"""
from __future__ import annotations

import glob
import json
import os
import random
import selectors
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]

# Outcome classes, most severe first (a mutant's outcome is the worst of its steps).
OUTCOMES = ("crash", "hang", "memory", "exception", "mismatch", "model_error", "ok")
_SEVERITY = {o: i for i, o in enumerate(OUTCOMES)}

TIME_LIMIT = 5.0           # seconds per step (profile; reading its parts into Python; profile_many)
MEMORY_LIMIT = 4 << 30     # RLIMIT_AS of the worker
STARVED_WAIT = 12          # a runnable worker starved of CPU gets up to this many time limits of wall time

# ---------------------------------------------------------------------------------------------------------
# Protobuf wire format

VARINT, FIXED64, LEN, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5


def varint(n: int) -> bytes:
    """Base-128 varint; negative numbers as 64-bit two's complement (10 bytes)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(buf: bytes, pos: int, end: int) -> Tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("bad varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


# Which length-delimited fields of which ONNX message hold a sub-message (onnx.proto field numbers).
SCHEMA: Dict[str, Dict[int, str]] = {
    "Model": {7: "Graph", 8: "OpsetId", 14: "StringString", 25: "Function"},
    "Graph": {1: "Node", 5: "Tensor", 11: "ValueInfo", 12: "ValueInfo", 13: "ValueInfo", 14: "TensorAnnotation"},
    "Node": {5: "Attribute"},
    "Attribute": {5: "Tensor", 6: "Graph", 10: "Tensor", 11: "Graph", 14: "Type", 15: "Type"},
    "ValueInfo": {2: "Type"},
    "Type": {1: "TensorType", 4: "SequenceType", 5: "MapType", 8: "TensorType", 9: "SequenceType"},
    "TensorType": {2: "Shape"},
    "SequenceType": {1: "Type"},
    "MapType": {2: "Type"},
    "Shape": {1: "Dim"},
    "Tensor": {13: "StringString", 3: "Segment"},
    "Function": {7: "Node", 9: "OpsetId", 11: "Attribute"},
}
# String fields that name things the analysis reports (targets of the non-UTF-8 mutation).
NAME_FIELDS = {("Node", 1), ("Node", 2), ("Node", 3), ("Node", 4), ("Node", 7), ("Graph", 2), ("ValueInfo", 1),
               ("Tensor", 8), ("Attribute", 1), ("Function", 1), ("Dim", 2), ("Model", 2)}


@dataclass
class Field:
    """One field of the wire format: [start, end) whole field; len_start..vstart its length varint (LEN)."""
    msg: str        # message type holding the field
    number: int
    wire: int
    start: int
    len_start: int  # for LEN fields; == vstart otherwise
    vstart: int
    end: int
    parent: Optional[int]  # index of the enclosing LEN field in the flat list
    depth: int


def walk(buf: bytes, msg: str = "Model", start: int = 0, end: Optional[int] = None, parent: Optional[int] = None,
         depth: int = 0, out: Optional[List[Field]] = None) -> List[Field]:
    """Flat list of the fields of a valid serialized message, sub-messages included (pre-order)."""
    out = [] if out is None else out
    end = len(buf) if end is None else end
    pos = start
    sub = SCHEMA.get(msg, {})
    while pos < end:
        fstart = pos
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        len_start = pos
        if wire == VARINT:
            _, pos = read_varint(buf, pos, end)
        elif wire == FIXED64:
            pos += 8
        elif wire == FIXED32:
            pos += 4
        elif wire == LEN:
            n, pos = read_varint(buf, pos, end)
            vstart = pos
            pos += n
        else:
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("field past the end")
        vs = vstart if wire == LEN else len_start
        out.append(Field(msg, number, wire, fstart, len_start, vs, pos, parent, depth))
        if wire == LEN and number in sub:
            walk(buf, sub[number], vs, pos, len(out) - 1, depth + 1, out)
    return out


def splice(buf: bytes, fields: List[Field], index: int, new_field: bytes) -> bytes:
    """Replace field `index` by `new_field` (whole encoded field, or b"" to drop it) and fix the lengths of
    every enclosing message so the rest of the file still parses."""
    f = fields[index]
    out = bytearray(buf)
    out[f.start:f.end] = new_field
    delta = len(new_field) - (f.end - f.start)
    p = f.parent
    while p is not None and delta:
        a = fields[p]
        new_len = varint(a.end - a.vstart + delta)
        delta += len(new_len) - (a.vstart - a.len_start)
        out[a.len_start:a.vstart] = new_len
        p = a.parent
    return bytes(out)


# ---------------------------------------------------------------------------------------------------------
# Seeds

@dataclass
class Seed:
    name: str
    data: bytes
    _fields: Optional[List[Field]] = field(default=None, repr=False)

    @property
    def fields(self) -> List[Field]:
        if self._fields is None:
            try:
                self._fields = walk(self.data)
            except ValueError:   # not parseable with the schema: byte-level mutations only
                self._fields = []
        return self._fields


def light_models() -> List[Tuple[str, bytes]]:
    import onnx
    d = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    return [(f"light/{p.stem}", p.read_bytes()) for p in sorted(d.glob("*.onnx"))]


def fixture_exports() -> List[Tuple[str, bytes]]:
    return [(f"exports/{p.stem}", p.read_bytes()) for p in sorted((REPO / "tests/fixtures/exports").glob("*.onnx"))]


ZOO_SEEDS = ("resnet18", "mobilenet_v2", "squeezenet1_1", "googlenet", "efficientnet_b0", "densenet121")
NAS_SEEDS = (0, 1, 7, 1234, 15624)


def zoo_models(names: Sequence[str] = ZOO_SEEDS) -> List[Tuple[str, bytes]]:
    from netscore_fast import zoo
    known = set(zoo.names())
    return [(f"zoo/{n}", zoo.build(n)) for n in names if n in known]


def nas_models(indices: Sequence[int] = NAS_SEEDS) -> List[Tuple[str, bytes]]:
    from netscore_fast import nas
    return [(f"nas/{i}", bytes(nas.nasbench201(i))) for i in indices]


def load_seeds(max_bytes: int = 1 << 20, zoo: Sequence[str] = ZOO_SEEDS, nasi: Sequence[int] = NAS_SEEDS) -> List[Seed]:
    """The seed models (each at most max_bytes), sorted by name; only those the onnx schema walk accepts."""
    found: List[Tuple[str, bytes]] = []
    for source in (light_models, fixture_exports, lambda: zoo_models(zoo), lambda: nas_models(nasi)):
        try:
            found += source()
        except ImportError:
            pass
    seeds = []
    for name, data in sorted(found):
        if len(data) > max_bytes:
            continue
        seeds.append(Seed(name, data))
    return seeds


# ---------------------------------------------------------------------------------------------------------
# Mutations: fn(seed, rng) -> Mutant

@dataclass
class Mutant:
    data: bytes
    note: str = ""
    special: Optional[str] = None        # "fifo", "dir", "dev_zero", "dev_null": the model path is not a file
    fifo_next_to: Optional[str] = None   # create a FIFO with this name next to the model file


HOSTILE_INTS = (-1, -2, 0, 1 << 20, 1 << 24, 1 << 31, 1 << 32, 3037000500, 1 << 62, (1 << 63) - 1, -(1 << 62),
                -(1 << 63))
HOSTILE_VARINTS = (varint((1 << 63) - 1), varint(1 << 63), varint(-1), varint(-(1 << 63)), b"\xff" * 10 + b"\x01",
                   b"\x80" * 9 + b"\x00", b"\xff" * 9 + b"\x7f", b"\xff" * 11, varint(1 << 32), varint(1 << 62))


def _pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


def m_bitflip(seed: Seed, rng: random.Random) -> Mutant:
    b = bytearray(seed.data)
    flips = []
    for _ in range(rng.choice((1, 1, 1, 2, 4))):
        pos, bit = rng.randrange(len(b)), rng.randrange(8)
        b[pos] ^= 1 << bit
        flips.append(f"{pos}.{bit}")
    return Mutant(bytes(b), "flip " + ",".join(flips))


def m_overwrite(seed: Seed, rng: random.Random) -> Mutant:
    b = bytearray(seed.data)
    pos = rng.randrange(len(b))
    n = rng.choice((1, 2, 4, 8, 16))
    fill = rng.choice(("random", "ff", "00", "7f", "80"))
    for i in range(pos, min(pos + n, len(b))):
        b[i] = rng.randrange(256) if fill == "random" else int(fill, 16)
    return Mutant(bytes(b), f"overwrite {n}x{fill} at {pos}")


def m_truncate(seed: Seed, rng: random.Random) -> Mutant:
    if not seed.fields:
        cut = rng.randrange(len(seed.data))
        return Mutant(seed.data[:cut], f"truncate at {cut}")
    f = _pick(rng, seed.fields)
    where = rng.choice(("start", "len", "value", "mid", "end-1", "end"))
    cut = {"start": f.start, "len": f.len_start, "value": f.vstart, "mid": (f.vstart + f.end) // 2,
           "end-1": max(f.start, f.end - 1), "end": f.end}[where]
    return Mutant(seed.data[:cut], f"truncate at {where} of {f.msg}.{f.number} ({cut} of {len(seed.data)})")


def m_varint(seed: Seed, rng: random.Random) -> Mutant:
    candidates = [i for i, f in enumerate(seed.fields) if f.wire == VARINT]
    if not candidates:
        return m_length(seed, rng)
    i = _pick(rng, candidates)
    f = seed.fields[i]
    value = _pick(rng, HOSTILE_VARINTS)
    new = seed.data[f.start:f.len_start] + value
    if rng.random() < 0.25:   # no length fix-up: the enclosing messages now end mid-field
        return Mutant(seed.data[:f.start] + new + seed.data[f.end:], f"varint {f.msg}.{f.number}={value.hex()} raw")
    return Mutant(splice(seed.data, seed.fields, i, new), f"varint {f.msg}.{f.number}={value.hex()}")


def m_length(seed: Seed, rng: random.Random) -> Mutant:
    candidates = [i for i, f in enumerate(seed.fields) if f.wire == LEN]
    if not candidates:
        return m_overwrite(seed, rng)
    i = _pick(rng, candidates)
    f = seed.fields[i]
    n = f.end - f.vstart
    past = len(seed.data) - f.vstart
    choice = rng.choice(("past_end", "past_end_far", "2^63", "2^64-1", "2^32+n", "n+1", "n-1", "2^31"))
    new_len = {"past_end": past + 1, "past_end_far": past + (1 << 20), "2^63": 1 << 63, "2^64-1": (1 << 64) - 1,
               "2^32+n": (1 << 32) + n, "n+1": n + 1, "n-1": max(0, n - 1), "2^31": 1 << 31}[choice]
    enc = varint(new_len) if new_len < (1 << 64) else b"\xff" * 10 + b"\x01"
    new = seed.data[f.start:f.len_start] + enc + seed.data[f.vstart:f.end]
    return Mutant(splice(seed.data, seed.fields, i, new), f"length {f.msg}.{f.number}: {n} -> {choice}")


def m_structure(seed: Seed, rng: random.Random) -> Mutant:
    """Drop, duplicate (many times) or swap in a wrong wire type for one field; lengths fixed up."""
    if not seed.fields:
        return m_overwrite(seed, rng)
    i = rng.randrange(len(seed.fields))
    f = seed.fields[i]
    what = rng.choice(("drop", "duplicate", "repeat64", "wiretype"))
    whole = seed.data[f.start:f.end]
    if what == "drop":
        new = b""
    elif what == "duplicate":
        new = whole * 2
    elif what == "repeat64":
        new = whole * 64
    else:
        key, p = read_varint(seed.data, f.start, f.end)
        new = varint((key & ~7) | rng.choice((0, 1, 3, 4, 5, 6, 7))) + seed.data[p:f.end]
    return Mutant(splice(seed.data, seed.fields, i, new), f"{what} {f.msg}.{f.number}")


def m_bad_utf8(seed: Seed, rng: random.Random) -> Mutant:
    candidates = [i for i, f in enumerate(seed.fields)
                  if (f.msg, f.number) in NAME_FIELDS and f.wire == LEN and f.end > f.vstart]
    if not candidates:
        return m_bitflip(seed, rng)
    i = _pick(rng, candidates)
    f = seed.fields[i]
    b = bytearray(seed.data)
    pos = f.vstart + rng.randrange(f.end - f.vstart)
    patch = rng.choice((b"\xff", b"\xc3", b"\x80", b"\xed"))
    b[pos] = patch[0]
    return Mutant(bytes(b), f"byte {patch.hex()} in {f.msg}.{f.number} at {pos}")


def _onnx_model(seed: Seed):
    import onnx
    return onnx.load_from_string(seed.data)


def _all_nodes(graph):
    for n in graph.node:
        yield n
        for a in n.attribute:
            if a.HasField("g"):
                yield from _all_nodes(a.g)
            for g in a.graphs:
                yield from _all_nodes(g)


def m_hostile_dims(seed: Seed, rng: random.Random) -> Mutant:
    import onnx
    m = _onnx_model(seed)
    value = _pick(rng, HOSTILE_INTS)
    g = m.graph
    targets: List[Tuple[str, Callable[[], None]]] = []
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        for d in t.shape.dim:
            targets.append((f"dim of {vi.name}", lambda d=d: (d.ClearField("dim_param"), setattr(d, "dim_value", value))))
    for init in g.initializer:
        for k in range(len(init.dims)):
            targets.append((f"initializer {init.name} dims[{k}]",
                            lambda init=init, k=k: init.dims.__setitem__(k, value)))
    for node in _all_nodes(g):
        for a in node.attribute:
            if a.type == onnx.AttributeProto.INT:
                targets.append((f"{node.op_type}.{a.name}", lambda a=a: setattr(a, "i", value)))
            elif a.type == onnx.AttributeProto.INTS and len(a.ints):
                targets.append((f"{node.op_type}.{a.name}", lambda a=a: a.ints.__setitem__(rng.randrange(len(a.ints)), value)))
            elif a.type == onnx.AttributeProto.TENSOR and a.t.data_type == onnx.TensorProto.INT64 and len(a.t.int64_data):
                targets.append((f"{node.op_type}.{a.name} values",
                                lambda a=a: a.t.int64_data.__setitem__(rng.randrange(len(a.t.int64_data)), value)))
    if not targets:
        return m_varint(seed, rng)
    notes = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        what, apply = _pick(rng, targets)
        apply()
        notes.append(what)
    return Mutant(m.SerializeToString(), f"{value} into " + "; ".join(notes))


def m_cycle(seed: Seed, rng: random.Random) -> Mutant:
    m = _onnx_model(seed)
    nodes = m.graph.node
    if len(nodes) < 1 or not any(len(n.output) for n in nodes):
        return m_structure(seed, rng)
    j = rng.randrange(len(nodes))
    while not len(nodes[j].output):
        j = rng.randrange(len(nodes))
    i = rng.randrange(j + 1)   # i <= j: node i reads what node j (later or itself) writes
    if not len(nodes[i].input):
        nodes[i].input.append(nodes[j].output[0])
    else:
        nodes[i].input[rng.randrange(len(nodes[i].input))] = nodes[j].output[0]
    return Mutant(m.SerializeToString(), f"node {i} reads output of node {j}")


def m_nesting(seed: Seed, rng: random.Random) -> Mutant:
    """If or Loop bodies nested `depth` deep, built as wire bytes (the onnx package limits message depth)."""
    from onnx import TensorProto, helper
    depth = rng.choice((8, 15, 16, 17, 32, 100, 1000, 5000))
    op = rng.choice(("If", "Loop"))
    leaf = helper.make_graph([helper.make_node("Identity", ["x"], ["y"], name="leaf")], "leaf", [],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    g = leaf_bytes = leaf.SerializeToString()
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4]).SerializeToString()
    for k in range(depth):
        if op == "If":
            attrs = [_attr_graph("then_branch", g), _attr_graph("else_branch", leaf_bytes)]
            node = _node("If", ["c"], ["y"], f"if{k}", attrs)
        else:
            attrs = [_attr_graph("body", g)]
            node = _node("Loop", ["n", "c"], ["y"], f"loop{k}", attrs)
        g = _ld(1, node) + _ld(2, f"g{k}".encode()) + _ld(12, y)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]).SerializeToString()
    model = _vi(1, 8) + _ld(7, g + _ld(11, x)) + _ld(8, _ld(1, b"") + _vi(2, 17))
    return Mutant(model, f"{op} nested {depth} deep")


def _vi(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def _ld(number: int, payload: bytes) -> bytes:
    return varint((number << 3) | LEN) + varint(len(payload)) + payload


def _attr_graph(name: str, graph: bytes) -> bytes:
    return _ld(1, name.encode()) + _ld(6, graph) + _vi(20, 5)   # type GRAPH = 5


def _node(op: str, inputs: Sequence[str], outputs: Sequence[str], name: str, attrs: Sequence[bytes] = (),
          domain: str = "") -> bytes:
    b = b"".join(_ld(1, s.encode()) for s in inputs) + b"".join(_ld(2, s.encode()) for s in outputs)
    b += _ld(3, name.encode()) + _ld(4, op.encode()) + b"".join(_ld(5, a) for a in attrs)
    if domain:
        b += _ld(7, domain.encode())
    return b


def m_function_bomb(seed: Seed, rng: random.Random) -> Mutant:
    """Model-local functions f_k calling f_{k-1} `fanout` times in a chain, `levels` deep."""
    from onnx import TensorProto, helper
    levels = rng.choice((8, 12, 16, 20))
    fanout = rng.choice((2, 3, 4, 8))
    funcs = [helper.make_function("local", "f0", ["x"], ["y"], [helper.make_node("Relu", ["x"], ["y"])],
                                  [helper.make_opsetid("", 17)])]
    for k in range(1, levels + 1):
        nodes, prev = [], "x"
        for c in range(fanout):
            out = "y" if c == fanout - 1 else f"t{c}"
            nodes.append(helper.make_node(f"f{k - 1}", [prev], [out], domain="local"))
            prev = out
        funcs.append(helper.make_function("local", f"f{k}", ["x"], ["y"], nodes,
                                          [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]))
    graph = helper.make_graph([helper.make_node(f"f{levels}", ["x"], ["y"], domain="local", name="top")], "bomb",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])])
    model = helper.make_model(graph, functions=funcs,
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    return Mutant(model.SerializeToString(), f"functions: {levels} levels x {fanout} calls ({fanout ** levels} nodes)")


EXTERNAL_LOCATIONS = ("../../etc/passwd", "/etc/passwd", "/dev/zero", "/proc/self/mem", "fifo", "", ".",
                      "../" * 40 + "etc/passwd", "x" * 5000, "nested/../../../../etc/shadow")


def m_external_data(seed: Seed, rng: random.Random) -> Mutant:
    import onnx
    from onnx import TensorProto, helper
    m = _onnx_model(seed)
    location = _pick(rng, EXTERNAL_LOCATIONS)
    inits = list(m.graph.initializer)
    if inits:
        t = _pick(rng, inits)
    else:   # give the first node an extra weight that lives outside the file
        t = m.graph.initializer.add()
        t.CopyFrom(helper.make_tensor("ext_w", TensorProto.FLOAT, [64], vals=[], raw=False))
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.ClearField("int64_data")
    t.ClearField("int32_data")
    t.data_location = onnx.TensorProto.EXTERNAL
    del t.external_data[:]
    entries = [("location", location)]
    if rng.random() < 0.5:
        entries += [("offset", str(_pick(rng, (0, 1 << 40, (1 << 63) - 1, -5)))),
                    ("length", str(_pick(rng, (1, 1 << 40, (1 << 63) - 1, -5))))]
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return Mutant(m.SerializeToString(), f"{t.name} external at {location[:40]!r}",
                  fifo_next_to="fifo" if location == "fifo" else None)


def m_special_path(seed: Seed, rng: random.Random) -> Mutant:
    kind = rng.choice(("fifo", "dir", "dev_zero", "dev_null"))
    return Mutant(b"", f"model path is {kind}", special=kind)


# kind -> (mutation, relative weight in a campaign)
KINDS: Dict[str, Tuple[Callable[[Seed, random.Random], Mutant], int]] = {
    "bitflip": (m_bitflip, 16),
    "overwrite": (m_overwrite, 10),
    "truncate": (m_truncate, 10),
    "varint": (m_varint, 10),
    "length": (m_length, 10),
    "structure": (m_structure, 8),
    "bad_utf8": (m_bad_utf8, 8),
    "hostile_dims": (m_hostile_dims, 12),
    "cycle": (m_cycle, 4),
    "nesting": (m_nesting, 3),
    "function_bomb": (m_function_bomb, 3),
    "external_data": (m_external_data, 4),
    "special_path": (m_special_path, 2),
}


@dataclass
class Spec:
    """Everything needed to rebuild one mutant."""
    index: int
    kind: str
    seed_model: str
    seed: int

    @property
    def repro(self) -> str:
        return f"python fuzz/mutate.py repro {self.kind} {self.seed_model} {self.seed} mutant.onnx"


def make_mutant(spec: Spec, seeds: Dict[str, Seed]) -> Mutant:
    if spec.seed_model not in seeds:
        raise KeyError(f"seed model {spec.seed_model!r} not found (zoo/ and nas/ seeds need netscore_fast importable)")
    rng = random.Random(f"{spec.kind}/{spec.seed_model}/{spec.seed}")
    return KINDS[spec.kind][0](seeds[spec.seed_model], rng)


def plan(n: int, seeds: Sequence[Seed], base_seed: int = 0, kinds: Optional[Sequence[str]] = None) -> List[Spec]:
    """n mutant specs: kinds by weight (each kind at least once when n allows), seed models uniformly."""
    rng = random.Random(base_seed)
    names = [k for k in KINDS if kinds is None or k in kinds]
    weights = [KINDS[k][1] for k in names]
    chosen = names[:n] + rng.choices(names, weights, k=max(0, n - len(names)))
    out = []
    for i, kind in enumerate(chosen):
        out.append(Spec(i, kind, _pick(rng, seeds).name, rng.randrange(1 << 32)))
    return out


# ---------------------------------------------------------------------------------------------------------
# The worker child: reads one JSON job per line on stdin, writes one JSON event per line on stdout.

def _classify(exc: BaseException) -> Tuple[str, str]:
    import netscore_fast as nf
    msg = str(exc)[:300]
    if isinstance(exc, MemoryError) or "bad_alloc" in msg:
        return "memory", f"{type(exc).__name__}: {msg}"
    if isinstance(exc, nf.ModelError):
        return "model_error", msg
    return "exception", f"{type(exc).__name__}: {msg}"


def _touch_profile(p) -> None:
    """Read every part of a Profile that crosses from C++ to Python."""
    rows = p.layers
    # tolist() makes every field of every row a Python object (str() of each numpy record costs 85 us a row,
    # 45 s for the 531,441 layers of a function bomb, all of it numpy's formatting)
    rows.tolist() if hasattr(rows, "tolist") else [str(r) for r in rows]
    p.unsupported_ops
    p.unknown_cost_nodes
    p.summary()
    p.to_dict()
    if len(rows) <= 100_000:  # every layer as text and dicts: Python work over the rows read above
        p.summary(layers=True)
        p.to_dict(layers=True)


def _touch_table(t) -> None:
    t.rows()
    t.format()
    for c in t.columns:
        t[c]


def _step_profile(path: str):
    import netscore_fast as nf
    return nf.profile(path)


def _step_many(path: str, data: Optional[bytes], threads: int):
    import netscore_fast as nf
    sources = [path] if data is None else [path, ("bytes", data)]
    t = nf.profile_many(sources, errors="record", threads=threads, progress=False)
    _touch_table(t)
    if len(t) != len(sources):
        raise AssertionError(f"lost rows: {len(t)} rows for {len(sources)} models")
    return t


def worker_main() -> None:
    import resource
    limit = int(os.environ.get("NETSCORE_MUTATE_MEMORY", MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import numpy as np
    import netscore_fast  # noqa: F401  (import time is not a mutant's time)

    out = sys.stdout
    sys.stdout = sys.stderr   # anything the library prints stays off the protocol channel

    def emit(**ev) -> None:
        out.write(json.dumps(ev) + "\n")
        out.flush()

    emit(ev="ready")
    for line in sys.stdin:
        job = json.loads(line)
        i, path, threads = job["i"], job["path"], job.get("threads", 1)
        p = None
        emit(ev="start", i=i, step="profile")
        t0 = time.perf_counter()
        try:
            p = _step_profile(path)
            outcome, detail = "ok", ""
        except BaseException as e:   # noqa: BLE001  (every exception is a finding to classify)
            outcome, detail = _classify(e)
        emit(ev="step", i=i, step="profile", outcome=outcome, detail=detail, seconds=time.perf_counter() - t0)
        if p is not None:  # its own step: the rows of a 531,441-node model take 3.4 s to reach Python
            emit(ev="start", i=i, step="accessors")
            t0 = time.perf_counter()
            try:
                _touch_profile(p)
                outcome, detail = "ok", ""
            except BaseException as e:   # noqa: BLE001
                outcome, detail = _classify(e)
            emit(ev="step", i=i, step="accessors", outcome=outcome, detail=detail,
                 seconds=time.perf_counter() - t0)

        emit(ev="start", i=i, step="many")
        t0 = time.perf_counter()
        data = None
        if job.get("with_bytes"):
            with open(path, "rb") as f:
                data = f.read()
        try:
            t = _step_many(path, data, threads)
            outcome, detail = "ok", ""
            ok = np.asarray(t.ok)
            errs = [str(e) for e in t["error"]] if "error" in t else []
            if any("bad_alloc" in e for e in errs):
                outcome, detail = "memory", next(e for e in errs if "bad_alloc" in e)[:300]
            elif p is not None and not ok[0]:
                outcome, detail = "mismatch", f"profile ok, profile_many row failed: {errs[0][:200]}"
            elif p is None and ok[0]:
                outcome, detail = "mismatch", "profile failed, profile_many row ok"
            elif len(ok) == 2 and ok[0] != ok[1]:
                outcome, detail = "mismatch", "path and bytes rows differ in success"
            elif p is not None and ok[0]:
                for col in ("params", "macs"):
                    got, want = float(t[col][0]), float(getattr(p, col))
                    if got == got and want == want and got != want:
                        outcome, detail = "mismatch", f"{col}: profile {want} != profile_many {got}"
        except BaseException as e:   # noqa: BLE001
            outcome, detail = _classify(e)
        emit(ev="step", i=i, step="many", outcome=outcome, detail=detail, seconds=time.perf_counter() - t0)
        emit(ev="done", i=i)


# ---------------------------------------------------------------------------------------------------------
# The parent: generates mutants, feeds the worker, enforces the time limit, restarts after a crash or hang.

@dataclass
class Result:
    spec: Spec
    outcome: str
    step: str = ""
    detail: str = ""
    seconds: float = 0.0
    note: str = ""
    steps: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    starved: bool = False

    def as_dict(self) -> dict:
        return {"index": self.spec.index, "kind": self.spec.kind, "seed_model": self.spec.seed_model,
                "seed": self.spec.seed, "outcome": self.outcome, "step": self.step, "detail": self.detail,
                "seconds": round(self.seconds, 4), "note": self.note, "repro": self.spec.repro}


class _Worker:
    def __init__(self, env: Dict[str, str]):
        self.proc = subprocess.Popen([sys.executable, "-W", "ignore", str(Path(__file__).resolve()), "worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        self.buf = b""
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)

    def send(self, job: dict) -> None:
        self.proc.stdin.write((json.dumps(job) + "\n").encode())
        self.proc.stdin.flush()

    def event(self, timeout: float) -> Optional[dict]:
        """The next event; None on timeout; {"ev": "exit", "rc": ...} when the worker died."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self.sel.select(left):
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return {"ev": "exit", "rc": self.proc.wait()}
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return self.event(max(0.0, deadline - time.monotonic()))

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.sel.close()
        for s in (self.proc.stdin, self.proc.stdout):
            try:
                s.close()
            except OSError:
                pass


def _proc_cpu(pid: int) -> Tuple[str, float]:
    """(state letter, CPU seconds) of a process from /proc; ("?", 0) where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return parts[0], (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return "?", 0.0


def _describe_exit(rc: int) -> str:
    if rc < 0:
        try:
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit code {rc}"


def _materialize(m: Mutant, folder: Path, index: int) -> Tuple[str, bool]:
    """Write the mutant for profiling; returns (path, whether profile_many also gets its bytes)."""
    d = folder / f"m{index}"
    d.mkdir()
    path = d / "model.onnx"
    if m.special == "fifo":
        os.mkfifo(path)
    elif m.special == "dir":
        path.mkdir()
    elif m.special in ("dev_zero", "dev_null"):
        path.symlink_to("/dev/zero" if m.special == "dev_zero" else "/dev/null")
    else:
        path.write_bytes(m.data)
        if m.fifo_next_to:
            os.mkfifo(d / m.fifo_next_to)
        return str(path), True
    return str(path), False


def _cleanup(folder: Path, index: int) -> None:
    d = folder / f"m{index}"
    for p in d.iterdir() if d.exists() else ():
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        else:
            p.unlink()
    if d.exists():
        d.rmdir()


def run(specs: Sequence[Spec], seeds: Dict[str, Seed], *, time_limit: float = TIME_LIMIT,
        memory_limit: int = MEMORY_LIMIT, threads: int = 1, confirm_hangs: bool = True,
        on_result: Optional[Callable[[Result], None]] = None, workdir: Optional[str] = None) -> List[Result]:
    """Profile every mutant of `specs` in worker children; one Result per spec, in order.

    A step (profile, reading its parts, or profile_many) that takes longer than time_limit is a hang. While
    the worker is runnable but got under 80% of that time on a CPU (a busy machine), the wait goes on until
    it has had time_limit of CPU, up to STARVED_WAIT times time_limit; a worker that is still starved then
    gets one more try in a fresh worker, and only a second timeout counts (confirm_hangs). A worker that is
    blocked (a FIFO, a lock) is a hang after time_limit.
    """
    env = dict(os.environ)
    env["NETSCORE_MUTATE_MEMORY"] = str(memory_limit)
    # the workers import the same netscore_fast as this process (installed, or a checkout's python/ folder)
    import netscore_fast
    package_root = str(Path(netscore_fast.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in sys.path if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    results: List[Result] = []
    with tempfile.TemporaryDirectory(prefix="mutants-", dir=workdir) as tmp:
        folder = Path(tmp)
        worker: Optional[_Worker] = None

        def fresh() -> _Worker:
            w = _Worker(env)
            ev = w.event(120.0)
            if not ev or ev.get("ev") != "ready":
                w.kill()
                raise RuntimeError(f"mutation worker did not start: {ev}")
            return w

        def attempt(spec: Spec, path: str, with_bytes: bool) -> Result:
            nonlocal worker
            if worker is None:
                worker = fresh()
            worker.send({"i": spec.index, "path": path, "with_bytes": with_bytes, "threads": threads})
            res = Result(spec, "ok")
            step, step_cpu = "", 0.0
            t_start = t_step = time.perf_counter()
            wait = 60.0
            while True:
                ev = worker.event(wait)
                if ev is None:
                    elapsed = time.perf_counter() - t_start
                    state, cpu = _proc_cpu(worker.proc.pid)
                    used = cpu - step_cpu
                    if (step and state == "R" and used < time_limit
                            and time.perf_counter() - t_step < STARVED_WAIT * time_limit):
                        wait = max(0.5, time_limit - used)  # starved of CPU by a busy machine: wait for it
                        continue
                    worker.kill()
                    worker = None
                    cpu -= step_cpu
                    res.outcome, res.step = "hang", step
                    res.detail = f"no answer after {time_limit:.1f} s ({cpu:.1f} s CPU, state {state})"
                    # Runnable but starved of CPU: the machine is busy, not the model slow; worth a retry.
                    res.starved = state == "R" and cpu < 0.8 * time_limit
                    res.seconds = elapsed
                    return res
                if ev["ev"] == "exit":
                    worker.kill()
                    worker = None
                    res.outcome, res.step, res.detail = "crash", step, _describe_exit(ev["rc"])
                    res.seconds = time.perf_counter() - t_start
                    return res
                if ev["ev"] == "start":
                    step = ev["step"]
                    step_cpu = _proc_cpu(worker.proc.pid)[1]
                    t_step, wait = time.perf_counter(), time_limit
                elif ev["ev"] == "step":
                    res.steps[ev["step"]] = (ev["outcome"], ev["detail"])
                    res.seconds += ev["seconds"]
                    if _SEVERITY[ev["outcome"]] < _SEVERITY[res.outcome]:
                        res.outcome, res.step, res.detail = ev["outcome"], ev["step"], ev["detail"]
                    step, wait = "", 60.0
                elif ev["ev"] == "done":
                    return res

        for spec in specs:
            mutant = make_mutant(spec, seeds)
            path, with_bytes = _materialize(mutant, folder, spec.index)
            try:
                res = attempt(spec, path, with_bytes)
                if res.outcome == "hang" and confirm_hangs and res.starved:
                    again = attempt(spec, path, with_bytes)
                    if again.outcome != "hang":
                        again.detail = (again.detail + f" (slow once: {res.seconds:.1f} s)").strip()
                    res = again
            finally:
                _cleanup(folder, spec.index)
            res.note = mutant.note
            results.append(res)
            if on_result:
                on_result(res)
        if worker is not None:
            worker.proc.stdin.close()
            worker.kill()
    return results


def seed_map(seeds: Iterable[Seed]) -> Dict[str, Seed]:
    return {s.name: s for s in seeds}


def counts(results: Sequence[Result]) -> Dict[str, Dict[str, int]]:
    """kind -> outcome -> count."""
    table: Dict[str, Dict[str, int]] = {}
    for r in results:
        row = table.setdefault(r.spec.kind, {o: 0 for o in OUTCOMES})
        row[r.outcome] += 1
    return table


def format_counts(results: Sequence[Result]) -> str:
    table = counts(results)
    head = f"{'kind':<15}" + "".join(f"{o:>12}" for o in OUTCOMES) + f"{'total':>8}"
    lines = [head, "-" * len(head)]
    total = {o: 0 for o in OUTCOMES}
    for kind in sorted(table):
        row = table[kind]
        for o in OUTCOMES:
            total[o] += row[o]
        lines.append(f"{kind:<15}" + "".join(f"{row[o]:>12}" for o in OUTCOMES) + f"{sum(row.values()):>8}")
    lines.append("-" * len(head))
    lines.append(f"{'all':<15}" + "".join(f"{total[o]:>12}" for o in OUTCOMES) + f"{sum(total.values()):>8}")
    return "\n".join(lines)


def write_mutants(specs: Sequence[Spec], seeds: Dict[str, Seed], folder: Path) -> List[Path]:
    """The mutants' bytes as files (special paths skipped), e.g. as a corpus for the fuzz target."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for spec in specs:
        m = make_mutant(spec, seeds)
        if m.special:
            continue
        p = folder / f"{spec.index:06d}-{spec.kind}.onnx"
        p.write_bytes(m.data)
        out.append(p)
    return out


def _main(argv: List[str]) -> int:
    try:
        import netscore_fast  # noqa: F401  (the zoo and NAS seeds need it)
    except ImportError:
        sys.path.insert(0, str(REPO / "python"))
    if argv[:1] == ["worker"]:
        worker_main()
        return 0
    if argv[:1] == ["repro"] and len(argv) == 5:
        kind, seed_model, seed, out = argv[1:]
        seeds = seed_map(load_seeds(max_bytes=1 << 62))
        m = make_mutant(Spec(0, kind, seed_model, int(seed)), seeds)
        if m.special:
            print(f"{kind}: {m.note} (no bytes; make the model path that kind of file)")
            return 0
        Path(out).write_bytes(m.data)
        print(f"{out}: {len(m.data)} bytes, {m.note}" + (f"; needs a FIFO named {m.fifo_next_to!r} next to it"
                                                          if m.fifo_next_to else ""))
        return 0
    if argv[:1] == ["corpus"] and len(argv) >= 3:
        skip: List[str] = []
        if "--skip" in argv:
            k = argv.index("--skip")
            skip = argv[k + 1].split(",")
            argv = argv[:k] + argv[k + 2:]
        n, folder = int(argv[1]), Path(argv[2])
        base = int(argv[3]) if len(argv) >= 4 else 0
        seeds = load_seeds()
        specs = plan(n, seeds, base, [k for k in KINDS if k not in skip])
        files = write_mutants(specs, seed_map(seeds), folder)
        print(f"{len(files)} mutants from {len(seeds)} seed models in {folder}")
        return 0
    print("usage: mutate.py repro KIND SEED_MODEL SEED OUT.onnx | corpus N FOLDER [BASE_SEED] [--skip KIND,...]"
          " | worker\n"
          "(campaigns: benchmarks/mutation_campaign.py)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
