"""Charts of accuracy against size and compute: the Canziani ball chart, ranked NetScore and information
density bars, and the Pareto front of accuracy against MACs; user results can be drawn over the zoo.

matplotlib is imported only when a chart is drawn (install it with `pip install "netscore-fast[plot]"`);
figures are rendered with the Agg canvas directly, so no global backend is changed and no display is needed.

    >>> from netscore_fast import plots
    >>> plots.plot("results.csv", kind="ball", with_zoo=True, out="ball.png")
"""
from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Optional, Sequence

KINDS = ("ball", "netscore", "density", "pareto")
_INSTALL_HINT = 'plots need matplotlib: pip install "netscore-fast[plot]"'
_USER_COLOR = "#d62728"


def _mpl():
    """(Figure, FigureCanvasAgg) from matplotlib, or an ImportError that names the extra to install."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(_INSTALL_HINT) from e
    return Figure, FigureCanvasAgg


# -- data -------------------------------------------------------------------------------------------------
def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


def _records_from_columns(cols: Dict[str, Sequence[Any]]) -> List[Dict[str, Any]]:
    n = len(next(iter(cols.values()))) if cols else 0
    label_key = next((k for k in ("name", "source", "model") if k in cols), None)
    acc_key = next((k for k in ("accuracy", "top1") if k in cols), None)
    if "params" not in cols or ("macs" not in cols and "gmacs" not in cols):
        raise ValueError(f"results need columns params and macs (have: {', '.join(cols)})")
    out = []
    for i in range(n):
        if "error" in cols and isinstance(cols["error"][i], str) and cols["error"][i]:
            continue  # a model that failed to profile has no counts to draw
        label = str(cols[label_key][i]) if label_key else f"model {i + 1}"
        label = os.path.splitext(os.path.basename(label))[0] if label_key == "source" else label
        macs = _num(cols["macs"][i]) if "macs" in cols else _num(cols["gmacs"][i]) * 1e9
        params = _num(cols["params"][i])
        bn_stats = _num(cols["bn_stat_params"][i]) if "bn_stat_params" in cols else 0.0
        if bn_stats > 0:
            params -= bn_stats  # the zoo's convention: BatchNorm running statistics are not parameters
        out.append({"label": label, "params": params, "macs": macs,
                    "top1": _num(cols[acc_key][i]) if acc_key else float("nan"), "family": "yours", "user": True})
    return out


def load_results(results: Any) -> List[Dict[str, Any]]:
    """User results as records (label, params, macs, top1): from a ProfileTable, a pandas DataFrame, a
    mapping of columns, or a path to a CSV written by `netscore-fast profile --out` (.json/.parquet via
    pandas). Needed columns: params, macs (count), accuracy (top-1 %; rows without it are not drawn).
    When a bn_stat_params column is present it is subtracted from params, the zoo table's convention, so
    user rows and zoo rows are scored alike."""
    if hasattr(results, "pareto_mask") and hasattr(results, "to_dict"):  # a ProfileTable: no pandas needed
        return _records_from_columns({k: list(v) for k, v in results.to_dict().items()})
    if hasattr(results, "columns") and hasattr(results, "to_dict"):
        return _records_from_columns({c: list(results[c]) for c in results.columns})
    if isinstance(results, dict):
        return _records_from_columns({k: list(v) for k, v in results.items()})
    path = os.fspath(results)
    if path.lower().endswith(".csv"):
        import csv

        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError(f"{path}: no rows")
        return _records_from_columns({k: [r[k] for r in rows] for k in rows[0]})
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError(f"reading {path} needs pandas: pip install \"netscore-fast[pandas]\"") from e
    df = pd.read_parquet(path) if path.lower().endswith(".parquet") else pd.read_json(path)
    return _records_from_columns({c: list(df[c]) for c in df.columns})


def zoo_records(rows: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
    """The zoo reference table (netscore_fast.zoo.table) as chart records."""
    if rows is None:
        from . import zoo

        rows = zoo.table()
    return [{"label": r["name"], "params": float(r["params"]), "macs": float(r["gmacs"]) * 1e9,
             "top1": float(r["top1"]), "family": r["family"], "user": False} for r in rows]


def _with_metrics(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    from .metrics import information_density, netscore

    for r in records:
        r["netscore"] = float(netscore(r["top1"], r["params"], r["macs"]))
        r["density"] = float(information_density(r["top1"], r["params"]))
    return [r for r in records if math.isfinite(r["netscore"])]


def pareto_front(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Records not dominated in (fewer MACs, higher top-1), by increasing MACs."""
    front, best = [], -math.inf
    for r in sorted(records, key=lambda r: (r["macs"], -r["top1"])):
        if r["top1"] > best:
            front.append(r)
            best = r["top1"]
    return front


