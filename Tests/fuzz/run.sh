#!/usr/bin/env bash
# Builds the libFuzzer targets in Tests/fuzz (swiftc -sanitize=fuzzer,address, in
# .build-fuzz/, apart from the normal .build/) and runs each for a bounded time.
#
#   Tests/fuzz/run.sh                      every target, 20 s each
#   Tests/fuzz/run.sh 600 resp_request     one target for 10 minutes
#   Tests/fuzz/run.sh --build              build only
#   Tests/fuzz/run.sh --repro FILE TARGET  run one input through a target (a crash's reproducer)
#
# The seed corpus (Tests/fuzz/corpus/<target>/, committed) is read only: new
# inputs go to .build-fuzz/corpus/<target>/ (not in git), so later runs start
# from what earlier runs found. Exits non-zero if a target crashes, fails a
# property (a trap with "fuzz property failed: ...") or times out, after
# printing the input that did it and the command that reproduces it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=../../deploy/lib/ensure-deps.sh
. deploy/lib/ensure-deps.sh
ensure_swift

ALL_TARGETS=(resp_request resp_reply resp_roundtrip inline_split info hello config glob sentinel_commands)
BUILD=${WARDEN_FUZZ_BUILD:-.build-fuzz}
# Swift's own crash backtracer reads memory that AddressSanitizer then reports;
# libFuzzer's handler is enough (it prints the trap message and saves the input).
export SWIFT_BACKTRACE=enable=no
FLAGS=(-O -swift-version 6 -parse-as-library -sanitize=fuzzer,address -use-ld=lld -enable-testing)

# The modules every target links, in dependency order (as in Package.swift).
# Only pure Swift modules: no C targets.
MODULES=(RESP WardenCrypto WardenHTTP WardenWebhooks SentinelCore WardenACL Configuration)

# True if any of the files after $1 is newer than $1 (or $1 is missing).
stale() {
    local out=$1
    shift
    [ -e "$out" ] || return 0
    [ -n "$(find "$@" -newer "$out" -print -quit)" ]
}

build_module() {
    local name=$1
    local lib="$BUILD/lib/lib$name.a"
    if stale "$lib" "Sources/$name" "$0"; then
        echo "building module $name"
        swiftc "${FLAGS[@]}" -wmo -module-name "$name" -I "$BUILD/mod" \
            -emit-module -emit-module-path "$BUILD/mod/$name.swiftmodule" \
            -emit-library -static -o "$lib" "Sources/$name"/*.swift
    fi
}

build_target() {
    local target=$1 libs=()
    local bin="$BUILD/bin/$target"
    for m in "${MODULES[@]}"; do libs+=("$BUILD/lib/lib$m.a"); done
    if stale "$bin" "Tests/fuzz/$target.swift" Tests/fuzz/Support.swift "${libs[@]}" "$0"; then
        echo "building target $target"
        swiftc "${FLAGS[@]}" -module-name "fuzz_$target" -I "$BUILD/mod" \
            Tests/fuzz/Support.swift "Tests/fuzz/$target.swift" "${libs[@]}" -o "$bin"
    fi
}

build_all() {
    mkdir -p "$BUILD/mod" "$BUILD/lib" "$BUILD/bin"
    for m in "${MODULES[@]}"; do build_module "$m"; done
    for target in "$@"; do build_target "$target"; done
}

# libFuzzer flags every run uses. Leak detection is off: the Swift runtime keeps
# metadata caches for the life of the process, which LeakSanitizer would report.
fuzz_flags() {
    local target=$1
    local max_len=4096 timeout=10
    [ "$target" = info ] && max_len=8192  # a real INFO reply is 5 KB
    # Glob promises O(pattern x string): 4 KB of input is a few million steps at most.
    [ "$target" = glob ] && timeout=2
    local flags=("-timeout=$timeout" -rss_limit_mb=2048 "-max_len=$max_len" -detect_leaks=0 -print_final_stats=1)
    [ -f "Tests/fuzz/$target.dict" ] && flags+=("-dict=Tests/fuzz/$target.dict")
    printf '%s\n' "${flags[@]}"
}

if [ "${1:-}" = --build ]; then
    build_all "${ALL_TARGETS[@]}"
    exit 0
fi
if [ "${1:-}" = --repro ]; then
    file=$2 target=$3
    build_all "$target"
    mapfile -t flags < <(fuzz_flags "$target")
    exec "$BUILD/bin/$target" "${flags[@]}" "$file"
fi

seconds=20
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
    [ -f "Tests/fuzz/$target.swift" ] || { echo "error: no target $target (Tests/fuzz/$target.swift)" >&2; exit 2; }
done

say "building ${#targets[@]} fuzz target(s) in $BUILD"
build_all "${targets[@]}"

failed=()
report=()
for target in "${targets[@]}"; do
    corpus="$BUILD/corpus/$target"
    artifacts="$BUILD/artifacts/$target"
    log="$BUILD/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$BUILD/logs"
    seeds="Tests/fuzz/corpus/$target"
    mapfile -t flags < <(fuzz_flags "$target")
    say "fuzzing $target for ${seconds}s"
    status=0
    # The first corpus directory receives new inputs; the seeds are only read.
    "$BUILD/bin/$target" "${flags[@]}" -max_total_time="$seconds" \
        -artifact_prefix="$artifacts/" "$corpus" ${seeds:+"$seeds"} >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    [ -n "$runs" ] && [ -n "$took" ] && [ "$took" -gt 0 ] && rate=$((runs / took))
    size=$(find "$corpus" -type f | wc -l)
    line=$(printf '  %-18s %10s runs %8s exec/s  corpus %5s  ' "$target" "${runs:-?}" "${rate:-?}" "$size")
    if [ "$status" -eq 0 ]; then
        report+=("$line ok")
    else
        report+=("$line FAILED (exit $status)")
        failed+=("$target")
        echo "---- $target failed; the end of its log ($log):"
        grep -v '^#[0-9]' "$log" | tail -40
        for crash in $(grep -o "Test unit written to [^ ]*" "$log" | awk '{print $5}'); do
            echo "---- reproducer: $crash"
            od -An -c "$crash" | head -20
            echo "base64: $(base64 -w0 "$crash")"
            echo "reproduce: Tests/fuzz/run.sh --repro $crash $target"
        done
    fi
done

echo
say "fuzz summary (${seconds}s per target)"
printf '%s\n' "${report[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashed: ${failed[*]}"
    exit 1
fi
