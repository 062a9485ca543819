"""NAS-Bench-201 built in: the benchmark's networks as ONNX bytes, generated in microseconds, and its space.

The network is the benchmark's standard "infer" TinyNetwork (Dong & Yang, ICLR 2020, "NAS-Bench-201:
Extending the Scope of Reproducible Neural Architecture Search"; reference code xautodl
models/cell_infers/tiny_network.py):

- stem: Conv 3x3 (3 -> 16, pad 1, no bias) + BatchNorm;
- three stages of N = 5 cells at 16, 32 and 64 channels, separated by two residual reduction blocks
  (ResNetBasicblock: ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN; shortcut AvgPool 2x2/2 + Conv 1x1, no bias;
  outputs added);
- head: BatchNorm + ReLU, global average pool, Linear (10 / 100 / 120 classes);
- input 32x32 (CIFAR-10, CIFAR-100) or 16x16 (ImageNet16-120), batch dim symbolic ("N").

A cell has four nodes; node j sums the edges i -> j (i < j); the cell outputs node 3. An edge is
``none`` (a zero: contributes nothing), ``skip_connect`` (identity), ``nor_conv_1x1`` / ``nor_conv_3x3``
(ReLU-Conv-BN, convolution without bias) or ``avg_pool_3x3`` (stride 1, pad 1, padding not counted).
A node whose incoming edges are all ``none`` is the zero tensor; it is written as Sub(x, x) of the cell
input, which has no weights and no MACs (the benchmark computes x * 0).

BatchNorm convention: the infer networks build every BN with affine=True (scale and bias learnt; the
search-space supernets use affine=False inside cells). Only affine=True reproduces the published counts:
the all-nor_conv_3x3 network on CIFAR-10 has 1,531,546 parameters and 220.12 M MACs, the all-none one
73,306 and 7.78 M, where parameters count conv/linear weights and BN scale+bias but not BN running
statistics. In ONNX the running mean and variance are BN inputs too, so compare against
``params - bn_stat_params``. The benchmark's MACs count convolutions and the classifier only (no
pooling, no BN) - the same as this project's MAC convention.

Tensor names are short (".w" conv weight; ".s", ".b", ".m", ".v" BN scale, bias, mean, variance) since
names are half of a network's bytes; node names stay readable ("c3.e01.conv": cell 3, edge 0 -> 1).
Generation is fast: every node and initializer is serialized once per dataset and reused, and a network is
the concatenation of the pieces its architecture selects (protobuf allows repeated fields to interleave).
Weights are dims-only initializers by default (shape and type, no payload: the analysis never reads
weights); ``weights="zeros"`` writes real zero payloads so that onnxruntime can execute the model.
"""
from __future__ import annotations

import functools
import itertools
import random
from typing import TYPE_CHECKING, Dict, Iterator, List, Sequence, Tuple, Union

if TYPE_CHECKING:
    from ._sources import ModelParts

OPS: Tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Edge operations, in the benchmark's order (xautodl cell_operations.NAS_BENCH_201)."""

DATASETS: Dict[str, Tuple[int, int]] = {  # name -> (input height/width, classes)
    "cifar10": (32, 10),
    "cifar10-valid": (32, 10),
    "cifar100": (32, 100),
    "ImageNet16-120": (16, 120),
}

