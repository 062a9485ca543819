"""The Canziani chart against predicted latency (issue 13, item 5): points sit at their latency_ms, rows
without a latency are reported, not dropped, and the other charts refuse the latency axis."""
import math
import warnings

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from netscore_fast import plots  # noqa: E402


def _columns():
    return {"source": ["models/a.onnx", "models/mobilenet_v1_0.25_128.onnx", "c.onnx", "d.onnx"],
            "params": [1e6, 4e6, 2e7, 3e6], "macs": [1e8, 6e8, 4e9, 3e8],
            "accuracy": [60.0, 70.0, 76.0, 65.0], "latency_ms": [1.5, 9.0, 80.0, float("nan")]}


def test_ball_chart_x_is_the_latency_column():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.plot(_columns(), kind="ball", x="latency_ms")
    ax = fig.axes[0]
    assert "latency" in ax.get_xlabel()
    xs = sorted(float(x) for coll in ax.collections for x, _ in coll.get_offsets() if len(coll.get_offsets()))
    assert xs == [1.5, 9.0, 80.0]
    assert fig.not_drawn == [("d", "no latency (profile with device=)")]
    assert any(issubclass(w.category, plots.NotDrawnWarning) for w in caught)
    labels = {t.get_text() for t in ax.texts}
    assert "mobilenet_v1_0.25_128" in labels          # a dot in the name is not an extension


def test_macs_axis_unchanged_and_latency_only_for_the_ball_chart():
    fig = plots.plot(_columns(), kind="ball")
    xs = sorted(float(x) for coll in fig.axes[0].collections for x, _ in coll.get_offsets() if len(coll.get_offsets()))
    assert np.allclose(xs, [0.1, 0.3, 0.6, 4.0])      # G-MACs: the latency-less row is drawn here
    with pytest.raises(ValueError, match="ball chart"):
        plots.plot(_columns(), kind="pareto", x="latency_ms")
    with pytest.raises(ValueError, match="x must be"):
        plots.ball_chart(plots.load_results(_columns()), x="flops")


def test_profile_many_device_column_reaches_the_chart(tmp_path):
    """profile_many(device=...) -> CSV -> `netscore-fast plot --x latency_ms`: the chain a user runs."""
    import netscore_fast as nf
    from netscore_fast import device, zoo
    from netscore_fast.cli import main
    names = ["squeezenet1_1", "mobilenet_v2_1.0", "resnet18"]
    srcs = [(n, zoo.build(n)) for n in names]
    model = device.fit_features({"full_coarse": np.c_[np.ones(3), [1.0, 2.0, 3.0], [0, 0, 0], [0, 0, 0],
                                                       [0, 0, 0], [0, 0, 0], [0, 0, 0]]},
                                {"full_coarse": device.feature_names("full_coarse")}, [1.0, 2.0, 3.0], folds=3)
    table = nf.profile_many(srcs, accuracy=[58.2, 71.9, 69.8], device=model)
    assert np.all(np.isfinite(table["latency_ms"]))
    csv = tmp_path / "r.csv"
    table.write(str(csv))
    out = tmp_path / "lat.png"
    assert main(["plot", str(csv), "--x", "latency_ms", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000 and not math.isnan(float(table["latency_ms"][0]))
