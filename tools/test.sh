#!/usr/bin/env bash
# The README's test command: builds everything, runs every test project of every leg, and ends with the line
#   N passed, N failed, N skipped
# counted by tools/test_summary.py from the TRX results of all legs (a crashed test host counts as a failure and is
# named; skipped tests are listed by reason). Exits non-zero when a test failed or none ran.
#
# Legs (each a folder of results under artifacts/test-results/):
#   host          every test project whose packages load on this machine (tools/adapters.sh decides)
#   host-mlnet6   the ML.NET tests again, built against Microsoft.ML 6.0.0 (the default build uses 5.0.1)
# Settings: MLLRSCHED_TEST_FILTER (a dotnet test --filter expression for every project).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

# run_tests LEG NAME TARGET [dotnet test args...]: one test project (a .csproj built in Release, or a test .dll).
run_tests() {
  local leg=$1 name=$2 target=$3; shift 3
  local dir="$results/$leg"
  mkdir -p "$dir"
  echo "[test] $name ($leg)"
  local args=(--logger "trx;LogFileName=$name.trx" --results-directory "$dir")
  [[ $target == *.csproj ]] && args+=(-nologo -c Release --no-build)
  [[ -n "${MLLRSCHED_TEST_FILTER:-}" ]] && args+=(--filter "$MLLRSCHED_TEST_FILTER")
  dotnet test "$target" "${args[@]}" "$@" 2>&1 | tee "$dir/$name.log" | grep -E '^(Passed!|Failed!|Skipped!)|Test Run Aborted|crashed|^\s+Failed '
  echo "${PIPESTATUS[0]}" >"$dir/$name.rc"
}

# ---- leg: host
skip_list="$root/artifacts/adapters/skipped-tests"
for proj in "$root"/test/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  grep -qxF "$name" "$skip_list" 2>/dev/null && continue
  run_tests host "$name" "$proj"
done

# ---- leg: host-mlnet6 (same tests, the other served Microsoft.ML)
if ! grep -qxF MLLrSched.MLExtensions.Tests "$skip_list" 2>/dev/null; then
  mlnet6="$root/artifacts/mlnet6"
  echo "[test] building MLLrSched.MLExtensions.Tests against Microsoft.ML 6.0.0"
  if dotnet build "$root/test/MLLrSched.MLExtensions.Tests" -c Release --artifacts-path "$mlnet6" -p:MLLrSchedMLNetVersion=6.0.0 \
       -nologo -v quiet -clp:ErrorsOnly >"$results/mlnet6-build.log" 2>&1; then
    run_tests host-mlnet6 MLLrSched.MLExtensions.Tests "$mlnet6/bin/MLLrSched.MLExtensions.Tests/release/MLLrSched.MLExtensions.Tests.dll"
  else
    cat "$results/mlnet6-build.log"
    mkdir -p "$results/host-mlnet6"; echo 1 >"$results/host-mlnet6/MLLrSched.MLExtensions.Tests.rc"
  fi
fi

[[ -f "$root/artifacts/adapters/skipped-line" ]] && cat "$root/artifacts/adapters/skipped-line"
python3 "$root/tools/test_summary.py" "$results"
