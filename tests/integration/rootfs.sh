#!/bin/bash
# Builds a minimal container rootfs in DIR from Debian's busybox-static: /bin/busybox plus
# one symlink per applet, /etc/passwd and /etc/group with a few users and groups.
set -euo pipefail
dir=${1:?usage: rootfs.sh DIR}
bb=$(command -v busybox || true)
[ -n "$bb" ] || { echo "rootfs.sh: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/user}
cp "$bb" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
cat >"$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$dir/etc/group" <<'G'
root:x:0:
wheel:x:10:user
audio:x:29:user,other
user:x:1000:
nogroup:x:65534:
G
chmod 755 "$dir"
chmod 1777 "$dir/tmp"
chown 1000:1000 "$dir/home/user"
