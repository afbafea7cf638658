#!/usr/bin/env bash
# Install what the local dev/test stack (deploy/local/stack.sh) needs.
# Idempotent: re-running is cheap and changes nothing once everything is there.
#
# Usage: deploy/local/setup.sh [--check] [kafka] [redis] [prometheus] [node-checks]
#   kafka        resolve the Kafka broker jars into .local/kafka/libs/ (needs Java 17+, Maven)
#   redis        install Debian's redis-server (+ redis-cli) with apt-get (needs root)
#   prometheus   install Debian's prometheus (+ promtool) for the observability tests (root)
#   node-checks  npm ci the CRD schema validator of tests/deploy/node (Node.js from apt if none)
#   --check      install nothing; exit 0 if the selected components are ready, 1 if not
# With no component given, all are handled.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

# Keep in sync with <kafka.version> in deploy/local/pom.xml.
KAFKA_VERSION=3.9.1
POM=$SCRIPT_DIR/pom.xml
KAFKA_LIBS=$REPO_ROOT/.local/kafka/libs
KAFKA_STAMP=$KAFKA_LIBS/.resolved

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# ---------------------------------------------------------------- Java / Maven

java_major() {
    # `java -version` prints e.g.: openjdk version "17.0.15" 2025-04-15  (or "1.8.0_392")
    local line ver
    line=$(java -version 2>&1 | head -n 1) || return 1
    ver=$(sed -n 's/.*version "\([^"]*\)".*/\1/p' <<<"$line")
    [[ -n $ver ]] || return 1
    if [[ $ver == 1.* ]]; then
        ver=${ver#1.}
    fi
    ver=${ver%%[!0-9]*}
    [[ -n $ver ]] || return 1
    printf '%s\n' "$ver"
}

check_java() {
    local major
    if ! command -v java >/dev/null 2>&1; then
        die "Java 17 not found (install openjdk-17-jre-headless)"
    fi
    if ! major=$(java_major) || ((major < 17)); then
        die "Java 17 not found (install openjdk-17-jre-headless); 'java -version' reports: $(java -version 2>&1 | head -n 1)"
    fi
}

check_mvn() {
    if ! command -v mvn >/dev/null 2>&1; then
        die "Maven not found (install maven): it is needed once to download the Kafka jars"
    fi
}

# ------------------------------------------------------------------------ Kafka

# The stamp records the Kafka version and the pom checksum, so editing the pom
# (or bumping the version) triggers a fresh resolution.
kafka_stamp_content() {
    printf 'kafka_2.13 %s pom-sha256 %s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"
}

kafka_ready() {
    [[ -f $KAFKA_STAMP && -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] &&
        [[ $(cat "$KAFKA_STAMP") == "$(kafka_stamp_content)" ]]
}

setup_kafka() {
    check_java
    if kafka_ready; then
        log "Kafka $KAFKA_VERSION jars already in ${KAFKA_LIBS#"$REPO_ROOT"/} (stamp ok)"
        return 0
    fi
    check_mvn
    grep -q "<kafka.version>$KAFKA_VERSION</kafka.version>" "$POM" ||
        die "$POM does not pin kafka.version $KAFKA_VERSION (keep setup.sh and pom.xml in sync)"

    local tmp out
    tmp=$(mktemp -d "$REPO_ROOT/.local/kafka/libs.tmp.XXXXXX")
    log "resolving Kafka $KAFKA_VERSION jars with Maven (first run downloads ~60 MB)..."
    # Output is shown only on failure (Maven 3.8 -q still emits stray ANSI codes).
    if ! out=$(mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1); then
        printf '%s\n' "$out" >&2
        rm -rf -- "$tmp"
        die "Maven could not resolve the Kafka jars (network to Maven Central? see output above)"
    fi
    [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || {
        rm -rf -- "$tmp"
        die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
    }
    kafka_stamp_content >"$tmp/.resolved"
    rm -rf -- "$KAFKA_LIBS"
    mv -- "$tmp" "$KAFKA_LIBS"
    log "Kafka jars ready: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in ${KAFKA_LIBS#"$REPO_ROOT"/}"
}

# ------------------------------------------------------------------- apt packages

# apt_install WHAT COMMAND... -- PACKAGE...: install Debian packages unless every COMMAND is on
# PATH already. Runs `apt-get update` only when the first attempt fails (stale or empty lists).
apt_install() {
    local what=$1 cmd missing=0
    shift
    local commands=()
    while [[ $1 != -- ]]; do commands+=("$1"); shift; done
    shift
    for cmd in "${commands[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing=1
    done
    if ((!missing)); then
        log "$what already installed ($(command -v "${commands[0]}"))"
        return 0
    fi
    if ((EUID != 0)); then
        die "$what is not installed and this is not root: run 'sudo apt-get install -y $*' (or 'sudo $0')"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "$what is not installed and apt-get is unavailable: put ${commands[*]} on PATH"

    # stack.sh and the tests run their own servers; keep the packages' services from starting
    # during the install (only if no policy is in place yet).
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
        # shellcheck disable=SC2064  # expand now: remove exactly this file
        trap "rm -f -- '$policy'" EXIT
    fi

    log "installing $* with apt-get..."
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; then
        log "install failed; running apt-get update and retrying..."
        apt-get update || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
            die "apt-get install $* failed"
    fi
    if ((added_policy)); then
        rm -f -- "$policy"
        trap - EXIT
    fi
    for cmd in "${commands[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || die "$* installed but $cmd is not on PATH"
    done
    log "$what installed"
}

apt_ready() {
    local cmd
    for cmd in "$@"; do command -v "$cmd" >/dev/null 2>&1 || return 1; done
}

# Redis for the local stack; Prometheus (and promtool) for the tests that lint /metrics,
# check and unit-test the alert rules and evaluate the dashboard against a real server.
setup_redis() { apt_install redis-server redis-server redis-cli -- redis-server; }
setup_prometheus() { apt_install prometheus prometheus promtool -- prometheus; }

# ------------------------------------------------------------------ node checks

NODE_CHECKS=$REPO_ROOT/tests/deploy/node
NODE_STAMP=$NODE_CHECKS/node_modules/.healthstream-lock-sha256

node_checks_ready() {
    [[ -f $NODE_STAMP && $(cat "$NODE_STAMP") == "$(sha256sum "$NODE_CHECKS/package-lock.json" | cut -d' ' -f1)" ]]
}

setup_node_checks() {
    if node_checks_ready; then
        log "node checks already installed (lock unchanged)"
        return 0
    fi
    apt_install Node.js node npm -- nodejs npm
    log "installing the CRD schema validator with npm ci..."
    npm ci --prefix "$NODE_CHECKS" --no-audit --no-fund --loglevel=error ||
        die "npm ci in ${NODE_CHECKS#"$REPO_ROOT"/} failed"
    sha256sum "$NODE_CHECKS/package-lock.json" | cut -d' ' -f1 >"$NODE_STAMP"
    log "node checks installed"
}

# ------------------------------------------------------------------------- main

main() {
    local check=0 want_kafka=0 want_redis=0 want_prometheus=0 want_node=0 arg
    for arg in "$@"; do
        case $arg in
            --check) check=1 ;;
            kafka) want_kafka=1 ;;
            redis) want_redis=1 ;;
            prometheus) want_prometheus=1 ;;
            node-checks) want_node=1 ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $arg" ;;
        esac
    done
    if ((!want_kafka && !want_redis && !want_prometheus && !want_node)); then
        want_kafka=1
        want_redis=1
        want_prometheus=1
        want_node=1
    fi

    if ((check)); then
        if ((want_kafka)) && ! kafka_ready; then exit 1; fi
        if ((want_redis)) && ! apt_ready redis-server redis-cli; then exit 1; fi
        if ((want_prometheus)) && ! apt_ready prometheus promtool; then exit 1; fi
        if ((want_node)) && ! node_checks_ready; then exit 1; fi
        exit 0
    fi

    mkdir -p -- "$REPO_ROOT/.local/kafka"
    if ((want_kafka)); then setup_kafka; fi
    if ((want_redis)); then setup_redis; fi
    if ((want_prometheus)); then setup_prometheus; fi
    if ((want_node)); then setup_node_checks; fi
    log "done"
}

main "$@"
