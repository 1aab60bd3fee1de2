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

# Prints a container process's stdout, read to EOF with ReadStdout as the shim's copy loop does.
# CTL is a command (or function) taking "call METHOD JSON".
vm_read_stdout() { # CTL CID [EID]
	local ctl=$1 cid=$2 eid=${3:-$2} out='' chunk
	while :; do
		chunk=$("$ctl" call ReadStdout \
			"{\"container_id\": \"$cid\", \"exec_id\": \"$eid\", \"len\": 65536}" |
			python3 -c 'import json,sys; print(json.load(sys.stdin).get("data", ""), end="")') ||
			return 1
		[[ -n $chunk ]] || break
		out+=$chunk
	done
	printf '%s' "$out"
}
