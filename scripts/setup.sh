#!/usr/bin/env bash
# scripts/setup.sh — ember's idempotent dependency installer (Debian 12).
#
#   scripts/setup.sh [GROUP...]      GROUP: build | test | all (default: all)
#
# * Installs the Debian packages of the selected groups that are missing.
#   When everything is present it runs no apt command and prints nothing.
# * For the "build" group it also builds static libmount.a + libblkid.a
#   (Debian ships no libmount.a) from Debian's util-linux source package into
#   the cache prefix <repo>/.deps/prefix, once (guarded by a stamp file):
#     PKG_CONFIG_PATH=<repo>/.deps/prefix/lib/pkgconfig pkg-config --static --cflags --libs mount
# * and, with musl-gcc, the guest agent's libraries from Debian's source packages
#   (libnl3, libseccomp, libcap2, util-linux, protobuf-c: static archives only, no
#   tools or docs) into <repo>/.deps/musl, each once (a stamp file per source
#   package, version and recipe). The musl build of the guest binaries
#   (scripts/guest-build.sh, driven by meson) links against them.
#   The source is fetched with a private apt sources list/state under .deps/apt;
#   the machine's apt configuration is never modified.
#
# Adding a package group: declare FOO_PKGS=(...) below and append "foo" to
# PKG_GROUPS; "scripts/setup.sh foo" and "all" then pick it up.
set -euo pipefail

# --------------------------------------------------------------------------
# Package groups (Debian 12 "bookworm" package names).
# --------------------------------------------------------------------------
# shellcheck disable=SC2034 # used through the nameref ${NAME^^}_PKGS in main()
BUILD_PKGS=(
	meson ninja-build pkg-config gcc make file
	protobuf-c-compiler libprotobuf-c-dev
	libseccomp-dev libcap-dev libmount-dev libblkid-dev
	libnl-3-dev libnl-route-3-dev libcmocka-dev libjson-c-dev
	dpkg-dev # dpkg-source, to unpack Debian source packages (static libmount, musl libraries)
	musl-tools # musl-gcc: the guest binaries (ember-init, ember-agent) are linked with musl
	# generators that libnl3 (its route grammars) and libseccomp/libcap (syscall and capability
	# name tables) run when they are built from source for musl
	flex bison gperf
)
# shellcheck disable=SC2034
TEST_PKGS=(
	golang-go golang-github-containerd-ttrpc-dev
	clang libclang-rt-14-dev
	busybox-static iproute2 util-linux procps
	iptables # Get/SetIPTables against the real tools (tests/integration/test-network.c)
	crun # the anchor of bench/container.sh (container start side by side with crun run)
)
# shellcheck disable=SC2034
VM_PKGS=(
	# the VM suite and `make image`/`make run`: Debian's kernel booted under QEMU
	qemu-system-x86 linux-image-amd64
	e2fsprogs zstd xz-utils busybox-static python3
)
# Order matters only for "all". Each name NAME maps to the array ${NAME^^}_PKGS.
PKG_GROUPS=(build test vm)

# Bump to force a rebuild of the static util-linux libraries everywhere.
UL_RECIPE=1
# Bump to force a rebuild of the musl libraries (.deps/musl) everywhere.
MUSL_RECIPE=1

# --------------------------------------------------------------------------
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
DEPS="$ROOT/.deps"
PREFIX="$DEPS/prefix"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

usage() {
	echo "usage: $0 [GROUP...]   GROUP: ${PKG_GROUPS[*]} all (default: all)"
}

