#!/usr/bin/env bash
# Benchmark `git release upgrade FROM TO` against `hotfix` over the same range and a full
# `package --images` of TO, in the same run, and its size against the alternatives.
#
# usage: bench/upgrade.sh [--no-build]
#
# Needs docker-registry and python3 (.ci/run installs them). The script generates a synthetic
# platform repo with bench/gen_platform_repo.py (1000 charts, 40 releases, 60 chart changes a
# release, images from the internal registry), starts a registry on 127.0.0.1 with a free port
# and pushes every image the repo names at FROM and at TO. Each image has three layers, as real
# application images do: one of five base layers (distro and runtime, 1 MiB each), the
# component's dependency layer (256 KiB, the same in every version of that component) and the
# version's own layer (48 KiB); random bytes, so gzip does not shrink them.
#
# The two releases lock their images (`git release images --lock`, committed), as a release
# engineer does before tagging: FROM = v2.3.5 (v2.3.4 and its lock, on a branch of its own) and
# TO = v2.7.5 (v2.7.4 and its lock, on master): 20 releases apart, FROM not an ancestor of TO.
# `hotfix v2.3.4..v2.7.5` covers the same chart changes on one line of history. Rows, each the
# best of ROUNDS (3):
#   - hotfix FROM..TO and upgrade FROM TO, charts only;
#   - hotfix --images, upgrade --images (blobs cached: the registry still answers every
#     manifest), package --images TO;
# and the sizes: the upgrade's images.tar, a whole-image differential of the same images (what
# Zarf's --differential ships), the full package's images. Targets (issue: upgrade packages):
# upgrade time <= 1.2x hotfix's; images.tar >= 5x smaller than the whole-image differential.
set -euo pipefail

