#!/bin/bash
# Container start and stdout throughput: ember-agent (in private namespaces, as the
# integration tests run it) vs `crun run` of the same busybox bundle, in the same run.
#   bash bench/container.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
command -v crun >/dev/null || { echo "container.sh: crun missing (apt-get install crun)" >&2; exit 1; }
work=$(mktemp -d /tmp/ember-bench-XXXXXX)
trap 'kill "$agent" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
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
unshare -pmnf --mount-proc sh -c "mount -t tmpfs tmpfs /run && exec '$build/agent/ember-agent' --listen unix://$work/agent.sock --log-level warn" &
agent=$!
for _ in $(seq 100); do [ -S "$work/agent.sock" ] && break; sleep 0.05; done
# crun refuses the hybrid cgroup layout of development hosts: give it a private mount
# namespace where /sys/fs/cgroup is the unified hierarchy (nothing global changes).
unshare -m sh -c "mount --make-rprivate / && umount -R /sys/fs/cgroup 2>/dev/null; \
	mount -t cgroup2 none /sys/fs/cgroup && \
	exec '$build/bench/bench-container' 'unix://$work/agent.sock' '$work/bundle/rootfs' '$work/bundle' '$work/long'"
