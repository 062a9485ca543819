"""Every entry point takes the same sources (python/netscore_fast/_sources.py): path, os.PathLike, bytes,
bytearray, memoryview, numpy buffer, io.BytesIO, onnx.ModelProto and ModelParts; and the command line's
one accuracy-CSV reader."""
from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from netscore_fast import ModelError, ModelParts, bench, profile, profile_many  # noqa: E402
from netscore_fast._sources import is_one_model, resolve  # noqa: E402
from netscore_fast.cli import main  # noqa: E402
from netscore_fast.cli._common import accuracy_of, read_accuracy  # noqa: E402

TINY = 1e-4   # seconds of timing per measurement: structure only


def _forms(model, path):
    data = model.SerializeToString()
    half = len(data) // 2
    return {"str": str(path), "PathLike": pathlib.Path(path), "bytes": data, "bytearray": bytearray(data),
            "memoryview": memoryview(data), "numpy": np.frombuffer(data, dtype=np.uint8),
            "BytesIO": io.BytesIO(data), "ModelProto": model, "ModelParts": ModelParts((data[:half], data[half:]))}


def test_profile_profile_many_and_measure_take_every_source(tiny_model, tiny_path):
    expected = profile(tiny_path)
    forms = _forms(tiny_model, tiny_path)
    table = profile_many(list(forms.values()))
    assert list(table["macs"]) == [expected.macs] * len(forms)
    assert list(table["params"]) == [expected.params] * len(forms)
    for kind, source in forms.items():
        assert profile(source).macs == expected.macs, kind
        timed = bench.measure(source, min_time=TINY, sequence=False)
        assert len(timed) == len(tiny_model.graph.node), kind


def test_measure_takes_bytesio_and_modelparts(tiny_model):
    data = tiny_model.SerializeToString()
    buffer = io.BytesIO(data)
    assert len(bench.measure(buffer, min_time=TINY, sequence=False)) == len(tiny_model.graph.node)
    buffer.write(b"garbage")   # the caller may reuse its BytesIO afterwards
    parts = ModelParts((data[:10], data[10:]))
    assert len(bench.measure(parts, min_time=TINY, sequence=False)) == len(tiny_model.graph.node)
    with pytest.raises(ModelError):
        bench.measure(ModelParts((data[:10],)), min_time=TINY)


def test_names_of_one_model_and_of_bulk_rows(tiny_model, tiny_path):
    data = tiny_model.SerializeToString()
    assert resolve(str(tiny_path)) == (str(tiny_path), str(tiny_path))
    assert resolve(data)[0] == "<bytes>"
    assert resolve(tiny_model)[0] == "<ModelProto 'tiny'>"
    assert resolve(ModelParts((data,))) == ("<bytes>", data)          # one model: joined
    assert resolve(data, 3)[0] == "<bytes #3>"
    assert resolve(tiny_model, 3)[0] == "tiny"
    assert isinstance(resolve(ModelParts((data,)), 3)[1], ModelParts)  # bulk: the workers join
    assert resolve(("mine", tiny_model), 3)[0] == "mine"
    assert profile_many([data, tiny_model, ("mine", io.BytesIO(data))])["source"].tolist() == [
        "<bytes #0>", "tiny", "mine"]


def test_unknown_sources_are_type_errors():
    with pytest.raises(TypeError, match="expected a path, a bytes-like object or an onnx.ModelProto, got int"):
        profile(42)
    with pytest.raises(TypeError, match="expected a path, a bytes-like object or an onnx.ModelProto, got int"):
        bench.measure(42, min_time=TINY)
    with pytest.raises(TypeError, match="source #1: expected a path"):
        profile_many([b"", 42])


def test_one_model_or_many():
    assert is_one_model("m.onnx") and is_one_model(b"") and is_one_model(io.BytesIO()) and \
        is_one_model(ModelParts(()))
    assert not is_one_model(["m.onnx"]) and not is_one_model(iter([]))


def test_accuracy_csv_needs_both_columns(tmp_path, tiny_path, capsys):
    good = tmp_path / "acc.csv"
    good.write_text("source,accuracy\nfull/path.onnx,71.5\ntiny,70\nempty,\n")
    acc = read_accuracy(str(good))
    assert acc == {"full/path.onnx": 71.5, "tiny": 70.0}
    assert accuracy_of(acc, "/x/tiny.onnx") == 70.0              # by file name without .onnx
    assert accuracy_of(acc, "full/path.onnx") == 71.5            # by path
    assert accuracy_of(acc, "/x/empty.onnx") is None
    assert accuracy_of(read_accuracy("55"), "any") == 55.0
    bad = tmp_path / "bad.csv"
    bad.write_text("name,top1\ntiny,70\n")
    with pytest.raises(ValueError, match="needs the columns source,accuracy"):
        read_accuracy(str(bad))
    # one model and many models read the CSV alike: a missing column is a one-line error, exit 2
    for argv in (["profile", str(tiny_path)], ["profile", str(tiny_path), str(tiny_path)]):
        assert main(argv + ["--accuracy", str(bad)]) == 2
        assert "needs the columns source,accuracy" in capsys.readouterr().err


def test_python_dash_m_cli():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "netscore_fast.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "profile" in out and "zoo" in out
