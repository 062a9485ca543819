"""SQLite result cache for bulk profiling: a re-proposed candidate comes back without re-analysis.

Key: a 128-bit digest (XXH3-128, computed in C++ with the GIL released) of the model bytes, seeded by the
analysis options (input shapes, batch size), the library version and the core build, so a change to any
of them misses. For bytes-like sources the digest is of the bytes themselves. For paths the file's
(absolute path, size, mtime_ns) is looked up first, which costs a stat() rather than a read (weights can
be gigabytes); on a miss the file is hashed through a read-only mmap and looked up by content, so a
copied or renamed file still hits. Both keys are stored, and a rewritten file changes its mtime (and
usually its size), so it misses the path key and is hashed again. (A file rewritten within the
filesystem's mtime resolution keeping its size is the one case the path key cannot see.)

XXH3 hashes as fast as memory delivers: keying a 21 KB NAS-Bench-201 network costs about 0.5 us when it
is in the CPU caches and 2 us when it must come from memory (1 to 3 % of its analysis). It is not a
cryptographic hash: it tells accidentally different models apart (collision odds 2^-128 for any pair),
which is what a local result cache needs, but a cache file shared with people who might forge colliding
models should not be trusted. When the caller already knows a
model's identity, `profile_many(..., cache_key=fn)` keys by fn(name, payload) instead of the bytes (the
NAS-Bench-201 command keys by dataset and architecture string); the caller then vouches that equal keys
mean equal models.

Values: one BLOB per model: the key's 8 check bytes, the per-model totals of ProfileTable (the columns of
_core.TOTALS_COLUMNS, in order; the list is part of every key) as little-endian int64, then the ModelError message in UTF-8 without the source's name, which the row that
reads it puts back (nothing when the model is fine). Accuracy and metrics are never cached: they depend on
the caller, not the model.

Safety with several processes at once and with a process killed mid-run: WAL journal mode, a busy
timeout, and one short transaction per chunk of results (BEGIN IMMEDIATE ... COMMIT). A killed writer
loses at most its open transaction; everything committed before stays, and the database never corrupts
(SQLite's atomic commit).
"""
from __future__ import annotations

import functools
import itertools
import json
import operator
import os
import sqlite3
import threading
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import __version__, _core

VALUE_COLUMNS = tuple(_core.TOTALS_COLUMNS)   # the per-model totals a value keeps, in order (C++'s one list)
assert set(_core.TOTALS_DTYPES) == {"<i8"}, "the value layout stores every total as a little-endian int64"
TOTALS_DTYPE = np.dtype("<i8")   # a value's totals BLOB: len(VALUE_COLUMNS) of these
_SCHEMA_VERSION = 3
_TABLE = "results_v3"            # earlier schemas used "results" (1: BLAKE2b keys) and "results_v2"

Value = Tuple[bytes, str]        # (totals: little-endian int64 per column, error message or "")
_CHECK = 8                       # a stored value: the key's check bytes, the totals, then the error (UTF-8)
TOTALS_AT = slice(_CHECK, _CHECK + TOTALS_DTYPE.itemsize * len(VALUE_COLUMNS))
_PLAIN_VALUE = TOTALS_AT.stop    # length of a stored value without an error message
_VALUE_DTYPE = np.dtype([("check", f"V{_CHECK}"), ("totals", TOTALS_DTYPE, (len(VALUE_COLUMNS),))])


@functools.lru_cache(maxsize=1)
def _core_build() -> str:
    """Size and mtime of the compiled core: a rebuilt analysis (same version string) misses the cache.
    Read once per process: a running process keeps the core it loaded, even if the file is rebuilt."""
    try:
        st = os.stat(_core.__file__)
        return f"{st.st_size}:{st.st_mtime_ns}"
    except (OSError, AttributeError, TypeError):
        return ""


