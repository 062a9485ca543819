"""`netscore-fast zoo [--sort netscore|top1|density] [--out table.csv] [--plot DIR]`: the reference table of
the built-in networks."""
from __future__ import annotations

import csv
import sys

from ..zoo import PUBLISHED, TABLE_COLUMNS, format_table, table


def run(args) -> int:
    rows = table(sort=args.sort)
    print(format_table(rows))
    print("\nparams exclude BatchNorm running statistics; MACs count conv and fully-connected layers; top-1 is "
          "the published single-crop figure (sources: netscore_fast.zoo.info(name)).")
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