# -- drawing helpers ----------------------------------------------------------------------------------------
def _family_colors(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    import matplotlib

    fams = sorted({r["family"] for r in records if not r["user"]})
    cmap = matplotlib.colormaps["tab20"]
    # strong hues first, their light twins after; red (6, 7) is kept for the user's own results
    order = [i for i in list(range(0, 20, 2)) + list(range(1, 20, 2)) if i not in (6, 7)]
    colors = {f: cmap(order[i % len(order)]) for i, f in enumerate(fams)}
    colors["yours"] = _USER_COLOR
    return colors


def _place_labels(fig, ax, points: List[Dict[str, Any]], x_key: str, y_key: str, fontsize: float = 7.5,
                  sizes: Optional[List[float]] = None) -> int:
    """Label points in the given priority order, trying eight offsets each and skipping a label that would
    overlap a label already placed, the core of another point's marker (sizes: marker areas in points^2,
    default small dots), or leave the axes. Returns how many were placed."""
    from matplotlib.transforms import Bbox

    canvas = fig.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    axes_box = ax.get_window_extent(renderer)
    px_per_pt = fig.dpi / 72.0
    markers = []
    for i, p in enumerate(points):
        cx, cy = ax.transData.transform((p[x_key], p[y_key]))
        r = 0.5 * math.sqrt(sizes[i] if sizes else 20.0) * px_per_pt * 0.7
        markers.append(Bbox.from_extents(cx - r, cy - r, cx + r, cy + r))
    placed = []
    seen = set()
    offsets = [(6, 4), (6, -10), (-6, 4), (-6, -10), (0, 9), (0, -14), (12, -3), (-12, -3)]
    count = 0
    for idx, p in enumerate(points):
        if id(p) in seen:
            continue
        seen.add(id(p))
        for dx, dy in offsets:
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            t = ax.annotate(p["label"], (p[x_key], p[y_key]), xytext=(dx, dy), textcoords="offset points",
                            fontsize=fontsize, ha=ha, va="bottom",
                            color=_USER_COLOR if p.get("user") else "0.15",
                            fontweight="bold" if p.get("user") else "normal")
            box = t.get_window_extent(renderer).expanded(1.04, 1.1)
            inside = (box.x0 >= axes_box.x0 and box.x1 <= axes_box.x1 and box.y0 >= axes_box.y0
                      and box.y1 <= axes_box.y1)
            own = markers[idx]
            if inside and not any(box.overlaps(b) for b in placed) and \
                    not any(box.overlaps(m) for m in markers if m is not own):
                placed.append(box)
                count += 1
                break
            t.remove()
    return count


def _save(fig, out: Optional[str]):
    if out:
        d = os.path.dirname(os.path.abspath(out))
        os.makedirs(d, exist_ok=True)
        fig.savefig(out, dpi=150, bbox_inches="tight")
    return fig


def _new_figure(width: float, height: float):
    Figure, FigureCanvasAgg = _mpl()
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _gmacs_axis(ax):
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("compute: multiply-accumulates per image (G-MACs, log scale)")
    ax.set_ylabel("ImageNet top-1 accuracy (%)")
    ax.grid(True, which="major", alpha=0.3)


# -- charts ---------------------------------------------------------------------------------------------
def ball_chart(records: List[Dict[str, Any]], out: Optional[str] = None, title: Optional[str] = None):
    """Canziani et al. (2016) style: top-1 against G-MACs (log), bubble area proportional to params."""
    recs = _with_metrics(records)
    if not recs:
        raise ValueError("nothing to draw: no row has accuracy, params and MACs")
    fig = _new_figure(11, 7)
    ax = fig.add_subplot(1, 1, 1)
    colors = _family_colors(recs)
    pmax = max(r["params"] for r in recs)
    area = lambda p: 20 + 1400 * p / pmax  # noqa: E731  (points^2, proportional to params above a floor)
    for fam in sorted({r["family"] for r in recs}, key=lambda f: (f == "yours", f)):
        rs = [r for r in recs if r["family"] == fam]
        ax.scatter([r["macs"] / 1e9 for r in rs], [r["top1"] for r in rs], s=[area(r["params"]) for r in rs],
                   color=colors[fam], alpha=0.55 if fam != "yours" else 0.85,
                   edgecolors="black" if fam == "yours" else "white", linewidths=0.6)
    for r in recs:
        r["gm"] = r["macs"] / 1e9
    _gmacs_axis(ax)
    xs = [r["gm"] for r in recs]
    ax.set_xlim(min(xs) / 1.8, max(xs) * 1.8)
    ys = [r["top1"] for r in recs]
    ax.set_ylim(min(ys) - 3, max(ys) + 3)
    from matplotlib.lines import Line2D

    fams = sorted({r["family"] for r in recs}, key=lambda f: (f == "yours", f))
    handles = [Line2D([], [], marker="o", ls="", markersize=7, color=colors[f], alpha=0.8,
                      markeredgecolor="black" if f == "yours" else "none") for f in fams]
    fam_legend = ax.legend(handles, fams, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                           title="family", title_fontsize=8)
    ax.add_artist(fam_legend)
    keys = [p for p in (1e6, 10e6, 100e6) if p <= pmax * 1.5]
    size_handles = [ax.scatter([], [], s=area(p), color="0.6", alpha=0.5) for p in keys]
    ax.legend(size_handles, [f"{p / 1e6:g} M params" for p in keys], loc="lower left", bbox_to_anchor=(1.01, 0.0),
              fontsize=8, frameon=False, labelspacing=2.2, borderpad=1.2, handletextpad=2.2, title="bubble area",
              title_fontsize=8)
    ax.set_title(title or "Accuracy against compute; bubble area proportional to parameters")
    order = [r for r in recs if r["user"]] + sorted([r for r in recs if not r["user"]], key=lambda r: -r["netscore"])
    _place_labels(fig, ax, order, "gm", "top1", sizes=[area(r["params"]) for r in order])
    return _save(fig, out)


def _bar_chart(records: List[Dict[str, Any]], key: str, xlabel: str, title: str, out: Optional[str]):
    recs = sorted(_with_metrics(records), key=lambda r: r[key])
    if not recs:
        raise ValueError("nothing to draw: no row has accuracy, params and MACs")
    fig = _new_figure(8, max(3.0, 0.19 * len(recs) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    colors = _family_colors(recs)
    y = range(len(recs))
    ax.barh(list(y), [r[key] for r in recs], color=[colors[r["family"]] for r in recs],
            edgecolor=["black" if r["user"] else "none" for r in recs], height=0.75)
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"{len(recs) - i}. {r['label']}" for i, r in enumerate(recs)], fontsize=7.5)
    for tick, r in zip(ax.get_yticklabels(), recs):
        if r["user"]:
            tick.set_color(_USER_COLOR)
            tick.set_fontweight("bold")
    lo = min(0.0, min(r[key] for r in recs))
    hi = max(r[key] for r in recs)
    ax.set_xlim(lo, hi * 1.12)
    for i, r in enumerate(recs):
        ax.text(r[key] + 0.01 * (hi - lo), i, f"{r[key]:.1f}", va="center", fontsize=6.5, color="0.25")
    ax.set_ylim(-0.7, len(recs) - 0.3)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, out)