def options_tag(input_shapes=None, batch_size: int = 1) -> bytes:
    """The analysis options, library version and core build as bytes: the seed of every key."""
    shapes = sorted((str(k), [int(d) for d in v]) for k, v in
                    (input_shapes.items() if hasattr(input_shapes, "items") else (input_shapes or [])))
    return json.dumps({"v": __version__, "build": _core_build(), "schema": _SCHEMA_VERSION, "shapes": shapes,
                       "batch": int(batch_size), "columns": list(VALUE_COLUMNS)}, sort_keys=True, separators=(",", ":")).encode()


_QUERY_IDS = 500   # ids per SELECT: under SQLite's bound-variable limit (999 before 3.32)

Keys = Tuple[List[Optional[int]], List[bytes]]   # (ids, checks): the two halves of each 128-bit digest

# the kind of identity is mixed into the seed, so equal text never collides across kinds
_CONTENT, _PATH, _NAMED = b"\0content", b"\0path", b"\0named"


def content_keys(sources: Sequence, tag: bytes, threads: int = 1) -> Keys:
    """Keys of models by content: buffers, ModelParts, or paths (whose files are hashed through a read-only
    mmap; id None for a file that cannot be read). One C++ call for all of them, on up to `threads`
    threads."""
    return _core.content_digests(sources if isinstance(sources, list) else list(sources), tag + _CONTENT, threads)


def named_keys(keys: Sequence, tag: bytes) -> Keys:
    """Keys from caller-chosen identities of models (see profile_many's cache_key), not their bytes."""
    encoded = []
    for key in keys:
        if isinstance(key, str):
            key = key.encode("utf-8", "surrogatepass")
        elif not isinstance(key, (bytes, bytearray)):
            raise TypeError(f"cache_key must return str or bytes, got {type(key).__name__}")
        encoded.append(key)
    return _core.content_digests(encoded, tag + _NAMED, 1)


def path_keys(paths: Sequence[str], tag: bytes) -> Keys:
    """Keys of model files by (absolute path, size, mtime_ns), from one stat() each without reading them;
    id None when a file cannot be stat'ed."""
    return _core.stat_digests(paths if isinstance(paths, list) else list(paths), tag + _PATH)


