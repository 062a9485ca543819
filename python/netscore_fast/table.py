"""ProfileTable: columnar results of many models (one numpy array per column), metrics, Pareto fronts, I/O.

Columns (in order):
  source (str), params, macs, flops, weight_bytes, activation_bytes, peak_activation_bytes, bn_stat_params,
  unsupported, unknown_cost_nodes (the counts: float64 holding whole numbers, NaN when unknown),
  accuracy (float, % top-1; NaN when unknown), netscore, information_density (float; NaN without accuracy,
  with an unknown input or on error), error (str; "" when the model was profiled).
Counts are in the units of `profile()`: params and MACs/FLOPs as counts, memory in bytes; `unsupported` is
the number of nodes whose op type the analysis does not know, `unknown_cost_nodes` the number of nodes
whose cost could not be determined (the unsupported ones included).

Unknown is NaN, never a number (docs/counting.md, "Unknown values in tables"): every count of a failed
model, and the totals in profile.UNKNOWN_COST_LEAVES_OPEN (MACs, FLOPs, activation and peak activation
bytes) of a model with a node of unknown cost. The counts are float64 so that NaN can say so: whole numbers
up to 2^53 (9.0e15) are exact in float64. NaN is an empty cell in CSV, null in JSON and Parquet, and NA in
pandas (`to_pandas()` gives nullable Int64 columns); sorting puts it last and `pareto()` leaves its rows out.
"""
from __future__ import annotations

import csv
import json
import math
import os
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core
from . import metrics as _metrics
from .profile import UNKNOWN_COST_LEAVES_OPEN

COUNT_COLUMNS = tuple(_core.TOTALS_COLUMNS)   # the per-model totals, defined once in the C++ core
INT_COLUMNS = COUNT_COLUMNS                   # (their earlier name, from when they were int64 with -1)
FLOAT_COLUMNS = ("accuracy", "netscore", "information_density")
COLUMNS = ("source",) + COUNT_COLUMNS + FLOAT_COLUMNS + ("error",)
# names in Profile.totals() of the counts a table calls otherwise
_TOTALS_ALIASES = {"num_unsupported_nodes": "unsupported", "num_unknown_cost_nodes": "unknown_cost_nodes"}

# Text view (ProfileTable.format with units=True): short headers, and the order columns are kept in when the
# table must fit a width (first = kept longest; a metric not listed ranks after macs).
TEXT_HEADERS = {"macs": "MACs", "flops": "FLOPs", "weight_bytes": "weights", "activation_bytes": "activations",
                "peak_activation_bytes": "peak act", "bn_stat_params": "BN stats", "unknown_cost_nodes": "unknown",
                "accuracy": "top-1 %", "netscore": "NetScore", "information_density": "density"}
TEXT_KEEP = ("params", "macs", "accuracy", "netscore", "peak_activation_bytes", "weight_bytes", "flops",
             "information_density", "activation_bytes", "unknown_cost_nodes", "unsupported", "bn_stat_params")

_PANDAS_HINT = "pip install 'netscore-fast[pandas]'"


def _text_array(values: Iterable[Any]) -> np.ndarray:
    vals = list(values)
    arr = np.empty(len(vals), dtype=object)
    arr[:] = ["" if v is None else str(v) for v in vals]
    return arr


