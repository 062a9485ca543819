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
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

KINDS = ("ball", "netscore", "density", "pareto")
_INSTALL_HINT = 'plots need matplotlib: pip install "netscore-fast[plot]"'
_USER_COLOR = "#d62728"


def _mpl():
    """(Figure, FigureCanvasAgg) from matplotlib, or an ImportError that names the extra to install.

    Every text drawn from a model or a results file (labels, names, op types) is drawn with
    parse_math=False: a name holding "$" is text, never mathtext (which fails on a bad expression)."""
    try:
        import matplotlib  # noqa: F401
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
        label = str(cols[label_key][i]) if label_key else f"model {i + 1}"
        if label_key == "source":   # a path: its file name without .onnx (not "mobilenet_v1_0" of "..._0.25_128")
            label = os.path.basename(label)
            label = label[:-5] if label.lower().endswith(".onnx") else label
        if "error" in cols and isinstance(cols["error"][i], str) and cols["error"][i]:
            # a model that failed to profile has no counts to draw: kept only to be reported
            out.append({"label": label, "failed": cols["error"][i], "family": "yours", "user": True})
            continue
        macs = _num(cols["macs"][i]) if "macs" in cols else _num(cols["gmacs"][i]) * 1e9
        params = _num(cols["params"][i])
        bn_stats = _num(cols["bn_stat_params"][i]) if "bn_stat_params" in cols else 0.0
        if bn_stats > 0:
            params -= bn_stats  # the zoo's convention: BatchNorm running statistics are not parameters
        rec = {"label": label, "params": params, "macs": macs,
               "top1": _num(cols[acc_key][i]) if acc_key else float("nan"), "family": "yours", "user": True}
        if "latency_ms" in cols:   # profile_many(..., device=...): predicted ms per inference on the board
            rec["latency_ms"] = _num(cols["latency_ms"][i])
        out.append(rec)
    return out


def load_results(results: Any) -> List[Dict[str, Any]]:
    """User results as records (label, params, macs, top1): from a ProfileTable, a pandas DataFrame, a
    mapping of columns, or a path to a CSV written by `netscore-fast profile --out` (.json/.parquet via
    pandas). Needed columns: params, macs (count), accuracy (top-1 %; rows without it are not drawn, and
    reported: see `not_drawn`). Rows with a non-empty error column (models that failed) are left out.
    When a bn_stat_params column is present it is subtracted from params, the zoo table's convention, so
    user rows and zoo rows are scored alike."""
    return [r for r in _load_all(results) if "failed" not in r]


def _load_all(results: Any) -> List[Dict[str, Any]]:
    """load_results with failed rows kept (key "failed"), so a chart can report them."""
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


class NotDrawnWarning(UserWarning):
    """Some rows could not be placed on a chart (no accuracy, unknown counts, failed to profile)."""


def not_drawn(records: List[Dict[str, Any]], x: str = "macs") -> List[Tuple[str, str]]:
    """(label, reason) of each record no chart can place: failed, no accuracy, or params/MACs unknown or 0
    (the axes are logarithmic, NetScore takes their logarithm); with x="latency_ms", also no latency."""
    out = []
    for r in records:
        if "failed" in r:
            out.append((r["label"], "failed to profile"))
        elif not math.isfinite(r["top1"]):
            out.append((r["label"], "no accuracy"))
        elif not (math.isfinite(r["params"]) and math.isfinite(r["macs"]) and r["params"] > 0 and r["macs"] > 0):
            out.append((r["label"], "params or MACs unknown or 0"))
        elif x == "latency_ms" and not (r.get("latency_ms", math.nan) > 0):
            out.append((r["label"], "no latency (profile with device=)"))
    return out


