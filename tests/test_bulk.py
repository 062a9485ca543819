"""profile_many: same numbers as profile(), error rows, accuracy forms, chunked iterators, executors, CLI."""
from __future__ import annotations

import csv
import io
import math
import os
import shutil
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

import netscore_fast as nf  # noqa: E402
from netscore_fast import nas  # noqa: E402
from netscore_fast.table import INT_COLUMNS  # noqa: E402

from conftest import LIGHT_MODELS, make_tiny_model  # noqa: E402

COUNT_COLUMNS = [c for c in INT_COLUMNS if c not in ("unsupported", "unknown_cost_nodes")]
# the totals a node of unknown cost leaves incomplete: NaN in a table (docs/counting.md)
OPEN_WITH_UNKNOWN_COST = ("macs", "flops", "activation_bytes", "peak_activation_bytes")


def _expected_row(source, accuracy=None):
    """The reference: profile() on one model (a total with a part of unknown cost is NaN in a table)."""
    p = nf.profile(source, accuracy=accuracy)
    row = {c: getattr(p, c) for c in COUNT_COLUMNS}
    row["unsupported"] = sum(len(v) for v in p.unsupported_ops.values())
    row["unknown_cost_nodes"] = len(p.unknown_cost_nodes)
    if p.unknown_cost_nodes:
        row.update((c, math.nan) for c in OPEN_WITH_UNKNOWN_COST)
    return row, p


def _check_rows(table, sources, accuracies=None):
    assert len(table) == len(sources)
    for i, src in enumerate(sources):
        acc = None if accuracies is None else accuracies[i]
        expected, p = _expected_row(src, acc)
        row = table[i]
        assert row["error"] == ""
        for c, v in expected.items():
            assert row[c] == v or math.isnan(v) and math.isnan(row[c]), (i, c)
        if acc is not None:
            assert row["accuracy"] == pytest.approx(acc)
            assert row["netscore"] == pytest.approx(p.netscore, nan_ok=True)
            assert row["information_density"] == pytest.approx(p.information_density)


def test_values_equal_profile_for_light_models():
    if not LIGHT_MODELS:
        pytest.skip("onnx wheel without light models")
    sources = [str(p) for p in LIGHT_MODELS]
    accuracies = [50.0 + i for i in range(len(sources))]
    table = nf.profile_many(sources, accuracy=accuracies, threads=2, progress=False)
    _check_rows(table, sources, accuracies)
    assert list(table["source"]) == sources


def test_values_equal_profile_for_generated_networks_across_chunks_and_threads():
    archs = [nas.nasbench201_arch(i) for i in range(0, 15625, 997)]
    models = [nas.nasbench201(a) for a in archs]
    t1 = nf.profile_many(iter(models), threads=1, chunk_size=3, progress=False)
    t2 = nf.profile_many(models, threads=2, chunk_size=5, progress=False)
    _check_rows(t1, models)
    for c in INT_COLUMNS:
        np.testing.assert_array_equal(t1[c], t2[c])


def test_model_parts_profile_and_hash_as_their_concatenation(tmp_path):
    from netscore_fast import cache as cache_mod
    pairs = list(nas.nasbench201_models(limit=40))[::7]
    assert all(isinstance(parts, nf.ModelParts) and len(parts) > 40 for _, parts in pairs)
    joined = [(name, bytes(parts)) for name, parts in pairs]
    assert [b for _, b in joined] == [nas.nasbench201(name) for name, _ in pairs]   # the public bytes
    for threads in (1, 2):
        a = nf.profile_many(pairs, threads=threads, chunk_size=2, progress=False)
        b = nf.profile_many(joined, threads=threads, progress=False)
        assert list(a["source"]) == [name for name, _ in pairs]
        for c in INT_COLUMNS:
            np.testing.assert_array_equal(a[c], b[c], err_msg=c)
    assert nf.profile(pairs[1][1]).macs == nf.profile(joined[1][1]).macs > 0
    single = nf.profile_many(pairs[1][1], progress=False)   # one ModelParts is one source, not many
    assert len(single) == 1 and single[0]["macs"] == b[1]["macs"]
    assert cache_mod.content_keys([p for _, p in pairs], b"t") == cache_mod.content_keys([b for _, b in joined], b"t")
    # a malformed model in parts is one recorded error; parts that are not bytes are refused by name
    bad = nf.profile_many([nf.ModelParts((b"\x0a\xff", b"\xff")), pairs[0][1]], progress=False)
    assert "<bytes #0>" in bad[0]["error"] and bad[1]["error"] == ""
    with pytest.raises(TypeError, match="model parts must be bytes"):
        nf.profile_many([("odd", nf.ModelParts((b"", bytearray(b"x"))))], progress=False)


