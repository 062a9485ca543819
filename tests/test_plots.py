"""Charts: every kind writes a real image, user results overlay the zoo, a missing matplotlib says what to
install. Zoo rows here come from the published figures (netscore_fast.zoo.info), not from the profiler, so
these tests do not depend on the C++ core; the CLI test that needs the core skips without it."""
from __future__ import annotations

import builtins
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
# rows left off a chart warn (tested where it matters); the other tests draw such rows on purpose
pytestmark = pytest.mark.filterwarnings("ignore::netscore_fast.plots.NotDrawnWarning")

from netscore_fast import plots, zoo  # noqa: E402


def _published_rows():
    rows = []
    for name in zoo.names():
        d = zoo.info(name)
        if d["params_published"] and d["macs_published"]:
            rows.append({"name": name, "family": d["family"], "params": d["params_published"],
                         "gmacs": d["macs_published"] / 1e9, "top1": d["top1"]})
    return rows


USER = {"source": ["/m/net_a.onnx", "net_b.onnx", "failed.onnx"], "params": [2.5e6, 0.9e6, -1],
        "macs": [180e6, 60e6, -1], "accuracy": [71.5, 62.0, float("nan")], "error": ["", "", "bad graph"]}


def _assert_png(path, min_bytes=20_000):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > min_bytes
    from matplotlib.image import imread

    img = imread(str(path))
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05  # not a blank canvas


@pytest.mark.parametrize("kind", plots.KINDS)
def test_each_kind_writes_an_image_with_user_results_over_the_zoo(kind, tmp_path):
    out = tmp_path / f"{kind}.png"
    with pytest.warns(plots.NotDrawnWarning, match="failed"):
        fig = plots.plot(USER, kind=kind, with_zoo=True, out=str(out), zoo_rows=_published_rows())
    _assert_png(out)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts] + [t.get_text() for t in ax.get_yticklabels()]
    assert any("net_a" in t for t in texts) and any("net_b" in t for t in texts)
    assert not any("failed" in t for t in texts)
    assert ax.get_xlabel()


def test_ball_chart_axes_and_bubble_areas_follow_params(tmp_path):
    rows = [{"name": "small", "family": "A", "params": 1e6, "gmacs": 0.1, "top1": 60.0},
            {"name": "big", "family": "B", "params": 100e6, "gmacs": 10.0, "top1": 75.0}]
    fig = plots.plot(None, kind="ball", out=str(tmp_path / "b.png"), zoo_rows=rows)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "G-MACs" in ax.get_xlabel() and "%" in ax.get_ylabel()
    sizes = {}
    for coll in ax.collections:
        for (x, _y), s in zip(coll.get_offsets(), coll.get_sizes()):
            sizes[round(float(x), 3)] = float(s)
    # area = 20 + 1400 * params / max(params): proportional to params above a small floor
    assert sizes[10.0] == pytest.approx(1420.0)
    assert sizes[0.1] == pytest.approx(20 + 14.0)


