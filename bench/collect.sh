#!/usr/bin/env bash
# Benchmark `git release collect` against the bash loop it replaces.
#
# usage: bench/collect.sh [--no-build] [N=100]
#
#   --no-build  use the binaries already in target/release (skip `cargo build --release`)
#
# The baseline is measured in the same run on the same repos, so the ratio holds on
# any machine. It is the seed's way of collecting, reduced to the copy: a shallow
# clone per component at a tag known in advance, then `rm -rf` + `cp -r` of the chart.
# It does less than collect (no tag discovery, no placeholders, no version.yml, no
# image lists), so the ratio is conservative.
set -euo pipefail

BUILD=1
if [[ ${1:-} == --no-build ]]; then
  BUILD=0
  shift
fi
N=${1:-100}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

source "$ROOT/bench/lib.sh"
for exe in git-release git-release-collect; do
  command -v "$exe" >/dev/null || { echo "bench: $exe not found in $ROOT/target/release" >&2; exit 1; }
done

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-collect.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

SECS_DIGITS=2

echo "generating $N component repos (twice: plain-path and file:// platform repos)..." >&2
"$ROOT/fixtures/make_component_repos.sh" "$WORK/plain" "$N" >/dev/null
"$ROOT/fixtures/make_component_repos.sh" --file-url "$WORK/url" "$N" >/dev/null
mapfile -t NAMES < <(cd "$WORK/plain" && ls -d comp[0-9]*)

# --- baseline ----------------------------------------------------------------------
# baseline URL_PREFIX CLONE_FLAGS...: the bash loop in a fresh copy of the platform
# repo; sets SECS.
baseline() {
  local prefix=$1 dir=$WORK/base.$RANDOM n t0
  shift
  git clone -q "$WORK/plain/platform" "$dir"
  t0=$(now)
  for n in "${NAMES[@]}"; do
    git -c advice.detachedHead=false clone -q "$@" --branch v1.2.0 "$prefix$WORK/plain/$n" "$dir.clone"
    rm -rf "$dir/addons/$n"
    cp -r "$dir.clone/charts/$n" "$dir/addons/"
    rm -rf "$dir.clone"
  done
  SECS=$(secs "$t0" "$(now)")
  [[ $(grep -l '^version: 1.2.0' "$dir"/addons/*/Chart.yaml | wc -l) == "$N" ]] ||
    echo "bench: baseline did not copy every chart" >&2
}
# --- git release collect -------------------------------------------------------------
HAVE_TIME=0
[[ -x /usr/bin/time ]] && HAVE_TIME=1

# run_collect DIR ARGS...: one collect run; sets SECS and RSS (peak MB, or -).
run_collect() {
  local dir=$1 t0
  shift
  RSS=-
  t0=$(now)
  if ((HAVE_TIME)); then
    (cd "$dir" && /usr/bin/time -f %M -o "$WORK/rss" git release collect "$@" >"$WORK/out" 2>&1) ||
      { cat "$WORK/out" >&2; exit 1; }
    RSS=$(awk '{ printf "%.0f", $1 / 1024 }' "$WORK/rss")
  else
    (cd "$dir" && git release collect "$@" >"$WORK/out" 2>&1) || { cat "$WORK/out" >&2; exit 1; }
  fi
  SECS=$(secs "$t0" "$(now)")
}

# check DIR: every component moved to v1.2.0, nothing outside collect's outputs touched.
check() {
  local moved
  moved=$(grep -c 'currentTag: v1.2.0' "$1/repos/all.yaml" || true)
  [[ $moved == "$N" ]] || echo "bench: $1: $moved of $N components at v1.2.0 after collect" >&2
  [[ -z $(git -C "$1" status --porcelain -- ':!repos' ':!addons' ':!version.yml' ':!images') ]] ||
    echo "bench: collect touched files outside its outputs in $1" >&2
}

# The machine's disk is noisy (the same loop took 2.8 s to 8.2 s across runs), so every step
# runs ROUNDS times, interleaved with the others, and the fastest time of each step counts.
ROUNDS=${ROUNDS:-3}
declare -A T M
keep() { # keep STEP SECS RSS: remember the fastest run of STEP
  if [[ -z ${T[$1]:-} ]] || awk -v a="$2" -v b="${T[$1]}" 'BEGIN { exit !(a < b) }'; then
    T[$1]=$2 M[$1]=$3
  fi
}
for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round/$ROUNDS..." >&2
  baseline file:// --depth 1
  keep base.url "$SECS" -
  # A plain path makes a local clone (hard links); --depth would be ignored there.
  baseline ""
  keep base.path "$SECS" -
  for kind in plain url; do
    dir=$WORK/collect.$kind.$round
    git clone -q "$WORK/$kind/platform" "$dir"
    run_collect "$dir" --quiet
    keep "$kind.first" "$SECS" "$RSS"
    check "$dir"
    run_collect "$dir" --offline --quiet
    keep "$kind.rerun" "$SECS" "$RSS"
  done
done
T_BASE_URL=${T[base.url]}
T_BASE_PATH=${T[base.path]}

# --- report ------------------------------------------------------------------------
ratio() { awk -v a="$T_BASE_URL" -v b="$1" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
echo
echo "N=$N components, best of $ROUNDS interleaved rounds, $(nproc 2>/dev/null || echo '?') CPUs, git $(git --version | cut -d' ' -f3)"
printf '%-48s %8s %9s %9s\n' step seconds "RSS MB" "vs base"
row() { printf '%-48s %8s %9s %9s\n' "$1" "$2" "$3" "$4"; }
row "baseline: clone --depth 1 file:// + cp (loop)" "$T_BASE_URL" - 1.0x
row "baseline: clone plain path + cp (loop)" "$T_BASE_PATH" - "$(ratio "$T_BASE_PATH")"
row "collect, plain paths, first run" "${T[plain.first]}" "${M[plain.first]}" "$(ratio "${T[plain.first]}")"
row "collect --offline, plain paths, nothing moved" "${T[plain.rerun]}" "${M[plain.rerun]}" "$(ratio "${T[plain.rerun]}")"
row "collect, file:// URLs, first run (fills cache)" "${T[url.first]}" "${M[url.first]}" "$(ratio "${T[url.first]}")"
row "collect --offline, file:// URLs, nothing moved" "${T[url.rerun]}" "${M[url.rerun]}" "$(ratio "${T[url.rerun]}")"
echo "(vs base = baseline file:// seconds / step seconds; higher is faster than the baseline)"
