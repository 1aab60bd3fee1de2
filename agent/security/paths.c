/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths a request names, resolved inside a container root; the /proc mount rules.
 *
 * security_open_in_root() runs in the clone child too: stack buffers and system calls only.
 */
#include "internal.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#define WALK_PATH_MAX  4096
#define WALK_MAX_LINKS 40 /* the kernel's MAXSYMLINKS */

bool security_resolve_force_walk;

static size_t c_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static bool c_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Reopens the directory `resolved` ("a/b/c", real directories only) from the root, never
 * following a symlink: one swapped in meanwhile fails the walk instead of redirecting it. */
static int reopen_resolved(int root_fd, const char *resolved)
{
	char name[256];
	int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	for (const char *c = resolved; *c;) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		size_t l = 0;
		while (c[l] && c[l] != '/')
			l++;
		if (l >= sizeof(name)) {
			close(cur);
			return -ENAMETOOLONG;
		}
		memcpy(name, c, l);
		name[l] = '\0';
		int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		int e = errno;
		close(cur);
		if (fd < 0)
			return -e;
		cur = fd;
		c += l;
	}
	return cur;
}

/*
 * The fallback without openat2: walk `path` one component at a time from root_fd with
 * O_NOFOLLOW, expanding symlinks ourselves so that an absolute target restarts at the root
 * and ".." never climbs above it — RESOLVE_IN_ROOT's semantics. Magic links (procfs links
 * to files, "pipe:[…]" and friends) are refused like RESOLVE_NO_MAGICLINKS does: a
 * procfs symlink whose target is absolute or has a ':' is one; "self", "mounts" and the
 * other relative procfs links are ordinary and followed.
 */
enum walk_create {
	WALK_OPEN,
	WALK_MKDIR,  /* create missing directories, the last one too */
	WALK_MKFILE, /* create missing directories, the last component as an empty file */
};

static int walk_in_root(int root_fd, const char *path, int flags, enum walk_create create)
{
	char todo[WALK_PATH_MAX], link[WALK_PATH_MAX], resolved[WALK_PATH_MAX], name[256];
	size_t rlen = 0, pos = 0;
	int links = 0, r;

	if (flags & O_CREAT)
		return -EINVAL;
	if (!*path)
		return -ENOENT;
	size_t plen = c_strlen(path);
	if (plen >= sizeof(todo))
		return -ENAMETOOLONG;
	memcpy(todo, path, plen + 1);
	resolved[0] = '\0';

	int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	for (;;) {
		while (todo[pos] == '/')
			pos++;
		if (!todo[pos]) {
			/* Ended on a directory ("/", "a/", "a/."). */
			int fd = openat(cur, ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
			r = fd < 0 ? -errno : fd;
			close(cur);
			return r;
		}
		size_t start = pos, l = 0;
		while (todo[pos] && todo[pos] != '/')
			pos++, l++;
		size_t after = pos;
		while (todo[after] == '/')
			after++;
		bool last = !todo[after];
		if (l >= sizeof(name)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		memcpy(name, todo + start, l);
		name[l] = '\0';

		if (c_streq(name, "."))
			continue;
		if (c_streq(name, "..")) {
			if (rlen == 0)
				continue; /* ".." of the root is the root */
			while (rlen > 0 && resolved[rlen - 1] != '/')
				rlen--;
			if (rlen > 0)
				rlen--; /* the separator */
			resolved[rlen] = '\0';
			close(cur);
			cur = reopen_resolved(root_fd, resolved);
			if (cur < 0)
				return cur;
			continue;
		}

		int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create != WALK_OPEN) {
			/* A dangling symlink is opened (O_NOFOLLOW) and expanded above, so its
			 * target is created inside the root like runc's MkdirAll does. */
			if (last && create == WALK_MKFILE) {
				int f = openat(cur, name,
					       O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
					       0644);
				if (f >= 0)
					close(f);
				r = f < 0 ? -errno : 0;
			} else {
				r = mkdirat(cur, name, 0755) < 0 ? -errno : 0;
			}
			if (r < 0 && r != -EEXIST)
				goto out;
			fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (last && (flags & O_NOFOLLOW)) {
				/* The link itself, as openat2 gives it: only O_PATH can open one.
				 */
				if ((flags & O_PATH) && !(flags & O_DIRECTORY)) {
					close(cur);
					return fd;
				}
				close(fd);
				r = -ELOOP;
				goto out;
			}
			if (++links > WALK_MAX_LINKS) {
				close(fd);
				r = -ELOOP;
				goto out;
			}
			ssize_t n = readlinkat(fd, "", link, sizeof(link) - 1);
			int e = errno;
			struct statfs sfs;
			bool on_proc = fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
			close(fd);
			if (n < 0) {
				r = -e;
				goto out;
			}
			if (n == 0) {
				r = -ENOENT;
				goto out;
			}
			link[n] = '\0';
			if (on_proc) {
				bool magic = link[0] == '/';
				for (ssize_t i = 0; i < n; i++)
					magic |= link[i] == ':';
				if (magic) {
					r = -ELOOP;
					goto out;
				}
			}
			/* todo := link + "/" + the rest */
			size_t rest = c_strlen(todo + pos);
			if ((size_t)n + 1 + rest >= sizeof(link)) {
				r = -ENAMETOOLONG;
				goto out;
			}
			link[n] = '/';
			memcpy(link + n + 1, todo + pos, rest + 1);
			memcpy(todo, link, (size_t)n + 1 + rest + 1);
			pos = 0;
			if (todo[0] == '/') {
				close(cur);
				cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
				if (cur < 0)
					return -errno;
				rlen = 0;
				resolved[0] = '\0';
			}
			continue;
		}
		if (last) {
			if (flags & O_PATH) {
				/* What we hold is what the caller asked for. */
				if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
					close(fd);
					r = -ENOTDIR;
					goto out;
				}
				close(cur);
				return fd;
			}
			close(fd);
			/* O_NOFOLLOW: a symlink swapped in since the check fails with ELOOP. */
			int real = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
			r = real < 0 ? -errno : real;
			close(cur);
			return r;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			r = -ENOTDIR;
			goto out;
		}
		if (rlen + 1 + l >= sizeof(resolved)) {
			close(fd);
			r = -ENAMETOOLONG;
			goto out;
		}
		if (rlen)
			resolved[rlen++] = '/';
		memcpy(resolved + rlen, name, l + 1);
		rlen += l;
		close(cur);
		cur = fd;
	}
out:
	close(cur);
	return r;
}

