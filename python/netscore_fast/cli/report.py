"""`netscore-fast report MODEL... --out report.html [--accuracy N|CSV] [--input-shape NAME=DIMS] [--batch-size N]
[--title TEXT] [--no-charts]`: one self-contained HTML page (netscore_fast.report)."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    """Register the `report` command on the CLI's subparsers (its arguments live with the command)."""
    from . import _shape_arg, _value_arg

    r = sub.add_parser("report", help="write a self-contained HTML report of one or several models")
    r.add_argument("models", nargs="+", metavar="MODEL", help="ONNX file, directory or glob")
    r.add_argument("--out", required=True, help="the HTML file to write")
    r.add_argument("--accuracy", help="top-1 accuracy in %% (every model) or a CSV with columns source,accuracy")
    r.add_argument("--input-shape", action="append", type=_shape_arg, default=[], metavar="NAME=D1,D2,...",
                   help="shape of a graph input (1,3,224,224 or 1x3x224x224); repeat for several inputs")
    r.add_argument("--input-value", action="append", type=_value_arg, default=[], metavar="NAME=V[,V...]",
                   help="value of a graph input that control flow depends on; repeatable")
    r.add_argument("--batch-size", type=int, default=None,
                   help="value of a symbolic leading dim of the inputs not named by --input-shape (default 1)")
    r.add_argument("--title", help="page title (default: the model names)")
    r.add_argument("--no-charts", action="store_true", help="tables only (charts need matplotlib)")
    r.set_defaults(handler="report")


def run(args) -> int:
    from ..report import write_html
    from ._common import accuracy_of, expand_models, read_accuracy
    from .profile import _batch_size

    paths = expand_models(args.models)
    if not paths:
        raise FileNotFoundError("no ONNX models found in " + ", ".join(args.models))
    accuracy = read_accuracy(args.accuracy, paths)
    write_html(paths, args.out, accuracy=[accuracy_of(accuracy, p) for p in paths],
               input_shapes=list(args.input_shape or []), batch_size=_batch_size(args),
               input_values=list(args.input_value or []), title=args.title, charts=not args.no_charts)
    print(f"wrote {args.out} ({len(paths)} model{'s' if len(paths) != 1 else ''})", file=sys.stderr)
    return 0
