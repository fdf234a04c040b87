#!/usr/bin/env bash
# The README's main job: trains the shipped Fashion-MNIST config (MLP; AdamW, warmup + cosine, accumulation, clipping,
# EMA) and prints test accuracy with and without EMA. Installs and builds what is missing first; when nothing changed
# since the last build it starts training at once.
#   bash tools/main.sh [CONFIG.json] [OUT_DIR] [more `mllrsched train` options...]
# Run again, it continues an interrupted run in OUT_DIR (--resume) and otherwise starts a new one, moving the previous
# run's files to OUT_DIR/archive/ (--overwrite); give --resume or --overwrite yourself to choose.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${1:-$root/configs/fashion-mnist-mlp.json}"
out="${2:-$root/out/$(basename "$config" .json)}"
extra=("${@:3}")
dll="$root/src/Cli/bin/Release/net10.0/mllrsched.dll"
native="$root/artifacts/native/libmllrsched_native.so"

# Up to date when the CLI and the native shim exist, the dataset is installed, and no source they are built from is
# newer than them (bin/ and obj/ left out). A find over the sources takes milliseconds; a build check takes ~12 s.
stale() {
  [[ -f $dll && -f $native && -d /usr/share/datasets/fashion-mnist ]] || return 0
  [[ -n $(find "$root/src" "$root/Directory.Build.props" "$root/nuget.config" \
            \( -name bin -o -name obj \) -prune -o -type f -newer "$dll" -print -quit) ]] && return 0
  [[ -n $(find "$root/native" \( -name build \) -prune -o -type f -newer "$native" -print -quit) ]] && return 0
  return 1
}
if stale; then
  bash "$root/tools/setup.sh"
  bash "$root/tools/build-native.sh"
  echo "[dotnet] building src/Cli (mllrsched)"
  dotnet build "$root/src/Cli/MLLrSched.Cli.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
  touch "$dll"   # sources outside the CLI's references (another adapter) must not keep the check stale
else
  echo "[main] build up to date"
fi

# A second call must not mix two runs in one folder: continue an interrupted run, or archive a finished one.
mode=()
if [[ " ${extra[*]:-} " != *" --resume"* && " ${extra[*]:-} " != *" --overwrite "* && -d $out ]]; then
  status=""
  [[ -f $out/summary.json ]] && status=$(sed -n 's/^ *"status": *"\([a-z_]*\)".*/\1/p' "$out/summary.json" | head -n 1)
  if [[ -f $out/checkpoint.pt && ( $status == "" || $status == interrupted || $status == failed || $status == running ) ]]; then
    echo "[main] $out holds an unfinished run${status:+ ($status)}: resuming it (pass --overwrite to start over)"
    mode=(--resume)
  elif [[ -n $(find "$out" -maxdepth 1 -type f ! -name '.*' -print -quit) ]]; then
    echo "[main] $out holds a finished run${status:+ ($status)}: starting a new one; the previous files move to $out/archive/"
    mode=(--overwrite)
  fi
fi
echo "[main] mllrsched train --config $config --out $out ${mode[*]:-} ${extra[*]:-}"
exec dotnet "$dll" train --config "$config" --out "$out" "${mode[@]}" "${extra[@]}"
