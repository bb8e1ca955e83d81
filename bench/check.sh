#!/usr/bin/env bash
# Benchmark `git release check --history` against a bash + git pipeline doing the same
# comparison, in the same run.
#
# usage: bench/check.sh [--no-build]
#
#   --no-build  use the binaries already in target/release (skip `cargo build --release`)
#
# env: ROUNDS (default 3), BENCH_CACHE (default /tmp/git-release-bench; the generated repo is
# shared with bench/hotfix.sh and reused).
#
# The repo: 1000 charts, 200 releases (bench/hotfix.sh generates it with
# bench/gen_platform_repo.py). The comparison: across every release tag, each chart name + version must have one
# content (the tree id of its folder). Contenders:
#   - pipeline: per tag, `git ls-tree` of the chart folders and of their Chart.yaml blobs; one
#     `git cat-file --batch` for the versions of the distinct Chart.yaml blobs; awk groups
#     (name, version) -> distinct folder trees. That is the least a script must do;
#   - git release check --history HEAD (which also runs the other rules on HEAD).
# Both must report the same number of reused (name, version) pairs.
set -euo pipefail

BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"

CACHE=${BENCH_CACHE:-/tmp/git-release-bench}
REPO=$CACHE/platform-1000x200
if [[ ! -d $REPO ]]; then
  echo "bench: $REPO is missing; bench/hotfix.sh generates it (run it once)" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

pipeline() {
  local tag
  git -C "$REPO" tag -l | grep -E '^v?[0-9]+\.[0-9]+\.[0-9]+$' >"$WORK/tags"
  : >"$WORK/folders"
  : >"$WORK/yamls"
  while read -r tag; do
    # <tree id> <folder> and <blob id> <folder> per chart at this tag.
    git -C "$REPO" ls-tree -d "$tag" addons/ | awk -v t="$tag" '{ print t, $3, $4 }' >>"$WORK/folders"
    git -C "$REPO" ls-tree -r "$tag" addons/ | awk -v t="$tag" '$4 ~ /^addons\/[^\/]+\/Chart\.yaml$/ { sub(/\/Chart\.yaml$/, "", $4); print t, $3, $4 }' >>"$WORK/yamls"
  done <"$WORK/tags"
  # name and version of every distinct Chart.yaml blob.
  awk '{ print $2 }' "$WORK/yamls" | sort -u |
    git -C "$REPO" cat-file --batch |
    awk '$2 == "blob" && NF == 3 && length($1) == 40 { id = $1; next }
         /^name:/ { name[id] = $2 }
         /^version:/ { ver[id] = $2 }
         END { for (i in name) print i, name[i], ver[i] }' >"$WORK/meta"
  # (name, version) -> distinct folder trees, across every tag.
  awk 'FILENAME == ARGV[1] { meta[$1] = $2 " " $3; next }
       FILENAME == ARGV[2] { tree[$1 " " $3] = $2; next }
       { key = meta[$2]; t = tree[$1 " " $3]; if (!((key, t) in seen)) { seen[key, t] = 1; n[key]++ } }
       END { c = 0; for (k in n) if (n[k] > 1) c++; print c }' \
    "$WORK/meta" "$WORK/folders" "$WORK/yamls" >"$WORK/pipeline.count"
}

ROUNDS=${ROUNDS:-3}
best_p= best_c= rss_c=
for ((r = 1; r <= ROUNDS; r++)); do
  echo "round $r/$ROUNDS..." >&2
  t0=$(now); pipeline; s=$(secs "$t0" "$(now)")
  [[ -z $best_p ]] || awk -v a="$s" -v b="$best_p" 'BEGIN { exit !(a < b) }' && best_p=$s
  # The same comparison: only the history rules (the image and list rules off).
  t0=$(now)
  (cd "$REPO" && /usr/bin/time -f %M -o "$WORK/rss" git -c release.check.image-tag-mutable=off \
    -c release.check.image-tag-not-semver=off -c release.check.image-list-stale=off \
    -c release.check.version-yml-mismatch=off release check --history --json HEAD >"$WORK/check.json" 2>"$WORK/check.err") || true
  s=$(secs "$t0" "$(now)")
  if [[ -z $best_c ]] || awk -v a="$s" -v b="$best_c" 'BEGIN { exit !(a < b) }'; then
    best_c=$s
    rss_c=$(awk '{ v = $1 } END { printf "%.0f", v / 1024 }' "$WORK/rss")
  fi
  # Every rule: what a release gate costs.
  t0=$(now)
  (cd "$REPO" && /usr/bin/time -f %M -o "$WORK/rss.all" git release check --history --json HEAD >/dev/null 2>&1) || true
  s=$(secs "$t0" "$(now)")
  if [[ -z ${best_a:-} ]] || awk -v a="$s" -v b="$best_a" 'BEGIN { exit !(a < b) }'; then
    best_a=$s
    rss_a=$(awk '{ v = $1 } END { printf "%.0f", v / 1024 }' "$WORK/rss.all")
  fi
done
python3 - "$WORK/check.json" >"$WORK/check.count" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for f in d["findings"] if f["rule"] == "chart-version-reused"))
PY
tags=$(wc -l <"$WORK/tags")
echo
echo "check --history on $REPO ($tags release tags), best of $ROUNDS, $(nproc) CPUs"
printf '%-34s %8s %8s %10s %8s\n' contender seconds "RSS MiB" "x faster" reused
printf '%-34s %8s %8s %10s %8s\n' "bash + git pipeline" "$best_p" - 1.0x "$(cat "$WORK/pipeline.count")"
printf '%-34s %8s %8s %10s %8s\n' "check --history (history rules)" "$best_c" "$rss_c" \
  "$(awk -v a="$best_p" -v b="$best_c" 'BEGIN { printf "%.1fx", a / b }')" "$(cat "$WORK/check.count")"
printf '%-34s %8s %8s %10s %8s\n' "check --history (every rule)" "$best_a" "$rss_a" \
  "$(awk -v a="$best_p" -v b="$best_a" 'BEGIN { printf "%.1fx", a / b }')" -
echo "targets: under 1 s, >= 20x the pipeline, under 200 MiB"
[[ $(cat "$WORK/pipeline.count") == $(cat "$WORK/check.count") ]] ||
  echo "bench: the two disagree on the number of reused chart versions" >&2
