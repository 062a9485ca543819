"""`netscore-fast nas nasbench201 --out FILE [--dataset D] [--threads N] [--cache DB [--cache-rebuild]] [--limit N]
[--device MODEL.json]`."""
from __future__ import annotations

import sys
import time

from ..bulk import profile_many
from ..nas import CacheKey, nasbench201_models

_SPACE_SIZE = 15625   # NAS-Bench-201 architectures


def run(args) -> int:
    start = time.perf_counter()
    table = profile_many(nasbench201_models(args.dataset, limit=args.limit), threads=args.threads,
                         cache=args.cache, total=min(args.limit, _SPACE_SIZE) if args.limit else _SPACE_SIZE,
                         cache_key=CacheKey(args.dataset), cache_rebuild=args.cache_rebuild, device=args.device)
    table.write(args.out)
    elapsed = time.perf_counter() - start
    bad = int((table["error"] != "").sum())
    print(f"profiled {len(table)} NAS-Bench-201 networks ({args.dataset}) in {elapsed:.2f} s "
          f"({len(table) / max(elapsed, 1e-9):.0f} models/s); {bad} errors; wrote {args.out}", file=sys.stderr)
    return 1 if bad else 0