_EDGES: Tuple[Tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # (from, to) string order
_C = 16            # channels of the first stage
_N = 5             # cells per stage
_OPSET = 17
_IR_VERSION = 8
_BN_EPSILON = 1e-5

Arch = Tuple[str, str, str, str, str, str]   # op per edge in _EDGES order


# ---------------------------------------------------------------------------------------------------------
# Architecture strings and the space


def parse_arch(arch: str) -> Arch:
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> the six edge ops in string order. Raises ValueError."""
    if not isinstance(arch, str):
        raise TypeError(f"architecture must be a string, got {type(arch).__name__}")
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise ValueError(f"invalid NAS-Bench-201 architecture (need 3 nodes separated by '+'): {arch!r}")
    ops: List[str] = []
    for j, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")):
            raise ValueError(f"invalid NAS-Bench-201 architecture (node {j} not in |...|): {arch!r}")
        parts = node[1:-1].split("|")
        if len(parts) != j:
            raise ValueError(f"invalid NAS-Bench-201 architecture (node {j} needs {j} inputs): {arch!r}")
        for i, part in enumerate(parts):
            op, sep, src = part.partition("~")
            if not sep or src != str(i) or op not in OPS:
                raise ValueError(f"invalid NAS-Bench-201 edge {part!r} (expected op~{i}, op in {OPS}): {arch!r}")
            ops.append(op)
    return tuple(ops)  # type: ignore[return-value]


def arch_string(ops: Sequence[str]) -> str:
    """The six edge ops (string order) -> the benchmark's architecture string."""
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


@functools.lru_cache(maxsize=1)
def _space_ops() -> Tuple[Arch, ...]:
    # The benchmark enumerates CellStructure.gen_all (node 1's op outermost, the last edge of node 3 innermost)
    # and shuffles it with random.seed(88); that order is the architecture index of its API.
    ops = list(itertools.product(OPS, repeat=6))
    random.Random(88).shuffle(ops)
    return tuple(ops)  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def _space() -> Tuple[str, ...]:
    return tuple(arch_string(ops) for ops in _space_ops())


def nasbench201_space() -> Iterator[str]:
    """All 15,625 NAS-Bench-201 architecture strings, in the benchmark's index order (index 0 first)."""
    return iter(_space())


def nasbench201_arch(index: int) -> str:
    """The architecture string with the benchmark's index `index` (0 .. 15624)."""
    return _space()[index]


# ---------------------------------------------------------------------------------------------------------
# Protobuf wire format: just what ModelProto needs


def _varint(n: int) -> bytes:
    if 0 <= n < 0x80:   # the common case (lengths of names and small fields): one byte
        return bytes((n,))
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field_bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _field_varint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


# GraphProto fields
_G_NODE, _G_NAME, _G_INITIALIZER, _G_INPUT, _G_OUTPUT = 1, 2, 5, 11, 12
# ModelProto fields
_M_IR_VERSION, _M_PRODUCER_NAME, _M_PRODUCER_VERSION, _M_GRAPH, _M_OPSET = 1, 2, 3, 7, 8


_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_GRAPH_TAG = _varint(_M_GRAPH << 3 | 2)


class _Pieces:
    """Serialized graph fields (nodes and initializers) of one dataset/weights choice, built once."""

    def __init__(self, dataset: str, weights: str):
        import numpy as np
        from onnx import TensorProto, helper

        self._helper = helper
        self._np = np
        self._tp = TensorProto
        self.weights = weights
        hw, classes = DATASETS[dataset]
        self.classes = classes
        self.dataset = dataset

        self.head: List[bytes] = []
        # stem
        self._conv("stem.conv", "input", "stem.conv.out", 3, _C, 3, 1, self.head)
        self._bn("stem.bn", "stem.conv.out", "stem", _C, self.head)

        # cells and reductions: (cell index) -> channel count, cell input name
        self.cell_input: List[str] = []
        self.cell_channels: List[int] = []
        self.reductions: Dict[int, bytes] = {}   # before cell index -> serialized reduction block
        prev, channels = "stem", _C
        for stage in range(3):
            if stage:
                block: List[bytes] = []
                prev = self._reduction(f"r{stage}", prev, channels, channels * 2, block)
                channels *= 2
                self.reductions[stage * _N] = b"".join(block)
            for k in range(_N):
                c = stage * _N + k
                self.cell_input.append(prev)
                self.cell_channels.append(channels)
                prev = f"c{c}.n3"
        self.final = prev
        # edge pieces: [cell][edge][op index] -> bytes (empty for none / skip_connect)
        self.edge: List[List[List[bytes]]] = []
        for c, (cin, ch) in enumerate(zip(self.cell_input, self.cell_channels)):
            per_edge = []
            for (i, j) in _EDGES:
                src = cin if i == 0 else f"c{c}.n{i}"
                out = f"c{c}.e{i}{j}"
                per_op = []
                for op in OPS:
                    parts: List[bytes] = []
                    if op in ("nor_conv_1x1", "nor_conv_3x3"):
                        k = 1 if op == "nor_conv_1x1" else 3
                        self._node("Relu", [src], [out + ".r"], out + ".relu", parts)
                        self._conv(out + ".conv", out + ".r", out + ".c", ch, ch, k, 1, parts)
                        self._bn(out + ".bn", out + ".c", out, ch, parts)
                    elif op == "avg_pool_3x3":
                        self._node("AveragePool", [src], [out], out + ".pool", parts, kernel_shape=[3, 3],
                                   strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
                    per_op.append(b"".join(parts))
                per_edge.append(per_op)
            self.edge.append(per_edge)
        self._sums: Dict[Tuple[int, int, Tuple[str, ...]], bytes] = {}
        # sum nodes of every cell for every combination of incoming ops, indexed by an integer code
        # (node 1: op0; node 2: op1*5+op2; node 3: (op3*5+op4)*5+op5), so a network is only list lookups
        combos = [list(itertools.product(OPS, repeat=j)) for j in (1, 2, 3)]
        self.sums = [[[self.node_sum(c, j + 1, in_ops) for in_ops in combos[j]] for j in range(3)]
                     for c in range(3 * _N)]
        # Each cell node with its incoming edges, for every choice of their ops: node 1 by op0 (5 pieces,
        # the reduction block before the cell included), node 2 by (op1, op2) (25), node 3 by
        # (op3, op4, op5) (125). A network is then three list lookups per cell and one join.
        self.cells: List[Tuple[List[bytes], List[bytes], List[bytes]]] = []
        for c in range(3 * _N):
            e, (s1, s2, s3) = self.edge[c], self.sums[c]
            red = self.reductions.get(c, b"")
            r5 = range(len(OPS))
            node1 = [red + e[0][a] + s1[a] for a in r5]
            node2 = [e[1][a] + e[2][b] + s2[a * 5 + b] for a in r5 for b in r5]
            node3 = [e[3][a] + e[4][b] + e[5][d] + s3[(a * 5 + b) * 5 + d] for a in r5 for b in r5 for d in r5]
            self.cells.append((node1, node2, node3))
        # bytes of each node choice summed over the cells, so a network's graph size is three lookups
        self.node_bytes = [[sum(len(cell[k][code]) for cell in self.cells) for code in range(len(self.cells[0][k]))]
                           for k in range(3)]

        tail: List[bytes] = []
        ch = self.cell_channels[-1]
        self._bn("head.bn", self.final, "head.bn.out", ch, tail)
        self._node("Relu", ["head.bn.out"], ["head.relu"], "head.relu", tail)
        self._node("GlobalAveragePool", ["head.relu"], ["head.gap"], "head.gap", tail)
        self._node("Flatten", ["head.gap"], ["head.flat"], "head.flatten", tail, axis=1)
        self._init("classifier.weight", [classes, ch], tail)
        self._init("classifier.bias", [classes], tail)
        self._node("Gemm", ["head.flat", "classifier.weight", "classifier.bias"], ["logits"], "classifier", tail,
                   transB=1)
        x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, hw, hw])
        y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])
        tail.append(_field_bytes(_G_INPUT, x.SerializeToString()))
        tail.append(_field_bytes(_G_OUTPUT, y.SerializeToString()))
        self.tail = b"".join(tail)
        self.head_bytes = b"".join(self.head)
        self.model_head = b"".join([
            _field_varint(_M_IR_VERSION, _IR_VERSION),
            _field_bytes(_M_PRODUCER_NAME, b"netscore_fast.nas"),
            _field_bytes(_M_OPSET, helper.make_opsetid("", _OPSET).SerializeToString()),
        ])
        self.fixed_bytes = len(self.head_bytes) + len(self.tail)   # graph bytes every network has

    # -- builders (run once per dataset) --
    def _node(self, op, inputs, outputs, name, out: List[bytes], **attrs):
        node = self._helper.make_node(op, inputs, outputs, name=name, **attrs)
        out.append(_field_bytes(_G_NODE, node.SerializeToString()))

    def _init(self, name, dims, out: List[bytes]):
        if self.weights == "zeros":
            t = self._helper.make_tensor(name, self._tp.FLOAT, dims,
                                         self._np.zeros(dims, self._np.float32).tobytes(), raw=True)
        else:  # dims only: shape and type without a payload
            t = self._tp()
            t.name = name
            t.data_type = self._tp.FLOAT
            t.dims.extend(dims)
        out.append(_field_bytes(_G_INITIALIZER, t.SerializeToString()))

    def _conv(self, name, x, y, cin, cout, k, stride, out):
        self._init(name + ".w", [cout, cin, k, k], out)
        pad = k // 2
        self._node("Conv", [x, name + ".w"], [y], name, out, kernel_shape=[k, k], strides=[stride, stride],
                   pads=[pad, pad, pad, pad])

    def _bn(self, name, x, y, ch, out):
        names = [name + s for s in (".s", ".b", ".m", ".v")]   # scale, bias, running mean, running var
        for n in names:
            self._init(n, [ch], out)
        self._node("BatchNormalization", [x, *names], [y], name, out, epsilon=_BN_EPSILON)

    def _reduction(self, name, x, cin, cout, out) -> str:
        self._node("Relu", [x], [name + ".a.relu"], name + ".a.relu", out)
        self._conv(name + ".a.conv", name + ".a.relu", name + ".a.conv.out", cin, cout, 3, 2, out)
        self._bn(name + ".a.bn", name + ".a.conv.out", name + ".a", cout, out)
        self._node("Relu", [name + ".a"], [name + ".b.relu"], name + ".b.relu", out)
        self._conv(name + ".b.conv", name + ".b.relu", name + ".b.conv.out", cout, cout, 3, 1, out)
        self._bn(name + ".b.bn", name + ".b.conv.out", name + ".b", cout, out)
        self._node("AveragePool", [x], [name + ".down.pool"], name + ".down.pool", out, kernel_shape=[2, 2],
                   strides=[2, 2])
        self._conv(name + ".down.conv", name + ".down.pool", name + ".down", cin, cout, 1, 1, out)
        self._node("Add", [name + ".down", name + ".b"], [name + ".out"], name + ".add", out)
        return name + ".out"

    # -- per architecture --
    def node_sum(self, c: int, j: int, in_ops: Tuple[str, ...]) -> bytes:
        """The node that forms cell node j from its incoming edge ops (i = 0 .. j-1)."""
        key = (c, j, in_ops)
        piece = self._sums.get(key)
        if piece is None:
            inputs = []
            for i, op in enumerate(in_ops):
                if op == "none":
                    continue
                if op == "skip_connect":
                    inputs.append(self.cell_input[c] if i == 0 else f"c{c}.n{i}")
                else:
                    inputs.append(f"c{c}.e{i}{j}")
            out = f"c{c}.n{j}"
            parts: List[bytes] = []
            if inputs:
                self._node("Sum", inputs, [out], out, parts)
            else:  # every incoming edge is none: the zero tensor, shaped like the cell input
                self._node("Sub", [self.cell_input[c], self.cell_input[c]], [out], out + ".zero", parts)
            piece = self._sums[key] = b"".join(parts)
        return piece

    def parts(self, ops: Arch, graph_name: bytes) -> List[bytes]:
        """The network as consecutive serialized pieces: ModelProto fields, the graph's tag and size, then
        the graph's fields (protobuf lets repeated fields interleave, so the pieces simply follow)."""
        i0, i1, i2, i3, i4, i5 = map(_OP_INDEX.__getitem__, ops)
        k2, k3 = i1 * 5 + i2, (i3 * 5 + i4) * 5 + i5
        name = _field_bytes(_G_NAME, graph_name)
        b1, b2, b3 = self.node_bytes
        size = self.fixed_bytes + b1[i0] + b2[k2] + b3[k3] + len(name)
        parts = [self.model_head + _GRAPH_TAG + _varint(size), self.head_bytes]
        for node1, node2, node3 in self.cells:
            parts += (node1[i0], node2[k2], node3[k3])
        parts.append(self.tail)
        parts.append(name)
        return parts

    def model(self, ops: Arch, graph_name: bytes) -> bytes:
        return b"".join(self.parts(ops, graph_name))


