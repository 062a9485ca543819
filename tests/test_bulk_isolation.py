"""Bulk isolation (issue 11): one bad model among thousands never costs another row -- with and without a
result cache (cold and warm), with 1 and 2 threads. Every good row equals profile() of that model alone;
every bad row has its error and NaN counts."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from netscore_fast.table import COUNT_COLUMNS  # noqa: E402

from test_hostile import function_bomb  # noqa: E402

# the totals a node of unknown cost leaves incomplete: NaN in a table (docs/counting.md)
OPEN_WITH_UNKNOWN_COST = ("macs", "flops", "activation_bytes", "peak_activation_bytes")
NAME_SLOT = b"g_slot_00000000"   # a graph name rewritten per row (same length), so every good row is unique


def good_model(channels: int, kernel: int, node_name: str = "conv") -> bytes:
    """Conv(3->channels, kernel) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(channels->10)."""
    rng = np.random.default_rng(channels * 10 + kernel)
    inits = [numpy_helper.from_array(rng.standard_normal((channels, 3, kernel, kernel)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(channels).astype(np.float32), "b"),
             numpy_helper.from_array(rng.standard_normal((10, channels)).astype(np.float32), "wf")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name=node_name, kernel_shape=[kernel, kernel],
                              pads=[kernel // 2] * 4),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "wf"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, NAME_SLOT.decode(),
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], initializer=inits)
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    assert data.count(NAME_SLOT) == 1
    return data


def unique(data: bytes, i: int) -> bytes:
    return data.replace(NAME_SLOT, b"g_slot_%08d" % i)


def one_op_model(node: onnx.NodeProto, x_dims, name="m") -> bytes:
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def cycle_model() -> bytes:
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="r1"), helper.make_node("Relu", ["a"], ["b"], name="r2"),
             helper.make_node("Relu", ["x"], ["y"], name="r0")]
    graph = helper.make_graph(nodes, "cycle", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def hostile_sources(tmp_path):
    """(name, source, must_fail) for every kind of bad input; must_fail False marks hostile inputs that
    profile() accepts (their row must then equal profile(), like any good row)."""
    good = good_model(4, 3, node_name="convXname")
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    directory = tmp_path / "folder.onnx"
    directory.mkdir()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good[: len(good) // 3])
    wrong = good_model(5, 1, node_name="convXname")
    # channel contradiction (weights for 5 channels on a 3-channel input ... made 7) named with a bad byte
    wrong = wrong.replace(b"convXname", b"conv\xffname").replace(
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8]).SerializeToString(),
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 7, 8, 8]).SerializeToString())
    return [
        ("truncated-bytes", good[: len(good) // 2], True),
        ("garbage-bytes", b"\x0a\xff\xff", True),
        ("empty-bytes", b"", None),   # whatever profile() says, the row must agree
        ("non-utf8-name", good.replace(b"convXname", b"conv\xffname"), False),
        ("non-utf8-name-in-error", wrong, True),
        ("function-bomb", function_bomb().SerializeToString(), True),
        ("cycle", cycle_model(), True),
        ("invalid-dim", one_op_model(helper.make_node("MatMul", ["x", "x"], ["y"]), [2 ** 62, 2 ** 62]), True),
        ("negative-dim", one_op_model(helper.make_node("MatMul", ["x", "x"], ["y"]), [-5, -5]), False),
        ("huge-dims", one_op_model(helper.make_node("MatMul", ["x", "x"], ["y"]), [2 ** 40, 2 ** 40]), None),
        ("missing-path", str(tmp_path / "missing.onnx"), True),
        ("fifo-path", str(fifo), True),
        ("directory-path", str(directory), True),
        ("device-path", "/dev/null", True),
        ("truncated-file", str(cut), True),
    ]


def expected_row(source):
    """profile() of one model as a table row (NaN where the table shows unknown), or None if it fails."""
    try:
        p = nf.profile(source)
    except nf.ModelError:
        return None
    row = {c: float(getattr(p, c)) for c in COUNT_COLUMNS if c not in ("unsupported", "unknown_cost_nodes")}
    row["unsupported"] = float(sum(len(v) for v in p.unsupported_ops.values()))
    row["unknown_cost_nodes"] = float(len(p.unknown_cost_nodes))
    if p.unknown_cost_nodes:
        row.update((c, math.nan) for c in OPEN_WITH_UNKNOWN_COST)
    return row


def build_sources(tmp_path, n: int, seed: int = 11):
    """n rows: good models (half as files, half as bytes; every one unique) with the hostile ones mixed in
    at random positions (about 1 row in 20), each kind many times."""
    rng = np.random.default_rng(seed)
    templates = [good_model(c, k) for c in (1, 2, 3, 4, 8, 16) for k in (1, 3)]
    bad = hostile_sources(tmp_path)
    folder = tmp_path / "models"
    folder.mkdir()
    sources, kinds = [], []
    for i in range(n):
        if rng.random() < 0.05:
            name, src, must_fail = bad[int(rng.integers(len(bad)))]
            sources.append(src if isinstance(src, str) else (f"{name}-{i}", src))
            kinds.append((name, must_fail))
            continue
        data = unique(templates[int(rng.integers(len(templates)))], i)
        if i % 2:
            path = folder / f"m{i}.onnx"
            path.write_bytes(data)
            sources.append(str(path))
        else:
            sources.append((f"bytes-{i}", data))
        kinds.append(("good", False))
    for name, _, _ in bad:   # every kind at least once
        assert any(k == name for k, _ in kinds), name
    return sources, kinds


def expected_table(sources, kinds):
    """The expected counts (NaN for failures and unknowns) and the mask of rows expected to fail."""
    exp = np.full((len(sources), len(COUNT_COLUMNS)), math.nan)
    fails = np.zeros(len(sources), dtype=bool)
    memo = {}
    for i, (src, (kind, must_fail)) in enumerate(zip(sources, kinds)):
        payload = src[1] if isinstance(src, tuple) else src
        key = payload if kind != "good" else None
        if key is not None and key in memo:
            row = memo[key]
        else:
            row = expected_row(payload)
            if key is not None:
                memo[key] = row
        if must_fail is True:
            assert row is None, (kind, "profile() accepts it")
        elif must_fail is False:
            assert row is not None, (kind, "profile() rejects it")
        if row is None:
            fails[i] = True
        else:
            exp[i] = [row[c] for c in COUNT_COLUMNS]
    return exp, fails


def check_table(table, sources, exp, fails, label):
    assert len(table) == len(sources), label
    names = [s[0] if isinstance(s, tuple) else s for s in sources]
    assert list(table["source"]) == names, label
    errors = np.array([bool(e) for e in table["error"]])
    bad_rows = np.flatnonzero(errors != fails)
    assert bad_rows.size == 0, (label, [(names[i], table["error"][i]) for i in bad_rows[:5]])
    np.testing.assert_array_equal(np.asarray(table.ok), ~fails, err_msg=label)
    got = np.column_stack([np.asarray(table[c], dtype=np.float64) for c in COUNT_COLUMNS])
    # assert_array_equal treats NaN == NaN: failed rows and unknown totals must be NaN exactly where expected
    np.testing.assert_array_equal(got, exp, err_msg=label)
    assert np.isnan(np.asarray(table["netscore"], dtype=np.float64)[fails]).all(), label


def run_isolation(tmp_path, n: int):
    sources, kinds = build_sources(tmp_path, n)
    exp, fails = expected_table(sources, kinds)
    assert fails.sum() > n // 40 and (~fails).sum() > n * 0.9
    timings = {}
    for threads in (1, 2):
        t0 = time.perf_counter()
        table = nf.profile_many(sources, threads=threads, errors="record", cache=None, progress=False)
        timings[f"threads={threads} cache=None"] = time.perf_counter() - t0
        check_table(table, sources, exp, fails, f"threads={threads}, no cache")
        cache = str(tmp_path / f"cache-{threads}.sqlite")
        for state in ("cold", "warm"):
            t0 = time.perf_counter()
            table = nf.profile_many(sources, threads=threads, errors="record", cache=cache, progress=False)
            timings[f"threads={threads} cache={state}"] = time.perf_counter() - t0
            check_table(table, sources, exp, fails, f"threads={threads}, {state} cache")
    print(f"\n{n} rows, {int(fails.sum())} failing: " + ", ".join(f"{k}: {v:.2f} s" for k, v in timings.items()))


def test_one_bad_model_never_costs_another_row_2000(tmp_path):
    run_isolation(tmp_path, 2000)


@pytest.mark.slow
def test_one_bad_model_never_costs_another_row_10000(tmp_path):
    run_isolation(tmp_path, 10_000)
