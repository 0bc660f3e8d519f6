#!/usr/bin/env bash
# A local 3-node dynago cluster in background processes, for trying it out:
#
#   scripts/cluster.sh start   (make cluster)       start it, or restart the nodes of
#                                                   a running cluster that died
#   scripts/cluster.sh stop    (make cluster-stop)  stop it and delete its data
#   scripts/cluster.sh status                       which nodes run, and the ring
#
# Nodes listen on 127.0.0.1:7001-7003 (cluster ports 17001-17003). Data lives in
# a temporary directory named in .cluster/dir; logs are .cluster/node<i>.log and
# PIDs .cluster/node<i>.pid. Extra flags for every node: CLUSTER_ARGS='--n 3 ...'.
# Both commands are idempotent. Only the recorded PIDs are ever signalled, and
# only while they still are dynago processes.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin/dynago
STATE=.cluster
NODES=(1 2 3)
HOST=127.0.0.1
WAIT_SECONDS=30
CLUSTER_ARGS=${CLUSTER_ARGS:-}

port() { echo $((7000 + $1)); }
pidfile() { echo "$STATE/node$1.pid"; }
logfile() { echo "$STATE/node$1.log"; }

# pid_of i: the recorded PID of node i if that process is alive and is dynago.
pid_of() {
  local f pid
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dynago" || return 1
  echo "$pid"
}

# port_busy p: something accepts connections on 127.0.0.1:p.
port_busy() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# info p section: INFO section from the node on port p, CRs stripped.
info() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "$HOST" -p "$1" INFO "$2" 2>/dev/null | tr -d '\r'
    return
  fi
  # No redis-cli: an inline command over bash's /dev/tcp.
  { exec 3<>"/dev/tcp/$HOST/$1"; } 2>/dev/null || return 1
  printf 'INFO %s\r\nQUIT\r\n' "$2" >&3
  timeout 2 cat <&3 | tr -d '\r'
  exec 3<&-
}

# ring_ok: every node reports the same ring epoch, 3 members, all alive.
ring_ok() {
  local epoch="" i out e
  for i in "${NODES[@]}"; do
    out=$(info "$(port "$i")" cluster) || return 1
    grep -q '^ring_members:3$' <<<"$out" || return 1
    [ "$(grep -c '^member[0-9]*:.*alive=1' <<<"$out")" -eq 3 ] || return 1
    e=$(sed -n 's/^ring_epoch://p' <<<"$out")
    [ -n "$e" ] || return 1
    [ -z "$epoch" ] || [ "$e" = "$epoch" ] || return 1
    epoch=$e
  done
}

show_logs() {
  local i
  for i in "${NODES[@]}"; do
    echo "---- $(logfile "$i") (last 15 lines) ----" >&2
    tail -n 15 "$(logfile "$i")" >&2 2>/dev/null || true
  done
}

# others i: the client addresses of the nodes other than i, comma-separated.
others() {
  local j out=()
  for j in "${NODES[@]}"; do
    [ "$j" = "$1" ] || out+=("$HOST:$(port "$j")")
  done
  (IFS=,; echo "${out[*]}")
}

# start_node i join: start node i in the background with --join join ("" for none).
start_node() {
  local i=$1 join=$2 dir
  dir=$(cat "$STATE/dir")
  local args=(--addr "$HOST:$(port "$i")" --data-dir "$dir/node$i" --name "node$i")
  [ -z "$join" ] || args+=(--join "$join")
  # shellcheck disable=SC2206 # CLUSTER_ARGS is a list of flags on purpose
  args+=($CLUSTER_ARGS)
  if port_busy "$(port "$i")" || port_busy "$((10000 + $(port "$i")))"; then
    echo "cluster: port $(port "$i") or $((10000 + $(port "$i"))) is taken by another process; free it first" >&2
    exit 1
  fi
  # setsid: a Ctrl-C in the terminal that ran make does not reach the nodes.
  setsid "$BIN" "${args[@]}" >>"$(logfile "$i")" 2>&1 </dev/null &
  echo $! >"$(pidfile "$i")"
  echo "cluster: node$i started on $HOST:$(port "$i") (pid $!, log $(logfile "$i"))"
}

# wait_up i: wait until node i answers.
wait_up() {
  local i=$1 deadline=$((SECONDS + WAIT_SECONDS))
  until [ -n "$(info "$(port "$i")" server 2>/dev/null)" ]; do
    if ! pid_of "$i" >/dev/null; then
      echo "cluster: node$i exited during start" >&2
      show_logs
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "cluster: node$i does not answer after ${WAIT_SECONDS}s" >&2
      show_logs
      exit 1
    fi
    sleep 0.2
  done
}