class ResultCache:
    """A SQLite file mapping model keys to profile totals. Safe for concurrent processes.

    A key is a 128-bit digest in two halves: the id, a signed 64-bit int (the table's INTEGER PRIMARY KEY,
    the fastest lookup SQLite has), and 8 check bytes that start the stored value.

    Rows read or written through this object are also remembered in memory (up to `memory_rows`, the
    oldest half dropped when full): a search that re-proposes a candidate within one process finds it
    without a query. Stored rows never change (a key fixes the model and the options), so the memory is
    never stale.

    Use `lookup(ids, checks)` and `put_many(items)` (one transaction each); `close()` when done (or
    `with`).
    """

    def __init__(self, path, timeout: float = 60.0, memory_rows: int = 1 << 16):
        self.path = os.fspath(path)
        self._lock = threading.Lock()   # one statement at a time on the connection, from any thread
        self._memory: Dict[int, bytes] = {}   # id -> stored value
        self._memory_rows = int(memory_rows)
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        c = self._conn
        c.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._retry(lambda: c.execute("PRAGMA journal_mode = WAL"))
        c.execute("PRAGMA synchronous = NORMAL")   # WAL + NORMAL: durable against process kills
        self._retry(lambda: c.execute(
            f"CREATE TABLE IF NOT EXISTS {_TABLE} (id INTEGER PRIMARY KEY, value BLOB NOT NULL, created REAL)"))

    @staticmethod
    def _retry(fn, attempts: int = 50):
        for i in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as e:   # "database is locked" while another process sets up
                if "locked" not in str(e) or i == attempts - 1:
                    raise
                time.sleep(0.05)

    def lookup(self, ids: Sequence[Optional[int]], checks: Sequence[bytes]) -> List[Optional[bytes]]:
        """The stored value of each key (id, check), or None: a miss, or a value whose check differs (another
        model with the same id). Remembered values first, then one query for the rest. (A re-run finds
        every row: that case takes a few C-speed passes and no per-row Python.)"""
        memory = self._memory
        values = list(map(memory.get, ids))
        if not all(values):   # some not remembered (a stored value is never empty): ask the database
            # (a None id, from a file that could not be read, binds as NULL and matches nothing)
            unknown = list(itertools.compress(ids, map(operator.not_, values)))
            with self._lock:
                for start in range(0, len(unknown), _QUERY_IDS):
                    part = unknown[start:start + _QUERY_IDS]
                    memory.update(self._conn.execute(f"SELECT id, value FROM {_TABLE} WHERE id IN "
                                                     f"({','.join('?' * len(part))})", part).fetchall())
            values = list(map(memory.get, ids))
            self._trim()
            if not all(values):
                return [v if v is not None and v.startswith(c) else None for v, c in zip(values, checks)]
        if all(map(bytes.startswith, values, checks)):
            return values
        return [v if v.startswith(c) else None for v, c in zip(values, checks)]

    def _trim(self) -> None:
        memory = self._memory
        if len(memory) > self._memory_rows:   # drop the oldest half (dicts keep insertion order)
            for key in list(itertools.islice(memory, len(memory) - self._memory_rows // 2)):
                del memory[key]

    def put_many(self, items: Iterable[Tuple[Optional[int], bytes, Value]]) -> None:
        """Store (id, check, (totals, error)) items in one transaction (replacing equal ids)."""
        now = time.time()
        rows = [(i, check + totals + err.encode("utf-8", "surrogateescape"), now)
                for i, check, (totals, err) in items if i is not None]
        if not rows:
            return
        c = self._conn
        with self._lock:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.executemany(f"INSERT OR REPLACE INTO {_TABLE} (id, value, created) VALUES (?, ?, ?)", rows)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            self._memory.update((r[0], r[1]) for r in rows)   # remembered once committed
            self._trim()


    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM {_TABLE}").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "ResultCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def split_value(value: bytes) -> Value:
    """A stored value -> (totals bytes, error message)."""
    return value[TOTALS_AT], value[TOTALS_AT.stop:].decode("utf-8", "surrogateescape")


def new_values(totals: np.ndarray, errors: Sequence[str]) -> List[Value]:
    """Values to store for rows of totals (int64[n, len(VALUE_COLUMNS)]) and their ModelError messages
    without the source's name ("" when the model is fine)."""
    blobs = np.ascontiguousarray(totals, dtype=TOTALS_DTYPE)
    return [(blobs[j].tobytes(), err) for j, err in enumerate(errors)]


def read_values(values: Sequence[bytes]) -> Tuple[np.ndarray, List[Tuple[int, str]]]:
    """Stored values -> (their totals as int64[n, len(VALUE_COLUMNS)], [(position, ModelError message)] for
    the values of models that failed). The totals may be a read-only view of the values: copy to keep."""
    if max(map(len, values)) == _PLAIN_VALUE:   # no error messages: one array of (check, totals)
        return np.frombuffer(b"".join(values), dtype=_VALUE_DTYPE)["totals"], []
    totals = np.frombuffer(b"".join([v[TOTALS_AT] for v in values]), dtype=TOTALS_DTYPE)
    failed = [(j, split_value(v)[1]) for j, v in enumerate(values) if len(v) > _PLAIN_VALUE]
    return totals.reshape(len(values), len(VALUE_COLUMNS)), failed


_open: Dict[Tuple[str, int], Tuple[ResultCache, Tuple[int, int]]] = {}
_open_lock = threading.Lock()


def open_shared(path) -> ResultCache:
    """The ResultCache of a database file, opened once per process and reused: a search loop that calls
    profile_many(batch, cache=path) once per batch pays the connection set-up (about a millisecond) once.
    Reopened when the file was deleted or replaced since (its device and inode changed)."""
    path = os.path.abspath(os.fspath(path))
    key = (path, os.getpid())   # a forked child opens its own connection
    with _open_lock:
        entry = _open.get(key)
        if entry is not None:
            try:
                st = os.stat(path)
                if (st.st_dev, st.st_ino) == entry[1]:
                    return entry[0]
            except OSError:
                pass
        db = ResultCache(path)
        st = os.stat(path)
        _open[key] = (db, (st.st_dev, st.st_ino))
        return db

