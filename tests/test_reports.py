"""Reports people read (issue 14, items 1-4): roll-ups by op type and module, the per-layer table, hints
that fix unknown shapes, and checked inputs (accuracy CSV, JSON schema, model lists)."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import netscore_fast as nf
from netscore_fast.rollup import ROLLUP_COUNTS, module_of

from conftest import TINY_MACS, TINY_PARAMS

EXPORTS = pathlib.Path(__file__).parent / "fixtures" / "exports"
NETS = ("resnet18", "resnet50", "mobilenetv2", "vit_small")


def run(*args, check=True, columns=None):
    env = dict(os.environ)
    if columns:
        env["COLUMNS"] = str(columns)
    proc = subprocess.run([sys.executable, "-m", "netscore_fast.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=env)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


# --- 1. roll-ups -------------------------------------------------------------------------------------
def test_module_of_reads_both_exporters():
    assert module_of("node_Conv_294", "['', 'layer1', 'layer1.0', 'layer1.0.bn1', 'conv2d_1']") == "layer1.0.bn1"
    assert module_of("node_cat", "['', 'cat']") == ""
    assert module_of("node_Shape_0", "['_empty_nn_module_stack_from_metadata_hook', 'sym_size_int_1']") == ""
    assert module_of("/layer1/layer1.0/conv1/Conv") == "layer1.0.conv1"
    assert module_of("/features/features.3/conv/conv.0/conv.0.0/Conv") == "features.3.conv.0.0"
    assert module_of("/encoder/layers.0/self_attn/MatMul") == "encoder.layers.0.self_attn"
    assert module_of("/Constant_3") == "" and module_of("conv") == "" and module_of("x", "not a list") == ""


@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize("exporter", ("dynamo", "torchscript"))
def test_rollup_shares_sum_to_the_totals(net, exporter):
    p = nf.profile(EXPORTS / f"{net}_{exporter}.onnx")
    for key, depth in (("op_type", None), ("module", 1), ("module", None)):
        r = p.by(key, depth)
        top = [row for row in r if row["depth"] == 1]
        assert sum(row["count"] for row in top) == p.num_layers
        for c in ROLLUP_COUNTS:
            assert sum(row[c] for row in top) == getattr(p, c)
            if getattr(p, c):
                assert sum(row[c + "_share"] for row in top) == pytest.approx(100.0)


@pytest.mark.parametrize("net", NETS)
def test_module_rollup_same_on_both_exporters(net):
    """The dynamo export (module from node metadata) and the TorchScript export (module from node names) of
    one network give the same top-level modules with the same numbers. The known differences: the
    dynamo exporter's BatchNorm fusion gives the stem Conv the BatchNorm's module (bn1, not conv1), and the
    TorchScript exporter leaves scalar arithmetic on constants (ViT's attention scale from the head size)
    that the dynamo exporter writes as its result: FLOPs of folded rows (counted, docs/counting.md) that
    only one file holds, so FLOPs are compared without the folded rows."""
    p_dyn, p_ts = nf.profile(EXPORTS / f"{net}_dynamo.onnx"), nf.profile(EXPORTS / f"{net}_torchscript.onnx")
    dyn, ts = p_dyn.by("module", depth=1), p_ts.by("module", depth=1)
    rename = {"bn1": "conv1"}
    keys = [rename.get(k, k) for k in dyn.keys()]
    assert keys == ts.keys()

    def folded_flops(p, module):
        rows = p.layers
        top = np.array([m.split(".")[0] or "(no module)" for m in rows["module"]])
        return int(rows["flops"][rows["folded"] & (top == module)].sum())

    for (row, k), dk in zip(zip(dyn, keys), dyn.keys()):
        other = ts[k]
        assert (row["params"], row["macs"]) == (other["params"], other["macs"]), k
        assert row["flops"] - folded_flops(p_dyn, dk) == other["flops"] - folded_flops(p_ts, k), k
    if net.startswith("resnet"):
        # Independent of both: the stem conv 64x3x7x7 with the BatchNorm folded into its bias, and fc 1000 x C.
        assert ts["conv1"]["params"] == 64 * 3 * 7 * 7 + 64
        c = 512 if net == "resnet18" else 2048
        assert ts["fc"]["params"] == ts["fc"]["macs"] + 1000 == c * 1000 + 1000


def test_module_tree_and_flat_dynamo_names_in_the_cli():
    out = run("profile", EXPORTS / "resnet18_dynamo.onnx", "--by", "module", "--depth", "2").stdout
    lines = out.splitlines()
    assert any(line.startswith("layer1 ") for line in lines) and any(line.startswith("  0 ") for line in lines)
    assert lines[-1].startswith("total") and max(map(len, lines)) <= 100
    out = run("profile", EXPORTS / "resnet18_dynamo.onnx", "--by", "op_type").stdout
    assert "Conv" in out and "100.0" in out
    rows = json.loads(run("profile", EXPORTS / "resnet18_dynamo.onnx", "--by", "op_type", "--format",
                          "json").stdout)
    assert sum(r["count"] for r in rows) == nf.profile(EXPORTS / "resnet18_dynamo.onnx").num_layers
    layers = run("profile", EXPORTS / "resnet18_dynamo.onnx", "--layers").stdout
    assert "node_Conv_292 (bn1)" in layers   # a flat dynamo name shown with its module
    p = nf.profile(EXPORTS / "resnet18_dynamo.onnx")
    assert p.layers["module"][list(p.layers["name"]).index("node_Conv_292")] == "bn1"
    assert run("profile", EXPORTS / "resnet18_dynamo.onnx", "--depth", "2", check=False).returncode == 2


# --- 2. per-layer table ------------------------------------------------------------------------------
def test_layer_table_input_shapes_shares_sort_top(tiny_path):
    p = nf.profile(tiny_path)
    assert p.layers["input_shape"].tolist()[0] == "1x3x8x8;4x3x3x3;4"
    assert p.layers["input_shape"].tolist()[-1] == "1x4;10x4;10"
    out = run("profile", tiny_path, "--layers", "--sort", "macs", "--top", "2").stdout
    table = out[out.index("#  name"):].splitlines()
    assert [line.split()[1] for line in table[1:3]] == ["conv", "fc"] and "3 more rows" in table[3]
    conv_share = f"{100 * 4 * 8 * 8 * 27 / TINY_MACS:.1f}"
    assert conv_share in table[1]
    assert run("profile", tiny_path, "--top", "2", check=False).returncode == 2   # --top needs --layers


def test_unknown_rank_prints_question_mark_and_scalar_stays(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("ReduceSum", ["v"], ["s"], name="sum", keepdims=0)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None),
                                           helper.make_tensor_value_info("v", TensorProto.FLOAT, [5])],
                              [helper.make_tensor_value_info("r", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("s", TensorProto.FLOAT, [])])
    path = tmp_path / "rank.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    rows = nf.profile(path).layers
    assert rows["output_shape"].tolist() == ["?", "scalar"]
    assert rows["input_shape"].tolist()[0] == "?"
    out = run("profile", path, "--layers").stdout
    relu = next(line for line in out.splitlines() if " relu " in line)
    assert "scalar" not in relu and "?" in relu


def test_default_text_fits_100_columns():
    for args in (["--layers"], ["--by", "module"], ["--by", "op_type"], ["--layers", "--sort", "flops"]):
        for net in ("vit_small_torchscript", "resnet50_dynamo"):
            out = run("profile", EXPORTS / f"{net}.onnx", *args, columns=80).stdout
            lines = out.splitlines()[1:]   # the first names the model's path, as long as it is
            assert max(map(len, lines)) <= 100, (net, args)


# --- 3. hints ------------------------------------------------------------------------------------------
def _symbolic_model(path):
    x = helper.make_tensor_value_info("input_ids", TensorProto.FLOAT, ["batch", "seq", 64])
    w = numpy_helper.from_array(np.ones((64, 32), np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["input_ids", "w"], ["y"], name="mm")], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_hint_names_input_dim_and_flag(tmp_path):
    path = _symbolic_model(tmp_path / "sym.onnx")
    p = nf.profile(path)
    assert p.open_inputs == [("input_ids", [1, -1, 64], ["batch", "seq", ""])]
    out = run("profile", path).stdout
    assert "input 'input_ids' has unknown dim 1 (seq)" in out and "--input-shape input_ids=1,128,64" in out
    # The flag it prints works, in both spellings.
    for dims in ("1,128,64", "1x128x64"):
        d, = json.loads(run("profile", path, "--input-shape", f"input_ids={dims}", "--format", "json").stdout)
        assert d["macs"] == 128 * 64 * 32
    assert "HINT" not in run("profile", path, "--input-shape", "input_ids=1x128x64").stdout


def test_batch_size_next_to_input_shape(tmp_path, tiny_path):
    path = _symbolic_model(tmp_path / "sym.onnx")
    bad = run("profile", path, "--input-shape", "input_ids=1,128,64", "--batch-size", "4", check=False)
    assert bad.returncode == 2 and "--batch-size 4" in bad.stderr and "input_ids=4,128,64" in bad.stderr
    d, = json.loads(run("profile", path, "--input-shape", "input_ids=4,128,64", "--batch-size", "4",
                        "--format", "json").stdout)
    assert d["macs"] == 4 * 128 * 64 * 32
    # Applied to the inputs not named: a two-input model, one named.
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n", 8])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["m", 8])
    graph = helper.make_graph([helper.make_node("Add", ["a", "a"], ["y"]), helper.make_node("Relu", ["b"], ["z"])],
                              "g", [a, b], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                                            helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    two = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(two))
    d, = json.loads(run("profile", two, "--input-shape", "a=3,8", "--batch-size", "3", "--layers",
                        "--format", "json").stdout)
    assert [r["output_shape"] for r in d["layers"]] == ["3x8", "3x8"]


# --- 4. inputs checked ---------------------------------------------------------------------------------
def test_accuracy_csv_checked(tmp_path, tiny_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("model,top1\ntiny,70\n")
    proc = run("profile", tiny_path, "--accuracy", wrong, check=False)
    assert proc.returncode == 2 and str(wrong) in proc.stderr and "source,accuracy" in proc.stderr
    none = tmp_path / "none.csv"
    none.write_text("source,accuracy\nother.onnx,70\n")
    proc = run("profile", tiny_path, "--accuracy", none, check=False)
    assert proc.returncode == 2 and str(none) in proc.stderr and "none of the models" in proc.stderr
    frac = tmp_path / "frac.csv"
    frac.write_text("source,accuracy\ntiny,0.76\n")
    proc = run("profile", tiny_path, "--accuracy", frac, check=False)
    assert proc.returncode == 2 and "percent" in proc.stderr and str(frac) in proc.stderr
    assert run("profile", tiny_path, "--accuracy", "0.76", check=False).returncode == 2
    good = tmp_path / "good.csv"
    good.write_text("source,accuracy\ntiny,70\n")
    d, = json.loads(run("profile", tiny_path, "--accuracy", good, "--format", "json").stdout)
    assert d["accuracy"] == 70.0


def test_version_and_plural(tmp_path, tiny_path):
    assert run("--version").stdout.strip() == f"netscore-fast {nf.__version__}"
    proc = run("profile", tiny_path, "--out", tmp_path / "one.csv")
    assert "profiled 1 model in" in proc.stderr and "(0 errors)" in proc.stderr
    proc = run("profile", tiny_path, tiny_path, "--out", tmp_path / "two.csv")
    assert "profiled 2 models in" in proc.stderr


def test_one_json_schema(tmp_path, tiny_path):
    printed, = json.loads(run("profile", tiny_path, "--format", "json").stdout)
    run("profile", tiny_path, "--out", tmp_path / "r.json")
    written, = json.loads((tmp_path / "r.json").read_text())
    many = json.loads(run("profile", tiny_path, tiny_path, "--format", "json").stdout)
    assert list(printed) == list(written) == list(many[0])
    assert printed["params"] == written["params"] == TINY_PARAMS


def test_profile_many_expands_folders_and_globs(tmp_path, tiny_path):
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("b.onnx", "a.onnx"):
        shutil.copy(tiny_path, folder / name)
    (folder / "notes.txt").write_text("not a model")
    for source in (str(folder), str(folder / "*.onnx"), folder):
        table = nf.profile_many(source)
        assert [os.path.basename(s) for s in table["source"]] == ["a.onnx", "b.onnx"]
        assert (table["params"] == TINY_PARAMS).all()
    assert len(nf.profile_many(str(tiny_path))) == 1


def test_node_metadata_is_read_and_untrusted(tiny_model, tmp_path):
    """metadata_props of a node (field 9) are decoded; a module is taken only from a list of names."""
    model = onnx.ModelProto()
    model.CopyFrom(tiny_model)
    scopes = {"conv": "['', 'stem', 'stem.conv', 'conv2d']", "relu": "[" * 5000, "gap": "__import__('os')",
              "flatten": "['', 'head', 'flatten']"}
    for node in model.graph.node:
        if node.name in scopes:
            entry = node.metadata_props.add()
            entry.key, entry.value = "pkg.torch.onnx.name_scopes", scopes[node.name]
            other = node.metadata_props.add()
            other.key, other.value = "namespace", "x" * 100
    path = tmp_path / "meta.onnx"
    onnx.save(model, str(path))
    p = nf.profile(path)
    assert p.layers["module"].tolist() == ["stem.conv", "", "", "head", ""]
    assert (p.params, p.macs) == (TINY_PARAMS, TINY_MACS)
    assert p.by("module", depth=1).keys() == ["stem", "head", "(no module)"]
