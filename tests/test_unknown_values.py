"""Honest tables: a total with an unknown part and every number of a failed model is NaN (empty in CSV, null
in JSON, NA in pandas), sorts last, stays out of Pareto fronts, and is marked by `rank` and summaries."""
from __future__ import annotations

import csv
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from netscore_fast import _core  # noqa: E402
from netscore_fast.table import ProfileTable  # noqa: E402

from conftest import TINY_MACS, TINY_PARAMS, make_tiny_model  # noqa: E402

COUNT_COLUMNS = tuple(_core.TOTALS_COLUMNS)   # the per-model totals
PARTIAL = ("macs", "flops", "activation_bytes", "peak_activation_bytes")   # what a node of unknown cost leaves open


def _symbolic_matmul():
    """BERT-like: MatMul of x [1, seq, 64] by a 64x64 weight, then Relu; seq is symbolic, so both costs are
    unknown. Hand count: params = 64 * 64 = 4096 (16384 bytes of float32)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
                           helper.make_node("Relu", ["h"], ["y"], name="act")], "bert_like", [x], [y], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _symbolic_conv():
    """Conv(3->8, 3x3) on x [1, 3, "h", 32]: an unknown spatial dim. params = 8*3*3*3 = 216."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", 32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32), "w")
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])],
                          "conv_h", [x], [y], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _with_unsupported_op():
    """The tiny model (hand-counted) followed by an op of an unknown domain."""
    return make_tiny_model(graph_name="custom", extra_nodes=[
        helper.make_node("Mystery", ["y"], ["z"], name="mystery", domain="com.example")])


def _sources():
    return [("known", make_tiny_model().SerializeToString()),
            ("bert_like", _symbolic_matmul().SerializeToString()),
            ("conv_h", _symbolic_conv().SerializeToString()),
            ("custom", _with_unsupported_op().SerializeToString()),
            ("broken", b"\x0a\xff\xff")]


@pytest.fixture(scope="module")
def table():
    return nf.profile_many(_sources(), accuracy=[70.0, 80.0, 75.0, 72.0, 90.0], progress=False)


def test_counts_are_float64_with_nan_for_unknown_parts_and_failed_rows(table):
    for c in COUNT_COLUMNS:
        assert table[c].dtype == np.float64, c
    known, bert, conv, custom, broken = (table[i] for i in range(5))
    assert known["macs"] == TINY_MACS and known["params"] == TINY_PARAMS and known["unknown_cost_nodes"] == 0
    assert bert["unknown_cost_nodes"] == 2 and bert["unsupported"] == 0
    assert bert["params"] == 64 * 64 and bert["weight_bytes"] == 64 * 64 * 4   # known: weights have fixed sizes
    assert conv["unknown_cost_nodes"] == 1 and conv["params"] == 8 * 3 * 3 * 3
    assert custom["unsupported"] == 1 and custom["unknown_cost_nodes"] == 1 and custom["params"] == TINY_PARAMS
    for row in (bert, conv, custom):
        for c in PARTIAL:
            assert math.isnan(row[c]), (row["source"], c)
    assert broken["error"]
    for c in COUNT_COLUMNS:
        assert math.isnan(broken[c]), c
    # sums and means of what is known are not dragged down by -1 placeholders
    assert np.nansum(table["params"]) == TINY_PARAMS * 2 + 4096 + 216
    assert np.nanmax(table["macs"]) == np.nanmin(table["macs"]) == TINY_MACS


def test_metrics_over_unknown_inputs_are_nan(table):
    assert not math.isnan(table[0]["netscore"])
    for i in (1, 2, 3, 4):
        assert math.isnan(table[i]["netscore"]), i
    assert math.isnan(table["accuracy_per_gmac"][1])
    p = nf.profile(_symbolic_matmul(), accuracy=80.0)
    assert math.isnan(p.netscore)   # the MACs are not known: no NetScore from a partial sum
    assert p.totals()["netscore"] is None


def test_unknown_rows_sort_last_in_both_directions(table):
    for descending in (False, True):
        order = list(table.sort_by("macs", descending=descending)["source"])
        assert order[0] == "known" and order[-1] == "broken", order
        assert set(order[1:4]) == {"bert_like", "conv_h", "custom"}


def test_pareto_leaves_unknown_rows_out_and_counts_them(table):
    front = table.pareto(maximize=("accuracy",), minimize=("macs", "params"))
    assert list(front["source"]) == ["known"]
    assert front.excluded == 4
    assert table.pareto(maximize=("accuracy",), minimize=("params",)).excluded == 1   # only the failed row


def test_csv_json_parquet_and_pandas_show_unknown_as_empty_null_and_na(table, tmp_path):
    table.write(tmp_path / "r.csv")
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[1]["macs"] == "" and rows[1]["params"] == "4096" and rows[1]["unknown_cost_nodes"] == "2"
    assert rows[4]["params"] == "" and rows[0]["macs"] == str(TINY_MACS)
    table.write(tmp_path / "r.json")
    rows = json.loads((tmp_path / "r.json").read_text())
    assert rows[1]["macs"] is None and rows[4]["params"] is None and rows[0]["macs"] == TINY_MACS
    assert isinstance(rows[0]["macs"], int)   # whole numbers stay whole in JSON
    for ext in ("csv", "json", "parquet"):
        if ext == "parquet":
            pytest.importorskip("pyarrow")
            table.write(tmp_path / "r.parquet")
        back = ProfileTable.read(tmp_path / f"r.{ext}")
        for c in COUNT_COLUMNS:
            np.testing.assert_array_equal(back[c], table[c], err_msg=f"{ext} {c}")
    d = table.to_dict()
    assert math.isnan(d["macs"][1]) and d["macs"][0] == TINY_MACS
    pd = pytest.importorskip("pandas")
    df = table.to_pandas()
    assert pd.isna(df["macs"][1]) and pd.isna(df["params"][4]) and df["macs"][0] == TINY_MACS
    assert pd.isna(df.convert_dtypes()["macs"][1])