BUILD=1
[[ ${1:-} == --no-build ]] && { BUILD=0; shift; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
for t in docker-registry python3 curl; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (.ci/run installs it)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time (GNU time) is needed for peak RSS" >&2; exit 1; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
FROM=v2.3.5
TO=v2.7.5
HOTFIX_BASE=v2.3.4
SECS_DIGITS=3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-upgrade.XXXXXX")
trap 'stop_registries; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
start_registry "$WORK/registry"
REG=$REGISTRY

REPO=$WORK/platform
echo "generating the platform repo (1000 charts, 40 releases)..." >&2
python3 "$ROOT/bench/gen_platform_repo.py" "$REPO" --charts 1000 --releases 40 \
  --changes-per-release 60 --internal-images >/dev/null
git -C "$REPO" config release.registry "$REG/rel"
git -C "$REPO" config release.product bench

# Every image of both releases, as git-release lists them.
for rev in v2.3.4 v2.7.4; do
  (cd "$REPO" && git release images "$rev" --json) |
    python3 -c 'import json,sys; print("\n".join(i["image"] for i in json.load(sys.stdin)["images"]))'
done | sort -u >"$WORK/images.txt"
echo "pushing $(wc -l <"$WORK/images.txt") images..." >&2
python3 - "$REG" "$WORK/images.txt" <<'PY'
import concurrent.futures, gzip, hashlib, http.client, io, json, random, sys, tarfile
reg, listing = sys.argv[1], sys.argv[2]
host, port = reg.split(":")
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def layer(name, size, seed):
    data = random.Random(seed).randbytes(size)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
        t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, gzip.compress(raw, compresslevel=1, mtime=0)
bases = [layer(f"base{i}.bin", 1 << 20, f"base{i}") for i in range(5)]
first_repo = {}
def req(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); r.read()
    return r
def put_blob(c, repo, blob):
    d = sha(blob)
    if req(c, "HEAD", f"/v2/{repo}/blobs/{d}").status == 200:
        return
    src = first_repo.get(d)
    if src:
        r = req(c, "POST", f"/v2/{repo}/blobs/uploads/?mount={d}&from={src}")
        if r.status == 201:
            return
        loc = r.getheader("Location")
        req(c, "DELETE", loc) if loc else None
    r = req(c, "POST", f"/v2/{repo}/blobs/uploads/")
    loc = r.getheader("Location")
    sep = "&" if "?" in loc else "?"
    r = req(c, "PUT", f"{loc}{sep}digest={d}", blob, {"Content-Type": "application/octet-stream"})
    assert r.status == 201, (repo, r.status)
    first_repo.setdefault(d, repo)
def push(ref):
    # [[ registry_release ]]/release/compNNNN:v1.K.0
    path, tag = ref.split("]]/", 1)[1].rsplit(":", 1)
    repo = f"rel/{path}"
    comp = path.rsplit("/", 1)[1]
    n = int(comp[4:])
    layers = [bases[n % 5], layer("deps.bin", 256 << 10, f"deps-{comp}"),
              layer("app.bin", 48 << 10, f"app-{comp}-{tag}")]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [sha(r) for r, _ in layers]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(z), "size": len(z)}
                   for _, z in layers]}).encode()
    c = http.client.HTTPConnection(host, int(port))
    for blob in [z for _, z in layers] + [config]:
        put_blob(c, repo, blob)
    r = req(c, "PUT", f"/v2/{repo}/manifests/{tag}", manifest,
            {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status == 201, (ref, r.status)
    c.close()
refs = [l.strip() for l in open(listing) if l.strip()]
# The base layers once, into the first repository, so every other one mounts them.
push(refs[0])
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(push, refs[1:]))
PY

# Lock the images of both releases, and tag the locked commits.
lock_release() { # lock_release BASE_TAG NEW_TAG BRANCH
  git -C "$REPO" checkout -q -B "$3" "$1"
  (cd "$REPO" && git release images --lock >/dev/null)
  git -C "$REPO" add images
  git -C "$REPO" commit -q -m "lock the images of $1"
  git -C "$REPO" tag -a -m "$2" "$2"
}
lock_release v2.3.4 "$FROM" line-2.3
lock_release v2.7.4 "$TO" master

ROUNDS=${ROUNDS:-3}
declare -A T M
keep() { # keep STEP SECS RSS: the fastest run of STEP
  if [[ -z ${T[$1]:-} ]] || awk -v a="$2" -v b="${T[$1]}" 'BEGIN { exit !(a < b) }'; then
    T[$1]=$2 M[$1]=$3
  fi
}
timed() { # timed STEP CMD...: run in the repo, output into $WORK/out/STEP
  local step=$1 t0
  shift
  rm -rf "$WORK/out/$step"
  t0=$(now)
  (cd "$REPO" && /usr/bin/time -f %M -o "$WORK/rss" "$@" -o "$WORK/out/$step" >"$WORK/log" 2>&1) ||
    { echo "bench: $step failed: $*" >&2; cat "$WORK/log" >&2; exit 1; }
  keep "$step" "$(secs "$t0" "$(now)")" "$(awk '{ v = $1 } END { printf "%.0f", v / 1024 }' "$WORK/rss")"
}
# Fill the blob cache once (the image rows compare warm runs).
for rev in "$FROM" "$TO"; do
  (cd "$REPO" && git release package "$rev" --images -o "$WORK/out/fill-$rev" >/dev/null 2>&1)
done
for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round/$ROUNDS..." >&2
  timed hotfix git release hotfix "$HOTFIX_BASE..$TO"
  timed upgrade git release upgrade "$FROM" "$TO"
  timed hotfix.images git release hotfix "$HOTFIX_BASE..$TO" --images
  timed upgrade.images git release upgrade "$FROM" "$TO" --images --json
  timed package.images git release package "$TO" --images
done
(cd "$REPO" && git release upgrade "$FROM" "$TO" --images --json -o "$WORK/out/sizes" 2>/dev/null) >"$WORK/upgrade.json"
read -r CHARTS TAR WHOLE FULL < <(python3 -c '
import json,sys
m=json.load(open(sys.argv[1]))["manifest"]; s=m["images"]["sizes"]
print(sum(1 for c in m["charts"] if c.get("archive")), s["images_tar"], s["whole_image_differential"], s["full_package"])' "$WORK/upgrade.json")
size() { du -b "$1"/*.tar.gz | awk '{ printf "%.1f", $1 / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
mib() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1048576 }'; }

echo
echo "1000 charts, $FROM -> $TO (20 releases, $CHARTS charts changed), best of $ROUNDS, $(nproc) CPUs"
printf '%-44s %8s %8s %10s %9s\n' step seconds "RSS MiB" "pkg MiB" "vs hotfix"
row() { printf '%-44s %8s %8s %10s %9s\n' "$@"; }
row "hotfix $HOTFIX_BASE..$TO" "${T[hotfix]}" "${M[hotfix]}" "$(size "$WORK/out/hotfix")" 1.00x
row "upgrade $FROM $TO" "${T[upgrade]}" "${M[upgrade]}" "$(size "$WORK/out/upgrade")" "$(ratio "${T[upgrade]}" "${T[hotfix]}")"
row "hotfix --images (blobs cached)" "${T[hotfix.images]}" "${M[hotfix.images]}" "$(size "$WORK/out/hotfix.images")" 1.00x
row "upgrade --images (blobs cached)" "${T[upgrade.images]}" "${M[upgrade.images]}" "$(size "$WORK/out/upgrade.images")" "$(ratio "${T[upgrade.images]}" "${T[hotfix.images]}")"
row "package --images $TO (blobs cached)" "${T[package.images]}" "${M[package.images]}" "$(size "$WORK/out/package.images")" "$(ratio "${T[package.images]}" "${T[hotfix.images]}")"
echo
echo "images.tar of the upgrade: $(mib "$TAR") MiB; a whole-image differential: $(mib "$WHOLE") MiB ($(ratio "$WHOLE" "$TAR") the upgrade's); the full package's images: $(mib "$FULL") MiB ($(ratio "$FULL" "$TAR"))"
