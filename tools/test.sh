#!/usr/bin/env bash
# The README's test command: builds everything, runs every test project of every leg, and ends with the line
#   N passed, N failed, N skipped
# counted by tools/test_summary.py from the TRX results of all legs (a crashed test host counts as a failure and is
# named; skipped tests are listed by reason). Exits non-zero when a test failed or none ran.
#
# Legs (each a folder of results under artifacts/test-results/):
#   host              every test project whose packages load on this machine (tools/adapters.sh decides), on the
#                     native engine over the system's libtorch (Debian 12: 1.13) and its golden set
#   host-mlnet6       the ML.NET tests again, built against Microsoft.ML 6.0.0 (the default build uses 5.0.1)
#   debian13-native   on a host whose C++ runtime is older than TorchSharp needs (Debian 12): inside a Debian 13 root
#                     (tools/debian13.sh), the native engine built against Debian 13's libtorch 2.6, checked against
#                     the torch-2.6 golden set and, live, against Debian 13's PyTorch 2.6
#   debian13-torchsharp  the TorchSharp engine (0.107, libtorch 2.10) in the same root: its own tests (the policy suite
#                     included), the ML.NET tests and the CLI's tests on it
# Checks that are not test projects count as one test each: the package sample (samples/PackageConsumer/run.sh: packs
# every package into a local feed and trains, saves, reloads and scores through them).
# Settings: MLLRSCHED_TEST_FILTER (a dotnet test --filter expression for every project); MLLRSCHED_DEBIAN13=0 leaves
# the Debian 13 legs out (they need root and Debian's mirror; a cold root takes ~2 minutes to build, then it is cached
# under ~/.cache/mllrsched).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

# run_tests LEG NAME TARGET [dotnet test args...]: one test project (a .csproj built in Release, or a test .dll).
# RUNNER, when set, is a command prefix that runs dotnet elsewhere (the Debian 13 root).
run_tests() {
  local leg=$1 name=$2 target=$3; shift 3
  local dir="$results/$leg"
  mkdir -p "$dir"
  echo "[test] $name ($leg)"
  local args=(--logger "trx;LogFileName=$name.trx" --results-directory "$dir")
  [[ $target == *.csproj ]] && args+=(-nologo -c Release --no-build)
  [[ -n "${MLLRSCHED_TEST_FILTER:-}" ]] && args+=(--filter "$MLLRSCHED_TEST_FILTER")
  ${RUNNER:-} dotnet test "$target" "${args[@]}" "$@" 2>&1 | tee "$dir/$name.log" |
    grep -E '^(Passed!|Failed!|Skipped!)|Test Run Aborted|crashed|^\s+Failed '
  echo "${PIPESTATUS[0]}" >"$dir/$name.rc"
}

# run_check LEG NAME COMMAND...: a check that is not a test project; its last output line says what happened and its
# exit status decides (one test in the count).
run_check() {
  local leg=$1 name=$2; shift 2
  local dir="$results/$leg"
  mkdir -p "$dir"
  echo "[check] $name ($leg)"
  if "$@" >"$dir/$name.log" 2>&1; then echo passed >"$dir/$name.check"; else echo "failed: $(tail -1 "$dir/$name.log")" >"$dir/$name.check"; fi
  tail -1 "$dir/$name.log"
}

# leg_failed LEG NAME MESSAGE: a leg that could not run counts as one failure, with the reason.
leg_failed() {
  mkdir -p "$results/$1"
  echo "$3" | tee "$results/$1/$2.log"
  echo 1 >"$results/$1/$2.rc"
}

# ---- leg: host
skip_list="$root/artifacts/adapters/skipped-tests"
for proj in "$root"/test/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  grep -qxF "$name" "$skip_list" 2>/dev/null && continue
  run_tests host "$name" "$proj"
done

# The packages as a user gets them: packed into a local feed, consumed by samples/PackageConsumer (not project references).
if ! grep -qxF MLLrSched.MLExtensions.Tests "$skip_list" 2>/dev/null; then
  run_check host package-sample bash "$root/samples/PackageConsumer/run.sh"
fi

# ---- leg: host-mlnet6 (same tests, the other served Microsoft.ML)
if ! grep -qxF MLLrSched.MLExtensions.Tests "$skip_list" 2>/dev/null; then
  mlnet6="$root/artifacts/mlnet6"
  echo "[test] building MLLrSched.MLExtensions.Tests against Microsoft.ML 6.0.0"
  if dotnet build "$root/test/MLLrSched.MLExtensions.Tests" -c Release --artifacts-path "$mlnet6" -p:MLLrSchedMLNetVersion=6.0.0 \
       -nologo -v quiet -clp:ErrorsOnly >"$results/mlnet6-build.log" 2>&1; then
    run_tests host-mlnet6 MLLrSched.MLExtensions.Tests "$mlnet6/bin/MLLrSched.MLExtensions.Tests/release/MLLrSched.MLExtensions.Tests.dll"
  else
    leg_failed host-mlnet6 MLLrSched.MLExtensions.Tests "the ML.NET tests did not build against Microsoft.ML 6.0.0: $(grep -m1 'error' "$results/mlnet6-build.log")"
  fi
