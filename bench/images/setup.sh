# Sourced by bench/images/package.sh, bench/images/push.sh and bench/chain.sh (after
# bench/lib.sh):
# build_images N MIB: N images of about MIB each (a 6/10 share of each is one of 5 base layers
# shared between images, the rest a unique layer of random bytes) pushed to
# $REG/rel/bench/imgNNN:1.0.0.
# build_platform N MIB: build_images, and the platform repo $WORK/platform whose chart deploys
# them all, tagged v1.0.0 (release.registry $REG/rel). Sets `repo`.
build_images() {
  local N=$1 MIB=$2 i n
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
}

build_platform() {
  local N=$1 MIB=$2 i
  build_images "$N" "$MIB"

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
}
