#!/usr/bin/env bash
# The compose `deploy` job: deploys EnergyLedger with our own Ethereum client and writes the deployment file that
# the exchange, the recorder and the auditor read; the same steps as scripts/demo.sh.
#   - nothing to do when the deployment file already names a ledger that answers on this chain (a restart);
#   - else: deploy (admin key, operator = the recorder's address, grid operator), then let the root committer
#     and the settler record. The file appears only when every step is done (written aside, then renamed).
# Hardhat's devnet forgets everything when it restarts: the ledger is then deployed again, by the same admin key
# at nonce 0, so at the same address.
set -euo pipefail

rpc=${P2PE_RPC_URL:?P2PE_RPC_URL: the chain JSON-RPC URL}
file=${P2PE_DEPLOYMENT_FILE:?P2PE_DEPLOYMENT_FILE: where to write the deployment file}
admin_key=${P2PE_ADMIN_KEY:?P2PE_ADMIN_KEY: the admin key that deploys the ledger}
operator=${P2PE_OPERATOR_ADDRESS:?P2PE_OPERATOR_ADDRESS: the recorder key address}
committer=${P2PE_ROOT_COMMITTER_ADDRESS:?P2PE_ROOT_COMMITTER_ADDRESS: the exchange root committer address}
settler=${P2PE_SETTLER_ADDRESS:?P2PE_SETTLER_ADDRESS: the exchange settler address}
grid_operator=${P2PE_GRID_OPERATOR_ADDRESS:?P2PE_GRID_OPERATOR_ADDRESS: the grid operator account}
artifact=${P2PE_ARTIFACT:-/app/contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json}
cli=${P2PE_LEDGER_DLL:-/app/p2penergy-ledger.dll}

ledger() { dotnet "$cli" "$@"; }

if [[ -f "$file" ]]; then
  # `lots` reads the ledger's lot count: it fails when no contract answers at the file's address.
  if ledger lots --rpc "$rpc" --deployment "$file" --slot 0 >/dev/null 2>&1; then
    echo "deploy: the ledger of $file answers on $rpc; nothing to do"
    exit 0
  fi
  echo "deploy: the ledger of $file does not answer on $rpc (a new devnet?): deploying again"
fi

mkdir -p "$(dirname "$file")"
pending="$file.pending"
rm -f "$pending"
ledger deploy --rpc "$rpc" --key "$admin_key" --operator "$operator" --grid-operator "$grid_operator" \
  --artifact "$artifact" --out "$pending"
ledger operator --rpc "$rpc" --key "$admin_key" --deployment "$pending" --address "$committer"
ledger operator --rpc "$rpc" --key "$admin_key" --deployment "$pending" --address "$settler"
mv -f "$pending" "$file"
echo "deploy: $file written"
