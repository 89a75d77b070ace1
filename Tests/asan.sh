#!/usr/bin/env bash
# The unit tests under AddressSanitizer: swift test --sanitize=address, built in
# .build-asan/ so that the normal .build/ is left alone.
#
#   Tests/asan.sh                       every unit test
#   Tests/asan.sh --filter RESPTests    ARGS go to swift test
#
# Exits non-zero if a test fails or AddressSanitizer reports an error (it aborts
# the test process). Leak detection is off: the Swift runtime keeps metadata
# caches for the life of the process, which LeakSanitizer would report.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=../deploy/lib/ensure-deps.sh
. deploy/lib/ensure-deps.sh
ensure_swift

export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# Swift's crash backtracer reads memory that AddressSanitizer would report itself.
export SWIFT_BACKTRACE=enable=no
say "swift test --sanitize=address (scratch path .build-asan)"
exec swift test --sanitize=address --scratch-path .build-asan "$@"
