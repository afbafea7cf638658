#!/usr/bin/env bash
# Local dev/test stack without Docker: single-node Kafka (KRaft, combined
# broker+controller) and Redis, both bound to 127.0.0.1, state under .local/.
#
# Usage: deploy/local/stack.sh up|down|status|logs [-f]|reset
#   up      start Kafka and Redis (runs setup.sh first if something is missing)
#   down    stop what `up` started (data is kept)
#   status  show state; exit 0 if both answer, 3 otherwise
#   logs    show the last lines of the logs (-f: follow)
#   reset   delete the Kafka data dir (stack must be down)
#
# Environment:
#   KAFKA_BOOTSTRAP        host:port clients use (default localhost:9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default: Kafka port + 1)
#   REDIS_URL              redis://host:port/db (default redis://localhost:6379/0)
#   KAFKA_HEAP_OPTS        JVM heap (default "-Xmx1G -Xms256m")
#   KAFKA_START_TIMEOUT    seconds to wait for Kafka readiness (default 90)
# If the port already answers as Kafka/Redis (CI service, another dev setup),
# that service is used as-is and `down` leaves it alone.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)
LOCAL_DIR=$REPO_ROOT/.local

KAFKA_DIR=$LOCAL_DIR/kafka
KAFKA_LIBS=$KAFKA_DIR/libs
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_LOGS=$KAFKA_DIR/logs
KAFKA_PROPS=$KAFKA_DIR/server.properties
KAFKA_PID=$KAFKA_DIR/kafka.pid
KAFKA_OUT=$KAFKA_DIR/kafka.out
KAFKA_PORTS=$KAFKA_DIR/kafka.ports
KAFKA_CLUSTER_ID=$KAFKA_DIR/cluster.id
KAFKA_SERVER_LOG=$KAFKA_LOGS/server.log
KAFKA_LOG4J=$SCRIPT_DIR/log4j.properties
KAFKA_READY_LINE='Kafka Server started'

REDIS_DIR=$LOCAL_DIR/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log
REDIS_PORTS=$REDIS_DIR/redis.port

STOP_TIMEOUT=30

