#!/usr/bin/env bash
# Regenerates docs/gallery/lr-find-fashion-mnist.svg (the example in docs/lr-finder.md) with `mllrsched lr-find`.
#   bash tools/make-lr-find-example.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$root/src/Cli/MLLrSched.Cli.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet "$root/src/Cli/bin/Release/net10.0/mllrsched.dll" lr-find \
  --data fashion-mnist --subset 20000 --model mlp --hidden 256,128 \
  --optimizer '{"type": "AdamW", "lr": 0.001, "weight_decay": 0.01}' \
  --start-lr 1e-6 --end-lr 10 --steps 300 --batch-size 64 --seed 0 --out "$out" --quiet
cp "$out/lr_find.svg" "$root/docs/gallery/lr-find-fashion-mnist.svg"
echo "docs/gallery/lr-find-fashion-mnist.svg"