@functools.lru_cache(maxsize=None)
def _pieces(dataset: str, weights: str) -> _Pieces:
    return _Pieces(dataset, weights)


def nasbench201(arch: Union[str, int, Sequence[str]], dataset: str = "cifar10", *, weights: str = "dims") -> bytes:
    """The NAS-Bench-201 network of an architecture as a serialized ONNX ModelProto.

    arch: an architecture string ("|nor_conv_3x3~0|+|...~0|...~1|+|...~0|...~1|...~2|"), the benchmark's
    architecture index (0 .. 15624), or the six edge ops in string order.
    dataset: "cifar10" (also "cifar10-valid"), "cifar100" or "ImageNet16-120": sets the input size
    (32x32 or 16x16, batch dim symbolic) and the classes (10, 100, 120).
    weights: "dims" (default; initializers carry shape and type only, a network is ~40 KB and takes tens
    of microseconds) or "zeros" (real zero payloads, several MB, for running the model).
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    if weights not in ("dims", "zeros"):
        raise ValueError(f"weights must be 'dims' or 'zeros', got {weights!r}")
    if isinstance(arch, int):
        arch = nasbench201_arch(arch)
    if isinstance(arch, str):
        ops = _parse_cached(arch)
        name = arch
    else:
        ops = tuple(arch)
        if len(ops) != 6 or any(op not in OPS for op in ops):
            raise ValueError(f"expected six edge ops from {OPS}, got {arch!r}")
        name = arch_string(ops)
    return _pieces(dataset, weights).model(ops, name.encode())  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1 << 15)
def _parse_cached(arch: str) -> Arch:
    return parse_arch(arch)


def nasbench201_models(dataset: str = "cifar10", *, limit=None) -> Iterator[Tuple[str, "ModelParts"]]:
    """(architecture string, network) for the whole space in index order, generated lazily, for
    profile_many. Each network is a ModelParts (its serialized pieces; bytes(parts) joins them), which
    profile_many's C++ workers join in parallel."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    from ._sources import ModelParts
    pieces = _pieces(dataset, "dims")
    for arch, ops in itertools.islice(zip(_space(), _space_ops()), limit):
        yield arch, ModelParts(pieces.parts(ops, arch.encode()))


_GENERATOR_VERSION = 1   # bump when the networks this module writes change


class CacheKey:
    """cache_key for profile_many over (architecture string, bytes) pairs of nasbench201_models():
    identifies a network by generator version, dataset and architecture, so a cache hit hashes ~100 bytes
    instead of the network's ~24 KB. Picklable (usable with executors)."""

    def __init__(self, dataset: str = "cifar10"):
        self.dataset = dataset

    def __call__(self, name: str, payload) -> str:
        return f"nasbench201/v{_GENERATOR_VERSION}/{self.dataset}/{name}"
