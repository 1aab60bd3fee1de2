#!/usr/bin/env bash
# Guest operations in a real VM (QEMU, Debian's kernel, the real initrd):
#
#   tests/vm/test-guest.sh BUILD_DIR
#
# VM A (-smp 1,maxcpus=2, a 64 MiB swap disk, agent.log_vport=1025, agent.debug_console
# with agent.debug_console_vport=1026, ember.allow_cid=1):
#   - from the host over virtio-serial, tests/vm/guest-ops.sh: SetGuestDateTime, ReseedRandomDev,
#     OnlineCPUMem of a vCPU hot-plugged with device_add, memory onlining, AddSwap by PCI
#     path, GetMetrics, SetPolicy;
#   - inside the guest over vsock_loopback (CID 1, allowed by ember.allow_cid=1), emberctl:
#     the rpc port, the log port (lines from before the connection are replayed) and the
#     debug console (a shell on a pty answers).
# VM B (no ember.allow_cid, logs on the console, agent.debug_console without a vport):
#   - the same in-guest vsock connection to the rpc port is refused (CID 1 is not the host),
#     and the refusal is logged naming the CID;
#   - the guest clock moves: the agent's own log line about it is stamped with the new time;
#   - the debug shell runs on /dev/console (its banner and prompt reach the console).
# Exit 0 = pass, 77 = skipped (no QEMU, no kernel, no static busybox), else fail.
set -euo pipefail

BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd -P)
SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
BOOT_TIMEOUT=${EMBER_VM_BOOT_TIMEOUT:-180}
CTL=$BUILD/tools/emberctl/emberctl

# shellcheck source=tests/vm/lib.sh
source "$SRC/tests/vm/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (scripts/setup.sh vm)"
KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $KERNEL ]] || skip "no kernel in /boot (scripts/setup.sh vm)"
vm_need_static_busybox
command -v mkswap >/dev/null || skip "mkswap missing"

vm_workdir vmguest

fail() {
	echo "FAIL (vm guest): $*"
	for f in "$T"/run*/console.log; do
		[[ -f $f ]] && { echo "---- $f (last 40 lines) ----"; tail -n 40 "$f"; }
	done
	exit 1
}

