#!/usr/bin/env bash
# Runs every test of the project and ends with one total line: "N passed, N failed, N skipped".
# Works on a fresh machine of this kind: it restores what it needs itself.
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter EXPR   only tests matching a dotnet test filter (total line still printed)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

filter=()
if [[ "${1:-}" == "--filter" && -n "${2:-}" ]]; then filter=(--filter "$2"); fi

results="$root/out/test-results"
rm -rf "$results"
mkdir -p "$results"

command -v dotnet >/dev/null || { echo "test.sh: dotnet is not on PATH; install the .NET 10 SDK" >&2; exit 2; }

echo "== build (Release)"
if ! dotnet build P2PEnergy.sln -c Release -nologo -v quiet; then
  echo "0 passed, 1 failed, 0 skipped"
  echo "test.sh: the build failed" >&2
  exit 1
fi

echo "== dotnet test"
dotnet test P2PEnergy.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" \
  --results-directory "$results" "${filter[@]}"
dotnet_rc=$?

# Sum the counters of every test project's TRX file.
passed=0; failed=0; skipped=0; projects=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  projects=$((projects + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted); n=$(get notExecuted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${n:-0}))
done

echo "== $projects test projects"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $dotnet_rc -ne 0 || $failed -ne 0 ]]; then exit 1; fi
if [[ $passed -eq 0 ]]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit 0
