"""`netscore-fast bench [MODEL] [--threads N] [--quick] [--min-time S] [--wide] [--out F.json] [--plot F.png]`:
the op throughput table of this machine, or one model timed layer by layer."""
from __future__ import annotations

from .._units import Column, terminal_width, text_table, wrap
from ..bench import MEASURED, format_time, machine_line, measure, plot, suite


def run(args) -> int:
    threads = max(1, int(args.threads or 1))
    width = terminal_width(getattr(args, "wide", False))
    prose = terminal_width()   # sentences wrap at the terminal even in the wide view
    if args.plot:  # fail before timing anything when the chart cannot be drawn
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ImportError("--plot needs matplotlib: pip install 'netscore-fast[plot]'") from None
    if args.model:
        mt = args.min_time if args.min_time is not None else (0.02 if args.quick else 0.1)
        table = measure(args.model, threads=threads, min_time=mt, input_shapes=args.input_shape or None,
                        batch_size=args.batch_size, cold_cache=args.cold_cache)
        print(machine_line(table.machine, prose))
        print(table.format(width=width))
        print()
        n_measured = int(sum(1 for s in table["status"] if s == MEASURED))
        n_timed = int(table["timed"].sum())
        lines = [f"model total: {format_time(table.total_s)} per inference, sum of per-layer medians ({threads} "
                 f"thread(s); {n_measured} nodes measured, {n_timed} distinct configurations timed)"]
        if table.sequence_s is not None:
            lines.append(f"back to back: {format_time(table.sequence_s)} (IQR {format_time(table.sequence_iqr_s)}) "
                         "running every measured layer in model order with its own weights")
        if table.unmeasured:
            lines.append(f"unmeasured (no kernel, not in the total): {', '.join(table.unmeasured[:12])}"
                         + (" ..." if len(table.unmeasured) > 12 else ""))
        lines.append("slowest layers:")
        print(wrap("\n".join(lines), prose))
        total = table.total_s or 1.0
        slow = table.slowest(5)
        cols = [Column("", ["" for _ in slow], "l"),
                Column("name", [r["name"] for r in slow], "l", shrink=24),
                Column("op_type", [r["op_type"] for r in slow], "l", keep=1),
                Column("median", [format_time(r["median_s"]) for r in slow]),
                Column("share", [f"{100 * r['median_s'] / total:.1f} %" for r in slow])]
        print(text_table(cols, width).split("\n", 1)[1] if slow else "")
    else:
        table = suite(threads=threads, quick=args.quick, min_time=args.min_time, cold_cache=args.cold_cache,
                      progress=None)
        print(machine_line(table.machine, prose))
        print(table.format(width=width))
        print(wrap(f"efficiency = GFLOP/s / (peak per core x threads); {table.machine.get('peak_assumption', '')}",
                   prose))
    if args.out:
        table.to_json(args.out)
        print(f"wrote {args.out}")
    if args.plot:
        plot(table, args.plot)
        print(f"wrote {args.plot}")
    return 0
