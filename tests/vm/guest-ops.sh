#!/usr/bin/env bash
# Guest operations that change the machine, run against an ember-agent inside a VM (the
# host test suite only calls them with bad input):
#
#   tests/vm/guest-ops.sh EMBERCTL AGENT_ADDR
#
# AGENT_ADDR is what emberctl --addr takes (serial:///path/to/agent.channel.0.sock,
# vsock://CID:1024, hvsock:///vm.sock:1024). Optional environment, set by the VM launcher when
# it arranged the corresponding hardware:
#   EMBER_VM_CONSOLE_LOG  the guest console log (agent.log to console): the clock check reads
#                         the timestamps of the agent's log lines
#   EMBER_VM_CPU_TARGET   N: the launcher booted with -smp 1,maxcpus=N and device_add'ed
#                         vCPUs up to N; OnlineCPUMem{nb_cpus: N} must bring them all online
#   EMBER_VM_SWAP_DEV     a guest block device carrying a swap signature (mkswap on the host
#                         image), e.g. /dev/vdb, for AddSwapPath
#   EMBER_VM_SWAP_PCI     the same disk's PCI path as slots, e.g. "2,0" ... for AddSwap (use
#                         either one: a device is swapped on once)
#   EMBER_VM_LOG_ADDR     the log port (agent.log_vport=1025) as emberctl --addr
#   EMBER_VM_CONSOLE_ADDR the debug console (agent.debug_console agent.debug_console_vport=1026)
# Exit 0 = every case that could run passed; the first failure exits 1 naming its case.
set -euo pipefail

CTL=${1:?usage: $0 EMBERCTL AGENT_ADDR}
ADDR=${2:?usage: $0 EMBERCTL AGENT_ADDR}
T=$(mktemp -d /tmp/ember-guest-ops.XXXXXX)
trap 'rm -rf "$T"' EXIT

ctl() { "$CTL" --addr "$ADDR" --timeout 30 "$@"; }
fail() { echo "FAIL (guest-ops $1): ${*:2}"; exit 1; }
pass() { echo "ok   guest-ops $1"; }
skip() { echo "skip guest-ops $1: ${*:2}"; }

# An RPC that must fail: its stderr must name CODE and contain TEXT.
expect_error() {
	local name=$1 code=$2 text=$3
	shift 3
	if ctl "$@" >"$T/out" 2>"$T/err"; then
		fail "$name" "succeeded, expected $code"
	fi
	grep -q "^emberctl: $code: .*$text" "$T/err" || fail "$name" "got: $(cat "$T/err")"
}

# Read the whole reply first: an awk that exits early would SIGPIPE emberctl under pipefail.
metric() {
	local text
	text=$(ctl metrics) || return 1
	awk -v h="$1" 'index($0, h " ") == 1 { print $2; exit }' <<<"$text"
}

# ---- the clock -----------------------------------------------------------------------------
# 2030-01-01T00:00:00Z: far from any real clock, so the log's timestamps prove it moved.
ctl set-time 1893456000 0 || fail set-time "SetGuestDateTime failed"
if [[ -n ${EMBER_VM_CONSOLE_LOG:-} ]]; then
	# The agent logs the change (info) after making it: that line carries the new time.
	grep -q '"msg":"guest clock set to 1893456000\.000000".*"ts":"2030-01-01T00:00:' \
		"$EMBER_VM_CONSOLE_LOG" || fail set-time "no log line stamped 2030-01-01 after setting it"
fi
expect_error set-time-bad INVALID_ARGUMENT "Usec 1000000" set-time 1893456000 1000000
ctl set-time || fail set-time "could not put the guest clock back"
pass set-time

# ---- entropy ---------------------------------------------------------------------------------
ctl call ReseedRandomDev "{\"data\":\"$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n')\"}" \
	>/dev/null || fail reseed "ReseedRandomDev failed"
expect_error reseed-empty INVALID_ARGUMENT "empty" call ReseedRandomDev '{}'
pass reseed