def test_cache_and_executor_paths_give_the_same_nans(table, tmp_path):
    db = str(tmp_path / "c.db")
    acc = [70.0, 80.0, 75.0, 72.0, 90.0]
    first = nf.profile_many(_sources(), accuracy=acc, cache=db, progress=False)
    again = nf.profile_many(_sources(), accuracy=acc, cache=db, progress=False)   # every row from the cache
    with ThreadPoolExecutor(2) as ex:
        remote = nf.profile_many(_sources(), accuracy=acc, executor=ex, chunk_size=2, progress=False)
    for t in (first, again, remote):
        for c in COUNT_COLUMNS + ("netscore",):
            np.testing.assert_array_equal(t[c], table[c], err_msg=c)


def test_from_rows_of_profile_totals_is_honest_too():
    t = ProfileTable.from_rows([nf.profile(_symbolic_matmul()).totals(), nf.profile(make_tiny_model()).totals()])
    assert math.isnan(t[0]["macs"]) and t[0]["unknown_cost_nodes"] == 2 and t[0]["params"] == 4096
    assert t[1]["macs"] == TINY_MACS and t[1]["unknown_cost_nodes"] == 0


def test_a_table_of_old_rows_treats_failed_rows_as_unknown():
    # rows written before NaN (failed models held -1 everywhere)
    t = ProfileTable({"source": ["a", "bad"], "params": [10, -1], "macs": [20, -1], "error": ["", "bad: x"]})
    assert t[0]["macs"] == 20 and math.isnan(t[1]["macs"]) and math.isnan(t[1]["params"])


def test_rank_marks_unknown_cells_and_ranks_them_last(table, tmp_path, capsys):
    from netscore_fast.cli import main
    path = tmp_path / "r.csv"
    table.write(path)
    assert main(["rank", str(path), "--by", "macs", "--ascending"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    header = out[0].split()
    assert header[:3] == ["rank", "source", "MACs"]   # the text view's header of macs (table.TEXT_HEADERS)
    body = [line.split() for line in out[1:6]]
    from netscore_fast._units import si
    assert body[0][1] == "known" and f" {si(TINY_MACS)} " in f" {out[1]} "   # counts with units
    for cells in body[1:4]:
        assert cells[2] == "?", cells
    assert body[4][1] == "broken"
    assert any("?" in line and "unknown" in line for line in out[6:]), out   # the footnote


def test_summary_marks_every_total_that_misses_a_part():
    text = nf.profile(_symbolic_matmul()).summary()
    lines = {line.split("  ")[1].strip(): line for line in text.splitlines() if line.startswith("  ") and
             len(line.split("  ")) > 2}
    for label in ("MACs", "FLOPs", "activations", "peak activations"):
        assert "+" in lines[label] and "2 nodes of unknown cost" in lines[label], lines[label]
    assert "+" not in lines["params"] and "+" not in lines["weights"]
    assert any(line.strip().startswith("+:") for line in text.splitlines()), text   # the marker explained
    plain = nf.profile(make_tiny_model()).summary()
    assert "+:" not in plain and "unknown cost" not in plain


def test_profile_command_marks_unknown_counts_in_its_table(tmp_path, capsys):
    from netscore_fast.cli import main
    for name, data in _sources()[:2]:
        (tmp_path / f"{name}.onnx").write_bytes(data)
    assert main(["profile", str(tmp_path), "--threads", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    # the text view: counts with units, right-aligned under their header (MACs: table.TEXT_HEADERS)
    end = out[0].index("MACs") + len("MACs")
    rows = {os.path.basename(line.split()[0]): line[:end].split()[-1:] + [line[:end]] for line in out[1:3]}
    from netscore_fast._units import si
    assert rows["bert_like.onnx"][0] == "?"
    assert rows["known.onnx"][1].endswith(si(TINY_MACS))
    assert out[-1].startswith("? = unknown (1 row)")


def test_plot_command_says_how_many_models_it_left_out(table, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from netscore_fast.cli import main
    table.write(tmp_path / "r.csv")
    assert main(["plot", str(tmp_path / "r.csv"), "--kind", "pareto", "--out", str(tmp_path / "p.png")]) == 0
    assert "4 models not drawn" in capsys.readouterr().err


def test_a_hand_built_table_with_fractional_counts_keeps_them(tmp_path):
    t = ProfileTable({"source": ["a", "b"], "params": [2.5e6, 1.25], "macs": [3, math.nan]})
    assert t[1]["params"] == 1.25 and t[0]["macs"] == 3 and type(t[0]["macs"]) is int
    for ext in ("csv", "json"):
        t.write(tmp_path / f"h.{ext}")
        back = ProfileTable.read(tmp_path / f"h.{ext}")
        np.testing.assert_array_equal(back["params"], t["params"])
        np.testing.assert_array_equal(back["macs"], t["macs"])
    pd = pytest.importorskip("pandas")
    df = t.to_pandas()
    assert df["params"].dtype == np.float64 and str(df["macs"].dtype) == "Int64" and pd.isna(df["macs"][1])
