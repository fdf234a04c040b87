#!/usr/bin/env bash
# Builds the native shim (native/) into artifacts/native/libmllrsched_native.so. Incremental: a second run
# only rebuilds what changed. To build against another libtorch (e.g. a CUDA build from pytorch.org):
#   LIBTORCH=/path/to/libtorch bash tools/build-native.sh
# MLLRSCHED_NATIVE_OUT puts the shim elsewhere (default artifacts/native; the Debian 13 test leg builds one against
# libtorch 2.6 into artifacts/native-debian13); the binding finds it through MLLRSCHED_NATIVE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${MLLRSCHED_NATIVE_OUT:-$root/artifacts/native}"
build="$out-build"
mkdir -p "$build" "$out"

stamp="$build/.libtorch"
want="${LIBTORCH:-system}"
if [[ ! -f "$build/CMakeCache.txt" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  rm -rf "$build"; mkdir -p "$build"
  echo "[native] configuring against libtorch: $want"
  cmake -S "$root/native" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build/configure.log" 2>&1 \
    || { cat "$build/configure.log"; exit 1; }
  echo "$want" >"$stamp"
fi
echo "[native] building (a cold build takes ~1 minute on 2 cores)"
cmake --build "$build" -j "$(nproc)" 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking)' || true
[[ -f "$build/libmllrsched_native.so" ]] || { echo "[native] build failed" >&2; exit 1; }

if ! cmp -s "$build/libmllrsched_native.so" "$out/libmllrsched_native.so"; then
  cp "$build/libmllrsched_native.so" "$out/libmllrsched_native.so"
fi
torch_dir=$(grep -E '^Torch_DIR' "$build/CMakeCache.txt" | cut -d= -f2)
{
  echo "libmllrsched_native.so"
  echo "libtorch: ${LIBTORCH:-Debian libtorch-dev} (Torch_DIR=$torch_dir)"
  echo "libtorch version: $(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo unknown)"
  echo "compiler: $(c++ --version | head -1)"
} >"$out/BUILD-INFO.txt.new"
# Only replace when it changed, so the .NET build does not see a new file every time.
cmp -s "$out/BUILD-INFO.txt.new" "$out/BUILD-INFO.txt" 2>/dev/null && rm "$out/BUILD-INFO.txt.new" \
  || mv "$out/BUILD-INFO.txt.new" "$out/BUILD-INFO.txt"
echo "[native] ok: $out/libmllrsched_native.so"
