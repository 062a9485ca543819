"""Hostile inputs of issue 11: each must end as a ModelError (or a recorded row) for that model alone --
never a crash, a hang, an unbounded allocation or a silent wrong number. One test per item."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netscore_fast as nf  # noqa: E402
from malformed_cases import function_bomb  # noqa: E402
from netscore_fast import _core  # noqa: E402

PYTHON_DIR = str(Path(nf.__file__).resolve().parent.parent)


# Peak memory of the child itself: VmHWM starts afresh at exec, unlike ru_maxrss (which a forked child
# inherits from the test process).
PEAK_RSS = """
def peak_rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
"""


def run_child(code: str, timeout: float) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter that imports this netscore_fast (and has peak_rss_mb()); kill it
    after `timeout` s."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-c", PEAK_RSS + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def small_model(node_name="node_relu", op_type="Relu", domain="") -> onnx.ModelProto:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node(op_type, ["c"], ["y"], name=node_name, domain=domain)]
    w = numpy_helper.from_array(np.ones((2, 3, 1, 1), np.float32), "w")
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


# ---- item 1: a memory-mapped file truncated while it is read -----------------------------------------------

def big_model_bytes() -> bytes:
    """About 50 MB: 50 initializers of 1 MB, each consumed by an Add, so reading touches the whole file."""
    n = 1 << 18
    inits = [numpy_helper.from_array(np.full(n, i, np.float32), f"w{i}") for i in range(50)]
    nodes, prev = [], "x"
    for i in range(50):
        nodes.append(helper.make_node("Add", [prev, f"w{i}"], [f"a{i}"], name=f"add{i}"))
        prev = f"a{i}"
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [n])], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_item1_file_truncated_while_read_is_a_model_error(tmp_path):
    data = big_model_bytes()
    path = tmp_path / "big.onnx"
    path.write_bytes(data)
    others = []
    for i in range(8):
        p = tmp_path / f"ok{i}.onnx"
        p.write_bytes(small_model().SerializeToString())
        others.append(str(p))
    stop = tmp_path / "stop"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, sys
        import netscore_fast as nf
        from netscore_fast import _core
        path, stop, others = {str(path)!r}, {str(stop)!r}, {others!r}
        cache = {str(tmp_path / "cache.sqlite")!r}
        counts = {{"ok": 0, "error": 0, "changed": 0, "bulk": 0}}
        while not os.path.exists(stop):
            for call in (lambda: nf.profile(path),
                         lambda: _core.content_digests([path], b"salt", 1)):
                try:
                    call()
                    counts["ok"] += 1
                except nf.ModelError as e:
                    assert "changed size while being read" in str(e) or path in str(e), str(e)
                    counts["error"] += 1
                    counts["changed"] += "changed size while being read" in str(e)
            t = nf.profile_many(others[:4] + [path] + others[4:], threads=2, cache=cache)
            assert len(t) == 9 and list(t.ok[:4]) == [True] * 4 and list(t.ok[5:]) == [True] * 4, t["error"]
            counts["bulk"] += 1
        print(counts)
        """)], env=dict(os.environ, PYTHONPATH=PYTHON_DIR), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 6
        rng = np.random.default_rng(0)
        while time.monotonic() < deadline and child.poll() is None:
            with open(path, "r+b") as f:   # the same inode the child maps: rewrite, then cut to 1 KB
                f.write(data)
                f.flush()
                time.sleep(float(rng.uniform(0.0, 0.02)))
                f.truncate(1024)
            time.sleep(0.002)
    finally:
        stop.write_bytes(b"")
        out, err = child.communicate(timeout=120)
    assert child.returncode == 0, f"child died with {child.returncode}: {err[-2000:]}"
    assert "'ok'" in out, out


# ---- item 2: a FIFO (or other non-regular file) as a model path ---------------------------------------------

