"""Write every number netscore_fast reports for a fixed set of models, in a canonical text form, so two
builds can be compared byte for byte (a refactoring must not change one digit).

    python scripts/snapshot_outputs.py before.txt            # with the old build importable
    python scripts/snapshot_outputs.py after.txt             # with the new one
    cmp before.txt after.txt

The set: the 53 zoo networks (totals and per-layer rows, profile()), the onnx package's light models
(onnx/backend/test/data/light), the fixture exports of torch models in tests/fixtures/exports, and the
first 2,000 NAS-Bench-201 networks (totals by profile_many, per-layer rows by profile for every 20th),
and the timing plan of bench.measure for five zoo networks (kernel, status, shape and note per node).
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys

import netscore_fast as nf
from netscore_fast import nas, zoo


def _plain(value):
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if hasattr(value, "item"):
        return value.item()
    return value


def _profile_lines(label: str, source) -> list:
    try:
        p = nf.profile(source)
    except nf.ModelError as exc:
        return [f"{label}\terror\t{exc}"]
    d = p.to_dict(layers=True)
    rows = d.pop("layers")
    d["source"] = os.path.basename(str(d.get("source", "")))   # the same file in two checkouts
    lines = [f"{label}\ttotals\t{json.dumps({k: _plain(v) for k, v in d.items()}, sort_keys=True)}"]
    for row in rows:
        lines.append(f"{label}\tlayer\t{json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True)}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--nas", type=int, default=2000, help="NAS-Bench-201 networks (default 2000)")
    args = parser.parse_args(argv)
    lines = []
    for name in zoo.names():
        lines += _profile_lines(f"zoo:{name}", zoo.build(name))
    import onnx
    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    for path in sorted(glob.glob(os.path.join(light, "*.onnx"))):
        lines += _profile_lines(f"light:{os.path.basename(path)}", path)
    # the checkout of the build under test (python/netscore_fast -> the repository root)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(nf.__file__))))
    for path in sorted(glob.glob(os.path.join(root, "tests", "fixtures", "exports", "*.onnx"))):
        lines += _profile_lines(f"export:{os.path.basename(path)}", path)
    # The timing plan of bench.measure (what each node is timed as), not the times themselves.
    from netscore_fast import bench
    for name in ("resnet18", "mobilenet_v2_1.0", "squeezenet1_1", "shufflenet_v2_x1_0", "densenet121"):
        table = bench.measure(zoo.build(name), min_time=0.0, sequence=False)
        for row in table:
            plan = {k: _plain(row.get(k)) for k in ("name", "op_type", "kernel", "status", "shape", "note",
                                                     "config_id")}
            lines.append(f"plan:{name}\tlayer\t{json.dumps(plan, sort_keys=True, default=str)}")
    models = list(nas.nasbench201_models(limit=args.nas))
    table = nf.profile_many([(arch, bytes(parts)) for arch, parts in models], threads=2)
    d = table.to_dict() if hasattr(table, "to_dict") else None
    columns = list(table.columns) if hasattr(table, "columns") else sorted(d)
    for i, (arch, parts) in enumerate(models):
        row = {c: _plain(table[c][i]) for c in columns}
        lines.append(f"nas:{arch}\tbulk\t{json.dumps(row, sort_keys=True, default=str)}")
        if i % 20 == 0:
            lines += _profile_lines(f"nas:{arch}", bytes(parts))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} lines written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
