"""`netscore-fast plot results.csv --kind ball|netscore|density|pareto [--with-zoo] --out fig.png`."""
from __future__ import annotations

import sys

from ..plots import plot


def run(args) -> int:
    plot(args.results, kind=args.kind, with_zoo=args.with_zoo, out=args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
