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

from .._sources import expand_models, is_many, names_of  # noqa: F401  (re-exported for the commands)

def read_accuracy(text: Optional[str], models: Sequence[str] = ()) -> Union[None, float, Dict[str, float]]:
    """--accuracy: None, a number (every model), or a CSV with the columns source,accuracy read into
    {source: accuracy %} (rows with an empty accuracy left out).

    ValueError naming the file when a column is missing, a value is not a number, the values look like
    fractions (all <= 1: give percent), or the CSV names none of `models` (when given)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        _check_percent({text: value}, f"--accuracy {text}")
        return value
    with open(text, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "source" not in reader.fieldnames or "accuracy" not in reader.fieldnames:
            raise ValueError(f"{text}: the accuracy CSV needs the columns source,accuracy (found: "
                             f"{','.join(reader.fieldnames or []) or 'none'})")
        table = {}
        for line, row in enumerate(reader, start=2):
            if row.get("accuracy") in (None, ""):
                continue
            try:
                table[row["source"]] = float(row["accuracy"])
            except ValueError:
                raise ValueError(f"{text}, line {line}: accuracy {row['accuracy']!r} is not a number") from None
    _check_percent(table, text)
    if models and table and not any(accuracy_of(table, m) is not None for m in models):
        raise ValueError(f"{text}: the accuracy CSV names none of the models profiled (its sources: "
                         f"{', '.join(list(table)[:3])}{', ...' if len(table) > 3 else ''}); a row matches a "
                         "model by path, file name or file name without .onnx")
    return table


def _check_percent(values: Mapping[str, float], where: str) -> None:
    """Accuracies are top-1 in percent: values that all look like fractions (<= 1) are refused."""
    if values and all(0 <= v <= 1.0 for v in values.values()) and any(v > 0 for v in values.values()):
        raise ValueError(f"{where}: accuracies look like fractions (all <= 1, e.g. "
                         f"{next(iter(values.values()))}); give top-1 accuracy in percent (76.1, not 0.761)")


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
    return (f"? = unknown ({rows} row{'s' if rows != 1 else ''}): a total with a part of unknown cost "
            "(unknown_cost_nodes), or a failed model")
