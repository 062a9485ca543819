"""ProfileTable: row/column access, sorting, Pareto fronts against brute force, metrics, I/O, `rank`."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from netscore_fast import metrics
from netscore_fast.table import COLUMNS, ProfileTable


def _table(n=6, seed=0):
    rng = np.random.default_rng(seed)
    params = rng.integers(1_000_000, 50_000_000, n)
    macs = rng.integers(100_000_000, 5_000_000_000, n)
    acc = rng.uniform(50, 80, n)
    err = [""] * n
    return ProfileTable({"source": [f"m{i}.onnx" for i in range(n)], "params": params, "macs": macs,
                         "flops": 2 * macs, "weight_bytes": 4 * params, "accuracy": acc, "error": err,
                         "unsupported": np.zeros(n, dtype=np.int64)})


def test_columns_rows_and_selection():
    t = _table(6)
    assert t.columns[:len(COLUMNS)] == list(COLUMNS)
    assert len(t) == 6
    assert t["macs"].dtype == np.float64 and t["accuracy"].dtype == np.float64   # counts: NaN when unknown
    assert type(t[2]["macs"]) is int and t[2]["macs"] == int(t["macs"][2])
    row = t[2]
    assert row["source"] == "m2.onnx" and row["params"] == int(t["params"][2])
    assert t[-1]["source"] == "m5.onnx"
    with pytest.raises(IndexError):
        t[6]
    assert len(t[1:4]) == 3 and t[1:4][0]["source"] == "m1.onnx"
    mask = t["params"] > np.median(t["params"])
    assert list(t[mask]["source"]) == [s for s, m in zip(t["source"], mask) if m]
    assert list(t[[4, 0]]["source"]) == ["m4.onnx", "m0.onnx"]
    with pytest.raises(KeyError):
        t["nope"]


def test_missing_columns_default_to_unknown():
    t = ProfileTable({"source": ["a", "b"], "macs": [1, 2]})
    assert np.isnan(t["params"]).all() and list(t["macs"]) == [1, 2]
    assert np.isnan(t["accuracy"]).all()
    assert list(t["error"]) == ["", ""]


def test_netscore_column_matches_the_formula_of_wong_2018():
    t = _table(5)
    t.add_metric("netscore")
    a, p, m = t["accuracy"], t["params"] / 1e6, t["macs"] / 1e9
    # Omega = 20 log10(a^2 / (p^0.5 m^0.5)), a in %, p in M params, m in G MACs
    expected = 20 * np.log10(a ** 2 / (np.sqrt(p) * np.sqrt(m)))
    np.testing.assert_allclose(t["netscore"], expected, rtol=1e-12)
    t.add_metric("information_density")
    np.testing.assert_allclose(t["information_density"], a / p)


def test_metrics_are_nan_where_undefined_and_without_accuracy():
    a = np.array([70.0, 0.0, -1.0, np.nan, 70.0, 70.0])
    p = np.array([1e6, 1e6, 1e6, 1e6, 0, 1e6])
    m = np.array([1e9, 1e9, 1e9, 1e9, 1e9, -5])
    got = metrics.netscore(a, p, m)
    assert got[0] == pytest.approx(20 * np.log10(70.0 ** 2)) and np.isnan(got[1:]).all()
    assert np.isnan(metrics.information_density(a[3:5], p[3:5])).all()
    t = ProfileTable({"source": ["a", "b"], "params": [10, 20], "macs": [30, 40]})   # no accuracy at all
    assert np.isnan(t.add_metric("netscore")["netscore"]).all()
    builtin = metrics.METRICS["netscore"]
    metrics.register_metric("netscore", lambda c: c["macs"] / c["params"], overwrite=True)   # no longer of accuracy
    try:
        np.testing.assert_allclose(t.add_metric("netscore")["netscore"], [3.0, 2.0])
    finally:
        metrics.register_metric("netscore", builtin, overwrite=True)


def test_user_metric_and_registry():
    t = _table(4)
    t.add_metric("macs_per_param", lambda c: c["macs"] / c["params"])
    np.testing.assert_allclose(t["macs_per_param"], t["macs"] / t["params"])
    assert "macs_per_param" in t.columns
    name = "test_table_bytes_per_param"
    metrics.register_metric(name, lambda c: c["weight_bytes"] / c["params"], overwrite=True)
    try:
        np.testing.assert_allclose(t[name], 4.0)   # computed on the fly from the registry
        with pytest.raises(ValueError):
            metrics.register_metric(name, lambda c: c["params"])
    finally:
        metrics.METRICS.pop(name, None)
    np.testing.assert_allclose(t["accuracy_per_gmac"], t["accuracy"] / (t["macs"] / 1e9))


def test_error_rows_get_nan_metrics_and_sort_last():
    t = ProfileTable({"source": ["a", "bad", "c"], "params": [2_000_000, -1, 1_000_000],
                      "macs": [3_000_000, -1, 1_000_000], "accuracy": [70.0, 90.0, math.nan],
                      "error": ["", "bad: truncated", ""]})
    t.add_metric("netscore")
    assert math.isnan(t["netscore"][1]) and math.isnan(t["netscore"][2]) and not math.isnan(t["netscore"][0])
    assert list(t.ok) == [True, False, True]
    assert list(t.sort_by("params")["source"]) == ["c", "a", "bad"]
    assert list(t.sort_by("params", descending=True)["source"]) == ["a", "c", "bad"]
    assert list(t.sort_by("netscore", descending=True)["source"])[0] == "a"
    assert list(t.sort_by("accuracy")["source"]) == ["a", "c", "bad"]   # NaN and failures last


def _brute_force_front(F):
    n = len(F)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if i != j and np.all(F[j] <= F[i]) and np.any(F[j] < F[i]):
                keep[i] = False
                break
    return keep


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [2, 3])
def test_pareto_matches_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    n = 120
    # few distinct values: many ties and duplicates
    acc = rng.integers(0, 8, n).astype(float)
    macs = rng.integers(1, 9, n)
    params = rng.integers(1, 9, n)
    t = ProfileTable({"source": [str(i) for i in range(n)], "accuracy": acc, "macs": macs, "params": params})
    minimize = ["macs", "params"][:k - 1]
    got = t.pareto_mask(maximize=["accuracy"], minimize=minimize)
    F = np.stack([-acc] + [t[c].astype(float) for c in minimize], axis=1)
    expected = _brute_force_front(F)
    assert got.tolist() == expected.tolist(), f"seed={seed}"
    front = t.pareto(maximize=["accuracy"], minimize=minimize)
    assert len(front) == expected.sum()


def test_pareto_leaves_out_failed_and_nan_rows():
    t = ProfileTable({"source": ["a", "b", "c"], "accuracy": [90.0, math.nan, 50.0], "macs": [10, 1, 20],
                      "params": [1, 1, 1], "error": ["", "", ""]})
    assert list(t.pareto(maximize=["accuracy"], minimize=["macs"])["source"]) == ["a"]
    t2 = ProfileTable({"source": ["a", "b"], "accuracy": [90.0, 95.0], "macs": [10, 1],
                       "error": ["", "failed"]})
    assert list(t2.pareto(maximize=["accuracy"], minimize=["macs"])["source"]) == ["a"]


def _assert_tables_equal(a, b):
    assert a.columns == b.columns
    for c in a.columns:
        x, y = a[c], b[c]
        if x.dtype == object:
            assert list(x) == list(y), c
        else:
            np.testing.assert_array_equal(x, y, err_msg=c)


@pytest.mark.parametrize("ext", ["csv", "json", "parquet"])
def test_round_trip(tmp_path, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    t = _table(7)
    t.add_metric("netscore")
    t.add_metric("accuracy_per_gmac")
    # an error row and a missing accuracy
    cols = t.to_dict()
    cols["error"] = np.array(["", "", "x.onnx: bad, \"quoted\"\nnewline", "", "", "", ""], dtype=object)
    cols["params"] = cols["params"].copy()
    cols["params"][2] = -1
    cols["accuracy"] = cols["accuracy"].copy()
    cols["accuracy"][3] = math.nan
    t = ProfileTable(cols)
    path = tmp_path / f"r.{ext}"
    t.write(path)
    _assert_tables_equal(t, ProfileTable.read(path))


def test_to_pandas_and_missing_pandas_message(monkeypatch):
    pd = pytest.importorskip("pandas")
    t = _table(3)
    df = t.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == t.columns and len(df) == 3
    assert df["macs"].tolist() == t["macs"].tolist()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"netscore-fast\[pandas\]"):
        t.to_pandas()


def test_parquet_without_pyarrow_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"netscore-fast\[pandas\]"):
        _table(2).to_parquet(tmp_path / "x.parquet")


def test_concat_and_pickle():
    import pickle
    a, b = _table(3, seed=1), _table(2, seed=2)
    c = ProfileTable.concat([a, b])
    assert len(c) == 5 and c[3]["params"] == b[0]["params"]
    _assert_tables_equal(c, pickle.loads(pickle.dumps(c)))


def test_rank_command(tmp_path, capsys):
    from netscore_fast.cli import main
    t = _table(8, seed=3)
    t.add_metric("netscore")
    path = tmp_path / "r.csv"
    t.to_csv(path)
    assert main(["rank", str(path), "--by", "netscore", "--top", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    expected = [t["source"][i] for i in np.argsort(-t["netscore"])[:3]]
    # the table has no activation columns: they show as "?" and a footnote says what that means
    # (headers of the text view: netscore_fast.table.TEXT_HEADERS; the footnote wraps at the width)
    assert out[0].split()[:3] == ["rank", "source", "NetScore"] and out[4].startswith("? = ")
    assert [line.split()[1] for line in out[1:4]] == expected
    assert main(["rank", str(path), "--by", "macs", "--ascending"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[1].split()[1] == t["source"][int(np.argmin(t["macs"]))]
    assert main(["rank", str(path), "--by", "no_such_metric"]) == 2
