#!/usr/bin/env bash
# Speed of `git release images` on the 1000-chart synthetic repo, against a floor measured in
# the same run.
#
# usage: bench/images/list.sh [--no-build]
#
# env: ROUNDS (default 3), BENCH_CACHE (default /tmp/git-release-bench; bench/hotfix.sh
# generates platform-1000x200 there).
#
# Contenders:
#   - floor: `git archive HEAD addons | tar -x` and `grep -rh image:` over the files, which is
#     seed 002's `helm template | grep image:` without the rendering (so less work than any
#     real listing; the ratio is conservative);
#   - git release images --json HEAD: every chart rendered, images read from the objects,
#     sources kept.
# Target (issue 9): under 2 s for the 1000 charts.
set -euo pipefail

BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/bench/lib.sh"
CACHE=${BENCH_CACHE:-/tmp/git-release-bench}
REPO=$CACHE/platform-1000x200
if [[ ! -d $REPO ]]; then
  echo "bench: $REPO is missing; bench/hotfix.sh generates it (run it once)" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-images-list.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

floor() {
  rm -rf "$WORK/tree" && mkdir "$WORK/tree"
  git -C "$REPO" archive HEAD addons | tar -x -C "$WORK/tree"
  grep -rh 'image:' "$WORK/tree" | sort -u >"$WORK/floor.txt"
}
ROUNDS=${ROUNDS:-3}
best_f= best_o=
for ((r = 1; r <= ROUNDS; r++)); do
  t0=$(now); floor; s=$(secs "$t0" "$(now)")
  if [[ -z $best_f ]] || awk -v a="$s" -v b="$best_f" 'BEGIN { exit !(a < b) }'; then best_f=$s; fi
  t0=$(now)
  (cd "$REPO" && /usr/bin/time -f %M -o "$WORK/rss" git release images --json HEAD >"$WORK/images.json")
  s=$(secs "$t0" "$(now)")
  if [[ -z $best_o ]] || awk -v a="$s" -v b="$best_o" 'BEGIN { exit !(a < b) }'; then best_o=$s; fi
done
charts=$(git -C "$REPO" ls-tree -d --name-only HEAD addons/ | wc -l)
images=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["images"]))' "$WORK/images.json")
rss=$(awk '{ printf "%.0f", $NF / 1024 }' "$WORK/rss")
echo "charts=$charts images=$images, best of $ROUNDS, $(nproc) CPUs"
echo "floor (archive + grep image:):      ${best_f}s"
echo "git release images --json:          ${best_o}s  (peak ${rss} MiB)"
awk -v a="$best_o" -v b="$best_f" 'BEGIN { printf "ratio images/floor: %.3fx (the floor takes %.0fx as long)\n", a / b, b / a }'
