/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/virtio-ports/NAME links: the one udev rule an ember guest needs. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <dirent.h>
#include <limits.h>
#include <time.h>

/* udev's 50-udev-default.rules: KERNEL=="vport*", ATTR{name}=="?*",
 * SYMLINK+="virtio-ports/$attr{name}". Kata's guests run udev; an initrd guest has no udev,
 * so init makes the links that agent.server_addr=serial:///dev/virtio-ports/NAME names.
 * Returns whether a port named want (may be NULL) exists. */
static bool link_ports(const char *root, const char *want)
{
	char path[PATH_MAX];
	bool found = false;

	snprintf(path, sizeof(path), "%s/sys/class/virtio-ports", root);
	DIR *d = opendir(path);
	if (!d)
		return false;
	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_free_ char *name = NULL;
		char link[PATH_MAX], target[NAME_MAX + 8];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/sys/class/virtio-ports/%s/name", root, de->d_name);
		if (read_file(path, NAME_MAX, &name, NULL) < 0)
			continue;
		name[strcspn(name, "\n")] = '\0';
		/* The host names the port: never let it climb out of /dev/virtio-ports. */
		if (!name[0] || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
			continue;
		snprintf(link, sizeof(link), "%s/dev/virtio-ports/%s", root, name);
		snprintf(target, sizeof(target), "../%s", de->d_name);
		if (symlink(target, link) < 0 && errno != EEXIST)
			log_warn_errno(errno, "cannot link %s: %m", link);
		if (want && streq(name, want))
			found = true;
	}
	closedir(d);
	return found;
}

int virtio_ports_link(const char *root, const char *want, uint64_t timeout_ns)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/dev/virtio-ports", root);
	int r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	/* The host announces ports over virtio-console's control queue after the driver
	 * probed, so the agent's port may appear a little after the module loaded. */
	uint64_t deadline = now_monotonic_ns() + timeout_ns;
	for (;;) {
		if (link_ports(root, want) || !want)
			return 0;
		if (now_monotonic_ns() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){.tv_nsec = 10 * NSEC_PER_MSEC}, NULL);
	}
}
