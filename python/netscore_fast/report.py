"""A self-contained HTML report of one or several models: `write_html(sources, "report.html")`.

One file with everything inline (styles, a few lines of script, charts as SVG): no network access, no CDN,
no external fonts or scripts, so it opens anywhere and can be mailed or archived. Per model: the summary
(params, MACs, FLOPs, memory, NetScore when the accuracy is given, markers for unknown values), the roll-ups
by op type and by module (Profile.by), the memory timeline (Profile.live_bytes: activation bytes alive at
each layer in execution order, the peak marked with the layer that causes it) and the per-layer table with
input and output shapes, sortable by clicking a column header. Several models add a ranking and the Pareto
chart of accuracy against MACs.

Every string that comes from a model (node, op type, module and input names, file names) is HTML-escaped:
a model is untrusted input. Charts need matplotlib (the `plot` extra); without it the page says so and
keeps the tables.

    >>> from netscore_fast import report
    >>> report.write_html(["a.onnx", "b.onnx"], "report.html", accuracy={"a.onnx": 71.2, "b.onnx": 74.0})
"""
from __future__ import annotations

import copy
import html
import io
import math
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._units import si

__all__ = ["write_html", "render_html", "memory_timeline"]

Accuracy = Union[None, float, Mapping[str, float], Sequence[Optional[float]]]


def _esc(value: Any) -> str:
    """Model-provided text -> safe HTML text or attribute value."""
    return html.escape(str(value), quote=True)


# -- data -------------------------------------------------------------------------------------------------
def memory_timeline(prof) -> Dict[str, Any]:
    """The activation memory of one profile in execution order: {"live_bytes": numpy int64 per layer row,
    "peak_bytes", "peak_index" (the first row where the peak is reached: the layer whose outputs, allocated
    while earlier activations it or later layers read are still alive, cause the peak; -1 without rows),
    "peak_layer" (its name), "peak_op_type"}.

    The rule (cpp/graph/memory.h): a tensor is alive from the step of the node that produces it (graph inputs
    from step 0) to the step of its last reader (graph outputs to the last step), both inclusive; weights
    and constants are not activations; a tensor of unknown size is left out."""
    live = prof.live_bytes()
    rows = prof.layers
    if len(live) == 0:
        return {"live_bytes": live, "peak_bytes": int(prof.peak_activation_bytes), "peak_index": -1,
                "peak_layer": "", "peak_op_type": ""}
    peak_index = int(live.argmax())
    return {"live_bytes": live, "peak_bytes": int(live[peak_index]), "peak_index": peak_index,
            "peak_layer": str(rows["name"][peak_index]), "peak_op_type": str(rows["op_type"][peak_index])}


def _profiles(sources: Any, accuracy: Accuracy, input_shapes, batch_size: int, input_values) -> List[Any]:
    """Profiles of the sources (a source, a list of them, (name, source) pairs or ready Profiles)."""
    from ._sources import is_one_model, names_of
    from .profile import Profile, profile

    items = [sources] if (is_one_model(sources) or isinstance(sources, Profile)) else list(sources)
    if not items:
        raise ValueError("no models to report")
    out = []
    for i, item in enumerate(items):
        name = None
        if type(item) is tuple and len(item) == 2 and isinstance(item[0], str):
            name, item = item
        if isinstance(item, Profile):
            prof = copy.copy(item)   # the name and accuracy given here do not change the caller's Profile
        else:
            prof = profile(item, input_shapes=input_shapes, batch_size=batch_size, input_values=input_values)
        if name is not None:
            prof.source = name
        acc = None
        if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool):
            acc = float(accuracy)
        elif isinstance(accuracy, Mapping):
            acc = next((accuracy[k] for k in names_of(prof.source) if k in accuracy), None)
        elif accuracy is not None:
            acc = list(accuracy)[i]
        if acc is not None:
            prof.accuracy = float(acc)
            prof._derived = None   # metrics follow the accuracy given here
        out.append(prof)
    return out


