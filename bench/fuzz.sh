#!/usr/bin/env bash
# Fuzz git-release's parsers with libFuzzer (cargo fuzz, on the nightly toolchain).
#
#   bench/fuzz.sh                 # every target for 600 s each (issue 24's minimum)
#   bench/fuzz.sh 60 template     # one target for 60 s
#
# Targets (bench/fuzz/fuzz_targets/, entry points in src/fuzzing.rs): template (parser and
# executor under the render budget), yaml_edit (an edit changes only the value's bytes),
# repos_file, version_yml, image_reference (print and parse round trip), oci_manifest,
# helmignore, addon_file (a single-file addon: images, and the version edit changes one line),
# product_file (compass.yaml: read, the rule, adding an addon in place). Seeds are bench/fuzz/seeds/<target>/ (committed); what the fuzzer adds goes to
# target/fuzz-corpus/<target>/ (not committed). A crash, a timeout (10 s an input) or an input
# that takes more than 1 GiB is written to bench/fuzz/artifacts/<target>/ and stops the run;
# turn each into a regression test before fixing it. One line a target is printed at the end:
# executions, corpus size, and what was found.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(template yaml_edit repos_file version_yml image_reference oci_manifest helmignore addon_file product_file)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal

export CARGO_TARGET_DIR="$PWD/target/fuzz-build"
for t in "${targets[@]}"; do
    cargo +nightly fuzz build --fuzz-dir bench/fuzz -O -s none "$t" >/dev/null 2>&1
done

summary=()
for t in "${targets[@]}"; do
    mkdir -p "target/fuzz-corpus/$t" "bench/fuzz/artifacts/$t"
    log="target/fuzz-corpus/$t.log"
    set +e
    cargo +nightly fuzz run --fuzz-dir bench/fuzz -O -s none "$t" \
        "target/fuzz-corpus/$t" "bench/fuzz/seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    corpus=$(ls "target/fuzz-corpus/$t" | wc -l)
    found=$(ls "bench/fuzz/artifacts/$t" 2>/dev/null | wc -l)
    summary+=("$(printf '%-16s %10s execs %6s corpus %3s found (exit %s)' "$t" "$execs" "$corpus" "$found" "$rc")")
done
printf '%s\n' "${summary[@]}"
