#!/usr/bin/env bash
# The optional adapters (src/MLExtensions: ML.NET; src/TorchSharpBackend: TorchSharp) reference the real Microsoft.ML and
# TorchSharp packages, so they build only where those restore. This script decides, per adapter, by restoring its test
# project once per configuration (the MLLRSCHED_* settings, nuget.config and the project files) and caching the answer
# in artifacts/adapters/. Then it builds the adapters that restore (Release) and prints ONE line naming those skipped
# and why. tools/test.sh leaves the skipped test projects out (artifacts/adapters/skipped-tests).
#   bash tools/adapters.sh            # probe (cached) + build
#   MLLRSCHED_ADAPTERS_REPROBE=1 ...  # forget cached answers
# Settings (environment, see src/Adapters.props): MLLRSCHED_ADAPTER_SOURCE, MLLRSCHED_MLNET_VERSION,
# MLLRSCHED_TORCHSHARP_VERSION, MLLRSCHED_LIBTORCH_PACKAGE.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/adapters"
mkdir -p "$out"
[[ "${MLLRSCHED_ADAPTERS_REPROBE:-}" == 1 ]] && rm -f "$out"/probe-*
: >"$out/skipped-tests"

key=$( { env | grep -E '^(MLLRSCHED_(ADAPTER_SOURCE|MLNET_VERSION|TORCHSHARP_VERSION|LIBTORCH_PACKAGE)|NUGET_PACKAGES)=' | sort
         cat "$root/nuget.config" "$root/src/Adapters.props" "$root"/src/MLExtensions/*.csproj "$root"/src/TorchSharpBackend/*.csproj \
             "$root"/test/MLLrSched.MLExtensions.Tests/*.csproj "$root"/test/MLLrSched.TorchSharp.Tests/*.csproj "$root"/samples/*/*.csproj; } | sha1sum | cut -c1-12)

skipped=()
for adapter in MLExtensions TorchSharp; do
  case $adapter in
    MLExtensions) tests=MLLrSched.MLExtensions.Tests; pkg="Microsoft.ML ${MLLRSCHED_MLNET_VERSION:-5.0.0}" ;;
    TorchSharp) tests=MLLrSched.TorchSharp.Tests; pkg="TorchSharp ${MLLRSCHED_TORCHSHARP_VERSION:-0.102.7}" ;;
  esac
  proj="$root/test/$tests/$tests.csproj"
  stamp="$out/probe-$adapter-$key"
  if [[ ! -f "$stamp.ok" && ! -f "$stamp.fail" ]]; then
    if dotnet restore "$proj" -nologo -v quiet >"$out/probe-$adapter.log" 2>&1; then touch "$stamp.ok"; else touch "$stamp.fail"; fi
  fi
  if [[ -f "$stamp.ok" ]]; then
    echo "[adapters] building MLLrSched.$adapter and $tests ($pkg)"
    dotnet build "$proj" -c Release --no-restore -nologo -v quiet -clp:ErrorsOnly || { echo "[adapters] MLLrSched.$adapter failed to build" >&2; exit 1; }
    # The Model Builder-style sample uses the ML.NET adapter; build it so it cannot rot unseen.
    if [[ $adapter == MLExtensions ]]; then
      dotnet build "$root/samples/ModelBuilderStyle" -c Release -nologo -v quiet -clp:ErrorsOnly || { echo "[adapters] the ML.NET sample failed to build" >&2; exit 1; }
    fi
  else
    why=$(grep -o 'error NU1[0-9]*: [^[]*' "$out/probe-$adapter.log" | head -1 | sed 's/error //; s/ *$//')
    skipped+=("MLLrSched.$adapter + tests ($pkg: ${why:-restore failed, see artifacts/adapters/probe-$adapter.log})")
    echo "$tests" >>"$out/skipped-tests"
  fi
done
if ((${#skipped[@]})); then
  line=""; for s in "${skipped[@]}"; do line+="${line:+; }$s"; done
  echo "[adapters] skipped: $line — set MLLRSCHED_ADAPTER_SOURCE to a NuGet feed with these packages to build them (docs/mlnet.md, docs/torchsharp.md)"
fi
exit 0
