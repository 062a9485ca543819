"""Bulk profiling for NAS: `profile_many(sources) -> ProfileTable`.

Sources are consumed in bounded chunks. Each chunk goes to the C++ core as one list of paths and buffers
(Python keeps the buffers alive), which profiles it on a thread pool with the GIL released and returns
per-model totals only; the next chunk is prepared (e.g. generated) meanwhile. Memory therefore stays flat
however many models an iterator yields: only the table's rows (about 300 bytes each, the source name
included) accumulate.
"""
from __future__ import annotations

import collections
import math
import os
import sys
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from . import cache as cache_mod
from ._core import ModelError
from ._sources import AS_IS as _AS_IS
from ._sources import ModelParts, expand_models, is_many, is_one_model, names_of, resolve, shape_list, value_list
from .table import COUNT_COLUMNS, ProfileTable

__all__ = ["profile_many", "ModelParts"]

Item = Tuple[str, Any]          # (name, payload): payload is a path (str), a bytes-like object or ModelParts
DEFAULT_CHUNK = 1024               # models per chunk at most ...
CHUNK_BYTES = 256 << 20            # ... and at most this many bytes of in-memory models (paths: none)
FIRST_CHUNK = 128                  # models in the first chunk drawn from an iterator


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _normalize(source: Any, index: int) -> Item:
    """A source -> (name, path or buffer). Accepts (name, source) pairs to name bytes and ModelProtos."""
    if type(source) is tuple and len(source) == 2 and isinstance(source[0], str) and type(source[1]) in _AS_IS:
        return source   # the common case, as it is
    return resolve(source, index)


class _Accuracy:
    """Resolves the accuracy of each row: None, a sequence/iterable aligned with sources, or a mapping."""

    def __init__(self, accuracy: Any):
        self.mapping: Optional[Mapping] = None
        self.sequence = None
        self.iterator: Optional[Iterator] = None
        if accuracy is None:
            pass
        elif isinstance(accuracy, Mapping):
            self.mapping = accuracy
        elif isinstance(accuracy, (str, bytes)):
            raise TypeError("accuracy must be None, a sequence aligned with sources or a mapping name -> %")
        elif hasattr(accuracy, "__getitem__") and hasattr(accuracy, "__len__"):
            # by position (a pandas Series too); None -> NaN
            self.sequence = np.asarray(list(accuracy) if not isinstance(accuracy, np.ndarray) else accuracy,
                                       dtype=np.float64)
        else:
            self.iterator = iter(accuracy)

    def values(self, names: Sequence[str], start: int) -> np.ndarray:
        out = np.full(len(names), math.nan)
        if self.mapping is not None:
            for i, name in enumerate(names):
                v = _lookup(self.mapping, name)
                if v is not None:
                    out[i] = float(v)
        elif self.sequence is not None:
            if start + len(names) > len(self.sequence):
                raise ValueError(f"accuracy has {len(self.sequence)} values but there are more sources")
            out[:] = self.sequence[start:start + len(names)]
        elif self.iterator is not None:
            for i in range(len(names)):
                v = next(self.iterator, None)
                if v is not None:
                    out[i] = float(v)
        return out


def _lookup(mapping: Mapping, name: str):
    """Accuracy of a source by its name, else (for paths) its file name, else the file name without .onnx."""
    for key in names_of(name):
        if key in mapping:
            return mapping[key]
    return None


class _Options:
    def __init__(self, input_shapes, batch_size: int, input_values=None):
        self.shapes = shape_list(input_shapes)
        self.values = value_list(input_values)
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")


class _ChunkResult:
    __slots__ = ("names", "totals", "errors", "status", "predicted")

    def __init__(self, names: List[str], totals: np.ndarray, errors: List[str], status: np.ndarray,
                 predicted: Optional[np.ndarray] = None):
        self.names, self.totals, self.errors, self.status = names, totals, errors, status
        self.predicted = predicted   # profile_many(device=...) in one walk: the device model's rows


