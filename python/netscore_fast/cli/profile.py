"""`netscore-fast profile MODEL... [--accuracy N|CSV] [--layers] [--format F] [--out FILE] [--threads N]
[--cache DB [--cache-rebuild]] [--device MODEL.json]`: one model's report, or a results table of many (profile_many)."""
from __future__ import annotations

import sys
import time

from ._common import accuracy_of, expand_models, is_many, print_rows, read_accuracy, unknown_note


def run(args) -> int:
    if len(args.models) > 1 or args.out or args.threads is not None or args.cache or args.device or \
            is_many(args.models[0]):
        return _many(args)
    from ..profile import profile

    path = args.models[0]
    result = profile(path, accuracy=accuracy_of(read_accuracy(args.accuracy), path),
                     input_shapes=list(args.input_shape or []), batch_size=args.batch_size)
    if args.format == "json":
        import json
        print(json.dumps(result.to_dict(layers=args.layers), indent=2))
    elif args.format == "csv":
        print_rows(result.to_dict(layers=True)["layers"] if args.layers else [result.totals()], "csv")
    else:
        print(result.summary(layers=args.layers))
    return 0


def _many(args) -> int:
    from ..bulk import profile_many

    paths = expand_models(args.models)
    if not paths:
        raise FileNotFoundError("no ONNX models found in " + ", ".join(args.models))
    accuracy = read_accuracy(args.accuracy)
    start = time.perf_counter()
    table = profile_many(paths, accuracy=[accuracy] * len(paths) if isinstance(accuracy, float) else accuracy,
                         input_shapes=list(args.input_shape or []), batch_size=args.batch_size,
                         threads=args.threads, cache=args.cache,
                         cache_rebuild=args.cache_rebuild, device=args.device)
    elapsed = time.perf_counter() - start
    bad = ~table.ok
    for msg in table["error"][bad][:20]:
        print(f"netscore-fast: error: {msg}", file=sys.stderr)
    if args.out:
        table.write(args.out)
        print(f"profiled {len(table)} models in {elapsed:.2f} s ({int(bad.sum())} errors); wrote {args.out}",
              file=sys.stderr)
    else:
        rows = list(table.rows()) if args.format != "table" else []
        text = None
        if args.format == "table":
            note = unknown_note(table)
            text = table.format(max_rows=len(table)) + ("\n" + note if note else "")
        print_rows(rows, args.format, text)
    return 1 if bad.any() else 0
