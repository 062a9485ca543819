"""Result cache integrity: a stored value that fails its checksum or decodes to implausible totals is a
miss (re-analysed and overwritten); a file that is not one of our caches is a CacheError naming it, and
rebuilding moves it aside."""
from __future__ import annotations

import glob
import os
import sqlite3

import numpy as np
import pytest

import netscore_fast as nf
from netscore_fast import nas
from netscore_fast import cache as cache_mod
from netscore_fast.cache import ResultCache
from netscore_fast.table import INT_COLUMNS


def _equal(a, b):
    for c in INT_COLUMNS:
        np.testing.assert_array_equal(a[c], b[c], err_msg=c)
    assert list(a["error"]) == list(b["error"])


def _stored(db):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT id, value FROM {cache_mod._TABLE}").fetchall()
    finally:
        conn.close()


def _overwrite(db, value):
    conn = sqlite3.connect(db)
    conn.execute(f"UPDATE {cache_mod._TABLE} SET value = ?", (value,))
    conn.commit()
    conn.close()


def _cached_model(db, index=21):
    """One network profiled into a new cache at `db`: (its bytes, its fresh row, its stored value)."""
    data = nas.nasbench201(index)
    fresh = nf.profile_many([data], progress=False)
    nf.profile_many([data], cache=db, progress=False)
    ((_, value),) = _stored(db)
    return data, fresh, value


def _read_back(db, data, count_analyses):
    """The model profiled through a new connection (as another process would): (table, models analysed)."""
    count_analyses["models"] = 0
    with ResultCache(db) as fresh:
        table = nf.profile_many([data], cache=fresh, progress=False)
    return table, count_analyses["models"]


def _forged(value, totals):
    at = cache_mod.TOTALS_AT
    return value[:at.start] + np.asarray(totals, dtype="<i8").tobytes() + value[at.stop:]


@pytest.mark.parametrize("how", ["negative", "plausible"])
def test_a_forged_value_of_the_right_length_is_re_analysed_and_overwritten(tmp_path, count_analyses, how):
    db = tmp_path / "c.db"
    data, fresh, value = _cached_model(db)
    n = len(cache_mod.VALUE_COLUMNS)
    real = np.frombuffer(value[cache_mod.TOTALS_AT], dtype="<i8")
    forged = _forged(value, [-5] * n if how == "negative" else real * 2 + 1)   # plausible: only the sum sees it
    assert len(forged) == len(value)
    _overwrite(db, forged)
    table, analysed = _read_back(db, data, count_analyses)
    assert analysed == 1                  # a miss: analysed again ...
    _equal(fresh, table)                  # ... with the right numbers
    assert _stored(db)[0][1] == value     # and the stored row repaired
    table, analysed = _read_back(db, data, count_analyses)
    assert analysed == 0                  # the repaired row hits
    _equal(fresh, table)


@pytest.mark.parametrize("damage", ["truncated", "one byte", "extended", "garbage", "empty", "text", "integer",
                                    "swapped"])
