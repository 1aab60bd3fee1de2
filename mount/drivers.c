/* SPDX-License-Identifier: Apache-2.0 */
/* Storage drivers: Kata's handler table (src/agent/src/storage/, reference section 4.2). */
#define LOG_SUBSYSTEM "storage"
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

enum driver_kind {
	DRIVER_BLOCK,	  /* blk, mmioblk, scsi, nvdimm: mount the device found */
	DRIVER_SHARE,	  /* virtio-fs, 9p: mount the tag; kataShared may be pre-mounted */
	DRIVER_EPHEMERAL, /* tmpfs or hugetlbfs */
	DRIVER_LOCAL,	  /* a directory, no mount */
	DRIVER_OVERLAY,
};

struct driver {
	const char *name;
	enum driver_kind kind;
	const char *default_fstype;
};

static const struct driver drivers[] = {
    {"blk", DRIVER_BLOCK, NULL},
    {"mmioblk", DRIVER_BLOCK, NULL},
    {"scsi", DRIVER_BLOCK, NULL},
    {"nvdimm", DRIVER_BLOCK, NULL},
    {"virtio-fs", DRIVER_SHARE, "virtiofs"},
    /* Dropped by Kata's Rust agent but still sent by the Go runtime (shared_fs=virtio-9p). */
    {"9p", DRIVER_SHARE, "9p"},
    {"ephemeral", DRIVER_EPHEMERAL, "tmpfs"},
    {"local", DRIVER_LOCAL, NULL},
    {"overlayfs", DRIVER_OVERLAY, "overlay"},
};

const char *const storage_driver_names[] = {
    "blk", "mmioblk", "scsi", "nvdimm", "virtio-fs", "9p", "ephemeral", "local", "overlayfs", NULL,
};

#define KATA_SHARED_TAG	 "kataShared"
#define OPT_OVERLAY_RW	 "io.katacontainers.fs-opt.overlay-rw"
#define DOPT_OVERLAY_DIR "io.katacontainers.volume.overlayfs.create_directory="
#define KATA_OPT_PREFIX	 "io.katacontainers."

int errmsg_set(char *msg, size_t msgsz, int r, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	errno = abs(r);
	va_start(ap, fmt);
	vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
	errno = saved;
	return r;
}

static const struct driver *driver_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
		if (streq(drivers[i].name, name))
			return &drivers[i];
	return NULL;
}

bool driver_known(const char *driver)
{
	return driver_find(driver) != NULL;
}

const char *driver_device_kind(const char *driver)
{
	const struct driver *d = driver_find(driver);
	return d && d->kind == DRIVER_BLOCK ? d->name : NULL;
}

/* /run/kata-containers is the agent's own directory on its own /run; CreateSandbox may
 * have wiped it, so it is (re)created here. */
