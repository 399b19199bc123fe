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

# The contracts' npm packages (exact versions from package-lock.json) and their offline compilation:
# the Ledger tests start a Hardhat node and deploy the compiled contract.
echo "== contracts: npm packages and offline compile"
contracts_rc=0
scripts/contracts-deps.sh || contracts_rc=$?

# The Redis tests start their own redis-server on 127.0.0.1 (tests/Shared/RedisServer.cs) and fail when there is none.
echo "== redis-server"
if command -v redis-server >/dev/null; then
  echo "test.sh: $(redis-server --version)"
else
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then as_root=(sudo -n); else echo "test.sh: not root and no sudo: apt-get will probably be refused" >&2; fi
  fi
  apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
  echo "test.sh: redis-server is not on PATH; running: ${apt[*]} install -y redis-server"
  if ! "${apt[@]}" install -y redis-server; then
    echo "test.sh: the install failed; running: ${apt[*]} update, then the install again"
    "${apt[@]}" update && "${apt[@]}" install -y redis-server
  fi
  if command -v redis-server >/dev/null; then
    echo "test.sh: installed $(redis-server --version)"
  else
    # Not fatal here: the Redis tests fail and say why, and the other tests still run.
    echo "test.sh: redis-server is still missing: the Redis tests will fail" >&2
  fi
fi

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

# The contracts: Hardhat tests (packages and compilation were done before the .NET tests).
echo "== contracts (Hardhat)"
contracts_log="$results/contracts.log"
if [[ $contracts_rc -eq 0 ]]; then
  (cd contracts && node_modules/.bin/hardhat test) 2>&1 | tee "$contracts_log"
  contracts_rc=${PIPESTATUS[0]}
fi

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

# Mocha's summary lines: "N passing", "N failing", "N pending".
c_passed=$(sed -n 's/^ *\([0-9]*\) passing.*/\1/p' "$contracts_log" 2>/dev/null | tail -n 1)
c_failed=$(sed -n 's/^ *\([0-9]*\) failing.*/\1/p' "$contracts_log" 2>/dev/null | tail -n 1)
c_pending=$(sed -n 's/^ *\([0-9]*\) pending.*/\1/p' "$contracts_log" 2>/dev/null | tail -n 1)
passed=$((passed + ${c_passed:-0}))
failed=$((failed + ${c_failed:-0}))
skipped=$((skipped + ${c_pending:-0}))
if [[ $contracts_rc -ne 0 && ${c_failed:-0} -eq 0 ]]; then
  # npm or Hardhat itself failed: count it, never pass silently.
  failed=$((failed + 1))
  echo "test.sh: the contract tests did not run to the end (exit $contracts_rc)" >&2
fi

echo "== $projects test projects and the contract tests"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $dotnet_rc -ne 0 || $contracts_rc -ne 0 || $failed -ne 0 ]]; then exit 1; fi
if [[ $passed -eq 0 ]]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit 0
