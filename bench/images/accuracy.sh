#!/usr/bin/env bash
# Image-list accuracy and speed against real Helm, on a corpus of real public charts.
#
# usage: bench/images/accuracy.sh CORPUS_DIR [--no-build]
#
# CORPUS_DIR holds one chart per folder (CORPUS_DIR/<name>/Chart.yaml), as extract_corpus.py
# writes it from corpus.tsv. The script
#   1. commits every chart as addons/<name>/ of a scratch platform repo (version.yml gives each
#      addon the namespace `bench`, as the reference uses);
#   2. runs `git release images --json` there (timed) and turns its sources into
#      CORPUS_DIR/ours.json, {chart: {"images", "test_images"}} (images from chart sources:
#      rendered, static fallback, helm.sh/images annotation);
#   3. runs the Helm reference (helm_images.py with the helm-python-sdk venv in $HELM_PY,
#      default /tmp/helmsdk-venv/bin/python; timed) unless CORPUS_DIR/helm-images.json exists
#      and REFERENCE=keep;
#   4. prints compare.py's per-chart differences and the recall/precision summary, and both
#      times as a ratio measured in the same run.
set -euo pipefail

CORPUS=${1:?usage: accuracy.sh CORPUS_DIR [--no-build]}
CORPUS=$(cd "$CORPUS" && pwd)
BUILD=1
[[ ${2:-} == --no-build ]] && BUILD=0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HELM_PY=${HELM_PY:-/tmp/helmsdk-venv/bin/python}
source "$ROOT/bench/lib.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-images.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "bench: $1 failed:" >&2; cat "$2" >&2; exit 1; }

repo=$WORK/platform
mkdir -p "$repo/addons" "$repo/images"
git -C "$repo" init -q
{
  echo "spec:"
  echo "  modules:"
  echo "  - name: bench"
  echo "    addons:"
  for d in "$CORPUS"/*/; do
    [[ -f $d/Chart.yaml ]] || continue
    n=$(basename "$d")
    cp -a "$d" "$repo/addons/$n"
    echo "    - name: $n"
    echo "      namespace: bench"
  done
} >"$repo/version.yml"
: >"$repo/images/images_platform.list"
# -f: chart repos often .gitignore their vendored charts/ (the corpus has them vendored).
git -C "$repo" add -A -f
git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm corpus
charts=$(find "$repo/addons" -mindepth 2 -maxdepth 2 -name Chart.yaml | wc -l)

# A chart whose Chart.yaml or values.yaml is not YAML stops `git release images` (exit 2, as it
# stops collect); Helm cannot load it either. Such charts are dropped and named. The probe runs
# without --json: with it, the error is JSON on stdout ({"error": …}), not `error: …` on stderr.
unreadable=()
for _ in 1 2 3 4 5; do
  if (cd "$repo" && git release images >/dev/null 2>"$WORK/images.err"); then
    break
  fi
  bad=$(sed -n 's|^error: addons/\([^/]*\)/.*|\1|p' "$WORK/images.err" | head -1)
  [[ -n $bad ]] || fail "git release images" "$WORK/images.err"
  unreadable+=("$bad")
  git -C "$repo" rm -rq "addons/$bad"
  git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "drop $bad"
done
t0=$(now)
(cd "$repo" && git release images --json >"$WORK/images.json" 2>"$WORK/images.err") || fail "git release images" "$WORK/images.err"
t_ours=$(secs "$t0" "$(now)")
python3 - "$WORK/images.json" "$CORPUS/ours.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
out = {}
for key, field in (("images", "images"), ("test_images", "test_images")):
    for entry in report[key]:
        for s in entry["sources"]:
            if s["from"] not in ("rendered", "static", "annotation"):
                continue
            chart = s["chart"].split("/", 1)[1]
            c = out.setdefault(chart, {"images": set(), "test_images": set()})
            c[field].add(entry["image"])
fallbacks = {f["chart"].split("/", 1)[1]: f["error"] for f in report["fallbacks"]}
json.dump({k: {"images": sorted(v["images"]), "test_images": sorted(v["test_images"]),
               "error": fallbacks.get(k)} for k, v in out.items()},
          open(sys.argv[2], "w"), indent=1, sort_keys=True)
PY
t_helm=kept
if [[ ${REFERENCE:-} != keep || ! -f $CORPUS/helm-images.json ]]; then
  t0=$(now)
  "$HELM_PY" "$HERE/helm_images.py" "$CORPUS" >"$WORK/helm.log" 2>&1
  t_helm=$(secs "$t0" "$(now)")
fi
python3 "$HERE/compare.py" "$CORPUS/helm-images.json" "$CORPUS/ours.json"
echo
echo "fallbacks (charts our renderer could not render; static reading used):"
python3 -c 'import json,sys; [print("  "+f["chart"]+": "+f["error"][:160]) for f in json.load(open(sys.argv[1]))["fallbacks"]]' "$WORK/images.json"
echo
echo "unreadable (not YAML; dropped): ${unreadable[*]:-none}"
[[ $t_helm == kept ]] && helm_time="not run (REFERENCE=keep)" || helm_time="${t_helm}s"
echo "charts=$charts  git release images: ${t_ours}s  helm reference (helm-python-sdk): $helm_time"
if [[ $t_helm != kept ]]; then
  awk -v a="$t_ours" -v b="$t_helm" 'BEGIN { printf "ours/helm time ratio: %.2f\n", a / b }'
fi
