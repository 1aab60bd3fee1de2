#!/usr/bin/env bash
# ember-init as PID 1 of a pid namespace on the host (test mode), with a shell stand-in for
# the agent. Needs root (namespaces, mounts).
#
#   tests/integration/test-init.sh EMBER_INIT CASE
#
# CASE: boot | reap | restart | crashloop | no-agent | sigterm | sigterm-kill | crash
# Exit 0 = pass, 77 = skipped (not root / no namespaces), anything else = fail.
set -euo pipefail

INIT=${1:?usage: $0 EMBER_INIT CASE}
CASE=${2:?usage: $0 EMBER_INIT CASE}
INIT=$(readlink -f "$INIT")

if [[ $EUID -ne 0 ]]; then
	echo "SKIP: needs root"
	exit 77
fi
if ! unshare --fork --pid true 2>/dev/null; then
	echo "SKIP: cannot create a pid namespace"
	exit 77
fi

D=$(mktemp -d /tmp/ember-init-test.XXXXXX)
ROOT=$D/root
INIT_PID=
cleanup() {
	if [[ -n $INIT_PID ]] && kill -0 "$INIT_PID" 2>/dev/null; then
		kill -KILL "$INIT_PID" 2>/dev/null || true
	fi
	rm -rf "$D"
}
trap cleanup EXIT

fail() {
	echo "FAIL ($CASE): $*"
	echo "---- init log ----"
	cat "$D/log" 2>/dev/null || true
	echo "---- checks ----"
	cat "$D/checks" 2>/dev/null || true
	exit 1
}

mkdir -p "$ROOT/etc"
echo "ember-test-vm" >"$ROOT/etc/hostname"
: >"$D/checks"

# The stand-in agent: runs in init's namespaces, so it sees init's mounts below $ROOT and
# init's pid namespace through $ROOT/proc.
cat >"$D/agent.sh" <<'EOF'
#!/bin/sh
D=$EMBER_TEST_DIR
ROOT=$D/root
n=$(cat "$D/starts" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n >"$D/starts"
check() { if eval "$2"; then echo "ok $1" >>"$D/checks"; else echo "not ok $1" >>"$D/checks"; fi; }
case $EMBER_TEST_CASE in
boot)
	check proc-is-ours '[ "$(cat $ROOT/proc/1/comm)" = ember-init ]'
	check sys 'mountpoint -q $ROOT/sys'
	check dev 'mountpoint -q $ROOT/dev'
	check dev-pts '[ -e $ROOT/dev/pts/ptmx ]'
	check ptmx-link '[ "$(readlink $ROOT/dev/ptmx)" = pts/ptmx ]'
	check dev-fd '[ "$(readlink $ROOT/dev/fd)" = /proc/self/fd ]'
	check dev-stderr '[ "$(readlink $ROOT/dev/stderr)" = /proc/self/fd/2 ]'
	check shm 'mountpoint -q $ROOT/dev/shm'
	check run 'mountpoint -q $ROOT/run'
	check hostname '[ "$(cat /proc/sys/kernel/hostname)" = ember-test-vm ]'
	# fs.nr_open where init may raise the hard limit; else soft = hard.
	check nofile '[ "$(ulimit -n)" = "$(ulimit -Hn)" ]'
	check path 'case $PATH in /bin:/sbin:*) true;; *) false;; esac'
	check sigmask '[ "$(sed -n "s/^SigBlk:\t//p" /proc/self/status)" = 0000000000000000 ]'
	check session '[ "$(cut -d" " -f6 $ROOT/proc/$$/stat)" = $$ ]'
	exit 100
	;;
reap)
	# The inner shell exits at once: its sleep is orphaned and re-parented to init.
	sh -c 'sleep 0.3 & echo $! >"$EMBER_TEST_DIR/orphan.pid"'
	sleep 1.2
	pid=$(cat "$D/orphan.pid")
	check orphan-reaped '[ ! -e $ROOT/proc/$pid ]'
	exit 100
	;;
restart)
	[ $n -ge 3 ] && exit 100
	exit 7
	;;
crashloop)
	kill -SEGV $$
	;;
sigterm)
	# Leaves on SIGTERM, like the real agent, and so does its child.
	sleep 60 &
	trap 'kill $!; exit 0' TERM
	touch "$D/ready"
	wait
	;;
sigterm-kill | crash)
	# Ignores SIGTERM (inherited by the sleeps): only SIGKILL ends it.
	trap '' TERM
	sleep 60 &
	touch "$D/ready"
	while :; do sleep 60; done
	;;
esac
EOF
chmod +x "$D/agent.sh"
agent=$D/agent.sh
[[ $CASE == no-agent ]] && agent=$D/no-such-agent
echo "console=ttyS0 quiet ember.agent=$agent ember.log_level=debug ember.shutdown_timeout=1s" \
	>"$D/cmdline"

