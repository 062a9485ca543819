"""Roll-ups of a Profile's per-node rows by op type or by torch module, and the module path of a node.

Module paths come from the exporters: the dynamo exporter (torch.onnx.export(dynamo=True)) stores each
node's module scopes in the node metadata "pkg.torch.onnx.name_scopes" (e.g. "['', 'layer1', 'layer1.0',
'layer1.0.conv1', 'conv2d_1']"), the TorchScript exporter in the node name ("/layer1/layer1.0/conv1/Conv").
Both are read into one dotted module name ("layer1.0.conv1"); its dotted prefixes are its parent modules
(as in torch's named_modules()). A node outside every module (a graph-level Constant, a node of another
exporter) has the module "".
"""
from __future__ import annotations

import ast
from typing import Any, Dict, Iterator, List, Optional, Sequence

__all__ = ["module_of", "Rollup", "ROLLUP_COUNTS"]

# The counts a roll-up sums, with the share of the model's total of each.
ROLLUP_COUNTS = ("params", "macs", "flops", "activation_bytes")
NO_MODULE = "(no module)"


def _from_scopes(scopes: str) -> Optional[str]:
    """The dynamo exporter's name_scopes text -> the dotted module name; None when it is not that form."""
    if len(scopes) > 65536 or not scopes.startswith("["):   # metadata is untrusted text: a list of names only
        return None
    try:
        parts = ast.literal_eval(scopes)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        return None
    if parts[0] != "":   # a scope outside the root module (a hook of the exporter)
        return ""
    modules = parts[1:-1]   # the first is the root module, the last the torch op of the node
    return modules[-1] if modules else ""


def _from_node_name(name: str) -> str:
    """A TorchScript node name ("/features/features.3/conv/conv.0/Conv") -> "features.3.conv.0"; "" when
    the name has no scope."""
    if not name.startswith("/"):
        return ""
    parts = name[1:].split("/")[:-1]   # the last part names the op
    module, local = "", ""
    for part in parts:
        if not part:
            continue
        # A scope part is either the child's local name ("conv") or the parent's local name continued
        # ("features.3" under "features", "conv.0" under "conv").
        if local and part.startswith(local + "."):
            module += part[len(local):]
        else:
            module = f"{module}.{part}" if module else part
        local = part
    return module


def module_of(name: str, name_scopes: str = "") -> str:
    """The dotted torch module name of a node from its metadata (dynamo) or its name (TorchScript)."""
    if name_scopes:
        module = _from_scopes(name_scopes)
        if module is not None:
            return module
    return _from_node_name(name)


