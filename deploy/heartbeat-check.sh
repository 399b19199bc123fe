#!/usr/bin/env bash
# heartbeat-check.sh FILE MAX_AGE_S: exit 0 when FILE was written within MAX_AGE_S seconds (printing its line),
# else 1. The recorder's health check: `record --heartbeat-file FILE` rewrites it only while its loop goes round,
# so a stuck, crash-looping or dead recorder leaves it stale or missing. coreutils' stat and date (Debian image).
set -uo pipefail
if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then echo "usage: heartbeat-check.sh FILE MAX_AGE_S" >&2; exit 2; fi
file=$1
max_age=$2
if ! written=$(stat -c %Y -- "$file" 2>/dev/null); then
  echo "$file: no heartbeat yet"
  exit 1
fi
age=$(( $(date +%s) - written ))
if (( age > max_age )); then
  echo "$file: stale, written ${age} s ago (limit ${max_age} s)"
  exit 1
fi
echo "alive ${age} s ago: $(head -c 512 -- "$file" 2>/dev/null)"