def _label_boxes(fig):
    """(annotation, its text's own box in pixels) of every point label: the box of the text alone, not of its
    leader line."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.axes[0].texts:
        t.update_positions(renderer)
        out.append((t, Text.get_window_extent(t, renderer)))
    return out


def _gap(box, x, y):
    dx = max(box.x0 - x, 0.0, x - box.x1)
    dy = max(box.y0 - y, 0.0, y - box.y1)
    return (dx * dx + dy * dy) ** 0.5


@pytest.mark.parametrize("kind", ["ball", "pareto"])
def test_every_point_labelled_without_overlap_next_to_or_connected_to_its_point(kind, tmp_path):
    fig = plots.plot(USER, kind=kind, with_zoo=True, out=str(tmp_path / "b.png"), zoo_rows=_published_rows())
    ax = fig.axes[0]
    labels = _label_boxes(fig)
    # every drawable row has exactly one label (the failed row has none)
    expected = sorted([r["name"] for r in _published_rows()] + ["net_a", "net_b"])
    assert sorted(t.get_text() for t, _ in labels) == expected
    boxes = [b for _, b in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (labels[i][0].get_text())
    # each marker's radius in pixels, from the scatter collections (sizes are areas in points^2)
    radius = {}
    for coll in ax.collections:
        sizes = coll.get_sizes()
        for k, xy in enumerate(coll.get_offsets()):
            key = tuple(np.round(ax.transData.transform(xy), 3))
            r = 0.5 * np.sqrt(sizes[k % len(sizes)]) * fig.dpi / 72
            radius[key] = max(radius.get(key, 0.0), r)
    points = {t.get_text(): tuple(ax.transData.transform(t.xy)) for t, _ in labels}

    def gap_to_marker(box, name):
        x, y = points[name]
        return _gap(box, x, y) - radius[tuple(np.round((x, y), 3))]

    for t, box in labels:
        if t.arrow_patch is not None:   # a leader line from the label to its own point
            continue
        # no leader line: the label is nearer to its own marker than to any other marker
        nearest = min(points, key=lambda name: gap_to_marker(box, name))
        assert gap_to_marker(box, t.get_text()) <= gap_to_marker(box, nearest) + 1e-6, (t.get_text(), nearest)
        # and right next to it (within a few label heights)
        assert gap_to_marker(box, t.get_text()) < 4 * box.height


def test_crowded_and_coincident_points_are_all_labelled(tmp_path):
    # ten models at almost the same place and two at exactly the same place (e.g. one network exported twice)
    rows = [{"name": f"crowded_model_{i}", "family": "A", "params": 5e6, "gmacs": 1.0 + 0.01 * i, "top1": 70 + 0.05 * i}
            for i in range(10)]
    rows += [{"name": "twin_a", "family": "B", "params": 3e6, "gmacs": 0.3, "top1": 65.0},
             {"name": "twin_b", "family": "B", "params": 3e6, "gmacs": 0.3, "top1": 65.0}]
    for kind in ("ball", "pareto"):
        fig = plots.plot(None, kind=kind, zoo_rows=rows)
        labels = _label_boxes(fig)
        assert len(labels) == len(rows)
        boxes = [b for _, b in labels]
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def _legend_texts(ax):
    return [t.get_text() for leg in [ax.get_legend()] + [a for a in ax.artists if hasattr(a, "get_texts")]
            if leg is not None for t in leg.get_texts()]


def test_legends_hold_only_what_is_drawn():
    # two models, both on the Pareto front: nothing is dominated, so no "dominated" entry, and no "yours"
    rows = [{"name": "small", "family": "A", "params": 1e6, "gmacs": 0.1, "top1": 60.0},
            {"name": "big", "family": "B", "params": 2e6, "gmacs": 1.0, "top1": 70.0}]
    ax = plots.plot(None, kind="pareto", zoo_rows=rows).axes[0]
    assert _legend_texts(ax) == ["Pareto front"]
    drawn = {c.get_label() for c in ax.collections if len(c.get_offsets())}
    assert set(_legend_texts(ax)) <= drawn
    # with the user's results: "yours" appears, and "dominated" only when a zoo row is dominated
    ax = plots.plot(USER, kind="pareto", with_zoo=True, zoo_rows=rows).axes[0]
    assert set(_legend_texts(ax)) <= {c.get_label() for c in ax.collections if len(c.get_offsets())}
    assert "yours" in _legend_texts(ax)
    # ball chart: one family entry per family drawn; the size key shows no size larger than the largest network
    ax = plots.plot(None, kind="ball", zoo_rows=rows).axes[0]
    texts = _legend_texts(ax)
    assert [t for t in texts if "params" not in t] == ["A", "B"]
    assert [t for t in texts if "params" in t] == ["1 M params"]


def test_rows_without_accuracy_are_reported_not_dropped(tmp_path):
    results = {"source": ["a.onnx", "no_acc.onnx", "broken.onnx"], "params": [2e6, 3e6, -1],
               "macs": [3e8, 4e8, -1], "accuracy": [71.0, float("nan"), float("nan")], "error": ["", "", "bad graph"]}
    for kind in plots.KINDS:
        with pytest.warns(plots.NotDrawnWarning, match="no_acc"):
            fig = plots.plot(results, kind=kind, out=str(tmp_path / f"{kind}.png"))
        assert fig.not_drawn == [("no_acc", "no accuracy"), ("broken", "failed to profile")]
        notes = [t.get_text() for t in fig.texts]
        assert any("no_acc" in n and "no accuracy" in n and "broken" in n for n in notes)
    # every chart of the zoo alone draws every row: nothing to report
    fig = plots.plot(None, kind="ball", zoo_rows=_published_rows())
    assert fig.not_drawn == []
    with pytest.raises(ValueError, match="no_acc: no accuracy"):
        plots.plot({"source": ["no_acc.onnx"], "params": [1e6], "macs": [1e8], "accuracy": [float("nan")]})


def _bench_table():
    bench = pytest.importorskip("netscore_fast.bench")
    rows = []
    for i in range(40):
        op = ["Conv", "Conv", "Relu", "Add", "Gemm"][i % 5]
        status = "fused" if op == "Relu" else "measured"
        t = 0.0 if status == "fused" else (1e-4 * (1 + i % 7) if op != "Gemm" else 5e-5)
        rows.append({"name": f"/features/block.{i}/{op}", "op_type": op, "status": status, "median_s": t,
                     "gflops": 50.0 if op == "Conv" else float("nan"), "timed": True})
    rows.append({"name": "custom_0", "op_type": "MyOp", "status": "unmeasured", "median_s": float("nan")})
    return bench.BenchTable(rows, {"model": "test cpu", "isa_active": "scalar"}, "net.onnx", 1)


def test_bench_chart_groups_by_op_type_and_names_the_slowest_layers(tmp_path):
    table = _bench_table()
    fig = plots.bench_chart(table, str(tmp_path / "bench.png"))
    _assert_png(tmp_path / "bench.png", min_bytes=10_000)
    strip, by_op, slowest = fig.axes
    # the op-type panel: the op types that take time, their shares summing to 100 %
    names = [t.get_text() for t in by_op.get_yticklabels()]
    assert names == ["Conv (16)", "Add (8)", "Gemm (8)"]
    shares = [float(t.get_text().split("%")[0]) for t in by_op.texts]
    assert sum(shares) == pytest.approx(100.0, abs=0.2)
    # expected by hand: conv times 1e-4 * (1 + i % 7) over i % 5 in (0, 1)
    conv = sum(1e-4 * (1 + i % 7) for i in range(40) if i % 5 in (0, 1))
    add = sum(1e-4 * (1 + i % 7) for i in range(40) if i % 5 == 3)
    assert shares[0] == pytest.approx(100 * conv / (conv + add + 8 * 5e-5), abs=0.06)
    # the slowest layers are named, in order; the legend holds only op types drawn in the strip
    worst = sorted((r for r in table if r["median_s"] > 0), key=lambda r: -r["median_s"])[:12]
    assert [t.get_text() for t in slowest.get_yticklabels()] == [plots._short(r["name"], 26) for r in worst]
    assert sorted(_legend_texts(strip)) == ["Add", "Conv", "Gemm"]
    strip_labels = [t.get_text() for t in strip.texts]
    assert len(strip_labels) == 5
    # fused and unmeasured layers are accounted for in a footnote, not silently dropped
    note = " ".join(t.get_text() for t in fig.texts)
    assert "Relu 8" in note and "custom_0" in note


def test_bench_plot_of_a_model_table_uses_the_bench_chart(tmp_path):
    bench = pytest.importorskip("netscore_fast.bench")
    bench.plot(_bench_table(), tmp_path / "m.png")
    _assert_png(tmp_path / "m.png", min_bytes=10_000)


def test_pareto_front_by_hand():
    recs = [{"label": n, "macs": m, "top1": a} for n, m, a in
            [("a", 1, 50), ("b", 2, 60), ("c", 3, 55), ("d", 4, 70), ("e", 4, 65), ("f", 0.5, 40)]]
    assert [r["label"] for r in plots.pareto_front(recs)] == ["f", "a", "b", "d"]


def test_rank_bars_are_sorted_best_first(tmp_path):
    fig = plots.plot(USER, kind="netscore", with_zoo=True, zoo_rows=_published_rows())
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # bars are drawn bottom-up, so the last tick label is rank 1
    assert labels[-1].startswith("1. ")
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == sorted(widths)


def test_results_from_csv_and_dataframe(tmp_path):
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("source,params,macs,accuracy\n/x/one.onnx,1000000,1000000000,70\ntwo.onnx,5,5,\n")
    recs = plots.load_results(str(csv_path))
    assert [r["label"] for r in recs] == ["one", "two"]
    assert recs[0]["macs"] == 1e9 and recs[0]["top1"] == 70.0
    pd = pytest.importorskip("pandas")
    recs = plots.load_results(pd.DataFrame(USER))
    assert [r["label"] for r in recs] == ["net_a", "net_b"]
    # a `netscore-fast profile --out` CSV: BN running statistics are taken out of params, as in the zoo table
    prof = tmp_path / "p.csv"
    prof.write_text("source,params,macs,bn_stat_params,accuracy,error\nm.onnx,3538984,300774272,34112,72.5,\n")
    assert plots.load_results(str(prof))[0]["params"] == 3538984 - 34112
    with pytest.raises(ValueError, match="params and macs"):
        plots.load_results({"source": ["a"], "accuracy": [1.0]})


def test_profile_table_input(tmp_path):
    table = pytest.importorskip("netscore_fast.table")
    t = table.ProfileTable.from_rows([
        {"source": "a.onnx", "params": 2_000_000, "macs": 300_000_000, "accuracy": 70.0},
        {"source": "b.onnx", "params": 1_000_000, "macs": 100_000_000, "accuracy": 60.0}])
    recs = plots.load_results(t)
    assert sorted(r["label"] for r in recs) == ["a", "b"]
    plots.plot(t, kind="pareto", out=str(tmp_path / "p.png"))
    _assert_png(tmp_path / "p.png", min_bytes=5_000)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r'pip install "netscore-fast\[plot\]"'):
        plots.plot(USER, kind="ball")


def test_importing_plots_does_not_import_matplotlib():
    code = "import sys, netscore_fast.plots; print('matplotlib' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_cli_plot_with_zoo(tmp_path):
    import netscore_fast

    try:
        netscore_fast.profile(zoo.build("squeezenet1_1", weights="external"))
    except Exception as e:
        pytest.skip(f"netscore_fast.profile not usable yet: {e}")
    results = tmp_path / "results.csv"
    results.write_text("source,params,macs,accuracy\nmine.onnx,3000000,250000000,72.0\n")
    out = tmp_path / "fig.png"
    res = subprocess.run([sys.executable, "-m", "netscore_fast.cli", "plot", str(results), "--kind", "pareto",
                          "--with-zoo", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    _assert_png(out)


def test_zoo_charts_writes_the_four_reference_charts(tmp_path):
    rows = [r for r in _published_rows() if r["name"] in
            ("resnet50", "mobilenet_v2_1.0", "squeezenet1_1", "vgg16", "efficientnet_b0")]
    paths = plots.zoo_charts(str(tmp_path / "charts"), rows)
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == sorted(f"zoo_{k}.png" for k in plots.KINDS)
    for p in paths:
        _assert_png(type(tmp_path)(p), min_bytes=5_000)


@pytest.mark.parametrize("kind", plots.KINDS)
def test_names_with_dollar_signs_are_text_not_mathtext(kind, tmp_path):
    # "$\foo{$" is a mathtext expression matplotlib cannot parse: drawn as math it would fail the chart
    results = {"source": ["$\\foo{$.onnx", "b.onnx"], "params": [1e6, 2e6], "macs": [1e8, 2e8], "accuracy": [60, 70]}
    fig = plots.plot(results, kind=kind, out=str(tmp_path / f"{kind}.png"))
    texts = [t.get_text() for t in fig.axes[0].texts] + [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any("$\\foo{$" in t for t in texts)


def test_bench_chart_draws_names_with_dollar_signs(tmp_path):
    bench = pytest.importorskip("netscore_fast.bench")
    rows = [{"name": "$\\foo{$", "op_type": "x::$\\bar{$", "status": "measured", "median_s": 1e-3, "timed": True},
            {"name": "ok", "op_type": "Conv", "status": "measured", "median_s": 2e-3, "timed": True}]
    plots.bench_chart(bench.BenchTable(rows, {}, "$\\baz{$.onnx", 1), str(tmp_path / "b.png"))
    _assert_png(tmp_path / "b.png", min_bytes=5_000)
