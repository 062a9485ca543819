"""`netscore-fast rank RESULTS --by COLUMN [--top N] [--ascending] [--wide]`: print a results table ranked."""
from __future__ import annotations

import sys

import numpy as np

from ..metrics import METRICS
from ..table import ProfileTable
from .._units import terminal_width, wrap
from ._common import unknown_note


_OWN_NAMES = {"source": "name", "accuracy": "top1", "macs": "gmacs", "peak_activation_bytes": "peak_activation_mb"}


def _empty(column) -> bool:
    return bool((column == "").all()) if column.dtype == object else bool(np.isnan(column.astype(np.float64)).all())


def run(args) -> int:
    table = ProfileTable.read(args.results)
    if args.by not in table.columns and args.by not in METRICS:
        raise ValueError(f"cannot rank by {args.by!r}: not a column ({', '.join(table.columns)}) "
                         f"nor a metric ({', '.join(sorted(METRICS))})")
    values = table[args.by]
    if values.dtype != object and len(table) and np.isnan(values.astype(np.float64)).all():
        print(f"netscore-fast: warning: {args.by} is empty in every row"
              + (" (no accuracy: profile with --accuracy FILE.csv)" if args.by in METRICS else ""),
              file=sys.stderr)
    ranked = table.sort_by(args.by, descending=not args.ascending)
    if args.top is not None:
        ranked = ranked[:args.top]
    names = ["source", args.by] + [c for c in ("accuracy", "params", "macs", "peak_activation_bytes")
                                   if c != args.by]
    # a table of another shape (the CSV of `netscore-fast zoo --out`: name, top1, gmacs, ...) shows its own
    # column in place of an empty standard one
    names = [_OWN_NAMES[c] if c in _OWN_NAMES and _OWN_NAMES[c] in table.columns and _empty(ranked[c]) else c
             for c in names]
    names = list(dict.fromkeys(names))   # once each (ranking by top1 already shows it)
    if (~ranked.ok).any():
        names.append("error")
    rank_col = [str(i + 1) for i in range(len(ranked))]
    rank_width = max(len("rank"), *(len(r) for r in rank_col)) if rank_col else 4
    width = terminal_width(getattr(args, "wide", False))
    lines = ranked.format(columns=names, max_rows=len(ranked), units=True,
                          width=None if width is None else width - rank_width - 2).split("\n")
    out = ["rank".ljust(rank_width) + "  " + lines[0]]
    out += [r.rjust(rank_width) + "  " + line for r, line in zip(rank_col, lines[1:])]
    note = unknown_note(ranked, names)
    if note:
        out.append(wrap(note + "; such rows rank last", width))
    print("\n".join(out))
    return 0
