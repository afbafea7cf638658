#!/usr/bin/env bash
# `make run`: topics, one worker and the demo generator on the local stack, with a live view.
# Ctrl-C stops everything this script started (and the stack, if it was not running before).
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PY=${PY:-.venv/bin/python}
WEB_PORT=${HS_WEB_PORT:-6066}
export HS_WEB_PORT=$WEB_PORT
RATE=${DEMO_RATE:-50}
ACCOUNTS=${DEMO_ACCOUNTS:-200}
LOGS=.local/run
mkdir -p "$LOGS"

stack_was_up=0
if deploy/local/stack.sh status >/dev/null 2>&1; then stack_was_up=1; fi
deploy/local/stack.sh up

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "stopping worker and demo generator..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$stack_was_up" = 0 ]; then deploy/local/stack.sh down; fi
}
trap cleanup INT TERM EXIT

"$PY" -m stream_app topics create
"$PY" -m stream_app worker >"$LOGS/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$WEB_PORT/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "${pids[0]}" 2>/dev/null; then
        echo "worker exited; last lines of $LOGS/worker.log:" >&2; tail -40 "$LOGS/worker.log" >&2; exit 1
    fi
    sleep 1
done
"$PY" -m stream_app produce-demo --accounts "$ACCOUNTS" --rate "$RATE" >"$LOGS/demo.log" 2>&1 &
pids+=($!)

cat <<MSG

healthstream is running.
  input topics   cs.product-usage.v1  cs.tickets.v1  cs.surveys.v1  cs.accounts.v1
  output topics  cs.health-scores.v1  cs.risk-alerts.v1  dead letters: cs.events-dlq.v1
  metrics        http://127.0.0.1:$WEB_PORT/metrics
  health         http://127.0.0.1:$WEB_PORT/readyz
  logs           $LOGS/worker.log  $LOGS/demo.log
  demo traffic   $ACCOUNTS accounts at $RATE events/s
Press Ctrl-C to stop.

MSG
"$PY" -m stream_app watch --url "http://127.0.0.1:$WEB_PORT" &
pids+=($!)
wait "${pids[0]}"
