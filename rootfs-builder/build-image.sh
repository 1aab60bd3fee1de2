#!/usr/bin/env bash
# rootfs-builder/build-image.sh: bakes ember into a guest image, without root, reproducibly.
#
#   rootfs-builder/build-image.sh [OPTIONS] -o OUTPUT
#
#   -o, --output FILE        the image to write (required)
#   --format initrd|ext4     compressed cpio initrd with /init (default), or an ext4 disk
#                            image with /sbin/init for root=/dev/vda
#   --build-dir DIR          meson build directory with ember-init, ember-agent and the
#                            builder's helpers (default: build)
#   --init FILE, --agent FILE  binaries to install instead of the build directory's
#   --kernel-release REL     whose modules to include (default: the newest release that has
#                            both /lib/modules/REL and /boot/vmlinuz-REL)
#   --modules-root DIR       where REL's modules live (default: /lib/modules)
#   --modules LIST           comma-separated module set, replacing the default Kata-style set
#   --extra-modules LIST     modules added to the set
#   --no-modules             no kernel modules at all (a kernel with the drivers built in)
#   --file SRC:DST           an extra file or directory tree (repeatable)
#   --debug-shell            busybox-static as /bin/busybox with its applet links
#   --compress zstd|gzip|xz|none   initrd compression (default: zstd, else gzip)
#   --size MIB               ext4 size (default: content + 50%, at least 32 MiB)
#
# Reproducible: entries are sorted, owned by 0:0 and dated $SOURCE_DATE_EPOCH (default 0), the
# binaries are stripped, compressors run single-threaded without names or timestamps, and
# the ext4 image gets a UUID and hash seed derived from its content.
#
# Modules: the closure of the set is resolved from the kernel's modules.dep by
# ember-kmod-closure (the kmod/ code ember-init loads them with), copied with a matching
# modules.dep subset, and listed in /etc/ember/modules. Compressed modules (.ko.xz/.zst/.gz)
# are stored decompressed: the initrd is compressed as a whole anyway, and kernels without
# CONFIG_MODULE_DECOMPRESS (Debian 12's 6.1 among them) cannot load them otherwise.
set -euo pipefail

DEFAULT_MODULES=(
	# First: libcrc32c (ext4, erofs, xfs) asks the crypto API for "crc32c" in its init, and a
	# guest without modprobe cannot load it on demand. It is only a softdep, which
	# modules.dep does not carry, so load order is what makes it work.
	crc32c_generic
	# transports and devices of a Kata-style VM
	virtio_pci virtio_console virtio_blk virtio_net virtio_scsi sd_mod virtio_rng
	vmw_vsock_virtio_transport vsock_loopback
	# shared filesystems and guest storage
	9p 9pnet_virtio virtiofs overlay ext4 erofs
	# nvdimm/pmem rootfs and DAX images
	nfit nd_pmem virtio_pmem
)

die() { printf 'build-image: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'build-image: %s\n' "$*" >&2; }

OUTPUT= FORMAT=initrd BUILD_DIR=build INIT= AGENT= REL= MODROOT=/lib/modules
MODULES=("${DEFAULT_MODULES[@]}") WITH_MODULES=1 DEBUG_SHELL=0 COMPRESS= SIZE_MIB=
EXTRA_FILES=()
while (($#)); do
	case $1 in
	-o | --output) OUTPUT=$2; shift ;;
	--format) FORMAT=$2; shift ;;
	--build-dir) BUILD_DIR=$2; shift ;;
	--init) INIT=$2; shift ;;
	--agent) AGENT=$2; shift ;;
	--kernel-release) REL=$2; shift ;;
	--modules-root) MODROOT=$2; shift ;;
	--modules) IFS=, read -r -a MODULES <<<"$2"; shift ;;
	--extra-modules) IFS=, read -r -a more <<<"$2"; MODULES+=("${more[@]}"); shift ;;
	--no-modules) WITH_MODULES=0 ;;
	--file) EXTRA_FILES+=("$2"); shift ;;
	--debug-shell) DEBUG_SHELL=1 ;;
	--compress) COMPRESS=$2; shift ;;
	--size) SIZE_MIB=$2; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[[ -n $OUTPUT ]] || die "no output given (-o FILE)"
