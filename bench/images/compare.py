#!/usr/bin/env python3
"""Compare our image lists with Helm's reference lists.

usage: compare.py HELM_JSON OURS_JSON [-q]

HELM_JSON is helm_images.py's output, {chart: {"images", "test_images", "error"}};
OURS_JSON has the same shape ("error" optional). For every chart Helm renders, prints the images
Helm deploys that we miss and the ones we list that Helm does not (and the same for test images),
then the totals over all (chart, image) pairs of those charts:
    recall    = |ours ∩ helm| / |helm|
    precision = |ours ∩ helm| / |ours|
A chart missing from OURS_JSON counts as an empty list. Charts Helm cannot render are left out
of the scores and listed apart. -q prints the summary lines only. Always exits 0.
"""
import argparse
import json
import sys


def pct(num, den):
    return f"{100.0 * num / den:.1f}%" if den else "n/a"


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("helm")
    ap.add_argument("ours")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    try:
        helm, ours = load(args.helm), load(args.ours)
    except (OSError, ValueError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return 0

    totals = {"images": [0, 0, 0], "test_images": [0, 0, 0]}  # [helm, ours, both]
    rendered = 0
    clean = 0
    skipped = []
    for chart in sorted(helm):
        ref = helm[chart]
        got = ours.get(chart) or {}
        if ref.get("error"):
            skipped.append((chart, ref["error"], got))
            continue
        rendered += 1
        lines = []
        for key in ("images", "test_images"):
            h = set(ref.get(key) or [])
            o = set(got.get(key) or [])
            t = totals[key]
            t[0] += len(h)
            t[1] += len(o)
            t[2] += len(h & o)
            label = "" if key == "images" else "test "
            for img in sorted(h - o):
                lines.append(f"  missing {label}{img}")
            for img in sorted(o - h):
                lines.append(f"  extra   {label}{img}")
        if chart not in ours:
            lines.insert(0, "  (chart absent from ours)")
        if lines:
            if not args.quiet:
                print(chart)
                print("\n".join(lines))
        else:
            clean += 1

    if not args.quiet:
        if skipped:
            print(f"\nnot scored: Helm cannot render {len(skipped)} chart(s) with default values")
            for chart, err, got in skipped:
                n = len(got.get("images") or []) if got else 0
                print(f"  {chart}: ours lists {n} image(s); helm: {err[:160]}")
        extra = sorted(set(ours) - set(helm))
        if extra:
            print(f"\nin ours only (not scored): {', '.join(extra)}")
        print()

    h, o, b = totals["images"]
    th, to, tb = totals["test_images"]
    print(f"identical={clean}/{rendered} test_images: recall={pct(tb, th)} precision={pct(tb, to)} images={th}")
    print(f"recall={pct(b, h)} precision={pct(b, o)} charts={rendered} images={h}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
