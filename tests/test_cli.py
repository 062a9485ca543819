"""The `netscore-fast profile` command, run as a subprocess like a user would."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from conftest import TINY_MACS, TINY_PARAMS


def run(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "netscore_fast.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_table(tiny_path):
    out = run("profile", tiny_path).stdout
    assert str(tiny_path) in out
    assert "params" in out and "162" in out
    assert "MACs" in out and "6.95 k" in out


def test_table_with_layers_and_accuracy(tiny_path):
    out = run("profile", tiny_path, "--layers", "--accuracy", "70").stdout
    for op in ("Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"):
        assert op in out
    assert "1x4x8x8" in out and "NetScore" in out


def test_json(tiny_path):
    d, = json.loads(run("profile", tiny_path, "--format", "json", "--accuracy", "70").stdout)
    assert d["params"] == TINY_PARAMS and d["macs"] == TINY_MACS
    assert d["accuracy"] == 70.0 and isinstance(d["netscore"], float)
    assert "layers" not in d
    d, = json.loads(run("profile", tiny_path, "--format", "json", "--layers").stdout)
    assert [row["op_type"] for row in d["layers"]] == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"]


def test_csv(tiny_path):
    rows = list(csv.DictReader(io.StringIO(run("profile", tiny_path, "--format", "csv").stdout)))
    assert len(rows) == 1 and int(rows[0]["params"]) == TINY_PARAMS and int(rows[0]["macs"]) == TINY_MACS
    rows = list(csv.DictReader(io.StringIO(run("profile", tiny_path, "--format", "csv", "--layers").stdout)))
    assert [r["name"] for r in rows] == ["conv", "relu", "gap", "flatten", "fc"]
    assert sum(int(r["macs"]) for r in rows) == TINY_MACS


def test_input_shape_and_batch_size(tiny_path):
    d, = json.loads(run("profile", tiny_path, "--format", "json", "--input-shape", "x=2,3,16,16").stdout)
    # Conv 2*4*16*16 outputs * 27 + Gemm 2*10*4
    assert d["macs"] == 2 * 4 * 16 * 16 * 27 + 2 * 10 * 4


def test_several_models(tiny_path):
    out = run("profile", tiny_path, tiny_path, "--format", "json").stdout
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 2
    assert all(int(r["params"]) == TINY_PARAMS for r in rows)


def test_bad_file_is_one_line_and_nonzero(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
    proc = run("profile", bad, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "bad.onnx" in proc.stderr
    assert proc.stdout == ""


def test_missing_file_is_one_line_and_nonzero(tmp_path):
    proc = run("profile", tmp_path / "missing.onnx", check=False)
    assert proc.returncode != 0 and "missing.onnx" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_bad_input_shape_is_a_usage_error(tiny_path):
    proc = run("profile", tiny_path, "--input-shape", "x=1,a", check=False)
    assert proc.returncode == 2 and "dims must be integers" in proc.stderr