[[ $FORMAT == initrd || $FORMAT == ext4 ]] || die "--format must be initrd or ext4"

EPOCH=${SOURCE_DATE_EPOCH:-0}
INIT=${INIT:-$BUILD_DIR/init/ember-init}
AGENT=${AGENT:-$BUILD_DIR/agent/ember-agent}
MKCPIO=$BUILD_DIR/rootfs-builder/ember-mkcpio
CLOSURE=$BUILD_DIR/rootfs-builder/ember-kmod-closure
for f in "$INIT" "$AGENT"; do [[ -x $f ]] || die "$f is missing (build first: ninja -C $BUILD_DIR)"; done
[[ $FORMAT == ext4 || -x $MKCPIO ]] || die "$MKCPIO is missing (ninja -C $BUILD_DIR)"

if ((WITH_MODULES)) && [[ -z $REL ]]; then
	for d in $(ls -1d "$MODROOT"/*/ 2>/dev/null | sort -V -r); do
		r=$(basename "$d")
		if [[ -e /boot/vmlinuz-$r ]]; then REL=$r; break; fi
	done
	[[ -n $REL ]] || die "no kernel with modules found (install linux-image-amd64: scripts/setup.sh vm), or pass --no-modules"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ember-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
MANIFEST=$TMP/manifest
: >"$MANIFEST"
mkdir -p "$TMP/files"

# ---- the manifest: "dir NAME MODE", "file NAME SRC MODE", "slink NAME TARGET", "nod ..." ----
declare -A DIRS=() NAMES=()
add_dirs() { # parents of $1
	local p=${1%/*}
	while [[ -n $p && -z ${DIRS[$p]:-} ]]; do
		DIRS[$p]=1
		p=${p%/*}
	done
}
add_file() { # DST SRC MODE
	add_dirs "$1"
	NAMES[$1]=1
	echo "file $1 $2 $3" >>"$MANIFEST"
}
add_slink() { # DST TARGET
	add_dirs "$1"
	NAMES[$1]=1
	echo "slink $1 $2" >>"$MANIFEST"
}
add_dir() { # DST MODE
	add_dirs "$1/x"
	echo "dir $1 $2" >>"$MANIFEST"
	DIRS[$1]=explicit
}

stripped() { # SRC NAME -> path of a stripped copy (strip output is deterministic)
	local out=$TMP/files/$2
	strip --strip-all -o "$out" "$1" 2>/dev/null || cp "$1" "$out"
	echo "$out"
}

# Layout: ember-init is both /init (initramfs) and /sbin/init (disk root).
init_bin=$(stripped "$INIT" ember-init)
if [[ $FORMAT == initrd ]]; then
	add_file /init "$init_bin" 0755
	add_slink /sbin/init /init
else
	add_file /sbin/init "$init_bin" 0755
fi
add_file /sbin/ember-agent "$(stripped "$AGENT" ember-agent)" 0755
for d in /proc /sys /run /mnt /dev /etc/ember /var; do add_dir "$d" 0755; done
add_dir /tmp 1777
add_slink /var/run ../run
echo "nod /dev/console 0600 c 5 1" >>"$MANIFEST"
echo "nod /dev/null 0666 c 1 3" >>"$MANIFEST"

# ---- kernel modules ----
: >"$TMP/files/modules"
if ((WITH_MODULES)); then
	MODDIR=$MODROOT/$REL
	[[ -r $MODDIR/modules.dep ]] || die "$MODDIR/modules.dep is missing"
	[[ -x $CLOSURE ]] || die "$CLOSURE is missing (ninja -C $BUILD_DIR)"
	"$CLOSURE" "$MODDIR" "${MODULES[@]}" >"$TMP/closure" || die "module resolution failed"
	declare -A RENAME=()
	n=0
	while read -r kind path; do
		case $kind in
		dep)
			src=$MODDIR/$path dst=$path
			[[ $path == /* ]] && die "absolute module path $path is not supported"
			case $path in
			*.ko.xz) dst=${path%.xz}; xz -dc "$src" >"$TMP/files/m$n.ko" ;;
			*.ko.zst) dst=${path%.zst}; zstd -q -dc "$src" >"$TMP/files/m$n.ko" ;;
			*.ko.gz) dst=${path%.gz}; gzip -dc "$src" >"$TMP/files/m$n.ko" ;;
			*) cp "$src" "$TMP/files/m$n.ko" ;;
			esac
			RENAME[$path]=$dst
			add_file "/lib/modules/$REL/$dst" "$TMP/files/m$n.ko" 0644
			n=$((n + 1))
			;;
		want) echo "$path" >>"$TMP/files/modules" ;;
		esac
	done <"$TMP/closure"
	# The modules.dep subset: the closure's own lines, with decompressed names.
	awk -v keep="$(for k in "${!RENAME[@]}"; do printf '%s=%s\n' "$k" "${RENAME[$k]}"; done)" '
		BEGIN { n = split(keep, kv, "\n"); for (i = 1; i <= n; i++) { split(kv[i], p, "="); ren[p[1]] = p[2] } }
		{ key = $1; sub(/:$/, "", key); if (!(key in ren)) next
		  out = ren[key] ":"; for (i = 2; i <= NF; i++) out = out " " ((($i) in ren) ? ren[$i] : $i)
		  print out }' "$MODDIR/modules.dep" >"$TMP/files/modules.dep"
	add_file "/lib/modules/$REL/modules.dep" "$TMP/files/modules.dep" 0644
	if [[ -r $MODDIR/modules.builtin ]]; then
		cp "$MODDIR/modules.builtin" "$TMP/files/modules.builtin"
		add_file "/lib/modules/$REL/modules.builtin" "$TMP/files/modules.builtin" 0644
	fi
	log "kernel $REL: ${#MODULES[@]} modules requested, $n files in the closure"
fi
add_file /etc/ember/modules "$TMP/files/modules" 0644

# ---- debug shell ----
if ((DEBUG_SHELL)); then
	bb=$(command -v busybox || true)
	[[ -n $bb ]] || die "--debug-shell needs busybox-static (scripts/setup.sh vm)"
	file -L "$bb" | grep -q 'statically linked' || die "$bb is not static (install busybox-static)"
	add_file /bin/busybox "$bb" 0755
	# Applets never replace what ember installs (busybox's own init, /sbin/init).
	while read -r applet; do
		[[ -z $applet || -n ${NAMES[/$applet]:-} || -n ${DIRS[/$applet]:-} ]] && continue
		[[ $applet == linuxrc || $applet == */init ]] && continue
		add_slink "/$applet" /bin/busybox
	done < <("$bb" --list-full | sort -u)