int run_root_open(int *ret_fd)
{
	int r = mkdir_p(STORAGE_RUN_ROOT, 0755);
	if (r < 0)
		return r;
	int fd = open(STORAGE_RUN_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

static int is_mount_root(int fd)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
		return -errno;
	if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return -EOPNOTSUPP;
	return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int fd_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return 0;
}

/* A container id used in a path: one plain component. */
static bool owner_is_path_safe(const char *owner)
{
	return owner && *owner && strlen(owner) <= 255 && !strchr(owner, '/') &&
	       !streq(owner, ".") && !streq(owner, "..");
}

static int parse_gid_opt(const char *v, gid_t *ret)
{
	uint32_t g;
	if (parse_u32(v, &g) < 0 || g == UINT32_MAX)
		return -EINVAL;
	*ret = (gid_t)g;
	return 0;
}

/* The options split into what the kernel gets and what the agent consumes. */
struct storage_opts {
	char **kernel; /* pointers into the request, plus extra[] */
	size_t n_kernel;
	char *extra[2];
	bool overlay_rw;
	bool has_fsgid;
	gid_t fsgid;
	bool has_mode;
	mode_t mode;
};

static void storage_opts_done(struct storage_opts *o)
{
	free(o->kernel);
	free(o->extra[0]);
	free(o->extra[1]);
}

static int storage_opts_split(const struct driver *d, const Grpc__Storage *s,
			      struct storage_opts *o, char *msg, size_t msgsz)
{
	*o = (struct storage_opts){0};
	o->kernel = calloc(s->n_options + ARRAY_SIZE(o->extra) + 1, sizeof(char *));
	if (!o->kernel)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_options; i++) {
		const char *opt = s->options[i], *v;
		if (streq(opt, OPT_OVERLAY_RW)) {
			o->overlay_rw = true;
			continue;
		}
		/* Agent-side annotations of the runtime, never for the kernel. */
		if (startswith(opt, KATA_OPT_PREFIX))
			continue;
		if ((d->kind == DRIVER_EPHEMERAL || d->kind == DRIVER_LOCAL) &&
		    (v = startswith(opt, "fsgid="))) {
			if (parse_gid_opt(v, &o->fsgid) < 0)
				return errmsg_set(msg, msgsz, -EINVAL, "invalid option '%s'", opt);
			o->has_fsgid = true;
			continue;
		}
		if (d->kind == DRIVER_LOCAL) {
			if ((v = startswith(opt, "mode="))) {
				char *end;
				errno = 0;
				unsigned long m = strtoul(v, &end, 8);
				if (errno || end == v || *end || m > 07777)
					return errmsg_set(msg, msgsz, -EINVAL,
							  "invalid option '%s'", opt);
				o->mode = (mode_t)m;
				o->has_mode = true;
			}
			continue; /* local mounts nothing: other options mean nothing */
		}
		o->kernel[o->n_kernel++] = (char *)opt;
	}
	return 0;
}

static int check_driver_options(const struct driver *d, const Grpc__Storage *s, char *msg,
				size_t msgsz)
{
	for (size_t i = 0; i < s->n_driver_options; i++) {
		const char *o = s->driver_options[i];
		/* mkfs and LUKS need tools and CoCo's CDH that the ember guest does not carry. */
		if (d->kind == DRIVER_BLOCK &&
		    (streq(o, "create_filesystem") || startswith(o, "encryption_key")))
			return errmsg_set(msg, msgsz, -EOPNOTSUPP,
					  "driver option '%s' is not supported by ember", o);
	}
	return 0;
}

/* driver_options io.katacontainers.volume.overlayfs.create_directory=<dir> */
static int overlay_create_dirs(int rootfd, const Grpc__Storage *s, char *msg, size_t msgsz)
{
	for (size_t i = 0; i < s->n_driver_options; i++) {
		const char *dir = startswith(s->driver_options[i], DOPT_OVERLAY_DIR), *rel;
		if (!dir)
			continue;
		int r = path_below(dir, STORAGE_RUN_ROOT, &rel);
		if (r < 0)
			return errmsg_set(
			    msg, msgsz, r,
			    "overlay directory '%s' is not below " STORAGE_RUN_ROOT "/", dir);
		int fd = mkdir_beneath(rootfd, rel, 0755, (uid_t)-1, (gid_t)-1);
		if (fd < 0)
			return errmsg_set(msg, msgsz, fd,
					  "cannot create overlay directory '%s': %m", dir);
		close(fd);
	}
	return 0;
}

/* Kata's OverlayfsHandler: a writable overlay gets /run/kata-containers/<cid>/{upper,work}. */
static int overlay_rw_dirs(int rootfd, const char *owner, struct storage_opts *o, char *msg,
			   size_t msgsz)
{
	if (!owner_is_path_safe(owner))
		return errmsg_set(msg, msgsz, -EINVAL,
				  "option '" OPT_OVERLAY_RW "' needs a container id, got '%s'",
				  owner ? owner : "");
	static const char *const names[] = {"upper", "work"};
	for (size_t i = 0; i < 2; i++) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%s/%s", owner, names[i]);
		int fd = mkdir_beneath(rootfd, rel, 0755, (uid_t)-1, (gid_t)-1);
		if (fd < 0)
			return errmsg_set(msg, msgsz, fd, "cannot create %s/%s: %m",
					  STORAGE_RUN_ROOT, rel);
		close(fd);
		if (asprintf(&o->extra[i], "%sdir=" STORAGE_RUN_ROOT "/%s", names[i], rel) < 0)
			return -ENOMEM;
		o->kernel[o->n_kernel++] = o->extra[i];
	}
	return 0;
}

