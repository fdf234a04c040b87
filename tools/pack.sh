#!/usr/bin/env bash
# Packs every MLLrSched package into one folder (a local NuGet feed):
#   MLLrSched.Backend, .Kernels, .Trainers, .Recipes, .Onnx   the engine-neutral libraries
#   MLLrSched.Torch                                           the native engine (carries the shim built by build-native.sh)
#   MLLrSched.TorchSharp                                      the TorchSharp engine
#   MLLrSched.MLExtensions                                    the ML.NET trainers
#
#   bash tools/pack.sh [OUT_DIR]        default OUT_DIR: artifacts/packages (emptied of MLLrSched.*.nupkg first)
#
# The version is Directory.Build.props' VersionPrefix; MLLRSCHED_VERSION_SUFFIX=ci.42 makes it 0.2.0-ci.42 (assemblies
# included). MLLRSCHED_PACKAGE_VERSION=0.2.0-local.7 sets only the packages' version (no rebuild; what the samples use to
# get a version no package cache has seen). The ML.NET and TorchSharp versions the packages depend on are
# src/Adapters.props' (MLLRSCHED_MLNET_VERSION...). One MSBuild run packs all (tools/Packages.proj). Prints one line per
# package and checks that each carries its README, licence and project URL. Exit code 0 when every package was made.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$root/artifacts/packages}" && cd "${1:-$root/artifacts/packages}" && pwd)"

# MLLrSched.Torch ships the native shim; build it first (idempotent, skips when up to date).
bash "$root/tools/build-native.sh" >/dev/null || { echo "[pack] the native shim did not build (see: bash tools/build-native.sh)" >&2; exit 1; }

rm -f "$out"/MLLrSched.*.nupkg "$out"/MLLrSched.*.snupkg
args=(-restore -t:Pack -p:Configuration=Release "-p:PackageOutputPath=$out/" -m -nologo -v:q -clp:ErrorsOnly)
[[ -n "${MLLRSCHED_PACKAGE_VERSION:-}" ]] && args+=("-p:PackageVersion=$MLLRSCHED_PACKAGE_VERSION")
dotnet msbuild "$root/tools/Packages.proj" "${args[@]}" || { echo "[pack] failed (see the errors above)" >&2; exit 1; }

# Each package: README, licence, project URL (the nuspec inside the .nupkg says).
python3 - "$out" <<'PY'
import sys, zipfile, glob, os, re
bad = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "MLLrSched.*.nupkg"))):
    z = zipfile.ZipFile(path)
    nuspec = next(n for n in z.namelist() if n.endswith(".nuspec"))
    text = z.read(nuspec).decode("utf-8")
    missing = [what for what, ok in [
        ("readme", "<readme>README.md</readme>" in text and "README.md" in z.namelist()),
        ("license", "<license type=\"expression\">" in text),
        ("projectUrl", "<projectUrl>" in text),
    ] if not ok]
    extra = " (with the native shim)" if any(n.startswith("runtimes/linux-x64/native/libmllrsched_native.so") for n in z.namelist()) else ""
    print(f"[pack] {os.path.basename(path)}{extra}" + (f"  MISSING: {', '.join(missing)}" if missing else ""))
    bad += bool(missing)
    if os.path.basename(path).startswith("MLLrSched.Torch.") and not extra:
        print("[pack] MLLrSched.Torch has no native shim"); bad += 1
sys.exit(1 if bad else 0)
PY
echo "[pack] $(ls "$out"/MLLrSched.*.nupkg | wc -l) packages in $out"
