#!/usr/bin/env bash
# The README's test command: builds everything, runs every test project, and ends with the line
#   N passed, N failed, N skipped
# counted from the TRX results of all projects. Exits non-zero when a test failed or none ran.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0
for proj in "$root"/test/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  # Adapter tests whose packages do not restore here (tools/adapters.sh said so during the build).
  grep -qxF "$name" "$root/artifacts/adapters/skipped-tests" 2>/dev/null && continue
  echo "[test] $name"
  dotnet test "$proj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    ${MLLRSCHED_TEST_FILTER:+--filter "$MLLRSCHED_TEST_FILTER"} \
    || status=1
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  errors=$(get error); timeouts=$(get timeout); aborted=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${errors:-0} + ${timeouts:-0} + ${aborted:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
if ((passed + failed == 0)); then
  echo "no test ran"; status=1; failed=1
fi
((failed > 0)) && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
