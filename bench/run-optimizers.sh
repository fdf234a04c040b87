#!/usr/bin/env bash
# AdamW step benchmark: MLLrSched fused kernel vs tensor ops vs PyTorch 1.13 foreach vs the memory-bandwidth bound.
# Options (all optional): --params N --tensors T --iters K --threads N --python PATH
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build-native.sh" >&2   # the native shim the benchmark loads (incremental: seconds when built)
dotnet build "$root/bench/MLLrSched.Bench.Optimizers" -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet "$root/bench/MLLrSched.Bench.Optimizers/bin/Release/net10.0/MLLrSched.Bench.Optimizers.dll" "$@"