def test_item2_fifo_is_a_model_error_at_once(tmp_path):
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    good = tmp_path / "good.onnx"
    good.write_bytes(small_model().SerializeToString())
    code = f"""
        import netscore_fast as nf
        from netscore_fast.cli._common import expand_models as _expand
        fifo, good = {str(fifo)!r}, {str(good)!r}
        for path in (fifo, "/dev/null"):
            try:
                nf.profile(path)
                raise SystemExit("no error for " + path)
            except nf.ModelError as e:
                assert "not a regular file" in str(e), str(e)
        t = nf.profile_many([fifo, good])
        assert list(t.ok) == [False, True], t["error"]
        assert _expand([{str(tmp_path)!r}]) == [good], _expand([{str(tmp_path)!r}])
        print("done")
        """
    try:
        r = run_child(code, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("profiling a FIFO hangs")
    assert r.returncode == 0 and "done" in r.stdout, r.stderr[-2000:]


# ---- item 3: names that are not valid UTF-8 ----------------------------------------------------------------

def test_item3_names_not_utf8_never_raise_unicode_errors():
    data = small_model(node_name="nodeXname", op_type="MyOpX", domain="custom").SerializeToString()
    assert data.count(b"nodeXname") == 1 and data.count(b"MyOpX") == 1
    bad = data.replace(b"nodeXname", b"node\xffname").replace(b"MyOpX", b"MyOp\xff")
    p = nf.profile(bad)
    assert isinstance(p.summary(), str)
    names = list(p.layers["name"])
    assert "node\\xffname" in names, names
    assert list(p.unsupported_ops) == ["custom::MyOp\\xff"] or "MyOp\\xff" in "".join(p.unsupported_ops), \
        p.unsupported_ops
    assert isinstance(p.unknown_cost_nodes, list)
    good = small_model().SerializeToString()
    t = nf.profile_many([good] * 2000 + [bad], threads=2)
    assert len(t) == 2001
    assert t.ok.all(), [e for e in t["error"] if e]
    # an error message carrying a non-UTF-8 name is a ModelError too
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="convXname", kernel_shape=[1, 1])
    w = numpy_helper.from_array(np.ones((2, 5, 1, 1), np.float32), "w")   # 5 channels: contradicts x
    graph = helper.make_graph([conv], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w])
    wrong = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    wrong = wrong.replace(b"convXname", b"conv\xffname")
    with pytest.raises(nf.ModelError, match=r"conv\\xffname"):
        nf.profile(wrong)
    t = nf.profile_many([good] * 10 + [wrong], errors="record")
    assert not t.ok[-1] and "conv\\xffname" in t["error"][-1], t["error"][-1]


def random_name_bytes(rng) -> bytes:
    """Bytes that are mostly near-UTF-8: valid characters of every length, truncated and overlong sequences,
    encoded surrogates, code points above U+10FFFF, stray continuation bytes, random bytes."""
    parts = []
    for _ in range(int(rng.integers(1, 8))):
        kind = int(rng.integers(0, 7))
        if kind == 0:
            parts.append(bytes(rng.integers(0, 256, int(rng.integers(1, 5))).tolist()))
        elif kind == 1:   # a valid character, whole or cut short
            cp = int(rng.choice([rng.integers(0x80, 0x800), rng.integers(0x800, 0xD800), rng.integers(0xE000, 0x10000),
                                 rng.integers(0x10000, 0x110000)]))
            enc = chr(cp).encode()
            parts.append(enc if rng.random() < 0.5 else enc[:int(rng.integers(1, len(enc)))])
        elif kind == 2:   # an encoded surrogate (CESU) or a code point above U+10FFFF
            parts.append(bytes([0xED, int(rng.integers(0xA0, 0xC0)), int(rng.integers(0x80, 0xC0))]) if rng.random() < 0.5
                         else bytes([0xF4, int(rng.integers(0x90, 0xC0)), 0x80, 0x80]))
        elif kind == 3:   # overlong forms
            parts.append([b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xf0\x80\x80\xaf",
                          b"\xf0\x8f\xbf\xbf"][int(rng.integers(0, 6))])
        elif kind == 4:
            parts.append(bytes([int(rng.integers(0x80, 0xC0))]))
        elif kind == 5:
            parts.append(bytes([int(rng.integers(0xF5, 0x100))]))
        else:
            parts.append(b"ab")
    return b"".join(parts)


