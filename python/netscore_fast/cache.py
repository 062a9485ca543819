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
_core.TOTALS_COLUMNS, in order; the list is part of every key) as little-endian int64, the ModelError
message in UTF-8 without the source's name, which the row that reads it puts back (nothing when the model
is fine), then an 8-byte checksum. Accuracy and metrics are never cached: they depend on
the caller, not the model.

Integrity: the checksum is XXH3 (the keys' hash, computed in C++) over the whole key (id and check bytes)
and the rest of the value. A row read from the file is used only if its checksum matches, it is a BLOB of
a possible length, and its totals are counts (>= 0, or -1 for unknown); anything else is counted in
`rejected`, treated as a miss, re-analysed and overwritten. The file itself must be one of ours (SQLite
with our application id, format version and one table); anything else (not SQLite, another program's
database, an older or newer format, a directory, no permission) is a CacheError naming the file, and
`rebuild=True` (profile_many's cache_rebuild, the command line's --cache-rebuild) moves such a file aside
to <path>.corrupt-<UTC time> and starts a new cache. The checksum detects damage and accidental edits, not a
forger who recomputes it (see "What the cache trusts" in the README).

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
import stat
import struct
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import __version__, _core

VALUE_COLUMNS = tuple(_core.TOTALS_COLUMNS)   # the per-model totals a value keeps, in order (C++'s one list)
assert set(_core.TOTALS_DTYPES) == {"<i8"}, "the value layout stores every total as a little-endian int64"
TOTALS_DTYPE = np.dtype("<i8")   # a value's totals BLOB: len(VALUE_COLUMNS) of these
_SCHEMA_VERSION = 4             # PRAGMA user_version of our files; 4: values carry a checksum
_TABLE = "results_v4"            # earlier schemas used "results" (1: BLAKE2b keys), "results_v2", "results_v3"
_OLDER_TABLES = {"results": 1, "results_v2": 2, "results_v3": 3}   # formats 1 to 3 (no application id)
_APPLICATION_ID = 0x6E736663     # PRAGMA application_id of our files: "nsfc"
_COLUMNS = ["id", "value", "created"]

Value = Tuple[bytes, str]        # (totals: little-endian int64 per column, error message or "")
_CHECK = 8                       # a stored value: the key's check bytes, the totals, the error, the checksum
_SUM_BYTES = 8                   # (last, so that what it covers is one slice of the value)
TOTALS_AT = slice(_CHECK, _CHECK + TOTALS_DTYPE.itemsize * len(VALUE_COLUMNS))
_PLAIN_VALUE = TOTALS_AT.stop + _SUM_BYTES   # length of a stored value without an error message
_VALUE_DTYPE = np.dtype([("check", f"V{_CHECK}"), ("totals", TOTALS_DTYPE, (len(VALUE_COLUMNS),)),
                         ("sum", f"V{_SUM_BYTES}")])
_SUM_SALT = b"netscore_fast cache value checksum v4"
_UNKNOWN = -1                    # the one negative total a value may hold ("unknown", or a failed model)


class CacheError(ValueError):
    """A result cache file that cannot be used (not one of our caches, unreadable, damaged beyond a row).
    The message names the file; `path` holds it."""

    def __init__(self, message: str, path: Optional[str] = None):
        super().__init__(message)
        self.path = path


_REBUILD_HINT = ("; to move it aside and start a new cache pass rebuild=True (profile_many(..., "
                 "cache_rebuild=True), or --cache-rebuild on the command line)")


_ID_BYTES = struct.Struct("<q").pack                       # a key's id as 8 bytes
_UNSUMMED = operator.itemgetter(slice(None, -_SUM_BYTES))   # what a value's checksum covers (with the id)
_SUMMED = operator.itemgetter(slice(-_SUM_BYTES, None))     # the checksum


def _sums(rows: Sequence[Tuple[int, bytes]]) -> List[bytes]:
    """The checksum of each (id, value without its checksum): XXH3 over the whole key (the id, and the
    check bytes that start the value) and the value, one C++ call for all of them."""
    return _core.content_digests([(_ID_BYTES(i), v) for i, v in rows], _SUM_SALT, 1)[1]


@functools.lru_cache(maxsize=1)
def _core_build() -> str:
    """Size and mtime of the compiled core: a rebuilt analysis (same version string) misses the cache.
    Read once per process: a running process keeps the core it loaded, even if the file is rebuilt."""
    try:
        st = os.stat(_core.__file__)
        return f"{st.st_size}:{st.st_mtime_ns}"
    except (OSError, AttributeError, TypeError):
        return ""


def options_tag(input_shapes=None, batch_size: int = 1, input_values=None) -> bytes:
    """The analysis options, library version and core build as bytes: the seed of every key."""
    shapes = sorted((str(k), [int(d) for d in v]) for k, v in
                    (input_shapes.items() if hasattr(input_shapes, "items") else (input_shapes or [])))
    options = {"v": __version__, "build": _core_build(), "schema": _SCHEMA_VERSION, "shapes": shapes,
               "batch": int(batch_size), "columns": list(VALUE_COLUMNS)}
    if input_values:   # only when given: keys without input values stay as they were
        options["values"] = sorted((str(k), [float(x) for x in v]) for k, v in
                                   (input_values.items() if hasattr(input_values, "items") else input_values))
    return json.dumps(options, sort_keys=True, separators=(",", ":")).encode()


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
    `with`). Rows read from the file that fail their checksum or hold impossible totals are misses, counted
    in `rejected`. A file that is not a cache of this version raises CacheError naming it; with
    rebuild=True it is moved aside instead (to `moved_aside`, <path>.corrupt-<UTC time>) and a new cache
    started. A good cache is kept either way.
    """

    def __init__(self, path, timeout: float = 60.0, memory_rows: int = 1 << 16, rebuild: bool = False):
        self.path = os.fspath(path)
        self._lock = threading.Lock()   # one statement at a time on the connection, from any thread
        self._memory: Dict[int, bytes] = {}   # id -> stored value (checked when read from the file)
        self._memory_rows = int(memory_rows)
        self.rejected = 0               # rows read from the file that failed their checks (then misses)
        self.moved_aside: Optional[str] = None   # where rebuild=True moved an unusable file
        try:
            self._conn = self._open(timeout)
        except CacheError:
            if not rebuild or not os.path.lexists(self.path):
                raise
            self.moved_aside = _move_aside(self.path)
            self._conn = self._open(timeout)

    def _error(self, reason: str) -> CacheError:
        return CacheError(f"result cache {self.path!r} {reason}{_REBUILD_HINT}", self.path)

    def _open(self, timeout: float) -> sqlite3.Connection:
        """A connection to our cache file at self.path (created when new), or CacheError saying why not.
        Nothing is written to a file that is not ours."""
        problem = _file_problem(self.path)
        if problem:
            raise self._error(problem)
        try:
            c = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise self._error(f"cannot be opened ({e})") from e
        try:
            c.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            state = self._retry(lambda: _state(c))
            if state == (0, 0, {}):   # a new (empty) database: make it ours
                self._retry(lambda: c.execute("PRAGMA journal_mode = WAL"))
                self._retry(lambda: c.execute("BEGIN IMMEDIATE"))
                try:
                    state = _state(c)   # another process may have made it ours meanwhile
                    if state == (0, 0, {}):
                        c.execute(f"CREATE TABLE {_TABLE} (id INTEGER PRIMARY KEY, value BLOB NOT NULL, created REAL)")
                        c.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                        c.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                        state = (_APPLICATION_ID, _SCHEMA_VERSION, {_TABLE: _COLUMNS})
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
            problem = _state_problem(*state)
            if problem:
                raise self._error(problem)
            self._retry(lambda: c.execute("PRAGMA journal_mode = WAL"))
            c.execute("PRAGMA synchronous = NORMAL")   # WAL + NORMAL: durable against process kills
        except sqlite3.OperationalError as e:
            c.close()
            if "locked" in str(e):   # busy for the whole timeout: nothing wrong with the file
                raise
            raise self._error(f"cannot be used ({e})") from e
        except sqlite3.DatabaseError as e:
            c.close()
            raise self._error(f"is not a readable SQLite database ({e})") from e
        except BaseException:
            c.close()
            raise
        return c

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
        """The stored value of each key (id, check), or None: a miss, a value whose check differs (another
        model with the same id), or a row that fails its checks (see _checked). Remembered values first,
        then one query for the rest. (A re-run served from memory takes a few C-speed passes and no
        per-row Python.)"""
        memory = self._memory
        values = list(map(memory.get, ids))
        if not all(values):   # some not remembered (a stored value is never empty): ask the database
            # (a None id, from a file that could not be read, binds as NULL and matches nothing)
            unknown = list(itertools.compress(ids, map(operator.not_, values)))
            with self._lock:
                for start in range(0, len(unknown), _QUERY_IDS):
                    part = unknown[start:start + _QUERY_IDS]
                    try:
                        rows = self._conn.execute(f"SELECT id, value FROM {_TABLE} WHERE id IN "
                                                  f"({','.join('?' * len(part))})", part).fetchall()
                    except sqlite3.DatabaseError as e:
                        raise self._runtime_error(e) from e
                    memory.update(self._checked(rows))
            values = list(map(memory.get, ids))
            self._trim()
            if not all(values):
                return [v if v is not None and v.startswith(c) else None for v, c in zip(values, checks)]
        if all(map(bytes.startswith, values, checks)):
            return values
        return [v if v.startswith(c) else None for v, c in zip(values, checks)]

    def _checked(self, rows: List[Tuple[int, Any]]) -> List[Tuple[int, bytes]]:
        """The rows read from the file whose value is a BLOB of a possible length, whose checksum matches its
        key and content, and whose totals are counts (>= 0, or -1 for unknown). The others are counted in
        `rejected` and left out: misses, re-analysed and then overwritten."""
        n = len(rows)
        if not n:
            return rows
        ids, values = zip(*rows)   # (the per-row work below runs at C speed: map over C callables)
        if set(map(type, values)) != {bytes} or min(map(len, values)) < _PLAIN_VALUE:
            rows = [r for r in rows if type(r[1]) is bytes and len(r[1]) >= _PLAIN_VALUE]
            ids, values = zip(*rows) if rows else ((), ())
        good = rows
        if good:
            sums = _core.content_digests(list(zip(map(_ID_BYTES, ids), map(_UNSUMMED, values))), _SUM_SALT, 1)[1]
            if not all(map(operator.eq, map(_SUMMED, values), sums)):
                good = [r for r, s in zip(good, sums) if r[1][-_SUM_BYTES:] == s]
                values = [v for _, v in good]
        if good:
            if max(map(len, values)) == _PLAIN_VALUE:   # no error messages: one array, no per-row slicing
                totals = np.frombuffer(b"".join(values), dtype=_VALUE_DTYPE)["totals"]
            else:
                totals = np.frombuffer(b"".join([v[TOTALS_AT] for v in values]), dtype=TOTALS_DTYPE)
            plausible = (totals.reshape(len(good), len(VALUE_COLUMNS)) >= _UNKNOWN).all(axis=1)
            if not plausible.all():
                good = list(itertools.compress(good, plausible.tolist()))
        self.rejected += n - len(good)
        return good

    def _runtime_error(self, e: sqlite3.DatabaseError) -> BaseException:
        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            return e   # busy for the whole timeout: nothing wrong with the file
        return self._error(f"cannot be read ({e})")

    def _trim(self) -> None:
        memory = self._memory
        if len(memory) > self._memory_rows:   # drop the oldest half (dicts keep insertion order)
            for key in list(itertools.islice(memory, len(memory) - self._memory_rows // 2)):
                del memory[key]

    def put_many(self, items: Iterable[Tuple[Optional[int], bytes, Value]]) -> None:
        """Store (id, check, (totals, error)) items in one transaction (replacing equal ids)."""
        keyed = [(i, check + totals + err.encode("utf-8", "surrogateescape"))
                 for i, check, (totals, err) in items if i is not None]
        if not keyed:
            return
        now = time.time()
        rows = [(i, v + s, now) for (i, v), s in zip(keyed, _sums(keyed))]
        c = self._conn
        with self._lock:
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
                    c.executemany(f"INSERT OR REPLACE INTO {_TABLE} (id, value, created) VALUES (?, ?, ?)", rows)
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as e:
                raise self._runtime_error(e) from e
            self._memory.update((r[0], r[1]) for r in rows)   # remembered once committed
            self._trim()


    def __len__(self) -> int:
        with self._lock:
            try:
                return int(self._conn.execute(f"SELECT COUNT(*) FROM {_TABLE}").fetchone()[0])
            except sqlite3.DatabaseError as e:
                raise self._runtime_error(e) from e

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "ResultCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _file_problem(path: str) -> str:
    """Why the file at path cannot be a result cache, judged without SQLite ("" when it may be one: it
    does not exist yet, is empty, or starts with SQLite's header). Never opens a FIFO or device."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ""
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, not a result cache file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_size == 0:
        return ""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if head != b"SQLite format 3\x00":
        return "is not a SQLite database, so not a netscore_fast result cache"
    return ""


def _state(c: sqlite3.Connection) -> Tuple[int, int, Dict[str, List[str]]]:
    """(application id, user version, {table: its columns}) of an open database."""
    tables = [name for (name,) in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()]
    columns = {name: [row[1] for row in c.execute(f'PRAGMA table_info("{name}")').fetchall()] for name in tables}
    return (int(c.execute("PRAGMA application_id").fetchone()[0]), int(c.execute("PRAGMA user_version").fetchone()[0]),
            columns)


def _state_problem(application_id: int, version: int, tables: Dict[str, List[str]]) -> str:
    """Why a SQLite database is not a result cache this version can use ("" when it is)."""
    if application_id == _APPLICATION_ID:
        if version > _SCHEMA_VERSION:
            return (f"was written by a newer netscore_fast (cache format {version}; this version reads format "
                    f"{_SCHEMA_VERSION})")
        if version < _SCHEMA_VERSION:
            return (f"was written by an older netscore_fast (cache format {version}; this version reads format "
                    f"{_SCHEMA_VERSION})")
        if tables != {_TABLE: _COLUMNS}:
            return f"is damaged: it holds tables {sorted(tables)} where one table {_TABLE!r} {_COLUMNS} belongs"
        return ""
    if application_id == 0 and version == 0 and tables and set(tables) <= set(_OLDER_TABLES):
        return (f"was written by an older netscore_fast (cache format {max(_OLDER_TABLES[t] for t in tables)}; "
                f"this version reads format {_SCHEMA_VERSION})")
    what = f"tables {', '.join(sorted(tables))}" if tables else f"application id {application_id:#x}"
    return f"is a SQLite database of something else ({what}), not a netscore_fast result cache"


def _move_aside(path: str) -> str:
    """Rename an unusable cache file (with its WAL and shared-memory files) to <path>.corrupt-<UTC time>
    rather than delete it; returns the new name."""
    aside = f"{path}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    n = 1
    while any(os.path.lexists(aside + s) for s in ("", "-wal", "-shm")):
        n += 1
        aside = f"{path}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{n}"
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):   # a stale WAL must never be applied to the new file
            if os.path.lexists(path + suffix):
                os.replace(path + suffix, aside + suffix)
    except OSError as e:
        raise CacheError(f"result cache {path!r} cannot be moved aside to rebuild it ({e.strerror})", path) from e
    return aside


