"""ai.onnx.ml ops: output shapes against onnxruntime, counts against the rules of docs/counting.md
(worked by hand on each case's numbers), errors on contradictory attributes.

The onnx backend node cases of these ops (Binarizer, LabelEncoder, ArrayFeatureExtractor, TreeEnsemble)
run in test_conformance.py.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import netscore_fast  # noqa: E402
from netscore_fast import ModelError  # noqa: E402

ML = "ai.onnx.ml"
RNG_SEED = 2024


def _model(nodes, inputs, outputs, ml_opset=3, input_infos=()):
    graph = helper.make_graph(
        nodes, "case",
        [helper.make_tensor_value_info(n, t, s) for n, (t, s) in inputs.items()] + list(input_infos),
        [helper.make_empty_tensor_value_info(o) for o in outputs],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(ML, ml_opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="netscore_fast-tests")
    model.ir_version = 8
    return model


def _floats(*shape):
    return (np.random.default_rng(RNG_SEED).standard_normal(shape) + 0.5).astype(np.float32)


def _rows(profile, op_type):
    rows = profile.layers
    hits = [i for i in range(len(rows)) if rows["op_type"][i] == op_type]
    assert len(hits) == 1, f"expected one {op_type} row, got {rows['op_type'].tolist()}"
    return rows[hits[0]], profile.layer_shapes()[hits[0]][1]


def _ort(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _ort_shapes(model, feeds):
    return [list(np.asarray(o).shape) for o in _ort(model, feeds)]


# --- linear models ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels,intercepts,post,per_score_post", [
    (dict(classlabels_ints=[10, 20, 30]), 3, "SOFTMAX", 5),   # multi-class: Z [N, 3]
    (dict(classlabels_strings=["no", "yes"]), 1, "LOGISTIC", 4),  # binary form: one row, Z [N, 2]
    (dict(classlabels_ints=[0, 1]), 2, "NONE", 0),
])
def test_linear_classifier(labels, intercepts, post, per_score_post):
    n, c = 5, 4
    e = max(intercepts, 2)
    node = helper.make_node("LinearClassifier", ["X"], ["Y", "Z"], name="lc", domain=ML,
                            coefficients=_floats(intercepts * c).tolist(),
                            intercepts=_floats(intercepts).tolist(), post_transform=post, **labels)
    model = _model([node], {"X": (TensorProto.FLOAT, [n, c])}, ["Y", "Z"])
    p = netscore_fast.profile(model)
    assert not p.unsupported_ops
    row, outs = _rows(p, "ai.onnx.ml::LinearClassifier")
    assert outs == [[n], [n, e]]
    assert outs == _ort_shapes(model, {"X": _floats(n, c)})
    # MACs = N x coefficient rows x C; FLOPs = 2 MACs + intercepts (N x rows) + per score: post_transform + argmax
    macs = n * intercepts * c
    assert row["macs"] == macs
    assert row["flops"] == 2 * macs + n * intercepts + n * e * (per_score_post + 1)
    assert p.params == 0  # coefficients are attributes


def test_linear_regressor_one_row():
    c, targets = 6, 2
    node = helper.make_node("LinearRegressor", ["X"], ["Y"], name="lr", domain=ML,
                            coefficients=_floats(targets * c).tolist(), intercepts=[0.5, -0.5], targets=targets)
    model = _model([node], {"X": (TensorProto.FLOAT, [c])}, ["Y"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, "ai.onnx.ml::LinearRegressor")
    assert outs == [[1, targets]] == _ort_shapes(model, {"X": _floats(c)})  # a 1-D X is one row
    assert row["macs"] == 1 * targets * c
    assert row["flops"] == 2 * targets * c + targets


def test_linear_coefficients_disagree_with_features_is_a_model_error():
    node = helper.make_node("LinearRegressor", ["X"], ["Y"], name="lr", domain=ML,
                            coefficients=_floats(10).tolist(), targets=2)
    model = _model([node], {"X": (TensorProto.FLOAT, [3, 4])}, ["Y"])  # 2 targets x 4 features = 8, not 10
    with pytest.raises(ModelError, match="10 coefficients for 2 outputs x 4 features"):
        netscore_fast.profile(model)


# --- SVMs ---------------------------------------------------------------------------------------------------
# (id, classes, vectors per class, kernel, kernel FLOPs per value, with probabilities, expected scores per row)
SVM_CASES = [
    ("svc3_rbf", 3, [2, 3, 1], "RBF", 2, False, 3),        # 3 class pairs -> 3 scores
    ("svc4_poly", 4, [1, 2, 1, 2], "POLY", 3, False, 6),   # 4 x 3 / 2 pairs
    ("svc2_linear", 2, [2, 2], "LINEAR", 0, False, 2),     # binary: 2 scores
    ("svc3_proba", 3, [2, 1, 2], "SIGMOID", 3, True, 3),   # with prob_a/prob_b: one per class
    ("liblinear3", 3, [], "LINEAR", 0, False, 3),          # no support vectors: a linear model
]


@pytest.mark.parametrize("case,k,per_class,kernel,kernel_flops,proba,e", SVM_CASES, ids=[c[0] for c in SVM_CASES])
def test_svm_classifier(case, k, per_class, kernel, kernel_flops, proba, e):
    n, f = 4, 5
    v = sum(per_class)
    pairs = k * (k - 1) // 2
    attrs = dict(classlabels_ints=list(range(k)), kernel_type=kernel, kernel_params=[0.1, 0.0, 3.0],
                 rho=_floats(pairs if v else 1).tolist())
    if v:
        attrs.update(vectors_per_class=per_class, support_vectors=_floats(v * f).tolist(),
                     coefficients=_floats((k - 1) * v).tolist())
    else:
        attrs.update(coefficients=_floats(k * f).tolist())
    if proba:
        attrs.update(prob_a=[-1.0] * pairs, prob_b=[0.1] * pairs)
    node = helper.make_node("SVMClassifier", ["X"], ["Y", "Z"], name="svm", domain=ML, **attrs)
    model = _model([node], {"X": (TensorProto.FLOAT, [n, f])}, ["Y", "Z"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, "ai.onnx.ml::SVMClassifier")
    assert outs == [[n], [n, e]] == _ort_shapes(model, {"X": _floats(n, f)})
    if v:
        # N x V x F kernel dot products + N x (k - 1) x V coefficient sums over the class pairs
        macs = n * v * f + n * (k - 1) * v
        flops = 2 * macs + n * v * kernel_flops + n * pairs  # + the kernel function, + rho per pair
    else:
        macs = n * k * f
        flops = 2 * macs + n * k
    assert row["macs"] == macs and row["flops"] == flops


@pytest.mark.parametrize("supports", [3, 0])
def test_svm_regressor(supports):
    n, f = 2, 4
    attrs = dict(kernel_type="RBF", kernel_params=[0.1, 0.0, 3.0], rho=[0.5], post_transform="NONE")
    if supports:
        attrs.update(n_supports=supports, support_vectors=_floats(supports * f).tolist(),
                     coefficients=_floats(supports).tolist())
    else:
        attrs.update(coefficients=_floats(f).tolist())
    node = helper.make_node("SVMRegressor", ["X"], ["Y"], name="svr", domain=ML, **attrs)
    model = _model([node], {"X": (TensorProto.FLOAT, [n, f])}, ["Y"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, "ai.onnx.ml::SVMRegressor")
    assert outs == [[n, 1]] == _ort_shapes(model, {"X": _floats(n, f)})
    if supports:  # RBF: gamma, exp (2) per kernel value; rho once per row
        macs = n * supports * f + n * supports
        assert row["macs"] == macs and row["flops"] == 2 * macs + n * supports * 2 + n
    else:
        assert row["macs"] == n * f and row["flops"] == 2 * n * f + n


def test_svm_features_disagree_with_x_is_a_model_error():
    node = helper.make_node("SVMRegressor", ["X"], ["Y"], name="svr", domain=ML, n_supports=2,
                            support_vectors=_floats(2 * 3).tolist(), coefficients=[1.0, 1.0], rho=[0.0])
    with pytest.raises(ModelError, match="X has 4 features, the model 3"):
        netscore_fast.profile(_model([node], {"X": (TensorProto.FLOAT, [2, 4])}, ["Y"]))


# --- tree ensembles -----------------------------------------------------------------------------------------
def _two_trees():
    """Tree 0: depth 2 (root -> branch -> leaves); tree 1: depth 3 (a chain of three branches)."""
    trees = [0] * 5 + [1] * 7
    ids = [0, 1, 2, 3, 4] + [0, 1, 2, 3, 4, 5, 6]
    modes = ["BRANCH_LEQ", "LEAF", "BRANCH_LT", "LEAF", "LEAF"] + \
            ["BRANCH_GT", "LEAF", "BRANCH_GTE", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"]
    yes = [1, 0, 3, 0, 0] + [1, 0, 3, 0, 5, 0, 0]
    no = [2, 0, 4, 0, 0] + [2, 0, 4, 0, 6, 0, 0]
    feats = [0, 0, 1, 0, 0] + [2, 0, 3, 0, 1, 0, 0]
    leaves = [(0, 1), (0, 3), (0, 4), (1, 1), (1, 3), (1, 5), (1, 6)]
    attrs = dict(nodes_treeids=trees, nodes_nodeids=ids, nodes_modes=modes, nodes_truenodeids=yes,
                 nodes_falsenodeids=no, nodes_featureids=feats, nodes_values=_floats(12).tolist())
    return attrs, leaves, 2 + 3


def test_tree_ensemble_classifier():
    n, f = 6, 4
    attrs, leaves, depth_sum = _two_trees()
    node = helper.make_node("TreeEnsembleClassifier", ["X"], ["Y", "Z"], name="tc", domain=ML,
                            classlabels_int64s=[3, 5, 7], class_treeids=[t for t, _ in leaves],
                            class_nodeids=[i for _, i in leaves], class_ids=[k % 3 for k in range(len(leaves))],
                            class_weights=[1.0] * len(leaves), post_transform="LOGISTIC", **attrs)
    model = _model([node], {"X": (TensorProto.FLOAT, [n, f])}, ["Y", "Z"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, "ai.onnx.ml::TreeEnsembleClassifier")
    assert outs == [[n], [n, 3]] == _ort_shapes(model, {"X": _floats(n, f)})
    # compares: N x (2 + 3); per score: LOGISTIC (Sigmoid, 4) + the label's argmax (1)
    assert row["macs"] == 0
    assert row["flops"] == n * depth_sum + n * 3 * (4 + 1)


def test_tree_ensemble_regressor():
    n, f = 4, 4
    attrs, leaves, depth_sum = _two_trees()
    node = helper.make_node("TreeEnsembleRegressor", ["X"], ["Y"], name="tr", domain=ML, n_targets=2,
                            target_treeids=[t for t, _ in leaves], target_nodeids=[i for _, i in leaves],
                            target_ids=[k % 2 for k in range(len(leaves))],
                            target_weights=[0.5] * len(leaves), **attrs)
    model = _model([node], {"X": (TensorProto.FLOAT, [n, f])}, ["Y"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, "ai.onnx.ml::TreeEnsembleRegressor")
    assert outs == [[n, 2]] == _ort_shapes(model, {"X": _floats(n, f)})
    assert row["flops"] == n * depth_sum  # post_transform NONE


def test_tree_ensemble_opset5():
    # two trees: tree 0 root 0 (depth 1: both children leaves); tree 1 root 1 -> node 2 -> leaves (depth 2)
    n, f = 3, 2
    node = helper.make_node(
        "TreeEnsemble", ["X"], ["Y"], name="te", domain=ML, n_targets=1, aggregate_function=1,
        tree_roots=[0, 1], nodes_featureids=[0, 1, 0],
        nodes_modes=helper.make_tensor("m", TensorProto.UINT8, [3], [0, 0, 0]),
        nodes_splits=helper.make_tensor("s", TensorProto.FLOAT, [3], [0.5, 0.1, 1.5]),
        nodes_truenodeids=[0, 2, 2], nodes_trueleafs=[1, 0, 1], nodes_falsenodeids=[1, 0, 3],
        nodes_falseleafs=[1, 1, 1], leaf_targetids=[0, 0, 0, 0],
        leaf_weights=helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0]))
    model = _model([node], {"X": (TensorProto.FLOAT, [n, f])}, ["Y"], ml_opset=5)
    p = netscore_fast.profile(model)
    row, outs = _rows(p, "ai.onnx.ml::TreeEnsemble")
    assert outs == [[n, 1]]
    assert row["flops"] == n * (1 + 2)
    try:
        ort_shapes = _ort_shapes(model, {"X": _floats(n, f)})
    except Exception as e:  # onnxruntime builds without ai.onnx.ml opset 5
        pytest.skip(f"onnxruntime does not run TreeEnsemble: {e}")
    assert ort_shapes == outs


def test_tree_pointing_to_a_missing_node_is_a_model_error():
    attrs, _, _ = _two_trees()
    attrs["nodes_falsenodeids"] = [9] + attrs["nodes_falsenodeids"][1:]
    node = helper.make_node("TreeEnsembleRegressor", ["X"], ["Y"], name="tr", domain=ML, n_targets=1, **attrs)
    model = _model([node], {"X": (TensorProto.FLOAT, [2, 4])}, ["Y"])
    with pytest.raises(ModelError, match="points to missing node 9"):
        netscore_fast.profile(model)


# --- elementwise and data movement --------------------------------------------------------------------------
# (op, attrs, input dtype, X shape, FLOPs per element)
ELEMENTWISE = [
    ("Normalizer", dict(norm="L2"), TensorProto.FLOAT, [3, 5], 3),   # square, add, divide
    ("Normalizer", dict(norm="L1"), TensorProto.INT64, [3, 5], 3),   # abs, add, divide
    ("Normalizer", dict(norm="MAX"), TensorProto.FLOAT, [5], 2),     # compare, divide
    ("Scaler", dict(offset=[1.0], scale=[2.0]), TensorProto.INT64, [2, 3, 4], 2),  # subtract, multiply
    ("Binarizer", dict(threshold=0.3), TensorProto.FLOAT, [4, 6], 1),  # compare-select
    ("Imputer", dict(imputed_value_floats=[0.0], replaced_value_float=1.0), TensorProto.FLOAT, [4, 6], 1),
]


@pytest.mark.parametrize("op,attrs,dtype,shape,per_elem", ELEMENTWISE, ids=lambda v: str(v)[:12])
def test_elementwise_ml_ops(op, attrs, dtype, shape, per_elem):
    node = helper.make_node(op, ["X"], ["Y"], name="n", domain=ML, **attrs)
    model = _model([node], {"X": (dtype, shape)}, ["Y"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, f"ai.onnx.ml::{op}")
    assert outs == [shape]
    assert row["macs"] == 0 and row["flops"] == int(np.prod(shape)) * per_elem
    x = _floats(*shape).astype(onnx.helper.tensor_dtype_to_np_dtype(dtype))
    assert _ort_shapes(model, {"X": x}) == outs


def test_normalizer_rank_3_is_a_model_error():
    node = helper.make_node("Normalizer", ["X"], ["Y"], name="n", domain=ML, norm="L2")
    with pytest.raises(ModelError, match="X must be 1-D or 2-D"):
        netscore_fast.profile(_model([node], {"X": (TensorProto.FLOAT, [2, 3, 4])}, ["Y"]))


@pytest.mark.parametrize("case", ["one_hot_2d", "one_hot_1d", "label_encoder", "afe_1d", "afe_3d",
                                  "feature_vectorizer"])
def test_data_movement_ml_ops(case):
    ints = np.arange(12, dtype=np.int64).reshape(3, 4) % 5
    if case.startswith("one_hot"):
        x = ints if case.endswith("2d") else ints[0]
        node = helper.make_node("OneHotEncoder", ["X"], ["Y"], name="n", domain=ML, cats_int64s=[0, 1, 2, 4, 7])
        inputs, feeds, want = {"X": (TensorProto.INT64, list(x.shape))}, {"X": x}, [list(x.shape) + [5]]
    elif case == "label_encoder":
        node = helper.make_node("LabelEncoder", ["X"], ["Y"], name="n", domain=ML, keys_int64s=[0, 1, 2],
                                values_floats=[0.5, 1.5, 2.5], default_float=-1.0)
        inputs, feeds, want = {"X": (TensorProto.INT64, [3, 4])}, {"X": ints}, [[3, 4]]
    elif case.startswith("afe"):
        x = _floats(4) if case == "afe_1d" else _floats(2, 3, 4)
        idx = np.array([[0, 2]], np.int64)
        node = helper.make_node("ArrayFeatureExtractor", ["X", "I"], ["Y"], name="n", domain=ML)
        inputs = {"X": (TensorProto.FLOAT, list(x.shape)), "I": (TensorProto.INT64, [1, 2])}
        feeds = {"X": x, "I": idx}
        want = [[1, 2]] if case == "afe_1d" else [[2, 3, 2]]  # the last dim becomes the index count
    else:
        node = helper.make_node("FeatureVectorizer", ["A", "B"], ["Y"], name="n", domain=ML, inputdimensions=[2, 3])
        inputs = {"A": (TensorProto.FLOAT, [5, 2]), "B": (TensorProto.FLOAT, [5, 3])}
        feeds, want = {"A": _floats(5, 2), "B": _floats(5, 3)}, [[5, 5]]
    model = _model([node], inputs, ["Y"])
    p = netscore_fast.profile(model)
    row, outs = _rows(p, f"ai.onnx.ml::{node.op_type}")
    assert outs == want == _ort_shapes(model, feeds)
    assert row["macs"] == 0 and row["flops"] == 0
    if case == "label_encoder":
        assert p.layers["op_type"].tolist() == ["ai.onnx.ml::LabelEncoder"]


def _map_input(key_type, value_type):
    return helper.make_value_info("M", helper.make_map_type_proto(key_type, helper.make_tensor_type_proto(value_type, None)))


@pytest.mark.parametrize("case", ["cast_map_dense", "cast_map_sparse", "dict_vectorizer"])
def test_map_input_ops(case):
    if case == "cast_map_dense":
        node = helper.make_node("CastMap", ["M"], ["Y"], name="n", domain=ML)
        want = [1, -1]  # one row of the map's size, known only from the data
    elif case == "cast_map_sparse":
        node = helper.make_node("CastMap", ["M"], ["Y"], name="n", domain=ML, map_form="SPARSE", max_map=7,
                                cast_to="TO_INT64")
        want = [1, 7]
    else:
        node = helper.make_node("DictVectorizer", ["M"], ["Y"], name="n", domain=ML, int64_vocabulary=[1, 2, 3, 5])
        want = [1, 4]
    model = _model([node], {}, ["Y"], input_infos=[_map_input(TensorProto.INT64, TensorProto.FLOAT)])
    p = netscore_fast.profile(model)
    assert not p.unsupported_ops
    _, outs = _rows(p, f"ai.onnx.ml::{node.op_type}")
    assert outs == [want]
    got = _ort_shapes(model, {"M": {1: 1.0, 3: 2.0, 5: 3.0}})[0]
    assert all(w in (-1, g) for w, g in zip(want, got)) and len(got) == len(want)


def test_classifier_pipeline_with_zipmap():
    # sklearn-onnx's shape of a pipeline: Scaler -> LinearClassifier -> (labels, ZipMap(probabilities))
    n, c = 8, 3
    nodes = [
        helper.make_node("Scaler", ["X"], ["Xs"], name="scale", domain=ML, offset=[0.1] * c, scale=[2.0] * c),
        helper.make_node("LinearClassifier", ["Xs"], ["label", "prob"], name="lc", domain=ML,
                         coefficients=_floats(2 * c).tolist(), intercepts=[0.0, 0.1], classlabels_ints=[0, 1],
                         post_transform="SOFTMAX"),
        helper.make_node("ZipMap", ["prob"], ["probabilities"], name="zip", domain=ML, classlabels_int64s=[0, 1]),
    ]
    model = _model(nodes, {"X": (TensorProto.FLOAT, [n, c])}, ["label", "probabilities"])
    p = netscore_fast.profile(model)
    assert not p.unsupported_ops and not p.unknown_cost_nodes
    assert p.macs == n * 2 * c
    # Scaler 2 per element; LinearClassifier 2 MACs + intercepts + (softmax 5 + argmax 1) per score; ZipMap 0
    assert p.flops == 2 * n * c + 2 * n * 2 * c + n * 2 + n * 2 * 6
    labels, probabilities = _ort(model, {"X": _floats(n, c)})
    assert labels.shape == (n,) and len(probabilities) == n


# --- models exported by skl2onnx (when scikit-learn and skl2onnx are installed) -----------------------------
def _skl_outputs_match_onnxruntime(onx, x):
    name = onx.graph.input[0].name
    p = netscore_fast.profile(onx, input_shapes={name: list(x.shape)})
    assert not p.unsupported_ops and not p.unknown_cost_nodes
    produced = {}
    for idx, (_, outs) in zip(p.layers["node_index"].tolist(), p.layer_shapes()):
        produced.update(zip(onx.graph.node[idx].output, outs))
    for info, value in zip(onx.graph.output, _ort(onx, {name: x})):
        if not isinstance(value, list):  # ZipMap's sequence of maps has no tensor shape
            assert produced[info.name] == list(np.asarray(value).shape), info.name
    return p


def test_sklearn_exports_random_forest_and_svc():
    pytest.importorskip("sklearn")
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.svm import SVC

    x, y = make_classification(120, 6, n_informative=4, n_classes=3, random_state=0)
    x = x.astype(np.float32)
    n, f, k = 9, 6, 3
    forest = RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0).fit(x, y)
    onx = skl2onnx.to_onnx(forest, x[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    p = _skl_outputs_match_onnxruntime(onx, x[:n])
    # sklearn's own depth of each tree: N x sum of depths compares, + the label's argmax over k scores
    depths = sum(t.tree_.max_depth for t in forest.estimators_)
    assert p.macs == 0 and p.flops == n * depths + n * k

    svc = SVC(kernel="rbf").fit(x, y)
    onx = skl2onnx.to_onnx(svc, x[:1], options={id(svc): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    p = _skl_outputs_match_onnxruntime(onx, x[:n])
    v = int(svc.n_support_.sum())  # sklearn's support vector count
    row, _ = _rows(p, "ai.onnx.ml::SVMClassifier")
    assert row["macs"] == n * v * f + n * (k - 1) * v
