"""Shared fixtures: small models built with onnx.helper, and the real models shipped in the onnx wheel."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

LIGHT_DIR = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"
LIGHT_MODELS = sorted(LIGHT_DIR.glob("*.onnx")) if LIGHT_DIR.is_dir() else []


def checked_model(nodes, inits, inputs, outputs, opset=17):
    """A one-graph model of the default domain at `opset`, IR version 8, passed by onnx.checker."""
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def run_onnxruntime(model, feeds):
    """The model's outputs from onnxruntime's CPU provider (the test skips without onnxruntime)."""
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)

def make_tiny_model(batch="1", node_name_conv="conv", graph_name="tiny", extra_nodes=()):
    """Conv(3->4, 3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(4->10) on a 1x3x8x8 input.

    Hand count: params = 4*3*3*3 + 4 + 10*4 + 10 = 162;
    MACs = Conv 4*8*8 outputs * (3*3*3) + Gemm 10*4 = 6912 + 40 = 6952 (per batch item).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    b = int(batch) if str(batch).isdigit() else batch
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w_conv"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b_conv"),
        numpy_helper.from_array(rng.standard_normal((10, 4)).astype(np.float32), "w_fc"),
        numpy_helper.from_array(rng.standard_normal(10).astype(np.float32), "b_fc"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w_conv", "b_conv"], ["c"], name=node_name_conv, pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w_fc", "b_fc"], ["y"], name="fc", transB=1),
        *extra_nodes,
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [b, 10])]
    for n in extra_nodes:
        outputs += [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in n.output]
    graph = helper.make_graph(nodes, graph_name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [b, 3, 8, 8])],
                              outputs, initializer=inits)
    opsets = [helper.make_opsetid("", 17)]
    if any(n.domain for n in extra_nodes):
        opsets += [helper.make_opsetid(d, 1) for d in sorted({n.domain for n in extra_nodes if n.domain})]
    return helper.make_model(graph, opset_imports=opsets, producer_name="netscore_fast-tests")


TINY_PARAMS = 4 * 3 * 3 * 3 + 4 + 10 * 4 + 10
TINY_MACS = 4 * 8 * 8 * (3 * 3 * 3) + 10 * 4


@pytest.fixture(scope="session")
def tiny_model():
    return make_tiny_model()


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory, tiny_model):
    path = tmp_path_factory.mktemp("models") / "tiny.onnx"
    onnx.save(tiny_model, str(path))
    return path


@pytest.fixture(scope="session")
def light_dir():
    if not LIGHT_MODELS:
        pytest.skip("the onnx wheel's light models are not installed")
    return LIGHT_DIR


def pytest_terminal_summary(terminalreporter):
    """Coverage of the onnx node conformance cases, when that module ran."""
    import sys

    module = sys.modules.get("test_conformance") or sys.modules.get("tests.test_conformance")
    line = module.conformance_summary() if module is not None else ""
    if line:
        terminalreporter.write_sep("-", "conformance")
        terminalreporter.write_line(line)


@pytest.fixture
def count_analyses(monkeypatch):
    """Counts models handed to the C++ core by profile_many (cache tests: a hit analyses nothing)."""
    from netscore_fast import _core, bulk
    calls = {"models": 0}
    real = _core.profile_batch

    def counting(items, names, *args, **kwargs):
        calls["models"] += len(items)
        return real(items, names, *args, **kwargs)

    monkeypatch.setattr(bulk._core, "profile_batch", counting)
    return calls