class _Chunk:
    """One chunk of sources in three steps: cache lookups (Python; at construction, on the calling thread),
    analysis of the misses (`analyse`: C++ with the GIL released, so it may run on a helper thread while
    the next chunk is prepared), then storing the new results and assembling the rows (`finish`)."""

    def __init__(self, items: List[Item], options: _Options, threads: int, cache: Optional["_CacheHandle"],
                 device=None):
        names, payloads = zip(*items) if items else ((), ())
        self.names, self.payloads = list(names), list(payloads)
        self.options, self.threads, self.cache = options, threads, cache
        n = len(items)
        self.totals = np.zeros((n, len(COUNT_COLUMNS)), dtype=np.int64)
        self.status = np.zeros(n, dtype=np.int32)
        self.errors = [""] * n
        self.todo = list(range(n))          # rows to analyse
        self.ids: List[Optional[int]] = []   # cache key of each row: id and check (see cache.ResultCache)
        self.checks: List[bytes] = []
        self.content: Dict[int, Tuple[Optional[int], bytes]] = {}   # content keys of files missed by path key
        self.new_entries: List[Tuple[Optional[int], bytes, Any]] = []
        self.analysed = None
        self.result: Optional[_ChunkResult] = None   # set by finish()
        self.device = device   # a device_profile.OneWalk, or None
        self.predicted: Optional[np.ndarray] = None   # its rows (OneWalk.walk / .rows), one per source
        if cache is not None:
            self._lookup()
            if device is not None and len(self.todo) < n:   # cache hits: the device model's rows only
                hits = np.setdiff1d(np.arange(n), self.todo)
                self._put_rows(hits, device.rows([(self.names[i], self.payloads[i]) for i in hits], threads))

    def _lookup(self) -> None:
        """Keys for every row (one C++ call), one query for all of them, hits filled in."""
        cache, payloads, n = self.cache, self.payloads, len(self.payloads)
        tag = cache.tag(self.options)
        paths = str in set(map(type, payloads))   # (at C speed: this runs on every cache hit)
        if cache.key_fn is not None:
            ids, checks = cache_mod.named_keys([cache.key_fn(name, p) for name, p in zip(self.names, payloads)],
                                               tag)
        elif not paths:
            ids, checks = cache_mod.content_keys(payloads, tag, self.threads)
        else:   # files by (path, size, mtime) first; their contents are hashed only if that misses
            ids, checks = [None] * n, [b""] * n
            buffers = [i for i, p in enumerate(payloads) if not isinstance(p, str)]
            files = [i for i, p in enumerate(payloads) if isinstance(p, str)]
            for part, kind in ((buffers, cache_mod.content_keys([payloads[i] for i in buffers], tag, self.threads)),
                               (files, cache_mod.path_keys([payloads[i] for i in files], tag))):
                for i, key_id, check in zip(part, *kind):
                    ids[i], checks[i] = key_id, check
        self.ids, self.checks = ids, checks
        values = cache.db.lookup(ids, checks)   # the stored value of each row's key, or None
        if all(values):   # every row found (the common case of a re-run): no per-row bookkeeping
            self.todo = []
            self._fill(range(n), values)
            return
        todo = [i for i, v in enumerate(values) if v is None]
        missed = [i for i in todo if isinstance(payloads[i], str)] if paths and cache.key_fn is None else []
        if missed:   # files whose (path, size, mtime) is new: look up their contents
            content_ids, content_checks = cache_mod.content_keys([payloads[i] for i in missed], tag, self.threads)
            self.content = {i: (key_id, check) for i, key_id, check in zip(missed, content_ids, content_checks)}
            for i, v in zip(missed, cache.db.lookup(content_ids, content_checks)):
                if v is not None:
                    values[i] = v
                    self.new_entries.append((ids[i], checks[i], cache_mod.split_value(v)))   # next time by stat
            todo = [i for i in todo if values[i] is None]
        self.todo = todo
        hits = [i for i, v in enumerate(values) if v is not None]
        if hits:
            self._fill(hits, [values[i] for i in hits])

    def _fill(self, rows: Sequence[int], found: List[bytes]) -> None:
        """Rows `rows` from their stored values (see cache.ResultCache)."""
        totals, failed = cache_mod.read_values(found)
        if failed:
            rows = list(rows)
            for j, message in failed:
                i = rows[j]
                self.errors[i] = f"{self.names[i]}: {message}"
                self.status[i] = 1
        if len(found) == len(self.payloads):
            self.totals = totals.astype(np.int64)   # (a copy: the stored bytes are not kept alive)
        else:
            self.totals[rows] = totals

    def analyse(self) -> None:
        """Profile the rows not found in the cache (C++ thread pool, GIL released)."""
        if self.todo:
            todo = self.todo
            whole = len(todo) == len(self.payloads)
            payloads = self.payloads if whole else [self.payloads[i] for i in todo]
            names = self.names if whole else [self.names[i] for i in todo]
            try:
                if self.device is not None:   # totals and the device model's rows from one walk per model
                    totals, status, errors, rows = self.device.walk(payloads, names, self.threads)
                    self.analysed = (totals, status, errors)
                    self._put_rows(todo, rows)
                else:
                    self.analysed = _core.profile_batch(payloads, names, self.options.shapes,
                                                        self.options.batch_size, self.threads,
                                                        input_values=self.options.values)
            except KeyboardInterrupt as exc:   # Ctrl-C: the rows finished come with it (status 4: not finished)
                self.analysed = getattr(exc, "partial", None)
                raise

    def _put_rows(self, rows: Sequence[int], values) -> None:
        values = np.asarray(values, dtype=np.float64)
        if self.predicted is None:
            self.predicted = np.full((len(self.payloads),) + values.shape[1:], np.nan)
        self.predicted[rows] = values

    def finish(self) -> _ChunkResult:
        """Rows of the chunk; new results stored in the cache (one transaction)."""
        if self.analysed is not None:
            t, s, e = self.analysed
            if len(self.todo) == len(self.payloads):
                self.totals, self.status, self.errors = t, s, list(e)
            else:
                self.totals[self.todo] = t
                self.status[self.todo] = s
                for j, i in enumerate(self.todo):
                    self.errors[i] = e[j]
            if self.cache is not None:
                # internal errors and unreadable files (status >= 2) say nothing of the model: never cached
                keep = [j for j in range(len(self.todo)) if s[j] < 2]
                values = cache_mod.new_values(t[keep], [_problem(e[j], self.names[self.todo[j]]) for j in keep])
                for j, value in zip(keep, values):
                    i = self.todo[j]
                    self.new_entries.append((self.ids[i], self.checks[i], value))
                    if i in self.content:
                        self.new_entries.append((*self.content[i], value))
        if self.cache is not None:
            self.cache.db.put_many(self.new_entries)
        self.result = _ChunkResult(self.names, self.totals, self.errors, self.status, self.predicted)
        return self.result

    def finished_part(self) -> Tuple[_ChunkResult, bool]:
        """After Ctrl-C: the leading rows of the chunk that finished (stored in the cache as usual; rows
        after the first unfinished one are left out, so a table stays a prefix of the sources), and whether
        that is the whole chunk."""
        if self.result is not None:
            return self.result, True
        n = len(self.payloads)
        if self.todo and self.analysed is None:   # its analysis never ran (or returned nothing)
            stop = self.todo[0]
        else:
            todo_status = self.analysed[1] if self.analysed is not None else np.zeros(0, np.int32)
            unfinished = np.nonzero(todo_status == CANCELLED)[0]
            stop = self.todo[int(unfinished[0])] if len(unfinished) else n
        r = self.finish()   # (status 4 rows are never stored: only status < 2 are)
        if stop == n:
            return r, True
        return _ChunkResult(r.names[:stop], r.totals[:stop], r.errors[:stop], r.status[:stop]), False