# -- charts -----------------------------------------------------------------------------------------------
def _svg(fig) -> str:
    """A matplotlib Figure as an inline <svg> element: text drawn as paths (no fonts to fetch), no XML
    prolog or DOCTYPE, no date in the metadata (the same page for the same models)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "netscore"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _memory_chart(prof, timeline: Mapping[str, Any]) -> str:
    from .plots import _new_figure

    live = timeline["live_bytes"]
    fig = _new_figure(12, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    scale, unit = (1e6, "MB") if timeline["peak_bytes"] >= 1e5 else (1e3, "kB")
    xs = range(len(live))
    ys = [v / scale for v in live]
    ax.fill_between(xs, ys, step="mid", color="#9ecae1", alpha=0.8, linewidth=0)
    ax.step(xs, ys, where="mid", color="#3182bd", lw=1.0)
    i = timeline["peak_index"]
    ax.plot([i], [ys[i]], "o", color="#d62728", ms=5, zorder=3)
    name = timeline["peak_layer"] if len(timeline["peak_layer"]) <= 40 else timeline["peak_layer"][:39] + "\u2026"
    ax.annotate(f"peak {si(timeline['peak_bytes'], 'B')} at layer {i}: {name} ({timeline['peak_op_type']})",
                (i, ys[i]), xytext=(8 if i < 0.6 * len(live) else -8, -2), textcoords="offset points",
                ha="left" if i < 0.6 * len(live) else "right", va="top", fontsize=8, color="#b2182b",
                parse_math=False)
    ax.set_xlim(-0.5, max(len(live) - 0.5, 0.5))
    ax.set_ylim(0, max(ys) * 1.15 if max(ys) > 0 else 1)
    ax.set_xlabel("layer (execution order)")
    ax.set_ylabel(f"activations alive ({unit})")
    ax.grid(True, alpha=0.3)
    return _svg(fig)


def _pareto_chart(profiles: List[Any]) -> str:
    from .plots import pareto_chart

    records = [{"label": _short_name(p.source), "params": float(p.params), "macs": float(p.macs),
                "top1": float(p.accuracy), "family": "models", "user": False}
               for p in profiles if _on_pareto_chart(p)]
    return _svg(pareto_chart(records, size=(8, 5) if len(records) <= 12 else (11, 7)))


def _on_pareto_chart(prof) -> bool:
    """Accuracy given, MACs and params known and above 0 (the chart's axis and NetScore take logarithms)."""
    return prof.accuracy is not None and not prof.unknown_cost_nodes and prof.macs > 0 and prof.params > 0


def _short_name(source: str) -> str:
    """A model's heading: a file's name without .onnx; a name given by the caller as it is (less .onnx)."""
    base = os.path.basename(source) if os.path.isfile(source) else source
    return base[:-5] if base.endswith(".onnx") else base


# -- page -------------------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0 auto;
max-width:1200px;padding:0 24px 48px}
h1{font-size:22px;margin:24px 0 4px}h2{font-size:19px;margin:36px 0 8px;border-bottom:2px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:22px 0 6px}.muted{color:#666}.unknown{color:#b35806;font-weight:600}
table{border-collapse:collapse;font-size:12.5px;margin:4px 0 12px}
th,td{padding:3px 8px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}td.t,th.t{text-align:left}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#e8eef7}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:6px 0}
dl.summary dt{color:#555}dl.summary dd{margin:0;font-variant-numeric:tabular-nums}
.scroll{max-height:640px;overflow:auto;border:1px solid #e5e5e5}.chart svg{max-width:100%;height:auto}
.note{background:#fff7e6;border-left:3px solid #f0a000;padding:6px 10px;margin:8px 0}
td.name{max-width:360px;overflow:hidden;text-overflow:ellipsis}nav a{margin-right:12px}
"""

# Sorting: a click on a header sorts its table by that column (numbers by the cell's data-v, largest first;
# text by its content, A first); a second click reverses. window.onerror writes any script error into the
# page (#js-errors) so a headless browser run can see it; data-ready on <body> says the script ran to its end.
_JS = """
window.onerror=function(msg,src,line){var e=document.getElementById('js-errors');
e.hidden=false;e.textContent+='error: '+msg+' (line '+line+')\\n';};
function nsSort(th){var body=th.closest('table').tBodies[0],col=th.cellIndex,num=th.dataset.type==='num';
var cur=th.getAttribute('aria-sort'),asc=cur?cur==='descending':!num;
Array.prototype.forEach.call(th.parentNode.cells,function(c){c.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col],r;
if(num){r=parseFloat(x.dataset.v)-parseFloat(y.dataset.v);}else{r=x.textContent.localeCompare(y.textContent);}
return asc?r:-r;});rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('table.sortable th').forEach(function(th){
th.addEventListener('click',function(){nsSort(th);});});
document.body.dataset.ready='1';
"""


def _num_cell(value: Optional[float], unit: str = "", raw: Optional[float] = None) -> str:
    """A right-aligned number: k/M/G text, the raw value in data-v (for sorting) and the title; -1/None '?'."""
    v = -1.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    text = "?" if v < 0 else si(v, unit)
    return f'<td data-v="{raw if raw is not None else v:g}" title="{v:,.0f}">{_esc(text)}</td>'


def _table(headers: Sequence[Tuple[str, str]], rows: List[str], sortable: bool = False, cls: str = "") -> str:
    """headers: (label, "num" | "text"); rows: the <tr> elements."""
    head = "".join(f'<th data-type="{kind}"{" class=t" if kind == "text" else ""}>{_esc(label)}</th>'
                   for label, kind in headers)
    classes = " ".join(c for c in (cls, "sortable" if sortable else "") if c)
    return (f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>' + "".join(rows) +
            "</tbody></table>")


def _summary(prof, timeline: Mapping[str, Any]) -> str:
    unknown = prof.unknown_cost_nodes
    open_mark = (f' <span class="unknown" title="a lower bound: {len(unknown)} node(s) of unknown cost are not '
                 f'counted">+ ({len(unknown)} unknown)</span>') if unknown else ""
    items: List[Tuple[str, str]] = [
        ("nodes", f"{prof.num_layers:,}"),
        ("parameters", f"{_esc(si(prof.params))} <span class=muted>({prof.params:,}; BatchNorm statistics "
                       f"{prof.bn_stat_params:,})</span>"),
        ("MACs", _esc(si(prof.macs)) + open_mark),
        ("FLOPs", _esc(si(prof.flops)) + open_mark),
        ("weights", _esc(si(prof.weight_bytes, "B"))),
        ("activations (all outputs)", _esc(si(prof.activation_bytes, "B")) + open_mark),
        ("peak activation memory", _esc(si(prof.peak_activation_bytes, "B")) + open_mark +
         (f" <span class=muted>at layer {timeline['peak_index']}: {_esc(timeline['peak_layer'])} "
          f"({_esc(timeline['peak_op_type'])})</span>" if timeline["peak_index"] >= 0 else "")),
    ]
    if prof.accuracy is None:
        items.append(("NetScore", '<span class=muted>needs the accuracy (--accuracy, accuracy=...)</span>'))
    else:
        ns = prof.netscore
        items.append(("top-1 accuracy", f"{prof.accuracy:g} %"))
        items.append(("NetScore", f"{ns:.2f}" if ns is not None and math.isfinite(ns) else
                      '<span class="unknown">? (MACs unknown)</span>'))
        items.append(("information density", f"{prof.information_density:.3g} % per M params"))
    body = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in items)
    notes = []
    if unknown:
        shown = ", ".join(_esc(n) for n in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        notes.append(f"{len(unknown)} node(s) of unknown cost, not in the totals: {shown}")
        hint = prof.input_shape_hint()
        if hint:
            notes.append("<pre>" + _esc(hint.strip()) + "</pre>")
    for op, nodes in prof.unsupported_ops.items():
        notes.append(f"unsupported op {_esc(op)}: {len(nodes)} node(s)")
    for label, bound in (("upper bound", prof.upper_bound_nodes), ("lower bound", prof.lower_bound_nodes)):
        for node, reason in list(bound.items())[:10]:
            notes.append(f"{label}: {_esc(node)}: {_esc(reason)}")
    return f'<dl class="summary">{body}</dl>' + "".join(f'<div class="note">{n}</div>' for n in notes)


def _rollup_table(rollup) -> str:
    from .rollup import ROLLUP_COUNTS

    headers = [("module" if rollup.by == "module" else "op type", "text"), ("nodes", "num")]
    for c in ROLLUP_COUNTS:
        headers += [({"activation_bytes": "activation bytes"}.get(c, c.replace("macs", "MACs")
                                                                  .replace("flops", "FLOPs")), "num"), ("%", "num")]
    rows = []
    for r in rollup.rows:
        if rollup.by == "module":
            key = r["key"]
            parent = key.rsplit(".", 1)[0] if r["depth"] > 1 else ""
            label = key[len(parent) + 1:] if parent else key
            indent = 8 + 16 * (r["depth"] - 1)
            name = f'<td class=t style="padding-left:{indent}px" title="{_esc(key)}">{_esc(label)}</td>'
        else:
            name = f"<td class=t>{_esc(r['key'])}</td>"
        cells = [name, f'<td data-v="{r["count"]}">{r["count"]:,}</td>']
        for c in ROLLUP_COUNTS:
            cells.append(_num_cell(r[c], "B" if c == "activation_bytes" else ""))
            cells.append(f'<td data-v="{r[c + "_share"]:.6g}">{r[c + "_share"]:.1f}</td>')
        unknown = f' title="{r["unknown"]} node(s) of unknown MACs"' if r.get("unknown") else ""
        rows.append(f"<tr{unknown}>" + "".join(cells) + "</tr>")
    return _table(headers, rows, sortable=rollup.by != "module")


def _layer_table(prof, live) -> str:
    rows_np = prof.layers
    total_macs = max(1, int(prof.macs))
    with_module = bool(len(rows_np)) and bool((rows_np["module"] != "").any())   # a column only when it says something
    headers = [("#", "num"), ("name", "text"), ("op type", "text")] + ([("module", "text")] if with_module else []) + \
        [("input shape", "text"), ("output shape", "text"), ("params", "num"), ("MACs", "num"), ("% MACs", "num"),
         ("FLOPs", "num"), ("output bytes", "num"), ("alive bytes", "num")]
    out = []
    for i, r in enumerate(rows_np.tolist()):
        rec = dict(zip(rows_np.dtype.names, r))
        macs = rec["macs"]
        share = 100.0 * macs / total_macs if macs >= 0 else -1.0
        module = [f"<td class=t>{_esc(rec['module'])}</td>"] if with_module else []
        name = _esc(rec["name"])
        cells = [f'<td data-v="{i}">{i}</td>', f'<td class="t name" title="{name}">{name}</td>',
                 f"<td class=t>{_esc(rec['op_type'])}</td>", *module,
                 f"<td class=t>{_esc(rec['input_shape'])}</td>", f"<td class=t>{_esc(rec['output_shape'])}</td>",
                 _num_cell(rec["params"]), _num_cell(macs),
                 f'<td data-v="{share:.6g}">{"?" if share < 0 else f"{share:.2f}"}</td>',
                 _num_cell(rec["flops"]), _num_cell(rec["activation_bytes"], "B"),
                 _num_cell(int(live[i]) if i < len(live) else None, "B")]
        out.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll">{_table(headers, out, sortable=True, cls="layers")}</div>'


def _ranking(profiles: List[Any]) -> str:
    with_acc = [p for p in profiles if p.accuracy is not None]
    key = (lambda p: -(p.netscore if p.netscore is not None and math.isfinite(p.netscore) else -math.inf)) \
        if with_acc else (lambda p: p.macs)
    order = sorted(range(len(profiles)), key=lambda i: key(profiles[i]))
    headers = [("rank", "num"), ("model", "text"), ("params", "num"), ("MACs", "num"), ("FLOPs", "num"),
               ("weights", "num"), ("peak memory", "num"), ("top-1 %", "num"), ("NetScore", "num"),
               ("acc. % / M params", "num")]
    rows = []
    for rank, i in enumerate(order, start=1):
        p = profiles[i]
        unknown = bool(p.unknown_cost_nodes)

        def metric(v):
            ok = v is not None and math.isfinite(v)
            return f'<td data-v="{v if ok else -1e300:.6g}">{f"{v:.2f}" if ok else "?"}</td>'

        macs_cell = _num_cell(p.macs).replace("</td>", ' <span class="unknown">+</span></td>') if unknown \
            else _num_cell(p.macs)
        rows.append("<tr>" + "".join([
            f'<td data-v="{rank}">{rank}</td>',
            f'<td class=t><a href="#model-{i + 1}">{_esc(_short_name(p.source))}</a></td>',
            _num_cell(p.params), macs_cell, _num_cell(p.flops), _num_cell(p.weight_bytes, "B"),
            _num_cell(p.peak_activation_bytes, "B"),
            metric(p.accuracy), metric(p.netscore), metric(p.information_density)]) + "</tr>")
    what = "NetScore (models without accuracy last)" if with_acc else "MACs (no accuracy given: no NetScore)"
    return f'<p class=muted>Ranked by {what}; click a header to sort by another column.</p>' + \
        _table(headers, rows, sortable=True, cls="ranking")


def render_html(sources: Any, *, accuracy: Accuracy = None, input_shapes=None, batch_size: int = 1,
                input_values=None, title: Optional[str] = None, charts: bool = True) -> str:
    """The report page as a string (see write_html)."""
    from . import __version__

    profiles = _profiles(sources, accuracy, input_shapes, batch_size, input_values)
    try:
        import matplotlib  # noqa: F401
        charts_ok = charts
    except ImportError:
        charts_ok = False
    no_charts = ('<p class="note">Charts need matplotlib: pip install "netscore-fast[plot]"</p>'
                 if charts and not charts_ok else "")
    title = title or ("netscore-fast report: " + (_short_name(profiles[0].source) if len(profiles) == 1 else
                                                   f"{len(profiles)} models"))
    parts = [f"<h1>{_esc(title)}</h1>",
             f'<p class=muted>netscore-fast {_esc(__version__)}; counts from the ONNX graph (no weights read); '
             "k/M/G = 10<sup>3</sup>/10<sup>6</sup>/10<sup>9</sup>; hover a number for its exact value.</p>",
             '<pre id="js-errors" hidden></pre>']
    if len(profiles) > 1:
        parts.append("<nav>" + "".join(f'<a href="#model-{i + 1}">{_esc(_short_name(p.source))}</a>'
                                       for i, p in enumerate(profiles)) + "</nav>")
        parts.append('<section id="ranking"><h2>Ranking</h2>' + _ranking(profiles))
        drawable = [p for p in profiles if _on_pareto_chart(p)]
        if len(drawable) >= 2 and charts_ok:
            parts.append('<h3>Pareto front: accuracy against MACs</h3><div class="chart" id="pareto-chart">' +
                         _pareto_chart(profiles) + "</div>")
            left = [p for p in profiles if p not in drawable]
            if left:
                parts.append('<p class="note">Not on the chart (no accuracy, or MACs or params unknown or 0): ' +
                             ", ".join(_esc(_short_name(p.source)) for p in left) + "</p>")
        elif len(drawable) < 2:
            parts.append('<p class="note">The Pareto chart needs the accuracy of at least two models whose MACs '
                         "and params are known and above 0 (--accuracy CSV, accuracy={...}).</p>")
        else:
            parts.append(no_charts)
        parts.append("</section>")
    for i, prof in enumerate(profiles):
        timeline = memory_timeline(prof)
        sec = [f'<section id="model-{i + 1}" class="model"><h2>{_esc(_short_name(prof.source))}</h2>',
               f"<p class=muted>{_esc(prof.source)}</p>", "<h3>Summary</h3>", _summary(prof, timeline)]
        sec.append("<h3>Memory timeline</h3><p class=muted>Activation bytes alive while each layer runs, in "
                   "execution order: a tensor lives from the layer that produces it (graph inputs from the "
                   "first) to its last reader (graph outputs to the end); weights are not counted.</p>")
        if timeline["peak_index"] >= 0 and charts_ok:
            sec.append('<div class="chart memory-chart">' + _memory_chart(prof, timeline) + "</div>")
        elif timeline["peak_index"] >= 0:
            sec.append(no_charts)
        sec.append("<h3>By op type</h3>" + _rollup_table(prof.by("op_type")))
        modules = prof.by("module")
        if any(r["key"] != "(no module)" for r in modules.rows):
            sec.append("<h3>By module</h3>" + _rollup_table(modules))
        else:
            sec.append('<h3>By module</h3><p class=muted>No module paths in this model (they come from the '
                       "torch exporters' node metadata or node names).</p>")
        sec.append(f"<h3>Layers ({prof.num_layers:,})</h3><p class=muted>In execution order; click a header to "
                   "sort. ? = unknown.</p>" + _layer_table(prof, timeline["live_bytes"]))
        sec.append("</section>")
        parts.append("".join(sec))
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(parts) + f"<script>{_JS}</script></body></html>\n")


def write_html(sources: Any, path: Union[str, os.PathLike], *, accuracy: Accuracy = None, input_shapes=None,
               batch_size: int = 1, input_values=None, title: Optional[str] = None, charts: bool = True) -> str:
    """Write a self-contained HTML report of one or several models to `path`; returns the path.

    sources: one model or a list: anything `netscore_fast.profile` takes (paths, bytes, onnx.ModelProto),
        (name, source) pairs, or ready Profile objects.
    accuracy: top-1 % for NetScore and the ranking: one number for every model, a mapping by path, file
        name or file name without .onnx, or a list in the order of the sources.
    input_shapes / batch_size / input_values: as in `netscore_fast.profile`.
    charts: False leaves out the charts (they need matplotlib, the `plot` extra).
    """
    text = render_html(sources, accuracy=accuracy, input_shapes=input_shapes, batch_size=batch_size,
                       input_values=input_values, title=title, charts=charts)
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