static int split_parent(const char *rel, char **ret_parent, const char **ret_base)
{
	const char *slash = strrchr(rel, '/');
	*ret_parent = strndup(rel, slash ? (size_t)(slash - rel) : 0);
	*ret_base = slash ? slash + 1 : rel;
	return *ret_parent ? 0 : -ENOMEM;
}

/* The mount point: a directory, or an empty file when a file is bind-mounted. Returns an
 * O_PATH fd of it; *created says whether it is new. */
static int make_mount_point(int rootfd, const char *rel, bool file, bool *created)
{
	int fd = open_beneath(rootfd, rel, O_PATH | O_NOFOLLOW, 0);
	*created = false;
	if (fd >= 0 || fd != -ENOENT)
		return fd;
	if (!file) {
		fd = mkdir_beneath(rootfd, rel, 0755, (uid_t)-1, (gid_t)-1);
		if (fd < 0)
			return fd;
		close(fd);
	} else {
		_cleanup_free_ char *parent = NULL;
		const char *base;
		if (split_parent(rel, &parent, &base) < 0)
			return -ENOMEM;
		_cleanup_close_ int pfd = mkdir_beneath(rootfd, parent, 0755, (uid_t)-1, (gid_t)-1);
		if (pfd < 0)
			return pfd;
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	*created = true;
	return open_beneath(rootfd, rel, O_PATH | O_NOFOLLOW, 0);
}

static void remove_mount_point(int rootfd, const char *rel)
{
	_cleanup_free_ char *parent = NULL;
	const char *base;
	if (split_parent(rel, &parent, &base) < 0)
		return;
	_cleanup_close_ int pfd = *parent ? open_beneath(rootfd, parent, O_PATH | O_DIRECTORY, 0)
					  : fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (pfd < 0)
		return;
	/* Only an empty directory or an empty file: never data someone put there. */
	if (unlinkat(pfd, base, AT_REMOVEDIR) < 0 && errno == ENOTDIR) {
		struct stat st;
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size == 0)
			(void)unlinkat(pfd, base, 0);
	}
}

static int set_fsgid(int fd, gid_t gid, mode_t *mode)
{
	struct stat st;
	if (fchown(fd, (uid_t)-1, gid) < 0 || fstat(fd, &st) < 0)
		return -errno;
	mode_t m = mode ? *mode : st.st_mode & 07777;
	return fchmod(fd, m | S_ISGID) < 0 ? -errno : 0;
}

/* Kata's LocalHandler: a directory with a mode and a group, no mount. */
static int local_create(struct storage *e, int rootfd, const char *rel, struct storage_opts *o,
			char *msg, size_t msgsz)
{
	int pfd = open_beneath(rootfd, rel, O_PATH | O_NOFOLLOW, 0);
	bool existed = pfd >= 0;
	if (pfd >= 0)
		close(pfd);
	_cleanup_close_ int fd = mkdir_beneath(rootfd, rel, 0755, (uid_t)-1, (gid_t)-1);
	if (fd < 0)
		return errmsg_set(msg, msgsz, fd, "cannot create '%s': %m", e->mount_point);
	e->created = !existed;
	int r = 0;
	if (o->has_fsgid)
		r = set_fsgid(fd, o->fsgid, o->has_mode ? &o->mode : NULL);
	else if (o->has_mode)
		r = fchmod(fd, o->mode) < 0 ? -errno : 0;
	if (r < 0)
		return errmsg_set(msg, msgsz, r, "cannot set mode/group of '%s': %m",
				  e->mount_point);
	return 0;
}

static void do_umount(int rootfd, const char *rel, const char *what)
{
	_cleanup_close_ int fd = open_beneath(rootfd, rel, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0) {
		log_warn_errno(fd, "cannot open mount point %s to unmount it: %m", what);
		return;
	}
	if (is_mount_root(fd) == 0) {
		log_warn("%s is no longer a mount point", what);
		return;
	}
	char p[32];
	fd_path(fd, p);
	if (umount2(p, 0) == 0)
		return;
	if (errno == EBUSY && umount2(p, MNT_DETACH) == 0) {
		log_info("%s was busy: detached it", what);
		return;
	}
	log_warn_errno(errno, "cannot unmount %s: %m", what);
}