fi

# ---- extra files ----
for spec in "${EXTRA_FILES[@]}"; do
	src=${spec%%:*} dst=${spec#*:}
	[[ $src != "$spec" && $dst == /* ]] || die "--file wants SRC:/DST, got '$spec'"
	[[ -e $src ]] || die "--file: $src does not exist"
	if [[ -d $src ]]; then
		while IFS= read -r -d '' f; do
			rel=${f#"$src"}
			mode=$(stat -c %a "$f")
			if [[ -L $f ]]; then add_slink "$dst$rel" "$(readlink "$f")"
			elif [[ -d $f ]]; then add_dir "${dst%/}$rel" "$mode"
			else add_file "$dst$rel" "$(readlink -f "$f")" "$mode"; fi
		done < <(find "$src" -mindepth 1 -print0 | sort -z)
	else
		add_file "$dst" "$(readlink -f "$src")" "$(stat -c %a "$src")"
	fi
done
# Any path with whitespace would break the manifest's fields.
if grep -qE '^(file|slink|dir) [^ ]+ [^ ]+ [^ ]+ [^ ]' "$MANIFEST"; then
	die "a file name contains whitespace"
fi

# Implicit parent directories (those not added explicitly).
for d in "${!DIRS[@]}"; do
	[[ ${DIRS[$d]} == explicit ]] || echo "dir $d 0755" >>"$MANIFEST"
done

mkdir -p "$(dirname "$OUTPUT")"
if [[ $FORMAT == initrd ]]; then
	if [[ -z $COMPRESS ]]; then
		COMPRESS=gzip
		command -v zstd >/dev/null && COMPRESS=zstd
	fi
	case $COMPRESS in
	zstd) compress=(zstd -q -19 -T1 -c) ;;
	gzip) compress=(gzip -n -9 -c) ;;
	xz) compress=(xz -q -9 -T1 --check=crc32 -c) ;; # the kernel's xz only knows crc32
	none) compress=(cat) ;;
	*) die "--compress must be zstd, gzip, xz or none" ;;
	esac
	"$MKCPIO" --mtime "$EPOCH" "$MANIFEST" >"$TMP/initrd.cpio"
	"${compress[@]}" <"$TMP/initrd.cpio" >"$OUTPUT.tmp"
	mv -f "$OUTPUT.tmp" "$OUTPUT"
	log "wrote $OUTPUT ($(stat -c %s "$OUTPUT") bytes, cpio $(stat -c %s "$TMP/initrd.cpio"), $COMPRESS)"
	exit 0
fi

# ---- ext4 disk image: mke2fs -d from a staging tree, fixed up with debugfs ----
command -v mke2fs >/dev/null || die "mke2fs is missing (e2fsprogs)"
ROOT=$TMP/root
mkdir -p "$ROOT"
DEBUGFS=$TMP/debugfs.cmd
: >"$DEBUGFS"
sort -k2,2 "$MANIFEST" | while read -r kind name a b c d; do
	case $kind in
	dir) mkdir -p "$ROOT$name"; chmod "$a" "$ROOT$name" ;;
	file) mkdir -p "$(dirname "$ROOT$name")"; cp "$a" "$ROOT$name"; chmod "$b" "$ROOT$name" ;;
	slink) mkdir -p "$(dirname "$ROOT$name")"; ln -sfn "$a" "$ROOT$name" ;;
	nod) # creating it on disk needs root: debugfs makes it inside the image instead
		type=$((8#20000))
		[[ $b == b ]] && type=$((8#60000))
		# debugfs' mknod takes a name in its cwd, not a path.
		printf 'cd %s\nmknod %s %s %s %s\ncd /\nsif %s mode 0%o\n' "${name%/*}" "${name##*/}" \
			"$b" "$c" "$d" "$name" $((type | 8#$a)) >>"$DEBUGFS"
		for f in "uid 0" "gid 0" "mtime $EPOCH" "atime $EPOCH" "ctime $EPOCH" "crtime $EPOCH"; do
			echo "sif $name $f" >>"$DEBUGFS"
		done
		;;
	esac
done
# Owner 0:0 and fixed times for every inode, whoever ran the build.
while IFS= read -r -d '' p; do
	rel=/${p#"$ROOT"/}
	[[ $p == "$ROOT" ]] && rel=/
	for f in "uid 0" "gid 0" "mtime $EPOCH" "atime $EPOCH" "ctime $EPOCH" "crtime $EPOCH"; do
		echo "sif $rel $f" >>"$DEBUGFS"
	done
done < <(find "$ROOT" -print0 | sort -z)
if [[ -z $SIZE_MIB ]]; then
	used=$(du -sm --apparent-size "$ROOT" | cut -f1)
	SIZE_MIB=$((used * 3 / 2 + 16))
	((SIZE_MIB >= 32)) || SIZE_MIB=32
fi
# A UUID and hash seed derived from the content: same inputs, same image.
uuid=$({
	sed "s|$TMP|@|g" "$MANIFEST" | sort
	awk '$1 == "file" { print $3 }' "$MANIFEST" | sort | xargs -r cat
} | sha256sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
rm -f "$OUTPUT.tmp"
E2FSPROGS_FAKE_TIME=$EPOCH mke2fs -q -F -t ext4 -b 4096 -L ember-root -U "$uuid" \
	-E "hash_seed=$uuid,root_owner=0:0,lazy_itable_init=0,nodiscard" \
	-d "$ROOT" "$OUTPUT.tmp" "${SIZE_MIB}M" >/dev/null 2>"$TMP/mke2fs.err" ||
	die "mke2fs failed: $(cat "$TMP/mke2fs.err")"
E2FSPROGS_FAKE_TIME=$EPOCH debugfs -w -f "$DEBUGFS" "$OUTPUT.tmp" >/dev/null 2>"$TMP/debugfs.err" ||
	die "debugfs failed: $(cat "$TMP/debugfs.err")"
mv -f "$OUTPUT.tmp" "$OUTPUT"
log "wrote $OUTPUT (ext4, ${SIZE_MIB} MiB)"
