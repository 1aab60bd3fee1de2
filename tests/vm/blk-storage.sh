#!/usr/bin/env bash
# Block storage in the VM (issue 8): boots tools/vm/ember-vm with a 9p share (the container
# rootfs) and an ext4 disk pinned at PCI slot 0x0a on q35's root bus (the launcher's --drive
# cannot pin a slot, so the disk is added with --qemu-arg: virtio-blk-pci,addr=0x0a), with
# agent.hotplug_timeout=2, then:
#
#   1. CreateSandbox (9p kataShared share, pod shm); a busybox container with a Storage
#      {driver blk, source "0a" (PCI path), fstype ext4} at
#      /run/kata-containers/sandbox/storage/blk0, bind-mounted at /data, writes /data/hello.txt;
#   2. a container whose storage names PCI path "1e" (no device there) is created in the
#      background: it fails with DEADLINE_EXCEEDED naming the device after the hotplug timeout,
#      while `emberctl check` keeps answering SERVING during the wait;
#   3. DestroySandbox powers the VM off; `debugfs -R "cat /hello.txt"` on the image shows the
#      file the container wrote.
#
#   tests/vm/blk-storage.sh BUILD_DIR
#
# Exit 0 = pass, 77 = skipped (no QEMU, kernel, static busybox, mkfs.ext4/debugfs), else fail.
set -euo pipefail

BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd -P)
SRC=$(cd "$(dirname "$0")/../.." && pwd -P)

