"""Model sources: every form a model may be given in (path, bytes-like, BytesIO, onnx.ModelProto,
ModelParts), turned once into what the C++ core reads. Used by profile(), profile_many() and
bench.measure(), so every entry point takes the same sources.
"""
from __future__ import annotations

import io
import os
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = ["ModelParts", "shape_list", "is_one_model", "resolve", "names_of", "AS_IS", "is_many", "expand_models"]

InputShapes = Union[Mapping[str, Sequence[int]], Iterable[Tuple[str, Sequence[int]]], None]
# What the core reads: a path (str), a bytes-like object, or ModelParts (bulk calls only).
Payload = Any


class ModelParts(tuple):
    """A serialized ModelProto given as consecutive bytes parts, for profile_many (and profile).

    Protobuf messages may be split between fields and concatenated, so a generator that assembles models
    from pre-serialized pieces (netscore_fast.nas does) can hand over the pieces: profile_many's C++
    workers join them in parallel instead of the Python thread joining every model. `bytes(parts)` joins
    them. Every part must be `bytes`.
    """
    __slots__ = ()

    def __bytes__(self) -> bytes:
        return b"".join(self)


AS_IS = (bytes, ModelParts)   # payloads of (name, payload) pairs that bulk calls take as they are
_BUFFERS = (bytes, bytearray, memoryview, ModelParts)


def shape_list(input_shapes: InputShapes) -> List[Tuple[str, List[int]]]:
    """{input name: dims} or (name, dims) pairs -> [(name, [int dims])] as the core takes them."""
    if not input_shapes:
        return []
    items = input_shapes.items() if hasattr(input_shapes, "items") else input_shapes
    return [(str(name), [int(d) for d in dims]) for name, dims in items]


def value_list(input_values: Any) -> List[Tuple[str, List[float]]]:
    """{input name: scalar or 1-D list} (or (name, values) pairs) -> [(name, [float values])] as the core
    takes them (an integer input gets the values as integers)."""
    if not input_values:
        return []
    items = input_values.items() if hasattr(input_values, "items") else input_values
    out = []
    for name, values in items:
        if hasattr(values, "tolist"):          # numpy scalars and arrays
            values = values.tolist()
        if isinstance(values, (int, float)):  # bool is an int
            values = [values]
        out.append((str(name), [float(v) for v in values]))
    return out


def is_one_model(source: Any) -> bool:
    """True when `source` is a single model rather than an iterable of them."""
    return isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview, ModelParts, io.BytesIO)) or \
        hasattr(source, "SerializeToString")


def _is_buffer(obj: Any) -> bool:
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


def resolve(source: Any, index: Optional[int] = None) -> Tuple[str, Payload]:
    """A source -> (name, payload): a path (str), a bytes-like object or ModelParts.

    index None: a lone model (profile(), bench.measure()): named by its path, "<bytes>" or
        "<ModelProto 'graph name'>"; ModelParts come back joined (bytes).
    index i: the i-th model of a bulk call: (name, source) pairs name it; otherwise it is named by its
        path, "<bytes #i>" or its graph name ("<ModelProto #i>" when empty); ModelParts stay in parts.
    A BytesIO gives its contents (copied: the caller may write to it again). Raises TypeError for
    anything else.
    """
    one = index is None
    name = None
    if not one and type(source) is tuple and len(source) == 2 and isinstance(source[0], str):
        name, source = source
    # bytes first: the common case of a search loop, and the cheapest test (this runs once per model)
    if isinstance(source, _BUFFERS):
        if one and isinstance(source, ModelParts):
            source = bytes(source)
        return (_bytes_name(index) if name is None else name), source
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return (path if name is None else name), path
    if isinstance(source, io.BytesIO):   # e.g. torch.onnx.export's target
        return (_bytes_name(index) if name is None else name), source.getvalue()
    if hasattr(source, "SerializeToString"):
        if name is None:
            graph_name = getattr(getattr(source, "graph", None), "name", "")
            name = f"<ModelProto {graph_name!r}>" if one else (graph_name or f"<ModelProto #{index}>")
        return name, source.SerializeToString()
    if _is_buffer(source):   # other bytes-like objects (numpy arrays, ...): read in place
        return (_bytes_name(index) if name is None else name), source
    if one:
        raise TypeError(f"<bytes>: expected a path, a bytes-like object or an onnx.ModelProto, got "
                        f"{type(source).__name__}")
    raise TypeError(f"source #{index}: expected a path, a bytes-like object, a BytesIO, an onnx.ModelProto or "
                    f"a (name, source) pair, got {type(source).__name__}")


def _bytes_name(index: Optional[int]) -> str:
    return "<bytes>" if index is None else f"<bytes #{index}>"


def names_of(name: str) -> Tuple[str, str, str]:
    """The names a row may be looked up by (accuracy tables): its name, its file name, and that without
    its extension (".onnx"), in that order."""
    base = os.path.basename(name)
    return name, base, os.path.splitext(base)[0]


_GLOB_CHARS = set("*?[")


def is_many(pattern: str) -> bool:
    """True when a MODEL argument names several models: a directory or a glob that is not a file."""
    return os.path.isdir(pattern) or (not os.path.exists(pattern) and bool(_GLOB_CHARS & set(pattern)))


def expand_models(models: Sequence[str]) -> List[str]:
    """MODEL arguments -> paths: a directory's *.onnx files (sorted), a glob's matches (sorted), a path."""
    import glob
    paths: List[str] = []
    for m in models:
        if os.path.isdir(m):
            names = (os.path.join(m, f) for f in os.listdir(m) if f.endswith(".onnx"))
            paths += sorted(p for p in names if os.path.isfile(p))   # regular files only: a FIFO would block
        elif not os.path.exists(m) and _GLOB_CHARS & set(m):
            found = sorted(p for p in glob.glob(m, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"no file matches {m!r}")
            paths += found
        else:
            paths.append(m)
    return paths
