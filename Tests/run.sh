#!/usr/bin/env bash
# Warden's test command: build, unit tests (swift test), then the integration tests
# (Tests/integration, pytest) with real redis-server processes on loopback ports.
# Installs libssl-dev (to build), redis-server / redis-sentinel / redis-tools, openssl, curl,
# iproute2 (for the network-namespace tests, when run as root) and the Python packages if missing.
#
#   Tests/run.sh                       everything
#   Tests/run.sh unit [ARGS...]        build + swift test (ARGS go to swift test, e.g. --filter RESPTests)
#   Tests/run.sh integration [ARGS...] integration tests only (ARGS go to pytest, e.g. -k sdown -x)
#   Tests/run.sh fuzz [SECONDS] [TARGETS...]  the libFuzzer targets only (Tests/fuzz/run.sh; 20 s each)
#   Tests/run.sh [ARGS...]             everything; ARGS go to pytest (e.g. -k replies)
#
# WARDEN_BIN selects the sentinel binary the integration tests run (default: the warden
# just built). With WARDEN_BIN set, `integration` does not build anything, so
#   WARDEN_BIN=$(command -v redis-sentinel) Tests/run.sh integration
# runs the suite against the real redis-sentinel.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=../deploy/lib/ensure-deps.sh
. deploy/lib/ensure-deps.sh

mode=all
case "${1:-}" in
    unit | integration | fuzz | all) mode=$1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
extra_args=("$@")

summary=()
failed=0

# Run one step, time it, and record its outcome for the summary.
step() {
    local name=$1
    shift
    local started=$SECONDS status=0
    say "$name"
    "$@" || status=$?
    local took=$((SECONDS - started))
    if [ "$status" -eq 0 ]; then
        summary+=("$(printf '  %-18s ok      %4ss' "$name" "$took")")
    else
        summary+=("$(printf '  %-18s FAILED  %4ss  (exit %s)' "$name" "$took" "$status")")
        failed=1
    fi
    return "$status"
}

print_summary() {
    echo
    say "Summary"
    printf '%s\n' "${summary[@]}"
    if [ "$failed" -eq 0 ]; then
        echo "All steps passed."
    else
        echo "Some steps FAILED (see above)."
    fi
}

needs_build=yes
if [ "$mode" = integration ] && [ -n "${WARDEN_BIN:-}" ]; then
    needs_build=no
fi

if [ "$needs_build" = yes ]; then
    step "swift toolchain" ensure_swift || { print_summary; exit 1; }
    step "build packages" ensure_build_deps || { print_summary; exit 1; }
fi
if [ "$mode" = fuzz ]; then
    # Builds its own targets in .build-fuzz/; needs neither Redis nor Python.
    step "fuzz" Tests/fuzz/run.sh "${extra_args[@]}" || true
    print_summary
    exit "$failed"
fi
step "redis packages" ensure_redis || { print_summary; exit 1; }
step "openssl" ensure_openssl_cli || { print_summary; exit 1; }
step "curl" ensure_curl || { print_summary; exit 1; }
if [ "$mode" != unit ]; then
    step "network tools" ensure_netns_tools || { print_summary; exit 1; }
fi
# The unit tests need it too: they check JSON, metrics and webhook signatures with Python.
step "python packages" ensure_python_test_deps "$PWD/.build/test-venv" || { print_summary; exit 1; }

if [ "$needs_build" = yes ]; then
    step "swift build" swift build || { print_summary; exit 1; }
fi

if [ "$mode" != integration ]; then
    unit_args=()
    [ "$mode" = unit ] && unit_args=("${extra_args[@]}")
    step "swift test" swift test "${unit_args[@]}" || true
fi

if [ "$mode" = all ]; then
    # Every libFuzzer target for 20 s (about 1 min to build them, then 20 s each).
    step "fuzz" Tests/fuzz/run.sh 20 || true
fi

if [ "$mode" != unit ]; then
    if [ -z "${WARDEN_BIN:-}" ]; then
        WARDEN_BIN="$(swift build --show-bin-path)/warden"
    fi
    export WARDEN_BIN
    echo "sentinel under test: $WARDEN_BIN"
    echo "redis: $(redis-server --version | cut -d' ' -f1-3); python: $("$WARDEN_PYTHON" --version 2>&1)"
    # The suite limits every test itself; this only guards against a hung runner.
    step "integration tests" timeout --foreground --kill-after=30 1200 \
        "$WARDEN_PYTHON" -m pytest -q Tests/integration "${extra_args[@]}" || true
fi

print_summary
exit "$failed"