# The "agent" init starts: the real agent, plus in-guest checks over vsock_loopback whose
# results go to the console. The agent also listens on vsock 1024 for them.
cat >"$T/agent-with-checks" <<'EOF'
#!/bin/sh
/sbin/ember-agent --listen serial:///dev/virtio-ports/agent.channel.0 --listen vsock://-1:1024 &
agent=$!
trap 'kill -TERM $agent' TERM INT
ctl() { /bin/emberctl --timeout 10 "$@"; }
for _ in $(seq 100); do ctl --addr vsock://1:1024 check >/dev/null 2>&1 && break; sleep 0.2; done
echo "guest-vsock rpc: $(ctl --addr vsock://1:1024 check 2>&1 | tr '\n' ' ')"
ctl --addr vsock://1:1025 logs >/tmp/logs 2>&1 &
logs=$!
sleep 3
kill $logs
echo "guest-vsock log-port: replayed=$(grep -c '"msg":"ember-agent .* ready in' /tmp/logs) json=$(grep -c '^{"msg":' /tmp/logs) init=$(grep -c '"name":"ember-init"' /tmp/logs)"
printf 'echo hello-$$\nexit\n' | ctl --addr vsock://1:1026 console >/tmp/console 2>&1
echo "guest-vsock console: $(grep -o 'hello-[0-9][0-9]*' /tmp/console | head -n1)"
wait $agent
EOF
chmod 0755 "$T/agent-with-checks"
bash "$SRC/rootfs-builder/build-image.sh" --build-dir "$BUILD" -o "$T/initrd.img" --debug-shell \
	--file "$T/agent-with-checks:/sbin/agent-with-checks" --file "$CTL:/bin/emberctl" \
	2>"$T/build.log" || { cat "$T/build.log"; fail "image build failed"; }

start_vm() {
	local run=$1
	shift
	bash "$SRC/tools/vm/ember-vm" --initrd "$T/initrd.img" --kernel "$KERNEL" --run-dir "$run" \
		--append ember.agent=/sbin/agent-with-checks "$@" >"$run.out" 2>&1 &
	VM_PID=$!
	for _ in $(seq "$BOOT_TIMEOUT"); do
		timeout 10 "$CTL" --timeout 5 --addr "serial://$run/agent.sock" check >/dev/null 2>&1 &&
			return 0
		kill -0 "$VM_PID" 2>/dev/null || fail "VM $run exited: $(cat "$run.out")"
		sleep 1
	done
	fail "the agent in $run did not answer"
}

stop_vm() {
	local run=$1
	bash "$SRC/tools/vm/ember-vm-monitor" "$run" sendkey ctrl-alt-delete >/dev/null
	for _ in $(seq 600); do kill -0 "$VM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$VM_PID" 2>/dev/null && fail "VM $run did not power off"
	wait "$VM_PID" || true
	VM_PID=
	! grep -qE "Kernel panic|BUG:|Oops" "$run/console.log" || fail "kernel oops in $run"
}

# Waits for a console line matching $2 in run $1.
console_wait() {
	for _ in $(seq 600); do
		grep -qE "$2" "$1/console.log" && return 0
		sleep 0.1
	done
	fail "console of $1 lacks /$2/: $(grep guest-vsock "$1/console.log" || true)"
}

# ---- VM A ----
truncate -s 64M "$T/swap.img"
mkswap "$T/swap.img" >/dev/null 2>&1
A=$T/runA
start_vm "$A" --cpus 1,maxcpus=2 --drive "$T/swap.img" \
	--append "agent.log_vport=1025 agent.debug_console agent.debug_console_vport=1026 ember.allow_cid=1"
# A second vCPU, plugged after boot: the kernel leaves it offline until OnlineCPUMem.
bash "$SRC/tools/vm/ember-vm-monitor" "$A" \
	"device_add max-x86_64-cpu,socket-id=0,core-id=1,thread-id=0,id=cpu1" >/dev/null
# The swap disk's PCI slot on the root bus, as QEMU placed it.
slot=$(bash "$SRC/tools/vm/ember-vm-monitor" "$A" "info pci" |
	awk '/Bus  0, device/ { d = $4 + 0 } /1af4:1001/ { print d; exit }')
[[ -n $slot ]] || fail "no virtio-blk device in 'info pci'"
EMBER_VM_CPU_TARGET=2 EMBER_VM_SWAP_PCI=$slot bash "$SRC/tests/vm/guest-ops.sh" "$CTL" \
	"serial://$A/agent.sock" || fail "guest-ops in VM A"
console_wait "$A" "guest-vsock console: "
grep guest-vsock "$A/console.log"
grep -q "guest-vsock rpc: SERVING" "$A/console.log" || fail "rpc over vsock CID 1"
grep -qE "guest-vsock log-port: replayed=1 json=[1-9][0-9]* init=[1-9]" "$A/console.log" ||
	fail "log port (the agent's replayed lines and ember-init's relayed ones)"
grep -qE "guest-vsock console: hello-[0-9]+" "$A/console.log" || fail "debug console"
stop_vm "$A"

# ---- VM B ----
B=$T/runB
start_vm "$B" --append "agent.debug_console"
EMBER_VM_CONSOLE_LOG=$B/console.log bash "$SRC/tests/vm/guest-ops.sh" "$CTL" \
	"serial://$B/agent.sock" || fail "guest-ops in VM B"
console_wait "$B" "guest-vsock console: "
grep guest-vsock "$B/console.log"
grep -q "guest-vsock rpc: SERVING" "$B/console.log" && fail "CID 1 reached the rpc port"
console_wait "$B" "BusyBox v[0-9.]+ .*built-in shell"
grep -q "refusing a rpc connection from vsock CID 1" "$B/console.log" ||
	fail "no log line naming the refused CID"
stop_vm "$B"
echo "vm guest: pass"
