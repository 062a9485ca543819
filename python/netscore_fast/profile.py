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
from ._units import DEFAULT_WIDTH
from ._units import si as _si

__all__ = ["profile", "Profile", "ModelError", "ModelParts", "supported_ops"]

# Per-node columns of Profile.layers, in order: (name, numpy dtype or None for text).
_TEXT_COLUMNS = ("name", "op_type", "input_shape", "output_shape", "module")
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
            batch_size: int = 1, input_values: Optional[Dict[str, Any]] = None,
            dedupe_weights: bool = False) -> "Profile":
    """Profile one ONNX model without reading its weights (unless dedupe_weights; only tensors whose shape
    and readers fit an attention mask or a sinusoidal position table are scanned, see docs/counting.md).

    source: a path (str or os.PathLike; the file is memory-mapped), a bytes-like object holding a
        serialized ModelProto (bytes, bytearray, memoryview, numpy uint8 array; read in place, must be
        contiguous), an io.BytesIO (its contents), or an object with SerializeToString() such as
        onnx.ModelProto.
    accuracy: top-1 accuracy in percent; enables `netscore` and `information_density`.
    input_shapes: {input name: dims} (or (name, dims) pairs) overriding the shapes stored in the model.
    batch_size: value given to a symbolic leading dim of an input not named in input_shapes.
    input_values: {input name: int/float scalar or small 1-D list}: the data of graph inputs that control
        flow depends on (silero-vad picks its If branch from `sr`: {"sr": 16000}). See `upper_bound_nodes`.
    dedupe_weights: read the stored weights and count initializers holding the same elements (the same
        bytes, or the same elements in another order, as a transposed copy) once: for files that store
        one weight twice, which the graph alone cannot show; a tensor of one value repeated (an
        exporter's zero bias or mask) does not count (docs/counting.md). Off by default.

    Returns a Profile (counts as integers: params in elements, MACs, FLOPs, bytes).
    Raises ModelError (a ValueError) naming the source and the problem.
    """
    shapes = shape_list(input_shapes)
    values = value_list(input_values)
    batch = int(batch_size)
    name, payload = resolve(source)
    if isinstance(payload, str):
        analyse = functools.partial(_core.profile_file, payload, shapes, batch, input_values=values,
                                    dedupe_weights=bool(dedupe_weights))
    else:
        analyse = functools.partial(_core.profile_buffer, payload, name, shapes, batch, input_values=values,
                                    dedupe_weights=bool(dedupe_weights))
    return Profile(analyse(layers=False), name, accuracy, analyse)


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
    def open_inputs(self) -> List[Tuple[str, Optional[List[int]], List[str]]]:
        """Graph inputs left with an unknown dim after input_shapes and batch_size: (name, dims with -1 for
        an unknown dim or None for an unknown rank, the model's symbol of each dim or "")."""
        return [(n, None if d is None else list(d), list(sym)) for n, d, sym in self._result.open_inputs()]

    def input_shape_hint(self) -> str:
        """When costs are unknown and a graph input has an unknown dim: which inputs and dims, and the
        --input-shape flag (input_shapes argument) that fixes them; "" otherwise."""
        if not self._result.unknown_cost_nodes:
            return ""
        lines, flags = [], []
        for name, dims, symbols in self.open_inputs:
            if dims is None:
                lines.append(f"input '{name}' has no declared rank")
                flags.append(f"--input-shape {name}=D1,D2,...")
                continue
            unknown = [f"dim {a} ({symbols[a]})" if symbols[a] else f"dim {a}"
                       for a, d in enumerate(dims) if d < 0]
            lines.append(f"input '{name}' has unknown {', '.join(unknown)}")
            guess = ",".join(str(d) if d >= 0 else ("128" if a else "1") for a, d in enumerate(dims))
            flags.append(f"--input-shape {name}={guess}")
        if not lines:
            return ""
        return ("  HINT: " + "; ".join(lines) + ". Give the shape, e.g.\n    " + " ".join(flags)
                + "\n    (input_shapes={...} in Python; the values shown for the unknown dims are examples)")

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

        Fields: name, op_type ("domain::Op" outside the default domain), input_shape and output_shape
        (text such as "1x64x112x112"; several separated by ";", "?" for an unknown dim or an unknown rank,
        "scalar" for rank 0, "" for an omitted optional input), module (the torch module that produced the
        node, as "layer1.0.conv1", from the exporter's node metadata or node name; "" when none), params,
        macs, flops,
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
        from .rollup import module_of

        cols["module"] = [module_of(name, scopes) for name, scopes in zip(cols["name"], cols["name_scopes"])]
        text = {}
        for key in _TEXT_COLUMNS:
            text[key] = np.array(cols[key], dtype=str) if n else np.zeros(0, dtype="U1")
        dtype = [(key, f"U{max(1, text[key].dtype.itemsize // 4)}") for key in _TEXT_COLUMNS]
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

    def live_bytes(self):
        """numpy int64 array, one value per row of `layers`: the activation bytes alive while that node runs
        (graph inputs and outputs included: its outputs and every earlier activation a later node or the
        graph output still reads; a tensor of unknown size is left out). Rows of an If/Loop/Scan subgraph
        take the value of their node. The maximum is `peak_activation_bytes`; the first row reaching it is
        the node that causes the peak."""
        import numpy as np

        result = self._with_rows()
        return np.frombuffer(result.live_bytes(), dtype=np.int64).copy()

    def by(self, key: str, depth: Optional[int] = None):
        """Roll the per-node costs up by "op_type" or by torch "module" (netscore_fast.rollup.Rollup).

        Each row: count (nodes), params, macs, flops, activation_bytes and the share of the model's total of
        each in percent (the rows of an op-type roll-up, and the top-level rows of a module roll-up, sum to
        100). Modules come from the exporter (dynamo node metadata or TorchScript node names); a module
        holds its submodules' nodes; depth limits the tree (1: top-level modules only; None: all levels).
        Nodes outside every module are in the row "(no module)". Unknown values (-1) count as 0 here; the
        row's `unknown` says how many of its nodes have unknown MACs.
        """
        from .rollup import rollup

        return rollup(self.layers, key, depth, self.source)

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
        for key in _TEXT_COLUMNS:
            df[key] = df[key].astype(object)
        df.attrs.update(self.totals())
        return df

    def summary(self, layers: bool = False, sort: Optional[str] = None, top: Optional[int] = None) -> str:
        """A readable text report: totals in k/M/G units, metrics, unsupported ops, unknown-cost nodes.

        A total that misses a part (see UNKNOWN_COST_LEAVES_OPEN) is marked "+": it is the sum of the known
        parts, a lower bound, and says how many nodes are left out; a footer line explains the marker.
        layers=True appends one row per node (input and output shapes, counts, share of the model's params
        and MACs), in execution order or sorted by `sort` ("macs", "params", "flops", "activation_bytes";
        largest first), the first `top` rows only when given. When costs are unknown because a graph input
        has a symbolic dim, a hint names the inputs and dims and the --input-shape flag that fixes it.
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
            hint = self.input_shape_hint()
            if hint:
                lines.append(hint)
        for title, bounds in (("UPPER BOUND", self.upper_bound_nodes), ("LOWER BOUND", self.lower_bound_nodes)):
            if bounds:
                lines.append(f"  {title} (control flow): {len(bounds)} node{'s' if len(bounds) != 1 else ''}:")
                lines += [f"    {node}: {reason}" for node, reason in list(bounds.items())[:8]]
                if len(bounds) > 8:
                    lines.append("    ...")
        if layers:
            lines.append("")
            lines.append(_layer_table(self.layers, sort, top))
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


LAYER_SORT_KEYS = ("macs", "params", "flops", "activation_bytes")
TEXT_WIDTH = DEFAULT_WIDTH   # default text output fits this many columns (one width for every report)


def _fit(text: str, width: int) -> str:
    """text cut in the middle to `width` characters ("..." marks the cut)."""
    if len(text) <= width:
        return text
    if width <= 3:
        return text[:width]
    head = (width - 3 + 1) // 2
    return text[:head] + "..." + text[len(text) - (width - 3 - head):]


def _layer_table(rows, sort: Optional[str] = None, top: Optional[int] = None, width: int = TEXT_WIDTH) -> str:
    """Fixed-width text table of per-node rows: input and output shapes, counts and the share of the model's
    MACs and params per row; sorted by a count (descending) and cut to the first `top` rows when asked.
    Columns of text are cut in the middle so that a row fits `width` characters."""
    import numpy as np

    if sort is not None and sort not in LAYER_SORT_KEYS:
        raise ValueError(f"cannot sort layers by {sort!r}: expected one of {', '.join(LAYER_SORT_KEYS)}")
    order = np.arange(len(rows))
    if sort is not None:
        order = np.argsort(-rows[sort], kind="stable")
    if top is not None:
        order = order[:max(0, int(top))]
    total_macs = int(np.where(rows["macs"] > 0, rows["macs"], 0).sum())
    total_params = int(np.where(rows["params"] > 0, rows["params"], 0).sum())

    def share(v: int, total: int) -> str:
        return "?" if v < 0 else (f"{100.0 * v / total:.1f}" if total else "0.0")

    extra = sort if sort in ("flops", "activation_bytes") else None
    header = ["#", "name", "op_type", "inputs", "output", "params", "%", "MACs", "%"]
    if extra:
        header.append("FLOPs" if extra == "flops" else "act bytes")
    body = []
    for i in order.tolist():
        d = dict(zip(rows.dtype.names, rows[i].tolist()))
        name = d["name"]
        if d["module"] and not name.startswith("/"):   # a flat name (dynamo): show the module it comes from
            name = f"{name} ({d['module']})"
        note = " !" if not d["supported"] else (" *" if d["folded"] else "")
        cells = [str(i), name, d["op_type"] + note, d["input_shape"], d["output_shape"], _si(d["params"]),
                 share(d["params"], total_params), _si(d["macs"]), share(d["macs"], total_macs)]
        if extra:
            cells.append(_si(d[extra], "B" if extra == "activation_bytes" else ""))
        body.append(cells)
    widths = [max(len(header[c]), *(len(b[c]) for b in body)) if body else len(header[c])
              for c in range(len(header))]
    # Cut text columns until a row fits: the inputs first (down to 16 characters), then the name (to 24),
    # then the widest of name, op type, inputs and output (to 10).
    text_cols = (1, 2, 3, 4)
    for col, floor in ((3, 16), (1, 24), (None, 10)):
        while sum(widths) + 2 * (len(widths) - 1) > width:
            c = col if col is not None else max(text_cols, key=lambda k: widths[k])
            if widths[c] <= floor:
                break
            widths[c] -= 1
    right = set(range(5, len(header))) | {0}

    def fmt(cells):
        return "  ".join(_fit(c, w).rjust(w) if i in right else _fit(c, w).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    lines = [fmt(header).rstrip()] + [fmt(b).rstrip() for b in body]
    notes = []
    if top is not None and len(order) < len(rows):
        notes.append(f"{len(rows) - len(order)} more rows")
    notes.append("% = share of the model's params and MACs")
    shown = rows[order]
    if shown["folded"].any():
        notes.append("* folded (constant inputs only: foldable at load)")
    if (~shown["supported"]).any():
        notes.append("! unsupported op (not counted)")
    lines.append("(" + "; ".join(notes) + ")")
    return "\n".join(lines)
