"""A quick sample of the mutation harness (fuzz/mutate.py): seeded mutants of real models, each profiled
with profile() and profile_many(errors="record") in a child process with a 5 s and 4 GB limit. Each class
of finding has its own test (among them the kinds issue 11 fixed: special paths, function bombs, hostile
dims, names that are not UTF-8); a failure prints the reproducers.
The full campaign (20,000 mutants) is benchmarks/mutation_campaign.py."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, List

import pytest

pytest.importorskip("onnx")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
import mutate  # noqa: E402

SAMPLE_SIZE = int(os.environ.get("NETSCORE_MUTATION_SAMPLE", "300"))
SAMPLE_SEED = 11


@pytest.fixture(scope="module")
def sample() -> List[mutate.Result]:
    seeds = mutate.load_seeds()
    specs = mutate.plan(SAMPLE_SIZE, seeds, SAMPLE_SEED)
    return mutate.run(specs, mutate.seed_map(seeds))


def _report(found: List[mutate.Result]) -> str:
    lines = [f"{len(found)} finding(s):"]
    for r in found[:15]:
        lines.append(f"  [{r.outcome}/{r.step}] {r.spec.kind} {r.spec.seed_model} seed {r.spec.seed}: {r.detail} "
                     f"({r.note})\n      {r.spec.repro}")
    return "\n".join(lines)


def _findings(results: List[mutate.Result], pred: Callable[[mutate.Result], bool]) -> List[mutate.Result]:
    return [r for r in results if pred(r)]


def _is_unicode(detail: str) -> bool:
    return detail.startswith(("UnicodeDecodeError", "UnicodeEncodeError"))


def test_sample_covers_every_kind(sample):
    assert len(sample) == SAMPLE_SIZE
    assert {r.spec.kind for r in sample} == set(mutate.KINDS)
    assert any(r.outcome == "ok" for r in sample) and any(r.outcome == "model_error" for r in sample)


def test_no_crashes(sample):
    found = _findings(sample, lambda r: r.outcome == "crash")
    assert not found, _report(found)


def test_special_paths_fail_at_once(sample):
    found = _findings(sample, lambda r: r.spec.kind == "special_path" and r.outcome != "model_error")
    assert not found, _report(found)


def test_function_bombs_stay_bounded(sample):
    found = _findings(sample, lambda r: r.spec.kind == "function_bomb" and r.outcome in ("hang", "memory"))
    assert not found, _report(found)


def test_hostile_dims_stay_bounded(sample):
    found = _findings(sample, lambda r: r.spec.kind == "hostile_dims" and r.outcome in ("hang", "memory"))
    assert not found, _report(found)


def test_no_hangs(sample):
    found = _findings(sample, lambda r: r.outcome == "hang")
    assert not found, _report(found)


def test_no_memory_blowups(sample):
    found = _findings(sample, lambda r: r.outcome == "memory")
    assert not found, _report(found)


def test_undecodable_names_are_model_errors(sample):
    found = _findings(sample, lambda r: any(o == "exception" and _is_unicode(d) for o, d in r.steps.values()))
    assert not found, _report(found)


def test_no_other_exceptions(sample):
    found = _findings(sample, lambda r: any(o == "exception" and not _is_unicode(d) for o, d in r.steps.values()))
    assert not found, _report(found)


def test_profile_many_agrees_with_profile(sample):
    """A model profile() accepts is a good row of profile_many (same params and MACs) and vice versa."""
    found = _findings(sample, lambda r: r.outcome == "mismatch")
    assert not found, _report(found)


def test_mutants_are_reproducible():
    seeds = mutate.seed_map(mutate.load_seeds())
    for spec in mutate.plan(2 * len(mutate.KINDS), list(seeds.values()), SAMPLE_SEED):
        a, b = mutate.make_mutant(spec, seeds), mutate.make_mutant(spec, seeds)
        assert (a.data, a.note, a.special) == (b.data, b.note, b.special), spec


def test_wire_walk_and_splice_keep_models_parseable():
    """Dropping any field with fixed-up lengths leaves a file the schema walk (and onnx) still parses."""
    import onnx
    seed = next(s for s in mutate.load_seeds(zoo=(), nasi=(0,)) if s.name == "nas/0")
    fields = seed.fields
    assert fields and fields[-1].end <= len(seed.data)
    for i in range(0, len(fields), max(1, len(fields) // 40)):
        data = mutate.splice(seed.data, fields, i, b"")
        mutate.walk(data)
        onnx.load_from_string(data)