fi

# ---- legs: debian13-native and debian13-torchsharp
if [[ "${MLLRSCHED_DEBIAN13:-1}" == 0 ]]; then
  echo "[debian13] legs left out (MLLRSCHED_DEBIAN13=0)"
elif ! grep -qxF MLLrSched.TorchSharp.Tests "$skip_list" 2>/dev/null; then
  echo "[debian13] this host runs TorchSharp itself: its tests ran in the host leg, on the host's own libtorch"
elif bash "$root/tools/debian13.sh" ensure >/dev/null 2>"$results/debian13-ensure.log"; then
  RUNNER="bash $root/tools/debian13.sh run --"
  native26="$root/artifacts/native-debian13"
  if $RUNNER env MLLRSCHED_NATIVE_OUT="$native26" bash "$root/tools/build-native.sh" >"$results/debian13-native-build.log" 2>&1; then
    for name in MLLrSched.Torch.Tests MLLrSched.Trainers.Tests MLLrSched.Recipes.Tests; do
      RUNNER="$RUNNER env MLLRSCHED_NATIVE=$native26/libmllrsched_native.so" run_tests debian13-native "$name" "$root/test/$name/$name.csproj"
    done
  else
    leg_failed debian13-native build "the native shim did not build against Debian 13's libtorch: $(tail -3 "$results/debian13-native-build.log")"
  fi
  run_tests debian13-torchsharp MLLrSched.TorchSharp.Tests "$root/test/MLLrSched.TorchSharp.Tests/MLLrSched.TorchSharp.Tests.csproj"
  # The ML.NET tests again, on the TorchSharp engine (built on the host, run in the root).
  mlts="$root/artifacts/mlnet-ts"
  if dotnet build "$root/test/MLLrSched.MLExtensions.Tests" -c Release --artifacts-path "$mlts" -p:MLLrSchedTestEngine=torchsharp \
       -nologo -v quiet -clp:ErrorsOnly >"$results/mlnet-ts-build.log" 2>&1; then
    run_tests debian13-torchsharp MLLrSched.MLExtensions.Tests "$mlts/bin/MLLrSched.MLExtensions.Tests/release/MLLrSched.MLExtensions.Tests.dll"
  else
    leg_failed debian13-torchsharp MLLrSched.MLExtensions.Tests "the ML.NET tests did not build for the TorchSharp engine: $(grep -m1 'error' "$results/mlnet-ts-build.log")"
  fi
  # The CLI with the TorchSharp engine, and its tests (kill -9 and resume bit for bit, every error path) against it.
  clits="$root/artifacts/cli-ts"
  if dotnet build "$root/src/Cli" -c Release --artifacts-path "$clits" -p:MLLrSchedCliEngine=torchsharp -nologo -v quiet -clp:ErrorsOnly >"$results/cli-ts-build.log" 2>&1 &&
     dotnet build "$root/test/MLLrSched.Cli.Tests" -c Release --artifacts-path "$clits" -p:MLLrSchedTestEngine=torchsharp -nologo -v quiet -clp:ErrorsOnly >>"$results/cli-ts-build.log" 2>&1; then
    RUNNER="$RUNNER env MLLRSCHED_CLI_DLL=$clits/bin/MLLrSched.Cli/release/mllrsched.dll" \
      run_tests debian13-torchsharp MLLrSched.Cli.Tests "$clits/bin/MLLrSched.Cli.Tests/release/MLLrSched.Cli.Tests.dll"
  else
    leg_failed debian13-torchsharp MLLrSched.Cli.Tests "the CLI or its tests did not build for the TorchSharp engine: $(grep -m1 'error' "$results/cli-ts-build.log")"
  fi
  unset RUNNER
else
  leg_failed debian13 root "the Debian 13 root could not be made ($(tail -1 "$results/debian13-ensure.log")); set MLLRSCHED_DEBIAN13=0 to leave the TorchSharp and libtorch 2.6 legs out"
fi

[[ -f "$root/artifacts/adapters/skipped-line" ]] && cat "$root/artifacts/adapters/skipped-line"
python3 "$root/tools/test_summary.py" "$results"
