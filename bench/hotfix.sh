#!/usr/bin/env bash
# Benchmark `git release hotfix` against the seed's hotfix pipeline and a `git archive` floor.
#
# usage: bench/hotfix.sh [--no-build] [--check]
#
#   --no-build  use the binaries already in target/release (skip `cargo build --release`)
#   --check     after every hotfix run, compare the charts in the package with the chart
#               folders changed in the range, and print any difference
#
# env: ROUNDS (default 3), BENCH_CACHE (default /tmp/git-release-bench; the generated
# repo is kept there and reused, delete it to regenerate).
#
# One synthetic platform repo (1000 charts, 200 releases, 60 chart changes per release, generated
# by bench/gen_platform_repo.py), range v2.39.0..HEAD (about 200 changed charts). Three contenders, measured in the same run:
#   - seed pipeline: bench/seed_hotfix.sh (git diff, cp -r of the changed charts, tar czf);
#   - git archive floor: `git archive --format=tar.gz` of the changed chart folders, folders
#     computed before timing. It does no chart packaging, no version or checksum work, so a
#     hotfix cannot reasonably be much faster than it;
#   - git release hotfix v2.39.0..HEAD.
#
# The seed's time depends on the disk: it creates ~2,600 files, and on ext4 without a journal
# (this machine) file creation is several times slower for a few minutes after many deletions
# (the previous run's cleanup, a cargo build). The floor and the hotfix write one file each. So
# the bench deletes nothing between rounds; for a seed time that leaves the disk out, run with
# TMPDIR=/dev/shm (outputs of all three contenders go there).
set -euo pipefail

BUILD=1 CHECK=0
while (($#)); do
  case $1 in
    --no-build) BUILD=0 ;;
    --check) CHECK=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench: unknown argument: $1 (usage: bench/hotfix.sh [--no-build] [--check])" >&2; exit 2 ;;
  esac
  shift
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

source "$ROOT/bench/lib.sh"
# The hotfix executable may not exist yet: then its row says so instead of failing.
HAVE_HOTFIX=0
[[ -x $ROOT/target/release/git-release && -x $ROOT/target/release/git-release-hotfix ]] && HAVE_HOTFIX=1
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time (GNU time) is needed for peak RSS" >&2; exit 1; }

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

BASE=v2.39.0
NEW=HEAD

# --- the repo (generated once, cached) ----------------------------------------------
CACHE=${BENCH_CACHE:-/tmp/git-release-bench}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
REPO=$CACHE/platform-1000x200
if [[ ! -d $REPO ]]; then
  echo "generating $REPO (1000 charts, 200 releases; kept for the next runs)..." >&2
  rm -rf "$REPO.tmp.$$"
  python3 "$ROOT/bench/gen_platform_repo.py" "$REPO.tmp.$$" \
    --charts 1000 --releases 200 --changes-per-release 60 --files-per-chart 10 >/dev/null
  mv "$REPO.tmp.$$" "$REPO"
