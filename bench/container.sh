#!/bin/bash
# Container start and stdout throughput: ember-agent (in private namespaces, as the
# integration tests run it) vs `crun run` of the same busybox bundle, in the same run.
#   bash bench/container.sh [--stdout-only] [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
only=()
if [ "${1:-}" = --stdout-only ]; then only=(--stdout-only); shift; fi
build=${1:-$here/build}
command -v crun >/dev/null || { echo "container.sh: crun missing (apt-get install crun)" >&2; exit 1; }
work=$(mktemp -d /tmp/ember-bench-XXXXXX)
# The agent stops on SIGTERM, then unshare exits. unshare itself ignores SIGTERM: when the
# agent's pid is unknown, SIGKILL on unshare makes --kill-child=TERM stop the agent.
stop_agent() {
	kill "${BENCH_AGENT_PID:-none}" 2>/dev/null || kill -KILL "$agent" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap 'stop_agent; rm -rf "$work"' EXIT
bash "$here/tests/integration/rootfs.sh" "$work/bundle/rootfs" >/dev/null
cat >"$work/bundle/config.json" <<'J'
{"ociVersion": "1.0.2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["true"],
  "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]}}
J
# The exec benchmark's crun container runs `sleep` from the same rootfs.
mkdir -p "$work/long"
ln -s ../bundle/rootfs "$work/long/rootfs"
sed 's/"args": \["true"\]/"args": ["sleep", "1000"]/' "$work/bundle/config.json" >"$work/long/config.json"
# EMBER_AGENT: another agent binary against the same client (e.g. an older build).
agent_bin=${EMBER_AGENT:-$build/agent/ember-agent}
unshare -pmnf --kill-child=TERM --mount-proc sh -c "mount -t tmpfs tmpfs /run && exec '$agent_bin' --listen unix://$work/agent.sock --log-level warn" &
agent=$!
for _ in $(seq 100); do [ -S "$work/agent.sock" ] && break; sleep 0.05; done
# The agent is the child of unshare (which forks into the new pid namespace).
if pid=$(pgrep -P "$agent"); then export BENCH_AGENT_PID=$pid; fi
# crun refuses the hybrid cgroup layout of development hosts: give it a private mount
# namespace where /sys/fs/cgroup is the unified hierarchy (nothing global changes).
unshare -m sh -c "mount --make-rprivate / && umount -R /sys/fs/cgroup 2>/dev/null; \
	mount -t cgroup2 none /sys/fs/cgroup && \
	exec '$build/bench/bench-container' ${only[*]:-} 'unix://$work/agent.sock' '$work/bundle/rootfs' '$work/bundle' '$work/long'"
