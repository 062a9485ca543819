"""Fixtures for the pytest-benchmark suites: benchmark models are built once per session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import models as bench_models  # noqa: E402


@pytest.fixture(scope="session")
def bench_model_paths():
    return bench_models.benchmark_models()
