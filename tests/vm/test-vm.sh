#!/usr/bin/env bash
# The VM suite: Debian's kernel boots the real initrd under QEMU (KVM if usable, else TCG).
#
#   tests/vm/test-vm.sh BUILD_DIR CASE
#
# CASE:
#   boot-check-cad     boot, Health.Check over the virtio-serial channel, then QEMU's
#                      "sendkey ctrl-alt-delete" powers the VM off cleanly
#   sandbox-destroyed  DestroySandbox: the agent exits with status 100 and init powers the VM
#                      off; a stand-in /sbin/agent-checks reports init's work from inside the
#                      guest first, then execs the agent
#   disk-root          the ext4 image as root=/dev/vda behind the initrd: ember-init loads
#                      virtio_blk and ext4, mounts it read-only and execs its init; the agent
#                      then runs a container from the 9p share on a disk root (pivot_root)
#   modules            module resolution against the installed kernel's real modules.dep
#   reproducible       two builds of the same inputs are byte-identical (initrd and ext4)
# Exit 0 = pass, 77 = skipped (no QEMU, no kernel), else fail. Each boot is one VM, about
# 5-10 s under TCG.
set -euo pipefail

BUILD=$(cd "${1:?usage: $0 BUILD_DIR CASE}" && pwd -P)
CASE=${2:?usage: $0 BUILD_DIR CASE}
SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
BOOT_TIMEOUT=${EMBER_VM_BOOT_TIMEOUT:-180}