def test_item3_text_conversion_matches_python_backslashreplace():
    """The bindings' conversion (netscore/text.h through to_pystr) against Python's own decoder, on node names
    that are random byte strings."""
    rng = np.random.default_rng(20261204)
    names = [random_name_bytes(rng).ljust(6, b"z") for _ in range(400)]
    placeholders = [f"@{i:04d}@".encode().ljust(len(b), b"#") for i, b in enumerate(names)]
    nodes = [helper.make_node("Relu", ["x" if i == 0 else f"t{i - 1}"], [f"t{i}"], name=p.decode())
             for i, p in enumerate(placeholders)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(f"t{len(nodes) - 1}", TensorProto.FLOAT, None)])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    for p, b in zip(placeholders, names):
        assert len(p) == len(b) and data.count(p) == 1
        data = data.replace(p, b)
    got = list(nf.profile(data).layers["name"])
    assert got == [b.decode("utf-8", "backslashreplace") for b in names]
    assert sum("\ufffd" in n.decode("utf-8", "replace") for n in names) > 200  # mostly not UTF-8


# ---- item 4: nested model-local functions that expand without bound ----------------------------------------

def test_item4_function_bomb_is_a_model_error_quickly():
    data = function_bomb().SerializeToString()
    assert len(data) < 4000
    code = f"""
        import time
        import netscore_fast as nf
        data = {data!r}
        t0 = time.process_time()   # CPU time: the machine may be busy with other work
        try:
            nf.profile(data)
            raise SystemExit("no error")
        except nf.ModelError as e:
            msg = str(e)
        elapsed = time.process_time() - t0
        rss_mb = peak_rss_mb()
        print(elapsed, rss_mb, msg)
        """
    try:
        r = run_child(code, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the function bomb was expanded for 30 s")
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout
    elapsed, rss_mb, msg = r.stdout.split(" ", 2)
    assert float(elapsed) < 1.0, r.stdout
    assert float(rss_mb) < 400, r.stdout
    assert "1000000" in msg and "nodes" in msg, msg
    # a modest nesting stays fine: 4**5 = 1024 nodes
    p = nf.profile(function_bomb(levels=6, calls=4))
    assert p.num_layers == 4 ** 5


# ---- item 5: time linear in the number of distinct op types and functions ----------------------------------

def test_item5_many_distinct_op_types_and_functions_are_linear():
    n = 100_000
    nodes = [helper.make_node(f"Op{i}", ["x"], [f"y{i}"], domain="custom") for i in range(n)]
    graph = helper.make_graph(nodes, "types", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, None)])
    types = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)])
    t0 = time.perf_counter()
    p = nf.profile(types.SerializeToString())
    assert time.perf_counter() - t0 < 5.0
    assert len(p.unsupported_ops) == n

    funcs = [helper.make_function("local", f"f{i}", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                                  [helper.make_opsetid("", 17)]) for i in range(n)]
    nodes = [helper.make_node(f"f{i}", ["x"], [f"y{i}"], domain="local") for i in range(n)]
    graph = helper.make_graph(nodes, "funcs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, None)])
    many = helper.make_model(graph, functions=funcs,
                             opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    t0 = time.perf_counter()
    p = nf.profile(many.SerializeToString())
    assert time.perf_counter() - t0 < 5.0
    assert p.num_layers == n and not p.unsupported_ops


def test_item5_many_imported_domains_are_linear():
    n = 30_000
    nodes = [helper.make_node("Op", ["x"], [f"y{i}"], domain=f"d{i}") for i in range(n)]
    graph = helper.make_graph(nodes, "domains", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, None)])
    opsets = [helper.make_opsetid("", 17)] + [helper.make_opsetid(f"d{i}", 1) for i in range(n)]
    data = helper.make_model(graph, opset_imports=opsets).SerializeToString()
    t0 = time.perf_counter()
    p = nf.profile(data)
    assert time.perf_counter() - t0 < 5.0
    assert len(p.unsupported_ops) == n


# ---- item 7: Slice and Range with extreme steps, against onnxruntime ---------------------------------------

INT64_MAX, INT64_MIN = 2 ** 63 - 1, -2 ** 63

SLICE_CASES = [  # (starts, ends, steps) on a [7] input
    ([0], [7], [INT64_MAX]),
    ([6], [-8], [INT64_MIN]),
    ([-1], [INT64_MIN], [INT64_MIN]),
    ([INT64_MIN], [INT64_MAX], [INT64_MAX]),
    ([INT64_MAX], [INT64_MIN], [INT64_MIN]),
    ([2], [INT64_MAX], [INT64_MAX - 1]),
    ([3], [INT64_MIN], [-(2 ** 62)]),
]
RANGE_CASES = [  # (start, limit, delta), int64
    (0, 10, INT64_MAX),
    (10, 0, INT64_MIN),
    (0, INT64_MAX, INT64_MAX),
    (-5, 5, INT64_MAX),
    (5, -5, INT64_MIN),
    (INT64_MIN, 0, INT64_MAX),
    (INT64_MAX, 0, INT64_MIN),
]


