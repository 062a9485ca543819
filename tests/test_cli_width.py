"""Text output that fits: every command's default output at most 100 columns (80 in an 80-column terminal),
numbers with units, names cut with an ellipsis, progress bars only on a terminal.

Widths are measured on real outputs (zoo networks built in memory, written as ONNX files) both in
characters and in UTF-8 bytes (what `awk length` counts in a byte locale), so either count passes.
"""
from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest

from netscore_fast import _units, zoo
from netscore_fast.cli import main

LONG = "a_very_long_model_name_exported_from_some_model_hub_resnet18_finetuned_on_my_data_v2"


def widest(text: str) -> int:
    return max((max(len(line), len(line.encode("utf-8"))) for line in text.splitlines()), default=0)


def run(capsys, monkeypatch, argv, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Four zoo networks as files, one under a long name."""
    d = tmp_path_factory.mktemp("zoo_models")
    paths = {}
    for name, file in (("resnet18", LONG), ("mobilenet_v1_0.25_128", "mobilenet_v1_0.25_128"),
                       ("squeezenet1_1", "squeezenet1_1"), ("shufflenet_v2_x0_5", "shufflenet_v2_x0_5")):
        p = d / f"{file}.onnx"
        p.write_bytes(zoo.build(name))
        paths[name] = str(p)
    accuracy = d / "accuracy.csv"
    accuracy.write_text("source,accuracy\n" + "".join(f"{os.path.basename(p)},{zoo.info(n)['top1']}\n"
                                                     for n, p in paths.items()))
    return paths, str(accuracy), d


@pytest.mark.parametrize("columns", [80, 100, 200])
def test_zoo_fits(capsys, monkeypatch, columns):
    out = run(capsys, monkeypatch, ["zoo"], columns)
    assert widest(out) <= min(columns, 100)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["#", "network", "params"]
    body = [line for line in lines[2:] if line[:3].strip().isdigit()]
    assert len(body) == len(zoo.names())              # every network, none cut off
    assert all(name in out for name in zoo.names())   # network names are never cut at these widths


def test_zoo_wide_has_every_column(capsys, monkeypatch):
    out = run(capsys, monkeypatch, ["zoo", "--wide"], 80)
    assert out.splitlines()[0].split()[-2:] == ["rank", "dens"]
    assert widest(out.split("\n\n")[0]) > 100         # the full view is wider than the default


@pytest.mark.parametrize("columns", [80, 100])
def test_profile_one_model_fits(capsys, monkeypatch, models, columns):
    paths, _, _ = models
    out = run(capsys, monkeypatch, ["profile", paths["resnet18"]], columns)
    assert widest(out) <= columns
    title = out.splitlines()[0]
    assert title.startswith("Profile of ") and title.endswith(".onnx: 171 nodes") and "…" in title
    # resnet18: 11.69 M params (torchvision), 1.82 G MACs (torchvision's table: 1.81 GFLOPS as MACs)
    assert "11.70 M" in out and "1.81 G" in out


@pytest.mark.parametrize("columns", [80, 100])
def test_profile_several_models_fits(capsys, monkeypatch, models, columns):
    paths, accuracy, _ = models
    out = run(capsys, monkeypatch, ["profile", *paths.values(), "--accuracy", accuracy], columns)
    assert widest(out) <= columns
    lines = out.splitlines()
    assert len(lines) == 1 + len(paths)
    assert lines[0].split()[:3] == ["source", "params", "MACs"]
    assert any("…" in line and line.split()[0].endswith(".onnx") for line in lines[1:])   # the long name, cut
    assert "top-1 %" in lines[0] and "NetScore" in lines[0]    # accuracy known: kept before memory columns
    # raw numbers stay in CSV
    csv_out = run(capsys, monkeypatch, ["profile", *paths.values(), "--format", "csv"], columns)
    assert "11699112" in csv_out and " M" not in csv_out


def test_profile_wide_keeps_full_names(capsys, monkeypatch, models):
    paths, _, _ = models
    out = run(capsys, monkeypatch, ["profile", *paths.values(), "--wide"], 80)
    assert paths["resnet18"] in out and "bn_stat_params" not in out and "BN stats" in out


@pytest.mark.parametrize("columns", [80, 100])
def test_rank_zoo_results_fits(capsys, monkeypatch, models, columns, tmp_path):
    paths, accuracy, d = models
    results = tmp_path / "zoo.csv"
    assert main(["profile", str(d), "--accuracy", accuracy, "--out", str(results)]) == 0
    capsys.readouterr()
    out = run(capsys, monkeypatch, ["rank", str(results)], columns)
    assert widest(out) <= columns
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["rank", "source", "NetScore"]
    assert [line.split()[0] for line in lines[1:5]] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("columns", [80, 100])
def test_rank_of_the_zoo_csv_fits(capsys, monkeypatch, columns, tmp_path):
    import csv
    path = tmp_path / "zoo.csv"
    run(capsys, monkeypatch, ["zoo", "--out", str(path)], columns)
    out = run(capsys, monkeypatch, ["rank", str(path), "--top", "5"], columns)
    assert widest(out) <= columns
    with open(path, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: -float(r["netscore"]))
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["rank", "name", "NetScore"]
    assert [line.split()[1] for line in lines[1:6]] == [r["name"] for r in rows[:5]]


EXPORTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "exports")


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("export", ["vit_small_torchscript.onnx", "mobilenetv2_dynamo.onnx"])
@pytest.mark.parametrize("by", ["module", "op_type"])
def test_profile_rollups_fit(capsys, monkeypatch, columns, export, by):
    out = run(capsys, monkeypatch, ["profile", os.path.join(EXPORTS, export), "--by", by], columns)
    assert widest(out) <= columns
    lines = out.splitlines()
    assert lines[1].split()[:4] == [by, "nodes", "params", "%"] and lines[-1].split()[0] == "total"
    assert "MACs" in lines[1]


def _bench_model(tmp_path, long_names: bool) -> str:
    onnx = pytest.importorskip("onnx")
    model = zoo.build_model("mobilenet_v1_0.25_128")
    if long_names:   # TorchScript-style scoped names, as long as real exports give
        for i, node in enumerate(model.graph.node):
            node.name = f"/model/backbone/features/features.{i}/block/conv_bn_act.{i}/{node.op_type}"
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    return str(path)


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("long_names", [False, True], ids=["names", "long-names"])
def test_bench_model_fits(capsys, monkeypatch, tmp_path, columns, long_names):
    path = _bench_model(tmp_path, long_names)
    out = run(capsys, monkeypatch, ["bench", path, "--min-time", "0.0001"], columns)
    assert widest(out) <= columns
    assert "model total:" in out and "slowest layers:" in out
    if long_names:
        assert "…" in out and "/Conv" in out      # cut in the middle: the op at the end of the path stays


def test_bench_suite_fits(capsys, monkeypatch):
    out = run(capsys, monkeypatch, ["bench", "--quick", "--min-time", "0.0001"], 100)
    assert widest(out) <= 100
    head = out.splitlines()[2].split()
    assert head[:2] == ["name", "op_type"] and "GFLOP/s" in head and "eff" in head
    assert all(label in out for label in ("conv 3x3 64->64 @56x56", "stem conv 3x3 3->32 s2 @224x224"))


# --- units -------------------------------------------------------------------------------------------------
def test_si_units():
    assert _units.si(11_689_512) == "11.69 M"
    assert _units.si(1_814_073_344) == "1.81 G"
    assert _units.si(9_600) == "9.60 k"
    assert _units.si(524_288, "B") == "524.29 kB"
    assert _units.si(46_796_448, "B") == "46.80 MB"
    assert _units.si(2.5e12) == "2.50 T"
    assert _units.si(999) == "999" and _units.si(0) == "0"
    assert _units.si(float("nan")) == "?" and _units.si(None) == "?" and _units.si(-1) == "?"


def test_seconds_units(monkeypatch):
    assert _units.seconds(1.5) == "1.500 s"
    assert _units.seconds(0.0123) == "12.300 ms"
    assert _units.seconds(42e-6) == "42.0 µs"
    assert _units.seconds(None) == "-" and _units.seconds(float("nan")) == "-"

    class Ascii:
        encoding = "ascii"
    monkeypatch.setattr(sys, "stdout", Ascii())
    assert _units.seconds(42e-6) == "42.0 us"                      # a terminal that cannot print µ
    assert _units.ellipsis("abcdefghijklmnop", 10) == "abcd...nop"


def test_ellipsis():
    name = "a_really_long_model_name_v2.onnx"
    cut = _units.ellipsis(name, 16)
    assert len(cut) == 16 and cut.startswith("a_really") and cut.endswith("v2.onnx") and "…" in cut
    assert _units.ellipsis(name, 16, "end") == name[:15] + "…"
    assert _units.ellipsis("models/zoo/resnet18.onnx", 18, "path") == "model…/resnet18.onnx"[:18] or \
        _units.ellipsis("models/zoo/resnet18.onnx", 18, "path").endswith("/resnet18.onnx")
    assert _units.ellipsis("short", 16) == "short"


def test_text_table_drops_low_value_columns_first():
    cols = [_units.Column("name", ["x" * 40, "y"], "l", shrink=20),
            _units.Column("a", ["1" * 20, "2"], keep=3),
            _units.Column("b", ["1" * 20, "2"], keep=1),
            _units.Column("c", ["1" * 20, "2"], keep=2),
            _units.Column("must", ["1" * 10, "2"])]
    full = _units.text_table(cols, None)
    assert widest(full) == 40 + 3 * 20 + 10 + 4 * 2
    fitted = _units.text_table([_units.Column(c.header, c.cells, c.align, c.keep, c.shrink) for c in cols], 70)
    assert widest(fitted) <= 70
    head = fitted.splitlines()[0].split()
    assert head == ["name", "a", "must"]                 # b (keep 1), then c (keep 2) dropped
    assert "…" in fitted.splitlines()[1]                  # the name cut to 20


def test_wrap_keeps_indent():
    text = "  " + " ".join(["word"] * 40)
    lines = _units.wrap(text, 50).splitlines()
    assert all(len(line) <= 50 for line in lines) and lines[0].startswith("  w") and lines[1].startswith("    w")


# --- progress bars: on a terminal only ---------------------------------------------------------------------
def _cli(args, stderr_tty: bool, timeout: float = 120.0):
    """Run the CLI in a child process; stderr to a pipe, or to a pseudo-terminal. Returns (stdout, stderr)."""
    env = dict(os.environ, COLUMNS="100", PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(_units.__file__)))] + sys.path))
    cmd = [sys.executable, "-m", "netscore_fast.cli", *args]
    if not stderr_tty:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        return p.stdout, p.stderr
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a 100 x 24 terminal
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, env=env)
    chunks, deadline = [], time.monotonic() + timeout
    # the parent keeps the terminal open while the child runs (reading a pty no process holds fails)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            chunks.append(os.read(master, 65536))
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode()
    proc.wait(timeout=timeout)
    os.close(slave)
    os.close(master)
    return out, b"".join(chunks).decode("utf-8", "replace")


BAR_COMMANDS = {"bench": ["bench", "--quick", "--min-time", "0.0001"]}


@pytest.mark.parametrize("command", sorted(BAR_COMMANDS))
def test_no_progress_bar_when_stderr_is_piped(command):
    out, err = _cli(BAR_COMMANDS[command], stderr_tty=False)
    assert "GFLOP/s" in out
    assert "%|" not in err and "\r" not in err, err


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("command", sorted(BAR_COMMANDS))
def test_progress_bar_on_a_terminal(command):
    out, err = _cli(BAR_COMMANDS[command], stderr_tty=True)
    assert "GFLOP/s" in out
    assert "%|" in err and "bench" in err, err


def test_profile_many_bar_follows_stderr(models):
    _, _, d = models
    _, err = _cli(["profile", str(d)], stderr_tty=False)
    assert "%|" not in err
    if hasattr(os, "openpty"):
        _, err = _cli(["profile", str(d)], stderr_tty=True)
        assert "profiling" in err and "%|" in err, err
