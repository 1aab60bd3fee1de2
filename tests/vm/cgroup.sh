#!/usr/bin/env bash
# Cgroup v2 limits in a real VM (QEMU, Debian's kernel, the real initrd, every controller
# enabled by ember-init), driven over virtio-serial with emberctl:
#
#   tests/vm/cgroup.sh BUILD_DIR
#
#   limits    memory.max / cpu.max / pids.max read from inside the container (its cgroup
#             namespace and its own cgroup2 mount) match the request; the cgroup namespace
#             is rooted at the container's cgroup, for exec processes too
#   update    UpdateContainer changes them live
#   devices   the device policy (a BPF device program on the container's cgroup): /dev/null
#             opens, a disk node can be made (CAP_MKNOD) but not opened, until an
#             UpdateContainer rule allows it on the running container
#   stats     StatsContainer reports non-zero memory and pids; GetMetrics has the figures
#   oom       a process over a 32 MiB limit is OOM-killed (WaitProcess 137) and a parked
#             GetOOMEvent returns its container id
#   pause     a paused busy loop stops consuming CPU and goes on after ResumeContainer
#   cost      the agent's own measure of the cgroup setup per container (debug log)
# The containers run busybox from a rootfs baked into the initrd (/ember-test/rootfs).
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
REL=${KERNEL#/boot/vmlinuz-}
vm_need_static_busybox
command -v python3 >/dev/null || skip "python3 missing (JSON checks)"

vm_workdir vmcgroup

fail() {
	echo "FAIL (vm cgroup $1): ${*:2}"
	if [[ -f $T/run/console.log ]]; then
		echo "---- console (last 60 lines) ----"
		tail -n 60 "$T/run/console.log"
	fi
	exit 1
}
pass() { echo "ok   vm cgroup $*"; }

ADDR=serial://$T/run/agent.sock
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ctl() { "$CTL" --addr "$ADDR" --timeout 60 "$@"; }

# ---- the image and the VM ------------------------------------------------------------------
bash "$SRC/tests/integration/rootfs.sh" "$T/rootfs" >/dev/null
bash "$SRC/rootfs-builder/build-image.sh" --build-dir "$BUILD" --kernel-release "$REL" \
	-o "$T/initrd.img" --file "$T/rootfs:/ember-test/rootfs" 2>"$T/build.log" ||
	{ cat "$T/build.log"; fail image "image build failed"; }
mkdir -p "$T/run"
# agent.log=debug: the agent logs the cost of each container's cgroup setup.
bash "$SRC/tools/vm/ember-vm" --initrd "$T/initrd.img" --kernel "$KERNEL" --run-dir "$T/run" \
	--mem 512 --append agent.log=debug >"$T/vm.out" 2>&1 &
VM_PID=$!
for _ in $(seq "$BOOT_TIMEOUT"); do
	[[ -S $T/run/agent.sock ]] && break
	sleep 0.1
done
out=$(timeout "$BOOT_TIMEOUT" "$CTL" --timeout "$BOOT_TIMEOUT" --addr "$ADDR" check 2>&1) ||
	fail boot "Health.Check failed: $out"

# CreateContainer + StartContainer: ID CGROUPS_PATH RESOURCES_JSON SHELL_COMMAND
run_container() {
	local id=$1 path=$2 res=$3 cmd=$4
	python3 - "$id" "$path" "$res" "$cmd" >"$T/$id.json" <<'EOF'
import json, sys
cid, path, res, cmd = sys.argv[1:5]
print(json.dumps({
    "container_id": cid, "exec_id": cid,
    "OCI": {
        "Version": "1.0.2",
        "Process": {"Args": ["sh", "-c", cmd], "Env": ["PATH=/bin"], "Cwd": "/",
                    "User": {"UID": 0, "GID": 0}},
        "Root": {"Path": "/ember-test/rootfs"},
        "Mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}],
        "Linux_": {"CgroupsPath": path, "Resources": json.loads(res)},
    }}))
EOF
	ctl call CreateContainer "@$T/$id.json" >/dev/null || fail "$id" "CreateContainer failed"
	ctl start "$id" >/dev/null || fail "$id" "StartContainer failed"
}

# What a process inside container $1 prints. One call per connection (a virtio-serial port
# carries one at a time): ExecProcess, ReadStdout until EOF, WaitProcess.
EXEC_N=0
in_ct() {
	local id=$1 eid args out chunk
	shift
	EXEC_N=$((EXEC_N + 1))
	eid=x$EXEC_N
	args=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")
	ctl call ExecProcess "{\"container_id\": \"$id\", \"exec_id\": \"$eid\", \"process\":
		{\"Args\": $args, \"Env\": [\"PATH=/bin\"], \"Cwd\": \"/\", \"User\": {}}}" \
		>/dev/null || return 1
	out=
	while :; do
		chunk=$(ctl call ReadStdout "{\"container_id\": \"$id\", \"exec_id\": \"$eid\",
			\"len\": 65536}" | json_get "d.get('data', '')") || return 1
		[[ -n $chunk ]] || break
		out+=$chunk
	done
	ctl call WaitProcess "{\"container_id\": \"$id\", \"exec_id\": \"$eid\"}" >/dev/null ||
		return 1
	printf '%s\n' "$out"
}

expect_in() {
	local case=$1 id=$2 file=$3 want=$4 got
	got=$(in_ct "$id" cat "/sys/fs/cgroup/$file") || fail "$case" "reading $file in $id failed"
	[[ $got == "$want" ]] || fail "$case" "$file in $id is '$got', expected '$want'"
}

# ---- limits, update -----------------------------------------------------------------------
run_container lim /pod1/lim \
	'{"Memory": {"Limit": 67108864}, "CPU": {"Quota": 50000, "Period": 100000}, "Pids": {"Limit": 32}}' \
	'exec sleep 100000'
expect_in limits lim memory.max 67108864
expect_in limits lim cpu.max "50000 100000"
expect_in limits lim pids.max 32
got=$(in_ct lim cat /proc/self/cgroup) || fail limits "exec failed"
[[ $got == "0::/" ]] || fail limits "the exec process sees its cgroup as '$got', expected 0::/"
pass limits

ctl update lim '{"Memory": {"Limit": 134217728}, "CPU": {"Quota": 20000}, "Pids": {"Limit": 64}}' ||
	fail update "UpdateContainer failed"
expect_in update lim memory.max 134217728
expect_in update lim cpu.max "20000 100000"
expect_in update lim pids.max 64
# resources that are not requested are not touched
ctl update lim '{"Pids": {"Limit": -1}}' || fail update "UpdateContainer (pids -1) failed"
expect_in update lim pids.max max
expect_in update lim memory.max 134217728
# a bad value is refused by name, and nothing changes
if ctl update lim '{"CPU": {"Period": 10}}' 2>"$T/err"; then fail update "period 10 accepted"; fi
grep -q "INVALID_ARGUMENT: .*cpu period 10" "$T/err" || fail update "got: $(cat "$T/err")"
expect_in update lim cpu.max "20000 100000"
pass update

# ---- devices -------------------------------------------------------------------------------
DEV_SH='rm -f /tmp/vdz; echo x >/dev/null && echo null:ok; mknod /tmp/vdz b 254 0 && echo mknod:ok
head -c 1 /tmp/vdz 2>&1 >/dev/null; true'
got=$(in_ct lim sh -c "$DEV_SH") || fail devices "exec failed"
[[ $got == *null:ok*mknod:ok*"/tmp/vdz: Operation not permitted"* ]] || fail devices "got: $got"
ctl update lim '{"Devices": [{"Allow": true, "Type": "b", "Major": 254, "Minor": 0, "Access": "r"}]}' ||
	fail devices "UpdateContainer (device rule) failed"
got=$(in_ct lim sh -c "$DEV_SH") || fail devices "exec failed"
[[ $got == *null:ok*mknod:ok* && $got != *"Operation not permitted"* ]] ||
	fail devices "b 254:0 still denied after the update: $got"
pass devices "($(tr '\n' ' ' <<<"$got"))"

# ---- stats, metrics ------------------------------------------------------------------------
ctl stats lim >"$T/stats.json" || fail stats "StatsContainer failed"
mem=$(json_get "d['cgroup_stats']['memory_stats']['usage']['usage']" <"$T/stats.json")
limit=$(json_get "d['cgroup_stats']['memory_stats']['usage']['limit']" <"$T/stats.json")
pids=$(json_get "d['cgroup_stats']['pids_stats']['current']" <"$T/stats.json")
plimit=$(json_get "d['cgroup_stats']['pids_stats'].get('limit', 0)" <"$T/stats.json")
cpu=$(json_get "d['cgroup_stats']['cpu_stats']['cpu_usage']['total_usage']" <"$T/stats.json")
((mem > 0)) || fail stats "memory usage $mem"
((limit == 134217728)) || fail stats "memory limit $limit"
((pids >= 1)) || fail stats "pids $pids"
((plimit == 0)) || fail stats "pids limit $plimit, expected 0 (max)"
((cpu > 0)) || fail stats "cpu usage $cpu"
ctl metrics >"$T/metrics" || fail stats "GetMetrics failed"
grep -q '^ember_container_memory_usage_bytes{container_id="lim"} [1-9]' "$T/metrics" ||
	fail stats "GetMetrics lacks the container's memory usage"
grep -q '^ember_container_memory_limit_bytes{container_id="lim"} 134217728$' "$T/metrics" ||
	fail stats "GetMetrics lacks the container's memory limit"
pass stats "(memory ${mem} B, ${pids} pids, cpu ${cpu} ns)"

# ---- OOM ---------------------------------------------------------------------------------------
# Parked first, as the shim's loop does; one connection (see cgroup-oom.c).
out=$("$BUILD/tests/vm/cgroup-oom" "$ADDR" /ember-test/rootfs 2>&1) || fail oom "$out"
# An OOM kill while nobody waits is queued for the next GetOOMEvent.
run_container oom2 /pod1/oom2 '{"Memory": {"Limit": 33554432, "Swap": 33554432}}' \
	'x=0123456789abcdef; while :; do x=$x$x; done'
status=$(ctl wait oom2) || fail oom "WaitProcess failed"
[[ $status == 137 ]] || fail oom "WaitProcess status $status, expected 137 (SIGKILL)"
got=$(ctl oom-events 1) || fail oom "GetOOMEvent failed"
[[ $got == oom2 ]] || fail oom "the queued GetOOMEvent returned '$got', expected oom2"
ctl rm oom2 >/dev/null || fail oom "RemoveContainer failed"
pass oom "($out)"

# ---- pause / resume ----------------------------------------------------------------------------
usage() { ctl stats busy | json_get "d['cgroup_stats']['cpu_stats']['cpu_usage']['total_usage']"; }
run_container busy /pod1/busy '{}' 'while :; do :; done'
sleep 1
ctl pause busy || fail pause "PauseContainer failed"
u1=$(usage)
sleep 2
u2=$(usage)
[[ $u1 == "$u2" ]] || fail pause "a paused container used CPU: $u1 -> $u2 ns"
ctl resume busy || fail pause "ResumeContainer failed"
ran=0
for _ in $(seq 50); do
	sleep 0.2
	u3=$(usage)
	if ((u3 > u2)); then ran=1; break; fi
done
((ran)) || fail pause "the container did not run again after ResumeContainer"
ctl rm busy >/dev/null || fail pause "RemoveContainer failed"
pass pause

# ---- cost of the cgroup setup ------------------------------------------------------------------
ctl rm lim >/dev/null || fail cost "RemoveContainer failed"
costs=$(grep -o "cgroup '[^']*' ready in [0-9]* us" "$T/run/console.log" | grep -o "[0-9]* us" |
	cut -d' ' -f1 | tr '\n' ' ')
[[ -n $costs ]] || fail cost "no cgroup setup figures in the agent's log"
echo "cgroup setup per container (us, in the VM, all controllers): $costs"
pass cost
! grep -qE "Kernel panic|BUG:|Oops|agent .*restarting it" "$T/run/console.log" ||
	fail console "a kernel oops or an agent crash in the console"
echo "PASS (vm cgroup)"
