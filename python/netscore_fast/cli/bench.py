"""`netscore-fast bench [MODEL] [--threads N] [--quick] [--min-time S] [--out F.json] [--plot F.png]`: the op
throughput table of this machine, or one model timed layer by layer."""
from __future__ import annotations

from ..bench import MEASURED, format_time, machine_line, measure, plot, suite


def run(args) -> int:
    threads = max(1, int(args.threads or 1))
    if args.plot:  # fail before timing anything when the chart cannot be drawn
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ImportError("--plot needs matplotlib: pip install 'netscore-fast[plot]'") from None
    if args.model:
        mt = args.min_time if args.min_time is not None else (0.02 if args.quick else 0.1)
        table = measure(args.model, threads=threads, min_time=mt, input_shapes=args.input_shape or None,
                        batch_size=args.batch_size, cold_cache=args.cold_cache)
        print(machine_line(table.machine))
        print(table.format())
        print()
        n_measured = int(sum(1 for s in table["status"] if s == MEASURED))
        n_timed = int(table["timed"].sum())
        print(f"model total: {format_time(table.total_s)} per inference, sum of per-layer medians ({threads} "
              f"thread(s); {n_measured} nodes measured, {n_timed} distinct configurations timed)")
        if table.sequence_s is not None:
            print(f"back to back: {format_time(table.sequence_s)} (IQR {format_time(table.sequence_iqr_s)}) running "
                  f"every measured layer in model order with its own weights")
        if table.unmeasured:
            print(f"unmeasured (no kernel, not in the total): {', '.join(table.unmeasured[:12])}"
                  + (" ..." if len(table.unmeasured) > 12 else ""))
        print("slowest layers:")
        total = table.total_s or 1.0
        for r in table.slowest(5):
            print(f"  {r['name'][:48]:48s} {r['op_type']:18s} {format_time(r['median_s']):>11s} "
                  f"{100 * r['median_s'] / total:5.1f} %")
    else:
        table = suite(threads=threads, quick=args.quick, min_time=args.min_time, cold_cache=args.cold_cache,
                      progress=True)
        print(machine_line(table.machine))
        print(table.format())
        print(f"efficiency = GFLOP/s / (peak per core x threads); {table.machine.get('peak_assumption', '')}")
    if args.out:
        table.to_json(args.out)
        print(f"wrote {args.out}")
    if args.plot:
        plot(table, args.plot)
        print(f"wrote {args.plot}")
    return 0
