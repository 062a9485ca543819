"""`netscore-fast plot results.csv --kind ball|netscore|density|pareto [--with-zoo] [--x latency_ms] --out fig.png`."""
from __future__ import annotations

import sys

from ..plots import plot


def run(args) -> int:
    plot(args.results, kind=args.kind, with_zoo=args.with_zoo, out=args.out, x=args.x)
    left_out = _not_drawn(args.results)
    if left_out:
        print(f"netscore-fast: note: {left_out} model{'s' if left_out != 1 else ''} not drawn (failed, or "
              "accuracy, params or MACs unknown)", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _not_drawn(results) -> int:
    """Rows of a results file that no chart can place: failed, or a needed value unknown (NaN)."""
    from ..table import ProfileTable

    try:
        table = ProfileTable.read(results)
    except (OSError, ValueError, ImportError):
        return 0
    import numpy as np

    unknown = ~table.ok
    for column in ("accuracy", "params", "macs"):
        unknown |= np.isnan(table[column])
    return int(unknown.sum())