# shellcheck source=tests/vm/lib.sh
source "$SRC/tests/vm/lib.sh"
KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $KERNEL ]] || skip "no kernel in /boot (scripts/setup.sh vm)"
REL=${KERNEL#/boot/vmlinuz-}
[[ -r /lib/modules/$REL/modules.dep ]] || skip "no modules.dep for $REL"

T=$(mktemp -d /tmp/ember-vmtest.XXXXXX)
VM_PID=
cleanup() {
	if [[ -n $VM_PID ]] && kill -0 "$VM_PID" 2>/dev/null; then
		kill -TERM "$VM_PID" 2>/dev/null || true
		wait "$VM_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL ($CASE): $*"
	if [[ -f $T/run/console.log ]]; then
		echo "---- console (last 60 lines) ----"
		tail -n 60 "$T/run/console.log"
	fi
	[[ -f $T/run/qemu.log ]] && { echo "---- qemu ----"; cat "$T/run/qemu.log"; }
	[[ -f $T/vm.out ]] && { echo "---- launcher ----"; cat "$T/vm.out"; }
	exit 1
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

# One test image for the boot cases: the default module set plus busybox and /sbin/agent-checks.
build_image() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (scripts/setup.sh vm)"
	# It also reports what init set up, from inside the guest (busybox applets).
	cat >"$T/agent-checks" <<'EOF'
#!/bin/sh
report() { echo "guest-check $1: $(eval "$2" 2>&1 | tr '\n' ' ')"; }
report subtree_control 'cat /sys/fs/cgroup/cgroup.subtree_control'
report cgroup2 'grep -c " /sys/fs/cgroup cgroup2 .*nsdelegate" /proc/mounts'
report mounts 'for m in /proc /sys /dev /dev/pts /dev/shm /run; do grep -q " $m " /proc/mounts && echo $m; done'
report ptmx 'readlink /dev/ptmx'
report port 'readlink /dev/virtio-ports/agent.channel.0'
report hostname 'hostname'
report nofile 'ulimit -n; cat /proc/sys/fs/nr_open'
report modules 'grep -c . /proc/modules'
report modopt 'cat /sys/module/virtio_net/parameters/napi_tx'
report share 'cat /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag'
report net 'ls /sys/class/net'
report disk 'cat /sys/block/vda/size'
exec /sbin/ember-agent
EOF
	chmod 0755 "$T/agent-checks"
	local args=(--build-dir "$BUILD" -o "$BUILD/tests/vm/initrd.img" --kernel-release "$REL"
		--file "$T/agent-checks:/sbin/agent-checks")
	# /sbin/agent-checks is a busybox shell script.
	command -v busybox >/dev/null && file -L "$(command -v busybox)" | grep -q statically ||
		skip "busybox-static missing (scripts/setup.sh vm)"
	args+=(--debug-shell)
	# The boot cases share one image, rebuilt only when an input changed.
	local cache=$BUILD/tests/vm stamp
	mkdir -p "$cache"
	stamp=$(cat "$BUILD/init/ember-init" "$BUILD/agent/ember-agent" "$T/agent-checks" \
		"$SRC/rootfs-builder/build-image.sh" | sha256sum | cut -c1-16)-$REL
	exec 8>"$cache/.lock"
	flock 8
	if [[ $(cat "$cache/initrd.stamp" 2>/dev/null) != "$stamp" || ! -f $cache/initrd.img ]]; then
		bash "$SRC/rootfs-builder/build-image.sh" "${args[@]}" 2>"$T/build.log" ||
			{ cat "$T/build.log"; fail "image build failed"; }
		echo "$stamp" >"$cache/initrd.stamp"
	fi
	cp "$cache/initrd.img" "$T/initrd.img"
	exec 8>&-
}

start_vm() {
	mkdir -p "$T/run"
	START_MS=$(ms_now)
	bash "$SRC/tools/vm/ember-vm" --initrd "$T/initrd.img" --kernel "$KERNEL" --run-dir "$T/run" \
		"$@" >"$T/vm.out" 2>&1 &
	VM_PID=$!
}

# Waits for the launcher (and so QEMU) to end within $1 seconds.
wait_vm_exit() {
	local bound=$1
	for _ in $(seq $((bound * 10))); do
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$VM_PID" 2>/dev/null && fail "QEMU still running after ${bound}s"
	local rc=0
	wait "$VM_PID" || rc=$?
	VM_PID=
	[[ $rc -eq 0 ]] || fail "QEMU exited with status $rc"
}

console_has() { grep -qE "$1" "$T/run/console.log" || fail "console lacks /$1/"; }
console_clean() {
	! grep -qE "Kernel panic|Attempted to kill init|BUG:|Oops" "$T/run/console.log" ||
		fail "kernel panic or oops in the console"
}

case $CASE in
boot-check-cad)
	build_image
	start_vm --append ember.boot_marker=port80 --net
	ctl=$BUILD/tools/emberctl/emberctl
	[[ -x $ctl ]] || fail "emberctl not built"
	# QEMU holds the host end: a request waits in the socket until the agent opens the
	# port, so one call with a generous deadline measures boot-to-ready.
	for _ in $(seq "$BOOT_TIMEOUT"); do
		[[ -S $T/run/agent.sock ]] && break
		sleep 0.1
	done
	out=
	for _ in 1 2 3; do
		if out=$(timeout "$BOOT_TIMEOUT" "$ctl" --timeout "$BOOT_TIMEOUT" \
			--addr "serial://$T/run/agent.sock" check 2>&1); then
			break
		fi
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 1
	done
	[[ $out == *SERVING* ]] || fail "Health.Check failed: $out"
	READY_MS=$(($(ms_now) - START_MS))
	# A second connection: the agent reopens the port after the first client left.
	out=$(timeout 30 "$ctl" --timeout 30 --addr "serial://$T/run/agent.sock" version 2>&1) ||
		fail "second connection failed: $out"
	[[ $out == *agent_version* ]] || fail "Version failed: $out"
	# The virtio-net NIC, configured by its MAC as the Go runtime does before CreateSandbox
	# (QEMU's default MAC), then listed with its new name and address.
	nic='{"hwAddr":"52:54:00:12:34:56","name":"eth7","mtu":1400,"IPAddresses":[{"family":"v4","address":"10.0.2.15","mask":"24"}]}'
	out=$(timeout 30 "$ctl" --timeout 30 --addr "serial://$T/run/agent.sock" iface update "$nic" 2>&1) ||
		fail "UpdateInterface of the virtio-net NIC failed: $out"
	out=$(timeout 30 "$ctl" --timeout 30 --addr "serial://$T/run/agent.sock" iface list 2>&1) ||
		fail "ListInterfaces failed: $out"
	for want in 'eth7 ' '52:54:00:12:34:56' '10.0.2.15/24' 'mtu 1400'; do
		[[ $out == *"$want"* ]] || fail "ListInterfaces lacks $want: $out"
	done
	console_has "modules: [0-9]+ loaded, [0-9]+ already present, 0 failed, 0 not found"
	console_has "agent /sbin/ember-agent started"
	! grep -q "cannot write the boot marker" "$T/run/console.log" || fail "port80 marker failed"
	bash "$SRC/tools/vm/ember-vm-monitor" "$T/run" sendkey ctrl-alt-delete >/dev/null
	CAD_MS=$(ms_now)
	wait_vm_exit 60
	OFF_MS=$(($(ms_now) - CAD_MS))
	console_has "shutting down \(poweroff\): Interrupt"
	console_has "reboot: Power down"
	console_clean
	accel=$(sed -n 's/.*accel=\([a-z]*\).*/\1/p' "$T/vm.out" | head -n1)
	echo "VM start -> Health.Check SERVING: ${READY_MS} ms ($accel)"
	echo "Ctrl-Alt-Del -> QEMU exit: ${OFF_MS} ms"
	grep -E "ember-init: .*(starting|modules:|agent .* started)|ready in" "$T/run/console.log" || true
	;;
