#!/usr/bin/env bash
# Interop test: real containerd/ttrpc Go client (1.1.1) against an agent.
#
#   tests/interop/run.sh AGENT_BINARY BUILD_DIR [extra ttrpc-client args...]
#
# - builds tests/interop/ttrpc-client into BUILD_DIR/interop/ (offline, GOPATH
#   mode, Go build cache in BUILD_DIR/interop/.gocache)
# - starts `AGENT_BINARY --listen unix://$tmp/agent.sock` (log: $tmp/agent.log,
#   printed on failure), waits up to ${INTEROP_SOCKET_WAIT:-5} s for the socket
# - runs the client (INTEROP_EXTENDED=1 adds -extended; INTEROP_ROOTFS=1 builds a busybox
#   rootfs, runs the agent in a private mount namespace and adds -rootfs), bounded by
#   ${INTEROP_CLIENT_TIMEOUT:-300} s
# - fails if the agent is no longer alive after the client finishes
# - stops the agent (SIGTERM, then SIGKILL after 3 s) and removes $tmp
# Exit status: the client's status, or 1 if the agent died / never listened,
# 2 on usage or build errors.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 AGENT_BINARY BUILD_DIR [ttrpc-client args...]" >&2
    exit 2
fi
agent=$1
build_dir=$2
shift 2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x "$agent" ]; then
    echo "$0: agent binary '$agent' not found or not executable" >&2
    exit 2
fi
case "$agent" in /*) ;; *) agent="$PWD/$agent" ;; esac
mkdir -p "$build_dir/interop" || exit 2
out=$(cd "$build_dir/interop" && pwd)

# ---- build the client (offline) ----
if ! command -v go >/dev/null 2>&1; then
    echo "$0: 'go' not found (apt-get install golang-go golang-github-containerd-ttrpc-dev)" >&2
    exit 2
fi
client="$out/ttrpc-client"
(
    export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off CGO_ENABLED=0
    export GOCACHE="$out/.gocache"
    mkdir -p "$GOCACHE"
    cd "$here" && go build -o "$client" ./ttrpc-client
) || { echo "$0: building ttrpc-client failed" >&2; exit 2; }

# ---- start the agent ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-interop.XXXXXX") || exit 2
sock="$tmp/agent.sock"
log="$tmp/agent.log"
agent_pid=

stop_agent() {
    [ -n "$agent_pid" ] || return 0
    if kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid" 2>/dev/null
        for _ in $(seq 30); do
            kill -0 "$agent_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$agent_pid" 2>/dev/null && kill -KILL "$agent_pid" 2>/dev/null
    fi
    wait "$agent_pid" 2>/dev/null
    agent_pid=
}
cleanup() {
    stop_agent
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_log() {
    echo "---- agent log ($log, last 50 lines) ----" >&2
    tail -n 50 "$log" >&2 2>/dev/null
    echo "---- end of agent log ----" >&2
}

# INTEROP_ROOTFS=1: a busybox rootfs for check (i) (containers). The agent then runs in a
# private mount namespace with its own /run, as the integration tests run it: the host's
# /run/kata-containers stays untouched. unshare -m without a fork keeps $agent_pid the agent.
rootfs_args=()
if [ "${INTEROP_ROOTFS:-0}" = 1 ]; then
    if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
        bash "$here/../integration/rootfs.sh" "$tmp/rootfs" >/dev/null; then
        rootfs_args=(-rootfs "$tmp/rootfs")
    else
        echo "# INTEROP_ROOTFS: needs root, unshare and busybox; check (i) skipped"
    fi
fi
if [ ${#rootfs_args[@]} -gt 0 ]; then
    unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /run && exec "$@"' sh \
        "$agent" --listen "unix://$sock" >"$log" 2>&1 &
else
    "$agent" --listen "unix://$sock" >"$log" 2>&1 &
fi
agent_pid=$!

wait_s=${INTEROP_SOCKET_WAIT:-5}
deadline=$(( $(date +%s%N) + wait_s * 1000000000 ))
while [ ! -S "$sock" ]; do
    if ! kill -0 "$agent_pid" 2>/dev/null; then
        wait "$agent_pid"; rc=$?
        agent_pid=
        echo "$0: agent exited (status $rc) before creating $sock" >&2
        show_log
        exit 1
    fi
    if [ "$(date +%s%N)" -ge "$deadline" ]; then
        echo "$0: socket $sock did not appear within ${wait_s}s" >&2
        show_log
        exit 1
    fi
    sleep 0.05
done

# ---- run the client ----
extra=()
[ "${INTEROP_EXTENDED:-0}" = 1 ] && extra+=(-extended)
echo "# agent: $agent (pid $agent_pid), socket: $sock"
if command -v timeout >/dev/null 2>&1; then
    timeout -k 5 "${INTEROP_CLIENT_TIMEOUT:-300}" "$client" -addr "unix://$sock" "${extra[@]}" \
        "${rootfs_args[@]}" "$@"
else
    "$client" -addr "unix://$sock" "${extra[@]}" "${rootfs_args[@]}" "$@"
fi
rc=$?
[ $rc -eq 124 ] && echo "$0: client timed out" >&2

# ---- the agent must still be alive ----
agent_alive() {
    kill -0 "$agent_pid" 2>/dev/null || return 1
    # a dead child stays a zombie until waited for; kill -0 still succeeds on it
    local st
    st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$agent_pid/stat" 2>/dev/null)
    [ "$st" != Z ] && [ "$st" != X ]
}
if agent_alive; then
    echo "ok - agent still alive after the client finished"
else
    wait "$agent_pid" 2>/dev/null; arc=$?
    agent_pid=
    echo "not ok - agent still alive after the client finished: agent exited (status $arc)"
    [ $rc -eq 0 ] && rc=1
fi
[ $rc -ne 0 ] && show_log
exit $rc
