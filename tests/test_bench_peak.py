"""The peak bench measures efficiency against: an FMA loop timed on this core, so efficiency cannot pass 100 %.

References independent of the code under test: the clock in /proc/cpuinfo, the vector width of each tier
(the ISA's definition) and the number of FMA pipes of every x86 core shipped (one or two; Arm cores one to
four), and the kernels' own FLOP counts (2 per multiply-accumulate, derived from the layer shape here).
"""
from __future__ import annotations

import os
import platform

import pytest

from netscore_fast import bench

# FP32 lanes per instruction of each tier's loop (AVX-512: 16, AVX2: 8, x86 scalar tier: SSE2 4, NEON 4).
LANES = {"avx512": 16, "avx2": 8, "scalar": 4, "neon": 4, "neondot": 4}
LOOP_ARCH = ("x86_64", "aarch64")


def _proc_cpuinfo_mhz():
    """The CPU's top clock as the kernel reports it: cpufreq's cpuinfo_max_freq, else the largest "cpu MHz"
    of /proc/cpuinfo (in a VM the base clock; on bare metal without cpufreq the current one)."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            return float(f.read()) / 1e3
    except (OSError, ValueError):
        pass
    if not os.path.exists("/proc/cpuinfo"):
        return 0.0
    with open("/proc/cpuinfo") as f:
        values = [float(line.split(":", 1)[1]) for line in f if line.lower().startswith("cpu mhz")]
    return max(values, default=0.0)


@pytest.fixture(scope="module")
def info():
    return bench.cpu_info()


def test_every_supported_tier_measured(info):
    if info["arch"] not in LOOP_ARCH:
        pytest.skip(f"no peak loop for {info['arch']}")
    by_isa = info["peak_gflops_by_isa"]
    assert set(by_isa) == set(info["isa_supported"])
    assert all(g > 0 for g in by_isa.values()), by_isa
    assert info["peak_gflops_per_core"] == pytest.approx(by_isa[info["isa_active"]])
    print("measured peak GFLOP/s per tier:", {k: round(v, 1) for k, v in by_isa.items()})


def test_measured_peak_plausible_against_proc_cpuinfo_clock(info):
    mhz = _proc_cpuinfo_mhz()
    if info["arch"] not in LOOP_ARCH or mhz <= 0:
        pytest.skip("no /proc/cpuinfo clock or no peak loop here")
    for isa, gflops in info["peak_gflops_by_isa"].items():
        # lanes x 2 FMA pipes x 2 FLOP x the reported clock; a core boosts above its reported (base) clock
        # (up to ~2x on servers), and has one FMA pipe or 256-bit halves on some parts (0.5x)
        reference = LANES[isa] * 2 * 2 * mhz / 1e3
        assert 0.25 * reference <= gflops <= 2.5 * reference, (isa, gflops, reference)


def test_fma_per_cycle_at_the_measured_clock(info):
    """The measured rate over lanes x 2 x the clock of a separate dependent-add loop: the number of FMA pipes
    kept busy, which no shipped x86 or Arm core has more than 4 of."""
    if info["arch"] not in LOOP_ARCH or not info["measured_mhz"]:
        pytest.skip("no clock loop here")
    assert 0.5 <= info["fma_per_cycle"] <= 4.5, info
    if info["arch"] == "x86_64":
        assert info["fma_per_cycle"] <= 3.0, info   # x86 cores: at most two FMA pipes (clock read low
        # under load leaves a margin)


@pytest.mark.parametrize("spec", [
    {"op": "conv", "input": [1, 512, 14, 14], "out_channels": 512, "kernel": [1, 1], "strides": [1, 1],
     "pads": [0, 0, 0, 0], "dilations": [1, 1], "group": 1, "bias": True},
    {"op": "conv", "input": [1, 64, 56, 56], "out_channels": 64, "kernel": [3, 3], "strides": [1, 1],
     "pads": [1, 1, 1, 1], "dilations": [1, 1], "group": 1, "bias": True},
], ids=["pointwise-512", "conv3x3-64"])
def test_conv_efficiency_at_most_100_percent(spec, info):
    if info["arch"] not in LOOP_ARCH:
        pytest.skip("peak not measured here")
    onnx = pytest.importorskip("onnx")  # noqa: F841
    table = bench.measure(bench.single_op_model(spec), min_time=0.03, sequence=False)
    row = [r for r in table if r["op_type"] == "Conv"][0]
    n, c, h, w = spec["input"]
    k, (kh, kw) = spec["out_channels"], spec["kernel"]
    assert row["flops"] >= 2 * k * h * w * c * kh * kw        # stride 1, same padding: output h x w
    achieved = row["flops"] / row["median_s"] / 1e9
    assert row["gflops"] == pytest.approx(achieved, rel=1e-6)
    assert 0 < row["efficiency"] <= 1.0 + 0.03, (row["efficiency"], row["gflops"], info["peak_gflops_per_core"])
    assert row["efficiency"] == pytest.approx(achieved / info["peak_gflops_per_core"], rel=0.05)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 tiers")
def test_x86_tier_ordering(info):
    """Wider vectors never measure slower: AVX-512 >= ~AVX2 (Zen 4 splits zmm in halves: equal), AVX2 > SSE2."""
    by_isa = info["peak_gflops_by_isa"]
    if "avx2" in by_isa:
        assert by_isa["avx2"] > by_isa["scalar"]
    if "avx512" in by_isa:
        assert by_isa["avx512"] >= 0.8 * by_isa["avx2"]


_TIER_SCRIPT = """
import json
from netscore_fast import bench
spec = {"op": "conv", "input": [1, 512, 14, 14], "out_channels": 512, "kernel": [1, 1], "strides": [1, 1],
        "pads": [0, 0, 0, 0], "dilations": [1, 1], "group": 1, "bias": True}
t = bench.measure(bench.single_op_model(spec), min_time=0.02, sequence=False)
r = [r for r in t if r["op_type"] == "Conv"][0]
print(json.dumps({"isa": t.machine["isa_active"], "kernel": r["kernel"], "efficiency": r["efficiency"],
                  "gflops": r["gflops"], "peak": t.machine["peak_gflops_per_core"]}))
"""


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512", "neon", "neondot"])
def test_efficiency_at_most_100_percent_on_every_tier(isa, info):
    """NETSCORE_ISA forces a tier (in a child process: the machine description is cached per process); its
    kernels are measured against that tier's own peak, which they cannot pass."""
    import json
    import subprocess
    import sys
    if isa not in info["isa_supported"]:
        pytest.skip(f"{isa} not supported here")
    pytest.importorskip("onnx")
    env = dict(os.environ, NETSCORE_ISA=isa, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(bench.__file__)))] + sys.path))
    out = subprocess.run([sys.executable, "-c", _TIER_SCRIPT], capture_output=True, text=True, env=env,
                         timeout=300, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    assert r["isa"] == isa and r["kernel"].endswith(isa), r
    assert 0 < r["efficiency"] <= 1.0 + 0.03, r
