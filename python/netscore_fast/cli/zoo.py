"""`netscore-fast zoo [--sort netscore|top1|density] [--wide] [--out table.csv] [--plot DIR]`: the reference table of
the built-in networks."""
from __future__ import annotations

import csv
import sys

from .._units import terminal_width, wrap
from ..zoo import PUBLISHED, TABLE_COLUMNS, format_table, table


def run(args) -> int:
    rows = table(sort=args.sort)
    width = terminal_width(getattr(args, "wide", False))
    print(format_table(rows, width))
    print(wrap("\nparams exclude BatchNorm running statistics; MACs count conv and fully-connected layers; top-1 "
               "is the published single-crop figure (sources: netscore_fast.zoo.info(name)); memory in bytes "
               "of float32 (1 MB = 1e6 B).", terminal_width()))
    if args.out:
        with open(args.out, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=TABLE_COLUMNS + ["top1_source"])
            writer.writeheader()
            for r in rows:
                writer.writerow({**{k: r[k] for k in TABLE_COLUMNS}, "top1_source": PUBLISHED[r["name"]].top1_source})
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        from ..plots import zoo_charts

        for path in zoo_charts(args.plot, rows):
            print(f"wrote {path}", file=sys.stderr)
    return 0
