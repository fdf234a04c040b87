#!/usr/bin/env bash
# The adapters (src/MLExtensions: ML.NET; src/TorchSharpBackend: TorchSharp) reference the real Microsoft.ML and
# TorchSharp packages. A package can restore and build and still be unusable here (TorchSharp 0.107's native library
# needs a newer libstdc++ than Debian 12 has), so for each adapter this script
#   1. restores its test project (answer cached per configuration in artifacts/adapters/),
#   2. builds the adapter and its tests (Release),
#   3. runs a smoke process (tools/probes/) that loads the packages for real and does one operation,
# and prints the versions NuGet actually resolved. An adapter that fails 1 or 3 is skipped on this host with ONE line
# naming the cause; tools/test.sh leaves its tests out (artifacts/adapters/skipped-tests) and prints that line again.
#   bash tools/adapters.sh            # probe (cached) + build
#   MLLRSCHED_ADAPTERS_REPROBE=1 ...  # forget cached answers
# Settings (environment, see src/Adapters.props): MLLRSCHED_ADAPTER_SOURCE, MLLRSCHED_MLNET_VERSION,
# MLLRSCHED_TORCHSHARP_VERSION, MLLRSCHED_LIBTORCH_PACKAGE.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/adapters"
mkdir -p "$out"
[[ "${MLLRSCHED_ADAPTERS_REPROBE:-}" == 1 ]] && rm -f "$out"/probe-* "$out"/smoke-*
: >"$out/skipped-tests"
: >"$out/resolved-versions"

key=$( { env | grep -E '^(MLLRSCHED_(ADAPTER_SOURCE|MLNET_VERSION|TORCHSHARP_VERSION|LIBTORCH_PACKAGE)|NUGET_PACKAGES)=' | sort
         cat "$root/nuget.config" "$root/src/Adapters.props" "$root"/src/MLExtensions/*.csproj "$root"/src/TorchSharpBackend/*.csproj \
             "$root"/test/MLLrSched.MLExtensions.Tests/*.csproj "$root"/test/MLLrSched.TorchSharp.Tests/*.csproj "$root"/samples/*/*.csproj \
             "$root"/tools/probes/*/*.csproj "$root"/tools/probes/*/Program.cs
         ldconfig -p 2>/dev/null | grep -E 'libstdc\+\+|libc\.so'; } | sha1sum | cut -c1-12)

# The versions NuGet resolved for a project (from its project.assets.json), e.g. "Microsoft.ML 5.0.1".
resolved() {
  local assets=$1; shift
  python3 - "$assets" "$@" <<'PY'
import json, sys
libs = json.load(open(sys.argv[1]))["libraries"]
found = {k.split("/")[0].lower(): k.replace("/", " ") for k in libs}
print(", ".join(found.get(n.lower(), n + " (not resolved)") for n in sys.argv[2:]))
PY
}

# The highest GLIBCXX_x.y.z a file mentions.
max_glibcxx() { grep -ao 'GLIBCXX_[0-9.]*[0-9]' "$1" 2>/dev/null | sort -uV | tail -1; }

# Why TorchSharp's native library does not load here, when the reason is the C++ runtime.
torchsharp_cause() {
  local version=$1 lib stdcxx need have
  lib="${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp/$version/runtimes/linux-x64/native/libLibTorchSharp.so"
  stdcxx=$(ldconfig -p 2>/dev/null | grep -m1 'libstdc++.so.6 .*x86-64' | sed 's/.*=> //')
  [[ -f "$lib" && -f "$stdcxx" ]] || return 1
  need=$(max_glibcxx "$lib"); have=$(max_glibcxx "$stdcxx")
  [[ -n "$need" && -n "$have" && "$(printf '%s\n%s\n' "$need" "$have" | sort -V | tail -1)" != "$have" ]] || return 1
  echo "its libLibTorchSharp.so needs $need (GCC 13's libstdc++: Debian 13, Ubuntu 24.04 or newer) and this system's libstdc++ stops at $have; they run in the Debian 13 leg"
}