def ort_shape(model: onnx.ModelProto, feeds):
    ort = pytest.importorskip("onnxruntime")
    model.ir_version = 8
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return list(sess.run(None, feeds)[0].shape)


@pytest.mark.parametrize("starts,ends,steps", SLICE_CASES)
def test_item7_slice_extreme_steps_match_onnxruntime(starts, ends, steps):
    inits = [numpy_helper.from_array(np.array(v, np.int64), n)
             for n, v in (("starts", starts), ("ends", ends), ("axes", [0]), ("steps", steps))]
    node = helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    expected = ort_shape(model, {"x": np.arange(7, dtype=np.float32)})
    assert nf.profile(model).layer_shapes()[0][1] == [expected]


@pytest.mark.parametrize("start,limit,delta", RANGE_CASES)
def test_item7_range_extreme_deltas_match_onnxruntime(start, limit, delta):
    inits = [numpy_helper.from_array(np.array(v, np.int64), n)
             for n, v in (("start", start), ("limit", limit), ("delta", delta))]
    node = helper.make_node("Range", ["start", "limit", "delta"], ["r"], name="range")
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("r", TensorProto.INT64, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    try:
        expected = ort_shape(model, {})
    except Exception as e:  # noqa: BLE001 -- onnxruntime refuses the case itself: nothing to compare
        pytest.skip(f"onnxruntime: {e}")
    assert nf.profile(model).layer_shapes()[0][1] == [expected]


# ---- item 8: measurement buffers sized from declared dims are bounded --------------------------------------

def test_item8_measure_refuses_layers_that_need_more_memory_than_the_limit():
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], strides=[1 << 20, 1 << 20])
    w = numpy_helper.from_array(np.ones((4, 4, 3, 3), np.float32), "w")
    graph = helper.make_graph([conv], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    code = f"""
        from netscore_fast import bench
        t = bench.measure({data!r}, min_time=0.001)
        row = t.rows[0] if hasattr(t, "rows") else list(t)[0]
        rss_mb = peak_rss_mb()
        print(row["status"], "|", row["note"], "|", rss_mb)
        """
    env_limit = dict(NETSCORE_MEASURE_MAX_BYTES=str(256 << 20))
    os.environ.update(env_limit)
    try:
        r = run_child(code, timeout=60)
    finally:
        for k in env_limit:
            os.environ.pop(k)
    assert r.returncode == 0, r.stderr[-2000:]
    status, note, rss_mb = r.stdout.strip().split(" | ")
    assert status == "unmeasured" and "needs" in note and "GB" in note, r.stdout
    assert float(rss_mb) < 400, r.stdout
    # an ordinary layer stays measured under the same limit
    os.environ.update(env_limit)
    try:
        t = nf.bench.measure(small_model(), min_time=0.001)
    finally:
        for k in env_limit:
            os.environ.pop(k)
    assert [row["status"] for row in t][0] in ("measured", "fused"), list(t)


def test_item8_kernel_api_refuses_buffers_above_the_limit():
    code = """
        import numpy as np
        from netscore_fast import _core
        x, w = np.ones((1, 4, 8, 8), np.float32), np.ones((4, 4, 3, 3), np.float32)
        for stride in (1 << 20, 1 << 62):
            for call in (lambda: _core._testing.conv2d(x, w, strides=[stride, stride]),
                         lambda: _core._testing.pool(x, "max", [3, 3], [stride, stride], [0, 0, 0, 0], [1, 1], False,
                                                    False)):
                try:
                    call()
                    raise SystemExit("no error for stride %d" % stride)
                except ValueError as e:
                    assert "needs" in str(e) and "GB" in str(e), str(e)
        assert _core._testing.conv2d(x, w).shape == (1, 4, 6, 6)
        print("done", peak_rss_mb())
        """
    r = run_child(code, timeout=60)
    assert r.returncode == 0 and "done" in r.stdout, (r.returncode, r.stderr[-2000:])
    assert float(r.stdout.split()[-1]) < 400, r.stdout


# ---- ranks read from the model are bounded (docs/limits.md) -------------------------------------------------

def lying_shape_tensor(name: str, length: int, values=(1, 2, 3, 4)) -> TensorProto:
    """An int64 initializer whose dims ([length]) disagree with the values it stores (a hostile file)."""
    t = TensorProto(name=name, data_type=TensorProto.INT64, dims=[length])
    t.int64_data.extend(values)
    return t


def shape_consumer(op_type: str, shape: TensorProto, x_rank: int = 2) -> onnx.ModelProto:
    """`op_type` reading the shape tensor `shape`, named node_<op_type>."""
    inputs = {"ConstantOfShape": ["s"], "Reshape": ["x", "s"], "Expand": ["x", "s"],
              "MaxUnpool": ["x", "i", "s"], "Col2Im": ["x", "s", "b"]}[op_type]
    attrs = {"MaxUnpool": {"kernel_shape": [2, 2]}}.get(op_type, {})
    node = helper.make_node(op_type, inputs, ["y"], name=f"node_{op_type}", **attrs)
    inits = [shape]
    if op_type == "MaxUnpool":
        inits.append(numpy_helper.from_array(np.zeros((1, 1, 2, 2), np.int64), "i"))
    if op_type == "Col2Im":
        inits.append(numpy_helper.from_array(np.array([1, 1], np.int64), "b"))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * x_rank)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