def netscore_chart(records: List[Dict[str, Any]], out: Optional[str] = None):
    """NetScore (Wong 2018), ranked, best at the top."""
    return _bar_chart(records, "netscore", "NetScore Ω = 20·log10(a² / (√p · √m))  (dB-like; a in %, p in M params, "
                      "m in G-MACs)", "Networks ranked by NetScore", out)


def density_chart(records: List[Dict[str, Any]], out: Optional[str] = None):
    """Information density (top-1 % per million parameters), ranked, best at the top."""
    return _bar_chart(records, "density", "information density (top-1 % per million parameters)",
                      "Networks ranked by information density", out)


def pareto_chart(records: List[Dict[str, Any]], out: Optional[str] = None):
    """Accuracy against MACs with the Pareto front (no network both cheaper and more accurate) drawn."""
    recs = _with_metrics(records)
    if not recs:
        raise ValueError("nothing to draw: no row has accuracy, params and MACs")
    for r in recs:
        r["gm"] = r["macs"] / 1e9
    front = pareto_front(recs)
    on_front = {id(r) for r in front}
    fig = _new_figure(10, 6.5)
    ax = fig.add_subplot(1, 1, 1)
    off = [r for r in recs if id(r) not in on_front]
    ax.scatter([r["gm"] for r in off if not r["user"]], [r["top1"] for r in off if not r["user"]], s=22,
               color="0.65", label="dominated")
    xs, ys = [], []
    for r in front:  # staircase: accuracy you can reach for at most this many MACs
        if xs:
            xs.append(r["gm"])
            ys.append(ys[-1])
        xs.append(r["gm"])
        ys.append(r["top1"])
    ax.plot(xs, ys, color="#1f77b4", lw=1.5, zorder=2)
    ax.scatter([r["gm"] for r in front], [r["top1"] for r in front], s=40, color="#1f77b4", zorder=3,
               label="Pareto front")
    users = [r for r in recs if r["user"]]
    if users:
        ax.scatter([r["gm"] for r in users], [r["top1"] for r in users], s=55, marker="D", color=_USER_COLOR,
                   edgecolors="black", linewidths=0.6, zorder=4, label="yours")
    _gmacs_axis(ax)
    gx = [r["gm"] for r in recs]
    ax.set_xlim(min(gx) / 1.8, max(gx) * 1.8)
    gy = [r["top1"] for r in recs]
    ax.set_ylim(min(gy) - 3, max(gy) + 3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Pareto front of accuracy against compute")
    _place_labels(fig, ax, users + front + sorted(off, key=lambda r: -r["netscore"]), "gm", "top1")
    return _save(fig, out)


_DRAW = {"ball": ball_chart, "netscore": netscore_chart, "density": density_chart, "pareto": pareto_chart}


def plot(results: Any = None, kind: str = "ball", with_zoo: bool = False, out: Optional[str] = None,
         zoo_rows: Optional[List[Dict[str, Any]]] = None):
    """Draw one chart of user results (ProfileTable, DataFrame, column mapping or CSV path), optionally over
    the zoo's reference networks; write it to `out` (PNG, SVG or PDF by extension). Returns the Figure."""
    if kind not in _DRAW:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    _mpl()
    records = load_results(results) if results is not None else []
    if with_zoo or results is None:
        records = zoo_records(zoo_rows) + records
    return _DRAW[kind](records, out)


def zoo_charts(directory: str, rows: Optional[List[Dict[str, Any]]] = None) -> List[str]:
    """Write the four reference charts of the zoo into `directory`; returns the paths."""
    _mpl()
    records = zoo_records(rows)
    paths = []
    for kind in KINDS:
        path = os.path.join(directory, f"zoo_{kind}.png")
        _DRAW[kind]([dict(r) for r in records], path)
        paths.append(path)
    return paths
