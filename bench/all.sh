#!/usr/bin/env bash
# Every benchmark of the project, one after the other, on one release build; prints each one's
# output under its name, and at the end one table: the lines of every benchmark that carry a
# same-run ratio (`NNx`) or the chain's step times. A run takes about 15 minutes on a 2-core
# machine (most of it generating bench/hotfix.sh's 1000-chart repository, kept in BENCH_CACHE
# for the next run).
#
# usage: bench/all.sh [--no-build]
#
# bench/images/accuracy.sh needs a corpus of real charts (bench/images/README.md) and runs
# only when CORPUS names one. The fuzzers (bench/fuzz.sh) are not benchmarks and do not run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${1:-}" != --no-build ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi
# hotfix.sh generates the repository check.sh and contains.sh reuse: it runs first.
benches=(hotfix.sh check.sh contains.sh collect.sh upgrade.sh images/list.sh images/package.sh images/push.sh chain.sh)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for b in "${benches[@]}"; do
  echo "== bench/$b"
  "$ROOT/bench/$b" --no-build 2>&1 | tee "$out/${b//\//_}.log"
done
if [ -n "${CORPUS:-}" ]; then
  echo "== bench/images/accuracy.sh $CORPUS"
  "$ROOT/bench/images/accuracy.sh" "$CORPUS" --no-build 2>&1 | tee "$out/accuracy.log"
fi
echo
echo "== summary ($(nproc) CPUs, $(date -u +%Y-%m-%d))"
for log in "$out"/*.log; do
  name=$(basename "$log" .log)
  grep -E '[0-9.]+x\b|^(collect|check|tag|package --images|push|total) ' "$log" | sed "s|^|${name//_//}: |" || true
done
