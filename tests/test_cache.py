"""SQLite result cache: hits skip analysis, options and content change the key, concurrent writers and a
SIGKILLed writer leave an intact database with every committed row."""
from __future__ import annotations

import os
import signal
import struct
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import netscore_fast as nf
from netscore_fast import _core, bulk, nas
from netscore_fast import cache as cache_mod
from netscore_fast.cache import ResultCache
from netscore_fast.table import INT_COLUMNS


def _equal(a, b):
    for c in INT_COLUMNS:
        np.testing.assert_array_equal(a[c], b[c], err_msg=c)
    assert list(a["error"]) == list(b["error"])


def test_hit_returns_the_same_rows_without_analysis(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    models = [nas.nasbench201(i) for i in range(10)] + [b"\x0a\xff\xff"]
    fresh = nf.profile_many(models, progress=False)
    count_analyses["models"] = 0
    first = nf.profile_many(models, cache=db, chunk_size=4, progress=False)
    assert count_analyses["models"] == 11
    second = nf.profile_many(models, cache=db, chunk_size=4, accuracy=[70.0] * 11, progress=False)
    assert count_analyses["models"] == 11          # nothing analysed again, the bad model included
    _equal(fresh, first)
    _equal(fresh, second)
    assert second[0]["netscore"] == pytest.approx(nf.profile(models[0], accuracy=70.0).netscore)
    with ResultCache(db) as c:
        assert len(c) == 11


def test_options_are_part_of_the_key(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    data = nas.nasbench201(3)
    nf.profile_many([data], cache=db, progress=False)
    t = nf.profile_many([data], cache=db, batch_size=2, progress=False)
    assert count_analyses["models"] == 2
    assert t[0]["macs"] == 2 * nf.profile(data).macs
    nf.profile_many([data], cache=db, input_shapes={"input": [1, 3, 64, 64]}, progress=False)
    assert count_analyses["models"] == 3
    nf.profile_many([data], cache=db, batch_size=2, progress=False)
    assert count_analyses["models"] == 3


def test_paths_by_stat_then_by_content(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    a = tmp_path / "a.onnx"
    a.write_bytes(nas.nasbench201(1))
    nf.profile_many([str(a)], cache=db, progress=False)
    assert count_analyses["models"] == 1
    # a copy with another name and mtime: found by content
    b = tmp_path / "b.onnx"
    b.write_bytes(a.read_bytes())
    t = nf.profile_many([str(b)], cache=db, progress=False)
    assert count_analyses["models"] == 1 and t[0]["source"] == str(b)
    # the same model given as bytes: same content key
    nf.profile_many([a.read_bytes()], cache=db, progress=False)
    assert count_analyses["models"] == 1
    # rewritten with another network: size and mtime change, analysed afresh
    a.write_bytes(nas.nasbench201(2))
    os.utime(a, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    t = nf.profile_many([str(a)], cache=db, progress=False)
    assert count_analyses["models"] == 2
    assert t[0]["macs"] == nf.profile(nas.nasbench201(2)).macs


_WRITER = textwrap.dedent("""
    import sys
    import netscore_fast as nf
    from netscore_fast import nas
    db, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    models = [(nas.nasbench201_arch(i), nas.nasbench201(i)) for i in range(start, stop)]
    t = nf.profile_many(models, cache=db, chunk_size=5, threads=1, progress=False)
    assert t.ok.all()
""")


def test_concurrent_processes_with_overlapping_sets(tmp_path):
    db = tmp_path / "c.db"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    ranges = [(0, 40), (20, 60), (10, 50), (30, 70)]
    procs = [subprocess.Popen([sys.executable, str(script), str(db), str(a), str(b)]) for a, b in ranges]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute(f"SELECT COUNT(*) FROM {cache_mod._TABLE}").fetchone()[0] == 70
    conn.close()
    # every model is present: a cached run over the union analyses nothing
    calls = []
    real = _core.profile_batch
    try:
        bulk._core.profile_batch = lambda items, *a, **k: (calls.append(len(items)), real(items, *a, **k))[1]
        t = nf.profile_many([nas.nasbench201(i) for i in range(70)], cache=db, progress=False)
    finally:
        bulk._core.profile_batch = real
    assert sum(calls) == 0 and t.ok.all()
    assert t[69]["macs"] == nf.profile(nas.nasbench201(69)).macs


_KILLED = textwrap.dedent("""
    import os, signal, sys
    import netscore_fast as nf
    from netscore_fast import nas
    db, log, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def progress(done, total):
        # called after a chunk's transaction committed: record it durably, then die without cleanup
        with open(log, "a") as f:
            f.write(f"{done}\\n")
            f.flush()
            os.fsync(f.fileno())
        if done >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    models = ((nas.nasbench201_arch(i), nas.nasbench201(i)) for i in range(1000))
    nf.profile_many(models, cache=db, chunk_size=8, threads=1, progress=progress)
""")


def test_sigkill_mid_run_keeps_committed_chunks(tmp_path):
    db, log = tmp_path / "c.db", tmp_path / "log.txt"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED)
    proc = subprocess.run([sys.executable, str(script), str(db), str(log), "40"], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    committed = int(log.read_text().split()[-1])
    assert committed == 40
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n_rows = conn.execute(f"SELECT COUNT(*) FROM {cache_mod._TABLE}").fetchone()[0]
    conn.close()
    # the next chunk may have committed in the background before the kill; never fewer than reported
    assert committed <= n_rows <= committed + 8
    calls = []
    real = _core.profile_batch
    try:
        bulk._core.profile_batch = lambda items, *a, **k: (calls.append(len(items)), real(items, *a, **k))[1]
        t = nf.profile_many([nas.nasbench201(i) for i in range(committed)], cache=db, progress=False)
    finally:
        bulk._core.profile_batch = real
    assert sum(calls) == 0 and t.ok.all()


def test_caller_keys_skip_hashing_and_still_separate_datasets(tmp_path, count_analyses, monkeypatch):
    db = tmp_path / "c.db"
    models = [(nas.nasbench201_arch(i), nas.nasbench201(i)) for i in range(6)]
    first = nf.profile_many(models, cache=db, cache_key=nas.CacheKey("cifar10"), progress=False)
    assert count_analyses["models"] == 6
    monkeypatch.setattr(cache_mod, "content_keys", lambda *a: pytest.fail("bytes hashed despite cache_key"))
    again = nf.profile_many(models, cache=db, cache_key=nas.CacheKey("cifar10"), progress=False)
    assert count_analyses["models"] == 6
    _equal(first, again)
    c100 = [(a, nas.nasbench201(a, "cifar100")) for a, _ in models]
    t = nf.profile_many(c100, cache=db, cache_key=nas.CacheKey("cifar100"), progress=False)
    assert count_analyses["models"] == 12
    assert t[0]["params"] == first[0]["params"] + 90 * 64 + 90   # 100 instead of 10 classes: 64x90 + 90 more


def test_nas_command_uses_the_cache(tmp_path, count_analyses):
    from netscore_fast.cli import main
    db, out = tmp_path / "c.db", tmp_path / "nb.json"
    assert main(["nas", "nasbench201", "--out", str(out), "--limit", "5", "--cache", str(db)]) == 0
    assert main(["nas", "nasbench201", "--out", str(out), "--limit", "5", "--cache", str(db)]) == 0
    assert count_analyses["models"] == 5
    assert len(nf.ProfileTable.read(out)) == 5


# --- content digests (XXH3-128 in C++) against the xxhash package (the library's own Python binding) ------------------------------------

def _digest_bytes(keys):
    ids, checks = keys
    return [None if i is None else struct.pack(">q", i) + c for i, c in zip(ids, checks)]


def test_digests_equal_the_xxhash_package_for_buffers_and_files(tmp_path):
    xxhash = pytest.importorskip("xxhash")
    rng = np.random.default_rng(7)
    tag = cache_mod.options_tag([("input", [1, 3, 32, 32])], 2)
    seed = xxhash.xxh3_64_intdigest(tag + b"\0content")   # the seed: options tag + kind of key
    blobs = [rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in (0, 1, 16, 17, 128, 129, 240, 241,
                                                                               1023, 4096, 65537, 1 << 20)]
    path = tmp_path / "m.onnx"
    path.write_bytes(blobs[-2])
    # parts: small ones joined before hashing, and past the 1 MB join bound streamed
    sources = blobs + [bytearray(blobs[3]), memoryview(blobs[4]), np.frombuffer(blobs[5], np.uint8), str(path),
                       nf.ModelParts((blobs[6], blobs[7], b"", blobs[8])),
                       nf.ModelParts((blobs[1], blobs[-1], blobs[9], blobs[2]))]
    got = _digest_bytes(cache_mod.content_keys(sources, tag, threads=2))
    want = [xxhash.xxh3_128_digest(b, seed=seed) for b in blobs + [blobs[3], blobs[4], blobs[5], blobs[-2],
                                                                   blobs[6] + blobs[7] + blobs[8],
                                                                   blobs[1] + blobs[-1] + blobs[9] + blobs[2]]]
    assert got == want


def test_digests_depend_on_salt_kind_and_every_byte_and_report_unreadable_files(tmp_path):
    data = bytearray(nas.nasbench201(11))
    key = _digest_bytes(cache_mod.content_keys([bytes(data)], b"options A"))
    assert _digest_bytes(cache_mod.content_keys([bytes(data)], b"options B")) != key
    assert _digest_bytes(cache_mod.named_keys([bytes(data)], b"options A")) != key
    data[len(data) // 2] ^= 1
    assert _digest_bytes(cache_mod.content_keys([bytes(data)], b"options A")) != key
    assert cache_mod.content_keys([str(tmp_path / "missing.onnx")], b"")[0] == [None]
    assert cache_mod.path_keys([str(tmp_path / "missing.onnx")], b"")[0] == [None]


def test_path_keys_follow_path_size_and_mtime_without_reading(tmp_path, monkeypatch):
    f = tmp_path / "m.onnx"
    f.write_bytes(nas.nasbench201(5))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    key = _digest_bytes(cache_mod.path_keys([str(f)], b"t"))[0]
    assert _digest_bytes(cache_mod.path_keys(["m.onnx", "./sub/../m.onnx"], b"t")) == [key, key]
    assert _digest_bytes(cache_mod.path_keys([str(f)], b"other options"))[0] != key
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert _digest_bytes(cache_mod.path_keys([str(f)], b"t"))[0] != key
    f.chmod(0)   # stat needs no read permission: the key never reads the file
    try:
        assert cache_mod.path_keys([str(f)], b"t")[0] != [None]
    finally:
        f.chmod(0o644)


def test_a_row_whose_check_differs_is_a_miss(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    data = nas.nasbench201(21)
    nf.profile_many([data], cache=db, progress=False)
    conn = sqlite3.connect(db)
    (value,) = conn.execute(f"SELECT value FROM {cache_mod._TABLE}").fetchone()
    conn.execute(f"UPDATE {cache_mod._TABLE} SET value = ?", (bytes(8) + value[8:],))   # as if another model
    conn.commit()
    conn.close()
    count_analyses["models"] = 0
    with ResultCache(db) as fresh:   # another process: nothing remembered, the row is read from the file
        again = nf.profile_many([data], cache=fresh, progress=False)
    assert count_analyses["models"] == 1 and again.ok.all()


def test_a_path_opens_one_connection_per_process_and_reopens_a_replaced_file(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    data = nas.nasbench201(3)
    nf.profile_many([data], cache=db, progress=False)
    first = cache_mod.open_shared(db)
    assert cache_mod.open_shared(str(db)) is first      # reused by the next call with the same path
    count_analyses["models"] = 0
    nf.profile_many([data], cache=db, progress=False)
    assert count_analyses["models"] == 0
    os.remove(db)                                       # the user resets the cache: a new file, no stale rows
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.remove(str(db) + suffix)
    nf.profile_many([data], cache=db, progress=False)
    assert count_analyses["models"] == 1
    assert cache_mod.open_shared(db) is not first
    with ResultCache(db) as c:
        assert len(c) == 1                              # written to the new file, not the deleted one


def test_rows_are_remembered_in_memory_up_to_a_bound(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    models = [nas.nasbench201(i) for i in range(12)]
    with ResultCache(db, memory_rows=8) as c:
        first = nf.profile_many(models, cache=c, progress=False)
        assert 4 <= len(c._memory) <= 8                 # bounded: the oldest half went when it filled
        conn = sqlite3.connect(db)
        conn.execute(f"DELETE FROM {cache_mod._TABLE}")   # remembered rows need no query ...
        conn.commit()
        conn.close()
        count_analyses["models"] = 0
        again = nf.profile_many(models, cache=c, progress=False)
        assert 0 < count_analyses["models"] < 12        # ... the forgotten ones are analysed again
        _equal(first, again)


def test_a_chunk_mixing_remembered_stored_new_and_bad_models(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    good = [nas.nasbench201(i) for i in range(40, 46)]
    bad = [b"\x0a\xff\xff", b"\x08\x07\x12\x00"]        # truncated graph field; a graph-less model
    models = [good[0], bad[0], good[1], good[2], bad[1], good[3], good[4], good[5]]
    fresh = nf.profile_many(models, progress=False)
    assert list(~fresh.ok) == [False, True, False, False, True, False, False, False]
    nf.profile_many([good[0], bad[0], good[2]], cache=db, progress=False)   # stored, remembered here
    with ResultCache(db) as c:
        nf.profile_many([good[3], bad[1]], cache=c, progress=False)      # stored by "another process"
    count_analyses["models"] = 0
    mixed = nf.profile_many(models, cache=db, progress=False)
    assert count_analyses["models"] == 3                 # good[1], good[4], good[5]: the new ones only
    _equal(fresh, mixed)
    with ResultCache(db) as c:                           # every row now read back from the file alone
        count_analyses["models"] = 0
        _equal(fresh, nf.profile_many(models, cache=c, progress=False))
        assert count_analyses["models"] == 0


def test_a_file_that_cannot_be_read_is_an_error_row_never_cached(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    odd = tmp_path / "odd.onnx"
    odd.mkdir()                                          # stat works, reading does not
    data = nas.nasbench201(5)
    for _ in range(2):                                   # the second run finds nothing stored for it
        count_analyses["models"] = 0
        table = nf.profile_many([str(odd), data], cache=db, progress=False)
        assert "is a directory" in table[0]["error"] and table[1]["error"] == ""
        assert count_analyses["models"] == (2 if _ == 0 else 1)
    with ResultCache(db) as c:
        assert len(c) == 1                               # the network only
    with pytest.raises(nf.ModelError, match="is a directory"):
        nf.profile(str(odd))                             # still a ModelError to callers


def test_one_column_list_and_the_value_layout_round_trip():
    from netscore_fast.table import COLUMNS
    columns = tuple(_core.TOTALS_COLUMNS)
    assert columns == INT_COLUMNS == cache_mod.VALUE_COLUMNS
    assert COLUMNS[1:1 + len(columns)] == columns
    assert len(_core.TOTALS_DTYPES) == len(columns)
    totals = np.arange(3 * len(columns), dtype=np.int64).reshape(3, len(columns)) - 1
    values = cache_mod.new_values(totals, ["", "bad graph", ""])
    stored = [bytes(range(cache_mod.TOTALS_AT.start)) + blob + err.encode() + bytes(8) for blob, err in values]
    read, failed = cache_mod.read_values(stored)
    assert (read == totals).all() and failed == [(1, "bad graph")]
    read, failed = cache_mod.read_values([stored[0], stored[2]])   # no error: the one-array path
    assert (read == totals[[0, 2]]).all() and failed == []


def test_the_column_list_is_part_of_the_key():
    assert b'"columns"' in cache_mod.options_tag()
