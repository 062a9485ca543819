"""Real-world corpus sample: torch models exported by both exporters, profiled against torch and onnxruntime.

Slow and optional: needs torch (CPU), onnx, onnxruntime and onnxscript (and timm / transformers for those
models); skipped when torch is missing, as in the normal test environment. The full corpus run is
`benchmarks/realworld/build_corpus.py` then `compare.py`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REALWORLD = Path(__file__).resolve().parent.parent / "benchmarks" / "realworld"

# small, fast to export, and covering Conv+BN folding, depthwise, recurrent and attention models
SAMPLE = r"^(torchvision/(squeezenet1_1|mobilenet_v3_small)|torchnn/(lstm_2x128|gru_2x96)|transformers/bert)$"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    sys.path.insert(0, str(REALWORLD))
    import build_corpus
    out = tmp_path_factory.mktemp("realworld")
    build_corpus.main(["--out", str(out), "--only", SAMPLE, "--no-wheels", "--timeout", "600"])
    manifest = json.loads((out / "manifest.json").read_text())
    ok = {k: e for k, e in manifest["models"].items() if e["status"] == "ok"}
    if not ok:
        pytest.skip("no sample model could be built here: " +
                    "; ".join(e.get("error", "")[:80] for e in manifest["models"].values()))
    return out


@pytest.fixture(scope="module")
def records(corpus):
    import compare
    args = compare.argparse.Namespace(corpus=str(corpus), only=None, limit=None, no_ort=False)
    return compare.compare(args)


def test_no_crash(records):
    assert records
    assert [r["key"] for r in records if r.get("error")] == []


def test_macs_match_torch_and_onnxruntime(records):
    for r in records:
        ours = r["ns"]["macs"]
        assert abs(ours - r["macs_ref"]) <= 0.01 * r["macs_ref"], (r["key"], ours, r["macs_ref"])
        if r.get("ort") and not r["ort"]["uncounted"]:
            assert ours == r["ort"]["macs"], (r["key"], ours, r["ort"])


def test_params_match_torch(records):
    for r in records:
        ours, ref = r["ns"]["params"], r["params_ref"]
        assert abs(ours - ref) <= 0.01 * ref, (r["key"], ours, ref, r["bn"])


def test_params_agree_across_exporters(records):
    by_model = {}
    for r in records:
        by_model.setdefault(r["model"], {})[r["exporter"]] = r["ns"]["params"]
    for model, d in by_model.items():
        if len(d) == 2:
            assert abs(d["ts"] - d["dynamo"]) <= 0.01 * d["ts"], (model, d)


def test_report_renders(records, corpus):
    import compare
    manifest = json.loads((corpus / "manifest.json").read_text())
    text = compare.report(records, manifest)
    assert "| source | exporter | files |" in text
