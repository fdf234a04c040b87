#!/usr/bin/env bash
# The Trainer benchmark (bench/run-trainer.sh) with the native engine built against Debian 13's libtorch 2.6, against
# PyTorch 2.6 on that same libtorch, in the Debian 13 root (tools/debian13.sh). Same options as bench/run-trainer.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
native="$root/artifacts/native-debian13"   # the same build folder tools/test.sh's debian13-native leg uses
bash "$root/tools/debian13.sh" run -- env MLLRSCHED_NATIVE_OUT="$native" bash "$root/tools/build-native.sh" >&2
dotnet build "$root/bench/MLLrSched.Bench.Trainer" -c Release -nologo -v quiet -clp:ErrorsOnly
exec bash "$root/tools/debian13.sh" run -- env MLLRSCHED_NATIVE="$native/libmllrsched_native.so" \
  dotnet "$root/bench/MLLrSched.Bench.Trainer/bin/Release/net10.0/MLLrSched.Bench.Trainer.dll" "$@"
