#!/usr/bin/env bash
# The main job: starts the exchange's gRPC server on 127.0.0.1 with a simulated clock, runs a short
# scripted trading session against it over gRPC (both mechanisms), prints the lots, and stops the server,
# also on Ctrl+C or failure. Logs go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/out/demo"
mkdir -p "$out"

command -v dotnet >/dev/null || { echo "demo.sh: dotnet is not on PATH; install the .NET 10 SDK" >&2; exit 2; }

echo "== building the exchange and the demo client (Release)"
dotnet build src/Exchange/P2PEnergy.Exchange.Server -c Release -nologo -v quiet
dotnet build src/Agents/P2PEnergy.Simulator -c Release -nologo -v quiet

server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo "demo.sh: interrupted" >&2; exit 130' INT TERM

# The simulated day starts at 11:00 JST (02:00 UTC) on 2026-06-01: midday PV surplus.
start_unix=1780279200
log="$out/exchange.log"
echo "== starting the exchange on 127.0.0.1 (simulated clock), log: ${log#$root/}"
server_bin="$root/src/Exchange/P2PEnergy.Exchange.Server/bin/Release/net10.0"
dotnet "$server_bin/P2PEnergy.Exchange.Server.dll" \
  --contentRoot "$server_bin" \
  --Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0 \
  --Exchange:Clock=Simulated \
  --Exchange:SimulatedStartUnixSeconds=$start_unix \
  >"$log" 2>&1 &
server_pid=$!

url=""
for _ in $(seq 1 600); do
  url=$(sed -n 's/.*Now listening on: \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$log" | head -n 1)
  [[ -n "$url" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo.sh: the exchange stopped while starting; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "demo.sh: the exchange did not start listening within 60 s; its log: $log" >&2
  exit 1
fi
echo "== exchange listening on $url"
echo

dotnet src/Agents/P2PEnergy.Simulator/bin/Release/net10.0/P2PEnergy.Simulator.dll scripted --exchange "$url"
