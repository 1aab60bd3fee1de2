/* SPDX-License-Identifier: Apache-2.0 */
/* ember-init: the boot mount table, mountinfo parsing for shutdown, cgroup controllers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "init/init.h"

#include <limits.h>
#include <sys/mount.h>

static const struct boot_mount *find(const char *target)
{
	size_t n;
	const struct boot_mount *t = boot_mounts(&n);
	for (size_t i = 0; i < n; i++)
		if (streq(t[i].target, target))
			return &t[i];
	return NULL;
}

static void test_table(void **state _unused_)
{
	size_t n;
	const struct boot_mount *t = boot_mounts(&n);
	assert_int_equal(n, 7);
	/* Every target is absolute, and a parent mount comes before anything below it. */
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i].target[0] == '/');
		for (size_t k = i + 1; k < n; k++) {
			size_t len = strlen(t[k].target);
			assert_false(strncmp(t[i].target, t[k].target, len) == 0 &&
				     t[i].target[len] == '/');
		}
	}
	const struct boot_mount *m = find("/proc");
	assert_non_null(m);
	assert_string_equal(m->fstype, "proc");
	assert_int_equal(m->flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
	assert_false(m->optional);
	m = find("/dev");
	assert_string_equal(m->fstype, "devtmpfs");
	m = find("/dev/pts");
	assert_non_null(strstr(m->data, "newinstance"));
	assert_non_null(strstr(m->data, "ptmxmode=0666"));
	m = find("/dev/shm");
	assert_string_equal(m->fstype, "tmpfs");
	assert_non_null(find("/run"));
	assert_non_null(find("/sys"));
	m = find("/sys/fs/cgroup");
	assert_string_equal(m->fstype, "cgroup2");
	assert_string_equal(m->data, "nsdelegate");
	assert_true(m->optional);
}

static const char mountinfo[] =
    "22 1 0:21 / / rw,relatime - rootfs rootfs rw\n"
    "23 22 0:22 / /proc rw,nosuid,nodev,noexec - proc proc rw\n"
    "24 22 0:23 / /sys rw - sysfs sysfs rw\n"
    "25 24 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
    "26 22 0:5 / /dev rw - devtmpfs dev rw\n"
    "27 22 0:30 / /run/kata-containers/shared/a\\040dir rw - 9p kataShared rw\n"
    "28 22 0:31 / /tmp/t/root/proc rw - proc proc rw\n"
    "29 22 0:32 / /tmp/t/root rw - tmpfs tmpfs rw\n"
    "30 22 0:33 / /tmp/t/rootless rw - tmpfs tmpfs rw\n"
    "31 22 0:34 / /tmp/t/root/back\\134slash rw - tmpfs tmpfs rw"; /* no final newline */

static void test_mountinfo(void **state _unused_)
{
	char **v;
	size_t n;
	assert_int_equal(mountinfo_targets_below(mountinfo, "/", &v, &n), 0);
	assert_int_equal(n, 9);
	assert_string_equal(v[0], "/proc");
	assert_string_equal(v[2], "/sys/fs/cgroup");
	assert_string_equal(v[4], "/run/kata-containers/shared/a dir");
	assert_string_equal(v[8], "/tmp/t/root/back\\slash");
	strv_free_n(v, n);

	/* Strictly below the test root: neither the root itself nor a sibling prefix. */
	assert_int_equal(mountinfo_targets_below(mountinfo, "/tmp/t/root", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "/tmp/t/root/proc");
	assert_string_equal(v[1], "/tmp/t/root/back\\slash");
	strv_free_n(v, n);

	assert_int_equal(mountinfo_targets_below("", "/", &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(mountinfo_targets_below("garbage\n1 2\n", "/", &v, &n), 0);
	assert_int_equal(n, 0);
	strv_free_n(v, n);
}

static void test_cgroup_controllers(void **state _unused_)
{
	char dir[] = "/tmp/test-init-cg-XXXXXX", path[PATH_MAX], ctl[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", dir);
	assert_int_equal(cgroup_enable_controllers(dir), -ENOENT);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs("cpuset cpu io memory pids\n", f);
	fclose(f);
	f = fopen(ctl, "we");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(cgroup_enable_controllers(dir), 1);
	assert_int_equal(read_file(ctl, 4096, &text, NULL), 0);
	assert_string_equal(text, "+cpuset +cpu +io +memory +pids");
	unlink(path);
	unlink(ctl);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_mountinfo),
	    cmocka_unit_test(test_cgroup_controllers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
