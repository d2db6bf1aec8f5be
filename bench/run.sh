#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md: detente against DuckDB on the same CFE-scale file.
# Not part of CI. Usage: bench/run.sh [--runs N] [--no-divan] [--at DATE]
#
#   1. a virtual environment bench/.venv with DuckDB from pip;
#   2. cargo build --release;
#   3. the facts file, generated once into bench/out/cfe/ (deterministic; delete it to
#      regenerate);
#   4. the divan bench of one limit decision (crates/detente-assess/benches/decision.rs),
#      output to bench/out/decision.txt;
#   5. bench/bench.py: N interleaved runs of detente and DuckDB, medians, ratios and the
#      cross-check of every value; bench/out/results.{md,json}.
#
# Heavy steps run one after another (the machine has 2 cores).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=5
DIVAN=1
AT=2007-07-15
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --at) AT="$2"; shift 2 ;;
    --no-divan) DIVAN=0; shift ;;
    *) echo "usage: bench/run.sh [--runs N] [--no-divan] [--at DATE]" >&2; exit 2 ;;
  esac
done

OUT=bench/out
DATA=$OUT/cfe
mkdir -p "$OUT"

if [ ! -x bench/.venv/bin/python ]; then
  echo "== creating bench/.venv with DuckDB" >&2
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet --upgrade pip
  bench/.venv/bin/pip install --quiet duckdb
fi
bench/.venv/bin/python -c 'import duckdb; print("DuckDB", duckdb.__version__)' >&2

echo "== cargo build --release" >&2
cargo build --release --quiet
BIN=target/release/detente

if [ ! -f "$DATA/facts.jsonl" ] || [ ! -f "$DATA/gen.json" ]; then
  echo "== generating $DATA" >&2
  "$BIN" gen --out "$DATA" --parties 30 --items 200000 --records 2000000 --events 200000 --years 30 --seed 1990
fi

if [ "$DIVAN" = 1 ]; then
  echo "== cargo bench -p detente-assess --bench decision" >&2
  cargo bench --quiet -p detente-assess --bench decision 2>&1 | tee "$OUT/decision.txt" >&2
fi

echo "== detente vs DuckDB, $RUNS runs" >&2
bench/.venv/bin/python bench/bench.py --dir "$DATA" --bin "$BIN" --runs "$RUNS" --at "$AT" --out "$OUT"