SUDO=()
need_root() {
	if [[ $EUID -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot run apt-get"
		SUDO=(sudo)
	fi
}

# Print the packages among "$@" that are not installed.
missing_pkgs() {
	local -A ok=()
	local name status
	# One dpkg-query call for all; unknown packages are simply not listed.
	while IFS=$'\t' read -r name status; do
		[[ $status == "install ok installed" ]] && ok[$name]=1
	done < <(dpkg-query -W -f='${Package}\t${Status}\n' "$@" 2>/dev/null || true)
	local p
	for p in "$@"; do
		[[ -n ${ok[$p]:-} ]] || printf '%s\n' "$p"
	done
}

# Print the tail of a log file to stderr and exit non-zero.
fail_with_log() {
	local what=$1 logf=$2
	{
		printf 'setup: error: %s failed; last lines of %s:\n' "$what" "$logf"
		tail -n 40 "$logf" | sed 's/^/  | /'
	} >&2
	exit 1
}

APT_OPTS=(-q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300)

install_pkgs() {
	local -a wanted=("$@") missing=()
	mapfile -t missing < <(missing_pkgs "${wanted[@]}")
	((${#missing[@]})) || return 0

	need_root
	mkdir -p "$DEPS"
	local logf="$DEPS/apt-install.log"
	log "installing Debian packages: ${missing[*]}"
	{
		"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update &&
			"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
				apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}"
	} >"$logf" 2>&1 || fail_with_log "apt-get install" "$logf"

	mapfile -t missing < <(missing_pkgs "${wanted[@]}")
	((${#missing[@]} == 0)) || die "still missing after apt-get install: ${missing[*]} (see $logf)"
}

# --------------------------------------------------------------------------
# Static libmount + libblkid from Debian's util-linux source package.
# --------------------------------------------------------------------------

# Debian mirror URLs the machine itself uses (only Debian mirrors are reachable).
# Prints two lines: main archive URL, security archive URL.
detect_mirrors() {
	local -a files=()
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] && files+=("$f")
	done
	local uris=""
	if ((${#files[@]})); then
		uris=$(awk '
			FILENAME ~ /\.sources$/ {
				if (tolower($1) == "uris:") for (i = 2; i <= NF; i++) print $i
				next
			}
			$1 == "deb" || $1 == "deb-src" {
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if (i <= NF) print $i
			}' "${files[@]}" 2>/dev/null || true)
	fi
	local main="" sec="" u
	while read -r u; do
		[[ $u == http://* || $u == https://* ]] || continue
		u=${u%/}
		if [[ $u == *debian-security* ]]; then
			[[ -n $sec ]] || sec=$u
		elif [[ $u == */debian ]]; then
			[[ -n $main ]] || main=$u
		fi
	done <<<"$uris"
	[[ -n $main ]] || main=http://deb.debian.org/debian
	if [[ -z $sec ]]; then
		if [[ $main == */debian ]]; then sec=${main%/debian}/debian-security; else sec=http://deb.debian.org/debian-security; fi
	fi
	printf '%s\n%s\n' "$main" "$sec"
}

# Debian source version of util-linux to build: the one of the installed
# libmount-dev (so the static lib matches the system headers), else util-linux.
ul_wanted_version() {
	local v
	v=$(dpkg-query -W -f='${source:Version}' libmount-dev 2>/dev/null || true)
	[[ -n $v ]] || v=$(dpkg-query -W -f='${source:Version}' util-linux 2>/dev/null || true)
	[[ -n $v ]] || v=unknown
	printf '%s\n' "$v"
}

ul_outputs_present() {
	[[ -f $PREFIX/lib/libmount.a && -f $PREFIX/lib/libblkid.a &&
		-f $PREFIX/include/libmount/libmount.h && -f $PREFIX/include/blkid/blkid.h &&
		-f $PREFIX/lib/pkgconfig/mount.pc && -f $PREFIX/lib/pkgconfig/blkid.pc ]]
}

# The .pc files hold absolute paths; fix them up if the repo was moved.
ul_fix_pc_prefix() {
	local pc
	for pc in "$PREFIX/lib/pkgconfig/mount.pc" "$PREFIX/lib/pkgconfig/blkid.pc"; do
		grep -qxF "prefix=$PREFIX" "$pc" && continue
		# shellcheck disable=SC2016 # literal ${prefix} etc. for pkg-config
		sed -i -e "s|^prefix=.*|prefix=$PREFIX|" -e 's|^exec_prefix=.*|exec_prefix=${prefix}|' \
			-e 's|^libdir=.*|libdir=${exec_prefix}/lib|' -e 's|^includedir=.*|includedir=${prefix}/include|' "$pc"
	done
}

# Fetch the Debian source package $1 (version $2) into $DEPS/src; print the .dsc path.
# The private package lists are fetched at most once until the next clean-up.
fetch_source() {
	local pkg=$1 want=$2 logf=$3
	local src="$DEPS/src" aptd="$DEPS/apt"
	local dsc="$src/${pkg}_${want#*:}.dsc"
	if [[ -f $dsc ]]; then
		printf '%s\n' "$dsc"
		return 0
	fi

	local codename main sec keyring="" opts=""
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")
	[[ -n $codename ]] || codename=bookworm
	{ read -r main; read -r sec; } < <(detect_mirrors)
	[[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
		keyring="signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
	[[ $main == *snapshot* ]] && opts="check-valid-until=no"
	local o="${keyring}${keyring:+${opts:+ }}${opts}"
	o=${o:+[$o] }

	mkdir -p "$aptd/lists/partial" "$aptd/cache/archives/partial" "$src"
	cat >"$aptd/sources.list" <<EOF
# Private source list of scripts/setup.sh (never used by the system apt).
deb-src ${o}${main} ${codename} main
deb-src ${o}${main} ${codename}-updates main
deb-src ${o}${sec} ${codename}-security main
EOF
	local -a papt=(
		-o "Dir::Etc::SourceList=$aptd/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$aptd/lists"
		-o "Dir::Cache=$aptd/cache"
		-o APT::Sandbox::User=root
		-o Acquire::Retries=3
	)
	if ! compgen -G "$aptd/lists/*_Sources*" >/dev/null; then
		echo "+ apt-get update (private lists: $aptd)" >>"$logf"
		apt-get -q "${papt[@]}" update >>"$logf" 2>&1 || return 1
	fi
	echo "+ apt-get source --download-only $pkg=$want" >>"$logf"
	if ! (cd "$src" && apt-get -q "${papt[@]}" source --download-only "$pkg=$want") >>"$logf" 2>&1; then
		# The mirror may have moved past the installed version: take its candidate.
		echo "+ version $want not available; fetching the current $pkg source" >>"$logf"
		(cd "$src" && apt-get -q "${papt[@]}" source --download-only "$pkg") >>"$logf" 2>&1 || return 1
		local f
		dsc=""
		for f in "$src/${pkg}"_*.dsc; do
			[[ -f $f && ( -z $dsc || $f -nt $dsc ) ]] && dsc=$f
		done
	fi
	[[ -f $dsc ]] || return 1
	printf '%s\n' "$dsc"
}

# Unpack a .dsc (with Debian's patches) into directory $2, replacing it.
unpack_source() {
	local dsc=$1 dir=$2
	echo "+ dpkg-source -x $dsc"
	rm -rf "$dir"
	dpkg-source -x "$dsc" "$dir"
	# Debian's patches may touch configure.ac/Makefile.am (util-linux: only for programs we do
	# not build): mark the shipped generated files as current so that make does not try to
	# re-run autoconf/automake (not installed).
	(cd "$dir" && find . \( -name Makefile.in -o -name configure -o -name aclocal.m4 \
		-o -name config.h.in -o -name configure.h.in \) -exec touch {} +)
	sleep 1 # configure's "newer than distributed files" sanity check
}

# util-linux's configure options for libmount + libblkid alone (the glibc and musl builds).
UL_CONFIGURE_ARGS=(
	--enable-static --disable-shared --with-pic
	--disable-all-programs --enable-libmount --enable-libblkid
	--disable-libuuid --disable-libsmartcols --disable-libfdisk
	--disable-nls --disable-asciidoc --disable-poman --disable-gtk-doc
	--disable-bash-completion --disable-pylibmount --without-python
	--without-selinux --without-audit --without-smack --without-udev
	--without-ncursesw --without-ncurses --without-tinfo --without-readline
	--without-cap-ng --without-libz --without-libmagic --without-user
	--without-btrfs --without-systemd --without-econf --without-cryptsetup
	--without-util --disable-dependency-tracking --enable-silent-rules
)

ul_build() {
	local want=$1 stamp=$2
	local logf="$DEPS/util-linux-build.log"
	local dsc version srcdir bdir
	: >"$logf"

	dsc=$(fetch_source util-linux "$want" "$logf") || fail_with_log "fetching the util-linux source" "$logf"
	version=$(sed -n 's/^Version: *//p' "$dsc" | head -n1)
	srcdir="$DEPS/src/util-linux-${version#*:}"
	bdir="$DEPS/build/util-linux"

	# Subshell with its own errexit (errexit is ignored inside "cmd || handler").
	set +e
	(
		set -e
		rm -rf "$bdir"
		unpack_source "$dsc" "$srcdir"
		mkdir -p "$bdir"
		cd "$bdir"
		echo "+ configure"
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
			CC="${EMBER_DEPS_CC:-gcc}" CFLAGS="-O2 -fPIC -ffunction-sections -fdata-sections" \
			CPPFLAGS= LDFLAGS= LIBS= \
			"$srcdir/configure" \
			--prefix="$PREFIX" --libdir="$PREFIX/lib" \
			"${UL_CONFIGURE_ARGS[@]}"
		echo "+ make libblkid.la libmount.la"
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j"$(nproc 2>/dev/null || echo 2)" libblkid.la libmount.la
		echo "+ install into $PREFIX"
		rm -f "$PREFIX"/.stamp-util-linux-* "$PREFIX"/lib/libmount.* "$PREFIX"/lib/libblkid.* \
			"$PREFIX"/lib/pkgconfig/mount.pc "$PREFIX"/lib/pkgconfig/blkid.pc
		rm -rf "$PREFIX/include/libmount" "$PREFIX/include/blkid"
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make install-usrlib_execLTLIBRARIES install-pkgconfigDATA \
			install-nodist_blkidincHEADERS install-nodist_mountincHEADERS
		rm -f "$PREFIX"/lib/libmount.la "$PREFIX"/lib/libblkid.la
	) >>"$logf" 2>&1
	local rc=$?
	set -e
	((rc == 0)) || fail_with_log "building static libmount/libblkid" "$logf"

	ul_outputs_present || fail_with_log "installing static libmount/libblkid (outputs missing)" "$logf"
	# Sanity: the static link line must resolve to our archives.
	PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --static --libs mount >>"$logf" 2>&1 ||
		fail_with_log "pkg-config mount" "$logf"

	printf 'util-linux %s (debian source %s) recipe %s\n' "${version%%-*}" "$version" "$UL_RECIPE" >"$stamp"
	# Keep only the downloaded source files (offline rebuilds) and the prefix.
	rm -rf "$srcdir" "$DEPS/build" "$DEPS/apt/lists" "$DEPS/apt/cache"
}

ensure_static_util_linux() {
	local want key stamp
	want=$(ul_wanted_version)
	key=${want//[:\/]/_}
	stamp="$PREFIX/.stamp-util-linux-${key}-r${UL_RECIPE}"
	if [[ -f $stamp ]] && ul_outputs_present; then
		ul_fix_pc_prefix
		return 0
	fi

	mkdir -p "$DEPS" "$PREFIX"
	exec 9>"$DEPS/.setup.lock"
	flock 9 # another setup.sh may be building right now
	if [[ -f $stamp ]] && ul_outputs_present; then
		exec 9>&-
		return 0
	fi
	log "building static libmount (once)"
	ul_build "$want" "$stamp"
	exec 9>&-
}

# --------------------------------------------------------------------------
# The guest agent's libraries built with musl-gcc, into $DEPS/musl.
# --------------------------------------------------------------------------
# Debian ships these libraries for glibc only. They are built from the source package of the
# installed -dev package (so both builds of ember see the same API), static archives and
# headers only, -Os with per-function sections so that the agent's --gc-sections drops what it
# never calls. The .pc files are made relocatable (${pcfiledir}).
MUSL="$DEPS/musl"
# source package -> the -dev package whose version is built
declare -A MUSL_DEV_PKG=(
	[protobuf-c]=libprotobuf-c-dev [libcap2]=libcap-dev [libseccomp]=libseccomp-dev
	[libnl3]=libnl-3-dev [util-linux]=libmount-dev
)
# source package -> the .pc file that proves it installed
declare -A MUSL_PC=(
	[protobuf-c]=libprotobuf-c [libcap2]=libcap [libseccomp]=libseccomp
	[libnl3]=libnl-route-3.0 [util-linux]=mount
)
MUSL_ORDER=(protobuf-c libcap2 libseccomp libnl3 util-linux)
MUSL_CFLAGS="-Os -ffunction-sections -fdata-sections"

src_version() { # PKG -> Debian source version of the installed package
	dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null || true
}

# musl-gcc's specs see only musl's headers; the kernel's uapi headers (linux/, asm/,
# asm-generic/ from linux-libc-dev) are linked into the prefix's include directory, which every
# musl compile of ember and of these libraries gets with -isystem.
musl_kernel_headers() {
	local multiarch d
	multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	mkdir -p "$MUSL/include"
	for d in linux asm-generic "$multiarch/asm"; do
		[[ -d /usr/include/$d ]] || die "/usr/include/$d is missing (linux-libc-dev)"
		[[ -L $MUSL/include/${d##*/} ]] || ln -sfn "/usr/include/$d" "$MUSL/include/${d##*/}"
	done
}

# Each builder runs in its build directory with the unpacked source in $srcdir.
musl_build_protobuf-c() { # the runtime library only; protoc-c (glibc) generates the code
	# shellcheck disable=SC2086 # MUSL_CFLAGS is a list of flags
	musl-gcc $MUSL_CFLAGS -I"$srcdir" -c "$srcdir/protobuf-c/protobuf-c.c" -o protobuf-c.o
	ar rcs libprotobuf-c.a protobuf-c.o
	install -D -m 0644 libprotobuf-c.a "$MUSL/lib/libprotobuf-c.a"
	install -D -m 0644 "$srcdir/protobuf-c/protobuf-c.h" "$MUSL/include/protobuf-c/protobuf-c.h"
	musl_write_pc libprotobuf-c "Protocol Buffers C runtime" "${version%%-*}" -lprotobuf-c
}

musl_build_libcap2() { # libcap.a alone (no psx, no tools, no Go, no PAM)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$srcdir/libcap" libcap.a \
		CC=musl-gcc BUILD_CC=gcc COPTS="$MUSL_CFLAGS" SHARED=no GOLANG=no PAM_CAP=no PTHREADS=no
	install -D -m 0644 "$srcdir/libcap/libcap.a" "$MUSL/lib/libcap.a"
	install -D -m 0644 "$srcdir/libcap/include/sys/capability.h" "$MUSL/include/sys/capability.h"
	local v=${version#*:}
	musl_write_pc libcap "Linux capabilities library" "${v%%-*}" -lcap
}

musl_configure() { # autotools configure for musl, static only
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL CC=musl-gcc CFLAGS="$MUSL_CFLAGS" \
		CPPFLAGS="-isystem $MUSL/include" LDFLAGS= LIBS= \
		"$srcdir/configure" --prefix="$MUSL" --libdir="$MUSL/lib" \
		--enable-static --disable-shared --disable-dependency-tracking --enable-silent-rules "$@"
}

musl_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j"$(nproc 2>/dev/null || echo 2)" "$@"; }

musl_build_libseccomp() {
	musl_configure --disable-python
	musl_make -C src libseccomp.la
	musl_make -C src install-libLTLIBRARIES
	musl_make -C include install-includeHEADERS
	musl_make install-pkgconfDATA
}

musl_build_libnl3() { # libnl-3 and libnl-route-3 only (no CLI, no genl/nf/xfrm/idiag)
	musl_configure --disable-cli --disable-debug
	musl_make lib/libnl-3.la lib/libnl-route-3.la
	local h hdrs=()
	for h in netlink netlink_route netlink_route_act netlink_route_cls netlink_route_cls_ematch \
		netlink_route_link netlink_route_qdisc; do
		hdrs+=("install-libnlinclude_${h}HEADERS")
	done
	musl_make install-libLTLIBRARIES lib_LTLIBRARIES="lib/libnl-3.la lib/libnl-route-3.la" \
		install-pkgconfigDATA pkgconfig_DATA="libnl-3.0.pc libnl-route-3.0.pc" "${hdrs[@]}"
}

musl_build_util-linux() { # libmount + libblkid
	musl_configure "${UL_CONFIGURE_ARGS[@]}"
	musl_make libblkid.la libmount.la
	musl_make install-usrlib_execLTLIBRARIES install-pkgconfigDATA \
		install-nodist_blkidincHEADERS install-nodist_mountincHEADERS
}

musl_write_pc() { # NAME DESCRIPTION VERSION LIBS
	install -d "$MUSL/lib/pkgconfig"
	cat >"$MUSL/lib/pkgconfig/$1.pc" <<EOF
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $1
Description: $2 (static, musl; built by ember's scripts/setup.sh)
Version: $3
Libs: -L\${libdir} $4
Cflags: -I\${includedir}
EOF
}

musl_build() { # SRCPKG WANTED-VERSION STAMP
	local pkg=$1 want=$2 stamp=$3
	local logf="$DEPS/musl-$pkg-build.log"
	local dsc version srcdir bdir
	: >"$logf"
	dsc=$(fetch_source "$pkg" "$want" "$logf") || fail_with_log "fetching the $pkg source" "$logf"
	version=$(sed -n 's/^Version: *//p' "$dsc" | head -n1)
	srcdir="$DEPS/src/$pkg-${version#*:}"
	bdir="$DEPS/build/musl-$pkg"

	set +e
	(
		set -e
		rm -rf "$bdir" "$MUSL/lib/pkgconfig/${MUSL_PC[$pkg]}.pc"
		rm -f "$MUSL/.stamp-$pkg-"*
		unpack_source "$dsc" "$srcdir"
		mkdir -p "$bdir"
		cd "$bdir"
		echo "+ build $pkg $version with musl-gcc"
		"musl_build_$pkg"
		rm -f "$MUSL"/lib/*.la
		# Relocatable .pc files: the checkout may move.
		sed -i -e "s|$MUSL|\${pcfiledir}/../..|g" "$MUSL"/lib/pkgconfig/*.pc
	) >>"$logf" 2>&1
	local rc=$?
	set -e
	((rc == 0)) || fail_with_log "building $pkg with musl" "$logf"
	[[ -f $MUSL/lib/pkgconfig/${MUSL_PC[$pkg]}.pc ]] ||
		fail_with_log "installing $pkg for musl (${MUSL_PC[$pkg]}.pc missing)" "$logf"
	printf '%s (debian source %s) recipe %s\n' "$pkg" "$version" "$MUSL_RECIPE" >"$stamp"
	rm -rf "$srcdir" "$bdir"
}

musl_stamp() { # SRCPKG -> path of its stamp file
	local want
	want=$(src_version "${MUSL_DEV_PKG[$1]}")
	[[ -n $want ]] || want=unknown
	printf '%s\n' "$MUSL/.stamp-$1-${want//[:\/]/_}-r$MUSL_RECIPE"
}

musl_done() { [[ -f $(musl_stamp "$1") && -f $MUSL/lib/pkgconfig/${MUSL_PC[$1]}.pc ]]; }

ensure_musl_libs() {
	command -v musl-gcc >/dev/null 2>&1 || return 0 # the guest binaries fall back to glibc
	local pkg todo=()
	for pkg in "${MUSL_ORDER[@]}"; do musl_done "$pkg" || todo+=("$pkg"); done
	((${#todo[@]})) || return 0

	mkdir -p "$DEPS" "$MUSL"
	exec 9>"$DEPS/.setup.lock"
	flock 9 # another setup.sh may be building right now
	musl_kernel_headers
	for pkg in "${todo[@]}"; do
		musl_done "$pkg" && continue
		log "building $pkg with musl for the guest agent (once)"
		musl_build "$pkg" "$(src_version "${MUSL_DEV_PKG[$pkg]}")" "$(musl_stamp "$pkg")"
	done
	# Keep only the downloaded source files (offline rebuilds) and the prefix.
	rm -rf "$DEPS/build" "$DEPS/apt/lists" "$DEPS/apt/cache"
	exec 9>&-
}

# --------------------------------------------------------------------------
main() {
	local -a groups=()
	local g
	(($#)) || set -- all
	for g in "$@"; do
		case $g in
		all) groups+=("${PKG_GROUPS[@]}") ;;
		-h | --help) usage; exit 0 ;;
		*)
			local known=0 k
			for k in "${PKG_GROUPS[@]}"; do [[ $k == "$g" ]] && known=1; done
			((known)) || { usage >&2; die "unknown group '$g'"; }
			groups+=("$g")
			;;
		esac
	done

	local -a pkgs=()
	for g in "${groups[@]}"; do
		local -n arr="${g^^}_PKGS"
		pkgs+=("${arr[@]}")
		unset -n arr
	done
	install_pkgs "${pkgs[@]}"

	for g in "${groups[@]}"; do
		if [[ $g == build ]]; then
			ensure_static_util_linux
			ensure_musl_libs
			break
		fi
	done
}

main "$@"