def test_chunks_close_at_the_byte_budget_so_big_models_never_pile_up(monkeypatch):
    from netscore_fast import bulk
    data = nas.nasbench201(0)                       # ~20 KB
    monkeypatch.setattr(bulk, "CHUNK_BYTES", 3 * len(data))
    seen = []
    t = nf.profile_many((data for _ in range(10)), chunk_size=100, progress=lambda done, total: seen.append(done))
    assert seen == [3, 6, 9, 10] and t.ok.all()     # 3 models per chunk by bytes, not 100 by count
    seen.clear()
    nf.profile_many((data for _ in range(10)), chunk_size=2, progress=lambda done, total: seen.append(done))
    assert seen == [2, 4, 6, 8, 10]                  # whichever limit comes first
    seen.clear()
    nf.profile_many([data] * 10, chunk_size=4, progress=lambda done, total: seen.append(done))
    assert seen == [4, 8, 10]                        # a list is in memory already: chunks by count


def test_source_kinds_and_names(tmp_path, tiny_model):
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_model, str(path))
    data = tiny_model.SerializeToString()
    exported = io.BytesIO()                       # as torch.onnx.export writes a model
    onnx.save(tiny_model, exported)
    sources = [str(path), path, data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8), tiny_model,
               ("named", data), exported, ("exported", exported)]
    for table in (nf.profile_many(sources, progress=False), nf.profile_many(iter(sources), progress=False)):
        assert (table.ok).all() and len(table) == len(sources)
        assert len(set(table["macs"].tolist())) == 1 and len(set(table["params"].tolist())) == 1
        assert table[0]["source"] == str(path) and table[1]["source"] == str(path)
        assert table[2]["source"] == "<bytes #2>"
        assert table[6]["source"] == "tiny"   # the graph name
        assert table[7]["source"] == "named"
        assert table[8]["source"] == "<bytes #8>" and table[9]["source"] == "exported"
    assert len(nf.profile_many(exported, progress=False)) == 1   # one BytesIO is one model, not its lines
    assert nf.profile(exported).macs == table[0]["macs"]
    exported.truncate(0)                          # the caller may reuse its buffer: nothing holds a view of it
    with pytest.raises(TypeError):
        nf.profile_many([12345], progress=False)


