#!/usr/bin/env bash
# Size and idle memory of the guest binaries: the musl agent (build/agent/ember-agent, what the
# image holds) against the same sources linked with static glibc (build/agent/ember-agent-glibc,
# the anchor), measured the same way in the same run: stripped size; idle RSS with its
# anonymous and file-backed parts (/proc/PID/status) of each agent started in private
# namespaces as the integration tests run it, read once Health.Check answers; and the initrd
# holding each agent (same ember-init, same modules).
#   bash bench/size.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
musl=$build/agent/ember-agent glibc=$build/agent/ember-agent-glibc
for f in "$musl" "$build/init/ember-init" "$build/tools/emberctl/emberctl"; do
	[[ -x $f ]] || { echo "size.sh: $f is missing (make build)" >&2; exit 1; }
done
if [[ ! -x $glibc ]]; then
	echo "size.sh: $glibc is missing: the guest binaries are not built with musl" \
		"(scripts/setup.sh build, then meson setup --reconfigure $build)" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/ember-size.XXXXXX)
agents=()
cleanup() {
	# unshare --fork ignores SIGTERM while it waits: the agents themselves are stopped.
	for p in "${agents[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

stripped() { strip --strip-all -o "$tmp/s" "$1" && stat -c %s "$tmp/s"; }
kib() { echo $(($1 / 1024)); }

echo "| binary | libc | size (stripped, static) |"
echo "|---|---|---|"
sm=$(stripped "$musl") sg=$(stripped "$glibc") si=$(stripped "$build/init/ember-init")
echo "| ember-agent | glibc (anchor) | $sg bytes ($(kib "$sg") KiB) |"
awk -v m="$sm" -v g="$sg" 'BEGIN { printf "| ember-agent | musl | %d bytes (%d KiB), %.2f× |\n", m, m / 1024, m / g }'
echo "| ember-init | musl | $si bytes ($(kib "$si") KiB) |"

# Idle memory: each agent alone in its pid/mount/net namespaces with a private /run.
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
idle() { # BINARY NAME; sets rss anon file (KiB)
	local sock=$tmp/$2.sock
	unshare -pmnf --mount-proc sh -c "mount -t tmpfs tmpfs /run && \
		EMBER_CMDLINE_FILE=/dev/null exec '$1' --listen unix://$sock --log-level warn" \
		2>"$tmp/$2.log" &
	local outer=$! pid="" up=0
	for _ in $(seq 200); do
		if [[ -z $pid ]]; then
			pid=$(pgrep -P "$outer" || true) # sh -c, then the agent it execs
			[[ -z $pid ]] || agents+=("$pid")
		fi
		if [[ -n $pid && -S $sock ]] &&
			"$build/tools/emberctl/emberctl" -a "unix://$sock" -t 5 check >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.05
	done
	((up)) || { echo "size.sh: $2 did not start: $(cat "$tmp/$2.log")" >&2; exit 1; }
	sleep 0.5 # let start-up work (the first uevent/netlink reads) settle
	rss=$(status_kib "$pid" VmRSS) anon=$(status_kib "$pid" RssAnon) file=$(status_kib "$pid" RssFile)
	kill "$pid"
	wait "$outer" || true
}
idle "$glibc" glibc
gr=$rss ga=$anon gf=$file
idle "$musl" musl
mr=$rss ma=$anon mf=$file
echo
echo "| ember-agent idle (after Health.Check) | VmRSS | RssAnon | RssFile |"
echo "|---|---|---|---|"
echo "| glibc (anchor) | $gr KiB | $ga KiB | $gf KiB |"
awk -v r="$mr" -v a="$ma" -v f="$mf" -v gr="$gr" -v ga="$ga" -v gf="$gf" 'BEGIN {
	printf "| musl | %d KiB (%.2f×) | %d KiB (%.2f×) | %d KiB (%.2f×) |\n", r, r / gr, a, a / ga, f, f / gf }'

# The initrd with each agent: the default image (modules of the newest installed kernel,
# zstd), or none when no kernel is installed (scripts/setup.sh vm).
img_args=() what="default modules"
if ! compgen -G '/boot/vmlinuz-*' >/dev/null; then img_args+=(--no-modules) what="no modules"; fi
comp=gzip
command -v zstd >/dev/null && comp=zstd
image() { # AGENT OUT -> bytes
	SOURCE_DATE_EPOCH=0 bash "$here/rootfs-builder/build-image.sh" --build-dir "$build" \
		--agent "$1" "${img_args[@]}" -o "$2" 2>/dev/null
	stat -c %s "$2"
}
ig=$(image "$glibc" "$tmp/glibc.img") im=$(image "$musl" "$tmp/musl.img")
echo
echo "| initrd (ember-init, ember-agent, $what, $comp) | size |"
echo "|---|---|"
echo "| with the glibc agent (anchor) | $ig bytes ($(kib "$ig") KiB) |"
awk -v m="$im" -v g="$ig" 'BEGIN { printf "| with the musl agent | %d bytes (%d KiB), %.2f× |\n", m, m / 1024, m / g }'
