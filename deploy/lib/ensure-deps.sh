# shellcheck shell=bash
# Installs what Warden's scripts need, only when it is missing.
# Sourced by Tests/run.sh and deploy/demo.sh; it only defines functions.
#
#   ensure_swift                     put /opt/swift/usr/bin on PATH if swift is not found
#   ensure_build_deps                libssl-dev (Warden's TLS builds on the system OpenSSL)
#   ensure_openssl_cli               the openssl command (the TLS tests make certificates with it)
#   ensure_redis                     redis-server, redis-sentinel, redis-cli (Debian packages)
#   ensure_netns_tools               iproute2's `ip`, for the network-namespace tests (as root only:
#                                    elsewhere those tests skip and nothing is installed)
#   ensure_curl                      curl (the HTTP server's tests drive it)
#   ensure_python_test_deps VENV     sets and exports WARDEN_PYTHON to a python3 with redis>=5,
#                                    pytest, prometheus_client, standardwebhooks (the unit tests
#                                    of WardenHTTP and WardenWebhooks check their output with
#                                    them, the integration tests parse /metrics and verify
#                                    webhook signatures) and schemathesis (runs docs/openapi.yaml
#                                    against a live warden), creating a virtualenv at VENV if
#                                    the system one lacks them
#   ensure_wrk                       wrk, the HTTP load generator of Tests/benchmarks/http_api.py
#
# Installing the Debian packages may start the distribution's own redis-server (6379)
# and redis-sentinel (26379) services. Nothing here uses those ports, so they are left
# alone.

# Print a step heading.
say() {
    if [ -t 1 ]; then
        printf '\033[1m==> %s\033[0m\n' "$*"
    else
        printf '==> %s\n' "$*"
    fi
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

_warden_apt_updated=no

# apt-get install the given packages, running apt-get update once first.
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: apt-get not found; please install these packages yourself: $*" >&2
        return 1
    fi
    if [ "$_warden_apt_updated" = no ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return
        _warden_apt_updated=yes
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        PATH="/opt/swift/usr/bin:$PATH"
        export PATH
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "error: swift not found (looked on PATH and in /opt/swift/usr/bin); install Swift 6 first" >&2
        return 1
    fi
}

# True if a C compiler would find OpenSSL's headers and libraries (libssl-dev).
_has_libssl_dev() {
    [ -f /usr/include/openssl/ssl.h ] || return 1
    local lib
    for lib in /usr/lib/*/libssl.so /usr/lib/libssl.so /usr/lib64/libssl.so; do
        [ -e "$lib" ] && return 0
    done
    return 1
}

ensure_build_deps() {
    _has_libssl_dev && return 0
    apt_install libssl-dev
}

ensure_openssl_cli() {
    command -v openssl >/dev/null 2>&1 && return 0
    apt_install openssl
}

ensure_redis() {
    if command -v redis-server >/dev/null 2>&1 &&
        command -v redis-sentinel >/dev/null 2>&1 &&
        command -v redis-cli >/dev/null 2>&1; then
        return 0
    fi
    apt_install redis-server redis-sentinel redis-tools
}

ensure_netns_tools() {
    if [ "$(id -u)" -ne 0 ] || command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ]; then
        return 0
    fi
    apt_install iproute2
}

ensure_curl() {
    command -v curl >/dev/null 2>&1 || apt_install curl
}

# True if the given python can import redis-py 5 or later (RESP3), pytest,
# prometheus_client, standardwebhooks and schemathesis.
_python_has_test_deps() {
    "$1" - <<'EOF' >/dev/null 2>&1
import sys
import pytest, redis, prometheus_client, standardwebhooks, schemathesis
sys.exit(0 if int(redis.__version__.split(".")[0]) >= 5 else 1)
EOF
}

ensure_python_test_deps() {
    local venv="$1"
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3 || return
    fi
    if _python_has_test_deps python3; then
        WARDEN_PYTHON=$(command -v python3)
        export WARDEN_PYTHON
        return 0
    fi
    if [ -x "$venv/bin/python3" ] && _python_has_test_deps "$venv/bin/python3"; then
        export WARDEN_PYTHON="$venv/bin/python3"
        return 0
    fi
    # A virtualenv rather than the system python: Debian 12 refuses `pip install`
    # into it (PEP 668), and the Debian python3-redis is too old for RESP3.
    say "creating a Python virtualenv with redis, pytest, prometheus_client, standardwebhooks and schemathesis in $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt_install python3-venv || return
        python3 -m venv "$venv" || return
    fi
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
        'redis>=5' pytest prometheus_client standardwebhooks 'schemathesis>=4,<5' || return
    export WARDEN_PYTHON="$venv/bin/python3"
}

ensure_wrk() {
    command -v wrk >/dev/null 2>&1 || apt_install wrk
}
