#!/usr/bin/env bash
# Warden demo: a Redis master, two replicas and three wardens on free loopback ports.
# Shows what every warden sees, then stops everything and removes its files.
#
#   deploy/demo.sh           build warden (release) and run the demo
#   deploy/demo.sh --hold    keep the topology running until Ctrl-C, to poke at it
#
# WARDEN_BIN=/path/to/binary uses that sentinel instead of building, e.g.
#   WARDEN_BIN=$(command -v redis-sentinel) deploy/demo.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/ensure-deps.sh
. deploy/lib/ensure-deps.sh

readonly MASTER_NAME=mymaster
readonly QUORUM=2
readonly DOWN_AFTER_MS=1000
readonly HOST=127.0.0.1

hold=no
case "${1:-}" in
    --hold) hold=yes ;;
    "") ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "usage: $0 [--hold]" >&2; exit 2 ;;
esac

WORK=""          # temporary directory: configs, logs, data
PIDS=()          # every process this script started
USED_PORTS=" "   # ports handed out so far
MASTER_PORT=""
REPLICA_PORTS=()
WARDEN_PORTS=()

# ----------------------------------------------------------------------------------
# Clean-up: runs on every exit, including Ctrl-C and errors.

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$WORK" ]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----------------------------------------------------------------------------------
# Helpers

# A loopback TCP port nobody listens on and that this script has not used yet.
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 12000))
        case "$USED_PORTS" in *" $port "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
            USED_PORTS="$USED_PORTS$port "
            echo "$port"
            return
        fi
    done
}

rcli() {
    local port=$1
    shift
    redis-cli -h "$HOST" -p "$port" "$@"
}

# Poll a command until it succeeds, for at most $1 seconds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "error: timed out after ${seconds}s waiting for $what" >&2
            return 1
        fi
        sleep 0.1
    done
}

# One field of `SENTINEL MASTER mymaster` as seen by the sentinel on port $1.
master_field() {
    rcli "$1" SENTINEL MASTER "$MASTER_NAME" 2>/dev/null |
        awk -v key="$2" 'NR % 2 == 1 { k = $0; next } k == key { print; exit }'
}

show_logs() {
    local log
    for log in "$WORK"/*.log; do
        echo "--- $log (last lines)"
        tail -n 15 "$log"
    done
}

# ----------------------------------------------------------------------------------
# Steps

build_warden() {
    if [ -n "${WARDEN_BIN:-}" ]; then
        say "using $WARDEN_BIN"
        return
    fi
    ensure_swift
    say "building warden (swift build -c release)"
    swift build -c release
    WARDEN_BIN="$(swift build -c release --show-bin-path)/warden"
}

start_redis() {
    local port=$1
    shift
    redis-server --port "$port" --bind "$HOST" --save '' --appendonly no --daemonize no \
        --protected-mode no --dir "$WORK" --dbfilename "dump-$port.rdb" \
        --repl-diskless-sync-delay 0 --logfile "$WORK/redis-$port.log" "$@" &
    PIDS+=("$!")
    wait_for 10 "redis-server on port $port" rcli "$port" PING
}

replicas_in_sync() {
    local port
    [ "$(rcli "$MASTER_PORT" INFO replication | tr -d '\r' | grep -c '^slave[0-9]*:.*state=online')" \
        -eq "${#REPLICA_PORTS[@]}" ] || return 1
    for port in "${REPLICA_PORTS[@]}"; do
        rcli "$port" INFO replication | tr -d '\r' | grep -q '^master_link_status:up$' || return 1
    done
}

start_data_nodes() {
    MASTER_PORT=$(free_port)
    REPLICA_PORTS=("$(free_port)" "$(free_port)")
    say "starting a Redis master on $HOST:$MASTER_PORT and replicas on ${REPLICA_PORTS[*]}"
    start_redis "$MASTER_PORT"
    local port
    for port in "${REPLICA_PORTS[@]}"; do
        start_redis "$port" --replicaof "$HOST" "$MASTER_PORT"
    done
    wait_for 15 "the replicas to sync" replicas_in_sync
}

start_wardens() {
    WARDEN_PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
    say "starting 3 x $(basename "$WARDEN_BIN") on ports ${WARDEN_PORTS[*]} (quorum $QUORUM, down-after ${DOWN_AFTER_MS} ms)"
    local port conf
    for port in "${WARDEN_PORTS[@]}"; do
        conf="$WORK/sentinel-$port.conf"
        cat >"$conf" <<EOF
port $port
bind $HOST
logfile "$WORK/sentinel-$port.log"
sentinel monitor $MASTER_NAME $HOST $MASTER_PORT $QUORUM
sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS
sentinel failover-timeout $MASTER_NAME 10000
EOF
        (cd "$WORK" && exec "$WARDEN_BIN" "$conf") &
        PIDS+=("$!")
    done
    for port in "${WARDEN_PORTS[@]}"; do
        wait_for 10 "the sentinel on port $port" rcli "$port" PING
    done
}

sees_everything() {
    [ "$(master_field "$1" num-slaves)" = 2 ] && [ "$(master_field "$1" num-other-sentinels)" = 2 ]
}

wait_for_discovery() {
    say "waiting until every sentinel sees 2 replicas and 2 other sentinels"
    local started=$SECONDS port
    for port in "${WARDEN_PORTS[@]}"; do
        if ! wait_for 30 "discovery by the sentinel on port $port" sees_everything "$port"; then
            show_logs >&2
            return 1
        fi
    done
    echo "    done in $((SECONDS - started)) s"
}

show_topology() {
    say "what each sentinel sees"
    local format='    %-17s %-17s %-9s %-10s %-22s %s\n'
    # shellcheck disable=SC2059
    printf "$format" SENTINEL MASTER REPLICAS SENTINELS FLAGS CONFIG-EPOCH
    local port
    for port in "${WARDEN_PORTS[@]}"; do
        # shellcheck disable=SC2059
        printf "$format" "$HOST:$port" \
            "$(master_field "$port" ip):$(master_field "$port" port)" \
            "$(master_field "$port" num-slaves)" \
            "$(master_field "$port" num-other-sentinels)" \
            "$(master_field "$port" flags)" \
            "$(master_field "$port" config-epoch)"
    done
    echo
    echo "    Clients ask any sentinel where the master is:"
    echo "    \$ redis-cli -p ${WARDEN_PORTS[0]} SENTINEL get-master-addr-by-name $MASTER_NAME"
    rcli "${WARDEN_PORTS[0]}" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed 's/^/    /'
}

hold_until_interrupted() {
    say "running until Ctrl-C; files in $WORK"
    while :; do sleep 1; done
}

main() {
    say "checking for redis-server, redis-sentinel and redis-cli"
    ensure_redis
    build_warden
    WORK=$(mktemp -d -t warden-demo.XXXXXX)
    start_data_nodes
    start_wardens
    wait_for_discovery
    show_topology
    if [ "$hold" = yes ]; then
        hold_until_interrupted
    fi
    say "stopping everything and removing $WORK"
}

main
