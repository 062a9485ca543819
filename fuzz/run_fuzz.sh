#!/usr/bin/env bash
# Build the fuzz target and run it for SECONDS with a seed corpus of real models from the onnx wheel.
# Usage: fuzz/run_fuzz.sh SECONDS [BUILD_DIR] [extra libFuzzer flags...]
#   e.g. run_fuzz.sh 600 build/fuzz -fork=1 -ignore_crashes=1   (keep going past known crashes)
# Crashing inputs are written to fuzz/crashes/ (crash-<sha1>); reproduce with: BUILD_DIR/fuzz_model FILE
set -euo pipefail

seconds="${1:?usage: run_fuzz.sh SECONDS [BUILD_DIR]}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${2:-$repo/build/fuzz}"
python="${PYTHON:-python3}"

bin="$("$repo/fuzz/build_fuzz.sh" "$out" | tail -n 1)"

seeds="$out/seeds"
corpus="$out/corpus"
mkdir -p "$seeds" "$corpus" "$repo/fuzz/crashes"
# Seeds: the real models of the onnx wheel and a spread of its backend node-test models.
"$python" -W ignore - "$seeds" <<'PY'
import glob, hashlib, os, sys
import onnx
out = sys.argv[1]
data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
paths = sorted(glob.glob(os.path.join(data, "light", "*.onnx")))
paths += sorted(glob.glob(os.path.join(data, "node", "*", "model.onnx")))[::10]
paths += sorted(glob.glob(os.path.join(data, "simple", "*", "model.onnx")))
paths += sorted(glob.glob(os.path.join(data, "pytorch-operator", "*", "model.onnx")))[::4]
blobs = [open(p, "rb").read() for p in paths]
if not any("/node/" in p for p in paths):   # wheels without node model files: build them from the cases
    from onnx.backend.test.case.node import collect_testcases
    blobs += [c.model.SerializeToString() for c in collect_testcases()[::10]]
for b in blobs:
    with open(os.path.join(out, hashlib.sha1(b).hexdigest() + ".onnx"), "wb") as f:
        f.write(b)
print(f"{len(blobs)} seed models", file=sys.stderr)
PY

# max_len covers the largest seed (DenseNet-121 graph, ~210 kB); rss_limit guards against blow-ups.
"$bin" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$repo/fuzz/crashes/" -print_final_stats=1 "${@:3}"
