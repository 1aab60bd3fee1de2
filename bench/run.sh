#!/usr/bin/env bash
# RPC benchmark: the same C client (bench-rpc) against ember-agent and, in the same run,
# against containerd/ttrpc's Go server (the anchor), each pinned to CPU 0 with the client on
# CPU 1. Also prints binary sizes and idle RSS. Usage: bench/run.sh BUILD_DIR [CALLS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
calls=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/ember-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

bash "$here/go-ttrpc/build.sh" "$build/bench" >/dev/null
PIN0="" PIN1=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN0="taskset -c 0" PIN1="taskset -c 1"; fi
wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "no socket $1" >&2; exit 1; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Each server execs in place of its subshell so that $! is the server's own pid.
(EMBER_CMDLINE_FILE=/dev/null exec $PIN0 "$build/agent/ember-agent" \
  --listen "unix://$tmp/ember.sock" --log-level warn 2>"$tmp/agent.log") &
pids+=($!); ember_pid=$!
(exec $PIN0 "$build/bench/go-ttrpc-server" -addr "unix://$tmp/go.sock" 2>"$tmp/go.log") &
pids+=($!); go_pid=$!
wait_sock "$tmp/ember.sock"; wait_sock "$tmp/go.sock"
sleep 0.2
ember_idle=$(rss_kib "$ember_pid"); go_idle=$(rss_kib "$go_pid")

echo "| scenario | ember p50 µs | Go p50 µs | p50 ratio | ember p99 µs | Go p99 µs | ember calls/s | Go calls/s | throughput ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for scen in "1 1" "16 1" "1 16" "16 16"; do
  set -- $scen
  get() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
  # warm both, then measure ember, Go, ember, Go and keep the better of each pair
  best_e="" best_g=""
  for round in 1 2; do
    e=$($PIN1 "$build/bench/bench-rpc" -a "unix://$tmp/ember.sock" -c "$1" -k "$2" -n "$calls" -l ember)
    g=$($PIN1 "$build/bench/bench-rpc" -a "unix://$tmp/go.sock" -c "$1" -k "$2" -n "$calls" -l go)
    if [ -z "$best_e" ] || awk "BEGIN{exit !($(get calls_per_s "$e") > $(get calls_per_s "$best_e"))}"; then best_e=$e; fi
    if [ -z "$best_g" ] || awk "BEGIN{exit !($(get calls_per_s "$g") > $(get calls_per_s "$best_g"))}"; then best_g=$g; fi
  done
  ep50=$(get p50_us "$best_e"); gp50=$(get p50_us "$best_g")
  ep99=$(get p99_us "$best_e"); gp99=$(get p99_us "$best_g")
  ecps=$(get calls_per_s "$best_e"); gcps=$(get calls_per_s "$best_g")
  awk -v s="conns=$1 inflight=$2" -v a="$ep50" -v b="$gp50" -v c="$ep99" -v d="$gp99" -v e="$ecps" -v f="$gcps" \
    'BEGIN{printf "| %s | %s | %s | %.2f× | %s | %s | %s | %s | %.2f× |\n", s, a, b, a/b, c, d, e, f, e/f}'
done
ember_busy=$(rss_kib "$ember_pid"); go_busy=$(rss_kib "$go_pid")

echo
echo "| binary | size (stripped) |"
echo "|---|---|"
for b in agent/ember-agent init/ember-init tools/emberctl/emberctl; do
  [ -f "$build/$b" ] || continue
  strip -o "$tmp/stripped" "$build/$b"
  echo "| $(basename "$b") | $(stat -c %s "$tmp/stripped") bytes ($(( $(stat -c %s "$tmp/stripped") / 1024 )) KiB) |"
done
echo
echo "| process | idle RSS | RSS after the load |"
echo "|---|---|---|"
echo "| ember-agent | $ember_idle KiB | $ember_busy KiB |"
echo "| Go ttrpc server | $go_idle KiB | $go_busy KiB |"
