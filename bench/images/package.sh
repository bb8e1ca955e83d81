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
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (apt-get install docker-registry skopeo)" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-images-pkg.XXXXXX")
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
trap 'kill $REG_PID 2>/dev/null; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

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