fi
git -C "$REPO" rev-parse -q --verify "$BASE^{commit}" >/dev/null ||
  { echo "bench: $REPO has no $BASE; delete it to regenerate" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-hotfix.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Changed chart folders, computed once, outside the timings.
mapfile -t CHANGED < <(git -C "$REPO" diff --name-only "$BASE" "$NEW" -- addons | cut -d/ -f2 | sort -u)
NCHANGED=${#CHANGED[@]}
# The floor archives the ones that are folders at NEW (a deleted chart has nothing to archive).
mapfile -t FOLDERS < <(comm -12 <(printf '%s\n' "${CHANGED[@]}") \
  <(git -C "$REPO" ls-tree -d --name-only "$NEW:addons" | sort))
((${#FOLDERS[@]})) || { echo "bench: no changed chart folder in $BASE..$NEW" >&2; exit 1; }
((${#FOLDERS[@]} == NCHANGED)) ||
  echo "bench: $((NCHANGED - ${#FOLDERS[@]})) changed entries of addons/ are not folders at $NEW (deleted charts or files)" >&2
FLOOR_PATHS=("${FOLDERS[@]/#/addons/}")
echo "$BASE..$NEW: $NCHANGED changed chart folders" >&2

SECS_DIGITS=4

# timed NAME DIR CMD...: run CMD in DIR under /usr/bin/time; sets SECS and RSS (peak MiB of the
# largest single process). Output goes to $WORK/NAME.log and is shown if CMD fails.
timed() {
  local name=$1 dir=$2 t0
  shift 2
  t0=$(now)
  (cd "$dir" && /usr/bin/time -f %M -o "$WORK/$name.rss" "$@" >"$WORK/$name.log" 2>&1) ||
    { echo "bench: $name failed: $*" >&2; cat "$WORK/$name.log" >&2; exit 1; }
  SECS=$(secs "$t0" "$(now)")
  RSS=$(awk '{ v = $1 } END { printf "%.1f", v / 1024 }' "$WORK/$name.rss")
}

# repo_state: refs and work tree status of the cached repo, to see if a contender changed it.
repo_state() { { git -C "$REPO" for-each-ref; git -C "$REPO" status --porcelain; } | cksum; }

# check_package: charts in the hotfix package (entries */charts/<name>-<version>.tgz) against
# the changed chart folders.
CHECK_FAILED=0
check_package() {
  local pkgs pkg kind
  pkgs=("$WORK"/out/*-hotfix-*.tar.gz)
  if [[ ! -f ${pkgs[0]} ]]; then
    echo "check: no $WORK/out/<product>-hotfix-<version>.tar.gz after the hotfix run; out has:" >&2
    ls -A "$WORK/out" >&2 || true
    CHECK_FAILED=1
    return
  fi
  ((${#pkgs[@]} == 1)) || echo "check: ${#pkgs[@]} packages in out, checking ${pkgs[0]##*/}" >&2
  pkg=${pkgs[0]}
  tar -tzf "$pkg" | sed -nE 's#^(.*/)?charts/([^/]+)-v?[0-9]+\.[0-9]+\.[0-9]+([-+][^/]*)?\.tgz$#\2#p' |
    sort -u >"$WORK/in-package"
  printf '%s\n' "${CHANGED[@]}" >"$WORK/changed"
  comm -23 "$WORK/changed" "$WORK/in-package" >"$WORK/missing"
  comm -13 "$WORK/changed" "$WORK/in-package" >"$WORK/extra"
  if [[ -s $WORK/missing || -s $WORK/extra ]]; then
    echo "check: ${pkg##*/}: charts differ from the changed folders of $BASE..$NEW" >&2
    for kind in missing extra; do
      [[ -s $WORK/$kind ]] || continue
      [[ $kind == missing ]] && echo "  $(wc -l <"$WORK/$kind") changed in git diff, not in the package:" >&2
      [[ $kind == extra ]] && echo "  $(wc -l <"$WORK/$kind") in the package, not changed in git diff:" >&2
      paste -sd' ' "$WORK/$kind" | fold -s -w 96 | sed 's/^/    /' >&2
    done
    CHECK_FAILED=1
  else
    CHECK_OK="check: ${pkg##*/} holds exactly the $(wc -l <"$WORK/in-package") changed charts"
  fi
}

# The machine's disk is noisy, so every contender runs ROUNDS times, interleaved with the
# others, and the fastest time of each counts (with the peak RSS of that run).
ROUNDS=${ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench: ROUNDS must be a positive integer" >&2; exit 2; }
declare -A T M
keep() { # keep STEP SECS RSS: remember the fastest run of STEP
  if [[ -z ${T[$1]:-} ]] || awk -v a="$2" -v b="${T[$1]}" 'BEGIN { exit !(a < b) }'; then
    T[$1]=$2 M[$1]=$3
  fi
}
STATE=$(repo_state)
for ((round = 1; round <= ROUNDS; round++)); do
  line="round $round/$ROUNDS:"
  # A fresh output folder per round instead of deleting the previous one: on this disk (ext4
  # without a journal) creating files right after deleting many is several times slower, since
  # the inode allocator skips inodes freed in the last minute(s). Deleting ~2,000 files just
  # before the seed's timed `cp -r` would slow it down by the bench's own doing.
  timed seed "$REPO" bash "$ROOT/bench/seed_hotfix.sh" "$REPO" "$BASE" "$NEW" "$WORK/seed-out.$round"
  keep seed "$SECS" "$RSS"
  line+=" seed $SECS s"
  [[ -s $WORK/seed-out.$round.tar.gz ]] || { echo "bench: the seed pipeline wrote no $WORK/seed-out.$round.tar.gz" >&2; exit 1; }

  timed floor "$REPO" git -C "$REPO" archive --format=tar.gz -o "$WORK/floor.$round.tar.gz" "$NEW" -- "${FLOOR_PATHS[@]}"
  keep floor "$SECS" "$RSS"
  line+=", floor $SECS s"

  if ((HAVE_HOTFIX)); then
    # Cold: the render cache emptied first (every changed chart rendered at both ends); then
    # warm, the cache as the cold run left it. Both packages must be the same bytes.
    rm -rf "$WORK/out" "$(git -C "$REPO" rev-parse --git-common-dir)/release/cache/render"
    timed cold "$REPO" git release hotfix "$BASE..$NEW" -o "$WORK/out" --date 20261122 --allow-same-version
    keep cold "$SECS" "$RSS"
    cold_sum=$(sha256sum "$WORK"/out/*.tar.gz | cut -d' ' -f1)
    rm -rf "$WORK/out"
    timed hotfix "$REPO" git release hotfix "$BASE..$NEW" -o "$WORK/out" --date 20261122 --allow-same-version
    keep hotfix "$SECS" "$RSS"
    [[ $(sha256sum "$WORK"/out/*.tar.gz | cut -d' ' -f1) == "$cold_sum" ]] ||
      { echo "bench: the cold and warm hotfix packages differ" >&2; exit 1; }
    line+=", hotfix warm $SECS s"
    ((CHECK)) && check_package
  fi
  echo "$line" >&2
  [[ $(repo_state) == "$STATE" ]] ||
    { echo "bench: round $round changed the refs or work tree of $REPO; later rounds are not comparable" >&2; STATE=$(repo_state); }
done

# --- report ------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
show() { awk -v a="$1" 'BEGIN { printf "%.3f", a }'; }
echo
echo "$BASE..$NEW of platform-1000x200 ($NCHANGED changed chart folders), best of $ROUNDS interleaved rounds," \
  "$(nproc 2>/dev/null || echo '?') CPUs, git $(git --version | cut -d' ' -f3)"
echo "repo: $REPO; outputs in $WORK ($(stat -f -c %T "$WORK"), set TMPDIR to move them)"
printf '%-20s %8s %8s %20s %11s\n' contender seconds "RSS MiB" "x faster than seed" "x of floor"
row() { printf '%-20s %8s %8s %20s %11s\n' "$1" "$(show "${T[$2]}")" "${M[$2]}" "$(ratio "${T[seed]}" "${T[$2]}")" "$(ratio "${T[$2]}" "${T[floor]}")"; }
row "seed pipeline" seed
row "git archive floor" floor
if ((HAVE_HOTFIX)); then
  row "hotfix, cold cache" cold
  row "git release hotfix" hotfix
else
  printf '%-20s %s\n' "git release hotfix" "hotfix: not built yet"
fi
echo "(x faster than seed = seed seconds / seconds; x of floor = seconds / floor seconds; RSS = peak of the largest process)"
echo "(the seed creates one file per chart file, so its time follows the file-creation speed under TMPDIR, which on"
echo " ext4 without a journal drops for minutes after many deletions, e.g. a cargo build or the previous bench run;"
echo " the floor and the hotfix write one package each. TMPDIR=/dev/shm takes the disk out of the seed's time)"
echo "targets for git release hotfix: >= 15x faster than seed, <= 2x of floor, peak RSS < 100 MiB" \
  "(issue 25 asks warm <= 1.0x and cold <= 1.5x of the floor)"
if ((HAVE_HOTFIX)); then
  verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : (op == "<=") ? v <= t : v < t; print ok ? "met" : "MISSED" }'; }
  fast=$(awk -v a="${T[seed]}" -v b="${T[hotfix]}" 'BEGIN { print (b > 0) ? a / b : 0 }')
  floor=$(awk -v a="${T[hotfix]}" -v b="${T[floor]}" 'BEGIN { print (b > 0) ? a / b : 1e9 }')
  printf '  %-26s %s (%s)\n' ">= 15x faster than seed:" "$(verdict "$fast" ">=" 15)" "$(ratio "${T[seed]}" "${T[hotfix]}")"
  printf '  %-26s %s (%s)\n' "<= 2x of floor:" "$(verdict "$floor" "<=" 2)" "$(ratio "${T[hotfix]}" "${T[floor]}")"
  printf '  %-26s %s (%s MiB)\n' "peak RSS < 100 MiB:" "$(verdict "${M[hotfix]}" "<" 100)" "${M[hotfix]}"
fi
if ((CHECK)); then
  if ((!HAVE_HOTFIX)); then
    echo "check: skipped, hotfix not built yet"
  elif ((CHECK_FAILED)); then
    echo "check: FAILED (differences above)"
    exit 1
  else
    echo "$CHECK_OK"
  fi
fi
