"""Benchmark models: the nine light networks shipped in the onnx wheel, plus a full-weight ResNet-50.

The light models create their weights at run time with ConstantOfShape, so their files are tiny. The
full-weight ResNet-50 (~100 MB) turns every such weight into a random float32 initializer, which is what
an exported model looks like; it is written under a temporary directory and never committed.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Dict, Optional


def light_dir() -> Path:
    import onnx

    return Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"


def light_models() -> Dict[str, Path]:
    """name (e.g. 'resnet50') -> path of the onnx wheel's light_<name>.onnx."""
    return {p.stem[len("light_"):]: p for p in sorted(light_dir().glob("light_*.onnx"))}


def default_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "netscore_fast_bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def with_real_weights(src: Path, dst: Path, seed: int = 0) -> Path:
    """Copy of `src` where each ConstantOfShape feeding a weight becomes a random float32 initializer."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    shape_values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    rng = np.random.default_rng(seed)
    keep_nodes, new_inits, dropped = [], [], set()
    for node in graph.node:
        if node.op_type == "ConstantOfShape" and node.input and node.input[0] in shape_values:
            dims = [int(d) for d in shape_values[node.input[0]]]
            # scaled so the values look like trained weights; the analysis never reads them anyway
            value = (rng.standard_normal(dims, dtype=np.float32) * np.float32(0.05))
            new_inits.append(numpy_helper.from_array(value, node.output[0]))
            dropped.add(node.input[0])
        else:
            keep_nodes.append(node)
    still_used = {i for n in keep_nodes for i in n.input}
    inits = [t for t in graph.initializer if t.name not in dropped or t.name in still_used] + new_inits
    inputs = [i for i in graph.input if i.name not in dropped or i.name in still_used]
    if model.ir_version < 4:  # IR 3 lists every initializer among the graph inputs too
        inputs += [onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in new_inits]
    del graph.node[:]
    graph.node.extend(keep_nodes)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.input[:]
    graph.input.extend(inputs)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, dst)
    return dst


def full_resnet50(directory: Optional[Path] = None) -> Path:
    """The ~100 MB full-weight ResNet-50 (built once per temp dir, reused afterwards)."""
    directory = Path(directory) if directory else default_dir()
    dst = directory / "resnet50_full_weights.onnx"
    if not dst.exists() or dst.stat().st_size < 90_000_000:
        with_real_weights(light_models()["resnet50"], dst)
    return dst


def benchmark_models(directory: Optional[Path] = None) -> Dict[str, Path]:
    """All benchmark models: the nine light ones and 'resnet50_full' (100 MB of float32 weights)."""
    models = light_models()
    models["resnet50_full"] = full_resnet50(directory)
    return models


if __name__ == "__main__":
    for name, path in benchmark_models().items():
        print(f"{name:16s} {path.stat().st_size / 1e6:9.2f} MB  {path}")