class ProfileTable:
    """Results of many models, one numpy array per column (see the module docstring for the columns).

    Access: `len(t)`, `t["macs"]` (a column; a registered metric name computes it on the fly), `t.columns`,
    `t[i]` (one row as a dict; counts as int, NaN when unknown), `t[2:5]`, `t[mask]`, `t[[0, 3]]` (a new
    ProfileTable). Rows whose model failed have `error` set and NaN counts and metrics; `t.ok` is the mask
    of the others. A total with an unknown part is NaN too (see the module docstring).

    `excluded`: on a table returned by `pareto()`, how many rows it left out for an error or an unknown
    objective; 0 on any other table.
    """

    __slots__ = ("_cols", "excluded")

    def __init__(self, columns: Mapping[str, Any]):
        n = None
        cols: Dict[str, np.ndarray] = {}
        for name, values in columns.items():
            if name in ("source", "error"):
                arr = values if isinstance(values, np.ndarray) and values.dtype == object else _text_array(values)
            elif name in COUNT_COLUMNS or name in FLOAT_COLUMNS:
                arr = np.asarray(values, dtype=np.float64)
            else:
                arr = np.asarray(values)
            if arr.ndim != 1:
                raise ValueError(f"column {name!r} must be one-dimensional")
            if n is None:
                n = len(arr)
            elif len(arr) != n:
                raise ValueError(f"column {name!r} has {len(arr)} rows, expected {n}")
            cols[name] = arr
        n = n or 0
        for name in COLUMNS:   # fill missing standard columns
            if name not in cols:
                if name in ("source", "error"):
                    cols[name] = _text_array([""] * n)
                else:
                    cols[name] = np.full(n, np.nan)
        _mark_unknown(cols)
        ordered = {name: cols[name] for name in COLUMNS}
        ordered.update((k, v) for k, v in cols.items() if k not in ordered)
        self._cols = ordered
        self.excluded = 0

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def empty(cls) -> "ProfileTable":
        return cls({})

    @classmethod
    def concat(cls, tables: Sequence["ProfileTable"]) -> "ProfileTable":
        """Rows of several tables in order (columns of the first; extra columns must appear in all)."""
        tables = [t for t in tables if t is not None]
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        names = tables[0].columns
        return cls({name: np.concatenate([t._cols[name] for t in tables]) for name in names})

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> "ProfileTable":
        """A table from dicts (e.g. Profile.totals(), whose num_unsupported_nodes and num_unknown_cost_nodes
        fill the unsupported and unknown_cost_nodes columns); missing values become NaN / ""."""
        rows = [_with_table_names(r) for r in rows]
        names = list(COLUMNS)
        for r in rows:
            names += [k for k in r if k not in names]
        cols: Dict[str, List[Any]] = {name: [] for name in names}
        for r in rows:
            for name in names:
                v = r.get(name)
                if v is None:
                    v = "" if name in ("source", "error") else math.nan
                cols[name].append(v)
        known = {k: v for k, v in cols.items() if k in COLUMNS or any(x is not None for x in v)}
        return cls(known)

    # --- access -------------------------------------------------------------------------------
    @property
    def columns(self) -> List[str]:
        """Column names, standard columns first, then added metrics in the order they were added."""
        return list(self._cols)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of rows whose model was profiled without error."""
        return self._cols["error"] == ""

    def __len__(self) -> int:
        return len(self._cols["source"])

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def __getitem__(self, key):
        if isinstance(key, str):
            if key in self._cols:
                return self._cols[key]
            if key in _metrics.METRICS:
                return self._metric_values(key, _metrics.METRICS[key])
            raise KeyError(f"no column or metric {key!r}; columns: {self.columns}; metrics: {sorted(_metrics.METRICS)}")
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key)
            if i < -n or i >= n:
                raise IndexError(f"row {i} out of range for a table of {n} rows")
            return {name: _count(col[i]) if name in COUNT_COLUMNS else _scalar(col[i])
                    for name, col in self._cols.items()}
        if isinstance(key, slice):
            return ProfileTable({name: col[key] for name, col in self._cols.items()})
        idx = np.asarray(key)
        if idx.dtype == bool and len(idx) != len(self):
            raise IndexError(f"boolean mask of length {len(idx)} for a table of {len(self)} rows")
        return ProfileTable({name: col[idx] for name, col in self._cols.items()})

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def keys(self) -> List[str]:
        return self.columns

    def to_dict(self) -> Dict[str, np.ndarray]:
        """Column name -> numpy array (the arrays themselves, not copies)."""
        return dict(self._cols)

    def rows(self) -> List[Dict[str, Any]]:
        """All rows as dicts of Python values."""
        return [self[i] for i in range(len(self))]

    # --- metrics ------------------------------------------------------------------------------
    def _metric_values(self, name: str, fn: Callable) -> np.ndarray:
        if fn in _metrics.OF_ACCURACY and np.isnan(self._cols["accuracy"]).all():
            return np.full(len(self), np.nan)
        values = np.asarray(fn(self._cols), dtype=np.float64)
        if values.ndim == 0:
            values = np.full(len(self), float(values))
        if len(values) != len(self):
            raise ValueError(f"metric {name!r} returned {len(values)} values for {len(self)} rows")
        return np.where(self.ok, values, np.nan)

    def add_metric(self, name: str, fn: Optional[Callable[[Mapping[str, np.ndarray]], Any]] = None) -> "ProfileTable":
        """Add (or replace) a float column computed by a vectorised metric; returns self.

        fn(columns) -> array gets the column mapping; without fn, `name` is looked up in metrics.METRICS
        (netscore, information_density, accuracy_per_gmac, accuracy_per_weight_mb, and any registered with
        metrics.register_metric). Rows with an error get NaN.
        """
        if fn is None:
            if name not in _metrics.METRICS:
                raise KeyError(f"unknown metric {name!r}; registered: {sorted(_metrics.METRICS)}")
            fn = _metrics.METRICS[name]
        if name in ("source", "error") or name in COUNT_COLUMNS:
            raise ValueError(f"cannot replace the count column {name!r} with a metric")
        self._cols[name] = self._metric_values(name, fn)
        return self

    def with_accuracy(self, accuracy: Any) -> "ProfileTable":
        """Set the accuracy column (sequence aligned with rows, or mapping source -> %) and recompute
        netscore and information_density; returns self."""
        if isinstance(accuracy, Mapping):
            values = [accuracy.get(s, math.nan) for s in self._cols["source"]]
        else:
            values = list(accuracy)
            if len(values) != len(self):
                raise ValueError(f"{len(values)} accuracies for {len(self)} rows")
        self._cols["accuracy"] = np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
        self.add_metric("netscore")
        self.add_metric("information_density")
        return self

    # --- ordering and selection ---------------------------------------------------------------
    def sort_by(self, column: str, descending: bool = False) -> "ProfileTable":
        """Rows ordered by a column or metric (stable); NaN values, then failed rows, go last either way."""
        values = self[column]
        n = len(self)
        if values.dtype == object:
            order = sorted(range(n), key=lambda i: values[i], reverse=descending)
            order = np.array(order, dtype=np.int64)
        else:
            key = values.astype(np.float64)
            level = np.where(~self.ok, 2, np.where(np.isnan(key), 1, 0))   # valid, then NaN, then failed
            key = np.where(level > 0, 0.0, -key if descending else key)
            order = np.lexsort((key, level))   # primary: level; secondary: key; stable
        if values.dtype == object:
            bad = ~self.ok[order]
            order = np.concatenate([order[~bad], order[bad]])
        return self[order]

    def top(self, n: int, by: str = "netscore", descending: bool = True) -> "ProfileTable":
        """The first n rows sorted by `by`."""
        return self.sort_by(by, descending=descending)[:n]

    def pareto(self, maximize: Sequence[str] = ("accuracy",), minimize: Sequence[str] = ("macs", "params")) -> "ProfileTable":
        """The non-dominated rows (in table order) for the given objectives.

        A row dominates another if it is at least as good in every objective and better in one. Rows with an
        error or a NaN objective (an unknown total, a missing accuracy) are left out: the result's
        `excluded` says how many. Two objectives: O(n log n) sweep; more: block-nested-loop skyline over
        rows presorted by their objective sum (exact).
        """
        mask, valid = self._pareto(maximize, minimize)
        front = self[mask]
        front.excluded = int(len(self) - np.count_nonzero(valid))
        return front

    def pareto_mask(self, maximize: Sequence[str] = ("accuracy",), minimize: Sequence[str] = ("macs", "params")) -> np.ndarray:
        """Boolean mask of the rows `pareto()` returns."""
        return self._pareto(maximize, minimize)[0]

    def _pareto(self, maximize: Sequence[str], minimize: Sequence[str]):
        """(mask of the front, mask of the rows that could take part: no error, no NaN objective)."""
        maximize, minimize = list(maximize), list(minimize)
        if not maximize and not minimize:
            raise ValueError("pareto() needs at least one objective")
        objs = [-self[c].astype(np.float64) for c in maximize] + [self[c].astype(np.float64) for c in minimize]
        F = np.stack(objs, axis=1) if objs else np.zeros((len(self), 0))
        valid = self.ok & ~np.isnan(F).any(axis=1)
        rows = np.nonzero(valid)[0]
        result = np.zeros(len(self), dtype=bool)
        if len(rows):
            result[rows[_nondominated(F[rows])]] = True
        return result, valid

    # --- export -------------------------------------------------------------------------------
    def to_pandas(self):
        """A pandas DataFrame with the same columns; the counts as nullable Int64 (NA when unknown).
        Needs netscore-fast[pandas]."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(f"ProfileTable.to_pandas() needs pandas: {_PANDAS_HINT}") from e
        return pd.DataFrame({name: pd.array(col, dtype="Int64") if _whole(name, col) else col
                             for name, col in self._cols.items()})

    def to_csv(self, path: Union[str, os.PathLike]) -> None:
        """Write CSV (stdlib csv): header row, counts as whole numbers, empty cells for NaN."""
        names = self.columns
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(names)
            cols = [self._cols[n] for n in names]
            counts = [_whole(n, c) for n, c in zip(names, cols)]
            for i in range(len(self)):
                w.writerow(["" if _is_nan(c[i]) else str(int(c[i])) if is_count else _format_cell(c[i])
                            for c, is_count in zip(cols, counts)])

    def to_json(self, path: Union[str, os.PathLike]) -> None:
        """Write JSON (stdlib json): a list of row objects, NaN as null."""
        rows = [{k: (None if _is_nan(v) else v) for k, v in row.items()} for row in self.rows()]
        with open(path, "w") as f:
            json.dump(rows, f, indent=1)
            f.write("\n")

    def to_parquet(self, path: Union[str, os.PathLike]) -> None:
        """Write Parquet with pyarrow: the counts as int64 with nulls where unknown. Needs netscore-fast[pandas]
        (which brings pyarrow)."""
        pa, pq = _pyarrow()
        arrays = {}
        for name, col in self._cols.items():
            if col.dtype == object:
                arrays[name] = pa.array(col.tolist(), type=pa.string())
            elif _whole(name, col):
                arrays[name] = pa.array(col, from_pandas=True).cast(pa.int64())   # NaN -> null
            else:
                arrays[name] = pa.array(col)
        pq.write_table(pa.table(arrays), str(path))

    def write(self, path: Union[str, os.PathLike]) -> None:
        """Write by extension: .csv, .json or .parquet."""
        ext = os.path.splitext(os.fspath(path))[1].lower()
        if ext == ".csv":
            self.to_csv(path)
        elif ext == ".json":
            self.to_json(path)
        elif ext in (".parquet", ".pq"):
            self.to_parquet(path)
        else:
            raise ValueError(f"unknown results format {ext!r}: use .csv, .json or .parquet")

    # --- import -------------------------------------------------------------------------------
    @classmethod
    def from_csv(cls, path: Union[str, os.PathLike]) -> "ProfileTable":
        """Read a CSV written by to_csv (or any CSV with some of the standard columns)."""
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return cls.empty()
            data: List[List[str]] = [[] for _ in header]
            for row in reader:
                for j, cell in enumerate(row[:len(header)]):
                    data[j].append(cell)
                for j in range(len(row), len(header)):
                    data[j].append("")
        return cls({name: _parse_column(name, values) for name, values in zip(header, data)})

    @classmethod
    def from_json(cls, path: Union[str, os.PathLike]) -> "ProfileTable":
        """Read a JSON list of row objects (as written by to_json)."""
        with open(path) as f:
            rows = json.load(f)
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON list of rows")
        return cls.from_rows(rows)

    @classmethod
    def from_parquet(cls, path: Union[str, os.PathLike]) -> "ProfileTable":
        """Read Parquet with pyarrow. Needs netscore-fast[pandas]."""
        _, pq = _pyarrow()
        t = pq.read_table(str(path))
        cols = {}
        for name in t.column_names:
            col = t.column(name)
            values = col.to_pylist() if name in ("source", "error") else col.to_numpy(zero_copy_only=False)
            cols[name] = values
        return cls(cols)

    @classmethod
    def read(cls, path: Union[str, os.PathLike]) -> "ProfileTable":
        """Read by extension: .csv, .json or .parquet."""
        ext = os.path.splitext(os.fspath(path))[1].lower()
        if ext == ".csv":
            return cls.from_csv(path)
        if ext == ".json":
            return cls.from_json(path)
        if ext in (".parquet", ".pq"):
            return cls.from_parquet(path)
        raise ValueError(f"unknown results format {ext!r}: use .csv, .json or .parquet")

    # --- display ------------------------------------------------------------------------------
    def format(self, columns: Optional[Sequence[str]] = None, max_rows: int = 20, *, width: Optional[int] = None,
               units: bool = False) -> str:
        """A fixed-width text table (first max_rows rows); an unknown count shows as "?", a missing
        accuracy or metric as an empty cell.

        units=True: counts with k/M/G units (bytes in B/kB/MB), headers shortened (see TEXT_HEADERS).
        width: the widest line allowed; long sources are cut with an ellipsis and lower-value columns dropped
        (the columns given first are kept longest; by default the order of TEXT_KEEP, empty metric columns
        first) until the table fits. None: every column in full.
        """
        from ._units import Column, si, text_table

        names = list(columns) if columns else [c for c in self.columns if c != "error" or (~self.ok).any()]
        n = len(self)
        shown = slice(0, min(n, max_rows))
        values = {name: self[name][shown] for name in names}   # metrics not stored are computed once
        cols = []
        for pos, name in enumerate(names):
            if name in COUNT_COLUMNS:
                unit = "B" if name.endswith("_bytes") else ""
                cells = [si(float(v), unit) if units and not math.isnan(v) else _display_count(v)
                         for v in values[name]]
            elif units and name in FLOAT_COLUMNS:
                cells = ["" if math.isnan(v) else f"{v:.2f}" for v in values[name]]
            else:
                cells = [_display(v) for v in values[name]]
            if name == "source" or (pos == 0 and values[name].dtype == object):   # the row's name
                keep, shrink = None, 32
            elif name == "error":
                keep, shrink = None, 16
            elif columns:
                keep, shrink = len(names) - pos, None
            else:
                keep = len(TEXT_KEEP) - TEXT_KEEP.index(name) if name in TEXT_KEEP else len(TEXT_KEEP) - 1.5
                if name in FLOAT_COLUMNS and not any(cells):
                    keep = -1   # empty (no accuracy): the first to go
                shrink = None
            header = TEXT_HEADERS.get(name, name) if units else name
            align = "r" if units and values[name].dtype != object else "l"
            cols.append(Column(header, cells, align, keep, shrink,
                               cut="end" if name == "error" else "path" if shrink == 32 else "middle"))
        text = text_table(cols, width)
        if n > max_rows:
            text += f"\n... {n - max_rows} more rows"
        return text

    def __repr__(self) -> str:
        return f"<ProfileTable {len(self)} rows x {len(self._cols)} columns>\n" + self.format(max_rows=10)

    # pickling (for executors): plain dict of arrays
    def __getstate__(self):
        return self._cols

    def __setstate__(self, state):
        self._cols = state
        self.excluded = 0