int security_open_in_root(int root_fd, const char *path, int flags)
{
	if (!security_resolve_force_walk) {
		struct open_how how = {
		    .flags = (uint64_t)(flags | O_CLOEXEC),
		    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		/* openat2 is Linux 5.6; a guest kernel may be older. */
		if (errno != ENOSYS)
			return -errno;
	}
	return walk_in_root(root_fd, path, flags, WALK_OPEN);
}

int security_mkdir_in_root(int root_fd, const char *path, bool last_is_file)
{
	return walk_in_root(root_fd, path, O_PATH, last_is_file ? WALK_MKFILE : WALK_MKDIR);
}

/* ---- parent-side path rules ---- */

int security_path_clean(const char *path, char *buf, size_t sz)
{
	if (!path || path[0] != '/')
		return -EINVAL;
	size_t o = 0;
	for (const char *c = path; *c;) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		const char *e = strchrnul(c, '/');
		size_t l = (size_t)(e - c);
		if (l == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		if (!(l == 1 && c[0] == '.')) {
			if (o + 1 + l + 1 > sz)
				return -ENAMETOOLONG;
			buf[o++] = '/';
			memcpy(buf + o, c, l);
			o += l;
		}
		c = e;
	}
	if (o == 0) {
		if (sz < 2)
			return -ENAMETOOLONG;
		buf[o++] = '/';
	}
	buf[o] = '\0';
	return 0;
}

const char *security_printable(const char *s, char buf[static 80])
{
	size_t o = 0;
	if (!s)
		s = "";
	for (; *s && o < 76; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s) {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o] = '\0';
	return buf;
}

/* lxcfs emulates these; top and free read them (runc's and Kata's list). */
static const char *const proc_allowed[] = {
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",	"/proc/loadavg", "/proc/net/dev",
};

static bool proc_dest_allowed(const char *clean)
{
	for (size_t i = 0; i < ARRAY_SIZE(proc_allowed); i++)
		if (c_streq(clean, proc_allowed[i]))
			return true;
	return false;
}

int security_check_mount(const char *dest, const char *type, const char *source, bool bind,
			 char *err, size_t errsz)
{
	char clean[WALK_PATH_MAX], b1[80], b2[80];
	int r = security_path_clean(dest, clean, sizeof(clean));
	if (r < 0) {
		snprintf(err, errsz, "mount destination '%s' must be an absolute path without '..'",
			 security_printable(dest, b1));
		return -EINVAL;
	}
	if (streq(clean, "/proc")) {
		/* Anything but a procfs on /proc would hide the masked and read-only paths
		 * (or replace /proc/self/... with files of the image's choosing). */
		if (!bind) {
			if (type && streq(type, "proc"))
				return 0;
			snprintf(err, errsz, "mount on '/proc' must be of type proc, not '%s'",
				 security_printable(type, b1));
			return -EINVAL;
		}
		struct statfs sfs;
		if (source && statfs(source, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
			return 0;
		snprintf(err, errsz, "bind mount of '%s' on '/proc': the source is not a procfs",
			 security_printable(source, b1));
		return -EINVAL;
	}
	if (startswith(clean, "/proc/") && !proc_dest_allowed(clean)) {
		snprintf(
		    err, errsz,
		    "mount '%s' on '%s' is refused: only /proc/{cpuinfo,diskstats,meminfo,stat,"
		    "swaps,uptime,loadavg,net/dev} may be mounted on inside /proc",
		    security_printable(source, b1), security_printable(dest, b2));
		return -EINVAL;
	}
	return 0;
}

int security_child_check_mount_target(int fd, const char *dest)
{
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return 0;
	/* The target is inside a procfs: only the destinations the parent checked by name
	 * may be (a symlink such as /x -> /proc/sys would otherwise smuggle one in). */
	char clean[WALK_PATH_MAX];
	if (security_path_clean(dest, clean, sizeof(clean)) < 0)
		return -EPERM;
	if (c_streq(clean, "/proc") || proc_dest_allowed(clean))
		return 0;
	return -EPERM;
}