def _with_metrics(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The records a chart can place, with netscore and density added."""
    from .metrics import information_density, netscore

    skipped = {id(r) for r in records if "failed" in r}
    out = []
    for r in records:
        if id(r) in skipped:
            continue
        r["netscore"] = float(netscore(r["top1"], r["params"], r["macs"]))
        r["density"] = float(information_density(r["top1"], r["params"]))
        if math.isfinite(r["netscore"]):
            out.append(r)
    return out


def _nothing_to_draw(records: List[Dict[str, Any]]) -> ValueError:
    missing = not_drawn(records)
    detail = "; ".join(f"{label}: {reason}" for label, reason in missing[:5]) + (" ..." if len(missing) > 5 else "")
    return ValueError("nothing to draw: no row has accuracy, params and MACs" + (f" ({detail})" if detail else ""))


def _report_not_drawn(fig, records: List[Dict[str, Any]], x: str = "macs") -> None:
    """Rows left off the chart: a footnote on the figure, a NotDrawnWarning, and `fig.not_drawn` (a list of
    (label, reason)), so nothing is dropped silently."""
    missing = not_drawn(records, x)
    fig.not_drawn = missing
    if not missing:
        return
    by_reason: Dict[str, List[str]] = {}
    for label, reason in missing:
        by_reason.setdefault(reason, []).append(label)
    parts = []
    for reason, labels in by_reason.items():
        shown = ", ".join(labels[:6]) + (f", ... ({len(labels) - 6} more)" if len(labels) > 6 else "")
        parts.append(f"{reason}: {shown}")
    text = f"not drawn ({len(missing)} model{'s' if len(missing) != 1 else ''}): " + "; ".join(parts)
    fig.text(0.01, -0.01, text, fontsize=7.5, color="0.3", ha="left", va="top", wrap=True, parse_math=False)
    warnings.warn(text, NotDrawnWarning, stacklevel=3)


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


def _box_at(cx: float, cy: float, r: float, angle: float, w: float, h: float):
    """(x0, y0, x1, y1) of a w x h box whose side facing (cx, cy) touches the circle of radius r at angle
    (radians): left-aligned to the right of the point, right-aligned to its left, centred above and below."""
    ax_, ay = cx + r * math.cos(angle), cy + r * math.sin(angle)
    c, s = math.cos(angle), math.sin(angle)
    x0 = ax_ if c > 0.35 else ax_ - w if c < -0.35 else ax_ - w / 2
    y0 = ay if s > 0.35 else ay - h if s < -0.35 else ay - h / 2
    return (x0, y0, x0 + w, y0 + h)


def _boxes_overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _box_circle_gap(box, cx: float, cy: float, r: float) -> float:
    """Distance from a box to a circle's edge (negative when they overlap)."""
    dx = max(box[0] - cx, 0.0, cx - box[2])
    dy = max(box[1] - cy, 0.0, cy - box[3])
    return math.hypot(dx, dy) - r


def _segment_hits_box(p, q, box) -> bool:
    """Whether the segment p-q passes through the box (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, v in ((dx, box[0], box[2], p[0]), (dy, box[1], box[3], p[1])):
        if abs(d) < 1e-12:
            if v < lo or v > hi:
                return False
            continue
        ta, tb = (lo - v) / d, (hi - v) / d
        if ta > tb:
            ta, tb = tb, ta
        t0, t1 = max(t0, ta), min(t1, tb)
        if t0 > t1:
            return False
    return True


def _segments_cross(p, q, a, b) -> bool:
    """Whether segments p-q and a-b cross (touching at an end point does not count)."""
    def side(o, u, v):
        return (u[0] - o[0]) * (v[1] - o[1]) - (u[1] - o[1]) * (v[0] - o[0])
    d1, d2, d3, d4 = side(a, b, p), side(a, b, q), side(p, q, a), side(p, q, b)
    return d1 * d2 < 0 and d3 * d4 < 0


def _segment_circle_gap(p, q, cx: float, cy: float, r: float) -> float:
    dx, dy = q[0] - p[0], q[1] - p[1]
    n2 = dx * dx + dy * dy
    t = 0.0 if n2 == 0 else max(0.0, min(1.0, ((cx - p[0]) * dx + (cy - p[1]) * dy) / n2))
    return math.hypot(p[0] + t * dx - cx, p[1] + t * dy - cy) - r


def _clearly_nearest(box, idx: int, centers, radii, margin: float = 1.5) -> bool:
    """Whether marker idx is nearer to the box than every other marker, by at least `margin` pixels."""
    own = _box_circle_gap(box, *centers[idx], radii[idx])
    return all(_box_circle_gap(box, cx, cy, r) > own + margin
               for j, ((cx, cy), r) in enumerate(zip(centers, radii)) if j != idx)


_ANGLES = [math.radians(a) for a in (20, -20, 160, 200, 90, 270, 45, -45, 135, 225, 0, 180)]


def _place_labels(fig, ax, points: List[Dict[str, Any]], x_key: str, y_key: str, fontsize: float = 7.5,
                  sizes: Optional[List[float]] = None, lines: Sequence[Tuple[Sequence[float], Sequence[float]]] = ()
                  ) -> int:
    """Label every point without overlap (a greedy search outward; the user's points first, then the most
    crowded; ties in the given order).

    Each label tries rings of growing distance around its point, twelve directions per ring, and takes the
    place of least cost: its distance plus penalties for covering another marker (sizes: marker areas in
    points^2, default small dots) or a line of the chart (lines: (xs, ys) in data coordinates), and for a
    leader line that crosses a marker or another leader line. Hard rules: labels never overlap each other
    or a leader line; a label right next to its point must be nearer to that point than to any other
    marker (so it cannot be read as another point's label), a label further out gets a thin leader line;
    boxes stay inside the axes unless no place there is free (then inside the figure). Returns how many
    were placed (every point unless the figure is far too small)."""
    canvas = fig.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    axes_box = (frame.x0 + 2, frame.y0 + 2, frame.x1 - 2, frame.y1 - 2)
    fig_box = (0.0, 0.0, fig.bbox.width, fig.bbox.height)
    px_per_pt = fig.dpi / 72.0
    centers, radii = [], []
    for i, p in enumerate(points):
        cx, cy = ax.transData.transform((p[x_key], p[y_key]))
        centers.append((float(cx), float(cy)))
        radii.append(0.5 * math.sqrt(sizes[i] if sizes else 20.0) * px_per_pt)
    placed_boxes: List[Any] = []
    leaders: List[Any] = []   # (start, end) of each leader line in pixels
    drawn: List[Any] = []     # segments of the chart's own lines in pixels
    for xs, ys in lines:
        pts = [tuple(map(float, ax.transData.transform((x, y)))) for x, y in zip(xs, ys)]
        drawn += list(zip(pts, pts[1:]))
    seen = set()
    count = 0
    step = 0.9 * fontsize * px_per_pt
    max_rings = int(math.hypot(fig.bbox.width, fig.bbox.height) / step) + 1
    # Crowded points first (most neighbours within 12 label heights), the user's own results before all:
    # an isolated point finds a place late as easily as early.
    reach = 12 * step

    def crowding(i: int) -> int:
        cx, cy = centers[i]
        return sum(1 for j, (x, y) in enumerate(centers) if j != i and math.hypot(x - cx, y - cy) < reach)

    order = sorted(range(len(points)), key=lambda i: (not points[i].get("user"), -crowding(i), i))
    for idx in order:
        p = points[idx]
        if id(p) in seen:
            continue
        seen.add(id(p))
        style = dict(fontsize=fontsize, color=_USER_COLOR if p.get("user") else "0.15",
                     fontweight="bold" if p.get("user") else "normal")
        t = ax.annotate(p["label"], (p[x_key], p[y_key]), xytext=(0, 0), textcoords="offset points", parse_math=False,
                        ha="left", va="bottom", **style)
        ext = t.get_window_extent(renderer)
        w, h = ext.width, ext.height
        t.remove()
        cx, cy = centers[idx]
        own_r = radii[idx]
        others = [j for j in range(len(points)) if j != idx]
        def cost_of(ring: int, box, limit, lenient: bool):
            """(cost, leader) of a candidate box, or None when a hard rule forbids it (lenient: only the rules
            against overlapping labels and leaving the figure, for points no strict place is left for)."""
            if box[0] < limit[0] or box[1] < limit[1] or box[2] > limit[2] or box[3] > limit[3]:
                return None
            padded = (box[0] - 4, box[1] - 1, box[2] + 4, box[3] + 1)   # labels never touch
            if any(_boxes_overlap(padded, b) for b in placed_boxes):
                return None
            if any(_segment_hits_box(a, b, box) for a, b in leaders):
                return None
            if _box_circle_gap(box, cx, cy, own_r) < 0:
                return None
            nearest_own = _clearly_nearest(box, idx, centers, radii)
            if ring == 0 and not nearest_own and not lenient:
                return None   # next to its point but nearer another one: ambiguous
            if not nearest_own and _box_circle_gap(box, cx, cy, own_r) < 1.2 * step and not lenient:
                return None    # nearer another point and too close to its own for a visible leader line
            cost = ring * step
            cost += 250.0 * sum(1 for j in others if _box_circle_gap(box, *centers[j], radii[j] + 1) < 0)
            cost += 40.0 * sum(1 for a, b in drawn if _segment_hits_box(a, b, padded))
            leader = None
            if ring > 1 or not nearest_own:
                # the line annotate draws: from the point towards the label's centre
                leader = ((cx, cy), (0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])))
                crossed = sum(1 for b in placed_boxes if _segment_hits_box(leader[0], leader[1], b))
                if crossed and not lenient:
                    return None
                cost += 100.0 * crossed
                mid = (0.5 * (leader[0][0] + leader[1][0]), 0.5 * (leader[0][1] + leader[1][1]))
                # a leader along a line of the chart would be invisible
                cost += 60.0 * sum(1 for a, b in drawn if _segment_circle_gap(a, b, mid[0], mid[1], 0) < 4)
                cost += 10.0
                cost += 25.0 * sum(1 for a, b in leaders if _segments_cross(leader[0], leader[1], a, b))
                cost += 120.0 * sum(1 for j in others
                                   if _segment_circle_gap(leader[0], leader[1], *centers[j], 0.7 * radii[j]) < 0)
            return cost, leader

        choice = None
        # outside the axes (never the figure) only when nothing is free there
        for limit, lenient in ((axes_box, False), (fig_box, False), (fig_box, True)):
            best = None
            for ring in range(max_rings):
                if best is not None and best[0] <= ring * step:
                    break   # every further ring costs at least this much
                r = own_r + 2 + ring * step
                for angle in _ANGLES:
                    box = _box_at(cx, cy, r, angle, w, h)
                    c = cost_of(ring, box, limit, lenient)
                    if c is not None and (best is None or c[0] < best[0]):
                        best = (c[0], box, c[1])
            if best is not None:
                choice = best[1:]
                break
        if choice is None:
            continue
        box, leader = choice
        offset = ((box[0] - cx) / px_per_pt, (box[1] - cy) / px_per_pt)
        arrow = None
        if leader is not None:
            arrow = dict(arrowstyle="-", color="0.45", lw=0.6, shrinkA=1, shrinkB=own_r / px_per_pt)
            leaders.append(leader)
        ax.annotate(p["label"], (p[x_key], p[y_key]), xytext=offset, textcoords="offset points", ha="left",
                    parse_math=False,
                    va="bottom", arrowprops=arrow, annotation_clip=False, **style)
        placed_boxes.append(box)
        count += 1
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
X_AXES = ("macs", "latency_ms")


def ball_chart(records: List[Dict[str, Any]], out: Optional[str] = None, title: Optional[str] = None,
               x: str = "macs"):
    """Canziani et al. (2016) style: top-1 against G-MACs (log), bubble area proportional to params.
    x="latency_ms": against the latency predicted for the target board (the `latency_ms` column that
    `profile_many(..., device=...)` adds) instead: operations are only a first estimate of inference time."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {X_AXES}, got {x!r}")
    recs = _with_metrics(records)
    if x == "latency_ms":
        recs = [r for r in recs if r.get("latency_ms", math.nan) > 0]
    if not recs:
        raise _nothing_to_draw(records)
    xkey = "gm" if x == "macs" else "latency_ms"
    fig = _new_figure(11, 7)
    ax = fig.add_subplot(1, 1, 1)
    colors = _family_colors(recs)
    pmax = max(r["params"] for r in recs)
    area = lambda p: 20 + 1400 * p / pmax  # noqa: E731  (points^2, proportional to params above a floor)
    for fam in sorted({r["family"] for r in recs}, key=lambda f: (f == "yours", f)):
        rs = [r for r in recs if r["family"] == fam]
        for r in rs:
            r["gm"] = r["macs"] / 1e9
        ax.scatter([r[xkey] for r in rs], [r["top1"] for r in rs], s=[area(r["params"]) for r in rs],
                   color=colors[fam], alpha=0.55 if fam != "yours" else 0.85,
                   edgecolors="black" if fam == "yours" else "white", linewidths=0.6)
    _gmacs_axis(ax)
    if x == "latency_ms":
        ax.set_xlabel("predicted latency on the target board (ms per inference, log scale)")
    xs = [r[xkey] for r in recs]
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
    # the size key shows sizes the chart holds: decades up to the largest network, at least the smallest one
    keys = [p for p in (1e6, 10e6, 100e6) if p <= pmax * 1.5] or [pmax]
    size_handles = [ax.scatter([], [], s=area(p), color="0.6", alpha=0.5) for p in keys]
    ax.legend(size_handles, [f"{p / 1e6:.3g} M params" for p in keys], loc="lower left", bbox_to_anchor=(1.01, 0.0),
              fontsize=8, frameon=False, labelspacing=2.2, borderpad=1.2, handletextpad=2.2, title="bubble area",
              title_fontsize=8)
    ax.set_title(title or ("Accuracy against compute; bubble area proportional to parameters" if x == "macs" else
                           "Accuracy against predicted latency; bubble area proportional to parameters"))
    order = [r for r in recs if r["user"]] + sorted([r for r in recs if not r["user"]], key=lambda r: -r["netscore"])
    _place_labels(fig, ax, order, xkey, "top1", sizes=[area(r["params"]) for r in order])
    _report_not_drawn(fig, records, x)
    return _save(fig, out)


def _bar_chart(records: List[Dict[str, Any]], key: str, xlabel: str, title: str, out: Optional[str]):
    recs = sorted(_with_metrics(records), key=lambda r: r[key])
    if not recs:
        raise _nothing_to_draw(records)
    fig = _new_figure(8, max(3.0, 0.19 * len(recs) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    colors = _family_colors(recs)
    y = range(len(recs))
    ax.barh(list(y), [r[key] for r in recs], color=[colors[r["family"]] for r in recs],
            edgecolor=["black" if r["user"] else "none" for r in recs], height=0.75)
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"{len(recs) - i}. {r['label']}" for i, r in enumerate(recs)], fontsize=7.5, parse_math=False)
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
    _report_not_drawn(fig, records)
    return _save(fig, out)


def netscore_chart(records: List[Dict[str, Any]], out: Optional[str] = None):
    """NetScore (Wong 2018), ranked, best at the top."""
    return _bar_chart(records, "netscore", "NetScore Ω = 20·log10(a² / (√p · √m))  (dB-like; a in %, p in M params, "
                      "m in G-MACs)", "Networks ranked by NetScore", out)


def density_chart(records: List[Dict[str, Any]], out: Optional[str] = None):
    """Information density (top-1 % per million parameters), ranked, best at the top."""
    return _bar_chart(records, "density", "information density (top-1 % per million parameters)",
                      "Networks ranked by information density", out)


def pareto_chart(records: List[Dict[str, Any]], out: Optional[str] = None,
                 size: Tuple[float, float] = (11, 7)):
    """Accuracy against MACs with the Pareto front (no network both cheaper and more accurate) drawn;
    size: (width, height) in inches."""
    recs = _with_metrics(records)
    if not recs:
        raise _nothing_to_draw(records)
    for r in recs:
        r["gm"] = r["macs"] / 1e9
    front = pareto_front(recs)
    on_front = {id(r) for r in front}
    fig = _new_figure(*size)
    ax = fig.add_subplot(1, 1, 1)
    off = [r for r in recs if id(r) not in on_front]
    dominated = [r for r in off if not r["user"]]
    if dominated:   # a legend entry only for what is drawn
        ax.scatter([r["gm"] for r in dominated], [r["top1"] for r in dominated], s=22, color="0.65",
                   label="dominated")
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
    order = users + front + sorted(off, key=lambda r: -r["netscore"])
    _place_labels(fig, ax, order, "gm", "top1", sizes=[55.0 if r["user"] else 40.0 if id(r) in on_front else 22.0
                                                       for r in order], lines=[(xs, ys)])
    _report_not_drawn(fig, records)
    return _save(fig, out)


def _text_box(t, renderer):
    """The window extent of a text's own box (an Annotation's extent also holds its leader line)."""
    from matplotlib.text import Text

    if hasattr(t, "update_positions"):
        t.update_positions(renderer)   # an Annotation places its text when drawn
    return Text.get_window_extent(t, renderer)


def _label_slowest_bars(fig, ax, bars: List[Tuple[float, float, str]]) -> None:
    """Name the given bars (x, height, name), tallest first; a label that would overlap a label already
    placed or another bar is lifted, with a leader line down to its bar."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    obstacles = [p.get_window_extent(renderer) for p in ax.patches]
    placed: List[Any] = []
    for x, height, name in bars:
        for k in range(16):
            t = ax.annotate(_short(name, 18), (x, height), xytext=(0, 2 + 10 * k), textcoords="offset points",
                            parse_math=False,
                            ha="center", va="bottom", fontsize=7, color="0.15", annotation_clip=False,
                            arrowprops=dict(arrowstyle="-", color="0.5", lw=0.5, shrinkA=0, shrinkB=0) if k else None)
            box = _text_box(t, renderer)
            if not any(box.overlaps(b) for b in placed + obstacles) or k == 15:
                placed.append(box)
                break
            t.remove()


# -- one model timed layer by layer (netscore_fast.bench.measure) ----------------------------------------
def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def bench_chart(table: Any, out: Optional[str] = None, top: int = 12):
    """Where one model's time goes, from a BenchTable of `netscore_fast.bench.measure` (per-layer medians).

    Three panels sized for a paper: the time of every layer in execution order, coloured by op type, the
    slowest layers named; the share of each op type in the total; and the `top` slowest layers with their
    time, share and throughput. Unmeasured layers (no kernel) are left out of the total and counted in a
    footnote. Returns the Figure; written to `out` when given (PNG, SVG or PDF by extension)."""
    _mpl()
    import matplotlib

    timed = [r for r in table if isinstance(r["median_s"], float) and math.isfinite(r["median_s"])]
    rows = [r for r in timed if r["median_s"] > 0]
    if not rows:
        raise ValueError("nothing to draw: no layer of this table was timed")
    free: Dict[str, int] = {}   # fused into a conv, folded, or no data movement: no time of their own
    for r in timed:
        if r["median_s"] <= 0:
            free[r["op_type"]] = free.get(r["op_type"], 0) + 1
    total = sum(r["median_s"] for r in rows) or 1.0
    by_op: Dict[str, List[Dict[str, Any]]] = {}
    for r in rows:
        by_op.setdefault(r["op_type"], []).append(r)
    ops = sorted(by_op, key=lambda o: -sum(r["median_s"] for r in by_op[o]))
    cmap = matplotlib.colormaps["tab10"]
    color = {op: cmap(i % 10) if i < 9 else "0.6" for i, op in enumerate(ops)}   # ops past the ninth in grey
    fig = _new_figure(10, 7.2)
    grid = fig.add_gridspec(2, 2, height_ratios=[1.0, 1.35], width_ratios=[1.0, 1.45], hspace=0.42, wspace=0.55,
                            top=0.92, bottom=0.08)

    # execution order: one bar per layer (fused / folded / no-op layers take no time and show no bar)
    ax = fig.add_subplot(grid[0, :])
    ms = [r["median_s"] * 1e3 for r in rows]
    ax.bar(range(len(rows)), ms, width=0.85, color=[color[r["op_type"]] for r in rows], linewidth=0)
    ax.set_xlim(-0.8, len(rows) - 0.2)
    ax.set_ylim(0, max(ms) * 1.6)
    ax.set_xlabel(f"layers in execution order ({len(rows)} that take time)")
    ax.set_ylabel("median time (ms)")
    ax.grid(True, axis="y", alpha=0.3)
    _label_slowest_bars(fig, ax, [(i, ms[i], rows[i]["name"]) for i in
                                  sorted(range(len(rows)), key=lambda i: -rows[i]["median_s"])[:5]])
    handles = [matplotlib.patches.Patch(color=color[o]) for o in ops[:9]]
    names = ops[:9] + (["other op types"] if len(ops) > 9 else [])
    if len(ops) > 9:
        handles.append(matplotlib.patches.Patch(color="0.6"))
    legend = ax.legend(handles, names, loc="upper right", fontsize=7, ncol=min(5, len(names)), frameon=False,
                       handlelength=1.0, columnspacing=1.0)
    for t in legend.get_texts():
        t.set_parse_math(False)

    # share of each op type
    ax = fig.add_subplot(grid[1, 0])
    shown = ops[:10]
    shares = [100 * sum(r["median_s"] for r in by_op[o]) / total for o in shown]
    slots = max(len(shown), 6)   # bars keep one thickness however few op types there are
    y = [slots - 1 - i for i in range(len(shown))]
    ax.set_ylim(-0.6, slots - 0.4)
    ax.barh(y, shares, color=[color[o] for o in shown], height=0.7)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{o} ({len(by_op[o])})" for o in shown], fontsize=8, parse_math=False)
    for yi, v in zip(y, shares):
        ax.text(v, yi, f" {v:.1f} %", va="center", fontsize=7.5)
    ax.set_xlim(0, max(shares) * 1.3)
    ax.set_xlabel("share of the model's time (%)")
    ax.set_title("by op type (layers)", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)

    # the slowest layers
    ax = fig.add_subplot(grid[1, 1])
    worst = sorted(rows, key=lambda r: -r["median_s"])[:top]
    y = list(range(len(worst)))[::-1]
    ax.barh(y, [r["median_s"] * 1e3 for r in worst], color=[color[r["op_type"]] for r in worst], height=0.7)
    ax.set_yticks(y)
    ax.set_yticklabels([_short(r["name"], 26) for r in worst], fontsize=7.5, parse_math=False)
    for yi, r in zip(y, worst):
        rate = f", {r['gflops']:.0f} GFLOP/s" if isinstance(r["gflops"], float) and r["gflops"] > 0 else ""
        ax.text(r["median_s"] * 1e3, yi, f" {100 * r['median_s'] / total:.1f} %{rate}", va="center", fontsize=7)
    ax.set_xlim(0, worst[0]["median_s"] * 1e3 * 1.75)
    ax.set_xlabel("median time (ms)")
    ax.set_title(f"the {len(worst)} slowest layers", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)

    m = getattr(table, "machine", {}) or {}
    source = os.path.basename(str(getattr(table, "source", "") or "model"))
    fig.suptitle(f"{_short(source, 60)}: {total * 1e3:.3f} ms per inference (sum of per-layer medians), "
                 f"{getattr(table, 'threads', 1)} thread(s), {m.get('model', '?')} {m.get('isa_active', '')}",
                 fontsize=10, parse_math=False)
    notes = []
    if free:
        notes.append("no time of their own (fused into the conv before, folded into its weights, or no data "
                     "movement): " + ", ".join(f"{op} {n}" for op, n in sorted(free.items(), key=lambda kv: -kv[1])))
    unmeasured = [r["name"] for r in table if r["status"] == "unmeasured"]
    if unmeasured:
        notes.append(f"not timed (no kernel; not in the total): {len(unmeasured)} layer"
                     f"{'s' if len(unmeasured) != 1 else ''}: " + ", ".join(_short(n, 24) for n in unmeasured[:6])
                     + (" ..." if len(unmeasured) > 6 else ""))
    if notes:
        fig.text(0.01, 0.0, "\n".join(notes), fontsize=7.5, color="0.3", va="top", parse_math=False)
    return _save(fig, out)


_DRAW = {"ball": ball_chart, "netscore": netscore_chart, "density": density_chart, "pareto": pareto_chart}


def plot(results: Any = None, kind: str = "ball", with_zoo: bool = False, out: Optional[str] = None,
         zoo_rows: Optional[List[Dict[str, Any]]] = None, x: str = "macs"):
    """Draw one chart of user results (ProfileTable, DataFrame, column mapping or CSV path), optionally over
    the zoo's reference networks; write it to `out` (PNG, SVG or PDF by extension). Returns the Figure.
    x="latency_ms" (ball chart only): the predicted latency column on the x axis instead of MACs."""
    if kind not in _DRAW:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if x != "macs" and kind != "ball":
        raise ValueError(f"x={x!r} is for the ball chart; the {kind} chart is drawn against MACs")
    _mpl()
    records = _load_all(results) if results is not None else []
    if with_zoo or results is None:
        records = zoo_records(zoo_rows) + records
    if kind == "ball":
        return ball_chart(records, out, x=x)
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