# ---- CPUs and memory -------------------------------------------------------------------------
ctl call OnlineCPUMem '{"nb_cpus":1,"cpu_only":true}' >/dev/null || fail online-cpu "1 CPU"
expect_error online-cpu-bound INVALID_ARGUMENT "nb_cpus 4096" \
	call OnlineCPUMem '{"nb_cpus":4096,"cpu_only":true}'
if [[ -n ${EMBER_VM_CPU_TARGET:-} ]]; then
	ctl call OnlineCPUMem "{\"nb_cpus\":$EMBER_VM_CPU_TARGET,\"cpu_only\":true}" >/dev/null ||
		fail online-cpu "could not online $EMBER_VM_CPU_TARGET CPUs"
	last=$((EMBER_VM_CPU_TARGET - 1))
	ctl metrics | grep "^kata_guest_cpu_time{cpu=\"$last\",item=\"user\"}" >/dev/null ||
		fail online-cpu "cpu$last is not in /proc/stat after OnlineCPUMem"
	pass online-cpu
else
	skip online-cpu "EMBER_VM_CPU_TARGET not set (needs -smp 1,maxcpus=N and device_add)"
fi
ctl call OnlineCPUMem '{"nb_cpus":0,"cpu_only":false}' >/dev/null || fail online-mem "memory"
pass online-mem

# ---- swap ------------------------------------------------------------------------------------
if [[ -n ${EMBER_VM_SWAP_DEV:-} || -n ${EMBER_VM_SWAP_PCI:-} ]]; then
	before=$(metric 'kata_guest_meminfo{item="swap_total"}')
	if [[ -n ${EMBER_VM_SWAP_PCI:-} ]]; then
		ctl call AddSwap "{\"PCIPath\":[${EMBER_VM_SWAP_PCI}]}" >/dev/null ||
			fail add-swap "AddSwap at PCI path $EMBER_VM_SWAP_PCI"
	else
		ctl call AddSwapPath "{\"path\":\"$EMBER_VM_SWAP_DEV\"}" >/dev/null ||
			fail add-swap "AddSwapPath $EMBER_VM_SWAP_DEV"
	fi
	after=$(metric 'kata_guest_meminfo{item="swap_total"}')
	[[ ${after%.*} -gt ${before%.*} ]] || fail add-swap "swap_total $before -> $after"
	pass add-swap
else
	skip add-swap "EMBER_VM_SWAP_DEV / EMBER_VM_SWAP_PCI not set"
fi
expect_error add-swap-missing NOT_FOUND "/dev/ember-no-such-disk" \
	call AddSwapPath '{"path":"/dev/ember-no-such-disk"}'

# ---- metrics and the policy ------------------------------------------------------------------
rss=$(metric kata_agent_total_rss)
[[ ${rss%.*} -gt 0 ]] || fail metrics "kata_agent_total_rss is '$rss'"
pass metrics
printf 'default allow\ndeny GetMetrics\n' >"$T/policy"
ctl set-policy "$T/policy" || fail policy "SetPolicy"
expect_error policy-deny PERMISSION_DENIED "GetMetrics" metrics
printf 'default allow\n' >"$T/policy"
ctl set-policy "$T/policy" || fail policy "SetPolicy back"
ctl metrics >/dev/null || fail policy "GetMetrics after allowing it again"
pass policy

# ---- log port and debug console (vsock) ------------------------------------------------------
if [[ -n ${EMBER_VM_LOG_ADDR:-} ]]; then
	timeout 5 "$CTL" --addr "$EMBER_VM_LOG_ADDR" logs >"$T/logs" || true
	grep -q '^{"msg":".*ready in' "$T/logs" || fail log-port "no replayed start-up lines"
	pass log-port
else
	skip log-port "EMBER_VM_LOG_ADDR not set"
fi
if [[ -n ${EMBER_VM_CONSOLE_ADDR:-} ]]; then
	printf 'echo hello-$$\nexit\n' | timeout 30 "$CTL" --addr "$EMBER_VM_CONSOLE_ADDR" console \
		>"$T/console" || true
	grep -q 'hello-[0-9]' "$T/console" || fail debug-console "no shell answer: $(cat "$T/console")"
	pass debug-console
else
	skip debug-console "EMBER_VM_CONSOLE_ADDR not set"
fi