void driver_teardown(struct storage_table *t, struct storage *e)
{
	_cleanup_close_ int rootfd = -1;
	const char *rel;
	if (e->external)
		return; /* mounted before us (kataShared), not ours to take away */
	if (path_below(e->mount_point, STORAGE_RUN_ROOT, &rel) < 0 || run_root_open(&rootfd) < 0)
		return;
	if (e->mounted)
		do_umount(rootfd, rel, e->mount_point);
	if (e->hugepages)
		hugepages_release(t, e->hugepage_kb, e->hugepages);
	if (e->created)
		remove_mount_point(rootfd, rel);
	log_info("released storage %s (driver %s)", e->mount_point, e->driver);
}

int driver_mount(struct storage_table *t, struct storage *e, const Grpc__Storage *s,
		 const char *devnode, const char *owner, char *msg, size_t msgsz)
{
	const struct driver *d = driver_find(s->driver);
	_cleanup_close_ int rootfd = -1, srcfd = -1, target = -1;
	_cleanup_(storage_opts_done) struct storage_opts o = {0};
	struct mount_opts mo = {0};
	_cleanup_free_ char *bad = NULL;
	const char *rel, *mp = e->mount_point; /* normalized */
	bool created = false;
	int r;

	if (!d)
		return errmsg_set(msg, msgsz, -EINVAL, "unknown storage driver '%s'", s->driver);
	r = path_below(mp, STORAGE_RUN_ROOT, &rel);
	if (r < 0)
		return errmsg_set(msg, msgsz, r,
				  "mount point '%s' is not below " STORAGE_RUN_ROOT "/", mp);
	r = run_root_open(&rootfd);
	if (r < 0)
		return errmsg_set(msg, msgsz, r, "cannot open " STORAGE_RUN_ROOT ": %m");
	r = check_driver_options(d, s, msg, msgsz);
	if (r < 0)
		return r;
	r = storage_opts_split(d, s, &o, msg, msgsz);
	if (r < 0)
		return r;

	if (d->kind == DRIVER_LOCAL)
		return local_create(e, rootfd, rel, &o, msg, msgsz);

	const char *fstype = *s->fstype ? s->fstype : d->default_fstype;
	if (d->kind == DRIVER_EPHEMERAL && !streq(fstype, "tmpfs") && !streq(fstype, "hugetlbfs"))
		return errmsg_set(msg, msgsz, -EINVAL,
				  "ephemeral storage of fstype '%s': only tmpfs and hugetlbfs",
				  fstype);
	if (d->kind == DRIVER_OVERLAY) {
		r = overlay_create_dirs(rootfd, s, msg, msgsz);
		if (r < 0)
			return r;
		if (o.overlay_rw && (r = overlay_rw_dirs(rootfd, owner, &o, msg, msgsz)) < 0)
			return r;
	}
	r = mount_opts_parse(o.kernel, o.n_kernel, 0, &mo, &bad);
	if (r < 0)
		return bad ? errmsg_set(msg, msgsz, r, "mount option '%s' is not allowed", bad)
			   : errmsg_set(msg, msgsz, r, "invalid mount options: %m");
	if (mo.flags & (MS_MOVE | MS_REMOUNT)) {
		r = errmsg_set(msg, msgsz, -EINVAL, "mount option '%s' is not allowed",
			       mo.flags & MS_MOVE ? "move" : "remount");
		goto out;
	}
	if (fstype && streq(fstype, "bind"))
		mo.flags |= MS_BIND;
	if (!fstype && !(mo.flags & MS_BIND)) {
		r = errmsg_set(msg, msgsz, -EINVAL, "fstype is empty");
		goto out;
	}

	const char *source = devnode ? devnode : (*s->source ? s->source : "none");
	char srcpath[32];
	bool file = false;
	if (mo.flags & MS_BIND) {
		/* A bind mount could expose any guest path to a container: only the agent's
		 * own tree, resolved like the mount point and handed over as an fd. */
		const char *srel;
		r = path_below(source, STORAGE_RUN_ROOT, &srel);
		if (r < 0) {
			r = errmsg_set(msg, msgsz, r,
				       "bind source '%s' is not below " STORAGE_RUN_ROOT "/",
				       source);
			goto out;
		}
		srcfd = open_beneath(rootfd, srel, O_PATH | O_NOFOLLOW, 0);
		struct stat st;
		if (srcfd < 0 || fstat(srcfd, &st) < 0) {
			r = errmsg_set(msg, msgsz, srcfd < 0 ? srcfd : -errno,
				       "cannot open bind source '%s': %m", source);
			goto out;
		}
		file = !S_ISDIR(st.st_mode);
		fd_path(srcfd, srcpath);
		source = srcpath;
	}
	if (d->kind == DRIVER_EPHEMERAL && streq(fstype, "hugetlbfs")) {
		r = hugepages_reserve(t, o.kernel, o.n_kernel, &e->hugepage_kb, &e->hugepages, msg,
				      msgsz);
		if (r < 0)
			goto out;
	}

	target = make_mount_point(rootfd, rel, file, &created);
	if (target < 0) {
		r = errmsg_set(msg, msgsz, target, "cannot create mount point '%s': %m", mp);
		goto fail;
	}
	if (d->kind == DRIVER_SHARE && streq(s->source, KATA_SHARED_TAG) &&
	    is_mount_root(target) > 0) {
		/* Kata: the share may already be mounted (a rootfs image's fstab/systemd unit). */
		log_info("%s is already mounted: using it", mp);
		e->external = true;
		r = 0;
		goto out;
	}

	char tpath[32];
	fd_path(target, tpath);
	unsigned long mflags = mo.flags & ~(unsigned long)MS_RDONLY;
	if (!(mo.flags & MS_BIND))
		mflags = mo.flags;
	if (mount(source, tpath, (mo.flags & MS_BIND) ? NULL : fstype, mflags, mo.data) < 0) {
		r = errmsg_set(msg, msgsz, -errno, "mount %s (%s) on '%s': %m",
			       devnode ? devnode : s->source, fstype ? fstype : "bind", mp);
		goto fail;
	}
	e->mounted = true;
	e->created = created;
	created = false; /* teardown owns it now */
	safe_close(target);
	/* From here on the mount point resolves to the new mount's root. */
	target = open_beneath(rootfd, rel, O_PATH | O_NOFOLLOW, 0);
	if (target < 0) {
		r = errmsg_set(msg, msgsz, target, "cannot reopen '%s' after mounting: %m", mp);
		goto fail_mounted;
	}
	fd_path(target, tpath);
	/* A bind mount takes MS_RDONLY (and nosuid...) only on a remount. */
	if ((mo.flags & MS_BIND) && (mo.flags & MS_RDONLY) &&
	    mount(NULL, tpath, NULL,
		  MS_REMOUNT | MS_BIND |
		      (mo.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)),
		  NULL) < 0) {
		r = errmsg_set(msg, msgsz, -errno, "cannot make bind mount '%s' read-only: %m", mp);
		goto fail_mounted;
	}
	if (mo.propagation && mount(NULL, tpath, NULL, mo.propagation, NULL) < 0) {
		r = errmsg_set(msg, msgsz, -errno, "cannot set the propagation of '%s': %m", mp);
		goto fail_mounted;
	}

	if (o.has_fsgid || s->fs_group) {
		_cleanup_close_ int dfd =
		    open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
		if (dfd < 0) {
			r = errmsg_set(msg, msgsz, dfd, "cannot open '%s': %m", mp);
			goto fail_mounted;
		}
		if (o.has_fsgid && (r = set_fsgid(dfd, o.fsgid, NULL)) < 0) {
			r = errmsg_set(msg, msgsz, r, "cannot apply fsgid %u to '%s': %m",
				       (unsigned)o.fsgid, mp);
			goto fail_mounted;
		}
		if (s->fs_group &&
		    (r = fs_group_apply(dfd, s->fs_group->group_id,
					s->fs_group->group_change_policy ==
					    TYPES__FSGROUP_CHANGE_POLICY__OnRootMismatch,
					mo.flags & MS_RDONLY)) < 0) {
			r = errmsg_set(msg, msgsz, r, "cannot apply fs_group %u to '%s': %m",
				       s->fs_group->group_id, mp);
			goto fail_mounted;
		}
	}
	log_info("mounted %s storage %s on %s (%s)", d->name, devnode ? devnode : s->source, mp,
		 fstype ? fstype : "bind");
	r = 0;
	goto out;