class Rollup:
    """A roll-up table: one row per op type or per module, with counts and shares of the model's totals.

    rows: dicts with key (op type or module name), depth (modules: 1 for a top-level module), count (nodes),
    params, macs, flops, activation_bytes (sums of the known values; `unknown` counts the nodes whose MACs
    are unknown) and <count>_share (percent of the sum over all nodes; the rows at depth 1, or all rows of an
    op-type roll-up, sum to 100).
    """

    def __init__(self, by: str, rows: List[Dict[str, Any]], totals: Dict[str, int], source: str = ""):
        self.by = by
        self.rows = rows
        self.totals = totals
        self.source = source

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, key: str) -> Dict[str, Any]:
        for row in self.rows:
            if row["key"] == key:
                return row
        raise KeyError(key)

    def keys(self) -> List[str]:
        return [row["key"] for row in self.rows]

    def to_pandas(self):
        """The rows as a pandas DataFrame. Needs netscore-fast[pandas]."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Rollup.to_pandas() needs pandas: pip install 'netscore-fast[pandas]'") from e
        return pd.DataFrame(self.rows)

    def format(self, width: Optional[int] = None) -> str:
        """Fixed-width text: a torchinfo-like indented tree for modules, a table for op types. width: the
        widest line allowed (the activation-bytes, then the FLOPs columns are dropped, then labels cut);
        None: every column."""
        from ._units import Column, si as _si, text_table

        rows = []
        for r in self.rows:
            if self.by == "module":
                key = r["key"]
                parent = key.rsplit(".", 1)[0] if r["depth"] > 1 else ""
                label = "  " * (r["depth"] - 1) + (key[len(parent) + 1:] if parent else key)
            else:
                label = r["key"]
            rows.append((label, r["count"], r, lambda c, r=r: r[c + "_share"]))
        rows.append(("total", self.totals["count"], self.totals, lambda c: 100.0))
        cols = [Column("module" if self.by == "module" else "op_type", [r[0] for r in rows], "l", shrink=24,
                       cut="end"),
                Column("nodes", [str(r[1]) for r in rows])]
        keep = {"params": None, "macs": None, "flops": 2, "activation_bytes": 1}
        for c, head in zip(ROLLUP_COUNTS, ("params", "MACs", "FLOPs", "act bytes")):
            cols.append(Column(head, [_si(r[2][c], "B" if c == "activation_bytes" else "") for r in rows],
                               keep=keep[c]))
            cols.append(Column("%", [f"{r[3](c):.1f}" for r in rows], keep=keep[c]))
        lines = text_table(cols, width).split("\n")
        rule = "-" * max(len(line) for line in lines)
        return "\n".join([lines[0], rule] + lines[1:-1] + [rule, lines[-1]])

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"<Rollup by {self.by} of {self.source!r}: {len(self.rows)} rows>"


def rollup(layers, by: str, depth: Optional[int] = None, source: str = "") -> Rollup:
    """Profile.layers (numpy structured rows) -> Rollup by "op_type" or "module" (see Profile.by)."""
    import numpy as np

    if by not in ("op_type", "module"):
        raise ValueError(f"cannot roll up by {by!r}: expected 'op_type' or 'module'")
    if depth is not None and (by != "module" or int(depth) < 1):
        raise ValueError("depth applies to a roll-up by module and must be >= 1" if by == "module"
                         else "depth applies to a roll-up by module only")
    counts = {c: np.where(layers[c] > 0, layers[c], 0).astype(np.int64) for c in ROLLUP_COUNTS}
    totals = {c: int(counts[c].sum()) for c in ROLLUP_COUNTS}
    totals["count"] = len(layers)
    groups: Dict[str, List[int]] = {}
    depth_of: Dict[str, int] = {}
    if by == "op_type":
        for i, op in enumerate(layers["op_type"].tolist()):
            groups.setdefault(op, []).append(i)
            depth_of[op] = 1
    else:
        for i, module in enumerate(layers["module"].tolist()):
            if not module:
                groups.setdefault(NO_MODULE, []).append(i)
                depth_of[NO_MODULE] = 1
                continue
            parts = module.split(".")
            limit = len(parts) if depth is None else min(len(parts), int(depth))
            for k in range(1, limit + 1):   # the node counts in each of its enclosing modules
                key = ".".join(parts[:k])
                groups.setdefault(key, []).append(i)
                depth_of[key] = k
    unknown = layers["macs"] < 0
    rows = []
    for key, idx in groups.items():
        ix = np.asarray(idx, dtype=np.int64)
        row: Dict[str, Any] = {"key": key, "depth": depth_of[key], "count": len(idx)}
        for c in ROLLUP_COUNTS:
            v = int(counts[c][ix].sum())
            row[c] = v
            row[c + "_share"] = 100.0 * v / totals[c] if totals[c] else 0.0
        row["unknown"] = int(unknown[ix].sum())
        rows.append(row)
    if by == "op_type":
        rows.sort(key=lambda r: (-r["macs"], -r["params"], r["key"]))
    else:
        first = {}
        for key, idx in groups.items():
            first[key] = idx[0]
        # Tree order: modules in the order their first node runs, children under their parent.
        def path(key: str):
            parts = key.split(".")
            return [first[".".join(parts[:k])] if ".".join(parts[:k]) in first else 0
                    for k in range(1, len(parts) + 1)]
        rows.sort(key=lambda r: (path(r["key"]) if r["key"] != NO_MODULE else [len(layers) + 1]))
    return Rollup(by, rows, totals, source)
