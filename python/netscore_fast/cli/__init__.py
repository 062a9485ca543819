"""Command line: `netscore-fast profile|rank|nas|bench|zoo|plot` (also `python -m netscore_fast.cli`).

This file parses arguments; each command runs in its own module of this package (cli/<command>.py, imported
only when that command runs), which calls the public API only. Errors print one line to stderr and exit
non-zero.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional


def _shape_arg(text: str):
    """NAME=1,3,224,224 or NAME=1x3x224x224 -> (name, [1, 3, 224, 224])."""
    name, sep, dims = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=D1,D2,... (or NAME=D1xD2x...); got {text!r}")
    try:
        return name, [int(d) for d in dims.replace("x", ",").split(",") if d.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"dims must be integers: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1; got {text!r}")
    return value


def _value_arg(text: str):
    """NAME=16000 or NAME=1,2.5 -> (name, [16000.0]) / (name, [1.0, 2.5])."""
    name, sep, values = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=V or NAME=V1,V2,...; got {text!r}")
    try:
        return name, [float(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"values must be numbers: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netscore-fast",
        description="Profile ONNX networks for edge devices: params, MACs, memory, NetScore, throughput.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"netscore-fast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("profile", help="profile ONNX models (files, directories or globs)")
    p.add_argument("models", nargs="+", metavar="MODEL", help="ONNX file, directory or glob")
    p.add_argument("--accuracy", help="top-1 accuracy in %% (one model) or a CSV with columns source,accuracy")
    p.add_argument("--input-shape", action="append", type=_shape_arg, default=[], metavar="NAME=D1,D2,...",
                   help="shape of a graph input (1,3,224,224 or 1x3x224x224); repeat for several inputs")
    p.add_argument("--input-value", action="append", type=_value_arg, default=[], metavar="NAME=V[,V...]",
                   help="value of a graph input that control flow depends on (e.g. sr=16000); repeatable")
    p.add_argument("--dedupe-weights", action="store_true",
                   help="read the weights: initializers holding the same elements count once, uniform ones not at "
                        "all (one model)")
    p.add_argument("--batch-size", type=_positive, default=None,
                   help="value of a symbolic leading dim of the inputs not named by --input-shape (default 1)")
    p.add_argument("--layers", action="store_true", help="print one row per node")
    p.add_argument("--sort", choices=["macs", "params", "flops", "activation_bytes"],
                   help="with --layers: rows sorted by this count, largest first")
    p.add_argument("--top", type=_positive, default=None, help="with --layers: only the first N rows")
    p.add_argument("--by", choices=["op_type", "module"],
                   help="roll the costs up by op type or by torch module (a tree)")
    p.add_argument("--depth", type=_positive, default=None, help="with --by module: levels of the tree shown")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--out", help="write the results table to .csv, .json or .parquet")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    p.add_argument("--cache", help="SQLite result cache file")
    p.add_argument("--cache-rebuild", action="store_true",
                   help="move an unusable cache file aside (<file>.corrupt-<time>) and start a new one")
    p.add_argument("--device", metavar="MODEL.json",
                   help="a calibrated device model (netscore_fast.device): adds latency_ms or energy_mj")
    p.add_argument("--wide", action="store_true",
                   help="every column in full (the default fits the terminal, at most 100 columns)")
    p.set_defaults(handler="profile")

    r = sub.add_parser("rank", help="rank a results table by a column or metric")
    r.add_argument("results", help="results .csv, .json or .parquet")
    r.add_argument("--by", default="netscore", help="column or metric to rank by (default netscore)")
    r.add_argument("--top", type=int, default=None, help="show only the first N rows")
    r.add_argument("--ascending", action="store_true", help="smallest first")
    r.add_argument("--wide", action="store_true",
                   help="every column in full (the default fits the terminal, at most 100 columns)")
    r.set_defaults(handler="rank")

    n = sub.add_parser("nas", help="profile a whole NAS search space")
    n.add_argument("space", choices=["nasbench201"])
    n.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "ImageNet16-120"])
    n.add_argument("--out", required=True, help="results .csv, .json or .parquet")
    n.add_argument("--threads", type=int, default=None)
    n.add_argument("--cache", help="SQLite result cache file")
    n.add_argument("--cache-rebuild", action="store_true",
                   help="move an unusable cache file aside (<file>.corrupt-<time>) and start a new one")
    n.add_argument("--limit", type=int, default=None, help="only the first N architectures")
    n.add_argument("--device", metavar="MODEL.json",
                   help="a calibrated device model (netscore_fast.device): adds latency_ms or energy_mj")
    n.set_defaults(handler="nas")

    b = sub.add_parser("bench", help="measure op throughput on this machine, or time a model's layers")
    b.add_argument("model", nargs="?", help="ONNX model to time layer by layer (omit for the op table)")
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--quick", action="store_true", help="fewer shapes, shorter timing")
    b.add_argument("--min-time", type=float, default=None, help="seconds of timing per measurement")
    b.add_argument("--cold-cache", action="store_true",
                   help="rotate buffer copies larger than the last-level cache (weights come from DRAM)")
    b.add_argument("--out", help="write results as JSON")
    b.add_argument("--plot", help="write a bar chart (PNG)")
    b.add_argument("--input-shape", action="append", type=_shape_arg, default=[], metavar="NAME=D1,D2,...")
    b.add_argument("--batch-size", type=int, default=1)
    b.add_argument("--wide", action="store_true",
                   help="every column in full (the default fits the terminal, at most 100 columns)")
    b.set_defaults(handler="bench")

    z = sub.add_parser("zoo", help="the reference table of built-in networks (nothing downloaded)")
    z.add_argument("--sort", choices=["netscore", "top1", "density"], default="netscore")
    z.add_argument("--out", help="write the table as CSV")
    z.add_argument("--plot", metavar="DIR", help="write the reference charts into DIR")
    z.add_argument("--wide", action="store_true",
                   help="every column in full (the default fits the terminal, at most 100 columns)")
    z.set_defaults(handler="zoo")

    pl = sub.add_parser("plot", help="chart results (optionally over the zoo)")
    pl.add_argument("results", help="results .csv from `netscore-fast profile --out`")
    pl.add_argument("--kind", choices=["ball", "netscore", "density", "pareto"], default="ball")
    pl.add_argument("--with-zoo", action="store_true", help="overlay the built-in reference networks")
    pl.add_argument("--x", choices=["macs", "latency_ms"], default="macs",
                    help="ball chart x axis: MACs, or the latency predicted by `profile --device` (latency_ms)")
    pl.add_argument("--out", required=True, help="output image (PNG, SVG or PDF)")
    pl.set_defaults(handler="plot")
    importlib.import_module(".device", __name__).add_parser(sub)
    importlib.import_module(".report", __name__).add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from .._core import ModelError
    try:
        command = importlib.import_module(f".{args.handler}", __name__)
        return int(command.run(args) or 0)
    except BrokenPipeError:
        # The reader went away (`netscore-fast zoo | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ModelError as e:
        print(f"netscore-fast: error: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, ImportError) as e:
        print(f"netscore-fast: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netscore-fast: interrupted", file=sys.stderr)
        return 130

