#!/usr/bin/env bash
# TorchSharp benchmark: our Trainer on the TorchSharp engine vs a hand-written TorchSharp loop (TorchSharp's AdamW,
# OneCycleLR, clip_grad_norm_, a manual EMA; with and without a dispose scope per step) vs PyTorch (AdamW default and
# fused), same model, policy, data, batch and threads, paired block by block, RSS per block.
# TorchSharp 0.107 needs GCC 13's libstdc++, so on Debian 12 the benchmark runs in the Debian 13 root
# (tools/debian13.sh; natively on a host that is new enough), where /usr/bin/python3 is PyTorch 2.6.
# Options (all optional, see bench/MLLrSched.Bench.TorchSharp/TorchSharpBenchOptions.cs):
#   --only step,memory --models mlp,cnn --contenders trainer,loop,loop-scoped,pytorch,pytorch-fused
#   --env default|tuned|both --threads N --rounds R --mlp-steps N --cnn-steps N --memory-steps N --python PATH
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/bench/MLLrSched.Bench.TorchSharp"
# Built on the host (restore and build need no libtorch); only running needs the newer C++ runtime.
dotnet build "$project" -c Release -nologo -v quiet -clp:ErrorsOnly
exec bash "$root/tools/debian13.sh" run -- dotnet "$project/bin/Release/net10.0/MLLrSched.Bench.TorchSharp.dll" "$@"
