#!/usr/bin/env bash
# The whole release chain, timed: a generated platform of 200 components (one chart each, in its
# own git repository, tagged v1.0.0) deploying 300 small images held in a local registry, from
# component tags to a pushed site:
#
#   collect --commit -> check -> tag v1.0.0 -> package --images -> push (into a second registry)
#
# usage: bench/chain.sh [--no-build]     env: COMPONENTS (200), IMAGES (300), MIB (0.05)
#
# Prints each step's seconds and the total. Everything is generated here (this script, and
# bench/images/setup.sh's image builder); nothing outside the repository is read. Needs
# docker-registry and skopeo, as the tests do (.ci/run installs them).
set -euo pipefail
BUILD=1
[ "${1:-}" = --no-build ] && BUILD=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
source "$ROOT/bench/images/setup.sh"
COMPONENTS=${COMPONENTS:-200} IMAGES=${IMAGES:-300} MIB=${MIB:-0.05}

WORK=$(mktemp -d)
trap 'stop_registries; rm -rf "$WORK"' EXIT
start_registry "$WORK/reg"
REG=$REGISTRY
start_registry "$WORK/site"
SITE=$REGISTRY
build_images "$IMAGES" "$MIB"

echo "generating $COMPONENTS component repositories..." >&2
G=(-c user.name=bench -c user.email=bench@example.com)
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
for ((i = 0; i < COMPONENTS; i++)); do
  c=$WORK/components/c$i
  mkdir -p "$c/charts/c$i/templates"
  printf 'apiVersion: v2\nname: c%d\nversion: 1.0.0\nappVersion: "1.0.0"\n' "$i" >"$c/charts/c$i/Chart.yaml"
  {
    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: c%d\nspec:\n  template:\n    spec:\n      containers:\n' "$i"
    # Images spread over the components: component i runs image i, and image i+COMPONENTS when
    # there is one (300 images over 200 components).
    for ((k = i; k < IMAGES; k += COMPONENTS)); do
      printf '      - name: img%d\n        image: "[[ registry_release ]]/bench/img%03d:1.0.0"\n' "$k" "$k"
    done
  } >"$c/charts/c$i/templates/deploy.yaml"
  git -C "$c" init -q -b main
  git -C "$c" add -A
  git -C "$c" "${G[@]}" commit -qm "c$i 1.0.0"
  git -C "$c" "${G[@]}" tag v1.0.0
done

p=$WORK/platform
mkdir -p "$p/repos" "$p/images" "$p/addons"
git -C "$p" init -q -b main
printf '[release]\n\tproduct = chain\n\tregistry = %s/rel\n\tcomponentUrl = %s/components/{name}\n' "$REG" "$WORK" >"$p/.gitrelease"
{
  printf 'spec:\n'
  for ((i = 0; i < COMPONENTS; i++)); do
    printf -- '- repositoryFullName: bench/c%d\n  currentTag: v0.0.0\n  chartPaths:\n  - charts/c%d\n  targetChartPath: addons\n' "$i" "$i"
  done
} >"$p/repos/platform.yaml"
printf 'spec:\n  modules:\n  - name: platform\n    addons: []\n' >"$p/version.yml"
: >"$p/images/images_platform.list"
git -C "$p" add -A
git -C "$p" "${G[@]}" commit -qm layout

cd "$p"
total=0
step() {
  local name=$1
  shift
  local t0 t1
  t0=$(now)
  "$@" >"$WORK/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
  t1=$(now)
  printf '%-22s %8s s\n' "$name" "$(secs "$t0" "$t1")"
  total=$(awk -v a="$total" -v b="$(secs "$t0" "$t1")" 'BEGIN { printf "%.3f", a + b }')
}
echo "chain: $COMPONENTS components, $IMAGES images of ~${MIB} MiB, $(nproc) CPUs"
step collect git release collect --commit
step check git release check
step tag git release tag --offline 1.0.0
step "package --images" git release package v1.0.0 --images -o "$WORK/out"
pkg=$(ls "$WORK"/out/*.tar.gz | head -1)
step push git release push --registry "$SITE/rel" "$pkg"
printf '%-22s %8s s\n' total "$total"
# The site holds every image: ask it for the last one.
skopeo inspect --tls-verify=false "docker://$SITE/rel/bench/img$(printf %03d $((IMAGES - 1))):1.0.0" >/dev/null
