#!/usr/bin/env bash
# Trainer benchmark: MLP/CNN step time through the real Trainer vs PyTorch 1.13 (same libtorch, threads, batch, data,
# policy), fused EMA vs the bandwidth bound, peak RSS under gradient accumulation.
# Options (all optional): --only step,ema,memory --models mlp,cnn --env default|tuned|both --threads N --rounds R
#                         --mlp-steps N --cnn-steps N --warmup N --cnn-warmup N --gap-ms MS
#                         --every N --ema-params N --memory-steps N --python PATH --data DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build-native.sh" >&2   # the native shim the benchmark loads (incremental: seconds when built)
dotnet build "$root/bench/MLLrSched.Bench.Trainer" -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet "$root/bench/MLLrSched.Bench.Trainer/bin/Release/net10.0/MLLrSched.Bench.Trainer.dll" "$@"
