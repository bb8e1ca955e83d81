#!/usr/bin/env bash
# Images into a package: `git release package --images` against a loop of
# `skopeo copy docker://… oci-archive:…`, measured in the same run, from a local registry.
#
# usage: bench/images/package.sh [--no-build] [N=50] [MiB=10]
#
# Needs docker-registry and skopeo (Debian packages; .ci/run installs them). The script starts a
# registry on 127.0.0.1 with a free port and a temporary storage folder, pushes N images of about
# MiB each (a 6/10 share of each image is one of 5 base layers shared between images, the rest a
# unique layer of random bytes), and times
#   - baseline: for each image, `skopeo copy docker://REG/img oci-archive:out/img.tar`;
#   - git release package --images, first run (empty blob cache);
#   - git release package --images, re-run (blobs from the cache, each verified against its
#     digest; manifests still asked for, tags may have moved), median of three, on disk and on
#     /dev/shm.
# Peak RSS of git-release comes from /usr/bin/time. Targets (issue 10): first run >= 2x faster
# than the loop, re-run >= 10x, peak RSS under 100 MiB whatever the image size.
set -euo pipefail

BUILD=1
[[ ${1:-} == --no-build ]] && { BUILD=0; shift; }
N=${1:-50}
MIB=${2:-10}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/bench/lib.sh"
source "$ROOT/bench/images/setup.sh"
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (apt-get install docker-registry skopeo)" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-images-pkg.XXXXXX")
trap 'stop_registries; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
start_registry "$WORK/registry"
REG=$REGISTRY

build_platform "$N" "$MIB"

SECS_DIGITS=2
mkdir -p "$WORK/base"
t0=$(now)
for ((i = 0; i < N; i++)); do
  n=$(printf img%03d "$i")
  skopeo copy --quiet --src-tls-verify=false "docker://$REG/rel/bench/$n:1.0.0" "oci-archive:$WORK/base/$n.tar"
done
t_base=$(secs "$t0" "$(now)")
rm -rf "$repo/.git/release/blobs"
t0=$(now)
(cd "$repo" && /usr/bin/time -f %M -o "$WORK/rss1" git release package --images -o "$WORK/out1" >/dev/null)
t_first=$(secs "$t0" "$(now)")
# Re-runs from the cache: three, the median reported. Like the skopeo loop, the package is not
# fsynced by default; one line sets release.fsync=true (the package flushed to disk before its
# rename) and one writes to /dev/shm (memory) to show git-release's own work without the disk.
again() { # $1 = output folder, then git -c settings; prints seconds
  local t0 t out=$1 cfg=()
  shift
  for kv in "$@"; do cfg+=(-c "$kv"); done
  t0=$(now)
  (cd "$repo" && /usr/bin/time -f %M -o "$WORK/rss2" git "${cfg[@]}" release package --images -o "$out" >/dev/null)
  t=$(secs "$t0" "$(now)")
  rm -rf "$out"
  echo "$t"
}
median() { sort -n | sed -n 2p; }
t_sync=$(for k in 1 2 3; do again "$WORK/out3-$k" release.fsync=true; done | median)
t_again=$(for k in 1 2 3; do again "$WORK/out2-$k"; done | median)
shm=-
if [[ -d /dev/shm && -w /dev/shm ]]; then
  SHM=$(mktemp -d /dev/shm/bench-images.XXXXXX)
  shm=$(for k in 1 2 3; do again "$SHM/out-$k"; done | median)
  rm -rf "$SHM"
fi
(cd "$repo" && git release package --images -o "$WORK/out2" >/dev/null)
cmp -s "$WORK/out1/bench-v1.0.0.tar.gz" "$WORK/out2/bench-v1.0.0.tar.gz" || echo "bench: the two packages differ" >&2
size=$(du -m "$WORK/out1/bench-v1.0.0.tar.gz" | cut -f1)
rss() { awk '{ v = $NF } END { printf "%.0f", v / 1024 }' "$1"; }
ratio() { [[ $2 == - ]] && echo - || awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
echo "N=$N images of ~${MIB} MiB (5 shared base layers), package ${size} MiB, $(nproc) CPUs"
printf '%-52s %8s %8s %8s\n' step seconds "RSS MiB" "vs base"
printf '%-52s %8s %8s %8s\n' "baseline: skopeo copy → oci-archive (loop)" "$t_base" - 1.0x
printf '%-52s %8s %8s %8s\n' "git release package --images, first run" "$t_first" "$(rss "$WORK/rss1")" "$(ratio "$t_base" "$t_first")"
printf '%-52s %8s %8s %8s\n' "package --images from the cache (median of 3)" "$t_again" "$(rss "$WORK/rss2")" "$(ratio "$t_base" "$t_again")"
printf '%-52s %8s %8s %8s\n' "  same, with release.fsync=true (median of 3)" "$t_sync" - "$(ratio "$t_base" "$t_sync")"
printf '%-52s %8s %8s %8s\n' "  same, package written to /dev/shm (median of 3)" "$shm" - "$(ratio "$t_base" "$shm")"
