#!/usr/bin/env bash
# Build the libFuzzer target (clang, ASan + UBSan) from the decoder and analysis sources.
# Usage: fuzz/build_fuzz.sh [BUILD_DIR]   (default: build/fuzz in the repository; JOBS=2 compile jobs)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/build/fuzz}"
jobs="${JOBS:-2}"
cxx="${CXX_FUZZ:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "build_fuzz.sh: $cxx not found (Debian bookworm: apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$out/obj"

flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -I"$repo/cpp" -I"$repo/cpp/include")

sources=("$repo"/cpp/onnx/*.cpp "$repo"/cpp/graph/*.cpp "$repo"/cpp/graph/ops/*.cpp)
# Compile in parallel; each object is named after its path so same-named files do not collide.
printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} sh -c '
  src="$1"; shift; out="$1"; shift; repo="$1"; shift
  rel="${src#$repo/}"; obj="$out/obj/$(echo "$rel" | tr / _).o"
  exec "$@" -c "$src" -o "$obj"' _ {} "$out" "$repo" "$cxx" "${flags[@]}"

"$cxx" "${flags[@]}" -fsanitize=fuzzer -c "$repo/fuzz/fuzz_model.cpp" -o "$out/obj/fuzz_model.o"
"$cxx" -fsanitize=fuzzer,address,undefined "$out"/obj/*.o -o "$out/fuzz_model" -lpthread
echo "$out/fuzz_model"
