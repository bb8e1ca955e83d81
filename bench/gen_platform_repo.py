#!/usr/bin/env python3
"""Generate the synthetic platform-release repository the benchmarks measure on.

usage: bench/gen_platform_repo.py DEST [--charts N] [--releases N] [--changes-per-release N]
                                       [--files-per-chart N] [--internal-images]

DEST becomes a git repository on branch `master` with N charts `addons/compNNNN` (Chart.yaml,
values.yaml and templates/res0.yaml... up to --files-per-chart files; res0 is a Deployment whose
image comes from the values), one commit per release and an annotated release tag on each:
releases run on lines 2.0, 2.1, ... with five patch releases a line (v2.0.0 ... v2.0.4, v2.1.0,
...). Every release changes --changes-per-release charts chosen by a fixed pseudo-random sequence:
a new image tag in values.yaml and the chart version's patch + 1, as a release engineer would.

The repository is written with one `git fast-import` stream, with fixed identities and dates:
two runs give the same commit ids.
"""

import argparse
import os
import subprocess
import sys

PATCHES_PER_LINE = 5
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def chart_files(name, version, tag, files, internal=False):
    """The files of one chart, path relative to the chart folder -> text."""
    repository = f'"[[ registry_release ]]/release/{name}"' if internal else f"release/{name}"
    out = {
        "Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{tag}\"\n",
        "values.yaml": (
            f"image:\n  repository: {repository}\n  tag: \"{tag}\"\n"
            "replicas: 1\nport: 8080\n"
        ),
        "templates/res0.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            "  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n"
            "  template:\n    spec:\n      containers:\n      - name: main\n"
            "        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
            "        ports:\n        - containerPort: {{ .Values.port }}\n"
        ),
    }
    for i in range(1, max(files - 2, 1)):
        out[f"templates/res{i}.yaml"] = (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: {{{{ .Release.Name }}}}-{i}\ndata:\n  key: value-{i}\n"
        )
    return out


def data(text):
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dest")
    p.add_argument("--charts", type=int, default=1000)
    p.add_argument("--releases", type=int, default=200)
    p.add_argument("--changes-per-release", type=int, default=60)
    p.add_argument("--files-per-chart", type=int, default=10)
    p.add_argument(
        "--internal-images",
        action="store_true",
        help="images from the internal registry: [[ registry_release ]]/release/<chart>",
    )
    a = p.parse_args()
    if a.charts < 1 or a.releases < 1 or not 0 <= a.changes_per_release <= a.charts:
        sys.exit("gen_platform_repo: need --charts >= 1, --releases >= 1, 0 <= changes <= charts")
    if os.path.exists(a.dest) and os.listdir(a.dest):
        sys.exit(f"gen_platform_repo: {a.dest} exists and is not empty")
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", TZ="UTC")
    subprocess.run(["git", "init", "-q", "-b", "master", a.dest], check=True, env=env)

    names = [f"comp{i:04d}" for i in range(a.charts)]
    patch = {n: 0 for n in names}  # chart version 1.0.<patch>
    image = {n: 0 for n in names}  # image tag v1.<image>.0
    seed = 12345

    def pick():
        nonlocal seed
        chosen = set()
        while len(chosen) < a.changes_per_release:
            seed = (seed * 1103515245 + 12345) % 2**31
            chosen.add(names[seed % a.charts])
        return sorted(chosen)

    fi = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=a.dest, stdin=subprocess.PIPE, env=env
    )
    w = fi.stdin.write
    who = "Bench <bench@example.com>"
    for r in range(a.releases):
        line, p_ = divmod(r, PATCHES_PER_LINE)
        tag = f"v2.{line}.{p_}"
        changed = names if r == 0 else pick()
        when = EPOCH + 3600 * r
        w(b"commit refs/heads/master\n")
        w(f"mark :{r + 1}\ncommitter {who} {when} +0000\n".encode())
        w(data(f"release {tag}: {len(changed)} chart(s)\n"))
        if r > 0:
            w(f"from :{r}\n".encode())
        for n in changed:
            if r > 0:
                patch[n] += 1
                image[n] += 1
            files = chart_files(
                n, f"1.0.{patch[n]}", f"v1.{image[n]}.0", a.files_per_chart, a.internal_images
            )
            for rel, text in files.items():
                if r == 0 or rel in ("Chart.yaml", "values.yaml"):
                    w(f"M 100644 inline addons/{n}/{rel}\n".encode())
                    w(data(text))
        w(f"tag {tag}\nfrom :{r + 1}\ntagger {who} {when} +0000\n".encode())
        w(data(f"release {tag}\n"))
    w(b"done\n")
    fi.stdin.close()
    if fi.wait() != 0:
        sys.exit("gen_platform_repo: git fast-import failed")
    subprocess.run(["git", "-C", a.dest, "checkout", "-q", "-f", "master"], check=True, env=env)


if __name__ == "__main__":
    main()