log() { printf '%s\n' "$*"; }
warn() { printf 'stack: WARNING: %s\n' "$*" >&2; }
die() { printf 'stack: ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# ----------------------------------------------------------------- env parsing

KAFKA_HOST='' KAFKA_PORT='' KAFKA_CPORT='' REDIS_HOST='' REDIS_PORT=''

parse_env() {
    local bs url hostport
    # KAFKA_BOOTSTRAP: [kafka://]host:port[,host:port...]; the first entry is used.
    bs=${KAFKA_BOOTSTRAP:-localhost:9092}
    bs=${bs#*://}
    bs=${bs%%,*}
    split_hostport "$bs" 9092 || die "cannot parse KAFKA_BOOTSTRAP='${KAFKA_BOOTSTRAP:-}' (want host:port)"
    KAFKA_HOST=$SPLIT_HOST KAFKA_PORT=$SPLIT_PORT
    KAFKA_CPORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
    if [[ ! $KAFKA_CPORT =~ ^[0-9]+$ ]] || ((KAFKA_CPORT < 1 || KAFKA_CPORT > 65535)); then
        die "bad KAFKA_CONTROLLER_PORT='$KAFKA_CPORT'"
    fi
    ((KAFKA_CPORT != KAFKA_PORT)) || die "KAFKA_CONTROLLER_PORT must differ from the Kafka port ($KAFKA_PORT)"

    # REDIS_URL: redis://[user:pass@]host[:port][/db][?query]
    url=${REDIS_URL:-redis://localhost:6379/0}
    [[ $url == *://* ]] || die "cannot parse REDIS_URL='$url' (want redis://host:port/db)"
    hostport=${url#*://}
    hostport=${hostport%%[/?]*}
    hostport=${hostport##*@}
    split_hostport "$hostport" 6379 || die "cannot parse REDIS_URL='$url' (want redis://host:port/db)"
    REDIS_HOST=$SPLIT_HOST REDIS_PORT=$SPLIT_PORT
}

SPLIT_HOST='' SPLIT_PORT=''
split_hostport() { # host:port | [v6]:port | host  -> SPLIT_HOST SPLIT_PORT
    local s=$1 default_port=$2
    if [[ $s =~ ^\[([^]]+)\](:([0-9]+))?$ ]]; then
        SPLIT_HOST=${BASH_REMATCH[1]} SPLIT_PORT=${BASH_REMATCH[3]:-$default_port}
    elif [[ $s =~ ^([^:]*)(:([0-9]+))?$ ]]; then
        SPLIT_HOST=${BASH_REMATCH[1]:-localhost} SPLIT_PORT=${BASH_REMATCH[3]:-$default_port}
    else
        return 1
    fi
    ((SPLIT_PORT > 0 && SPLIT_PORT < 65536))
}

is_local_host() {
    case $1 in
        localhost | 127.0.0.1 | ::1 | 0.0.0.0 | localhost.localdomain) return 0 ;;
        *) return 1 ;;
    esac
}

# Address used to probe a service: ours always listen on 127.0.0.1.
probe_host() {
    if is_local_host "$1"; then printf '127.0.0.1\n'; else printf '%s\n' "$1"; fi
}

# ---------------------------------------------------------------------- probes

port_open() { # host port
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Sends a Kafka ApiVersions v0 request (correlation id 1) and checks that the
# reply carries that correlation id: proves a Kafka broker is serving requests.
kafka_answers() { # host port
    local reply
    # shellcheck disable=SC2016  # the script is for the inner bash
    reply=$(timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05probe" >&3
        head -c 8 <&3 | od -An -tx1
    ' _ "$1" "$2" 2>/dev/null | tr -d ' \n') || true
    [[ ${#reply} -eq 16 && ${reply:8:8} == 00000001 ]]
}

redis_answers() { # host port; PONG, or an auth error from a protected Redis
    local reply
    if command -v redis-cli >/dev/null 2>&1; then
        reply=$(timeout 5 redis-cli -h "$1" -p "$2" ping 2>&1) || true
    else
        # shellcheck disable=SC2016
        reply=$(timeout 5 bash -c '
            exec 3<>"/dev/tcp/$1/$2" || exit 1
            printf "PING\r\n" >&3
            IFS= read -r line <&3 && printf "%s\n" "${line%$'"'\r'"'}"
        ' _ "$1" "$2" 2>/dev/null) || true
    fi
    [[ $reply == PONG || $reply == +PONG || $reply == *NOAUTH* ]]
}

# ------------------------------------------------------------ pid file helpers

# Prints the pid from $1 if that process is alive and its command line
# contains $2 (guards against stale pid files and pid reuse).
our_pid() { # pidfile pattern
    local pid
    [[ -f $1 ]] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [[ -n $pid ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
    printf '%s\n' "$pid"
}

stop_pid() { # pid name
    local pid=$1 name=$2 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < STOP_TIMEOUT * 2; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    warn "$name (pid $pid) still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    die "$name (pid $pid) did not exit after SIGKILL"
}

ensure_setup() { # component
    if ! "$SCRIPT_DIR/setup.sh" --check "$1"; then
        log "$1: not installed yet; running deploy/local/setup.sh $1"
        "$SCRIPT_DIR/setup.sh" "$1"
    fi
}

# ----------------------------------------------------------------------- Kafka

KAFKA_CMD=()
kafka_cmd() { # sets KAFKA_CMD=(java <jvm flags> -cp <libs>/*)
    local heap=()
    read -ra heap <<<"${KAFKA_HEAP_OPTS:--Xmx1G -Xms256m}"
    KAFKA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
        -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$KAFKA_LOGS"
        -cp "$KAFKA_LIBS/*")
}

kafka_java() { # main-class args...
    kafka_cmd
    "${KAFKA_CMD[@]}" "$@"
}

write_server_properties() {
    cat >"$KAFKA_PROPS" <<EOF
# Generated by deploy/local/stack.sh on every 'up'; edit the script, not this file.
# Single-node KRaft (combined broker + controller) for local dev/tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CPORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$KAFKA_DATA
num.partitions=4
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0

# 2 MiB: oversized (256 KiB+) messages must reach the app so it can reject them.
message.max.bytes=2097152
replica.fetch.max.bytes=2097152

log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
num.network.threads=3
num.io.threads=8
EOF
}

kafka_format_if_needed() {
    [[ -f $KAFKA_DATA/meta.properties ]] && return 0
    local cid out
    if [[ -s $KAFKA_CLUSTER_ID ]]; then
        cid=$(<"$KAFKA_CLUSTER_ID")
    else
        cid=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1) ||
            die "kafka.tools.StorageTool random-uuid failed"
        [[ $cid =~ ^[A-Za-z0-9_-]{22}$ ]] || die "unexpected cluster id from StorageTool: '$cid'"
        printf '%s\n' "$cid" >"$KAFKA_CLUSTER_ID"
    fi
    log "kafka: formatting storage in ${KAFKA_DATA#"$REPO_ROOT"/} (cluster id $cid)"
    mkdir -p -- "$KAFKA_DATA"
    if ! out=$(kafka_java kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" 2>&1); then
        printf '%s\n' "$out" >&2
        die "kafka: storage format failed"
    fi
}

kafka_dump_logs() { # server.log byte offset at launch
    local offset=${1:-0}
    {
        printf -- '--- last 40 lines of %s ---\n' "${KAFKA_SERVER_LOG#"$REPO_ROOT"/}"
        if [[ -f $KAFKA_SERVER_LOG ]]; then tail -c +"$((offset + 1))" "$KAFKA_SERVER_LOG" | tail -n 40; fi
        printf -- '--- last 40 lines of %s ---\n' "${KAFKA_OUT#"$REPO_ROOT"/}"
        # only this launch: what follows the last "===== ... stack.sh up =====" marker
        if [[ -f $KAFKA_OUT ]]; then
            awk '/^===== .* stack.sh up =====$/ { n = 0 } { line[++n] = $0 }
                 END { for (i = (n > 40 ? n - 39 : 1); i <= n; i++) print line[i] }' "$KAFKA_OUT"
        fi
    } >&2
}

kafka_wait_ready() { # pid server.log-offset
    local pid=$1 offset=$2 timeout=${KAFKA_START_TIMEOUT:-90} start=$SECONDS size
    log "kafka: waiting for the broker on 127.0.0.1:$KAFKA_PORT (timeout ${timeout}s)..."
    while ((SECONDS - start < timeout)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            kafka_dump_logs "$offset"
            rm -f -- "$KAFKA_PID"
            die "kafka: broker process $pid exited during startup (logs above)"
        fi
        if [[ -f $KAFKA_SERVER_LOG ]]; then
            size=$(stat -c %s "$KAFKA_SERVER_LOG")
            ((size >= offset)) || offset=0 # log was rotated meanwhile
            if tail -c +"$((offset + 1))" "$KAFKA_SERVER_LOG" | grep -qF "$KAFKA_READY_LINE" &&
                kafka_answers 127.0.0.1 "$KAFKA_PORT"; then
                log "kafka: ready on 127.0.0.1:$KAFKA_PORT after $((SECONDS - start))s (pid $pid)"
                return 0
            fi
        fi
        sleep 1
    done
    kafka_dump_logs "$offset"
    warn "kafka: not ready after ${timeout}s; stopping pid $pid"
    stop_pid "$pid" kafka
    rm -f -- "$KAFKA_PID"
    die "kafka: broker did not become ready within ${timeout}s (logs above)"
}

kafka_up() {
    local pid ph offset
    ph=$(probe_host "$KAFKA_HOST")

    if pid=$(our_pid "$KAFKA_PID" kafka.Kafka); then
        if [[ $(cat "$KAFKA_PORTS" 2>/dev/null) != "$KAFKA_PORT $KAFKA_CPORT" ]]; then
            die "kafka: already running (pid $pid) with ports '$(cat "$KAFKA_PORTS" 2>/dev/null)', not '$KAFKA_PORT $KAFKA_CPORT'; run '$0 down' first"
        fi
        if kafka_answers 127.0.0.1 "$KAFKA_PORT"; then
            log "kafka: already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
            return 0
        fi
        log "kafka: pid $pid is running but not answering yet"
        kafka_wait_ready "$pid" 0
        return 0
    fi
    rm -f -- "$KAFKA_PID"

    if ! is_local_host "$KAFKA_HOST"; then
        kafka_answers "$ph" "$KAFKA_PORT" ||
            die "kafka: KAFKA_BOOTSTRAP points to $KAFKA_HOST:$KAFKA_PORT, which is not local and does not answer as Kafka; this script only starts a broker on localhost"
        log "kafka: using external broker at $KAFKA_HOST:$KAFKA_PORT (not started by us)"
        return 0
    fi
    if kafka_answers "$ph" "$KAFKA_PORT"; then
        log "kafka: a broker not started by this script already answers on port $KAFKA_PORT; using it"
        return 0
    fi
    if port_open "$ph" "$KAFKA_PORT"; then
        die "kafka: port $KAFKA_PORT is in use by something that does not answer as Kafka (set KAFKA_BOOTSTRAP=localhost:<free port>)"
    fi
    if port_open 127.0.0.1 "$KAFKA_CPORT"; then
        die "kafka: controller port $KAFKA_CPORT is in use (set KAFKA_CONTROLLER_PORT=<free port>)"
    fi

    ensure_setup kafka
    mkdir -p -- "$KAFKA_DATA" "$KAFKA_LOGS"
    write_server_properties
    kafka_format_if_needed

    offset=0
    [[ -f $KAFKA_SERVER_LOG ]] && offset=$(stat -c %s "$KAFKA_SERVER_LOG")
    log "kafka: starting Kafka (KRaft, node.id=1) on 127.0.0.1:$KAFKA_PORT, controller 127.0.0.1:$KAFKA_CPORT"
    printf '\n===== %s stack.sh up =====\n' "$(date -Is)" >>"$KAFKA_OUT"
    kafka_cmd
    (cd -- "$KAFKA_DIR" && exec nohup "${KAFKA_CMD[@]}" kafka.Kafka "$KAFKA_PROPS") \
        >>"$KAFKA_OUT" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$KAFKA_PID"
    printf '%s %s\n' "$KAFKA_PORT" "$KAFKA_CPORT" >"$KAFKA_PORTS"
    kafka_wait_ready "$pid" "$offset"
}

kafka_down() {
    local pid
    if pid=$(our_pid "$KAFKA_PID" kafka.Kafka); then
        log "kafka: stopping pid $pid (SIGTERM, up to ${STOP_TIMEOUT}s)..."
        stop_pid "$pid" kafka
        log "kafka: stopped (data kept in ${KAFKA_DATA#"$REPO_ROOT"/})"
    else
        log "kafka: not running (nothing started by this script)"
    fi
    rm -f -- "$KAFKA_PID" "$KAFKA_PORTS"
}

kafka_status() {
    local pid ph
    ph=$(probe_host "$KAFKA_HOST")
    if pid=$(our_pid "$KAFKA_PID" kafka.Kafka); then
        if kafka_answers 127.0.0.1 "$(cut -d' ' -f1 "$KAFKA_PORTS" 2>/dev/null || echo "$KAFKA_PORT")"; then
            log "kafka: running (pid $pid, ports $(cat "$KAFKA_PORTS" 2>/dev/null)), answering"
            return 0
        fi
        log "kafka: running (pid $pid) but NOT answering"
        return 1
    fi
    if kafka_answers "$ph" "$KAFKA_PORT"; then
        log "kafka: external broker answering on $KAFKA_HOST:$KAFKA_PORT (not started by us)"
        return 0
    fi
    log "kafka: stopped"
    return 1
}

# ----------------------------------------------------------------------- Redis

redis_up() {
    local pid ph i
    ph=$(probe_host "$REDIS_HOST")

    if pid=$(our_pid "$REDIS_PID" redis-server); then
        if [[ $(cat "$REDIS_PORTS" 2>/dev/null) != "$REDIS_PORT" ]]; then
            die "redis: already running (pid $pid) on port '$(cat "$REDIS_PORTS" 2>/dev/null)', not '$REDIS_PORT'; run '$0 down' first"
        fi
        if redis_answers 127.0.0.1 "$REDIS_PORT"; then
            log "redis: already running (pid $pid) on 127.0.0.1:$REDIS_PORT"
            return 0
        fi
    else
        rm -f -- "$REDIS_PID"
        if ! is_local_host "$REDIS_HOST"; then
            redis_answers "$ph" "$REDIS_PORT" ||
                die "redis: REDIS_URL points to $REDIS_HOST:$REDIS_PORT, which is not local and does not answer as Redis; this script only starts Redis on localhost"
            log "redis: using external Redis at $REDIS_HOST:$REDIS_PORT (not started by us)"
            return 0
        fi
        if redis_answers "$ph" "$REDIS_PORT"; then
            log "redis: a Redis not started by this script already answers on port $REDIS_PORT; using it"
            return 0
        fi
        if port_open "$ph" "$REDIS_PORT"; then
            die "redis: port $REDIS_PORT is in use by something that does not answer as Redis (set REDIS_URL=redis://localhost:<free port>/0)"
        fi

        ensure_setup redis
        mkdir -p -- "$REDIS_DIR"
        log "redis: starting redis-server on 127.0.0.1:$REDIS_PORT (no persistence)"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
            --daemonize yes --save '' --appendonly no \
            --dir "$REDIS_DIR" --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" ||
            die "redis: redis-server failed to start (see ${REDIS_LOG#"$REPO_ROOT"/})"
        printf '%s\n' "$REDIS_PORT" >"$REDIS_PORTS"
    fi

    for ((i = 0; i < 60; i++)); do
        if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then
            pid=$(our_pid "$REDIS_PID" redis-server || echo '?')
            log "redis: ready on 127.0.0.1:$REDIS_PORT (pid $pid)"
            return 0
        fi
        sleep 0.5
    done
    [[ -f $REDIS_LOG ]] && tail -n 40 "$REDIS_LOG" >&2
    die "redis: no PONG from 127.0.0.1:$REDIS_PORT within 30s (log above)"
}

redis_down() {
    local pid
    if pid=$(our_pid "$REDIS_PID" redis-server); then
        log "redis: stopping pid $pid..."
        stop_pid "$pid" redis
        log "redis: stopped"
    else
        log "redis: not running (nothing started by this script)"
    fi
    rm -f -- "$REDIS_PID" "$REDIS_PORTS"
}

redis_status() {
    local pid ph port
    ph=$(probe_host "$REDIS_HOST")
    if pid=$(our_pid "$REDIS_PID" redis-server); then
        port=$(cat "$REDIS_PORTS" 2>/dev/null || echo "$REDIS_PORT")
        if redis_answers 127.0.0.1 "$port"; then
            log "redis: running (pid $pid, port $port), answering"
            return 0
        fi
        log "redis: running (pid $pid) but NOT answering"
        return 1
    fi
    if redis_answers "$ph" "$REDIS_PORT"; then
        log "redis: external Redis answering on $REDIS_HOST:$REDIS_PORT (not started by us)"
        return 0
    fi
    log "redis: stopped"
    return 1
}

# ------------------------------------------------------------------- commands

cmd_up() {
    mkdir -p -- "$KAFKA_DIR" "$REDIS_DIR"
    redis_up
    kafka_up
    log "stack up: KAFKA_BOOTSTRAP=$KAFKA_HOST:$KAFKA_PORT REDIS_URL=redis://$REDIS_HOST:$REDIS_PORT/0"
}

cmd_down() {
    kafka_down
    redis_down
}

cmd_status() {
    local rc=0
    kafka_status || rc=3
    redis_status || rc=3
    return "$rc"
}

cmd_logs() {
    local files=() f
    for f in "$KAFKA_SERVER_LOG" "$KAFKA_OUT" "$REDIS_LOG"; do
        [[ -f $f ]] && files+=("$f")
    done
    ((${#files[@]})) || { log "no logs yet under ${LOCAL_DIR#"$REPO_ROOT"/}"; return 0; }
    if [[ ${1:-} == -f ]]; then
        exec tail -n 20 -F -- "${files[@]}"
    fi
    tail -n 40 -- "${files[@]}"
}

cmd_reset() {
    local pid
    if pid=$(our_pid "$KAFKA_PID" kafka.Kafka); then
        die "kafka is running (pid $pid); run '$0 down' first"
    fi
    rm -rf -- "$KAFKA_DATA" "$KAFKA_CLUSTER_ID"
    log "kafka: data deleted (${KAFKA_DATA#"$REPO_ROOT"/}); the next 'up' formats fresh storage"
}

main() {
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
        up | down | status | reset)
            parse_env
            "cmd_$cmd" "$@"
            ;;
        logs) cmd_logs "$@" ;;
        -h | --help | help) usage ;;
        *)
            usage >&2
            printf 'stack: ERROR: unknown command %s\n' "${cmd:-(none)}" >&2
            exit 2
            ;;
    esac
}

main "$@"
