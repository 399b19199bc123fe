#!/usr/bin/env bash
# tcp-check.sh HOST:PORT...: exit 0 when every HOST:PORT accepts a TCP connection within 2 s, else 1 naming the
# first that does not. The recorder's health check (it serves no port of its own): Redis and the chain reachable.
# bash's /dev/tcp: the runtime image has no curl or nc.
set -uo pipefail
if [[ $# -eq 0 ]]; then echo "usage: tcp-check.sh HOST:PORT..." >&2; exit 2; fi
for target in "$@"; do
  host=${target%:*}
  port=${target##*:}
  if ! timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
    echo "$target: no TCP connection"
    exit 1
  fi
done
echo "reachable: $*"
