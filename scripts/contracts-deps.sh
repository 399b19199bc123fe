#!/usr/bin/env bash
# Installs the contracts' npm packages (exact versions from contracts/package-lock.json) when they are
# missing or the lock file changed, then compiles the contracts offline with the npm solc package.
set -euo pipefail
cd "$(dirname "$0")/../contracts"
command -v npm >/dev/null || { echo "contracts-deps.sh: npm is not on PATH; install Node.js 20 or later" >&2; exit 2; }
stamp=node_modules/.p2penergy-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "installing the contracts' npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
node_modules/.bin/hardhat compile --quiet
