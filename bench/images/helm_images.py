#!/usr/bin/env python3
"""Reference image lists: render every chart of a corpus folder with real Helm and list its images.

usage: helm_images.py CORPUS_DIR [-o OUT.json] [--only NAME ...]

Needs the `helm-python-sdk` package (Helm v4 Go SDK behind a C ABI; `import helm_python`), e.g.
    python3 -m venv /tmp/helmsdk-venv && /tmp/helmsdk-venv/bin/pip install helm-python-sdk
and is run with that interpreter. No cluster and no network are used.

Each folder CORPUS_DIR/<name>/ holding a Chart.yaml is one chart, rendered like
`helm template bench <chart> --namespace bench --include-crds` with the chart's default values:
  1. `Config.install(..., dry_run="client")` with in-memory storage: the same checks
     `helm template` makes (dependencies present in charts/, kubeVersion against Helm's default
     Kubernetes version, values.schema.json, `required`/`fail`, YAML of every rendered
     document). If it raises, the chart is recorded with that error and no images;
  2. `Chart.render(name="bench", namespace="bench")` for the documents themselves, since the
     install summary leaves hooks out (and `helm template` prints them, tests included); plus the
     files of crds/ (chart and subcharts).
Rendered files are split like Helm (NOTES.txt and `_*` partials skipped) and each document is
parsed with Helm's own YAML reader. Images, as Zarf's find-images takes them:
  - `image` of containers, initContainers and ephemeralContainers in the pod spec of Pod,
    Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, and
    CronJob (spec.jobTemplate.spec.template.spec);
  - any string value under a key named exactly `image`, anywhere in any object.
Objects whose `helm.sh/hook` annotation contains `test` go to `test_images` instead.

Output (default CORPUS_DIR/helm-images.json):
  {chart: {"images": [sorted unique], "test_images": [sorted unique], "error": null | "msg"}}
"""
import argparse
import json
import os
import re
import sys
import time

import helm_python as helm

RELEASE = "bench"
NAMESPACE = "bench"

# releaseutil.SplitManifests
SEP = re.compile(r"(?:^|\s*\n)---\s*")

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pod_spec(obj):
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if kind == "Pod":
        return spec
    if kind in POD_TEMPLATE_KINDS:
        return dig(spec, "template", "spec")
    if kind == "CronJob":
        return dig(spec, "jobTemplate", "spec", "template", "spec")
    return None


def dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d if isinstance(d, dict) else None


def pod_images(obj):
    spec = pod_spec(obj)
    out = []
    if spec:
        for key in CONTAINER_LISTS:
            for c in spec.get(key) or []:
                if isinstance(c, dict) and isinstance(c.get("image"), str):
                    out.append(c["image"])
    return out


def image_keys(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "image" and isinstance(v, str):
                out.append(v)
            else:
                image_keys(v, out)
    elif isinstance(node, list):
        for v in node:
            image_keys(v, out)
    return out


def is_test(obj):
    md = obj.get("metadata")
    ann = md.get("annotations") if isinstance(md, dict) else None
    hook = ann.get("helm.sh/hook") if isinstance(ann, dict) else None
    return isinstance(hook, str) and "test" in hook


def documents(files):
    """Helm's SortManifests input: skip NOTES.txt and partials, split on ---."""
    for path in sorted(files):
        base = os.path.basename(path)
        if base == "NOTES.txt" or base.startswith("_"):
            continue
        for doc in SEP.split(files[path]):
            if doc.strip():
                yield path, doc


def parse(doc):
    obj = helm.values_from_yaml(doc)
    return obj if isinstance(obj, dict) else {}


def images_of(files):
    images, tests = set(), set()
    for _path, doc in files:
        obj = parse(doc)
        if not obj:
            continue
        found = pod_images(obj) + image_keys(obj, [])
        found = {i.strip() for i in found if i.strip()}
        (tests if is_test(obj) else images).update(found)
    return images, tests


def chart_dirs(corpus):
    for name in sorted(os.listdir(corpus)):
        if os.path.isfile(os.path.join(corpus, name, "Chart.yaml")):
            yield name, os.path.join(corpus, name)


def one(path):
    chart = helm.Chart.load(path)
    try:
        cfg = helm.Config(namespace=NAMESPACE, storage_driver="memory")
        try:
            rel = cfg.install(chart, RELEASE, namespace=NAMESPACE, dry_run="client")
        finally:
            cfg.close()
        rendered = chart.render(name=RELEASE, namespace=NAMESPACE, is_install=True, revision=1)
        files = list(documents(rendered))
        for crd in chart.crds:
            files.append(("crds/" + crd.get("filename", ""), crd.get("data", "")))
        images, tests = images_of(files)
        # Cross-check: what the install kept (hooks left out) must be a part of the render.
        inst, _ = images_of((("manifest", d) for d in SEP.split(rel.get("manifest") or "") if d.strip()))
        stray = inst - images - tests
        if stray:
            print(f"  warning: install manifest has images the render lacks: {sorted(stray)}", file=sys.stderr)
        return sorted(images), sorted(tests)
    finally:
        chart.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("-o", "--out")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    out = args.out or os.path.join(args.corpus, "helm-images.json")
    print(f"helm-python-sdk {helm.__version__}, Helm {helm.helm_sdk_version()}", file=sys.stderr)
    result = {}
    for name, path in chart_dirs(args.corpus):
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        try:
            images, tests = one(path)
            result[name] = {"images": images, "test_images": tests, "error": None}
            status = f"{len(images)} images, {len(tests)} test images"
        except helm.HelmError as e:
            msg = " ".join(str(e).split())
            result[name] = {"images": [], "test_images": [], "error": f"{type(e).__name__}: {msg}"}
            status = "ERROR " + result[name]["error"][:200]
        print(f"{name}: {status} ({time.monotonic() - t0:.1f}s)", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    ok = [r for r in result.values() if r["error"] is None]
    n_img = sum(len(r["images"]) for r in ok)
    n_test = sum(len(r["test_images"]) for r in ok)
    print(f"charts={len(result)} rendered={len(ok)} images={n_img} test_images={n_test} -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