@pytest.mark.parametrize("length", [65, 1 << 20, 1 << 32, 1 << 40])
@pytest.mark.parametrize("op_type", ["ConstantOfShape", "Reshape", "Expand", "MaxUnpool", "Col2Im"])
def test_rank_from_a_lying_shape_tensor_is_a_model_error(op_type, length):
    model = shape_consumer(op_type, lying_shape_tensor("s", length), x_rank=3 if op_type == "Col2Im" else 4)
    t0 = time.perf_counter()
    rank = length + 2 if op_type == "Col2Im" else length   # Col2Im: N, C and one dim per image_shape entry
    with pytest.raises(nf.ModelError, match=rf"node 'node_{op_type}'.*rank {rank} is above the limit of 64"):
        p = nf.profile(model)
        p.layers  # noqa: B018 -- before the limit, building this table took 15 s or 8 GB
    assert time.perf_counter() - t0 < 1.0
    t = nf.profile_many([model.SerializeToString()] * 3, errors="record")
    assert not t.ok.any() and all("above the limit of 64" in e for e in t["error"]), list(t["error"])


def test_rank_limit_keeps_legitimate_shapes():
    # a dims-only initializer (type and dims, no payload: netscore_fast.nas writes them) is still a shape of
    # known length; 64 dims is allowed
    dims_only = TensorProto(name="s", data_type=TensorProto.INT64, dims=[64])
    p = nf.profile(shape_consumer("ConstantOfShape", dims_only))
    assert p.layer_shapes()[0][1] == [[-1] * 64]
    p = nf.profile(shape_consumer("Reshape", TensorProto(name="s", data_type=TensorProto.INT64, dims=[3])))
    assert len(p.layer_shapes()[0][1][0]) == 3


def test_rank_above_the_limit_in_inputs_initializers_and_outputs():
    def model(x_dims, w_dims, axes):
        nodes = [helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="unsq")]
        inits = [numpy_helper.from_array(np.array(axes, np.int64), "axes"),
                 TensorProto(name="w", data_type=TensorProto.FLOAT, dims=w_dims)]
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert len(nf.profile(model([1] * 63, [1] * 64, [0])).layer_shapes()[0][1][0]) == 64
    with pytest.raises(nf.ModelError, match=r"node 'unsq'.*output rank 65, above the limit of 64"):
        nf.profile(model([1] * 64, [1], [0]))
    with pytest.raises(nf.ModelError, match=r"graph input 'x' has rank 65, above the limit of 64"):
        nf.profile(model([1] * 65, [1], [0]))
    with pytest.raises(nf.ModelError, match=r"initializer 'w' has rank 100000, above the limit of 64"):
        nf.profile(model([1], [1] * 100000, [0]))
