#!/usr/bin/env bash
# Warden demo: a Redis master, two replicas and three wardens on free loopback ports.
# Shows what every warden sees, kills the master with kill -9 and prints the failover
# as the wardens announce it (their Pub/Sub events, timed from the kill), the new master
# and how long until all three wardens named it, the webhook a receiver got (a small
# Python receiver that checks the signature), then restarts the old master and
# watches the wardens turn it into a replica of the new one. Then it stops everything
# and removes its files. About 15 s once warden is built (redis-sentinel: about 20 s,
# and no webhook: it has none).
#
#   deploy/demo.sh           build warden (release) and run the demo
#   deploy/demo.sh --hold    at the end, keep everything running until Ctrl-C, to poke at it
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
MASTER_PORT=""   # the master's port; after the failover, the new master's
MASTER_PID=""
OLD_MASTER_PORT=""   # the killed master's port
LAST_PID=""      # the redis-server start_redis started last
REPLICA_PORTS=()
WARDEN_PORTS=()
HTTP_PORTS=()    # each warden's http-port
HOOK_PORT=""     # the webhook receiver's port
readonly HOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
IS_WARDEN=yes    # no with WARDEN_BIN=redis-sentinel: no HTTP port, no webhooks
declare -A NAME_OF=()   # warden port or run id -> "warden 1", "warden 2", ...
EVENTS=""        # every warden's events, one per line: <unix µs> <warden port> <channel> <text>
EVENTS_SHOWN=0   # lines of $EVENTS printed so far
KILL_US=0        # when the master was killed, in unix µs
STARTED_AT=0     # $SECONDS when the topology started (after the build)

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

if [ -t 1 ]; then
    DIM=$'\033[2m' CYAN=$'\033[36m' GREEN=$'\033[32m' OFF=$'\033[0m'
else
    DIM="" CYAN="" GREEN="" OFF=""
fi

# Now, in microseconds since the epoch.
now_us() {
    local now=$EPOCHREALTIME
    echo "${now/[.,]/}"
}

# Microseconds $1 as seconds with two decimals ("1.93").
seconds_of() {
    local cs=$(($1 / 10000))
    printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

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
    ensure_build_deps
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
    LAST_PID=$!
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
    MASTER_PID=$LAST_PID
    local port
    for port in "${REPLICA_PORTS[@]}"; do
        start_redis "$port" --replicaof "$HOST" "$MASTER_PORT"
    done
    wait_for 15 "the replicas to sync" replicas_in_sync
}