start_init() {
	# --kill-child: if this script dies, the namespace goes with it.
	EMBER_CMDLINE_FILE=$D/cmdline EMBER_TEST_DIR=$D EMBER_TEST_CASE=$CASE \
		unshare --fork --pid --kill-child "$INIT" --test-root "$ROOT" >"$D/log" 2>&1 &
	UNSHARE_PID=$!
	for _ in $(seq 100); do
		INIT_PID=$(pgrep -P "$UNSHARE_PID" || true)
		[[ -n $INIT_PID ]] && return 0
		sleep 0.05
	done
	fail "init did not start"
}

# Waits for init to end (bounded); sets STATUS and ELAPSED_MS.
wait_init() {
	local bound=$1 t0 rc=0
	t0=$(date +%s%N)
	for _ in $(seq $((bound * 20))); do
		kill -0 "$UNSHARE_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$UNSHARE_PID" 2>/dev/null; then
		kill -KILL "$UNSHARE_PID" 2>/dev/null || true
		fail "init still running after ${bound}s"
	fi
	wait "$UNSHARE_PID" || rc=$?
	STATUS=$rc
	ELAPSED_MS=$((($(date +%s%N) - t0) / 1000000))
}

wait_ready() {
	for _ in $(seq 200); do
		[[ -e $D/ready ]] && return 0
		sleep 0.05
	done
	fail "the agent stand-in never became ready"
}

expect_log() {
	grep -qE "$1" "$D/log" || fail "log lacks /$1/"
}

checks_ok() {
	if grep -q '^not ok' "$D/checks"; then
		fail "checks failed: $(grep '^not ok' "$D/checks" | tr '\n' ' ')"
	fi
	local n
	n=$(grep -c '^ok' "$D/checks" || true)
	[[ $n -ge $1 ]] || fail "expected $1 passing checks, got $n"
}

start_init
case $CASE in
boot)
	wait_init 10
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	checks_ok 14
	expect_log "ember-init .* starting"
	expect_log "agent .*agent.sh started \(pid 2\) [0-9.]+ ms after init started"
	expect_log "agent exited with status 100 \(sandbox destroyed\)"
	expect_log "shutting down \(poweroff\): the sandbox was destroyed"
	expect_log "test mode: exiting instead of poweroff"
	# Nothing init mounted leaked into our namespace.
	! grep -q "$ROOT" /proc/self/mountinfo || fail "test-root mounts leaked to the host"
	;;
reap)
	wait_init 10
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	checks_ok 1
	expect_log "reaped process $(cat "$D/orphan.pid"), which exited with status 0"
	;;
restart)
	wait_init 10
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	[[ $(cat "$D/starts") -eq 3 ]] || fail "agent started $(cat "$D/starts") times, wanted 3"
	[[ $(grep -c "agent exited with status 7; restarting it in" "$D/log") -eq 2 ]] ||
		fail "wanted two restarts"
	expect_log "restarting it in 100 ms"
	expect_log "restarting it in 200 ms"
	expect_log "sandbox destroyed"
	;;
crashloop)
	wait_init 15
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	[[ $(cat "$D/starts") -eq 5 ]] || fail "agent started $(cat "$D/starts") times, wanted 5"
	expect_log "killed by signal 11"
	expect_log "5 failures within 30 s, giving up"
	expect_log "shutting down \(poweroff\): the agent is crash-looping"
	;;
no-agent)
	wait_init 15
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	[[ $(grep -c "no-such-agent cannot be started (No such file or directory)" "$D/log") -eq 5 ]] ||
		fail "wanted 5 failed starts"
	expect_log "shutting down \(poweroff\): the agent is crash-looping"
	;;
sigterm)
	wait_ready
	kill -TERM "$INIT_PID"
	wait_init 10
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	((ELAPSED_MS < 1000)) || fail "a cooperative shutdown took ${ELAPSED_MS} ms"
	expect_log "shutting down \(poweroff\): Terminated"
	! grep -q "sending SIGKILL" "$D/log" || fail "SIGKILL was needed"
	echo "shutdown took ${ELAPSED_MS} ms"
	;;
sigterm-kill)
	wait_ready
	kill -TERM "$INIT_PID"
	wait_init 10
	[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"
	# ember.shutdown_timeout=1s, then SIGKILL: done within the bound plus slack.
	((ELAPSED_MS >= 900 && ELAPSED_MS < 2500)) || fail "shutdown took ${ELAPSED_MS} ms"
	expect_log "processes still running 1000 ms after SIGTERM, sending SIGKILL"
	expect_log "test mode: exiting instead of poweroff"
	echo "shutdown took ${ELAPSED_MS} ms"
	;;
crash)
	wait_ready
	# Test mode turns SIGQUIT into abort(): init's crash handler must catch it.
	kill -QUIT "$INIT_PID"
	wait_init 10
	[[ $STATUS -eq 3 ]] || fail "exit status $STATUS, wanted 3 (crash)"
	expect_log "ember-init: crashed with signal 06, exiting \(test mode\)"
	;;
*)
	fail "unknown case"
	;;
esac
echo "PASS ($CASE)"
