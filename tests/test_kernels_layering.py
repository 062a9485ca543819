"""The layer picture holds in the sources: the kernels know nothing of ONNX, threads start in one place."""
from __future__ import annotations

import re
from pathlib import Path

CPP = Path(__file__).resolve().parent.parent / "cpp"

def _sources(root: Path):
    for p in sorted(root.rglob("*")):
        if p.suffix in {".h", ".cpp", ".cc", ".hpp", ".c", ".list", ".in"} and "third_party" not in p.parts:
            yield p


def test_kernels_include_no_decoder_or_graph_header():
    bad = []
    for p in _sources(CPP / "kernels"):
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if re.match(r'\s*#\s*include\s*"(onnx|graph|measure|bulk|bindings)/', line):
                bad.append(f"{p.relative_to(CPP)}:{n}: {line.strip()}")
    assert not bad, "cpp/kernels must not include the layers above it:\n" + "\n".join(bad)


def test_threads_start_in_one_place():
    users = sorted({str(p.relative_to(CPP)) for p in _sources(CPP) if re.search(r"std::thread\b", p.read_text())})
    assert users == ["include/netscore/parallel.h"], users
