#!/usr/bin/env bash
# The hotfix pipeline the seed documents describe, as a release engineer scripts it today: the
# charts changed between two revisions (git diff), copied from the checkout (cp -r) into a
# folder, then packed (tar czf). The contender bench/hotfix.sh measures git release hotfix
# against; it does none of the version, checksum or Helm-archive work.
#
# usage: bench/seed_hotfix.sh REPO BASE NEW OUT   (writes OUT/ and OUT.tar.gz; REPO checked out at NEW)
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: $0 REPO BASE NEW OUT" >&2; exit 2; }
repo=$1 base=$2 new=$3 out=$4
mkdir -p "$out/charts"
git -C "$repo" diff --name-only "$base" "$new" -- addons | cut -d/ -f2 | sort -u |
  while read -r chart; do
    [[ -d $repo/addons/$chart ]] && cp -r "$repo/addons/$chart" "$out/charts/"
  done
tar czf "$out.tar.gz" -C "$out" .
