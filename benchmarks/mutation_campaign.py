"""Mutation campaign: N seeded mutants of real models (fuzz/mutate.py) through profile() and
profile_many(errors="record"), each in a worker child with a time and a memory limit.

Prints outcome counts per mutation kind, the most frequent failure messages, the slowest models and the
reproducer of every failure; writes results.jsonl, summary.txt and the failing mutants' bytes to --out.
Issue 11's bar: 20,000 mutants, 0 exceptions other than ModelError, 0 crashes, 0 hangs at 5 s, 0 over 4 GB.

    python benchmarks/mutation_campaign.py                 # 20,000 mutants
    python benchmarks/mutation_campaign.py -n 2000 --seed 3 --out build/campaign
Exit status 1 when any mutant crashed, hung, ran out of memory, raised anything but ModelError or
disagreed between profile and profile_many.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "fuzz"))
import mutate  # noqa: E402

FAILURES = ("crash", "hang", "memory", "exception", "mismatch")


def _message_class(r: mutate.Result) -> str:
    """A failure's message without the file path and numbers, to group equal causes."""
    import re
    d = r.detail.split(": ", 1)[0] if r.outcome == "exception" else r.detail
    d = re.sub(r"/\S+", "PATH", d)
    return re.sub(r"\d+", "N", d)[:110]


def summarize(results, elapsed: float, args) -> str:
    lines = [f"mutation campaign: {len(results)} mutants, base seed {args.seed}, {args.time_limit:g} s per step, "
             f"{args.memory_gb:g} GB address space, {args.threads} thread(s); {elapsed:.0f} s "
             f"({len(results) / max(elapsed, 1e-9):.1f} mutants/s)", "", mutate.format_counts(results), ""]
    failed = [r for r in results if r.outcome in FAILURES]
    if failed:
        groups = collections.Counter((r.outcome, r.spec.kind, _message_class(r)) for r in failed)
        lines.append("failures by cause (outcome, kind, message):")
        for (outcome, kind, msg), n in groups.most_common(25):
            lines.append(f"  {n:6d}  {outcome:<9} {kind:<14} {msg}")
        lines.append("")
        lines.append("reproducers (first 3 per outcome and kind):")
        shown = collections.Counter()
        for r in failed:
            key = (r.outcome, r.spec.kind)
            if shown[key] < 3:
                shown[key] += 1
                lines.append(f"  [{r.outcome}] {r.detail[:100]}  ({r.note[:60]})\n      {r.spec.repro}")
        lines.append("")
    lines.append("slowest mutants (both steps):")
    for r in sorted(results, key=lambda r: -r.seconds)[:10]:
        lines.append(f"  {r.seconds:7.2f} s  {r.outcome:<11} {r.spec.kind:<14} {r.spec.seed_model:<32} "
                     f"seed {r.spec.seed}  {r.note[:50]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20000, help="number of mutants (default 20,000)")
    ap.add_argument("--seed", type=int, default=0, help="base seed of the mutant plan")
    ap.add_argument("--out", default=str(REPO / "build" / "mutation-campaign"), help="folder for results")
    ap.add_argument("--time-limit", type=float, default=mutate.TIME_LIMIT, help="seconds per step")
    ap.add_argument("--memory-gb", type=float, default=mutate.MEMORY_LIMIT / (1 << 30), help="RLIMIT_AS of workers")
    ap.add_argument("--threads", type=int, default=1, help="profile_many threads")
    ap.add_argument("--kinds", default="", help="comma-separated mutation kinds (default all: "
                    + ",".join(mutate.KINDS) + ")")
    ap.add_argument("--max-seed-bytes", type=int, default=1 << 20, help="largest seed model")
    args = ap.parse_args(argv)

    out = Path(args.out)
    repro_dir = out / "reproducers"
    repro_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    seeds = mutate.load_seeds(max_bytes=args.max_seed_bytes)
    by_name = mutate.seed_map(seeds)
    kinds = [k for k in args.kinds.split(",") if k] or None
    specs = mutate.plan(args.n, seeds, args.seed, kinds)
    print(f"{len(seeds)} seed models, {len(specs)} mutants", file=sys.stderr)

    jsonl = open(out / "results.jsonl", "w")
    done = collections.Counter()

    def on_result(r: mutate.Result) -> None:
        jsonl.write(json.dumps(r.as_dict()) + "\n")
        done[r.outcome] += 1
        if r.outcome in FAILURES:
            m = mutate.make_mutant(r.spec, by_name)
            name = f"{r.outcome}-{r.spec.kind}-{r.spec.index:06d}"
            if m.special:
                (repro_dir / f"{name}.txt").write_text(f"{m.note}\n{r.spec.repro}\n")
            else:
                (repro_dir / f"{name}.onnx").write_bytes(m.data)
        n = sum(done.values())
        if n % 500 == 0:
            jsonl.flush()
            rate = n / (time.perf_counter() - t0)
            print(f"  {n}/{len(specs)}  {dict(done)}  {rate:.1f}/s", file=sys.stderr)

    results = mutate.run(specs, by_name, time_limit=args.time_limit, memory_limit=int(args.memory_gb * (1 << 30)),
                         threads=args.threads, on_result=on_result)
    jsonl.close()
    text = summarize(results, time.perf_counter() - t0, args)
    (out / "summary.txt").write_text(text + "\n")
    print(text)
    print(f"\nresults: {out / 'results.jsonl'}; failing mutants: {repro_dir}")
    return 1 if any(r.outcome in FAILURES for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
