/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A disk root behind an initramfs. Kata's image mode boots root=/dev/pmem0p1 or /dev/vda with
 * the drivers built into its kernel; Debian's kernel has virtio_blk, nd_pmem and ext4 as
 * modules, so the kernel alone cannot mount such a root. Given an initrd as well, ember-init
 * (the initrd's /init) loads the modules, mounts the root= device itself and continues from it,
 * as an initramfs does: the boot mounts move along, the initramfs' files are deleted (they
 * would otherwise stay in RAM), "/" becomes the disk (MS_MOVE + chroot: an initramfs cannot be
 * pivoted away from) and the disk's init is exec'd in place of this one, still PID 1.
 */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define FS_MAGIC_RAMFS 0x858458f6
#define FS_MAGIC_TMPFS 0x01021994

static const struct {
	const char *word;
	unsigned long set, clear;
} flag_words[] = {
    {"ro", MS_RDONLY, 0},	  {"rw", 0, MS_RDONLY},	       {"nosuid", MS_NOSUID, 0},
    {"nodev", MS_NODEV, 0},	  {"noexec", MS_NOEXEC, 0},    {"noatime", MS_NOATIME, 0},
    {"relatime", MS_RELATIME, 0}, {"sync", MS_SYNCHRONOUS, 0}, {"dirsync", MS_DIRSYNC, 0},
};

int sysroot_parse_flags(const char *rootflags, bool rw, unsigned long *flags, char **data)
{
	*flags = rw ? 0 : MS_RDONLY;
	*data = NULL;
	if (!rootflags || !*rootflags)
		return 0;
	size_t len = strlen(rootflags);
	char *out = calloc(1, len + 1);
	if (!out)
		return -ENOMEM;
	size_t n = 0;
	for (const char *s = rootflags; *s;) {
		const char *comma = strchrnul(s, ',');
		size_t l = (size_t)(comma - s);
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(flag_words) && !known; i++)
			if (strlen(flag_words[i].word) == l && !strncmp(s, flag_words[i].word, l)) {
				*flags = (*flags | flag_words[i].set) & ~flag_words[i].clear;
				known = true;
			}
		if (!known && l) {
			if (n)
				out[n++] = ',';
			memcpy(out + n, s, l);
			n += l;
		}
		s = *comma ? comma + 1 : comma;
	}
	if (n)
		*data = out;
	else
		free(out);
	return 0;
}

static bool root_is_initramfs(void)
{
	struct statfs sfs;
	return statfs("/", &sfs) == 0 && ((unsigned long)sfs.f_type == FS_MAGIC_RAMFS ||
					  (unsigned long)sfs.f_type == FS_MAGIC_TMPFS);
}

/* The kernel creates the node in devtmpfs when the driver binds the device: poll for it. */
static int wait_for_device(const char *dev, uint64_t timeout_ns)
{
	uint64_t deadline = now_monotonic_ns() + timeout_ns;
	struct stat st;
	while (stat(dev, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		if (now_monotonic_ns() >= deadline)
			return -ETIMEDOUT;
		usleep(10 * 1000);
	}
	return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
}

static int mount_root(const struct init_config *cfg, const char **fstype_used)
{
	static const char *const guesses[] = {"ext4", "erofs", "xfs"};
	_cleanup_free_ char *data = NULL;
	unsigned long flags;
	int r = sysroot_parse_flags(cfg->sysroot_flags, cfg->sysroot_rw, &flags, &data);
	if (r < 0)
		return r;
	if (cfg->sysroot_fstype) {
		*fstype_used = cfg->sysroot_fstype;
		return mount(cfg->sysroot_dev, INIT_SYSROOT_DIR, cfg->sysroot_fstype, flags, data) <
			       0
			   ? -errno
			   : 0;
	}
	r = -ENODEV;
	for (size_t i = 0; i < ARRAY_SIZE(guesses); i++) {
		if (mount(cfg->sysroot_dev, INIT_SYSROOT_DIR, guesses[i], flags, data) == 0) {
			*fstype_used = guesses[i];
			return 0;
		}
		/* EINVAL: not this filesystem; ENODEV: its driver is not loaded */
		if (errno != EINVAL && errno != ENODEV)
			r = -errno;
	}
	return r;
}

int sysroot_switch(struct init_config *cfg)
{
	static const char *const moved[] = {"/dev", "/proc", "/sys", "/run"};
	const char *init = cfg->sysroot_init ? cfg->sysroot_init : INIT_DEFAULT_SYSROOT_INIT;
	const char *fstype = NULL;
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (!cfg->sysroot_dev || cfg->test_mode || !root_is_initramfs())
		return 0;
	uint64_t t0 = now_monotonic_ns();
	r = wait_for_device(cfg->sysroot_dev, cfg->sysroot_timeout_ns);
	if (r < 0) {
		log_error_errno(r, "root=%s: %s", cfg->sysroot_dev,
				r == -ETIMEDOUT ? "the device did not appear"
						: "not a block device: %m");
		return r;
	}
	if (mkdir(INIT_SYSROOT_DIR, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		log_error_errno(r, "cannot create " INIT_SYSROOT_DIR ": %m");
		return r;
	}
	r = mount_root(cfg, &fstype);
	if (r < 0) {
		log_error_errno(r, "root=%s: cannot mount it (%s): %m", cfg->sysroot_dev,
				cfg->sysroot_fstype ? cfg->sysroot_fstype : "ext4, erofs, xfs");
		return r;
	}
	/* Everything the move needs must be there before anything moves. */
	snprintf(path, sizeof(path), INIT_SYSROOT_DIR "%s", init);
	if (access(path, X_OK) < 0) {
		r = -errno;
		log_error_errno(r, "root=%s has no executable %s: %m", cfg->sysroot_dev, init);
		goto undo;
	}
	for (size_t i = 0; i < ARRAY_SIZE(moved); i++) {
		snprintf(path, sizeof(path), INIT_SYSROOT_DIR "%s", moved[i]);
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			r = -ENOENT;
			log_error("root=%s has no directory %s to move %s to", cfg->sysroot_dev,
				  moved[i], moved[i]);
			goto undo;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(moved); i++) {
		snprintf(path, sizeof(path), INIT_SYSROOT_DIR "%s", moved[i]);
		if (mount(moved[i], path, NULL, MS_MOVE, NULL) < 0)
			/* Not fatal: the disk's init mounts what is missing. */
			log_warn_errno(errno, "cannot move %s to the new root: %m", moved[i]);
	}
	log_info("root=%s (%s%s) mounted in %llu ms, continuing with its %s", cfg->sysroot_dev,
		 fstype, cfg->sysroot_rw ? "" : ", read-only",
		 (unsigned long long)((now_monotonic_ns() - t0) / NSEC_PER_MSEC), init);

	/* The initramfs' files would otherwise stay in RAM. Best effort: "/" itself and the
	 * new root (another filesystem) stay, which is what rm_rf_same_fs reports here. */
	(void)rm_rf_same_fs("/");
	if (chdir(INIT_SYSROOT_DIR) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0) {
		/* Half way: the initramfs is gone, nothing to go back to. */
		log_critical("cannot make %s the root: %m", cfg->sysroot_dev);
		abort();
	}
	execv(init, cfg->argv);
	log_critical("cannot execute %s of root=%s: %m", init, cfg->sysroot_dev);
	abort();

undo:
	(void)umount2(INIT_SYSROOT_DIR, MNT_DETACH);
	return r;
}
