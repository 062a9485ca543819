"""Profile one ONNX model: `profile(source) -> Profile`.

The C++ core decodes and analyses the model with the GIL released; this module only shapes arguments
and presents the result. `profile()` computes the totals only; per-node rows (`Profile.layers`,
`layer_shapes()`) come from a second analysis of the same source on first access, so a caller that ranks
models by their totals never pays for building thousands of rows.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Dict, List, Optional, Tuple

from . import _core
from ._core import ModelError
from ._sources import InputShapes, ModelParts, resolve, shape_list, value_list

__all__ = ["profile", "Profile", "ModelError", "ModelParts", "supported_ops"]

# Per-node columns of Profile.layers, in order: (name, numpy dtype or None for text).
_INT_COLUMNS = ("params", "macs", "flops", "activation_bytes", "weight_bytes")
_BOOL_COLUMNS = ("supported", "folded")

# The totals a node of unknown cost (an unsupported op, or an unknown dim) leaves incomplete: its MACs and
# FLOPs, and, as the sizes of its outputs are then usually unknown too, the activation totals. The weight
# totals are complete (weights have fixed sizes, counted whatever reads them). A results table shows these
# as NaN and summary() marks them (docs/counting.md, "Unknown values in tables").
UNKNOWN_COST_LEAVES_OPEN = ("macs", "flops", "activation_bytes", "peak_activation_bytes")


def supported_ops() -> List[str]:
    """Op types the analysis knows: "Op" for the default ONNX domain, "domain::Op" otherwise; sorted."""
    return list(_core.supported_ops())


def profile(source: Any, *, accuracy: Optional[float] = None, input_shapes: InputShapes = None,
            batch_size: int = 1, input_values: Optional[Dict[str, Any]] = None) -> "Profile":
    """Profile one ONNX model without reading its weights.

    source: a path (str or os.PathLike; the file is memory-mapped), a bytes-like object holding a
        serialized ModelProto (bytes, bytearray, memoryview, numpy uint8 array; read in place, must be
        contiguous), an io.BytesIO (its contents), or an object with SerializeToString() such as
        onnx.ModelProto.
    accuracy: top-1 accuracy in percent; enables `netscore` and `information_density`.
    input_shapes: {input name: dims} (or (name, dims) pairs) overriding the shapes stored in the model.
    batch_size: value given to a symbolic leading dim of an input not named in input_shapes.
    input_values: {input name: int/float scalar or small 1-D list}: the data of graph inputs that control
        flow depends on (silero-vad picks its If branch from `sr`: {"sr": 16000}). See `upper_bound_nodes`.

    Returns a Profile (counts as integers: params in elements, MACs, FLOPs, bytes).
    Raises ModelError (a ValueError) naming the source and the problem.
    """
    shapes = shape_list(input_shapes)
    values = value_list(input_values)
    batch = int(batch_size)
    name, payload = resolve(source)
    if isinstance(payload, str):
        analyse = functools.partial(_core.profile_file, payload, shapes, batch, input_values=values)
    else:
        analyse = functools.partial(_core.profile_buffer, payload, name, shapes, batch, input_values=values)
    return Profile(analyse(layers=False), name, accuracy, analyse)


def _si(value: Optional[float], unit: str = "", digits: int = 2) -> str:
    """1234567 -> '1.23 M' (k, M, G, T); None or negative -> '?'."""
    if value is None or value < 0:
        return "?"
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.{digits}f} {prefix}{unit}"
    return f"{value:.0f} {unit}".rstrip() if float(value).is_integer() else f"{value:.{digits}f} {unit}".rstrip()


def _finite_or_none(x: Optional[float]) -> Optional[float]:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


class _Total:
    """A read-only integer total of Profile, read from the core's result under the same name."""

    def __init__(self, doc: str):
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Optional["Profile"], owner: Optional[type] = None) -> int:
        if obj is None:
            return self  # type: ignore[return-value]   # the class attribute: help() shows the docstring
        return getattr(obj._result, self.name)


