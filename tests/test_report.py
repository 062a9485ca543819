"""The HTML report (netscore_fast.report, `netscore-fast report`) and the memory timeline under it
(Profile.live_bytes). Liveness is checked against lifetimes worked out by hand on small graphs; the page
against its promises: self-contained, model strings escaped, the sections there, and, when Debian's
chromium is installed, rendered by a headless browser without a script error and sortable."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from onnx import TensorProto, helper

import netscore_fast
from netscore_fast import report, zoo

F32 = TensorProto.FLOAT
HOSTILE = "<script>document.title='pwned'</script>"
HOSTILE_ATTR = '"><img src=x onerror="document.body.dataset.pwned=1">'


def _chain_model(name_add="add", extra_relu=False):
    """X -> relu -> A; A -> sigmoid -> B; (A, B) -> add -> C [-> relu2 -> D]. Every tensor 1x4x8x8 float =
    1024 bytes. Lifetimes (producer step to last reader, graph inputs from 0, graph outputs to the end):
    X [0, 0], A [0, 2], B [1, 2], C [2, 2 or 3], D [3, 3]."""
    shape = [1, 4, 8, 8]
    nodes = [helper.make_node("Relu", ["X"], ["A"], name="relu"),
             helper.make_node("Sigmoid", ["A"], ["B"], name="sigmoid"),
             helper.make_node("Add", ["A", "B"], ["C"], name=name_add)]
    out = "C"
    if extra_relu:
        nodes.append(helper.make_node("Relu", ["C"], ["D"], name="relu2"))
        out = "D"
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("X", F32, shape)],
                              [helper.make_tensor_value_info(out, F32, shape)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_live_bytes_follow_tensor_lifetimes_worked_out_by_hand():
    prof = netscore_fast.profile(_chain_model())
    # step 0: X, A; step 1: A, B; step 2: A, B, C (the graph output)
    assert prof.live_bytes().tolist() == [2048, 2048, 3072]
    prof = netscore_fast.profile(_chain_model(extra_relu=True))
    # C is freed after relu2 reads it; D is the output: step 3 holds C and D
    assert prof.live_bytes().tolist() == [2048, 2048, 3072, 2048]
    timeline = report.memory_timeline(prof)
    assert (timeline["peak_bytes"], timeline["peak_index"], timeline["peak_layer"], timeline["peak_op_type"]) == \
        (3072, 2, "add", "Add")
    assert prof.peak_activation_bytes == 3072


def test_live_bytes_of_subgraph_rows_are_their_if_node_step():
    # cond = Constant(True); y = If(cond) {then: conv 3->4 3x3 pad 1} ; z = Relu(y); x is 1x3x8x8 float
    cond = helper.make_node("Constant", [], ["cond"], value=helper.make_tensor("c", TensorProto.BOOL, [], [True]))
    then = helper.make_graph([helper.make_node("Conv", ["x", "W"], ["t"], pads=[1, 1, 1, 1], name="conv")], "then", [],
                             [helper.make_tensor_value_info("t", F32, None)])
    other = helper.make_graph([helper.make_node("Identity", ["x"], ["e"], name="id")], "else", [],
                              [helper.make_tensor_value_info("e", F32, None)])
    nodes = [cond, helper.make_node("If", ["cond"], ["y"], then_branch=then, else_branch=other, name="if"),
             helper.make_node("Relu", ["y"], ["z"], name="relu")]
    w = helper.make_tensor("W", F32, [4, 3, 3, 3], [0.5] * 108)
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F32, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("z", F32, None)], [w])
    prof = netscore_fast.profile(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert list(prof.layers["name"])[1:] == ["if", "if/conv", "relu"]   # the subgraph's row after its If
    # x (768 B) alone (cond is a constant); the If: x (read inside) and y (1x4x8x8: 1024 B), its conv row the
    # same step; Relu: y and z
    assert prof.live_bytes().tolist() == [768, 1792, 1792, 2048]


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2_1.0", "squeezenet1_1"])
def test_live_bytes_peak_is_the_profile_peak(name):
    prof = netscore_fast.profile(zoo.build(name, weights="external"))
    live = prof.live_bytes()
    assert len(live) == len(prof.layers) == prof.num_layers
    assert int(live.max()) == prof.peak_activation_bytes
    # while a layer runs its own outputs are alive
    act = prof.layers["activation_bytes"]
    assert (live >= act).all()


def _page(tmp_path, sources, **kw):
    path = report.write_html(sources, str(tmp_path / "r.html"), **kw)
    with open(path, encoding="utf-8") as f:
        return f.read()


def _hostile_model():
    m = _chain_model(name_add=HOSTILE)
    m.graph.node[0].name = HOSTILE_ATTR
    return m


def test_model_strings_are_escaped(tmp_path):
    text = _page(tmp_path, [(HOSTILE + ".onnx", _hostile_model()), ("plain", _chain_model())], accuracy=[70.0, 71.0])
    assert HOSTILE not in text and "onerror=\"document" not in text
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in text
    assert text.count("<script") == 1   # ours only
    assert '<img' not in text


def _self_contained(text):
    assert "<link" not in text and "@import" not in text and "<iframe" not in text
    for attr in re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', text):
        assert attr.startswith("#") or attr.startswith("data:"), attr
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", text)
    assert "<script src" not in text


def test_one_model_page_has_every_section_and_loads_nothing(tmp_path):
    pytest.importorskip("matplotlib")
    prof = netscore_fast.profile(zoo.build("resnet18", weights="external"), accuracy=69.758)
    text = _page(tmp_path, [("resnet18.onnx", prof)])
    _self_contained(text)
    for needle in ("<h3>Summary</h3>", "<h3>Memory timeline</h3>", "<h3>By op type</h3>", "<h3>By module</h3>",
                   "<h3>Layers (69)</h3>", 'class="chart memory-chart"><svg', "NetScore", "60.48",
                   "peak activation memory"):
        assert needle in text, needle
    # the per-layer table holds input and output shapes (conv_0: the stem, torchvision's resnet18)
    assert "<td class=t>1x3x224x224;64x3x7x7</td><td class=t>1x64x112x112</td>" in text
    # the peak is named with its layer: the stem's conv output and BatchNorm output both alive
    assert "at layer 1: bn_0 (BatchNormalization)" in text
    assert 'id="ranking"' not in text   # one model: no ranking
    # the Profile passed in is not changed by the name given here
    assert prof.source == "<bytes>"


def test_several_models_are_ranked_with_the_pareto_chart(tmp_path):
    pytest.importorskip("matplotlib")
    names = ["resnet18", "mobilenet_v2_1.0", "squeezenet1_1"]
    acc = {n: zoo.info(n)["top1"] for n in names}
    text = _page(tmp_path, [(n + ".onnx", zoo.build(n, weights="external")) for n in names], accuracy=acc)
    _self_contained(text)
    assert 'id="ranking"' in text and 'id="pareto-chart"><svg' in text
    ranking = text[text.index('id="ranking"'):text.index('id="pareto-chart"')]
    order = re.findall(r'<a href="#model-\d">([^<]+)</a>', ranking)
    # NetScore from the published accuracy, params and MACs: squeezenet 1.1 > mobilenet v2 > resnet18
    assert order == ["squeezenet1_1", "mobilenet_v2_1.0", "resnet18"]
    assert all(f'id="model-{i}"' in text for i in (1, 2, 3))
    # without accuracy: ranked by MACs, and the page says why there is no chart
    text = _page(tmp_path, [(n + ".onnx", zoo.build(n, weights="external")) for n in names])
    assert "pareto-chart" not in text and "needs the accuracy of at least two models" in text


def test_names_with_dollar_signs_draw_as_text(tmp_path):
    pytest.importorskip("matplotlib")
    # the peak layer's name goes into the memory chart; "$\\foo{$" drawn as mathtext would fail the page
    text = _page(tmp_path, [("$\\a{$", _chain_model(name_add="$\\foo{$")), ("b", _chain_model())])
    assert "memory-chart" in text and "$\\foo{$" in text


def test_unknown_costs_are_marked_with_the_hint(tmp_path):
    m = _chain_model()
    for vi in (m.graph.input[0], m.graph.output[0]):
        vi.type.tensor_type.shape.dim[2].dim_param = "height"
    text = _page(tmp_path, m)
    assert 'class="unknown"' in text and "unknown cost" in text
    assert "--input-shape X=1,4,128,8" in text   # the flag that fixes it


def test_without_matplotlib_the_page_keeps_its_tables(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    text = _page(tmp_path, [("a", _chain_model()), ("b", _chain_model(extra_relu=True))], accuracy=[50.0, 60.0])
    assert "Charts need matplotlib" in text and "<svg" not in text and "<h3>Layers (4)</h3>" in text


def test_cli_report(tmp_path):
    paths = []
    for n in ("squeezenet1_1", "resnet18"):
        p = tmp_path / f"{n}.onnx"
        p.write_bytes(zoo.build(n, weights="external"))
        paths.append(str(p))
    acc = tmp_path / "acc.csv"
    acc.write_text("source,accuracy\nsqueezenet1_1,58.178\nresnet18.onnx,69.758\n")
    out = tmp_path / "out" / "report.html"
    res = subprocess.run([sys.executable, "-m", "netscore_fast.cli", "report", *paths, "--accuracy", str(acc),
                          "--out", str(out), "--no-charts"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert 'id="ranking"' in text and "squeezenet1_1" in text and "resnet18" in text and "<svg" not in text
    res = subprocess.run([sys.executable, "-m", "netscore_fast.cli", "report", paths[0]], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode != 0 and "--out" in res.stderr


# -- rendered by a real browser ---------------------------------------------------------------------------
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _chromium(*args, timeout=120):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           # nothing may leave the machine: every request goes to a closed port
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package chromium)")
def test_page_renders_in_headless_chromium_without_errors_and_sorts(tmp_path):
    pytest.importorskip("matplotlib")
    names = ["resnet18", "mobilenet_v2_1.0", "squeezenet1_1"]
    sources = [(n + ".onnx", zoo.build(n, weights="external")) for n in names] + \
        [(HOSTILE + ".onnx", _hostile_model())]
    text = _page(tmp_path, sources, accuracy=[zoo.info(n)["top1"] for n in names] + [40.0])
    # a test-only script after the page's own: sort the first layer table by MACs (largest first) and
    # record the first row, as a click on the header does
    probe = ("<script>var th=[].filter.call(document.querySelectorAll('table.layers th'),"
             "function(t){return t.textContent==='MACs';})[0];nsSort(th);"
             "document.body.dataset.firstRow=th.closest('table').tBodies[0].rows[0].cells[1].textContent;"
             "document.body.dataset.sort=th.getAttribute('aria-sort');</script>")
    page = tmp_path / "page.html"
    page.write_text(text.replace("</body>", probe + "</body>"), encoding="utf-8")
    res = _chromium("--dump-dom", page.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-ready="1"' in body, body          # the page's script ran to its end
    assert re.search(r'<pre id="js-errors" hidden="">\s*</pre>', dom), "a script error was reported"
    assert "data-pwned" not in body and "<title>pwned" not in dom   # the hostile names stayed text
    prof = netscore_fast.profile(zoo.build("resnet18", weights="external"))
    biggest = prof.layers["name"][prof.layers["macs"].argmax()]
    assert f'data-first-row="{biggest}"' in body and 'data-sort="descending"' in body
    for section in ('id="ranking"', 'id="pareto-chart"', 'id="model-1"', 'id="model-4"', "memory-chart"):
        assert section in dom
    # and a screenshot: a real, non-blank image
    shot = tmp_path / "page.png"
    res = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    if os.environ.get("NETSCORE_KEEP_REPORT"):
        shutil.copy(shot, os.environ["NETSCORE_KEEP_REPORT"])
