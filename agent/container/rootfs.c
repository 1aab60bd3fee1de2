/* SPDX-License-Identifier: Apache-2.0 */
/* Paths inside a container root, resolved by the kernel so that no symlink or ".." leads
 * out of it (openat2 RESOLVE_IN_ROOT: "/" and ".." stop at the root). */
#include "container.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int ct_open_in_root(int root_fd, const char *path, int flags)
{
	/* issue 7: openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, with a symlink-safe walk
	 * on kernels without openat2. */
	return security_open_in_root(root_fd, path, flags);
}

int ct_read_in_root(int root_fd, const char *path, size_t max, char **ret)
{
	_cleanup_close_ int fd = ct_open_in_root(root_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) /* a fifo or device would block or never end */
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = loop_read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	buf[n] = '\0';
	*ret = buf;
	return 0;
}

/* Is `path` (inside the root) a regular file we may execute? */
static int check_executable(int root_fd, const char *path)
{
	_cleanup_close_ int fd = ct_open_in_root(root_fd, path, O_PATH);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	if (!(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

#define OCI_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int ct_find_executable(struct ct_arena *a, int root_fd, const char *argv0, const char *path,
		       const char **ret)
{
	if (!argv0 || !*argv0)
		return -EINVAL;
	if (strchr(argv0, '/')) {
		/* Relative names with a slash are relative to cwd: execve resolves them in the
		 * child; only absolute ones can be checked here. */
		if (argv0[0] == '/') {
			int r = check_executable(root_fd, argv0);
			if (r < 0)
				return r;
		}
		*ret = ct_arena_strdup(a, argv0);
		return *ret ? 0 : -ENOMEM;
	}
	if (!path)
		path = OCI_DEFAULT_PATH;
	int first_err = -ENOENT;
	const char *p = path;
	for (;;) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		char cand[4096];
		/* An empty PATH element means the current directory (execvp). */
		if (dl + 1 + strlen(argv0) + 2 < sizeof(cand)) {
			if (dl == 0)
				snprintf(cand, sizeof(cand), "./%s", argv0);
			else
				snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, p, argv0);
			int r = check_executable(root_fd, cand);
			if (r == 0) {
				*ret = ct_arena_strdup(a, cand);
				return *ret ? 0 : -ENOMEM;
			}
			if (r == -EACCES && first_err == -ENOENT)
				first_err = r;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return first_err;
}

bool ct_root_is_initramfs(void)
{
	_cleanup_free_ char *text = NULL;
	if (read_file("/proc/self/mountinfo", 4u << 20, &text, NULL) < 0)
		return false;
	/* Fields: id parent major:minor root mountpoint opts [optional...] - fstype src sopts.
	 * The first line whose mount point is "/" and whose fstype is rootfs: an initramfs
	 * can never be pivoted away from (pivot_root fails with EINVAL). */
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char mp[8] = "", fstype[32] = "";
		char *dash = strstr(line, " - ");
		if (dash && sscanf(line, "%*s %*s %*s %*s %7s", mp) == 1 &&
		    sscanf(dash + 3, "%31s", fstype) == 1 && streq(mp, "/"))
			return streq(fstype, "rootfs");
		line = nl ? nl + 1 : NULL;
	}
	return false;
}