sandbox-destroyed)
	build_image
	# Also: a module parameter from the command line, a missing module is no failure, and
	# the launcher's 9p share, network and extra disk reach the guest.
	mkdir -p "$T/share"
	truncate -s 8M "$T/disk.raw"
	start_vm --append "ember.agent=/sbin/agent-checks ember.modopt=virtio_net:napi_tx=1" \
		--append "ember.modules=ember_no_such_module" \
		--share "$T/share" --net --drive "$T/disk.raw"
	ctl=$BUILD/tools/emberctl/emberctl
	for _ in $(seq "$BOOT_TIMEOUT"); do
		[[ -S $T/run/agent.sock ]] && break
		sleep 0.1
	done
	out=$(timeout "$BOOT_TIMEOUT" "$ctl" --timeout "$BOOT_TIMEOUT" \
		--addr "serial://$T/run/agent.sock" check 2>&1) || fail "Health.Check failed: $out"
	DESTROY_MS=$(ms_now)
	out=$(timeout 60 "$ctl" --timeout 60 --addr "serial://$T/run/agent.sock" \
		call DestroySandbox '{}' 2>&1) || fail "DestroySandbox failed: $out"
	wait_vm_exit 60
	OFF_MS=$(($(ms_now) - DESTROY_MS))
	grep "guest-check" "$T/run/console.log" || fail "no guest checks on the console"
	console_has "guest-check subtree_control: .*cpu.*memory.*pids"
	console_has "guest-check cgroup2: 1"
	console_has "guest-check mounts: /proc /sys /dev /dev/pts /dev/shm /run"
	console_has "guest-check ptmx: pts/ptmx"
	console_has "guest-check port: \\.\\./vport[0-9]+p[0-9]+"
	console_has "guest-check hostname: localhost"
	console_has "guest-check nofile: ([0-9]+) \\1"
	console_has "guest-check modules: (4[0-9]|[5-9][0-9])"
	console_has "guest-check modopt: Y"
	console_has "guest-check share: kataShared"
	console_has "guest-check net: .*eth0"
	console_has "guest-check disk: 16384"
	console_has "module ember_no_such_module .*is not in .*modules.dep"
	console_has "agent exited with status 100 \\(sandbox destroyed\\)"
	console_has "shutting down \\(poweroff\\): the sandbox was destroyed"
	console_has "reboot: Power down"
	console_clean
	echo "DestroySandbox -> QEMU exit: ${OFF_MS} ms"
	;;
disk-root)
	build_image
	SOURCE_DATE_EPOCH=1700000000 bash "$SRC/rootfs-builder/build-image.sh" --build-dir "$BUILD" \
		--kernel-release "$REL" --format ext4 -o "$T/root.img" 2>"$T/ext4.err" ||
		fail "ext4 build failed: $(cat "$T/ext4.err")"
	mkdir -p "$T/share/c1"
	bash "$SRC/tests/integration/rootfs.sh" "$T/share/c1/rootfs" >/dev/null
	start_vm --disk-image "$T/root.img" --share "$T/share"
	ctl() { timeout 120 "$BUILD/tools/emberctl/emberctl" --timeout 120 \
		--addr "serial://$T/run/agent.sock" "$@"; }
	for _ in $(seq "$BOOT_TIMEOUT"); do
		[[ -S $T/run/agent.sock ]] && break
		sleep 0.1
	done
	out=$(ctl check 2>&1) || fail "Health.Check failed: $out"
	READY_MS=$(($(ms_now) - START_MS))
	console_has "root=/dev/vda \(ext4, read-only\) mounted in [0-9]+ ms, continuing with its /sbin/init"
	[[ $(grep -c "ember-init .* starting" "$T/run/console.log") -eq 2 ]] ||
		fail "ember-init did not start twice (initrd, then disk)"
	shared=/run/kata-containers/shared/containers
	ctl call CreateSandbox "{\"hostname\": \"disk\", \"storages\": [{\"driver\": \"9p\",
		\"source\": \"kataShared\", \"fstype\": \"9p\", \"mount_point\": \"$shared/\",
		\"options\": [\"trans=virtio,version=9p2000.L,cache=mmap\", \"nodev\"]}]}" >/dev/null ||
		fail "CreateSandbox failed"
	ctl call CreateContainer "{\"container_id\": \"c1\", \"exec_id\": \"c1\", \"OCI\": {
		\"Version\": \"1.0.2\", \"Root\": {\"Path\": \"$shared/c1/rootfs\"},
		\"Process\": {\"Args\": [\"sh\", \"-c\", \"echo \$(hostname) ok\"],
			\"Env\": [\"PATH=/bin\"], \"Cwd\": \"/\", \"User\": {\"UID\": 0, \"GID\": 0}},
		\"Mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}],
		\"Linux_\": {\"Namespaces\": [{\"Type\": \"pid\"}, {\"Type\": \"uts\"}]}}}" >/dev/null ||
		fail "CreateContainer failed"
	ctl start c1 >/dev/null || fail "StartContainer failed"
	out=$(vm_read_stdout ctl c1) || fail "ReadStdout failed"
	status=$(ctl wait c1) || fail "WaitProcess failed"
	# the pod's hostname: containers share the sandbox's uts namespace
	[[ $out == "disk ok"* && $status == 0 ]] ||
		fail "the container said '$out' and exited $status"
	ctl call DestroySandbox '{}' >/dev/null || fail "DestroySandbox failed"
	wait_vm_exit 60
	console_has "reboot: Power down"
	console_clean
	echo "disk root: VM start -> Health.Check SERVING ${READY_MS} ms; container output: $out"
	;;
