#!/usr/bin/env bash
# The agent's vsock listener, proven from inside the guest: a container (busybox rootfs on the
# 9p share, as in `make run`) runs a static emberctl that calls Health.Check at vsock://1:1024
# over vsock_loopback (the development hosts have no vhost-vsock, so the host cannot dial it),
# then execs a process into itself through the same vsock and streams its 4 MB of stdout back
# (ReadStdout replies whose bytes the agent splices from the pipe into an AF_VSOCK socket):
#
#   tests/vm/vsock-container.sh BUILD_DIR
#
# The agent listens on the serial port (the host drives it there) and on vsock://-1:1024 at
# once: agent.server_addr takes one address, so a small wrapper, started by ember-init as
# ember.agent=, passes both as --listen flags (as tests/vm/test-guest.sh does). CID 1 is
# allowed on the rpc port by ember.allow_cid=1. Checks: the container prints SERVING, the
# exec's output arrives whole (its md5 against the same bytes made beside it) and it exits 0;
# without ember.allow_cid the same call is refused (covered by vm-guest, not repeated).
# Exit 0 = pass, 77 = skipped (no QEMU, no kernel, no static busybox), else fail.
set -euo pipefail

BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd -P)
SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
BOOT_TIMEOUT=${EMBER_VM_BOOT_TIMEOUT:-180}
CTL=$BUILD/tools/emberctl/emberctl
SHARED=/run/kata-containers/shared/containers

# shellcheck source=tests/vm/lib.sh
source "$SRC/tests/vm/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (scripts/setup.sh vm)"
KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $KERNEL ]] || skip "no kernel in /boot (scripts/setup.sh vm)"
REL=${KERNEL#/boot/vmlinuz-}
vm_need_static_busybox
command -v python3 >/dev/null || skip "python3 missing (JSON requests)"
file -L "$CTL" | grep -q statically || skip "emberctl is not static (the container has no libc)"

vm_workdir vmvsock
fail() {
	echo "FAIL (vm vsock-container): $*"
	[[ -f $T/run/console.log ]] && { echo "---- console (last 40 lines) ----"; tail -n 40 "$T/run/console.log"; }
	exit 1
}

ADDR=serial://$T/run/agent.sock
ctl() { "$CTL" --addr "$ADDR" --timeout 60 "$@"; }

# ---- image: the agent on serial and vsock; the container rootfs with emberctl on the share ----
cat >"$T/agent-serial-vsock" <<'W'
#!/bin/sh
/sbin/ember-agent --listen serial:///dev/virtio-ports/agent.channel.0 --listen vsock://-1:1024 &
agent=$!
trap 'kill -TERM $agent' TERM INT
wait $agent
W
chmod 0755 "$T/agent-serial-vsock"
bash "$SRC/rootfs-builder/build-image.sh" --build-dir "$BUILD" --kernel-release "$REL" \
	-o "$T/initrd.img" --debug-shell --file "$T/agent-serial-vsock:/sbin/agent-serial-vsock" \
	2>"$T/build.log" || { cat "$T/build.log"; fail "image build failed"; }
mkdir -p "$T/run" "$T/share/vs"
bash "$SRC/tests/integration/rootfs.sh" "$T/share/vs/rootfs" >/dev/null
cp "$CTL" "$T/share/vs/rootfs/bin/emberctl"
cat >"$T/share/vs/rootfs/bin/vsock-checks" <<'S'
#!/bin/sh
ctl() { emberctl --timeout 60 --addr vsock://1:1024 "$@"; }
check=$(ctl check 2>&1)
gen='yes 0123456789abcdef | head -c 4000000'
got=$(ctl exec vs big sh -c "$gen" | md5sum)
want=$(sh -c "$gen" | md5sum)
[ "$got" = "$want" ] && got=same || got="$got, want $want"
echo "vsock check: $check; exec stdout over vsock: $got"
S
chmod 0755 "$T/share/vs/rootfs/bin/vsock-checks"

bash "$SRC/tools/vm/ember-vm" --initrd "$T/initrd.img" --kernel "$KERNEL" --run-dir "$T/run" \
	--share "$T/share" --append ember.agent=/sbin/agent-serial-vsock \
	--append ember.allow_cid=1 >"$T/vm.out" 2>&1 &
VM_PID=$!
for _ in $(seq "$BOOT_TIMEOUT"); do [[ -S $T/run/agent.sock ]] && break; sleep 0.1; done
out=$(timeout "$BOOT_TIMEOUT" "$CTL" --timeout "$BOOT_TIMEOUT" --addr "$ADDR" check 2>&1) ||
	fail "Health.Check over serial failed: $out"
grep -qF "listening on vsock://-1:1024" "$T/run/console.log" ||
	fail "the agent does not say it listens on vsock://-1:1024"

# ---- the sandbox and the container -----------------------------------------------------------
ctl call CreateSandbox "{\"hostname\": \"vsock-demo\", \"storages\": [{\"driver\": \"9p\",
	\"source\": \"kataShared\", \"fstype\": \"9p\", \"mount_point\": \"$SHARED/\", \"options\":
	[\"trans=virtio,version=9p2000.L,cache=mmap\", \"nodev\", \"msize=8192\"]}]}" >/dev/null ||
	fail "CreateSandbox failed"
ctl call CreateContainer "{\"container_id\": \"vs\", \"exec_id\": \"vs\", \"OCI\": {
	\"Version\": \"1.0.2\", \"Root\": {\"Path\": \"$SHARED/vs/rootfs\"},
	\"Process\": {\"Args\": [\"sh\", \"/bin/vsock-checks\"],
		\"Env\": [\"PATH=/bin\"], \"Cwd\": \"/\", \"User\": {\"UID\": 0, \"GID\": 0}},
	\"Mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}],
	\"Linux_\": {\"CgroupsPath\": \"/vsock/vs\"}}}" >/dev/null || fail "CreateContainer failed"
ctl start vs >/dev/null || fail "StartContainer failed"
out=$(vm_read_stdout ctl vs) || fail "ReadStdout failed"
status=$(ctl wait vs) || fail "WaitProcess failed"
echo "container output: $out"
[[ $out == "vsock check: SERVING; exec stdout over vsock: same" ]] ||
	fail "the in-guest calls over vsock://1:1024 gave '$out'"
[[ $status == 0 ]] || fail "the container exited with status $status"
ctl rm vs >/dev/null || fail "RemoveContainer failed"

# ---- teardown: DestroySandbox powers the VM off (the wrapper passes the agent's status on) ----
ctl call DestroySandbox '{}' >/dev/null || fail "DestroySandbox failed"
for _ in $(seq 300); do kill -0 "$VM_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$VM_PID" 2>/dev/null && fail "the VM did not power off after DestroySandbox"
rc=0
wait "$VM_PID" || rc=$?
VM_PID=
((rc == 0)) || fail "QEMU exited with status $rc"
! grep -qE "Kernel panic|BUG:|Oops" "$T/run/console.log" || fail "a kernel oops in the console"
echo "PASS (vm vsock-container)"