def test_bad_models_record_errors_and_keep_other_rows(tmp_path, tiny_model):
    good = tiny_model.SerializeToString()
    sources = [good, b"\x0a\xff\xff", ("truncated", good[:len(good) // 2]), str(tmp_path / "missing.onnx"), good]
    table = nf.profile_many(sources, accuracy=[70.0] * 5, progress=False)
    assert list(table.ok) == [True, False, False, False, True]
    for i in (1, 2, 3):
        assert table[i]["error"]
        assert all(math.isnan(table[i][c]) for c in INT_COLUMNS)   # unknown, never a number
        assert math.isnan(table[i]["netscore"])
    assert "truncated" in table[2]["error"]
    assert "missing.onnx" in table[3]["error"]
    expected, _ = _expected_row(good)
    assert table[4]["macs"] == expected["macs"]


def test_errors_raise_attaches_the_partial_table(tiny_model):
    good = tiny_model.SerializeToString()
    sources = [good, good, b"\x0a\xff\xff", good, good, good]
    with pytest.raises(nf.ModelError) as info:
        nf.profile_many(sources, errors="raise", chunk_size=2, progress=False)
    table = info.value.table
    # the chunk with the failure is complete; later chunks were not profiled
    assert len(table) == 4
    assert list(table.ok) == [True, True, False, True]
    assert "<bytes #2>" in str(info.value)
    with pytest.raises(ValueError):
        nf.profile_many([good], errors="ignore")


def test_accuracy_as_mapping_and_iterator(tmp_path, tiny_model):
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    onnx.save(tiny_model, str(a))
    onnx.save(tiny_model, str(b))
    t = nf.profile_many([str(a), str(b)], accuracy={"a": 71.0, "b.onnx": 72.5}, progress=False)
    assert list(t["accuracy"]) == [71.0, 72.5]
    t = nf.profile_many([str(a), str(b)], accuracy={str(a): 60.0}, progress=False)
    assert t[0]["accuracy"] == 60.0 and math.isnan(t[1]["accuracy"])
    t = nf.profile_many(iter([str(a), str(b)]), accuracy=iter([65.0, 66.0]), progress=False)
    assert list(t["accuracy"]) == [65.0, 66.0]
    # NetScore from the paper's formula: 20 log10(a^2 / sqrt(p/1e6) / sqrt(m/1e9))
    expected = 20 * math.log10(65.0 ** 2 / math.sqrt(t[0]["params"] / 1e6) / math.sqrt(t[0]["macs"] / 1e9))
    assert t[0]["netscore"] == pytest.approx(expected)
    with pytest.raises(ValueError):
        nf.profile_many([str(a), str(b)], accuracy=[1.0], progress=False)


def test_progress_callback_and_generator_total():
    calls = []
    models = (nas.nasbench201(i) for i in range(7))
    t = nf.profile_many(models, chunk_size=3, progress=lambda done, total: calls.append((done, total)))
    assert len(t) == 7
    assert calls == [(3, None), (6, None), (7, None)]
    calls.clear()
    nf.profile_many([nas.nasbench201(0)] * 4, chunk_size=2, progress=lambda d, n: calls.append((d, n)))
    assert calls == [(2, 4), (4, 4)]


def test_input_shapes_and_batch_size_apply_to_every_model():
    data = nas.nasbench201(5)
    base = nf.profile(data)
    t = nf.profile_many([data, data], batch_size=4, progress=False)
    assert (t["macs"] == 4 * base.macs).all()
    t = nf.profile_many([data], input_shapes={"input": [2, 3, 32, 32]}, progress=False)
    assert t[0]["macs"] == 2 * base.macs


def test_process_pool_executor_reassembles_in_order(tiny_model):
    models = [nas.nasbench201(i) for i in range(10)] + [p for _, p in nas.nasbench201_models(limit=2)]
    models += [b"\x0a\xff\xff", tiny_model]
    local = nf.profile_many(models, accuracy=list(range(50, 64)), progress=False)
    with ProcessPoolExecutor(max_workers=2) as ex:
        remote = nf.profile_many(models, accuracy=list(range(50, 64)), executor=ex, chunk_size=3, progress=False)
    assert list(remote["source"]) == list(local["source"])
    for c in local.columns:
        a, b = local[c], remote[c]
        if a.dtype == object:
            assert list(a) == list(b)
        else:
            np.testing.assert_array_equal(a, b)
    assert not remote[12]["error"] == ""


def _write_models(directory, n):
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i in range(n):
        p = os.path.join(directory, f"net{i}.onnx")
        with open(p, "wb") as f:
            f.write(nas.nasbench201(i))
        paths.append(p)
    return paths


def test_profile_command_many_models(tmp_path, capsys):
    from netscore_fast.cli import main
    paths = _write_models(tmp_path / "models", 5)
    acc = tmp_path / "acc.csv"
    with open(acc, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "accuracy"])
        for i in range(5):
            w.writerow([f"net{i}", 90 + i])
    out = tmp_path / "results.csv"
    rc = main(["profile", str(tmp_path / "models"), "--accuracy", str(acc), "--out", str(out), "--threads", "2",
               "--cache", str(tmp_path / "c.db")])
    assert rc == 0
    table = nf.ProfileTable.read(out)
    assert list(table["source"]) == paths
    assert list(table["accuracy"]) == [90.0, 91.0, 92.0, 93.0, 94.0]
    _check_rows(table, paths, [90.0, 91.0, 92.0, 93.0, 94.0])
    # a glob, JSON output to stdout
    shutil.copy(paths[0], tmp_path / "other.onnx")
    rc = main(["profile", str(tmp_path / "models" / "net[01].onnx"), str(tmp_path / "other.onnx"), "--format", "json",
               "--threads", "1"])
    assert rc == 0
    import json
    rows = json.loads(capsys.readouterr().out)
    assert [r["source"] for r in rows] == [paths[0], paths[1], str(tmp_path / "other.onnx")]
    assert rows[0]["macs"] == rows[2]["macs"] == table[0]["macs"]


def test_nas_command_limit(tmp_path):
    from netscore_fast.cli import main
    out = tmp_path / "nb.csv"
    assert main(["nas", "nasbench201", "--out", str(out), "--limit", "6", "--threads", "2"]) == 0
    table = nf.ProfileTable.read(out)
    assert list(table["source"]) == [nas.nasbench201_arch(i) for i in range(6)]
    _check_rows(table, [nas.nasbench201(i) for i in range(6)])


_RSS_CHILD = """
import resource, sys
from netscore_fast import nas
from netscore_fast.bulk import profile_many
n = int(sys.argv[1])
data = nas.nasbench201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
t = profile_many((data for _ in range(n)), threads=2, progress=False)
assert len(t) == n and t.ok.all()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_stays_flat_over_a_long_iterator():
    import subprocess
    import sys

    def rss(n):
        out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(n)], check=True, capture_output=True, text=True)
        return int(out.stdout.split()[-1])

    small, big = rss(500), rss(12_000)
    # 24x the models: only the table rows (~150 bytes each, under 2 MiB here) may add to the peak
    assert big < small * 1.25, (small, big)


def test_progress_bar_forced_on_and_off(capsys):
    pytest.importorskip("tqdm")
    models = [nas.nasbench201(0)] * 3
    nf.profile_many(models, progress=True)
    assert "3/3" in capsys.readouterr().err
    nf.profile_many(models, progress=False)
    nf.profile_many(models)            # default: off when stderr is not a terminal
    assert capsys.readouterr().err == ""
