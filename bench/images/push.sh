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
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (apt-get install docker-registry skopeo)" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-images-push.XXXXXX")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/storage}}
http: {addr: $REG}
YML
docker-registry serve "$WORK/registry.yml" >/dev/null 2>&1 &
REG_PID=$!
trap 'kill $REG_PID "${PIDS[@]}" 2>/dev/null; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
# site NAME: start an empty registry for one contender; sets SITE (host:port) and SITE_PID.
site() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  SITE=127.0.0.1:$port
  mkdir -p "$WORK/$1"
  cat >"$WORK/$1/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/$1/storage}}
http: {addr: $SITE}
YML
  docker-registry serve "$WORK/$1/registry.yml" >/dev/null 2>&1 &
  SITE_PID=$!
  PIDS+=("$SITE_PID")
  for _ in $(seq 100); do curl -fs "http://$SITE/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
}
PIDS=()

echo "building and pushing $N images of ~${MIB} MiB..." >&2
python3 - "$WORK/layouts" "$N" "$MIB" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
out, n, mib = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rnd = random.Random(42)
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def layer(name, size):
    data = rnd.randbytes(int(size))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
        t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, gzip.compress(raw, compresslevel=1, mtime=0)
bases = [layer(f"base{i}.bin", mib * 0.6 * 1024 * 1024) for i in range(5)]
for i in range(n):
    d = os.path.join(out, f"img{i:03d}"); b = os.path.join(d, "blobs/sha256"); os.makedirs(b)
    base = bases[i % 5]; own = layer(f"own{i}.bin", mib * 0.4 * 1024 * 1024)
    layers = [base, own]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [sha(r) for r, _ in layers]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(z), "size": len(z)} for _, z in layers]}).encode()
    for blob in [config, manifest] + [z for _, z in layers]:
        open(os.path.join(b, sha(blob)[7:]), "wb").write(blob)
    open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
PY
for ((i = 0; i < N; i++)); do
  n=$(printf img%03d "$i")
  skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/layouts/$n:latest" "docker://$REG/rel/bench/$n:1.0.0"
done

repo=$WORK/platform
mkdir -p "$repo/addons/bench/templates" "$repo/images"
git -C "$repo" init -q
printf '[release]\n\tproduct = bench\n\tregistry = %s/rel\n' "$REG" >"$repo/.gitrelease"
printf 'apiVersion: v2\nname: bench\nversion: 1.0.0\n' >"$repo/addons/bench/Chart.yaml"
{
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench\nspec:\n  containers:\n'
  for ((i = 0; i < N; i++)); do printf '  - name: c%d\n    image: "[[ registry_release ]]/bench/img%03d:1.0.0"\n' "$i" "$i"; done
} >"$repo/addons/bench/templates/pod.yaml"
: >"$repo/images/images_platform.list"
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@b commit -qm bench
git -C "$repo" -c user.name=b -c user.email=b@b tag -a -m v1.0.0 v1.0.0


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