skipped=()
for adapter in MLExtensions TorchSharp; do
  case $adapter in
    MLExtensions) tests=MLLrSched.MLExtensions.Tests; probe=MLNetProbe; packages=(Microsoft.ML) ;;
    TorchSharp) tests=MLLrSched.TorchSharp.Tests; probe=TorchSharpProbe
                packages=(TorchSharp "${MLLRSCHED_LIBTORCH_PACKAGE:-TorchSharp-cpu}") ;;
  esac
  proj="$root/test/$tests/$tests.csproj"
  stamp="$out/probe-$adapter-$key"
  if [[ ! -f "$stamp.ok" && ! -f "$stamp.fail" ]]; then
    if dotnet restore "$proj" -nologo -v quiet >"$out/probe-$adapter.log" 2>&1; then touch "$stamp.ok"; else touch "$stamp.fail"; fi
  fi
  if [[ ! -f "$stamp.ok" ]]; then
    why=$(grep -o 'error NU1[0-9]*: [^[]*' "$out/probe-$adapter.log" | head -1 | sed 's/error //; s/ *$//')
    skipped+=("MLLrSched.$adapter + tests (${packages[*]}: ${why:-restore failed, see artifacts/adapters/probe-$adapter.log})")
    echo "$tests" >>"$out/skipped-tests"
    continue
  fi
  versions=$(resolved "$root/test/$tests/obj/project.assets.json" "${packages[@]}")
  echo "$tests: $versions" >>"$out/resolved-versions"
  echo "[adapters] building MLLrSched.$adapter and $tests ($versions)"
  dotnet build "$proj" -c Release --no-restore -nologo -v quiet -clp:ErrorsOnly || { echo "[adapters] MLLrSched.$adapter failed to build" >&2; exit 1; }
  if [[ $adapter == MLExtensions ]]; then
    # The Model Builder-style sample uses the ML.NET adapter; build it so it cannot rot unseen.
    dotnet build "$root/samples/ModelBuilderStyle" -c Release -nologo -v quiet -clp:ErrorsOnly || { echo "[adapters] the ML.NET sample failed to build" >&2; exit 1; }
  fi

  # Smoke process: does the package run here, not just restore? (cached like the restore)
  smoke="$out/smoke-$adapter-$key"
  if [[ ! -f "$smoke.ok" && ! -f "$smoke.fail" ]]; then
    pdir="$root/tools/probes/$probe"
    if dotnet build "$pdir" -c Release -nologo -v quiet -clp:ErrorsOnly >"$out/smoke-$adapter.log" 2>&1 &&
       timeout 120 dotnet "$pdir/bin/Release/net10.0/$probe.dll" >>"$out/smoke-$adapter.log" 2>&1; then
      touch "$smoke.ok"
    else
      touch "$smoke.fail"
    fi
    # TorchSharp copies all of libtorch into bin/.../cpu when its first load fails; that copy is of no further use.
    rm -rf "$pdir/bin/Release/net10.0/cpu"
  fi
  if [[ -f "$smoke.fail" ]]; then
    cause=""
    [[ $adapter == TorchSharp ]] && cause=$(torchsharp_cause "$(echo "$versions" | grep -o 'TorchSharp [0-9.]*' | head -1 | cut -d' ' -f2)")
    [[ -z "$cause" ]] && cause="its smoke process failed: $(grep -m1 '^error' "$out/smoke-$adapter.log" || tail -1 "$out/smoke-$adapter.log")"
    skipped+=("$tests on this host ($versions: $cause)")
    echo "$tests" >>"$out/skipped-tests"
  else
    echo "[adapters] $(grep -m1 '^ok' "$out/smoke-$adapter.log")"
  fi
done
if ((${#skipped[@]})); then
  line=""; for s in "${skipped[@]}"; do line+="${line:+; }$s"; done
  echo "[adapters] skipped: $line" | tee "$out/skipped-line"
else
  rm -f "$out/skipped-line"
fi
exit 0
