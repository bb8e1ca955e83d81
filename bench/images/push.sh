#!/usr/bin/env bash
# The site side: `git release push PACKAGE --registry SITE` against a loop of
# `skopeo copy oci-archive:images.tar:REF docker://SITE/…`, measured in the same run, each into
# an empty registry, then a second time into the same one (everything there already).
#
# usage: bench/images/push.sh [--no-build] [N=50] [MiB=2]
#
# Needs docker-registry and skopeo (.ci/run installs them). The build side is
# bench/images/package.sh's: N images of about MiB each (5 shared base layers) in a local
# registry, packaged once with `git release package --images`. Both contenders then copy every
# image of the package into a fresh registry; skopeo reads images/images.tar as the package holds
# it (extracted once, outside the timing). Targets (issue: the site side): push >= 2x faster than
# the loop, a second push >= 10x.
set -euo pipefail

BUILD=1
[[ ${1:-} == --no-build ]] && { BUILD=0; shift; }
N=${1:-50}
MIB=${2:-2}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/bench/lib.sh"
source "$ROOT/bench/images/setup.sh"
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (apt-get install docker-registry skopeo)" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-images-push.XXXXXX")
trap 'stop_registries; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
start_registry "$WORK/registry"
REG=$REGISTRY
# site NAME: start an empty registry for one contender; sets SITE (host:port).
site() {
  start_registry "$WORK/$1"
  SITE=$REGISTRY
}

build_platform "$N" "$MIB"


(cd "$repo" && git release package --images -o "$WORK/pkg" >/dev/null)
PKG=$WORK/pkg/bench-v1.0.0.tar.gz
mkdir -p "$WORK/x"
tar -xzf "$PKG" -C "$WORK/x"
TAR=$WORK/x/bench-v1.0.0/images/images.tar
mapfile -t REFS < <(python3 -c '
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    idx = json.load(t.extractfile("index.json"))
for m in idx["manifests"]:
    print(m["annotations"]["org.opencontainers.image.ref.name"])' "$TAR")

SECS_DIGITS=2
skopeo_loop() { # into $SITE
  local r
  for r in "${REFS[@]}"; do
    skopeo copy --quiet --dest-tls-verify=false "oci-archive:$TAR:$r" "docker://$SITE/${r#*/}"
  done
}
site skopeo
t0=$(now); skopeo_loop; t_skopeo=$(secs "$t0" "$(now)")
t0=$(now); skopeo_loop; t_skopeo2=$(secs "$t0" "$(now)")
site push
t0=$(now)
/usr/bin/time -f %M -o "$WORK/rss1" git release push "$PKG" --registry "$SITE" >/dev/null
t_push=$(secs "$t0" "$(now)")
t0=$(now)
/usr/bin/time -f %M -o "$WORK/rss2" git release push "$PKG" --registry "$SITE" >/dev/null
t_push2=$(secs "$t0" "$(now)")
rss() { awk '{ v = $NF } END { printf "%.0f", v / 1024 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
echo "N=$N images of ~${MIB} MiB (5 shared base layers), package $(du -m "$PKG" | cut -f1) MiB, $(nproc) CPUs"
printf '%-52s %8s %8s %8s\n' step seconds "RSS MiB" "vs base"
printf '%-52s %8s %8s %8s\n' "baseline: skopeo copy oci-archive: -> docker:// (loop)" "$t_skopeo" - 1.0x
printf '%-52s %8s %8s %8s\n' "git release push (verifies the package first)" "$t_push" "$(rss "$WORK/rss1")" "$(ratio "$t_skopeo" "$t_push")"
printf '%-52s %8s %8s %8s\n' "baseline, second time (everything there)" "$t_skopeo2" - 1.0x
printf '%-52s %8s %8s %8s\n' "git release push, second time" "$t_push2" "$(rss "$WORK/rss2")" "$(ratio "$t_skopeo2" "$t_push2")"
