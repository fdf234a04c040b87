#!/usr/bin/env bash
# The README's main job: installs and builds what is missing, then trains the shipped Fashion-MNIST config
# (MLP; AdamW, warmup + cosine, accumulation, clipping, EMA) and prints test accuracy with and without EMA.
#   bash tools/main.sh [CONFIG.json] [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${1:-$root/configs/fashion-mnist-mlp.json}"
out="${2:-$root/out/$(basename "$config" .json)}"
bash "$root/tools/build.sh"
echo "[main] mllrsched train --config $config --out $out"
exec dotnet "$root/src/Cli/bin/Release/net10.0/mllrsched.dll" train --config "$config" --out "$out"