modules)
	closure=$BUILD/rootfs-builder/ember-kmod-closure
	moddir=/lib/modules/$REL
	mods=$(sed -n '/^DEFAULT_MODULES=(/,/^)/p' "$SRC/rootfs-builder/build-image.sh" |
		sed -e '1d;$d' -e 's/#.*//' | tr -s ' \t\n' ' ')
	# shellcheck disable=SC2086
	"$closure" "$moddir" $mods >"$T/closure" 2>"$T/closure.err" || fail "$(cat "$T/closure.err")"
	! grep -q "not in modules.dep" "$T/closure.err" || fail "$(cat "$T/closure.err")"
	# Every file of the closure exists, and comes after each dependency modules.dep names.
	awk '$1 == "dep" { print $2 }' "$T/closure" >"$T/files"
	[[ $(wc -l <"$T/files") -ge 20 ]] || fail "closure too small"
	while read -r f; do
		[[ -e $moddir/$f ]] || fail "$f is not installed"
		mine=$(grep -nxF "$f" "$T/files" | cut -d: -f1)
		for dep in $(awk -v f="$f:" '$1 == f { $1 = ""; print }' "$moddir/modules.dep"); do
			at=$(grep -nxF "$dep" "$T/files" | cut -d: -f1)
			[[ -n $at && $at -lt $mine ]] || fail "$dep is not loaded before $f"
		done
	done <"$T/files"
	echo "$(wc -l <"$T/files") module files for: $mods"
	;;
reproducible)
	for i in 1 2; do
		SOURCE_DATE_EPOCH=1700000000 bash "$SRC/rootfs-builder/build-image.sh" \
			--build-dir "$BUILD" --kernel-release "$REL" -o "$T/initrd-$i.img" 2>/dev/null ||
			fail "initrd build $i failed"
		SOURCE_DATE_EPOCH=1700000000 bash "$SRC/rootfs-builder/build-image.sh" \
			--build-dir "$BUILD" --kernel-release "$REL" --format ext4 -o "$T/root-$i.img" \
			2>"$T/ext4.err" || fail "ext4 build $i failed: $(cat "$T/ext4.err")"
		sleep 1 # a timestamp leaking into the image would differ
	done
	cmp "$T/initrd-1.img" "$T/initrd-2.img" || fail "the initrd differs between builds"
	cmp "$T/root-1.img" "$T/root-2.img" || fail "the ext4 image differs between builds"
	# The ext4 image holds what the initrd holds, owned by root, with the device nodes.
	debugfs -R "stat /sbin/init" "$T/root-1.img" 2>/dev/null | grep "User:     0" >/dev/null ||
		fail "/sbin/init is not owned by root in the ext4 image"
	debugfs -R "stat /dev/console" "$T/root-1.img" 2>/dev/null | grep "Type: character special" >/dev/null ||
		fail "/dev/console is missing in the ext4 image"
	echo "initrd: $(stat -c %s "$T/initrd-1.img") bytes, ext4: $(stat -c %s "$T/root-1.img") bytes, identical twice"
	;;
*) fail "unknown case" ;;
esac
echo "PASS ($CASE)"