# A webhook receiver on Python's http.server: checks each delivery's Standard Webhooks
# signature (HMAC-SHA256 with the standard library) and appends one line per delivery to
# $WORK/webhooks.log: "<unix µs> <signature ok|BAD> <webhook-id> <event> <sentinel id> <text>".
start_webhook_receiver() {
    HOOK_PORT=$(free_port)
    say "starting a webhook receiver on $HOST:$HOOK_PORT (it checks every signature)"
    python3 - "$HOOK_PORT" "$HOOK_SECRET" "$WORK/webhooks.log" <<'PY' &
import base64, hashlib, hmac, http.server, json, sys, time
port, secret, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
key = base64.b64decode(secret.removeprefix("whsec_"))
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        hid, stamp = self.headers["webhook-id"], self.headers["webhook-timestamp"]
        mac = base64.b64encode(hmac.new(key, f"{hid}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
        good = any(hmac.compare_digest(s.removeprefix("v1,"), mac) for s in self.headers["webhook-signature"].split())
        data = json.loads(body)["data"]
        with open(log, "a") as out:
            out.write(f"{time.time_ns() // 1000} {'ok' if good else 'BAD'} {hid} {data['event']} {data['sentinel']['id']} {data['text']}\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
    PIDS+=("$!")
    : >"$WORK/webhooks.log"
}

start_wardens() {
    WARDEN_PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
    [ "$(basename "$WARDEN_BIN")" = warden ] || IS_WARDEN=no
    say "starting 3 x $(basename "$WARDEN_BIN") on ports ${WARDEN_PORTS[*]} (quorum $QUORUM, down-after ${DOWN_AFTER_MS} ms)"
    local port conf http_port
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
        if [ "$IS_WARDEN" = yes ]; then
            http_port=$(free_port)
            HTTP_PORTS+=("$http_port")
            cat >>"$conf" <<EOF
http-port $http_port
webhook demo http://$HOST:$HOOK_PORT/hook secret $HOOK_SECRET events +switch-master
EOF
        fi
        (cd "$WORK" && exec "$WARDEN_BIN" "$conf") &
        PIDS+=("$!")
    done
    local n=0 kind=warden
    [ "$(basename "$WARDEN_BIN")" = warden ] || kind=sentinel
    for port in "${WARDEN_PORTS[@]}"; do
        wait_for 10 "the sentinel on port $port" rcli "$port" PING
        n=$((n + 1))
        NAME_OF[$port]="$kind $n"
        NAME_OF[$(rcli "$port" SENTINEL MYID)]="$kind $n"
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
    local format='    %-9s %-17s %-17s %-9s %-10s %-22s %s\n'
    # shellcheck disable=SC2059
    printf "$format" "" SENTINEL MASTER REPLICAS SENTINELS FLAGS CONFIG-EPOCH
    local port
    for port in "${WARDEN_PORTS[@]}"; do
        # shellcheck disable=SC2059
        printf "$format" "${NAME_OF[$port]}" "$HOST:$port" \
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

# One field of `INFO replication` of the Redis server on port $1.
replication_field() {
    rcli "$1" INFO replication 2>/dev/null | tr -d '\r' | awk -F: -v key="$2" '$1 == key { print $2; exit }'
}

write_a_key() {
    say "writing a key to the master, so we can follow it through the failover"
    echo "    \$ redis-cli -p $MASTER_PORT SET greeting \"written before the failover\""
    rcli "$MASTER_PORT" SET greeting "written before the failover" | sed 's/^/    /'
    # Wait until both replicas have it: replication is asynchronous.
    rcli "$MASTER_PORT" WAIT "${#REPLICA_PORTS[@]}" 5000 >/dev/null
}

# ----------------------------------------------------------------------------------
# Events: one `redis-cli --csv psubscribe '*'` per warden, each line stamped on arrival
# and appended to $EVENTS; the demo prints new lines while it waits for something.

# Read redis-cli --csv lines on stdin; write "<unix µs> <port> <channel> <text>" lines.
stamp_events() {
    local port=$1 line kind channel text now
    while IFS= read -r line; do
        now=$EPOCHREALTIME
        line=${line//\"/}
        IFS=, read -r kind _ channel text <<<"$line"
        case $kind in
            pmessage) echo "${now/[.,]/} $port $channel $text" ;;
            psubscribe) echo "${now/[.,]/} $port subscribed -" ;;
        esac
    done
}

subscribed_to_all() {
    [ "$(grep -c ' subscribed -$' "$EVENTS")" -eq "${#WARDEN_PORTS[@]}" ]
}

subscribe_to_events() {
    say "subscribing to every warden's events"
    echo "    \$ redis-cli -p ${WARDEN_PORTS[0]} --csv psubscribe '*'    (and the same for the other two)"
    EVENTS="$WORK/events.log"
    : >"$EVENTS"
    local port fifo
    for port in "${WARDEN_PORTS[@]}"; do
        fifo="$WORK/events-$port.fifo"
        mkfifo "$fifo"
        stamp_events "$port" <"$fifo" >>"$EVENTS" &
        PIDS+=("$!")
        redis-cli -h "$HOST" -p "$port" --csv psubscribe '*' >"$fifo" 2>/dev/null &
        PIDS+=("$!")
    done
    wait_for 10 "the subscriptions" subscribed_to_all
    EVENTS_SHOWN=$(wc -l <"$EVENTS")
}

# "master 127.0.0.1:6379" or "replica 127.0.0.1:6380" from an event's instance text
# ("master <name> <ip> <port> ..." or "slave <ip>:<port> <ip> <port> @ <name> ...").
instance_of() {
    local kind=$1 second=$2 ip=$3 port=$4
    case $kind in
        master) echo "master $ip:$port" ;;
        slave)
            if [ "$port" = "$OLD_MASTER_PORT" ]; then
                echo "old master $second"
            else
                echo "replica $second"
            fi
            ;;
        sentinel) echo "${NAME_OF[$port]:-sentinel $second}" ;;
        *) echo "$kind $second" ;;
    esac
}

