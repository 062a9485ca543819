"""Charts: every kind writes a real image, user results overlay the zoo, a missing matplotlib says what to
install. Zoo rows here come from the published figures (netscore_fast.zoo.info), not from the profiler, so
these tests do not depend on the C++ core; the CLI test that needs the core skips without it."""
from __future__ import annotations

import builtins
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

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


def test_labels_do_not_overlap(tmp_path):
    fig = plots.plot(USER, kind="ball", with_zoo=True, out=str(tmp_path / "b.png"), zoo_rows=_published_rows())
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) >= 20
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


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
