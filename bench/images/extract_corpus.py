#!/usr/bin/env python3
"""Extract the charts listed in corpus.tsv from local bare git copies of their repositories.

usage: extract_corpus.py MIRRORS OUT [--corpus corpus.tsv]

MIRRORS holds one git directory per repository, found as MIRRORS/<owner>+<name>/repo,
MIRRORS/<owner>+<name>, or MIRRORS/<owner>/<name>[.git]. Each row's <path> at <commit> is
written to OUT/<name>/. A row whose name contains a slash (e.g. `argo-cd/charts/redis-ha`) is a
dependency: it is extracted to OUT/<that name>, after its parent, the way `helm dependency build`
would vendor it. Existing folders are replaced. stdlib + git only.
"""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile


def git_dir(mirrors, repo):
    owner, name = repo.split("/", 1)
    for cand in (
        os.path.join(mirrors, f"{owner}+{name}", "repo"),
        os.path.join(mirrors, f"{owner}+{name}"),
        os.path.join(mirrors, owner, name),
        os.path.join(mirrors, owner, name + ".git"),
    ):
        if os.path.isfile(os.path.join(cand, "HEAD")):
            return cand
    return None


def extract(gd, commit, path, dest):
    path = path.strip("/") or "."
    cmd = ["git", "--git-dir", gd, "archive", "--format=tar", commit]
    if path != ".":
        cmd += ["--", path]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip())
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            if hasattr(tarfile, "tar_filter"):
                tar.extractall(tmp, filter="tar")
            else:
                tar.extractall(tmp)
        src = tmp if path == "." else os.path.join(tmp, path)
        if os.path.lexists(dest):
            shutil.rmtree(dest)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.move(src, dest)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("mirrors")
    ap.add_argument("out")
    ap.add_argument("--corpus", default=os.path.join(here, "corpus.tsv"))
    args = ap.parse_args()
    failed = 0
    with open(args.corpus, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            name, repo, commit, path = row["name"], row["repo"], row["commit"], row["path"]
            gd = git_dir(args.mirrors, repo)
            if gd is None:
                print(f"{name}: no git directory for {repo} under {args.mirrors}", file=sys.stderr)
                failed += 1
                continue
            try:
                extract(gd, commit, path, os.path.join(args.out, name))
            except Exception as e:  # noqa: BLE001
                print(f"{name}: {repo}@{commit}:{path}: {e}", file=sys.stderr)
                failed += 1
                continue
            print(f"{name}\t{repo}@{commit[:12]}:{path}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
