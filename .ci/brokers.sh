#!/usr/bin/env bash
# Install, start and stop the message brokers the protocol tests run against, all on 127.0.0.1:
# RabbitMQ (AMQP 0-9-1 + the AMQP 1.0 plugin), Mosquitto (MQTT 3.1.1 and 5), nats-server (JetStream on).
#
#   .ci/brokers.sh install   # the Debian packages, when missing (apt-get: needs root)
#   .ci/brokers.sh start     # start each broker not already running; wait until it answers
#   .ci/brokers.sh stop      # stop what start started, by the PIDs it recorded
#   .ci/brokers.sh status    # which are running, where
#   .ci/brokers.sh run CMD   # CMD with every broker up (started for it, and stopped after, when not running)
#
# Addresses come from .ci/brokers.env (an environment variable of the same name overrides a line).
# State (configs, data, logs, PID files) lives in CEFMT_BROKERS_DIR (default: .ci/brokers/ in this
# checkout); nothing is written under /etc or /var. Every step is idempotent: starting a running broker
# or stopping a stopped one is fine. A broker that fails to come up has its log printed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=brokers.env
while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_]+$ ]] || continue
    [[ -n "${!key:-}" ]] || printf -v "$key" '%s' "$value"
done <"$HERE/brokers.env"

HOST="$CEFMT_BROKER_HOST"
STATE="${CEFMT_BROKERS_DIR:-$HERE/brokers}"
DEADLINE="${CEFMT_BROKERS_DEADLINE:-90}"     # seconds each broker has to answer
DEBIAN_PACKAGES=(rabbitmq-server mosquitto nats-server)
# Debian's script behind the /usr/sbin wrapper (which insists on switching to the rabbitmq user).
RABBITMQ_SERVER_BIN="${RABBITMQ_SERVER_BIN:-/usr/lib/rabbitmq/bin/rabbitmq-server}"

say() { printf 'brokers: %s\n' "$*"; }
die() { printf 'brokers: error: %s\n' "$*" >&2; exit 1; }

# Whether process $1 exists and is not a zombie (a stopped broker whose parent has not reaped it yet).
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    [[ -r "/proc/$1/stat" ]] || return 0
    local stat; stat="$(<"/proc/$1/stat")"
    [[ "${stat##*) }" != Z* ]]
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# The PID in file $1 if that process is alive and its command line contains $2 (guards against reuse).
live_pid() {
    local file="$1" pattern="$2" pid
    [[ -s "$file" ]] || return 1
    pid="$(<"$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
    fi
    echo "$pid"
}

# Stop the process in file $1 (if it is still the one matching $2): TERM, then KILL after $3 seconds.
stop_pid() {
    local file="$1" pattern="$2" grace="$3" name="$4" pid
    if pid="$(live_pid "$file" "$pattern")"; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
            say "$name (pid $pid) did not stop within ${grace}s: killed"
        else
            say "stopped $name (pid $pid)"
        fi
    else
        say "$name not running"
    fi
    rm -f "$file"
}

show_log() {
    local file
    for file in "$@"; do
        [[ -f "$file" ]] || continue
        printf '\n----- %s (last 80 lines) -----\n' "$file" >&2
        tail -n 80 "$file" >&2
    done
}

# Wait until command "$2..." succeeds; fail (printing the logs in $LOGS) when pid $1 dies or the deadline passes.
wait_ready() {
    local pid="$1" name="$2"; shift 2
    local end=$((SECONDS + DEADLINE))
    until "$@"; do
        if ! alive "$pid"; then
            show_log "${LOGS[@]}"
            die "$name (pid $pid) exited before it was ready"
        fi
        if ((SECONDS >= end)); then
            show_log "${LOGS[@]}"
            die "$name (pid $pid) not ready within ${DEADLINE}s"
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------- install

install() {
    local missing=() pkg
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then say "Debian packages present: ${DEBIAN_PACKAGES[*]}"; return 0; fi
    command -v apt-get >/dev/null || die "no apt-get here: install ${missing[*]} by other means (see docs/brokers.md)"
    ((EUID == 0)) || die "missing Debian packages ${missing[*]}: run as root, or: sudo apt-get install ${missing[*]}"
    # Packages must not start their system-wide services (we start private ones): policy-rc.d says no,
    # unless the machine already has its own policy.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local rc=0
    {
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q || apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}" \
            || { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }
    } >"${TMPDIR:-/tmp}/cefmt-brokers-apt.log" 2>&1 || rc=$?
    ((made_policy)) && rm -f "$policy"
    if ((rc != 0)); then
        tail -n 40 "${TMPDIR:-/tmp}/cefmt-brokers-apt.log" >&2
        die "apt-get install ${missing[*]} failed (exit $rc)"
    fi
    say "installed Debian packages: ${missing[*]}"
}