class Profile:
    """Totals and per-node costs of one model.

    Counts: `params` (elements of constant weights read by compute nodes, BatchNorm running statistics
    included; `bn_stat_params` of them), `macs` (multiply-accumulates), `flops` (2 per MAC plus
    elementwise work), `weight_bytes`, `activation_bytes` (all non-constant node outputs) and
    `peak_activation_bytes` (largest live set in execution order). Nodes with unknown cost are listed in
    `unknown_cost_nodes` and counted in no total; unknown op types are in `unsupported_ops`.
    See docs/counting.md for the conventions.
    """

    __slots__ = ("_result", "source", "accuracy", "_layers", "_derived", "_analyse")

    def __init__(self, result: "_core.ProfileResult", source: str, accuracy: Optional[float] = None,
                 analyse=None):
        self._result = result
        self.source = source
        self.accuracy = None if accuracy is None else float(accuracy)
        self._layers = None
        self._derived = None
        self._analyse = analyse  # analyse(layers=True) -> a result with rows, when `result` has none

    def _with_rows(self) -> "_core.ProfileResult":
        """The result with per-node rows: analyse the source again (once) if the first pass skipped them."""
        if not self._result.has_layers:
            full = self._analyse(layers=True)
            if (full.params, full.macs, full.num_layers) != (self.params, self.macs, self.num_layers):
                raise ModelError(f"{self.source}: the model changed after it was profiled; profile it again")
            self._result = full
        return self._result

    # --- totals -------------------------------------------------------------------------------
    params = _Total("Parameter count (elements).")
    bn_stat_params = _Total("BatchNormalization running mean and variance elements (included in params).")
    macs = _Total("Multiply-accumulates of one inference (sum over nodes with known cost).")
    flops = _Total("Floating-point operations of one inference (sum over nodes with known cost).")
    weight_bytes = _Total("Bytes of the weights counted in params.")
    activation_bytes = _Total("Bytes of all non-constant node outputs.")
    peak_activation_bytes = _Total("Largest number of activation bytes alive at once in execution order "
                                   "(inputs/outputs included).")

    @property
    def unknown_cost_nodes(self) -> List[str]:
        """Names of nodes whose cost could not be determined (not counted in the totals)."""
        return list(self._result.unknown_cost_nodes)

    @property
    def upper_bound_nodes(self) -> Dict[str, str]:
        """Control-flow nodes counted as an upper bound, name -> reason: an If whose condition is unknown at
        analysis time (its more expensive branch is counted; the reason names the inputs it depends on,
        which `input_values` can give), a Loop that may stop before its trip count."""
        return dict(self._result.upper_bound_nodes)

    @property
    def lower_bound_nodes(self) -> Dict[str, str]:
        """Loop / Scan nodes whose trip count is unknown at analysis time, name -> reason: one iteration of
        the body is counted."""
        return dict(self._result.lower_bound_nodes)

    @property
    def unsupported_ops(self) -> Dict[str, List[str]]:
        """Op type ("Op" or "domain::Op") -> names of the nodes of that type the registry does not know."""
        return self._result.unsupported_ops()

    @property
    def num_layers(self) -> int:
        """Number of nodes in the graph."""
        return self._result.num_layers

    # --- metrics ------------------------------------------------------------------------------
    def _metrics(self) -> Tuple[Optional[float], Optional[float]]:
        if self._derived is None:
            if self.accuracy is None:
                self._derived = (None, None)
            else:
                from . import metrics
                macs = math.nan if self._result.unknown_cost_nodes else self.macs   # a partial sum is no input
                self._derived = (float(metrics.netscore(self.accuracy, self.params, macs)),
                                 float(metrics.information_density(self.accuracy, self.params)))
        return self._derived

    @property
    def netscore(self) -> Optional[float]:
        """NetScore (Wong, 2018): 20*log10(a^2 / (sqrt(p [M]) * sqrt(m [G MACs]))); None without accuracy,
        NaN when the MACs are not known (a node of unknown cost)."""
        return self._metrics()[0]

    @property
    def information_density(self) -> Optional[float]:
        """Top-1 accuracy (%) per million parameters (Canziani et al., 2016); None without accuracy."""
        return self._metrics()[1]

    # --- per-node rows ------------------------------------------------------------------------
    @property
    def layers(self):
        """numpy structured array, one row per node in execution order.

        Fields: name, op_type ("domain::Op" outside the default domain), output_shape (text such as
        "1x64x112x112"; several outputs separated by ";", "?" for an unknown dim), params, macs, flops,
        activation_bytes, weight_bytes (int64; -1 = unknown), supported, folded (bool), node_index
        (position in the model's node list; for a node inlined from a model-local function, the call's).
        """
        if self._layers is None:
            self._layers = self._build_layers()
        return self._layers

    def _build_layers(self):
        import numpy as np

        result = self._with_rows()
        cols = result.layer_columns()
        n = result.num_layers
        text = {}
        for key in ("name", "op_type", "output_shape"):
            text[key] = np.array(cols[key], dtype=str) if n else np.zeros(0, dtype="U1")
        dtype = [(key, f"U{max(1, text[key].dtype.itemsize // 4)}") for key in ("name", "op_type", "output_shape")]
        dtype += [(key, np.int64) for key in _INT_COLUMNS]
        dtype += [(key, np.bool_) for key in _BOOL_COLUMNS]
        dtype += [("node_index", np.int64)]
        rows = np.zeros(n, dtype=dtype)
        for key, values in text.items():
            rows[key] = values
        for key in _INT_COLUMNS + ("node_index",):
            rows[key] = np.frombuffer(cols[key], dtype=np.int64, count=n)
        for key in _BOOL_COLUMNS:
            rows[key] = np.frombuffer(cols[key], dtype=np.int64, count=n) != 0
        return rows

    def layer_shapes(self) -> List[Tuple[List[List[int]], List[List[int]]]]:
        """Per node, in execution order: (input shapes, output shapes); -1 marks an unknown dim."""
        return self._with_rows().layer_shapes()

    # --- export -------------------------------------------------------------------------------
    def totals(self) -> Dict[str, Any]:
        """The scalar results as a flat dict (one row of a results table)."""
        return {
            "source": self.source,
            "params": self.params,
            "bn_stat_params": self.bn_stat_params,
            "macs": self.macs,
            "flops": self.flops,
            "weight_bytes": self.weight_bytes,
            "activation_bytes": self.activation_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "accuracy": self.accuracy,
            "netscore": _finite_or_none(self.netscore),
            "information_density": _finite_or_none(self.information_density),
            "num_layers": self.num_layers,
            "num_unsupported_nodes": sum(len(v) for v in self.unsupported_ops.values()),
            "num_unknown_cost_nodes": len(self._result.unknown_cost_nodes),
        }

    def to_dict(self, layers: bool = False) -> Dict[str, Any]:
        """Totals, unsupported ops and unknown-cost nodes as plain Python values (JSON-ready).

        layers=True adds "layers": a list of per-node dicts (see `layers` for the fields).
        """
        d = self.totals()
        d["unsupported_ops"] = self.unsupported_ops
        d["unknown_cost_nodes"] = self.unknown_cost_nodes
        d["upper_bound_nodes"] = self.upper_bound_nodes
        d["lower_bound_nodes"] = self.lower_bound_nodes
        if layers:
            rows = self.layers
            names = rows.dtype.names
            d["layers"] = [dict(zip(names, r)) for r in rows.tolist()]
        return d

    def to_pandas(self):
        """The per-node rows as a pandas DataFrame (totals in DataFrame.attrs). Needs netscore-fast[pandas]."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Profile.to_pandas() needs pandas: pip install 'netscore-fast[pandas]'") from e
        df = pd.DataFrame(self.layers)
        for key in ("name", "op_type", "output_shape"):
            df[key] = df[key].astype(object)
        df.attrs.update(self.totals())
        return df

    def summary(self, layers: bool = False) -> str:
        """A readable text report: totals in k/M/G units, metrics, unsupported ops, unknown-cost nodes.

        A total that misses a part (see UNKNOWN_COST_LEAVES_OPEN) is marked "+": it is the sum of the known
        parts, a lower bound, and says how many nodes are left out; a footer line explains the marker.
        layers=True appends one row per node.
        """
        lines = [f"Profile of {self.source}: {self.num_layers} nodes"]
        unknown = self._result.unknown_cost_nodes
        open_note = f"+ ({len(unknown)} node{'s' if len(unknown) != 1 else ''} of unknown cost)" if unknown else ""

        def total(name: str, unit: str = "") -> str:
            text = _si(getattr(self, name), unit)
            return text + open_note if name in UNKNOWN_COST_LEAVES_OPEN else text

        kv = [
            ("params", f"{_si(self.params)}" + (f"  (BatchNorm running stats {_si(self.bn_stat_params)})"
                                                  if self.bn_stat_params else "")),
            ("MACs", total("macs")),
            ("FLOPs", total("flops")),
            ("weights", total("weight_bytes", "B")),
            ("activations", total("activation_bytes", "B")),
            ("peak activations", total("peak_activation_bytes", "B")),
        ]
        if self.accuracy is not None:
            ns, dens = self.netscore, self.information_density
            kv.append(("top-1 accuracy", f"{self.accuracy:g} %"))
            kv.append(("NetScore", "n/a" if _finite_or_none(ns) is None else f"{ns:.2f}"))
            kv.append(("information density", "n/a" if _finite_or_none(dens) is None else f"{dens:.3f} %/M params"))
        width = max(len(k) for k, _ in kv)
        lines += [f"  {k:<{width}}  {v}" for k, v in kv]
        unsupported = self.unsupported_ops
        if unsupported:
            lines.append("  UNSUPPORTED ops (not counted): " + ", ".join(
                f"{op} x{len(nodes)}" for op, nodes in sorted(unsupported.items())))
        if unknown:
            shown = ", ".join(unknown[:8]) + (", ..." if len(unknown) > 8 else "")
            lines.append(f"  UNKNOWN cost (not counted): {len(unknown)} nodes: {shown}")
            lines.append("  +: a lower bound: the sum of the known parts, without the nodes of unknown cost "
                         "(and their outputs)")
        for title, bounds in (("UPPER BOUND", self.upper_bound_nodes), ("LOWER BOUND", self.lower_bound_nodes)):
            if bounds:
                lines.append(f"  {title} (control flow): {len(bounds)} node{'s' if len(bounds) != 1 else ''}:")
                lines += [f"    {node}: {reason}" for node, reason in list(bounds.items())[:8]]
                if len(bounds) > 8:
                    lines.append("    ...")
        if layers:
            lines.append("")
            lines.append(_layer_table(self.layers))
        return "\n".join(lines)

    def __repr__(self) -> str:
        extra = f" netscore={self.netscore:.2f}" if _finite_or_none(self.netscore) is not None else ""
        flags = ""
        if self._result.unknown_cost_nodes:
            flags += f" unknown_cost={len(self._result.unknown_cost_nodes)}"
        if self.unsupported_ops:
            flags += f" unsupported={sorted(self.unsupported_ops)}"
        return (f"<Profile {self.source!r}: params={_si(self.params).replace(' ', '')} "
                f"macs={_si(self.macs).replace(' ', '')} flops={_si(self.flops).replace(' ', '')} "
                f"peak_activation={_si(self.peak_activation_bytes, 'B').replace(' ', '')}{extra}{flags}>")

    def __str__(self) -> str:
        return self.summary()


def _layer_table(rows) -> str:
    """Fixed-width text table of per-node rows."""
    header = ("#", "name", "op_type", "output_shape", "params", "MACs", "FLOPs", "act bytes")
    body = []
    for i, r in enumerate(rows.tolist()):
        d = dict(zip(rows.dtype.names, r))
        note = "  (unsupported)" if not d["supported"] else ("  (folded)" if d["folded"] else "")
        body.append((str(i), d["name"], d["op_type"], d["output_shape"], _si(d["params"]), _si(d["macs"]),
                     _si(d["flops"]), _si(d["activation_bytes"], "B") + note))
    widths = [max(len(header[c]), *(len(b[c]) for b in body)) if body else len(header[c])
              for c in range(len(header))]
    right = {0, 4, 5, 6}

    def fmt(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([fmt(header)] + [fmt(b).rstrip() for b in body])