fail_mounted:
	do_umount(rootfd, rel, mp);
	e->mounted = false;
	if (e->created)
		remove_mount_point(rootfd, rel);
	e->created = false;
fail:
	if (e->hugepages) {
		hugepages_release(t, e->hugepage_kb, e->hugepages);
		e->hugepages = 0;
	}
	if (created)
		remove_mount_point(rootfd, rel);
out:
	mount_opts_done(&mo);
	return r;
}

/* ---- UpdateEphemeralMounts ---- */

static unsigned long mount_flags_of(int fd)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	unsigned long f = 0;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int update_one(int rootfd, size_t i, const Grpc__Storage *s, char *msg, size_t msgsz)
{
	const struct driver *d = driver_find(s->driver);
	_cleanup_(storage_opts_done) struct storage_opts o = {0};
	_cleanup_free_ char *bad = NULL;
	const char *rel;
	int r;

	if (!d || d->kind != DRIVER_EPHEMERAL)
		return errmsg_set(
		    msg, msgsz, -EINVAL,
		    "storage %zu: driver '%s': only ephemeral storages can be updated", i,
		    s->driver);
	if (*s->fstype && !streq(s->fstype, "tmpfs"))
		return errmsg_set(msg, msgsz, -EINVAL,
				  "storage %zu: fstype '%s': only tmpfs can be updated", i,
				  s->fstype);
	r = path_below(s->mount_point, STORAGE_RUN_ROOT, &rel);
	if (r < 0)
		return errmsg_set(msg, msgsz, r,
				  "storage %zu: mount point '%s' is not below " STORAGE_RUN_ROOT
				  "/",
				  i, s->mount_point);
	r = storage_opts_split(d, s, &o, msg, msgsz);
	if (r < 0)
		return r;
	if (o.n_kernel == 0)
		return 0; /* Kata: nothing to change */

	_cleanup_close_ int fd = open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0)
		return errmsg_set(msg, msgsz, fd, "storage %zu: cannot open '%s': %m", i,
				  s->mount_point);
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return errmsg_set(msg, msgsz, -errno, "storage %zu: statfs '%s': %m", i,
				  s->mount_point);
	if (is_mount_root(fd) <= 0 || sf.f_type != TMPFS_MAGIC)
		return errmsg_set(msg, msgsz, -ENOMEDIUM, "storage %zu: '%s' is not a tmpfs mount",
				  i, s->mount_point);

	struct mount_opts mo;
	r = mount_opts_parse(o.kernel, o.n_kernel, mount_flags_of(fd), &mo, &bad);
	if (r < 0)
		return bad ? errmsg_set(msg, msgsz, r,
					"storage %zu: mount option '%s' is not allowed", i, bad)
			   : errmsg_set(msg, msgsz, r, "storage %zu: invalid mount options: %m", i);
	char p[32];
	fd_path(fd, p);
	unsigned long flags = mo.flags & ~(unsigned long)(MS_BIND | MS_REC | MS_MOVE | MS_REMOUNT);
	if (mount(NULL, p, "tmpfs", MS_REMOUNT | flags, mo.data) < 0)
		r = errmsg_set(msg, msgsz, -errno, "storage %zu: remount '%s' with '%s': %m", i,
			       s->mount_point, mo.data ? mo.data : "");
	else
		log_info("remounted ephemeral storage %s (%s)", s->mount_point,
			 mo.data ? mo.data : "");
	mount_opts_done(&mo);
	return r;
}

int storage_update_ephemeral(Grpc__Storage *const *storages, size_t n, char *msg, size_t msgsz)
{
	_cleanup_close_ int rootfd = -1;
	if (n > MAX_OP_ITEMS)
		return errmsg_set(msg, msgsz, -E2BIG, "%zu storages: at most %d per request", n,
				  MAX_OP_ITEMS);
	int r = run_root_open(&rootfd);
	if (r < 0)
		return errmsg_set(msg, msgsz, r, "cannot open " STORAGE_RUN_ROOT ": %m");
	for (size_t i = 0; i < n; i++) {
		r = update_one(rootfd, i, storages[i], msg, msgsz);
		if (r < 0)
			return r;
	}
	return 0;
}
