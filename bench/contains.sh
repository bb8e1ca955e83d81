#!/usr/bin/env bash
# Benchmark `git release contains` against a bash loop of `git tag --contains` + `git log
# --grep`, in the same run.
#
# usage: bench/contains.sh [--no-build]
#
#   --no-build  use the binaries already in target/release (skip `cargo build --release`)
#
# env: ROUNDS (default 3), BENCH_CACHE (default /tmp/git-release-bench; the generated repo is
# shared with bench/hotfix.sh, which generates it, and reused).
#
# The repo: 1000 charts, 200 releases (200 release tags on 40 lines), cloned once into
# platform-1000x200-picks, where a fix is committed on master and picked onto 20 release
# branches (release-2.<minor>, from the newest tag of the line): 15 picks with `-x` (the
# `(cherry picked from commit …)` line), 5 without (only a patch id finds them); a hotfix tag
# on 10 of the picks. Contenders:
#   - bash loop: `git tag --contains` and `git branch --contains` of the fix, then of every
#     commit `git log --all --grep` finds naming it. It cannot find the 5 picks without the line;
#   - git release contains FIX --json (all of the above plus patch ids, in one walk).
# The refs each finds are counted; ours must be a superset of the loop's.
set -euo pipefail

BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time (GNU time) is needed for peak RSS" >&2; exit 1; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z

CACHE=${BENCH_CACHE:-/tmp/git-release-bench}
BASE_REPO=$CACHE/platform-1000x200
REPO=$CACHE/platform-1000x200-picks
if [[ ! -d $BASE_REPO ]]; then
  echo "bench: $BASE_REPO is missing; bench/hotfix.sh generates it (run it once)" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-contains.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- the picks (made once, without a work tree: merge-tree + commit-tree) ----------------
if [[ ! -d $REPO ]]; then
  echo "making $REPO (a fix picked onto 20 release branches; kept for the next runs)..." >&2
  rm -rf "$REPO.tmp.$$"
  git clone -q --bare "$BASE_REPO" "$REPO.tmp.$$"
  g() { git -C "$REPO.tmp.$$" "$@"; }
  f=addons/comp0001/templates/res0.yaml
  blob=$( (g show "master:$f"; echo "# fix: the probe timeout") | g hash-object -w --stdin)
  # Build the fixed tree with a temporary index.
  export GIT_INDEX_FILE=$WORK/index
  g read-tree master
  printf '100644 %s\t%s\n' "$blob" "$f" | g update-index --index-info
  tree=$(g write-tree)
  unset GIT_INDEX_FILE
  fix=$(g commit-tree "$tree" -p master -m "fix: probe timeout of comp0001")
  g update-ref refs/heads/master "$fix"
  n=0
  for minor in $(seq 0 2 38); do
    tag=$(g tag -l "v2.$minor.*" | sort -V | tail -1)
    merged=$(g merge-tree --write-tree --merge-base="$fix^" "$tag^{commit}" "$fix")
    if ((n % 4 == 3)); then
      msg="fix: probe timeout of comp0001"
    else
      msg=$(printf 'fix: probe timeout of comp0001\n\n(cherry picked from commit %s)' "$fix")
    fi
    pick=$(g commit-tree "$merged" -p "$tag^{commit}" -m "$msg")
    g update-ref "refs/heads/release-2.$minor" "$pick"
    if ((n % 2 == 0)); then
      g tag -a -m hotfix "hotfix/${tag}-20260101-p1" "$pick"
    fi
    n=$((n + 1))
  done
  mv "$REPO.tmp.$$" "$REPO"
fi
FIX=$(git -C "$REPO" log -1 --format=%H --grep='^fix: probe timeout' master)

ROUNDS=${ROUNDS:-3}
loop() {
  local c
  {
    git -C "$REPO" tag --contains "$FIX"
    git -C "$REPO" branch --format='%(refname:short)' --contains "$FIX"
    for c in $(git -C "$REPO" log --all --format=%H --grep="cherry picked from commit $FIX"); do
      git -C "$REPO" tag --contains "$c"
      git -C "$REPO" branch --format='%(refname:short)' --contains "$c"
    done
  } | sort -u
}
ours() { git -C "$REPO" release contains "$FIX" --json; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_timed() { # name fn -> prints median seconds; output of the last round in $WORK/$name.out
  local name=$1 fn=$2 i t0 t1
  for ((i = 0; i < ROUNDS; i++)); do
    t0=$(now)
    "$fn" >"$WORK/$name.out"
    t1=$(now)
    secs "$t0" "$t1"
    echo
  done | median
}

echo "repo: $(git -C "$REPO" rev-list --all | wc -l) commits, $(git -C "$REPO" tag | wc -l) tags, $(git -C "$REPO" branch | wc -l) branches" >&2
t_loop=$(run_timed loop loop)
t_ours=$(run_timed ours ours)
rss=$(/usr/bin/time -f %M git -C "$REPO" release contains "$FIX" --json 2>&1 >/dev/null | tail -1)
n_loop=$(grep -c . "$WORK/loop.out")
n_ours=$(python3 -c 'import json,sys; print(sum(r["contains"] for r in json.load(open(sys.argv[1]))["refs"]))' "$WORK/ours.out")
python3 - "$WORK/loop.out" "$WORK/ours.out" <<'PY'
import json, sys
loop = {l.strip() for l in open(sys.argv[1]) if l.strip()}
ours = {r["ref"] for r in json.load(open(sys.argv[2]))["refs"] if r["contains"]}
missing = sorted(x for x in loop if x not in ours and x != "master")
if missing:
    print("bench: git release contains missed refs the loop found: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
PY
printf '%-48s %8s %6s %s\n' contender seconds refs note
printf '%-48s %8s %6s %s\n' "bash loop (tag/branch --contains + log --grep)" "$t_loop" "$n_loop" "picks without the trailer are not found"
printf '%-48s %8s %6s %s\n' "git release contains" "$t_ours" "$n_ours" "peak RSS $((rss / 1024)) MiB"
awk -v a="$t_loop" -v b="$t_ours" 'BEGIN { printf "ratio: %.1fx faster than the loop\n", a / b }'
