/* SPDX-License-Identifier: Apache-2.0 */
/* The boot mount table, /dev links, cgroup2 controllers, and mountinfo for unmounting. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define MS_NSN (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* statfs f_type values, include/uapi/linux/magic.h (stable ABI). Spelled out because the
 * musl build of ember-init has no kernel headers. */
#define FS_MAGIC_PROC	 0x9fa0
#define FS_MAGIC_SYSFS	 0x62656572
#define FS_MAGIC_TMPFS	 0x01021994
#define FS_MAGIC_DEVPTS	 0x1cd1
#define FS_MAGIC_CGROUP2 0x63677270

/* Kata's general_mount() table (agent/src/mount.rs) plus cgroup2; see the protocol reference
 * §3.2. devpts gets its own instance so that container ptys never mix with the console's. */
static const struct boot_mount table[] = {
    {"proc", "/proc", "proc", MS_NSN, NULL, FS_MAGIC_PROC, false},
    {"sysfs", "/sys", "sysfs", MS_NSN, NULL, FS_MAGIC_SYSFS, false},
    /* devtmpfs is backed by shmem: statfs says TMPFS_MAGIC. */
    {"dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", FS_MAGIC_TMPFS, false},
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620",
     FS_MAGIC_DEVPTS, false},
    {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", FS_MAGIC_TMPFS, false},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", FS_MAGIC_TMPFS, false},
    /* nsdelegate: cgroup namespaces of containers become delegation boundaries. A kernel
     * without cgroup2 still boots a working agent, minus resource limits. */
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NSN | MS_RELATIME, "nsdelegate", FS_MAGIC_CGROUP2,
     true},
};

const struct boot_mount *boot_mounts(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}

/* "Already mounted" = a mount point (its device differs from its parent's) of the expected
 * filesystem type: the kernel mounts devtmpfs itself with CONFIG_DEVTMPFS_MOUNT on disk
 * roots, and a second instance on top would hide nodes it already created. */
static bool already_mounted(const char *path, unsigned long magic)
{
	char parent[PATH_MAX];
	struct stat st, pst;
	struct statfs sfs;

	if (snprintf(parent, sizeof(parent), "%s/..", path) >= (int)sizeof(parent))
		return false;
	if (statfs(path, &sfs) < 0 || (unsigned long)sfs.f_type != magic)
		return false;
	if (stat(path, &st) < 0 || stat(parent, &pst) < 0)
		return false;
	return st.st_dev != pst.st_dev;
}

static int mount_one(const char *root, const struct boot_mount *m, bool test_mode)
{
	char target[PATH_MAX];
	const char *fstype = m->fstype;
	int r;

	if (snprintf(target, sizeof(target), "%s%s", root, m->target) >= (int)sizeof(target))
		return -ENAMETOOLONG;
	/* Test mode must not touch the host: devtmpfs is one instance system-wide. */
	if (test_mode && streq(fstype, "devtmpfs"))
		fstype = "tmpfs";
	r = mkdir_p(target, 0755);
	if (r < 0)
		return r;
	if (already_mounted(target, m->magic))
		return 0;
	if (mount(m->source, target, fstype, m->flags, m->data) < 0)
		return -errno;
	return 1;
}

static void link_replace(const char *root, const char *link, const char *to)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s%s", root, link) >= (int)sizeof(path))
		return;
	if (symlink(to, path) == 0)
		return;
	if (errno == EEXIST) {
		/* /dev/ptmx is a device node in devtmpfs: the newinstance devpts needs the
		 * symlink (Documentation/filesystems/devpts.rst). Other links may stay. */
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return;
		if (unlink(path) == 0 && symlink(to, path) == 0)
			return;
	}
	log_warn_errno(errno, "cannot link %s -> %s: %m", path, to);
}

int boot_mount_all(const char *root, bool test_mode)
{
	int failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct boot_mount *m = &table[i];
		int r = mount_one(root, m, test_mode);
		if (r == 0)
			log_debug("%s%s is already mounted", root, m->target);
		else if (r > 0)
			log_debug("mounted %s on %s%s", m->fstype, root, m->target);
		else if (m->optional)
			log_warn_errno(r, "cannot mount %s on %s%s: %m", m->fstype, root,
				       m->target);
		else {
			log_error_errno(r, "cannot mount %s on %s%s: %m", m->fstype, root,
					m->target);
			failed++;
		}
	}
	link_replace(root, "/dev/ptmx", "pts/ptmx");
	link_replace(root, "/dev/fd", "/proc/self/fd");
	link_replace(root, "/dev/stdin", "/proc/self/fd/0");
	link_replace(root, "/dev/stdout", "/proc/self/fd/1");
	link_replace(root, "/dev/stderr", "/proc/self/fd/2");
	return failed;
}

int cgroup_enable_controllers(const char *cgroup_root)
{
	char path[PATH_MAX], ctl[PATH_MAX];
	_cleanup_free_ char *avail = NULL;
	int r, first_error = 0, enabled = 0;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", cgroup_root);
	snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", cgroup_root);
	r = read_file(path, 4096, &avail, NULL);
	if (r < 0)
		return r;

	/* One write enables them all, but one controller the kernel refuses (a v1 hierarchy
	 * holding it) fails the whole write: then go one by one. */
	char all[4096];
	size_t len = 0;
	for (char *s = avail, *save = NULL, *w; (w = strtok_r(s, " \n", &save)); s = NULL) {
		int n = snprintf(all + len, sizeof(all) - len, "%s+%s", len ? " " : "", w);
		if (n < 0 || (size_t)n >= sizeof(all) - len)
			return -E2BIG;
		len += (size_t)n;
	}
	if (len == 0)
		return 0;
	if (write_file(ctl, all) == 0)
		return 1;
	for (char *s = all, *save = NULL, *w; (w = strtok_r(s, " ", &save)); s = NULL) {
		r = write_file(ctl, w);
		if (r < 0 && first_error == 0)
			first_error = r;
		else if (r >= 0)
			enabled++;
	}
	return first_error < 0 ? first_error : enabled;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo (fs/proc_namespace.c). */
static void unescape_octal(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

int mountinfo_targets_below(const char *mountinfo, const char *prefix, char ***ret, size_t *n)
{
	char **v = NULL;
	size_t nv = 0;
	size_t plen = strlen(prefix);
	bool all = streq(prefix, "/");

	*ret = NULL;
	*n = 0;
	for (const char *line = mountinfo; *line;) {
		const char *eol = strchrnul(line, '\n');
		/* Field 5 is the mount point: "id parent maj:min root mountpoint opts ...". */
		const char *p = line;
		for (int f = 0; f < 4 && p < eol; f++) {
			p = memchr(p, ' ', (size_t)(eol - p));
			p = p ? p + 1 : eol;
		}
		const char *end = memchr(p, ' ', (size_t)(eol - p));
		if (p < eol && end) {
			char *t = strndup(p, (size_t)(end - p));
			if (!t) {
				strv_free_n(v, nv);
				return -ENOMEM;
			}
			unescape_octal(t);
			bool below =
			    all ? !streq(t, "/") : strncmp(t, prefix, plen) == 0 && t[plen] == '/';
			if (below) {
				char **nvp = realloc(v, (nv + 1) * sizeof(*v));
				if (!nvp) {
					free(t);
					strv_free_n(v, nv);
					return -ENOMEM;
				}
				v = nvp;
				v[nv++] = t;
			} else {
				free(t);
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	*ret = v;
	*n = nv;
	return 0;
}
