#!/usr/bin/env bash
# The verification scenario on two real nodes (US and USSR, the Carter-1977 treaty), on
# loopback ports, in a temporary folder (or the empty folder given as $1, kept).
#
#   scenarios/verification/run.sh [DIR]
#
# Uses `detente` from PATH, or DETENTE=/path/to/detente. The test that checks it is
# crates/detente-cli/tests/verification.rs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
detente="${DETENTE:-detente}"
if [[ $# -ge 1 ]]; then
  work="$1"
  mkdir -p "$work"
  [[ -z "$(ls -A "$work")" ]] || { echo "error: $work is not empty" >&2; exit 2; }
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
cd "$work"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
us_port=$(free_port)
ussr_port=$(free_port)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# `detente` with its exit code shown when it is not 0 (1 means a violation was found).
d() { local code=0; "$detente" "$@" || code=$?; [[ $code -eq 0 ]] || echo "(exit code $code)"; }

step "Two nodes: keys, network file, data folders"
us_key=$("$detente" keygen --data us)
ussr_key=$("$detente" keygen --data ussr)
cat > network.toml <<EOF
treaty = "carter_1977"

[[party]]
name = "US"
url = "http://127.0.0.1:$us_port"
node_key = "$us_key"

[[party]]
name = "USSR"
url = "http://127.0.0.1:$ussr_port"
node_key = "$ussr_key"
EOF
"$detente" init --treaty "$repo/treaties/carter-1977.treaty" --party US --network network.toml --data us >/dev/null
"$detente" init --treaty "$repo/treaties/carter-1977.treaty" --party USSR --network network.toml --data ussr >/dev/null
"$detente" serve --data us --sync-every-ms 200 >us.log 2>&1 &
us_pid=$!
"$detente" serve --data ussr --sync-every-ms 200 >ussr.log 2>&1 &
ussr_pid=$!
cleanup() { kill "$us_pid" "$ussr_pid" 2>/dev/null || true; wait "$us_pid" "$ussr_pid" 2>/dev/null || true; }
trap 'cleanup; [[ $# -ge 1 ]] || rm -rf "$work"' EXIT

# Waits until the node of $1 holds the log of party $2 at $3 entries.
wait_log() {
  for _ in $(seq 1 300); do
    # (exit code 1, a violation found, is not a failure here)
    if { "$detente" escrow status --data "$1" --json 2>/dev/null || true; } \
      | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if any(i["name"].endswith("/"+sys.argv[1]) and i["records"]==int(sys.argv[2]) for i in s["inputs"]) else 1)' "$2" "$3"; then
      return 0
    fi
    sleep 0.2
  done
  echo "error: $1 does not hold $2's log at $3 entries" >&2
  exit 3
}

seed() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$here/seeds.json" "$1"; }
round=$(seed round)

step "1. The USSR commits to every launcher (26, in three missile fields) and reveals Kozelsk"
d escrow commit --data ussr --items "$here/ussr-items.jsonl" --as-of 1979-06-18 --publish-counts
d escrow reveal --data ussr --region kozelsk

step "2. The USSR proves (a), SDVs <= 2400, without saying how many it has"
d prove limit --data ussr --provision a --value 2380 --bound 2400 --as-of 1979-06-18

step "3. The USSR reveals Tatishchevo (site T-05 hides a launcher it did not declare)"
d escrow reveal --data ussr --region tatishchevo

step "4. Seed round $round: both commit, then both reveal"
d inspect seed --data ussr --round "$round" --seed "$(seed USSR)"
wait_log us USSR 5
d inspect seed --data us --round "$round" --seed "$(seed US)"
wait_log ussr US 1
d inspect seed --data ussr --round "$round" --reveal
d inspect seed --data us --round "$round" --reveal
wait_log us USSR 6
wait_log ussr US 2

step "5. The draw: two sites of Tatishchevo, the same on both nodes"
d inspect draw --data us --round "$round" --party USSR --region tatishchevo --sites 2
d inspect draw --data ussr --round "$round" --party USSR --region tatishchevo --sites 2

step "6. US inspectors report what they found at T-04 and T-05"
d inspect report --data us "$here/inspection-T-04.json"
d inspect report --data us "$here/inspection-T-05.json"
wait_log ussr US 4

step "7. What both nodes see"
d escrow status --data ussr
d prove verify --data ussr --at 1979-07-01

step "Both nodes agree, byte for byte"
"$detente" escrow status --data us --json >us-state.json || true
"$detente" escrow status --data ussr --json >ussr-state.json || true
cmp us-state.json ussr-state.json && echo "the verification state is identical on both nodes"
