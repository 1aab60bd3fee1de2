# shellcheck shell=bash
# Shared by the VM test scripts (sourced): skipping, the static busybox they put in guests, and
# a work directory whose VM is stopped and which is removed on exit.

# meson counts exit 77 as a skipped test.
skip() {
	echo "SKIP: $*"
	exit 77
}

# Sets BUSYBOX to a static busybox, or skips: it runs inside guests that have no libc.
vm_need_static_busybox() {
	BUSYBOX=$(command -v busybox || true)
	[[ -n $BUSYBOX ]] && file -L "$BUSYBOX" | grep -q statically || skip "no static busybox"
}

# Sets T to a new directory /tmp/ember-NAME.XXXXXX and VM_PID to empty; on exit the VM whose
# pid the script put in VM_PID is stopped and T is removed.
vm_workdir() {
	T=$(mktemp -d "/tmp/ember-$1.XXXXXX")
	VM_PID=
	trap vm_cleanup EXIT
}

vm_cleanup() {
	if [[ -n $VM_PID ]] && kill -0 "$VM_PID" 2>/dev/null; then
		kill -TERM "$VM_PID" 2>/dev/null || true
		wait "$VM_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
