#!/usr/bin/env bash
# scripts/guest-build.sh: the musl build of the guest binaries, driven by the main build.
#
#   guest-build.sh SRC_ROOT GUEST_DIR MUSL_PREFIX WERROR BUILDTYPE TARGET OUTPUT
#
# The main (glibc) meson build stays the one the tests, tools and sanitizers use. The guest
# binaries (ember-init, ember-agent) are linked fully static against musl: a second meson build
# of the same tree in GUEST_DIR with musl-gcc as its compiler, -Dguest_only=true, and
# pkg-config restricted to MUSL_PREFIX (the libraries scripts/setup.sh builds from Debian's
# sources). The main build runs this for each guest binary on every build (ninja restats the
# output, which is only rewritten when its content changed); the first run configures
# GUEST_DIR, later ones are a no-op ninja unless sources changed. Output is shown on failure.
set -euo pipefail
(($# == 7)) || { echo "usage: $0 SRC_ROOT GUEST_DIR MUSL_PREFIX WERROR BUILDTYPE TARGET OUTPUT" >&2; exit 2; }
src=$1 dir=$2 musl=$3 werror=$4 buildtype=$5 target=$6 out=$7

mkdir -p "$(dirname "$dir")"
# The main build runs one instance per guest binary, maybe in parallel: one ninja at a time.
exec 8>"$dir.lock"
flock 8

# Only the musl prefix: never the glibc prefix the Makefile exports, nor the system's .pc files;
# and no compiler or flags meant for the glibc build.
unset PKG_CONFIG_PATH CC CFLAGS CPPFLAGS LDFLAGS LIBS
export PKG_CONFIG_LIBDIR=$musl/lib/pkgconfig

config="musl=$musl werror=$werror buildtype=$buildtype"
if [[ ! -f $dir/build.ninja || $(cat "$dir.config" 2>/dev/null) != "$config" ]]; then
	rm -rf "$dir" "$dir.config"
	# musl-gcc's specs see musl's headers only; the prefix's include directory also holds
	# links to the kernel's uapi headers (linux/, asm/, asm-generic/).
	cat >"$dir.ini" <<EOF
[binaries]
c = 'musl-gcc'

[built-in options]
c_args = ['-isystem', '$musl/include']

[properties]
pkg_config_libdir = ['$musl/lib/pkgconfig']
EOF
	if ! meson setup --native-file "$dir.ini" -Dguest_only=true -Dtests=false \
		-Dwerror="$werror" -Dbuildtype="$buildtype" "$dir" "$src" >"$dir.log" 2>&1; then
		echo "guest-build: meson setup of the musl guest build failed:" >&2
		cat "$dir.log" >&2
		exit 1
	fi
	echo "$config" >"$dir.config"
fi

if ! ninja -C "$dir" "$target" >"$dir.log" 2>&1; then
	cat "$dir.log" >&2
	exit 1
fi
cmp -s "$dir/$target" "$out" || cp -f "$dir/$target" "$out"
