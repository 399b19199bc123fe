#!/usr/bin/env bash
# The main job. On 127.0.0.1 only: installs the contracts' npm packages and compiles them offline, starts a
# Hardhat node, deploys the EnergyLedger contract with our own Ethereum client, starts the exchange's gRPC
# server (simulated clock; lots, order roots and settlements recorded on the chain), runs one Higashi-Fuji
# community day through it over gRPC (P2PEnergy.Simulator day: agents' signed orders, meters' signed readings,
# settlement, and at the end the ledger audit from the chain alone against the exchange's lots), prints the
# report with the audit's verdict, and stops everything it started, also on Ctrl+C or failure. Files go to
# out/demo/ (report and audit in out/demo/day/). Arguments are passed on to the day, e.g.
# `scripts/demo.sh --scale 10 --seed 2` (see `P2PEnergy.Simulator day --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/out/demo"
mkdir -p "$out"

command -v dotnet >/dev/null || { echo "demo.sh: dotnet is not on PATH; install the .NET 10 SDK" >&2; exit 2; }
command -v node >/dev/null || { echo "demo.sh: node is not on PATH; install Node.js 20 or later" >&2; exit 2; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'echo "demo.sh: interrupted" >&2; exit 130' INT TERM

# A free port on 127.0.0.1 (nothing answers on it).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "demo.sh: no free port found on 127.0.0.1" >&2
  return 1
}

# wait_for_log FILE PATTERN PID WHAT: waits up to 60 s for PATTERN in FILE while PID lives.
wait_for_log() {
  for _ in $(seq 1 600); do
    if grep -q "$2" "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "demo.sh: $4 stopped while starting; its log ($1):" >&2
      cat "$1" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "demo.sh: $4 did not start within 60 s; its log: $1" >&2
  return 1
}

echo "== contracts: npm packages and offline compile"
scripts/contracts-deps.sh

echo "== building the exchange, the ledger tool and the demo client (Release)"
dotnet build src/Exchange/P2PEnergy.Exchange.Server -c Release -nologo -v quiet -clp:NoSummary
dotnet build src/Ledger/P2PEnergy.Ledger.Cli -c Release -nologo -v quiet -clp:NoSummary
dotnet build src/Agents/P2PEnergy.Simulator -c Release -nologo -v quiet -clp:NoSummary
ledger_cli="$root/src/Ledger/P2PEnergy.Ledger.Cli/bin/Release/net10.0/p2penergy-ledger.dll"

# Hardhat's well-known test accounts (mnemonic "test test ... junk"): #0 deploys and administers the
# ledger, #1 is the exchange's operator key that records lots, #2 a second operator key that commits
# each slot's Merkle root of signed orders. Test keys only, for a local devnet.
admin_key=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
operator_key=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
operator_address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
committer_key=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
committer_address=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
# #3 a third operator key that puts settled slots on chain and credits the demo's deposits; #4 the grid
# operator's account (wheeling and retail in, buy-back out). The demo's deposit, 10,000,000 JPY an account, is
# demo money only: enough for the biggest participant of a --scale 100 day (its office pays about 6,000 JPY a slot).
settler_key=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
settler_address=0x90F79bf6EB2c4f870365E785982E1f101E93b906
grid_operator_address=0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65

chain_port=$(free_port)
chain_url="http://127.0.0.1:$chain_port"
chain_log="$out/chain.log"
echo "== starting a Hardhat node on $chain_url, log: ${chain_log#$root/}"
(cd contracts && exec node_modules/.bin/hardhat node --hostname 127.0.0.1 --port "$chain_port") >"$chain_log" 2>&1 &
pids+=($!)
wait_for_log "$chain_log" "Started HTTP" "${pids[-1]}" "the Hardhat node"

deployment="$out/deployment.json"
echo "== deploying EnergyLedger"
dotnet "$ledger_cli" deploy --rpc "$chain_url" --key "$admin_key" --operator "$operator_address" --grid-operator "$grid_operator_address" --out "$deployment"
dotnet "$ledger_cli" operator --rpc "$chain_url" --key "$admin_key" --deployment "$deployment" --address "$committer_address"
dotnet "$ledger_cli" operator --rpc "$chain_url" --key "$admin_key" --deployment "$deployment" --address "$settler_address"
ledger_address=$(sed -n 's/.*"ledger": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$deployment")
chain_id=$(sed -n 's/.*"chainId": *\([0-9]*\).*/\1/p' "$deployment")

# The exchange's simulated clock starts at 11:00 JST on 2026-06-01; the community day (higashi-fuji.json)
# is 2026-06-02, and the simulator drives the clock through it.
start_unix=1780279200
server_bin="$root/src/Exchange/P2PEnergy.Exchange.Server/bin/Release/net10.0"
exchange_log="$out/exchange.log"
echo "== starting the exchange on 127.0.0.1 (simulated clock, lots recorded on chain), log: ${exchange_log#$root/}"
dotnet "$server_bin/P2PEnergy.Exchange.Server.dll" \
  --contentRoot "$server_bin" \
  --Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0 \
  --Exchange:Clock=Simulated \
  --Exchange:SimulatedStartUnixSeconds=$start_unix \
  --Exchange:ChainId="$chain_id" \
  --Exchange:LedgerAddress="$ledger_address" \
  --Ledger:RpcUrl="$chain_url" \
  --Ledger:DeploymentFile="$deployment" \
  --Ledger:OperatorKey="$operator_key" \
  --Ledger:RootCommitterKey="$committer_key" \
  --Ledger:SettlerKey="$settler_key" \
  --Ledger:DepositJpy=10000000 \
  >"$exchange_log" 2>&1 &
pids+=($!)
wait_for_log "$exchange_log" "Now listening on: http://127.0.0.1:" "${pids[-1]}" "the exchange"
url=$(sed -n 's/.*Now listening on: \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$exchange_log" | head -n 1)
echo "== exchange listening on $url"
echo

# One Higashi-Fuji day (seed 004: 1 office, 20 homes of which 4 with batteries, 9 PHEVs) through the exchange:
# agents' signed orders, call auction per slot, meters' signed readings, settlement on chain; then, once every
# lot and settled slot is on chain, the ledger audit (rebuilt from the chain's events alone, compared with the
# exchange's lots); the report with the audit's verdict. Non-zero exit when a check or the audit fails.
day_rc=0
dotnet src/Agents/P2PEnergy.Simulator/bin/Release/net10.0/P2PEnergy.Simulator.dll day --exchange "$url" \
  --rpc "$chain_url" --deployment "$deployment" --out "$out/day" "$@" || day_rc=$?

echo
echo "== files: report ${out#$root/}/day/report.md (CSV and PNG plots beside it), audit ${out#$root/}/day/audit.txt (audit.json beside it), logs ${out#$root/}/*.log"
echo "   (auditors: \`dotnet ${ledger_cli#$root/} audit --rpc URL --deployment ${deployment#$root/} [--exchange URL]\` rebuilds the same from the chain alone)"
exit "$day_rc"
