"""A small ONNX graph writer for the zoo: layers by name, shapes tracked, weights without payloads.

Weights are emitted in one of two forms, so a whole zoo builds in well under a second and stays small:
- "constant": a ConstantOfShape node fed by an int64 shape initializer (runs in onnxruntime);
- "external": a float initializer with dims only and data_location EXTERNAL (never opened by the profiler).
Shapes are tracked as (C, H, W) per tensor so builders can state layers as torchvision does (out channels,
kernel, stride, padding) without repeating input channels or spatial sizes.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

IntPair = Union[int, Tuple[int, int]]

OPSET = 17
WEIGHT_MODES = ("constant", "external")


def _pair(v: IntPair) -> Tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def window_out(size: int, k: int, s: int, p_begin: int, p_end: int, d: int = 1, ceil: bool = False) -> int:
    """Output length of a sliding window (conv or pool), PyTorch/ONNX rule."""
    span = size + p_begin + p_end - d * (k - 1) - 1
    n = (-(-span // s) if ceil else span // s) + 1
    if ceil and (n - 1) * s >= size + p_begin:  # last window may not start in the end padding
        n -= 1
    return n


class Net:
    """Accumulates nodes and weights; every layer method returns the name of its output tensor."""

    def __init__(self, name: str, channels: int, height: int, width: int, batch_size: int = 1,
                 weights: str = "constant"):
        if weights not in WEIGHT_MODES:
            raise ValueError(f"weights must be one of {WEIGHT_MODES}, got {weights!r}")
        self.name = name
        self.batch = int(batch_size)
        self.mode = weights
        self.nodes: list = []
        self.initializers: list = []
        self.shapes: Dict[str, Tuple[int, int, int]] = {"input": (channels, height, width)}
        self.input = "input"
        self._count: Dict[str, int] = {}
        self._consts: Dict[Tuple, str] = {}

    # -- naming and constants -------------------------------------------------------------------------
    def _name(self, kind: str) -> str:
        n = self._count.get(kind, 0)
        self._count[kind] = n + 1
        return f"{kind}_{n}"

    def _weight(self, name: str, dims: Sequence[int]) -> str:
        from onnx import TensorProto, helper

        dims = [int(d) for d in dims]
        if self.mode == "external":
            t = TensorProto()
            t.name = name
            t.data_type = TensorProto.FLOAT
            t.dims.extend(dims)
            t.data_location = TensorProto.EXTERNAL
            numel = math.prod(dims)
            for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", str(4 * numel))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            self.initializers.append(t)
        else:
            shape = name + "_shape"
            self.initializers.append(helper.make_tensor(shape, TensorProto.INT64, [len(dims)], dims))
            self.nodes.append(helper.make_node(
                "ConstantOfShape", [shape], [name], name=name + "_fill",
                value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0])))
        return name

    def _int64(self, values: Sequence[int]) -> str:
        from onnx import TensorProto, helper

        key = ("i64",) + tuple(int(v) for v in values)
        if key not in self._consts:
            name = f"const_i64_{len(self._consts)}"
            self.initializers.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], list(key[1:])))
            self._consts[key] = name
        return self._consts[key]

    def _scalar(self, value: float) -> str:
        from onnx import TensorProto, helper

        key = ("f32", float(value))
        if key not in self._consts:
            name = f"const_f32_{len(self._consts)}"
            self.initializers.append(helper.make_tensor(name, TensorProto.FLOAT, [], [float(value)]))
            self._consts[key] = name
        return self._consts[key]

    def _node(self, op: str, inputs: List[str], shape: Tuple[int, int, int], kind: Optional[str] = None,
              **attrs) -> str:
        from onnx import helper

        name = self._name(kind or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        self.shapes[name] = shape
        return name

    # -- layers ---------------------------------------------------------------------------------------
    def conv(self, x: str, out_ch: int, k: IntPair, s: IntPair = 1, p: Union[IntPair, Tuple[int, int, int, int]] = 0,
             groups: int = 1, bias: bool = False, dilation: int = 1) -> str:
        c, h, w = self.shapes[x]
        kh, kw = _pair(k)
        sh, sw = _pair(s)
        if isinstance(p, tuple) and len(p) == 4:
            pads = list(p)  # top, left, bottom, right
        else:
            ph, pw = _pair(p)
            pads = [ph, pw, ph, pw]
        if c % groups or out_ch % groups:
            raise ValueError(f"{self.name}: conv {c}->{out_ch} not divisible by groups={groups}")
        name = self._name("conv")
        inputs = [x, self._weight(name + "_w", [out_ch, c // groups, kh, kw])]
        if bias:
            inputs.append(self._weight(name + "_b", [out_ch]))
        from onnx import helper

        self.nodes.append(helper.make_node(
            "Conv", inputs, [name], name=name, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads,
            group=groups, dilations=[dilation, dilation]))
        self.shapes[name] = (out_ch,
                             window_out(h, kh, sh, pads[0], pads[2], dilation),
                             window_out(w, kw, sw, pads[1], pads[3], dilation))
        return name

    def bn(self, x: str, eps: float = 1e-5) -> str:
        c = self.shapes[x][0]
        name = self._name("bn")
        ins = [x] + [self._weight(f"{name}_{p}", [c]) for p in ("scale", "bias", "mean", "var")]
        from onnx import helper

        self.nodes.append(helper.make_node("BatchNormalization", ins, [name], name=name, epsilon=eps))
        self.shapes[name] = self.shapes[x]
        return name

    def relu(self, x: str) -> str:
        return self._node("Relu", [x], self.shapes[x])

    def relu6(self, x: str) -> str:
        return self._node("Clip", [x, self._scalar(0.0), self._scalar(6.0)], self.shapes[x], kind="relu6")

    def hardswish(self, x: str) -> str:
        return self._node("HardSwish", [x], self.shapes[x])

    def hardsigmoid(self, x: str) -> str:  # torch.nn.Hardsigmoid = relu6(x + 3) / 6
        return self._node("HardSigmoid", [x], self.shapes[x], alpha=1.0 / 6.0, beta=0.5)

    def sigmoid(self, x: str) -> str:
        return self._node("Sigmoid", [x], self.shapes[x])

    def silu(self, x: str) -> str:
        return self.mul(x, self.sigmoid(x))

    def act(self, x: str, kind: Optional[str]) -> str:
        if kind is None:
            return x
        return {"relu": self.relu, "relu6": self.relu6, "hardswish": self.hardswish, "silu": self.silu,
                "sigmoid": self.sigmoid, "hardsigmoid": self.hardsigmoid}[kind](x)

    def conv_bn(self, x: str, out_ch: int, k: IntPair, s: IntPair = 1, p: Union[IntPair, Tuple] = 0,
                groups: int = 1, act: Optional[str] = "relu", eps: float = 1e-5, bias: bool = False) -> str:
        """Conv (no bias unless asked) -> BatchNormalization -> activation: torchvision's Conv2dNormActivation."""
        return self.act(self.bn(self.conv(x, out_ch, k, s, p, groups, bias=bias), eps), act)

    def add(self, a: str, b: str) -> str:
        if self.shapes[a] != self.shapes[b]:
            raise ValueError(f"{self.name}: Add of {self.shapes[a]} and {self.shapes[b]}")
        return self._node("Add", [a, b], self.shapes[a])

    def mul(self, a: str, b: str) -> str:  # b may broadcast (N, C, 1, 1)
        return self._node("Mul", [a, b], self.shapes[a])

    def concat(self, xs: Sequence[str]) -> str:
        hw = {self.shapes[x][1:] for x in xs}
        if len(hw) != 1:
            raise ValueError(f"{self.name}: Concat of spatial sizes {sorted(hw)}")
        c = sum(self.shapes[x][0] for x in xs)
        return self._node("Concat", list(xs), (c,) + hw.pop(), axis=1)

    def split2(self, x: str) -> Tuple[str, str]:
        """Channel halves (torch.chunk(x, 2, dim=1))."""
        from onnx import helper

        c, h, w = self.shapes[x]
        a, b = self._name("split"), self._name("split")
        self.nodes.append(helper.make_node("Split", [x], [a, b], name=a + "_node", axis=1))
        self.shapes[a] = self.shapes[b] = (c // 2, h, w)
        return a, b

    def channel_shuffle(self, x: str, groups: int) -> str:
        c, h, w = self.shapes[x]
        r = self._node("Reshape", [x, self._int64([self.batch, groups, c // groups, h, w])], (c, h, w))
        t = self._node("Transpose", [r], (c, h, w), perm=[0, 2, 1, 3, 4])
        return self._node("Reshape", [t, self._int64([self.batch, c, h, w])], (c, h, w))

    def maxpool(self, x: str, k: int, s: int, p: int = 0, ceil: bool = False) -> str:
        c, h, w = self.shapes[x]
        o = (c, window_out(h, k, s, p, p, ceil=ceil), window_out(w, k, s, p, p, ceil=ceil))
        return self._node("MaxPool", [x], o, kernel_shape=[k, k], strides=[s, s], pads=[p] * 4,
                          ceil_mode=int(ceil))

    def avgpool(self, x: str, k: int, s: int, p: int = 0, ceil: bool = False, count_include_pad: bool = True) -> str:
        c, h, w = self.shapes[x]
        o = (c, window_out(h, k, s, p, p, ceil=ceil), window_out(w, k, s, p, p, ceil=ceil))
        return self._node("AveragePool", [x], o, kernel_shape=[k, k], strides=[s, s], pads=[p] * 4,
                          ceil_mode=int(ceil), count_include_pad=int(count_include_pad))

    def gap(self, x: str) -> str:
        return self._node("GlobalAveragePool", [x], (self.shapes[x][0], 1, 1))

    def flatten(self, x: str) -> str:
        c, h, w = self.shapes[x]
        return self._node("Flatten", [x], (c * h * w, 1, 1), axis=1)

    def linear(self, x: str, out_features: int, bias: bool = True) -> str:
        """torch.nn.Linear on a flattened (N, in) tensor: Gemm with transB=1."""
        in_features = self.shapes[x][0]
        name = self._name("fc")
        ins = [x, self._weight(name + "_w", [out_features, in_features])]
        if bias:
            ins.append(self._weight(name + "_b", [out_features]))
        from onnx import helper

        self.nodes.append(helper.make_node("Gemm", ins, [name], name=name, transB=1))
        self.shapes[name] = (out_features, 1, 1)
        return name

    def squeeze_excite(self, x: str, squeeze: int, act: str = "relu", gate: str = "sigmoid") -> str:
        """torchvision SqueezeExcitation: avgpool -> 1x1 conv (bias) -> act -> 1x1 conv (bias) -> gate -> scale."""
        c = self.shapes[x][0]
        s = self.gap(x)
        s = self.act(self.conv(s, squeeze, 1, bias=True), act)
        s = self.act(self.conv(s, c, 1, bias=True), gate)
        return self.mul(x, s)

    def classifier(self, x: str, num_classes: int = 1000) -> str:
        """Global average pool -> flatten -> Linear: the usual head."""
        return self.linear(self.flatten(self.gap(x)), num_classes)

    # -- output ---------------------------------------------------------------------------------------
    def model(self, *outputs: str):
        """The finished onnx.ModelProto; outputs are (N, C) logits or (N, C, H, W) maps."""
        from onnx import TensorProto, helper

        outs = []
        for o in outputs:
            c, h, w = self.shapes[o]
            dims = [self.batch, c] if self.nodes and (h, w) == (1, 1) and self._is_2d(o) else [self.batch, c, h, w]
            outs.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, dims))
        c, h, w = self.shapes["input"]
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [self.batch, c, h, w])],
            outs, initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="netscore_fast.zoo")
        model.ir_version = 8
        return model

    def _is_2d(self, name: str) -> bool:
        return any(n.output and n.output[0] == name and n.op_type in ("Gemm", "Flatten") for n in self.nodes)
