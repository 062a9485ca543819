"""What several commands share: the model list from files, directories and globs, the --accuracy
argument (one reader of the accuracy CSV), the one printer of result rows (table, JSON or CSV) and the
footnote of a printed table with unknown counts."""
from __future__ import annotations

import csv
import json
import math
import os
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .._sources import names_of

_GLOB_CHARS = set("*?[")


def is_many(pattern: str) -> bool:
    """True when a MODEL argument names several models: a directory or a glob that is not a file."""
    return os.path.isdir(pattern) or (not os.path.exists(pattern) and bool(_GLOB_CHARS & set(pattern)))


def expand_models(models: Sequence[str]) -> List[str]:
    """MODEL arguments -> paths: a directory's *.onnx files (sorted), a glob's matches (sorted), a path."""
    import glob
    paths: List[str] = []
    for m in models:
        if os.path.isdir(m):
            names = (os.path.join(m, f) for f in os.listdir(m) if f.endswith(".onnx"))
            paths += sorted(p for p in names if os.path.isfile(p))   # regular files only: a FIFO would block
        elif not os.path.exists(m) and _GLOB_CHARS & set(m):
            found = sorted(p for p in glob.glob(m, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"no file matches {m!r}")
            paths += found
        else:
            paths.append(m)
    return paths


def read_accuracy(text: Optional[str]) -> Union[None, float, Dict[str, float]]:
    """--accuracy: None, a number (every model), or a CSV with the columns source,accuracy read into
    {source: accuracy %} (rows with an empty accuracy left out). ValueError when a column is missing."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    with open(text, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "source" not in reader.fieldnames or "accuracy" not in reader.fieldnames:
            raise ValueError(f"{text}: the accuracy CSV needs the columns source,accuracy")
        return {row["source"]: float(row["accuracy"]) for row in reader if row.get("accuracy") not in (None, "")}


def accuracy_of(accuracy: Union[None, float, Mapping[str, float]], path: str) -> Optional[float]:
    """The accuracy of one model from read_accuracy's result: the number, or the CSV's row for its path,
    file name or file name without .onnx (the rule profile_many applies to a mapping)."""
    if accuracy is None or isinstance(accuracy, float):
        return accuracy
    for key in names_of(path):
        if key in accuracy:
            return accuracy[key]
    return None


def _plain(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def print_rows(rows: List[Dict[str, Any]], fmt: str, text: Optional[str] = None) -> None:
    """Result rows (dicts with the same keys) to stdout: JSON (NaN as null), CSV (NaN and None as empty
    cells) or, for fmt "table", `text` (the caller's formatted table)."""
    if fmt == "json":
        print(json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], indent=2))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(list(rows[0]) if rows else [])
        for row in rows:
            w.writerow(["" if _plain(v) is None else v for v in row.values()])
    else:
        print(text)


def unknown_note(table, columns: Optional[Sequence[str]] = None) -> str:
    """The footnote of a printed ProfileTable whose shown counts (all columns when None) hold unknown values
    ("?" in ProfileTable.format), or "" when none does."""
    import numpy as np

    from ..table import COUNT_COLUMNS

    shown = [table[c] for c in (columns or table.columns) if c in COUNT_COLUMNS]
    rows = int(np.isnan(np.stack(shown)).any(axis=0).sum()) if shown and len(table) else 0
    if not rows:
        return ""
    return (f"? = unknown ({rows} row{'s' if rows != 1 else ''}): a total with a part of unknown cost (see "
            "unknown_cost_nodes), or a model that failed")
