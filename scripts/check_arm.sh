#!/usr/bin/env bash
# Cross-compile the kernels and their C++ reference tests for AArch64 and run them under qemu for the
# scalar, neon and neondot tiers. Timings under emulation mean nothing; any mismatch fails this script.
# Usage: scripts/check_arm.sh [build-dir]   (installs g++-aarch64-linux-gnu and qemu-user if missing)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-${ROOT}/build/aarch64}"
SYSROOT=/usr/aarch64-linux-gnu

need_install=()
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need_install+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null 2>&1 || need_install+=(qemu-user)
command -v cmake >/dev/null 2>&1 || need_install+=(cmake)
if ((${#need_install[@]})); then
  echo "check_arm: installing ${need_install[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_install[@]}"
fi

GENERATOR=()
if command -v ninja >/dev/null 2>&1; then GENERATOR=(-G Ninja); fi
JOBS="${NETSCORE_JOBS:-2}"

echo "check_arm: configuring ${BUILD}"
cmake -S "${ROOT}" -B "${BUILD}" "${GENERATOR[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="${ROOT}/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release \
  -DNETSCORE_BUILD_PYTHON=OFF -DNETSCORE_BUILD_TESTS=ON >/dev/null
echo "check_arm: building test_kernels"
cmake --build "${BUILD}" --target test_kernels -j "${JOBS}"

EXE="${BUILD}/cpp/tests/test_kernels"
file "${EXE}" 2>/dev/null | grep -qi aarch64 || { file "${EXE}" 2>/dev/null || true; }

status=0
run_tier() {  # tier, qemu cpu model
  local tier="$1" cpu="$2"
  echo "check_arm: tier ${tier} (qemu -cpu ${cpu})"
  if ! qemu-aarch64 -L "${SYSROOT}" -cpu "${cpu}" "${EXE}" --isa "${tier}" --quick; then
    echo "check_arm: FAILED on tier ${tier}" >&2
    status=1
  fi
}
run_tier scalar cortex-a72
run_tier neon cortex-a72   # Raspberry Pi 4: no dot product
run_tier neondot max       # dot product (SDOT) available
# Without the dot product, the neondot tier must be reported as unsupported, not run.
if qemu-aarch64 -L "${SYSROOT}" -cpu cortex-a72 "${EXE}" --isa neondot --quick >/dev/null 2>&1; then
  echo "check_arm: FAILED: neondot accepted on a CPU without dot product" >&2
  status=1
fi

if [ "${status}" -ne 0 ]; then
  echo "check_arm: FAILED" >&2
  exit 1
fi
echo "check_arm: OK (scalar, neon, neondot)"