def split_value(value: bytes) -> Value:
    """A stored value -> (totals bytes, error message)."""
    return value[TOTALS_AT], value[TOTALS_AT.stop:-_SUM_BYTES].decode("utf-8", "surrogateescape")


def new_values(totals: np.ndarray, errors: Sequence[str]) -> List[Value]:
    """Values to store for rows of totals (int64[n, len(VALUE_COLUMNS)]) and their ModelError messages
    without the source's name ("" when the model is fine)."""
    blobs = np.ascontiguousarray(totals, dtype=TOTALS_DTYPE)
    return [(blobs[j].tobytes(), err) for j, err in enumerate(errors)]


def read_values(values: Sequence[bytes]) -> Tuple[np.ndarray, List[Tuple[int, str]]]:
    """Stored values -> (their totals as int64[n, len(VALUE_COLUMNS)], [(position, ModelError message)] for
    the values of models that failed). The totals may be a read-only view of the values: copy to keep."""
    if max(map(len, values)) == _PLAIN_VALUE:   # no error messages: one array of (check, totals, sum)
        return np.frombuffer(b"".join(values), dtype=_VALUE_DTYPE)["totals"], []
    totals = np.frombuffer(b"".join([v[TOTALS_AT] for v in values]), dtype=TOTALS_DTYPE)
    failed = [(j, split_value(v)[1]) for j, v in enumerate(values) if len(v) > _PLAIN_VALUE]
    return totals.reshape(len(values), len(VALUE_COLUMNS)), failed


_open: Dict[Tuple[str, int], Tuple[ResultCache, Tuple[int, int]]] = {}
_open_lock = threading.Lock()


def open_shared(path, rebuild: bool = False) -> ResultCache:
    """The ResultCache of a database file, opened once per process and reused: a search loop that calls
    profile_many(batch, cache=path) once per batch pays the connection set-up (about a millisecond) once.
    Reopened when the file was deleted or replaced since (its device and inode changed). rebuild: see
    ResultCache."""
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
        db = ResultCache(path, rebuild=rebuild)
        st = os.stat(path)
        _open[key] = (db, (st.st_dev, st.st_ino))
        return db

