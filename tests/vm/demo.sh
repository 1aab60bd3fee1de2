#!/usr/bin/env bash
# `make run` as a test: runs tools/vm/ember-vm-demo (boot, CreateSandbox with the 9p share and
# the pod shm, a busybox container from the share with cgroup limits, its streamed output, its
# exit code, DestroySandbox, power-off) and checks what it printed:
#
#   tests/vm/demo.sh BUILD_DIR
#
# Exit 0 = pass, 77 = skipped (no QEMU, no kernel, no static busybox), else fail.
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

OUT=$(mktemp /tmp/ember-vmdemo.XXXXXX)
trap 'rm -f "$OUT"' EXIT
rc=0
bash "$SRC/tools/vm/ember-vm-demo" "$BUILD" >"$OUT" 2>&1 || rc=$?
cat "$OUT"
fail() { echo "FAIL (vm demo): $*"; exit 1; }
((rc == 0)) || fail "ember-vm-demo exited with status $rc"

expect() { grep -qxF -- "$1" "$OUT" || fail "the output lacks the line '$1'"; }
expect "  | Hello from an ember container!"
expect "  | hostname: ember-demo"
expect "  | memory.max: 134217728"
expect "  | cpu.max: 50000 100000"
expect "  | pids.max: 64"
expect "  | rootfs: kataShared 9p"
expect "  | /dev/shm: tmpfs rw,nosuid,nodev,noexec"
expect "container demo: exit code 0"
grep -qE '^DestroySandbox -> VM powered off \(QEMU exited with status 0\): [0-9]+ ms$' "$OUT" ||
	fail "no power-off after DestroySandbox"
grep -qF "reboot: Power down" "$OUT" || fail "the guest console lacks 'reboot: Power down'"
grep -qE '^VM start -> agent ready .*: [0-9]+ ms' "$OUT" || fail "no boot timing"
grep -qE '^container create -> exit .*: [0-9]+ ms$' "$OUT" || fail "no container timing"
grep -qE '^total .*: [0-9]+ ms$' "$OUT" || fail "no total timing"
echo "PASS (vm demo)"
