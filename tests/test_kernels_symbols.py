"""Every ISA tier's micro-kernels are its own code in the built module.

Templates written once over the vector traits (simd::Vec) are instantiated in each tier's translation unit,
compiled with that tier's flags. If two tiers' traits shared one C++ name, those instantiations would share
one symbol and the linker would keep a single copy for all tiers (one tier silently running another's code:
slower, or an illegal instruction on a CPU without it). Each tier's traits therefore live in their own
namespace (simd::scalar::Vec, simd::avx2::Vec, ...); this test reads the module's symbol table (nm) and
fails on any symbol instantiated over traits without a tier."""
from __future__ import annotations

import shutil
import subprocess

import pytest

core = pytest.importorskip("netscore_fast._core")


def test_no_kernel_template_shared_between_tiers():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) not installed")
    symbols = []
    for flags in (["-C"], ["-D", "-C"]):  # a stripped module keeps its dynamic (exported weak) symbols
        out = subprocess.run([nm, *flags, core.__file__], capture_output=True, text=True, timeout=120)
        if out.returncode == 0:
            symbols += out.stdout.splitlines()
    if not any("kernels::simd::" in s for s in symbols):
        pytest.skip("no kernel template symbols visible in the module")
    over_traits = [s for s in symbols if "kernels::simd::" in s and "Vec" in s]
    untiered = [s for s in over_traits if "kernels::simd::Vec" in s]
    assert not untiered, "instantiated over traits without a tier namespace:\n" + "\n".join(untiered[:5])
    tiers = {t for t in ("scalar", "avx2", "avx512", "neon") for s in over_traits if f"simd::{t}::Vec" in s}
    # The scalar tier is built everywhere, plus at least one vector tier.
    assert "scalar" in tiers and len(tiers) >= 2, tiers
