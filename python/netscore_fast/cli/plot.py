"""`netscore-fast plot results.csv --kind ball|netscore|density|pareto [--with-zoo] [--x latency_ms] --out fig.png`."""
from __future__ import annotations

import sys
import warnings

from ..plots import NotDrawnWarning, plot


def run(args) -> int:
    with warnings.catch_warnings():   # the CLI says it once, below, with the reasons
        warnings.simplefilter("ignore", NotDrawnWarning)
        fig = plot(args.results, kind=args.kind, with_zoo=args.with_zoo, out=args.out, x=args.x)
    left_out = getattr(fig, "not_drawn", [])
    if left_out:
        n = len(left_out)
        reasons = sorted({reason for _, reason in left_out})
        print(f"netscore-fast: note: {n} model{'s' if n != 1 else ''} not drawn ({'; '.join(reasons)}): "
              + ", ".join(label for label, _ in left_out[:8]) + (" ..." if n > 8 else ""), file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