CANCELLED = 4   # profile_batch status of a model not finished when Ctrl-C came


def _keep_finished(in_flight, results: List[_ChunkResult]) -> None:
    """After Ctrl-C: append to `results` the finished rows of the chunks not yet collected, in order, up to
    the first row that did not finish (its chunk's later rows and later chunks are dropped)."""
    for chunk, _ in in_flight:
        if chunk.result is not None and any(r is chunk.result for r in results):
            continue   # collected just before the signal
        part, complete = chunk.finished_part()
        if len(part.names):
            results.append(part)
        if not complete:
            return


def _stop_helper(in_flight) -> None:
    """After Ctrl-C on the calling thread: stop the analysis on the helper thread (a process-wide request,
    see _core.cancel) and wait for it, so the finished rows are known and no thread outlives the call."""
    _core.cancel()
    try:
        for _, future in in_flight:
            if future is not None:
                future.cancel()   # not started: never will be
        for _, future in in_flight:
            if future is not None and not future.cancelled():
                try:
                    future.result()
                except (Exception, KeyboardInterrupt):
                    pass   # its KeyboardInterrupt: the chunk holds what finished
    finally:
        _core.clear_cancel()


def _problem(message: str, name: str) -> str:
    """A ModelError message without its leading source name: a stored error is read back under the name of
    the row that finds it (the same model may come back under another path or position)."""
    prefix = f"{name}: "
    stripped = message[len(prefix):] if message.startswith(prefix) else message
    return stripped or message   # never empty: an empty message would read back as a model without error