def _mark_unknown(cols: Dict[str, np.ndarray]) -> None:
    """NaN for every count of a failed row and for the totals a node of unknown cost leaves open (in place
    in `cols`; a column is replaced, never written into, since it may be the caller's array)."""
    failed = cols["error"] != ""
    unknown = failed | (cols["unknown_cost_nodes"] > 0) | (cols["unsupported"] > 0)
    for name in COUNT_COLUMNS:
        bad = unknown if name in UNKNOWN_COST_LEAVES_OPEN else failed
        if bad.any():
            col = cols[name]
            if not np.isnan(col[bad]).all():
                cols[name] = np.where(bad, np.nan, col)


def _with_table_names(row: Mapping[str, Any]) -> Mapping[str, Any]:
    if not any(k in row for k in _TOTALS_ALIASES):
        return row
    out = dict(row)
    for alias, name in _TOTALS_ALIASES.items():
        if alias in out:
            value = out.pop(alias)
            out.setdefault(name, value)
    return out


def _nondominated(F: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of F (all objectives minimised)."""
    n, k = F.shape
    if k == 1:
        return np.nonzero(F[:, 0] == F[:, 0].min())[0]
    if k == 2:
        order = np.lexsort((F[:, 1], F[:, 0]))        # by f0, then f1
        f0, f1 = F[order, 0], F[order, 1]
        # group rows with equal f0; within a group only the rows at the group's minimum f1 can survive,
        # and only if that minimum is strictly below every f1 seen in earlier groups
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = f0[1:] != f0[:-1]
        starts = np.nonzero(new_group)[0]
        group_min = f1[starts]                        # sorted by f1 within a group: first is the minimum
        prev_best = np.concatenate([[np.inf], np.minimum.accumulate(group_min)[:-1]])
        group_of = np.cumsum(new_group) - 1
        keep = (f1 == group_min[group_of]) & (group_min[group_of] < prev_best[group_of])
        return np.sort(order[keep])
    # k >= 3: a row can only be dominated by one with a smaller (or equal) objective sum
    order = np.lexsort(tuple(F[:, j] for j in range(k - 1, -1, -1)) + (F.sum(axis=1),))
    front: List[int] = []
    for i in order:
        row = F[i]
        if front:
            P = F[front]
            dominated = np.any(np.all(P <= row, axis=1) & np.any(P < row, axis=1))
            if dominated:
                continue
        front.append(int(i))
    return np.sort(np.array(front, dtype=np.int64))


def _scalar(v):
    return v.item() if isinstance(v, np.generic) else v


def _whole(name: str, col: np.ndarray) -> bool:
    """True for a count column whose known values are whole numbers (as the core's are; a table built by
    hand may hold fractions, which are then written as floats, never truncated)."""
    if name not in COUNT_COLUMNS:
        return False
    known = col[~np.isnan(col)]
    return bool(np.all(known == np.floor(known)) and np.all(np.abs(known) < 2.0 ** 63))


def _count(v):
    """A count as a Python int, NaN (a float) when unknown (and a fraction, from a hand-built table, as it is)."""
    v = float(v)
    return int(v) if v.is_integer() else v


def _display_count(v) -> str:
    v = float(v)
    return "?" if math.isnan(v) else str(int(v)) if v.is_integer() else _display(v)


def _is_nan(v) -> bool:
    return isinstance(v, (float, np.floating)) and math.isnan(v)


def _format_cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _display(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def _parse_column(name: str, values: List[str]):
    if name in ("source", "error"):
        return values
    try:
        return np.array([float(v) if v != "" else math.nan for v in values], dtype=np.float64)
    except ValueError:
        return _text_array(values)


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ImportError(f"Parquet needs pyarrow: {_PANDAS_HINT}") from e
    return pa, pq