need() { command -v "$1" >/dev/null || [[ -x "$1" ]] || die "$1 not found: run '$0 install' (or: just brokers-up)"; }

# ---------------------------------------------------------------- RabbitMQ (+ its private epmd)

R="$STATE/rabbitmq"

rabbitmq_env() {
    export HOME="$R/home"                                 # the Erlang cookie lives here
    export RABBITMQ_CONF_ENV_FILE="$R/rabbitmq-env.conf"  # empty: ignore /etc/rabbitmq/rabbitmq-env.conf
    export RABBITMQ_CONFIG_FILE="$R/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$R/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$R/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$R/mnesia"
    export RABBITMQ_LOG_BASE="$R/log"
    export RABBITMQ_LOGS="$R/log/rabbit.log"
    export RABBITMQ_PID_FILE="$R/beam.pid"
    export RABBITMQ_NODENAME="cefmt@localhost"
    export RABBITMQ_NODE_IP_ADDRESS="$HOST"
    export RABBITMQ_NODE_PORT="$CEFMT_AMQP_PORT"
    export RABBITMQ_DIST_PORT="$CEFMT_RABBITMQ_DIST_PORT"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {${HOST//./,}}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {${HOST//./,}}"
    export ERL_EPMD_PORT="$CEFMT_EPMD_PORT"
    export ERL_EPMD_ADDRESS="$HOST"
}

# RabbitMQ is ready when its listener answers the AMQP 1.0 SASL protocol header with the same header:
# that proves the node is up, accepts connections and has the amqp1_0 plugin running.
amqp10_answers() {
    local reply
    reply="$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "AMQP\x03\x01\x00\x00" >&3
        head -c 8 <&3 | od -An -tx1' "$HOST" "$CEFMT_AMQP_PORT" 2>/dev/null)" || return 1
    [[ "$(echo $reply)" == "41 4d 51 50 03 01 00 00" ]]
}

start_epmd() {
    local LOGS=("$R/epmd.log") pid
    if pid="$(live_pid "$R/epmd.pid" epmd)"; then
        wait_ready "$pid" epmd port_open "$CEFMT_EPMD_PORT"
        say "epmd already running (pid $pid)"; return 0
    fi
    port_open "$CEFMT_EPMD_PORT" && die "$HOST:$CEFMT_EPMD_PORT (epmd) is in use by another process"
    need epmd
    nohup epmd -port "$CEFMT_EPMD_PORT" -address "$HOST" >"$R/epmd.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$R/epmd.pid"
    wait_ready "$pid" epmd port_open "$CEFMT_EPMD_PORT"
    say "epmd pid $pid on $HOST:$CEFMT_EPMD_PORT"
}

start_rabbitmq() {
    mkdir -p "$R/home" "$R/mnesia" "$R/log"
    local LOGS=("$R/launcher.log" "$R/log/rabbit.log") pid
    if pid="$(live_pid "$R/launcher.pid" rabbitmq-server)"; then
        wait_ready "$pid" rabbitmq amqp10_answers
        say "rabbitmq already running (pid $pid) on $HOST:$CEFMT_AMQP_PORT"; return 0
    fi
    port_open "$CEFMT_AMQP_PORT" && die "$HOST:$CEFMT_AMQP_PORT (AMQP) is in use by another process"
    need "$RABBITMQ_SERVER_BIN"
    rm -rf "$R/mnesia" && mkdir -p "$R/mnesia"           # every start begins with no queues or exchanges
    : >"$R/rabbitmq-env.conf"
    cat >"$R/rabbitmq.conf" <<EOF
listeners.tcp.1 = $HOST:$CEFMT_AMQP_PORT
# the guest user may connect over any interface (the listener is on $HOST only anyway)
loopback_users = none
log.console = false
log.file.level = info
EOF
    echo '[rabbitmq_amqp1_0].' >"$R/enabled_plugins"
    start_epmd
    (
        rabbitmq_env
        cd "$R"
        exec nohup "$RABBITMQ_SERVER_BIN" >"$R/launcher.log" 2>&1 </dev/null
    ) &
    pid=$!
    echo "$pid" >"$R/launcher.pid"
    wait_ready "$pid" rabbitmq amqp10_answers
    say "rabbitmq pid $pid (erlang vm pid $(cat "$R/beam.pid" 2>/dev/null || echo '?')) on $HOST:$CEFMT_AMQP_PORT (AMQP 0-9-1 and 1.0)"
}

stop_rabbitmq() {
    # TERM to the launcher script makes it stop the Erlang VM cleanly and wait for it.
    stop_pid "$R/launcher.pid" rabbitmq-server 60 rabbitmq
    # Had the launcher died on its own, the VM may still be running: stop it by the PID it wrote.
    stop_pid "$R/beam.pid" beam 30 "rabbitmq erlang vm"
    stop_pid "$R/epmd.pid" epmd 10 epmd
}

# ---------------------------------------------------------------- Mosquitto

M="$STATE/mosquitto"

start_mosquitto() {
    mkdir -p "$M"
    local LOGS=("$M/mosquitto.log") pid
    if pid="$(live_pid "$M/mosquitto.pid" mosquitto)"; then
        wait_ready "$pid" mosquitto port_open "$CEFMT_MQTT_PORT"
        say "mosquitto already running (pid $pid) on $HOST:$CEFMT_MQTT_PORT"; return 0
    fi
    port_open "$CEFMT_MQTT_PORT" && die "$HOST:$CEFMT_MQTT_PORT (MQTT) is in use by another process"
    local bin; bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
    need "$bin"
    cat >"$M/mosquitto.conf" <<EOF
listener $CEFMT_MQTT_PORT $HOST
allow_anonymous true
persistence false
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
EOF
    chmod 644 "$M/mosquitto.conf"
    nohup "$bin" -c "$M/mosquitto.conf" >"$M/mosquitto.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$M/mosquitto.pid"
    wait_ready "$pid" mosquitto port_open "$CEFMT_MQTT_PORT"
    say "mosquitto pid $pid on $HOST:$CEFMT_MQTT_PORT (MQTT 3.1.1 and 5)"
}

stop_mosquitto() { stop_pid "$M/mosquitto.pid" mosquitto 10 mosquitto; }

# ---------------------------------------------------------------- NATS

N="$STATE/nats"

# nats-server greets every client with an INFO line; JetStream is enabled before it accepts any.
nats_answers() {
    local greeting
    greeting="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; head -c 4 <&3' "$HOST" "$CEFMT_NATS_PORT" 2>/dev/null)" \
        || return 1
    [[ "$greeting" == "INFO" ]]
}

start_nats() {
    mkdir -p "$N"
    local LOGS=("$N/nats.log") pid
    if pid="$(live_pid "$N/nats.pid" nats-server)"; then
        wait_ready "$pid" nats-server nats_answers
        say "nats-server already running (pid $pid) on $HOST:$CEFMT_NATS_PORT"; return 0
    fi
    port_open "$CEFMT_NATS_PORT" && die "$HOST:$CEFMT_NATS_PORT (NATS) is in use by another process"
    local bin; bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
    need "$bin"
    rm -rf "$N/jetstream" && mkdir -p "$N/jetstream"     # every start begins with no streams
    nohup "$bin" --addr "$HOST" --port "$CEFMT_NATS_PORT" --server_name cefmt-test \
        --jetstream --store_dir "$N/jetstream" >"$N/nats.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$N/nats.pid"
    wait_ready "$pid" nats-server nats_answers
    say "nats-server pid $pid on $HOST:$CEFMT_NATS_PORT (JetStream on, store $N/jetstream)"
}

stop_nats() { stop_pid "$N/nats.pid" nats-server 10 nats-server; }

# ---------------------------------------------------------------- commands

start() {
    mkdir -p "$STATE"
    local t0=$SECONDS
    start_nats
    start_mosquitto
    start_rabbitmq
    say "all brokers ready in $((SECONDS - t0))s"
}

stop() {
    stop_rabbitmq
    stop_mosquitto
    stop_nats
}

status() {
    local rc=0 pid
    if pid="$(live_pid "$R/launcher.pid" rabbitmq-server)"; then say "rabbitmq   pid $pid  amqp://$HOST:$CEFMT_AMQP_PORT"
    else say "rabbitmq   not running"; rc=3; fi
    if pid="$(live_pid "$M/mosquitto.pid" mosquitto)"; then say "mosquitto  pid $pid  mqtt://$HOST:$CEFMT_MQTT_PORT"
    else say "mosquitto  not running"; rc=3; fi
    if pid="$(live_pid "$N/nats.pid" nats-server)"; then say "nats       pid $pid  nats://$HOST:$CEFMT_NATS_PORT"
    else say "nats       not running"; rc=3; fi
    return "$rc"
}

# Run a command with every broker up: install and start what is missing, run it with
# CEFMT_REQUIRE_BROKERS=1 (a broker that does not answer fails its tests), and stop afterwards only
# the brokers this call started; brokers that were already running are left running.
with_brokers() {
    local was_running=0
    status >/dev/null 2>&1 && was_running=1
    # Brokers another checkout started answer on the same ports: use them rather than clash.
    port_open "$CEFMT_AMQP_PORT" && port_open "$CEFMT_MQTT_PORT" && port_open "$CEFMT_NATS_PORT" && was_running=1
    if [[ $was_running == 0 ]]; then
        install
        start
        trap 'stop' EXIT
    fi
    CEFMT_REQUIRE_BROKERS=1 "$@"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    run) shift; with_brokers "$@" ;;
    *) echo "usage: $0 {install|start|stop|status|run COMMAND...}" >&2; exit 2 ;;
esac