# Print one event line from $EVENTS in words, if it is one a newcomer wants to see.
show_event() {
    local stamp=$1 port=$2 channel=$3
    shift 3
    local who=${NAME_OF[$port]:-$port} what
    case $channel in
        +sdown) what="$(instance_of "$@") does not answer: subjectively down" ;;
        -sdown) what="$(instance_of "$@") answers again" ;;
        +odown) what="${6%/*} agree, quorum ${6#*/}: master objectively down" ;;
        +try-failover) what="tries to become the leader of a failover" ;;
        +vote-for-leader)
            if [ "${NAME_OF[$1]:-}" = "$who" ]; then
                what="votes for itself in epoch $2"
            else
                what="votes for ${NAME_OF[$1]:-$1} in epoch $2"
            fi
            ;;
        +elected-leader) what="is elected leader: it runs the failover" ;;
        -failover-abort-*) what="gives up this attempt" ;;
        +selected-slave) what="picks $(instance_of "$@") to promote" ;;
        +promoted-slave) what="$(instance_of "$@") is a master now (SLAVEOF NO ONE)" ;;
        +slave-reconf-sent) what="tells $(instance_of "$@") to replicate from the new master" ;;
        +slave-reconf-done) what="$(instance_of "$@") replicates from the new master" ;;
        +switch-master) what="now names $4:$5 as the master of $1" ;;
        +failover-end) what="failover complete" ;;
        +failover-end-for-timeout) what="failover ended by its timeout" ;;
        +convert-to-slave) what="makes $(instance_of "$@") a replica of the new master" ;;
        *) return 0 ;;
    esac
    local rel=$((stamp - KILL_US)) sign=+
    if [ "$rel" -lt 0 ]; then
        rel=$((-rel))
        sign=-
    fi
    printf '    %s%6ss%s  %-8s  %s%-18s%s %s\n' "$DIM" "$sign$(seconds_of "$rel")" "$OFF" \
        "$who" "$CYAN" "$channel" "$OFF" "$what"
}

# Print the events that arrived since the last call.
show_new_events() {
    local total line
    total=$(wc -l <"$EVENTS")
    [ "$total" -gt "$EVENTS_SHOWN" ] || return 0
    while IFS= read -r line; do
        # shellcheck disable=SC2086 # split the line into its words on purpose
        show_event $line
    done < <(sed -n "$((EVENTS_SHOWN + 1)),${total}p" "$EVENTS")
    EVENTS_SHOWN=$total
}

saw_event() {
    grep -q "^[0-9]* [0-9]* $1 " "$EVENTS"
}

# Print events as they arrive until "$@" succeeds; fail after $1 seconds.
follow_events_until() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        show_new_events
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "error: timed out after ${seconds}s waiting for $what" >&2
            show_logs >&2
            return 1
        fi
        sleep 0.05
    done
    show_new_events
}

# ----------------------------------------------------------------------------------
# The failover

NEW_MASTER_PORT=""
ANSWERED_US=""

