"""SQLite result cache for bulk profiling: a re-proposed candidate comes back without re-analysis.

Key: a BLAKE2b digest of the model bytes together with the analysis options (input shapes, batch size)
and the library version, so a change to any of them misses. For bytes-like sources the digest is of the
bytes themselves. For paths the file's (absolute path, size, mtime_ns) is looked up first, which costs a
stat() rather than a read (weights can be gigabytes); on a miss the file is hashed through a read-only
mmap and looked up by content, so a copied or renamed file still hits. Both keys are stored, and a
rewritten file changes its mtime (and usually its size), so it misses the path key and is hashed again.
(A file rewritten within the filesystem's mtime resolution keeping its size is the one case the path key
cannot see; pass `hash_paths=True` to always hash.)

Values: the per-model totals of ProfileTable (params, macs, flops, weight_bytes, activation_bytes,
peak_activation_bytes, bn_stat_params, unsupported) or the ModelError message. Accuracy and metrics are
never cached: they depend on the caller, not the model.

Safety with several processes at once and with a process killed mid-run: WAL journal mode, a busy
timeout, and one short transaction per chunk of results (BEGIN IMMEDIATE ... COMMIT). A killed writer
loses at most its open transaction; everything committed before stays, and the database never corrupts
(SQLite's atomic commit).
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import sqlite3
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from . import __version__

VALUE_COLUMNS = ("params", "macs", "flops", "weight_bytes", "activation_bytes", "peak_activation_bytes",
                 "bn_stat_params", "unsupported")
_SCHEMA_VERSION = 1
_DIGEST_SIZE = 20          # bytes of BLAKE2b output: 160 bits, collisions out of reach for any model zoo

Value = Tuple[Tuple[int, ...], str]   # (totals in VALUE_COLUMNS order, error message or "")


def options_tag(input_shapes=None, batch_size: int = 1) -> bytes:
    """The analysis options and library version as bytes, mixed into every key."""
    shapes = sorted((str(k), [int(d) for d in v]) for k, v in
                    (input_shapes.items() if hasattr(input_shapes, "items") else (input_shapes or [])))
    return json.dumps({"v": __version__, "schema": _SCHEMA_VERSION, "shapes": shapes, "batch": int(batch_size)},
                      sort_keys=True, separators=(",", ":")).encode()


def content_key(data, tag: bytes) -> bytes:
    """Key of a model given as bytes (any contiguous buffer)."""
    h = hashlib.blake2b(tag, digest_size=_DIGEST_SIZE)   # the tag first: options, then content
    h.update(memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data)
    return b"c" + h.digest()


def file_content_key(path: str, tag: bytes) -> bytes:
    """Key of a model file by content (read through a read-only mmap)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return content_key(b"", tag)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return content_key(m, tag)


def path_key(path: str, tag: bytes) -> Optional[bytes]:
    """Key of a model file by (absolute path, size, mtime_ns); None when the file cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    h = hashlib.blake2b(tag, digest_size=_DIGEST_SIZE)
    h.update(f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape"))
    return b"p" + h.digest()


class ResultCache:
    """A SQLite file mapping model keys to profile totals. Safe for concurrent processes.

    Use `get_many(keys)` and `put_many(items)` (one transaction each); `close()` when done (or `with`).
    """

    def __init__(self, path, timeout: float = 60.0):
        self.path = os.fspath(path)
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        c = self._conn
        c.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._retry(lambda: c.execute("PRAGMA journal_mode = WAL"))
        c.execute("PRAGMA synchronous = NORMAL")   # WAL + NORMAL: durable against process kills
        self._retry(lambda: c.execute(
            "CREATE TABLE IF NOT EXISTS results (key BLOB PRIMARY KEY, "
            + ", ".join(f"{name} INTEGER NOT NULL" for name in VALUE_COLUMNS)
            + ", error TEXT NOT NULL DEFAULT '', created REAL) WITHOUT ROWID"))

    @staticmethod
    def _retry(fn, attempts: int = 50):
        for i in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as e:   # "database is locked" while another process sets up
                if "locked" not in str(e) or i == attempts - 1:
                    raise
                time.sleep(0.05)

    def get_many(self, keys: Sequence[bytes]) -> Dict[bytes, Value]:
        """Cached values of the keys present (missing keys are absent from the result)."""
        out: Dict[bytes, Value] = {}
        unique = list(dict.fromkeys(k for k in keys if k is not None))
        cols = ", ".join(VALUE_COLUMNS)
        for start in range(0, len(unique), 500):   # stay under SQLite's bound-variable limit
            part = unique[start:start + 500]
            rows = self._conn.execute(
                f"SELECT key, {cols}, error FROM results WHERE key IN ({','.join('?' * len(part))})", part)
            for row in rows:
                out[bytes(row[0])] = (tuple(row[1:1 + len(VALUE_COLUMNS)]), row[-1])
        return out

    def put_many(self, items: Iterable[Tuple[bytes, Value]]) -> None:
        """Store values in one transaction (replacing equal keys)."""
        now = time.time()
        rows = [(k, *vals, err, now) for k, (vals, err) in items if k is not None]
        if not rows:
            return
        sql = (f"INSERT OR REPLACE INTO results (key, {', '.join(VALUE_COLUMNS)}, error, created) "
               f"VALUES ({', '.join('?' * (len(VALUE_COLUMNS) + 3))})")
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(sql, rows)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ResultCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def keys_for(items: List[Tuple[str, object]], tag: bytes, hash_paths: bool = False,
             threads: int = 1) -> List[Tuple[Optional[bytes], Optional[bytes]]]:
    """(path key, content key) per (name, payload) item; a path's content key is computed lazily (None here).

    threads > 1 hashes buffers on that many threads (hashlib releases the GIL for buffers over 2 KiB).
    """
    def one(payload):
        if isinstance(payload, str):
            return path_key(payload, tag), file_content_key(payload, tag) if hash_paths else None
        return None, content_key(payload, tag)

    payloads = [payload for _, payload in items]
    if threads > 1 and len(payloads) >= 4 * threads:
        from concurrent.futures import ThreadPoolExecutor
        step = -(-len(payloads) // threads)
        slices = [payloads[i:i + step] for i in range(0, len(payloads), step)]
        with ThreadPoolExecutor(max_workers=len(slices)) as pool:   # one task per slice: little overhead
            return [key for part in pool.map(lambda ps: [one(p) for p in ps], slices) for key in part]
    return [one(p) for p in payloads]