def _run_chunk(items: List[Item], options: _Options, threads: int, cache) -> _ChunkResult:
    chunk = _Chunk(items, options, threads, cache)
    chunk.analyse()
    return chunk.finish()


class _CacheHandle:
    def __init__(self, cache, key_fn=None, rebuild: bool = False):
        self.key_fn = key_fn
        self.db = (cache if isinstance(cache, cache_mod.ResultCache)
                   else cache_mod.open_shared(cache, rebuild))   # kept open for the next call
        self.path = self.db.path

    @staticmethod
    def tag(options: _Options) -> bytes:
        key = (repr(options.shapes), options.batch_size, repr(options.values))
        tag = _TAGS.get(key)
        if tag is None:
            tag = _TAGS[key] = cache_mod.options_tag(options.shapes, options.batch_size, options.values)
        return tag


_TAGS: Dict[Tuple[str, int, str], bytes] = {}   # options -> key seed, per process (the core build is fixed once loaded)


class _Progress:
    """tqdm bar, a user callback progress(done, total), or nothing."""

    def __init__(self, progress, total: Optional[int]):
        self.bar = None
        self.callback: Optional[Callable] = None
        self.done = 0
        self.total = total
        if callable(progress) and not isinstance(progress, bool):
            self.callback = progress
            return
        show = sys.stderr.isatty() if progress is None else bool(progress)
        if not show:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            if progress:   # asked for explicitly
                raise ImportError("progress bars need tqdm: pip install 'netscore-fast[progress]'") from None
            return
        self.bar = tqdm(total=total, unit="model", desc="profiling", dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _chunks(sources: Iterable[Any], size: int, max_bytes: Optional[int] = None) -> Iterator[List[Item]]:
    """Normalized items in chunks of at most `size` models; from an iterator, also of about `max_bytes` of
    in-memory model bytes (a chunk closes once it holds that much), so memory stays bounded whatever the
    models it generates weigh."""
    if isinstance(sources, (list, tuple)):   # already in memory: chunks by count, no byte budget needed
        for start in range(0, len(sources), size):   # (a (name, bytes or parts) pair taken as it is)
            yield [s if type(s) is tuple and len(s) == 2 and type(s[1]) in _AS_IS and type(s[0]) is str
                   else _normalize(s, start + k) for k, s in enumerate(sources[start:start + size])]
        return
    limit = CHUNK_BYTES if max_bytes is None else max_bytes
    it = iter(sources)
    index = 0
    cap = min(size, FIRST_CHUNK)   # a small first chunk: the workers start while the next is generated
    while True:
        chunk: List[Item] = []
        append = chunk.append
        held = 0
        for source in it:   # (runs once per model: kept lean, a (name, bytes or parts) pair taken as it is)
            if type(source) is not tuple or len(source) != 2 or type(source[1]) not in _AS_IS or \
                    type(source[0]) is not str:
                source = _normalize(source, index + len(chunk))
            append(source)
            payload = source[1]
            if type(payload) is bytes:
                held += len(payload)
            elif type(payload) is not ModelParts and type(payload) is not str:   # other buffers
                held += memoryview(payload).nbytes
            if held >= limit or len(chunk) >= cap:
                break
        if not chunk:
            return
        yield chunk
        index += len(chunk)
        cap = size


def _object_column(parts: List[List[str]], n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    pos = 0
    for part in parts:
        out[pos:pos + len(part)] = part
        pos += len(part)
    return out


def _assemble(results: List[_ChunkResult], accuracy: np.ndarray) -> ProfileTable:
    # column by column straight from the chunks: one copy of the numbers, no intermediate row arrays
    n = sum(len(r.names) for r in results)
    cols: Dict[str, Any] = {"source": _object_column([r.names for r in results], n)}
    for k, name in enumerate(COUNT_COLUMNS):   # the core's int64 (-1 when failed) -> the table's float64
        # (ProfileTable makes a failed row's counts and a total with an unknown part NaN)
        cols[name] = (np.concatenate([r.totals[:, k] for r in results]).astype(np.float64) if results
                      else np.zeros(0))
    cols["accuracy"] = accuracy[:n]
    cols["error"] = _object_column([r.errors for r in results], n)
    table = ProfileTable(cols)
    table.add_metric("netscore")
    table.add_metric("information_density")
    return table


def _raise_first_error(results: List[_ChunkResult], accuracy: np.ndarray) -> None:
    for r in results:
        bad = np.nonzero(r.status)[0]
        if len(bad):
            exc = ModelError(r.errors[int(bad[0])])
            exc.table = _assemble(results, accuracy)   # the rows profiled so far, the failed ones included
            raise exc


def profile_many(sources: Iterable[Any], *, accuracy: Any = None, input_shapes=None, batch_size: int = 1,
                 input_values=None,
                 threads: Optional[int] = None, errors: str = "record", progress: Any = None, cache: Any = None,
                 executor: Optional[Executor] = None, chunk_size: Optional[int] = None,
                 total: Optional[int] = None, cache_key: Optional[Callable[[str, Any], Any]] = None,
                 cache_rebuild: bool = False, device: Any = None) -> ProfileTable:
    """Profile many ONNX models into a ProfileTable (one row per source, in order).

    sources: a folder or a glob (a str: its .onnx files, sorted, as the CLI expands MODEL arguments), or
        a list or any iterable (consumed lazily, in chunks) of paths, bytes-like objects holding a
        serialized ModelProto, io.BytesIO objects (their contents, e.g. from torch.onnx.export), ModelParts
        (a serialized model in pieces, joined by the workers), onnx.ModelProto objects, or (name, source)
        pairs naming the row.
    accuracy: None, top-1 accuracies in % aligned with sources (sequence or iterable), or a mapping from
        source name (path, file name or file name without .onnx) to accuracy. Enables netscore and
        information_density.
    input_shapes: {input name: dims} for every model; batch_size: value of a symbolic leading dim.
    input_values: {input name: scalar or small 1-D list} for every model, as in profile().
    threads: threads to work on (default: all cores; with an executor, per task, default 1). With 1,
        everything runs on the calling thread; with more, that many C++ workers analyse a chunk while the
        calling thread prepares the next (draws it from `sources`, looks it up in the cache).
    errors: "record" (a failed model gets a row with its message in `error`) or "raise" (ModelError once a
        chunk holds a failure; the rows profiled so far, failed ones included, are in `exc.table`).
    progress: None (a tqdm bar when stderr is a terminal and tqdm is installed), True/False, or a callable
        progress(done, total) called after every chunk (total is None when unknown).
    cache: path of a SQLite result cache (see netscore_fast.cache): models seen before with the same
        options come back without analysis.
    executor: a concurrent.futures.Executor (ProcessPoolExecutor, dask's Client.get_executor(), ...):
        chunks (paths or bytes) are shipped to it and profiled there; the table is reassembled in order.
    chunk_size: models per chunk (default 1024; a chunk also closes once it holds 256 MB of in-memory
        models); total: number of sources when `sources` has no len(), for the progress bar.
    cache_key: optional fn(name, payload) -> str or bytes identifying a model for the cache instead of
        hashing its bytes (e.g. an architecture string); equal keys must mean equal models. Must be
        picklable (a module-level function or object) when used with an executor.
    cache_rebuild: when the cache file cannot be used (not SQLite, another program's database, another
        cache format, damaged), move it aside to <path>.corrupt-<UTC time> and start a new one, rather
        than raise netscore_fast.CacheError (which names the file). A good cache is kept.
    device: a calibrated device model (netscore_fast.device.fit / load, or the path of a saved one): adds
        its column, `latency_ms` (ms per inference) or `energy_mj` (mJ per inference), predicted for
        every row (NaN for failed rows), from the walk that counts the row's totals when the model predicts
        under the same options (docs/device-profile.md). An iterator of sources is then held in memory.

    Returns a ProfileTable; counts are those of profile() for the same model.
    Ctrl-C stops the analysis within a fraction of a second, also in the middle of a chunk, and raises
    KeyboardInterrupt with `exc.table`: the rows finished before it, a prefix of the sources (the finished
    leading rows of the chunk in flight are kept, and stored in the cache; its unfinished rows and later
    chunks are dropped). With an executor, only the chunks collected back from it are kept.
    """
    if errors not in ("record", "raise"):
        raise ValueError(f"errors must be 'record' or 'raise', got {errors!r}")
    if isinstance(sources, (str, os.PathLike)) and is_many(os.fspath(sources)):
        sources = expand_models([os.fspath(sources)])   # a folder or a glob: its models, as the CLI takes them
    elif is_one_model(sources):
        sources = [sources]   # one model, not an iterable of them
    if device is not None:
        from . import device as device_mod
        if isinstance(device, (str, os.PathLike)):
            device = device_mod.load(device)
        if not hasattr(sources, "__len__"):
            sources = list(sources)   # read twice: profiled, then predicted
    options = _Options(input_shapes, batch_size, input_values)
    one_walk = None   # the device model's rows from the walk that counts the totals, when the walks are the same
    if device is not None and executor is None and not options.values and hasattr(device, "_one_walk"):
        one_walk = device._one_walk(options.shapes, options.batch_size)
    size = int(chunk_size or DEFAULT_CHUNK)
    if size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if total is None and hasattr(sources, "__len__"):
        total = len(sources)  # type: ignore[arg-type]
    acc = _Accuracy(accuracy)
    accuracies: List[np.ndarray] = []
    results: List[_ChunkResult] = []
    bar = _Progress(progress, total)
    try:
        if executor is not None:
            _run_remote(executor, sources, options, threads, cache, size, acc, accuracies, results, bar, errors,
                        cache_key, cache_rebuild)
        else:
            _run_local(sources, options, threads, cache, size, acc, accuracies, results, bar, errors, cache_key,
                       cache_rebuild, one_walk)
    except KeyboardInterrupt as exc:   # Ctrl-C: the rows finished so far go with it
        n = sum(len(r.names) for r in results)
        exc.table = _assemble(results, np.concatenate(accuracies)[:n] if accuracies else np.zeros(0))
        raise
    finally:
        bar.close()
    accuracy_all = np.concatenate(accuracies) if accuracies else np.zeros(0)
    table = _assemble(results, accuracy_all)
    if device is not None:
        if one_walk is not None and results:
            predicted = np.asarray(one_walk.column(np.concatenate([r.predicted for r in results])), np.float64)
        else:   # another walk (its options differ from the totals', or the chunks ran on an executor)
            predicted = np.asarray(device.predict(sources, threads=threads), dtype=np.float64)
        table.add_metric(device.quantity, lambda columns: predicted)
    return table


def _run_local(sources, options, threads, cache, size, acc, accuracies, results, bar, errors, cache_key,
               cache_rebuild=False, device=None) -> None:
    nthreads = int(threads) if threads else _default_threads()
    handle = _CacheHandle(cache, cache_key, cache_rebuild) if cache is not None else None
    # Ctrl-C: profile_batch stops within a few nodes and hands back the rows it finished; the chunks not
    # yet collected (in_flight, in order) then give their finished leading rows to `results`.
    in_flight: "collections.deque" = collections.deque()   # (chunk, future of its analysis or None)
    try:
        if nthreads == 1 or isinstance(sources, (list, tuple)) and len(sources) <= size:
            # one thread asked for, or one chunk (nothing to overlap): everything on this thread
            done = 0
            for items in _chunks(sources, size):
                chunk = _Chunk(items, options, nthreads, handle, device)
                accuracies.append(acc.values(chunk.names, done))
                done += len(items)
                in_flight.append((chunk, None))
                chunk.analyse()
                _finish(in_flight, results, bar, errors, accuracies)
            return
        # cache lookups and storing run here; the analysis of a chunk's misses runs on the helper thread
        # (GIL released) while the next chunk is prepared
        done = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="netscore-batch") as pool:
            try:
                for items in _chunks(sources, size):
                    chunk = _Chunk(items, options, nthreads, handle, device)
                    accuracies.append(acc.values(chunk.names, done))
                    done += len(items)
                    in_flight.append((chunk, pool.submit(chunk.analyse) if chunk.todo else None))
                    if len(in_flight) > 1:
                        _finish(in_flight, results, bar, errors, accuracies)
                while in_flight:
                    _finish(in_flight, results, bar, errors, accuracies)
            except KeyboardInterrupt:
                _stop_helper(in_flight)   # here: leaving the `with` waits for the helper thread
                raise
    except KeyboardInterrupt:
        _keep_finished(in_flight, results)
        raise


def _finish(in_flight, results, bar, errors, accuracies) -> None:
    """Collects the oldest chunk in flight (waits for its analysis)."""
    chunk, future = in_flight[0]
    if future is not None:
        future.result()
    _collect(chunk.finish(), results, bar, errors, accuracies)
    in_flight.popleft()   # (after: a Ctrl-C in between finds the chunk collected, see _keep_finished)


def _collect(result: _ChunkResult, results, bar, errors, accuracies) -> None:
    results.append(result)
    bar.update(len(result.names))
    if errors == "raise" and result.status.any():
        n = sum(len(r.names) for r in results)
        _raise_first_error(results, np.concatenate(accuracies)[:n])


def _portable(item: Item) -> Item:
    name, payload = item
    if isinstance(payload, str) or isinstance(payload, bytes):
        return item
    if isinstance(payload, ModelParts):
        return name, bytes(payload)
    return name, bytes(memoryview(payload).cast("B"))


def _profile_chunk_remote(items: List[Item], shapes, batch_size: int, threads: int, cache_path,
                          cache_key=None, values=None) -> Dict[str, Any]:
    """Executor task: profile one chunk where it runs; returns plain arrays (picklable, compact)."""
    options = _Options(shapes, batch_size, values)
    handle = _CacheHandle(cache_path, cache_key) if cache_path is not None else None
    r = _run_chunk(items, options, threads, handle)
    return {"names": r.names, "totals": r.totals, "errors": r.errors, "status": r.status}


def _run_remote(executor, sources, options, threads, cache, size, acc, accuracies, results, bar, errors,
                cache_key, cache_rebuild=False) -> None:
    nthreads = int(threads) if threads else 1
    cache_path = None
    if cache is not None:
        cache_path = getattr(cache, "path", None) or os.fspath(cache)
        if cache_rebuild:   # checked (and rebuilt) once here, before the workers open it
            cache_mod.open_shared(cache_path, rebuild=True)
    max_in_flight = max(4, 2 * (getattr(executor, "_max_workers", None) or _default_threads()))
    in_flight: "collections.deque" = collections.deque()
    done = 0

    def collect_one():
        fut = in_flight.popleft()
        r = fut.result()
        res = _ChunkResult(r["names"], r["totals"], r["errors"], r["status"])
        results.append(res)
        bar.update(len(res.names))
        if errors == "raise" and res.status.any():
            n = sum(len(x.names) for x in results)
            _raise_first_error(results, np.concatenate(accuracies)[:n])

    try:
        for chunk in _chunks(sources, size):
            accuracies.append(acc.values([name for name, _ in chunk], done))
            done += len(chunk)
            chunk = [_portable(item) for item in chunk]
            in_flight.append(executor.submit(_profile_chunk_remote, chunk, options.shapes, options.batch_size,
                                             nthreads, cache_path, cache_key, options.values))
            if len(in_flight) >= max_in_flight:
                collect_one()
        while in_flight:
            collect_one()
    finally:
        for fut in in_flight:
            fut.cancel()