# True (and sets NEW_MASTER_PORT, ANSWERED_US) once all wardens name one new master.
all_name_a_new_master() {
    [ -z "$ANSWERED_US" ] || return 0
    local port answer first=""
    for port in "${WARDEN_PORTS[@]}"; do
        answer=$(rcli "$port" SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | tr '\n' ' ')
        [ "$answer" != "$HOST $OLD_MASTER_PORT " ] || return 1
        [ -z "$first" ] || [ "$answer" = "$first" ] || return 1
        first=$answer
    done
    ANSWERED_US=$(now_us)
    NEW_MASTER_PORT=${first#"$HOST "}
    NEW_MASTER_PORT=${NEW_MASTER_PORT% }
}

failover_done() {
    all_name_a_new_master && saw_event +failover-end || return 1
    local port
    for port in "${REPLICA_PORTS[@]}"; do
        [ "$port" = "$NEW_MASTER_PORT" ] && continue
        [ "$(replication_field "$port" master_port)" = "$NEW_MASTER_PORT" ] &&
            [ "$(replication_field "$port" master_link_status)" = up ] || return 1
    done
}

kill_the_master() {
    OLD_MASTER_PORT=$MASTER_PORT
    say "kill -9 the master ($HOST:$MASTER_PORT, pid $MASTER_PID)"
    echo "    down-after-milliseconds is $DOWN_AFTER_MS: a warden that gets no reply for that long"
    echo "    calls the master subjectively down; with $QUORUM of them agreeing it is objectively"
    echo "    down, and they elect one warden to promote a replica. Times are from the kill."
    echo
    KILL_US=$(now_us)
    kill -KILL "$MASTER_PID"
    wait "$MASTER_PID" 2>/dev/null || true
    follow_events_until 60 "the failover" failover_done
    MASTER_PORT=$NEW_MASTER_PORT
}

show_new_master() {
    say "the new master"
    local port
    for port in "${WARDEN_PORTS[@]}"; do
        printf '    %-8s  $ redis-cli -p %s SENTINEL get-master-addr-by-name %s  ->  %s\n' \
            "${NAME_OF[$port]}" "$port" "$MASTER_NAME" \
            "$(rcli "$port" SENTINEL get-master-addr-by-name "$MASTER_NAME" | tr '\n' ' ')"
    done
    echo
    printf '    %sAll three named %s:%s %s s after the kill.%s\n' "$GREEN" "$HOST" "$MASTER_PORT" \
        "$(seconds_of $((ANSWERED_US - KILL_US)))" "$OFF"
    echo
    local format='    %-17s %-7s %s\n'
    # shellcheck disable=SC2059
    printf "$format" REDIS ROLE "REPLICATES FROM"
    for port in "${REPLICA_PORTS[@]}"; do
        if [ "$(replication_field "$port" role)" = master ]; then
            # shellcheck disable=SC2059
            printf "$format" "$HOST:$port" master "-"
        else
            # shellcheck disable=SC2059
            printf "$format" "$HOST:$port" replica \
                "$(replication_field "$port" master_host):$(replication_field "$port" master_port) (link $(replication_field "$port" master_link_status))"
        fi
    done
    # shellcheck disable=SC2059
    printf "$format" "$HOST:$OLD_MASTER_PORT" "-" "(killed)"
    echo
    echo "    \$ redis-cli -p $MASTER_PORT GET greeting"
    rcli "$MASTER_PORT" GET greeting | sed 's/^/    /'
}

# The webhooks the receiver got for the failover: all three wardens send +switch-master,
# with one webhook-id, so a receiver that de-duplicates on it acts once.
show_webhooks() {
    [ "$IS_WARDEN" = yes ] || return 0
    say "the webhook receiver"
    wait_for 10 "the webhooks" grep -q " +switch-master " "$WORK/webhooks.log" || return 1
    # Give the other wardens' copies a moment to arrive (each is sent at its own switch).
    for _ in $(seq 20); do
        [ "$(grep -c " +switch-master " "$WORK/webhooks.log")" -ge 3 ] && break
        sleep 0.05
    done
    local stamp status hid event sender text who
    while read -r stamp status hid event sender text; do
        who=${NAME_OF[$sender]:-$sender}
        printf '    %s%6ss%s  from %-8s  %s%s%s %s  (webhook-id %s, signature %s)\n' "$DIM" \
            "+$(seconds_of $((stamp - KILL_US)))" "$OFF" "$who" "$CYAN" "$event" "$OFF" "$text" "${hid:0:12}…" "$status"
    done <"$WORK/webhooks.log"
    local ids
    ids=$(awk '$4 == "+switch-master" { print $3 }' "$WORK/webhooks.log" | sort -u | wc -l)
    echo
    echo "    $(grep -c " +switch-master " "$WORK/webhooks.log") deliveries, $ids webhook-id: a receiver that de-duplicates acts once."
    echo "    \$ curl -s http://$HOST:${HTTP_PORTS[0]}/v1/masters/$MASTER_NAME/primary"
    curl -s "http://$HOST:${HTTP_PORTS[0]}/v1/masters/$MASTER_NAME/primary" | sed 's/^/    /'
    echo
}

old_master_rejoined() {
    saw_event +convert-to-slave &&
        [ "$(replication_field "$OLD_MASTER_PORT" master_port)" = "$MASTER_PORT" ] &&
        [ "$(replication_field "$OLD_MASTER_PORT" master_link_status)" = up ]
}

restart_the_old_master() {
    say "restarting the old master on $HOST:$OLD_MASTER_PORT, as after a reboot"
    echo "    It comes back believing it is still the master. The wardens leave it alone for"
    echo "    8 s (four hello periods) to be sure, then make it a replica of the new master."
    echo
    start_redis "$OLD_MASTER_PORT"
    local restarted_us
    restarted_us=$(now_us)
    follow_events_until 60 "the old master to become a replica" old_master_rejoined
    echo
    echo "    It rejoined $(seconds_of $(($(now_us) - restarted_us))) s after its restart:"
    echo "    \$ redis-cli -p $OLD_MASTER_PORT INFO replication"
    rcli "$OLD_MASTER_PORT" INFO replication | tr -d '\r' |
        grep -E '^(role|master_host|master_port|master_link_status):' | sed 's/^/    /'
    echo "    \$ redis-cli -p $OLD_MASTER_PORT GET greeting"
    rcli "$OLD_MASTER_PORT" GET greeting | sed 's/^/    /'
}

hold_until_interrupted() {
    say "running until Ctrl-C; files in $WORK"
    while :; do sleep 1; done
}

main() {
    say "checking for redis-server, redis-sentinel, redis-cli, python3 and curl"
    ensure_redis
    command -v python3 >/dev/null 2>&1 || apt_install python3
    ensure_curl
    build_warden
    STARTED_AT=$SECONDS
    WORK=$(mktemp -d -t warden-demo.XXXXXX)
    start_data_nodes
    start_webhook_receiver
    start_wardens
    wait_for_discovery
    show_topology
    write_a_key
    subscribe_to_events
    kill_the_master
    show_new_master
    show_webhooks
    restart_the_old_master
    if [ "$hold" = yes ]; then
        hold_until_interrupted
    fi
    say "stopping everything and removing $WORK"
    echo "    the demo took $((SECONDS - STARTED_AT)) s"
}

main
