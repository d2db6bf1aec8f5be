#!/usr/bin/env bash
# The ledger benchmarks of issue 4, as reported in docs/benchmarks.md:
#  - end to end on real SQLite files and loopback HTTP (crates/detente-cli/benches/ledger_e2e.rs),
#    ROUNDS runs, medians;
#  - the tree and proofs against ct-merkle, and the store's appends (divan).
# Usage: bench/ledger.sh [ROUNDS]   (outputs in bench/out/, which git ignores)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
mkdir -p bench/out
out=bench/out/ledger_e2e.jsonl
: > "$out"
cargo bench -p detente-cli --bench ledger_e2e --no-run 2>/dev/null
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  cargo bench -q -p detente-cli --bench ledger_e2e 2>/dev/null | grep '^{' | sed "s/^{/{\"round\":$round,/" >> "$out"
done
python3 - "$out" <<'PY'
import json, statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["figure"], r["entries"])].append(r)
print(f"{'figure':<22} {'entries':>9} {'median s':>9} {'median entries/s':>17}  (n={len(next(iter(runs.values())))})")
for (figure, entries), rs in runs.items():
    s = statistics.median(r["seconds"] for r in rs)
    print(f"{figure:<22} {entries:>9} {s:>9.3f} {entries / s:>17,.0f}")
PY
cargo bench -q -p detente-ledger 2>/dev/null | tee bench/out/ledger_divan.txt
cargo bench -q -p detente-store 2>/dev/null | tee bench/out/store_divan.txt