usage() {
  cat <<EOF

A 3-node dynago cluster runs on $HOST:7001-7003 (N=3, R=2, W=2 unless CLUSTER_ARGS says otherwise).
Data: $(cat "$STATE/dir")   logs: $STATE/node1.log ... node3.log

  redis-cli -c -p 7001                   # any node serves any key
  redis-cli -p 7002 CLUSTER NODES        # the ring as Redis Cluster clients see it
  redis-cli -p 7001 INFO cluster         # ring epoch, members, alive=1/0
  redis-cli -p 7001 DYNAGO LOCAL mykey   # this node's own copy of a key

Watch it heal:
  kill -9 \$(cat $STATE/node3.pid)      # crash node 3
  redis-cli -p 7001 SET k v              # writes still succeed (W=2 of the 2 left)
  redis-cli -p 7001 INFO hints           # hints_pending grows: writes kept for node 3
  make cluster                           # restarts node 3; hints_pending drains to 0
  redis-cli -p 7003 DYNAGO LOCAL k       # node 3 got the write it missed

Stop it and delete its data: make cluster-stop
EOF
}

start() {
  mkdir -p "$STATE"
  [ -x "$BIN" ] || { echo "cluster: $BIN is missing: run make build (make cluster does)" >&2; exit 1; }
  local dead=() i
  for i in "${NODES[@]}"; do
    pid_of "$i" >/dev/null || dead+=("$i")
  done
  if [ ${#dead[@]} -eq 0 ]; then
    echo "cluster: already running (pids $(pid_of 1) $(pid_of 2) $(pid_of 3))"
  elif [ -f "$STATE/dir" ] && [ -d "$(cat "$STATE/dir")" ]; then
    # Nodes of this cluster died (or were killed): restart them on their
    # data. Each joins all the others, so it finds whichever runs.
    for i in "${dead[@]}"; do
      start_node "$i" "$(others "$i")"
    done
    for i in "${dead[@]}"; do wait_up "$i"; done
  else
    # A fresh cluster: node 1 creates the ring, the others join it.
    rm -f "$STATE"/node*.pid "$STATE/dir"
    mktemp -d "${TMPDIR:-/tmp}/dynago-cluster.XXXXXX" >"$STATE/dir"
    for i in "${NODES[@]}"; do : >"$(logfile "$i")"; done
    start_node 1 ""
    wait_up 1
    start_node 2 "$HOST:$(port 1)"
    start_node 3 "$HOST:$(port 1)"
    wait_up 2
    wait_up 3
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  until ring_ok; do
    if [ $SECONDS -ge $deadline ]; then
      echo "cluster: the nodes did not agree on a ring of 3 live members within ${WAIT_SECONDS}s" >&2
      show_logs
      echo "(make cluster-stop stops what runs)" >&2
      exit 1
    fi
    sleep 0.3
  done
  echo "cluster: every node sees the same ring of 3 live members"
  usage
}

stop() {
  local i pid pids=()
  for i in "${NODES[@]}"; do
    if pid=$(pid_of "$i"); then
      kill -TERM "$pid"
      pids+=("$pid")
      echo "cluster: node$i (pid $pid) sent SIGTERM"
    fi
  done
  local deadline=$((SECONDS + WAIT_SECONDS))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        echo "cluster: pid $pid did not exit within ${WAIT_SECONDS}s; its data is kept" >&2
        exit 1
      fi
      sleep 0.2
    done
  done
  rm -f "$STATE"/node*.pid
  if [ -f "$STATE/dir" ]; then
    local dir
    dir=$(cat "$STATE/dir")
    # Only a directory this script created.
    case "$dir" in
      */dynago-cluster.??????) rm -rf -- "$dir" && echo "cluster: removed $dir" ;;
      *) echo "cluster: not removing unexpected data dir '$dir'" >&2 ;;
    esac
    rm -f "$STATE/dir"
  fi
  echo "cluster: stopped (logs kept in $STATE/)"
}

status() {
  local i
  for i in "${NODES[@]}"; do
    if pid=$(pid_of "$i"); then
      echo "node$i $HOST:$(port "$i") pid $pid"
    else
      echo "node$i $HOST:$(port "$i") not running"
    fi
  done
  if ring_ok; then echo "ring: 3 live members, same epoch on every node"; else echo "ring: not converged"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
