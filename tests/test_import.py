"""`import netscore_fast` stays light: no onnx, pandas or matplotlib (checked in a fresh interpreter)."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["onnx", "pandas", "matplotlib", "onnxruntime", "torch", "dask", "pyarrow"]


def _modules_after(code: str) -> set:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_does_not_pull_heavy_modules():
    loaded = _modules_after("import netscore_fast")
    assert "netscore_fast._core" in loaded
    assert not [m for m in HEAVY if m in loaded]


def test_profile_of_a_file_needs_no_onnx_or_pandas(tiny_path):
    loaded = _modules_after(f"import netscore_fast\np = netscore_fast.profile({str(tiny_path)!r})\n"
                            "p.summary(); p.to_dict(); repr(p)")
    assert not [m for m in ("onnx", "pandas", "matplotlib") if m in loaded]


def test_public_names_resolve():
    import netscore_fast

    assert callable(netscore_fast.profile) and isinstance(netscore_fast.Profile, type)
    import netscore_fast.profile as module  # the submodule must not shadow the function

    assert callable(netscore_fast.profile)
    assert module is netscore_fast.profile or callable(module)


def test_every_core_name_has_a_stub():
    """python/netscore_fast/_core.pyi declares every public name the extension exports."""
    import ast
    import pathlib

    import netscore_fast
    from netscore_fast import _core

    stub = pathlib.Path(netscore_fast.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    declared = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
        elif isinstance(node, ast.Assign):
            declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
    exported = {name for name in dir(_core) if not name.startswith("_")}
    missing = sorted(exported - declared)
    assert not missing, f"_core.pyi lacks stubs for: {missing}"