def test_a_damaged_value_is_a_miss(tmp_path, count_analyses, damage):
    db = tmp_path / "c.db"
    data, fresh, value = _cached_model(db)
    if damage == "swapped":               # a real value of another model stored under this key
        other = tmp_path / "other.db"
        _cached_model(other, index=22)
        ((_, bad),) = _stored(other)
    else:
        bad = {"truncated": value[:len(value) // 2], "one byte": value[:-1] + bytes([value[-1] ^ 1]),
               "extended": value + b"\x00" * 8, "garbage": os.urandom(len(value)), "empty": b"",
               "text": "not a value", "integer": 12345}[damage]
    _overwrite(db, bad)
    table, analysed = _read_back(db, data, count_analyses)
    assert analysed == 1 and table.ok.all()
    _equal(fresh, table)
    assert _stored(db)[0][1] == value


def test_a_stored_model_error_survives_and_a_damaged_one_is_a_miss(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    bad = b"\x0a\xff\xff"
    fresh = nf.profile_many([bad], progress=False)
    nf.profile_many([bad], cache=db, progress=False)
    table, analysed = _read_back(db, bad, count_analyses)
    assert analysed == 0
    _equal(fresh, table)
    ((_, value),) = _stored(db)
    at = cache_mod.TOTALS_AT
    _overwrite(db, value[:at.stop] + b"another message" + value[-8:])   # the sum no longer matches
    table, analysed = _read_back(db, bad, count_analyses)
    assert analysed == 1
    _equal(fresh, table)


def test_a_normal_hit_still_hits_and_counts_no_rejection(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    models = [nas.nasbench201(i) for i in range(6)]
    fresh = nf.profile_many(models, progress=False)
    nf.profile_many(models, cache=db, progress=False)
    count_analyses["models"] = 0
    with ResultCache(db) as c:
        table = nf.profile_many(models, cache=c, progress=False)
        assert c.rejected == 0
    assert count_analyses["models"] == 0
    _equal(fresh, table)


def test_rejected_rows_are_counted(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    data, _, value = _cached_model(db)
    _overwrite(db, value[:-1] + bytes([value[-1] ^ 0x80]))
    with ResultCache(db) as c:
        nf.profile_many([data], cache=c, progress=False)
        assert c.rejected == 1


def _random_file(path):
    path.write_bytes(np.random.default_rng(7).bytes(8192))


def _foreign_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)")
    conn.execute("INSERT INTO photos VALUES (1, x'00')")
    conn.commit()
    conn.close()


def _older_format(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE results_v3 (id INTEGER PRIMARY KEY, value BLOB NOT NULL, created REAL)")
    conn.commit()
    conn.close()


def _newer_format(path):
    ResultCache(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {cache_mod._SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


def _sqlite_header_then_garbage(path):
    path.write_bytes(b"SQLite format 3\x00" + np.random.default_rng(8).bytes(8192))


def _directory(path):
    path.mkdir()


MAKERS = {"random bytes": (_random_file, "not a SQLite database"),
          "garbage after a SQLite header": (_sqlite_header_then_garbage, ""),
          "foreign SQLite": (_foreign_sqlite, "photos"),
          "older format": (_older_format, "older"),
          "newer format": (_newer_format, "newer"),
          "directory": (_directory, "directory")}


@pytest.mark.parametrize("kind", list(MAKERS))
def test_a_file_that_is_not_our_cache_is_an_error_naming_it(tmp_path, kind):
    db = tmp_path / "c.db"
    make, says = MAKERS[kind]
    make(db)
    for attempt in (lambda: ResultCache(db), lambda: nf.profile_many([nas.nasbench201(1)], cache=db, progress=False)):
        with pytest.raises(nf.CacheError) as info:
            attempt()
        message = str(info.value)
        assert str(db) in message and says in message and "rebuild" in message
        assert isinstance(info.value, ValueError)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_permission_is_an_error_naming_it(tmp_path):
    db = tmp_path / "c.db"
    ResultCache(db).close()
    db.chmod(0)
    try:
        with pytest.raises(nf.CacheError, match="c.db"):
            ResultCache(db)
    finally:
        db.chmod(0o644)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_rebuild_moves_the_file_aside_and_starts_a_new_cache(tmp_path, count_analyses, kind):
    db = tmp_path / "c.db"
    make, _ = MAKERS[kind]
    make(db)
    before = sorted(os.listdir(tmp_path))
    data = nas.nasbench201(2)
    fresh = nf.profile_many([data], progress=False)
    count_analyses["models"] = 0
    table = nf.profile_many([data], cache=db, cache_rebuild=True, progress=False)
    _equal(fresh, table)
    aside = [p for p in glob.glob(str(db) + ".corrupt-*") if not p.endswith(("-wal", "-shm"))]
    assert len(aside) == 1
    assert os.path.isdir(aside[0]) == (kind == "directory")   # moved, not deleted
    assert before == ["c.db"]
    table, analysed = _read_back(db, data, count_analyses)
    assert analysed == 0                  # the new cache holds the row
    _equal(fresh, table)


def test_rebuild_keeps_a_good_cache(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    data, fresh, _ = _cached_model(db)
    count_analyses["models"] = 0
    with ResultCache(db, rebuild=True) as c:
        table = nf.profile_many([data], cache=c, progress=False)
    assert count_analyses["models"] == 0
    _equal(fresh, table)
    assert glob.glob(str(db) + ".corrupt-*") == []


def test_resultcache_rebuild_option(tmp_path):
    db = tmp_path / "c.db"
    _random_file(db)
    original = db.read_bytes()
    with ResultCache(db, rebuild=True) as c:
        assert len(c) == 0
    (aside,) = glob.glob(str(db) + ".corrupt-*")
    assert c.moved_aside == aside
    with open(aside, "rb") as f:
        assert f.read() == original


def test_the_command_line_names_the_file_and_rebuilds_it(tmp_path, capsys):
    from netscore_fast.cli import main
    db = tmp_path / "c.db"
    model = tmp_path / "m.onnx"
    model.write_bytes(nas.nasbench201(4))
    _random_file(db)
    assert main(["profile", str(model), "--cache", str(db), "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert str(db) in err and "--cache-rebuild" in err
    assert main(["profile", str(model), "--cache", str(db), "--cache-rebuild", "--format", "csv"]) == 0
    assert len([p for p in glob.glob(str(db) + ".corrupt-*") if not p.endswith(("-wal", "-shm"))]) == 1
    with ResultCache(db) as c:
        assert len(c) >= 1


def test_only_the_damaged_rows_of_a_chunk_are_analysed_again(tmp_path, count_analyses):
    db = tmp_path / "c.db"
    models = [nas.nasbench201(i) for i in range(30, 36)] + [b"\x0a\xff\xff"]
    fresh = nf.profile_many(models, progress=False)
    nf.profile_many(models, cache=db, progress=False)
    conn = sqlite3.connect(db)
    rows = conn.execute(f"SELECT id, value FROM {cache_mod._TABLE} ORDER BY id").fetchall()
    for key, value in rows[:3]:
        conn.execute(f"UPDATE {cache_mod._TABLE} SET value = ? WHERE id = ?", (_forged(value, [-5] * len(
            cache_mod.VALUE_COLUMNS)), key))
    conn.commit()
    conn.close()
    count_analyses["models"] = 0
    with ResultCache(db) as c:
        table = nf.profile_many(models, cache=c, progress=False)
        assert c.rejected == 3
    assert count_analyses["models"] == 3
    _equal(fresh, table)


def test_rebuild_with_an_executor(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    db = tmp_path / "c.db"
    _random_file(db)
    models = [nas.nasbench201(i) for i in range(3)]
    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(nf.CacheError, match="c.db"):
            nf.profile_many(models, cache=db, executor=pool, progress=False)
        table = nf.profile_many(models, cache=db, executor=pool, cache_rebuild=True, progress=False)
    assert table.ok.all()
    with ResultCache(db) as c:
        assert len(c) == 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_an_error_at_once_not_a_hang(tmp_path):
    db = tmp_path / "c.db"
    os.mkfifo(db)
    with pytest.raises(nf.CacheError, match="not a regular file"):
        ResultCache(db)


def test_rebuild_moves_a_stale_wal_aside_with_its_file(tmp_path):
    db = tmp_path / "c.db"
    _random_file(db)
    wal = tmp_path / "c.db-wal"
    wal.write_bytes(b"a journal that must never be applied to the new file")
    with ResultCache(db, rebuild=True) as c:
        assert len(c) == 0
        aside = c.moved_aside
    assert os.path.exists(aside + "-wal")
    with open(aside + "-wal", "rb") as f:
        assert f.read().startswith(b"a journal")
