"""`netscore-fast profile MODEL... [--accuracy N|CSV] [--input-value NAME=V] [--layers [--sort KEY] [--top N]] [--by op_type|module
[--depth N]] [--format F] [--wide] [--out FILE] [--threads N] [--cache DB [--cache-rebuild]] [--device MODEL.json]`: one model's report,
or a results table of many (profile_many).

JSON (`--format json` and `--out x.json`) is one schema: a list with one object per model whose keys are
the results table's columns (netscore_fast.table.ProfileTable); one model with --layers adds "layers".
"""
from __future__ import annotations

import sys
import time

from .._units import fit_name, terminal_width, wrap
from ._common import accuracy_of, expand_models, is_many, print_rows, read_accuracy, unknown_note


def _batch_size(args) -> int:
    """--batch-size applies to the inputs not named by --input-shape; a named input whose leading dim
    differs from it is refused rather than the batch size dropped."""
    if args.batch_size is None:
        return 1
    for name, dims in args.input_shape or []:
        if dims and dims[0] != args.batch_size:
            raise ValueError(f"--batch-size {args.batch_size} disagrees with --input-shape {name}="
                             f"{','.join(map(str, dims))} (leading dim {dims[0]}); --batch-size applies to the "
                             f"inputs not named by --input-shape: give {name}={args.batch_size},"
                             f"{','.join(map(str, dims[1:]))} or drop --batch-size")
    return args.batch_size


def _title(source: str, tail: str, width) -> str:
    """"Profile of SOURCE<tail>" with the source cut (in its folder first) to fit `width` (None: as is)."""
    if width is None:
        return f"Profile of {source}{tail}"
    return f"Profile of {fit_name(source, max(16, width - len('Profile of ') - len(tail)), 'path')}{tail}"


def run(args) -> int:
    if (args.sort or args.top) and not args.layers:
        raise ValueError("--sort and --top apply to the per-layer table: add --layers")
    if args.depth is not None and args.by != "module":
        raise ValueError("--depth applies to --by module")
    batch = _batch_size(args)
    if len(args.models) > 1 or args.out or args.threads is not None or args.cache or args.device or \
            is_many(args.models[0]):
        if args.by or args.layers:
            raise ValueError("--by and --layers report one model; give one MODEL (without --out)")
        if getattr(args, "dedupe_weights", False):
            raise ValueError("--dedupe-weights reports one model; give one MODEL (without --out)")
        return _many(args, batch)
    from ..profile import profile
    from ..table import COLUMNS, ProfileTable

    path = args.models[0]
    result = profile(path, accuracy=accuracy_of(read_accuracy(args.accuracy, [path]), path),
                     input_shapes=list(args.input_shape or []), batch_size=batch,
                     input_values=list(getattr(args, "input_value", None) or []),
                     dedupe_weights=bool(getattr(args, "dedupe_weights", False)))
    if args.by:
        rollup = result.by(args.by, args.depth)
        if args.format == "table":
            width = terminal_width(getattr(args, "wide", False))
            print(f"{_title(result.source, f' by {args.by}', width)}\n{rollup.format(width)}")
        else:
            print_rows(rollup.rows, args.format)
    elif args.format == "json":
        row = {k: v for k, v in ProfileTable.from_rows([result.totals()]).rows()[0].items() if k in COLUMNS}
        if args.layers:
            row["layers"] = result.to_dict(layers=True)["layers"]
        print_rows([row], "json")
    elif args.format == "csv":
        print_rows(result.to_dict(layers=True)["layers"] if args.layers else [result.totals()], "csv")
    else:
        width = terminal_width(getattr(args, "wide", False))
        text = result.summary(layers=args.layers, sort=args.sort, top=args.top)
        if width is not None:   # a long model name in the title is cut, long prose lines wrapped
            title, _, rest = text.partition("\n")
            title = _title(result.source, title[len(f"Profile of {result.source}"):], width)
            text = wrap(title + "\n" + rest, width) if not args.layers else title + "\n" + rest
        print(text)
    return 0


def _many(args, batch: int) -> int:
    from ..bulk import profile_many

    paths = expand_models(args.models)
    if not paths:
        raise FileNotFoundError("no ONNX models found in " + ", ".join(args.models))
    accuracy = read_accuracy(args.accuracy, paths)
    start = time.perf_counter()
    table = profile_many(paths, accuracy=[accuracy] * len(paths) if isinstance(accuracy, float) else accuracy,
                         input_shapes=list(args.input_shape or []), batch_size=batch,
                         input_values=list(getattr(args, "input_value", None) or []),
                         threads=args.threads, cache=args.cache,
                         cache_rebuild=args.cache_rebuild, device=args.device)
    elapsed = time.perf_counter() - start
    bad = ~table.ok
    for msg in table["error"][bad][:20]:
        print(f"netscore-fast: error: {msg}", file=sys.stderr)
    if args.out:
        table.write(args.out)
        n, errors = len(table), int(bad.sum())
        print(f"profiled {n} model{'s' if n != 1 else ''} in {elapsed:.2f} s ({errors} "
              f"error{'s' if errors != 1 else ''}); wrote {args.out}", file=sys.stderr)
    else:
        rows = list(table.rows()) if args.format != "table" else []
        text = None
        if args.format == "table":
            note = unknown_note(table)
            width = terminal_width(getattr(args, "wide", False))
            text = table.format(max_rows=len(table), width=width, units=True) + ("\n" + wrap(note, width) if note else "")
        print_rows(rows, args.format, text)
    return 1 if bad.any() else 0