# shellcheck source=tests/vm/lib.sh
source "$SRC/tests/vm/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (scripts/setup.sh vm)"
KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $KERNEL ]] || skip "no kernel in /boot (scripts/setup.sh vm)"
[[ -r /lib/modules/${KERNEL#/boot/vmlinuz-}/modules.dep ]] || skip "no modules.dep for $KERNEL"
vm_need_static_busybox
command -v python3 >/dev/null || skip "python3 missing (JSON requests)"
MKFS=$(PATH=$PATH:/sbin:/usr/sbin command -v mkfs.ext4 || true)
DEBUGFS=$(PATH=$PATH:/sbin:/usr/sbin command -v debugfs || true)
[[ -n $MKFS && -n $DEBUGFS ]] || skip "mkfs.ext4/debugfs missing (e2fsprogs)"

IMG=$BUILD/ember-initrd.img
CTL=$BUILD/tools/emberctl/emberctl
SHARED=/run/kata-containers/shared/containers
STORAGE_MP=/run/kata-containers/sandbox/storage/blk0
MISSING_MP=/run/kata-containers/sandbox/storage/blk1
SLOT=0a      # the disk's PCI slot on the root bus, and so its PCI path
MISSING=1e   # a slot with no device behind it
TIMEOUT_S=2  # agent.hotplug_timeout

T=$(mktemp -d /tmp/ember-blk.XXXXXX)
VM=
BG=
MUX_PID=
fail() {
	echo "FAIL (vm blk storage): $*"
	if [[ -f $T/run/console.log ]]; then
		echo "---- guest console (last 40 lines) ----"
		tail -n 40 "$T/run/console.log"
	fi
	exit 1
}
cleanup() {
	[[ -z $BG ]] || { kill "$BG" 2>/dev/null || true; wait "$BG" 2>/dev/null || true; }
	[[ -z $MUX_PID ]] || { kill "$MUX_PID" 2>/dev/null || true; wait "$MUX_PID" 2>/dev/null || true; }
	if [[ -n $VM ]] && kill -0 "$VM" 2>/dev/null; then
		kill -TERM "$VM" 2>/dev/null || true
		wait "$VM" 2>/dev/null || true
	fi
	if [[ ${EMBER_TEST_KEEP:-0} == 1 ]]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
step() { echo "+ $*"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

[[ -x $CTL ]] || fail "$CTL is missing (ninja -C $BUILD)"
if [[ ! -f $IMG || $BUILD/init/ember-init -nt $IMG || $BUILD/agent/ember-agent -nt $IMG ]]; then
	step "rootfs-builder/build-image.sh --build-dir $BUILD -o $IMG"
	bash "$SRC/rootfs-builder/build-image.sh" --build-dir "$BUILD" -o "$IMG" ||
		fail "building the initrd"
fi

# ---- host side: the container rootfs in the share, the ext4 disk ----------------------------
mkdir -p "$T/run" "$T/share/writer" "$T/share/waiter"
bash "$SRC/tests/integration/rootfs.sh" "$T/share/writer/rootfs" >/dev/null ||
	fail "building the busybox rootfs"
bash "$SRC/tests/integration/rootfs.sh" "$T/share/waiter/rootfs" >/dev/null ||
	fail "building the busybox rootfs"
mkdir -p "$T/share/writer/rootfs/data" "$T/share/waiter/rootfs/data"
DISK=$T/disk.img
"$MKFS" -q -F "$DISK" 32M >/dev/null || fail "mkfs.ext4 $DISK"

# ---- boot ------------------------------------------------------------------------------------
ADDR=serial://$T/run/agent.sock
ctl() { "$CTL" --addr "$ADDR" --timeout 60 "$@"; }
ctl_json() { ctl call "$1" "$2" 2>"$T/err" || fail "$1: $(cat "$T/err")"; }

step "tools/vm/ember-vm --share --qemu-arg -device virtio-blk-pci,addr=0x$SLOT --append agent.hotplug_timeout=$TIMEOUT_S"
bash "$SRC/tools/vm/ember-vm" --initrd "$IMG" --share "$T/share" --run-dir "$T/run" \
	--append "agent.hotplug_timeout=$TIMEOUT_S" \
	--qemu-arg -drive --qemu-arg "file=$DISK,if=none,id=blk0,format=raw" \
	--qemu-arg -device --qemu-arg "virtio-blk-pci,drive=blk0,addr=0x$SLOT" \
	>"$T/launcher.log" 2>&1 &
VM=$!
for _ in $(seq 300); do
	[[ -S $T/run/agent.sock ]] && break
	kill -0 "$VM" 2>/dev/null || fail "the launcher exited: $(tail -n 5 "$T/launcher.log")"
	sleep 0.1
done
[[ -S $T/run/agent.sock ]] || fail "no agent socket after 30 s"
step "emberctl check"
"$CTL" --timeout 180 --addr "$ADDR" check 2>"$T/err" || fail "Health.Check: $(cat "$T/err")"

step "CreateSandbox (9p kataShared -> $SHARED, shm)"
ctl_json CreateSandbox "$(python3 - "$SHARED" <<'EOF'
import json, sys
print(json.dumps({
    "hostname": "ember-blk", "sandbox_id": "ember-blk-pod", "sandbox_pidns": False,
    "storages": [
        {"driver": "9p", "source": "kataShared", "fstype": "9p",
         "options": ["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=8192"],
         "mount_point": sys.argv[1] + "/"},
        {"driver": "ephemeral", "source": "shm", "fstype": "tmpfs",
         "mount_point": "/run/kata-containers/sandbox/shm",
         "options": ["noexec", "nosuid", "nodev", "mode=1777", "size=67108864"]},
    ]}))
EOF
)" >/dev/null

# create_req CID PCI_PATH MOUNT_POINT SCRIPT: a CreateContainer request whose storage is the
# virtio-blk disk at PCI_PATH, bind-mounted at /data.
create_req() {
	python3 - "$SHARED" "$@" <<'EOF'
import json, sys
shared, cid, pcipath, mp, script = sys.argv[1:6]
print(json.dumps({
    "container_id": cid, "exec_id": cid,
    "storages": [{"driver": "blk", "source": pcipath, "fstype": "ext4", "options": [],
                  "mount_point": mp}],
    "OCI": {
        "Version": "1.0.2",
        "Process": {"Args": ["sh", "-c", script], "Env": ["PATH=/bin:/sbin"],
                    "Cwd": "/", "User": {"UID": 0, "GID": 0}},
        "Root": {"Path": f"{shared}/{cid}/rootfs"},
        "Mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": mp, "options": ["rbind", "rw"]},
        ],
        "Linux_": {"CgroupsPath": f"/ember-blk/{cid}",
                   "Namespaces": [{"Type": t} for t in ("pid", "mount", "ipc", "uts")]},
    }}))
EOF
}

# ---- 1. a container writes on the disk found by PCI path ------------------------------------
# shellcheck disable=SC2016 # expanded by the container's shell
SCRIPT='echo "written by an ember container" > /data/hello.txt && sync &&
echo "data: $(grep " /data " /proc/mounts | cut -d" " -f1,3)" && cat /data/hello.txt'
step "CreateContainer writer (storage blk source \"$SLOT\" -> $STORAGE_MP, bind at /data)"
ctl_json CreateContainer "$(create_req writer "$SLOT" "$STORAGE_MP" "$SCRIPT")" >/dev/null
ctl_json StartContainer '{"container_id": "writer"}' >/dev/null
: >"$T/writer.out"
while :; do
	ctl_json ReadStdout '{"container_id": "writer", "exec_id": "writer", "len": 32768}' \
		>"$T/chunk.json"
	python3 - "$T/chunk.json" "$T/writer.out" <<'EOF' || break
import json, sys
data = json.load(open(sys.argv[1])).get("data", "")
open(sys.argv[2], "a").write(data)
sys.exit(0 if data else 3)
EOF
done
OUT=$(cat "$T/writer.out")
printf '%s\n' "$OUT" | sed 's/^/  | /'
status=$(ctl_json WaitProcess '{"container_id": "writer", "exec_id": "writer"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin).get("status", 0))')
echo "container writer: exit code $status"
((status == 0)) || fail "the writer container exited with status $status"
grep -qxE 'data: /dev/vd[a-z]+ ext4' <<<"$OUT" || fail "/data is not the virtio-blk ext4 disk"
grep -qxF "written by an ember container" <<<"$OUT" || fail "the container did not read its file back"
ctl_json RemoveContainer '{"container_id": "writer"}' >/dev/null

# ---- 2. a device that never appears: DEADLINE_EXCEEDED, Health keeps answering --------------
# The host end of a virtio-serial port takes one client, and the agent takes a new stream 1 on it
# for a new client (cancelling the old one's calls), so two emberctl processes cannot share it.
# A Kata runtime keeps one connection and multiplexes its calls as ttrpc streams; so does this
# proxy: each client's streams get fresh odd stream ids on the one upstream connection.
MUX=$T/mux.sock
python3 - "$T/run/agent.sock" "$MUX" <<'EOF' >"$T/mux.log" 2>&1 &
import os, socket, struct, sys, threading
up = socket.socket(socket.AF_UNIX); up.connect(sys.argv[1])
lock = threading.Lock(); routes = {}; next_id = [1]
def read_frame(s):
    def exact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c: raise EOFError
            b += c
        return b
    h = exact(10)
    ln, sid, typ, fl = struct.unpack(">IIBB", h)
    return sid, typ, fl, exact(ln)
def frame(sid, typ, fl, body): return struct.pack(">IIBB", len(body), sid, typ, fl) + body
def client(c):
    mine = {}
    try:
        while True:
            sid, typ, fl, body = read_frame(c)
            with lock:
                if sid not in mine:
                    mine[sid] = next_id[0]; next_id[0] += 2
                    routes[mine[sid]] = (c, sid)
                up.sendall(frame(mine[sid], typ, fl, body))
    except (EOFError, OSError):
        c.close()
def upstream():
    while True:
        sid, typ, fl, body = read_frame(up)
        with lock: c, orig = routes.get(sid, (None, 0))
        try:
            if c: c.sendall(frame(orig, typ, fl, body))
        except OSError:
            pass
threading.Thread(target=upstream, daemon=True).start()
ls = socket.socket(socket.AF_UNIX); ls.bind(sys.argv[2]); ls.listen(8)
while True:
    c, _ = ls.accept()
    threading.Thread(target=client, args=(c,), daemon=True).start()
EOF
MUX_PID=$!
for _ in $(seq 50); do [[ -S $MUX ]] && break; sleep 0.1; done
[[ -S $MUX ]] || fail "the ttrpc proxy did not start: $(cat "$T/mux.log")"
mctl() { "$CTL" --addr "serial://$MUX" --timeout 60 "$@"; }

step "CreateContainer waiter (storage blk source \"$MISSING\", no device) in the background"
t0=$(ms_now)
rc_file=$T/waiter.rc
( rc=0; mctl call CreateContainer "$(create_req waiter "$MISSING" "$MISSING_MP" "true")" \
	>"$T/waiter.out" 2>"$T/waiter.err" || rc=$?; echo "$rc" >"$rc_file" ) &
BG=$!
sleep 0.3
checks=0
while [[ ! -s $rc_file ]]; do
	st=$(mctl check 2>&1) || fail "Health.Check during the device wait: $st"
	grep -qx SERVING <<<"$st" || fail "Health.Check during the device wait: $st"
	# Count only the answers that came while CreateContainer was still waiting.
	[[ -s $rc_file ]] || checks=$((checks + 1))
	sleep 0.1
done
wait "$BG" || true
BG=
kill "$MUX_PID" 2>/dev/null || true
wait "$MUX_PID" 2>/dev/null || true
MUX_PID=
elapsed=$(($(ms_now) - t0))
echo "Health.Check during the wait: $checks x SERVING (last: $st)"
echo "CreateContainer waiter: rc $(cat "$rc_file") after $elapsed ms: $(cat "$T/waiter.err")"
[[ $(cat "$rc_file") != 0 ]] || fail "CreateContainer with a missing device succeeded"
grep -q DEADLINE_EXCEEDED "$T/waiter.err" || fail "not DEADLINE_EXCEEDED: $(cat "$T/waiter.err")"
grep -qi "$MISSING" "$T/waiter.err" || fail "the error does not name the device $MISSING"
((checks >= 3)) || fail "only $checks Health.Check answers during the wait"
((elapsed >= TIMEOUT_S * 1000 - 500)) || fail "failed after $elapsed ms, before the hotplug timeout"

# ---- 3. DestroySandbox, power-off, the file on the image ------------------------------------
step "DestroySandbox"
ctl_json DestroySandbox '{}' >/dev/null
for _ in $(seq 300); do
	kill -0 "$VM" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$VM" 2>/dev/null && fail "the VM did not power off within 30 s of DestroySandbox"
rc=0
wait "$VM" || rc=$?
VM=
((rc == 0)) || fail "QEMU exited with status $rc after DestroySandbox"
grep -qF "reboot: Power down" "$T/run/console.log" || fail "the console lacks 'reboot: Power down'"
echo "VM powered off (QEMU exited with status 0)"

content=$("$DEBUGFS" -R "cat /hello.txt" "$DISK" 2>/dev/null) || fail "debugfs on $DISK"
echo "debugfs -R 'cat /hello.txt' disk.img: $content"
[[ $content == "written by an ember container" ]] || fail "the file is not on the disk image"
echo "PASS (vm blk storage)"
